# guest/attest: attestation backends. The sim backend's rules live in sim.mk.
include guest/attest/sim.mk
