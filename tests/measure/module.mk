# Measurement prediction and event logs (issue 3): test inputs, fuzzers, benchmark.
# Library code is measure/{eventlog,tdvf,pe,predict}*.c (picked up by measure/module.mk).

# python3-pefile: independent Authenticode computation in test_pe (tests/measure/authenticode.py).
DEPS_PACKAGES += python3 python3-pefile

# A real signed Debian kernel for test_pe, pinned by version and sha256, downloaded
# through apt's configured mirror (tests/measure/fetch-kernel.sh) and cached in build/cache.
MEASURE_KERNEL := build/cache/kernel/vmlinuz
$(MEASURE_KERNEL): tests/measure/fetch-kernel.sh
	tests/measure/fetch-kernel.sh $@
$(TESTBIN)/test_pe: | $(MEASURE_KERNEL)
$(TESTBIN)/test_predict: | $(MEASURE_KERNEL)

# cocoon-measure eventlog / mrtd / spec / image on the fixtures (needs the kernel too).
INTEGRATION_TESTS += tests/measure/cli_test.sh
integration-test test-integration: | $(MEASURE_KERNEL)
