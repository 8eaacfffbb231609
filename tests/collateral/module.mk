# cocoon-launch collateral against a local test PCS (tests/collateral/pcs.py) serving the
# Intel fixture bundle and bundles of a software PCK CA (tests/collateral/gen.c: newer,
# older, expired, revoked, wrong FMSPC). Seconds, no VM.
TEST_COLL_GEN := $(BUILD)/tests/cocoon-test-collateral-gen
$(TEST_COLL_GEN): $(OBJ)/tests/collateral/gen.o $(OBJ)/guest/attest/simca.o $(LIBDIR)/libmeasure.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)
all: $(TEST_COLL_GEN)
INTEGRATION_TESTS += tests/collateral/collateral_test.sh
integration-test test-integration: $(TEST_COLL_GEN) $(BIN)/cocoon-launch
