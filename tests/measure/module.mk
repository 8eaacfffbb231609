# Measurement prediction and event logs (issue 3): test inputs, fuzzers, benchmark.
# Library code is measure/eventlog/ and measure/predict/ (picked up by measure/module.mk).

# python3-pefile: independent Authenticode computation in test_measure_pe (tests/measure/authenticode.py).
DEPS_PACKAGES += python3 python3-pefile

# A real signed Debian kernel for test_measure_pe: the guest kernel pinned (version + sha256) in
# image-recipes/packages.lock, fetched and extracted by image-recipes/debfetch.sh.
MEASURE_KERNEL := build/cache/kernel/vmlinuz
$(MEASURE_KERNEL): $(GUEST_KERNEL_DIR)/kver
	@mkdir -p $(@D)
	cp $(GUEST_KERNEL_DIR)/vmlinuz $@
$(TESTBIN)/test_measure_pe: | $(MEASURE_KERNEL)
$(TESTBIN)/test_measure_predict: | $(MEASURE_KERNEL)
$(TESTBIN)/test_measure_tpm: | $(MEASURE_KERNEL)

# cocoon-measure eventlog / mrtd / spec / image on the fixtures (needs the kernel too).
INTEGRATION_TESTS += tests/measure/cli_test.sh
# cocoon-measure spec against git write-tree (sha256) with .gitignore files, Cocoon's stock
# spec directories and the refusals (seconds, no VM).
INTEGRATION_TESTS += tests/measure/spec_git.sh
integration-test test-integration: | $(MEASURE_KERNEL)

# libFuzzer targets for the CCEL / TDVF metadata / PE parsers (make fuzz).
FUZZERS += ccel tdvf pe
fuzz_ccel_SRCS = tests/fuzz/fuzz_ccel.c $(LIBMEASURE_SRCS)
# Seeds: the table and the log without its 0xFF padding (18101 bytes, generated from the fixture).
MEASURE_CCEL_SEED := build/cache/fuzz/ccel_unpadded.dat
$(MEASURE_CCEL_SEED): $(FIXTURES)/tdx/ccel/ccel_data.dat
	@mkdir -p $(@D)
	head -c 18101 $< >$@
fuzz_ccel_SEEDS := $(MEASURE_CCEL_SEED) $(FIXTURES)/tdx/ccel/ccel_table.dat
# TPM TCG2 logs (cocoon-measure eventlog --tpm) and PCR value files; seeds: a real swtpm boot.
FUZZERS += tpm_eventlog
fuzz_tpm_eventlog_SRCS = tests/fuzz/fuzz_tpm_eventlog.c $(LIBMEASURE_SRCS)
fuzz_tpm_eventlog_SEEDS := tests/unit/golden/tpm/binary_bios_measurements tests/unit/golden/tpm/pcr-sha256.txt
fuzz_tdvf_SRCS = tests/fuzz/fuzz_tdvf.c $(LIBMEASURE_SRCS)
# Seed: the last 64 KiB of OVMF.fd (GUIDed table, TDVF metadata); the harness puts it at the
# end of a zeroed 4 MiB image (libFuzzer inputs stop at 1 MiB).
MEASURE_TDVF_SEED := build/cache/fuzz/ovmf_tail.fd
$(MEASURE_TDVF_SEED): $(FIXTURES)/tdx/measure/OVMF.fd
	@mkdir -p $(@D)
	tail -c 65536 $< >$@
fuzz_tdvf_SEEDS := $(MEASURE_TDVF_SEED)
# PE seed: the kernel's first 64 KiB (headers, section table, truncated sections) and
# the whole kernel, both from the pinned Debian package.
MEASURE_PE_SEED := build/cache/kernel/vmlinuz.head
$(MEASURE_PE_SEED): $(MEASURE_KERNEL)
	head -c 65536 $< >$@
fuzz_pe_SRCS = tests/fuzz/fuzz_pe.c $(LIBMEASURE_SRCS)
fuzz_pe_SEEDS := $(MEASURE_PE_SEED) $(MEASURE_KERNEL)
fuzz-build: $(MEASURE_PE_SEED) $(MEASURE_CCEL_SEED) $(MEASURE_TDVF_SEED)
BENCHES += tests/bench/bench_measure.sh
