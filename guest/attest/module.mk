# guest/attest: attestation backends. The sim backend's rules live in sim.mk; the quote
# verifier's fuzz target and benchmark (issue 8) register themselves in their own .mk files.
include guest/attest/sim.mk
include tests/fuzz/fuzz_verify.mk
include tests/bench/bench_verify.mk
