# libFuzzer target over quote + collateral parsing and verification (tests/fuzz/fuzz_verify.c).
FUZZERS += verify
fuzz_verify_SRCS := tests/fuzz/fuzz_verify.c $(sort $(wildcard measure/*.c))
fuzz_verify_SEEDS := $(wildcard $(FIXTURES)/tdx/quotes/*.bin $(FIXTURES)/tdx/quotes/*.dat \
	$(FIXTURES)/tdx/quotes/*.json)
