# guest/keys: key providers behind guest/keys/keys.h (debug now; seal, tpm2 later).
# tpm2.c (tpm2-tss) is not in the library: see TPM_OBJS in guest/attest/module.mk.
KEYS_SRCS := $(filter-out guest/keys/cli.c guest/keys/tpm2.c,$(sort $(wildcard guest/keys/*.c)))
LIBCOCOON_KEYS := $(call lib,cocoon-keys)
$(eval $(call static_lib,cocoon-keys,$(KEYS_SRCS)))

# libFuzzer targets (make fuzz): the seal server's response, the spec's seal settings.
FUZZERS += seal_response seal_conf
FUZZ_SEAL_SRCS = guest/keys/seal.c guest/keys/keys.c guest/keys/debug.c \
	guest/keys/cocoon_seal.c guest/attest/attest.c guest/attest/backend.c guest/attest/tdx.c \
	$(LIBMEASURE_SRCS)
fuzz_seal_response_SRCS = tests/fuzz/fuzz_seal_response.c $(FUZZ_SEAL_SRCS)
fuzz_seal_response_SEEDS := tests/fuzz/seeds/seal_response.bin
fuzz_seal_conf_SRCS = tests/fuzz/fuzz_seal_conf.c $(FUZZ_SEAL_SRCS)
fuzz_seal_conf_SEEDS := tests/fuzz/seeds/seal_conf.json

# cocoon-keys: `seal-probe` runs the cocoon-seal client once (docs/keys.md).
$(BIN)/cocoon-keys: $(OBJ)/guest/keys/cli.o $(LIBCOCOON_KEYS) $(call lib,cocoon-attest) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS) $(ATTEST_SIM_LIBS)
PROGRAMS += $(BIN)/cocoon-keys

# The tpm2 provider's token (from the host-controlled persistent volume) and spec settings.
FUZZERS += tpm2_token
fuzz_tpm2_token_SRCS = tests/fuzz/fuzz_tpm2_token.c guest/keys/tpm2_token.c $(LIBMEASURE_SRCS)
fuzz_tpm2_token_SEEDS := tests/fuzz/seeds/tpm2_token.json tests/fuzz/seeds/tpm2_conf.json
