# guest/gpu: NVML through dlopen("libnvidia-ml.so.1") (no build-time dependency on NVIDIA's
# library or headers): GPU system state, evidence collection, ready state. Used by cocoon-init
# (boot step 7) and cocoon-ratls (GPU evidence in the RA-TLS certificate).
LIBCOCOON_GPU := $(call lib,cocoon-gpu)
$(eval $(call static_lib,cocoon-gpu,$(sort $(wildcard guest/gpu/*.c))))

# The fake NVML the unit tests load instead of the real one (tests/unit/fake_nvml.h): a shared
# object next to the test binaries, never installed.
FAKE_NVML := $(TESTBIN)/fake_nvml.so
$(FAKE_NVML): tests/unit/fake_nvml.c tests/unit/fake_nvml.h guest/gpu/nvml.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $< -o $@
# Built before the tests that load it (order-only: it is not linked into them); test_init_gpu
# runs this build's cocoon-measure as the verifier child (guest/init/gpuchild.c).
$(TESTBIN)/test_init_gpu: | $(FAKE_NVML) $(BIN)/cocoon-measure
