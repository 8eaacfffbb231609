# guest/attest: attestation backends behind guest/attest/attest.h.
#   attest.c  dispatcher + RTMR3 event log      tdx.c  the tdx backend (tdx.h)
# The sim backend (sim.c, simca.c) comes from guest/attest/sim.mk, written by its
# owners. Contract: sim.mk appends its sources to ATTEST_SIM_SRCS (and may add
# ATTEST_SIM_LIBS); sim.c defines `const struct ca_ops ca_sim_ops`. When
# ATTEST_SIM_SRCS is non-empty, attest.c is built with -DCA_HAVE_SIM and ca_open("sim")
# dispatches to it; otherwise ca_open("sim") fails with "not built into this binary".
ATTEST_SIM_SRCS :=
ATTEST_SIM_LIBS :=
-include guest/attest/sim.mk

ATTEST_SRCS := guest/attest/attest.c guest/attest/tdx.c $(ATTEST_SIM_SRCS)
LIBCOCOON_ATTEST := $(call lib,cocoon-attest)

ifneq ($(strip $(ATTEST_SIM_SRCS)),)
$(OBJ)/guest/attest/attest.o: ALL_CFLAGS += -DCA_HAVE_SIM
endif
# Rebuild the dispatcher when sim.mk appears or goes.
$(OBJ)/guest/attest/attest.o $(OBJ)/tests/unit/test_attest_tdx.o: $(wildcard guest/attest/sim.mk)

$(eval $(call static_lib,cocoon-attest,$(ATTEST_SRCS)))
ifneq ($(strip $(ATTEST_SIM_SRCS)),)
$(OBJ)/tests/unit/test_attest_tdx.o: ALL_CFLAGS += -DCA_HAVE_SIM
endif
