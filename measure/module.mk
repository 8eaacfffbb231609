# libmeasure (everything that parses, hashes or verifies evidence) and cocoon-measure.
# One folder per subsystem (docs/architecture.md): core, dcap, eventlog, gpu, predict, ratls, tpm;
# cli/ is cocoon-measure itself.
LIBMEASURE_DIRS := core dcap eventlog gpu predict ratls tpm
LIBMEASURE_SRCS := $(sort $(foreach d,$(LIBMEASURE_DIRS),$(wildcard measure/$(d)/*.c)))
LIBMEASURE := $(LIBDIR)/libmeasure.a
# measure/gpu/ reads NVIDIA's RIMs (SWID XML, XMLDSig) with libxml2: whatever links the GPU
# verifier from libmeasure adds $(LIBMEASURE_GPU_LIBS).
LIBMEASURE_GPU_PKGS := libxml-2.0
LIBMEASURE_GPU_LIBS := $(call pkg_libs,$(LIBMEASURE_GPU_PKGS))
EXTRA_CFLAGS_measure := $(call pkg_cflags,$(LIBMEASURE_GPU_PKGS))
MEASURE_CLI_SRCS := $(sort $(wildcard measure/cli/*.c))

$(LIBMEASURE): $(LIBMEASURE_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# The `cert` command verifies RA-TLS certificates with the verifier cocoon-ratls uses
# (measure/ratls/): the auditor runs what the appliance runs, without linking the proxy.
# libmeasure itself depends only on OpenSSL, json-c, libc and (measure/gpu/) libxml2.
$(BIN)/cocoon-measure: $(MEASURE_CLI_SRCS:%.c=$(OBJ)/%.o) $(LIBMEASURE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(LIBMEASURE_GPU_LIBS) $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-measure

# Unit tests of measure/gpu/ link libxml2 too.
test_measure_gpu_LIBS = $(LIBMEASURE_GPU_LIBS)
test_measure_gpu_rim_LIBS = $(LIBMEASURE_GPU_LIBS)
# cocoon-measure gpu on the NVIDIA fixtures (jq, xxd).
INTEGRATION_TESTS += tests/integration/measure_gpu.sh
# make bench: GPU evidence verification per second next to its P-384 floor (tests/bench/bench_gpu.sh).
$(BUILD)/bench/bench_gpu: $(OBJ)/tests/bench/bench_gpu.o $(LIBMEASURE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(LIBMEASURE_GPU_LIBS) $(BASE_LIBS)
BENCHES += tests/bench/bench_gpu.sh
tests/bench/bench_gpu.sh: $(BUILD)/bench/bench_gpu
