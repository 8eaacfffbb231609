# libFuzzer targets of libmeasure's core parsers (see the Makefile's fuzz section).
FUZZERS += quote
fuzz_quote_SRCS := tests/fuzz/fuzz_quote.c $(LIBMEASURE_SRCS)
fuzz_quote_SEEDS := $(wildcard $(FIXTURES)/tdx/quotes/*.bin $(FIXTURES)/tdx/quotes/*.dat \
                     $(FIXTURES)/tdx/ccel/cos-113-tdx-quote.dat)
