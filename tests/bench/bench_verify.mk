# make bench: quote verification throughput vs @phala/dcap-qvl (tests/bench/bench_verify.sh).
$(BUILD)/bench/bench_verify: $(OBJ)/tests/bench/bench_verify.o $(LIBDIR)/libmeasure.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)

BENCHES += tests/bench/bench_verify.sh
tests/bench/bench_verify.sh: $(BUILD)/bench/bench_verify
