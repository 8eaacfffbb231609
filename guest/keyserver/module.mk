# guest/keyserver: the key server of confidential models (docs/keys.md "Key server"): the
# wire format (proto.c), the key store (store.c), RA-TLS sessions (session.c), the
# appliance's client (client.c, linked into cocoon-init), the server (server.c) and the
# volume encryption build-model uses (volume.c); cocoon-keyserver is the CLI.
KEYSERVER_SRCS := $(filter-out guest/keyserver/main.c,$(sort $(wildcard guest/keyserver/*.c)))
LIBKEYSERVER := $(call lib,cocoon-keyserver)
$(eval $(call static_lib,cocoon-keyserver,$(KEYSERVER_SRCS)))

$(BIN)/cocoon-keyserver: $(OBJ)/guest/keyserver/main.o $(LIBKEYSERVER) $(call lib,cocoonratls) $(call lib,cocoon-keys) \
		$(call lib,cocoon-gpu) $(call lib,cocoon-attest) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(ATTEST_SIM_LIBS) $(LIBMEASURE_GPU_LIBS) $(BASE_LIBS)
PROGRAMS += $(BIN)/cocoon-keyserver

# Unit tests (tests/unit/test_keyserver_*.c).
KEYSERVER_TEST_DEPS = $(LIBKEYSERVER) $(call lib,cocoonratls) $(call lib,cocoon-keys) $(call lib,cocoon-gpu) \
	$(call lib,cocoon-attest)
$(foreach t,$(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_keyserver_*.c)),\
	$(eval test_$(t)_DEPS = $$(KEYSERVER_TEST_DEPS))$(eval test_$(t)_LIBS = $$(ATTEST_SIM_LIBS) $$(LIBMEASURE_GPU_LIBS)))

# libFuzzer target (make fuzz): the key request, key response and admin request parsers.
FUZZERS += keyserver_proto
fuzz_keyserver_proto_SRCS = tests/fuzz/fuzz_keyserver_proto.c guest/keyserver/proto.c guest/keyserver/volume.c \
	$(LIBMEASURE_SRCS)
fuzz_keyserver_proto_SEEDS := tests/fuzz/seeds/keyserver_request.json tests/fuzz/seeds/keyserver_response.json \
	tests/fuzz/seeds/keyserver_admin.json

# The unit test checks the volume cipher against Python's cryptography (AES-XTS).
DEPS_PACKAGES += python3-cryptography

# The key server's policy and admin path on the host (no QEMU), against sim appliances.
INTEGRATION_TESTS += tests/integration/keyserver_policy.sh
# test_keyserver_gpu loads the fake NVML (guest/gpu/module.mk).
$(TESTBIN)/test_keyserver_gpu: | $(FAKE_NVML)
