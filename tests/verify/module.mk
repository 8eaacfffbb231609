# Quote verification (issue 8): CLI test deps, the sim CLI integration test, the fuzz target
# and the benchmark. Included by the top Makefile like every */*/module.mk.

# libFuzzer target over quote + collateral parsing and verification (tests/fuzz/fuzz_verify.c).
FUZZERS += verify
fuzz_verify_SRCS = tests/fuzz/fuzz_verify.c $(LIBMEASURE_SRCS)
fuzz_verify_SEEDS := $(wildcard $(FIXTURES)/tdx/quotes/*.bin $(FIXTURES)/tdx/quotes/*.dat \
	$(FIXTURES)/tdx/quotes/*.json) tests/fuzz/seeds/policy.json

# make bench: quote verification throughput vs @phala/dcap-qvl (tests/bench/bench_verify.sh).
$(BUILD)/bench/bench_verify: $(OBJ)/tests/bench/bench_verify.o $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)

BENCHES += tests/bench/bench_verify.sh
tests/bench/bench_verify.sh: $(BUILD)/bench/bench_verify

# The verifier's CLI unit test links the quote subcommand directly.
test_measure_verify_cli_DEPS := $(OBJ)/measure/cli/cmd_quote.o $(OBJ)/measure/cli/common.o

# cocoon-sim + cocoon-measure end to end: extend, quote, verify with the sim root.
INTEGRATION_TESTS += tests/verify/sim_cli_test.sh
