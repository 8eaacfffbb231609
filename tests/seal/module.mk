# tests/seal: the test seal server (Cocoon's seal-server + enclave, played against the sim
# backend; tests only, never in the image). Built with `make`, not installed.
TEST_SEAL_OBJS := $(OBJ)/tests/seal/enclave.o $(SIM_OBJS)
TEST_SEAL_SERVER := $(BUILD)/tests/cocoon-test-seal-server

$(TEST_SEAL_SERVER): $(OBJ)/tests/seal/server.o $(TEST_SEAL_OBJS) $(LIBDIR)/libmeasure.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)

all: $(TEST_SEAL_SERVER)

# tests/unit/test_keys_seal.c: the client against the test enclave.
test_keys_seal_DEPS := $(OBJ)/tests/seal/enclave.o $(GUEST_TEST_DEPS)

# cocoon-keys seal-probe against this server on the host (no QEMU).
INTEGRATION_TESTS += tests/integration/seal_probe.sh
integration-test test-integration: $(BIN)/cocoon-keys $(BIN)/cocoon-sim $(TEST_SEAL_SERVER)
