# libFuzzer targets of libmeasure's core parsers (see the Makefile's fuzz section).
FUZZERS += quote
fuzz_quote_SRCS := tests/fuzz/fuzz_quote.c $(LIBMEASURE_SRCS)
fuzz_quote_SEEDS := $(wildcard $(FIXTURES)/tdx/quotes/*.bin $(FIXTURES)/tdx/quotes/*.dat \
                     $(FIXTURES)/tdx/ccel/cos-113-tdx-quote.dat)
# Parsers of cocoon-measure's other inputs: the guest's RTMR3 log, etc/acpi/tables, VM.json.
FUZZERS += rtmr3 acpi vmjson
fuzz_rtmr3_SRCS := tests/fuzz/fuzz_rtmr3.c $(LIBMEASURE_SRCS)
fuzz_rtmr3_SEEDS := tests/fuzz/seeds/rtmr3.log
fuzz_acpi_SRCS := tests/fuzz/fuzz_acpi.c $(LIBMEASURE_SRCS)
# The fixture shapes all name their tables acpi_tables.bin: seed copies with distinct names.
FUZZ_ACPI_SEEDS := $(patsubst $(FIXTURES)/tdx/measure/%/acpi_tables.bin,build/cache/fuzz/acpi-%.bin,\
                     $(wildcard $(FIXTURES)/tdx/measure/*/acpi_tables.bin))
build/cache/fuzz/acpi-%.bin: $(FIXTURES)/tdx/measure/%/acpi_tables.bin
	@mkdir -p $(@D)
	cp $< $@
fuzz_acpi_SEEDS := $(FUZZ_ACPI_SEEDS)
fuzz-build: $(FUZZ_ACPI_SEEDS)
fuzz_vmjson_SRCS := tests/fuzz/fuzz_vmjson.c $(LIBMEASURE_SRCS)
fuzz_vmjson_SEEDS := tests/fuzz/seeds/vm.json
