# The `sim` attestation backend and the software PCK CA behind it (guest/attest/simca.c,
# guest/attest/sim.c); included from guest/attest/module.mk.
SIMCA_OBJS := $(OBJ)/guest/attest/simca.o
SIM_OBJS := $(OBJ)/guest/attest/sim.o $(SIMCA_OBJS)
# Contract with guest/attest/module.mk: the sim sources join libcocoon-attest, and
# attest.c is then built with -DCA_HAVE_SIM so that ca_open("sim") dispatches to ca_sim_ops.
ATTEST_SIM_SRCS += guest/attest/sim.c guest/attest/simca.c

# Unit tests built on the software CA.
test_attest_simca_DEPS := $(SIMCA_OBJS)
test_attest_sim_backend_DEPS := $(SIM_OBJS)

# cocoon-sim: the sim backend from a shell (state directory, extend, read, quote).
$(BIN)/cocoon-sim: $(OBJ)/guest/attest/simca_cli.o $(SIM_OBJS) $(LIBDIR)/libmeasure.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)
PROGRAMS += $(BIN)/cocoon-sim
