# The `sim` attestation backend and the software PCK CA behind it (guest/attest/simca.c,
# guest/attest/sim.c); included from guest/attest/module.mk.
SIMCA_OBJS := $(OBJ)/guest/attest/simca.o
SIM_OBJS := $(OBJ)/guest/attest/sim.o $(SIMCA_OBJS)

# Unit tests built on the software CA.
test_simca_DEPS := $(SIMCA_OBJS)
test_simca_backend_DEPS := $(SIM_OBJS)
