# guest/attest: attestation backends behind guest/attest/attest.h.
#   attest.c   a backend by name (ca_open)      tdx.c  the tdx backend (tdx.h)
#   backend.c  the backend object and the RTMR3 event log (below every backend)
# The sim backend (sim.c, simca.c) comes from guest/attest/sim.mk, written by its
# owners. Contract: sim.mk appends its sources to ATTEST_SIM_SRCS (and may add
# ATTEST_SIM_LIBS); sim.c defines `const struct ca_ops ca_sim_ops`. When
# ATTEST_SIM_SRCS is non-empty, attest.c is built with -DCA_HAVE_SIM and ca_open("sim")
# dispatches to it; otherwise ca_open("sim") fails with "not built into this binary".
ATTEST_SIM_SRCS :=
ATTEST_SIM_LIBS :=
-include guest/attest/sim.mk

ATTEST_SRCS := guest/attest/attest.c guest/attest/backend.c guest/attest/tdx.c $(ATTEST_SIM_SRCS)
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

# The `tpm` backend (tpm.c) and the `tpm2` key provider's TPM half (guest/keys/tpm2.c) use
# tpm2-tss. They are not in the libraries: a program that needs them links $(TPM_OBJS) and
# $(TSS2_LIBS) (cocoon-init); the others resolve ca_tpm_ops / ck_tpm2_ops weakly to NULL
# and answer "not built into this binary", so tss2 stays out of them. The TCTIs are linked,
# not dlopen'ed (tctildr), so the initrd's ELF closure carries them.
# The swtpm TCTI (tests only) is a weak reference in tpm.c: TSS2_TEST_LIBS adds it.
TSS2_PKGS := tss2-esys tss2-mu tss2-rc tss2-tcti-device
TSS2_LIBS := $(call pkg_libs,$(TSS2_PKGS))
# (--no-as-needed: a library that only satisfies a weak reference is dropped otherwise.)
TSS2_TEST_LIBS := $(TSS2_LIBS) -Wl,--no-as-needed $(call pkg_libs,tss2-tcti-swtpm) -Wl,--as-needed
TPM_OBJS := $(OBJ)/guest/attest/tpm.o $(OBJ)/guest/keys/tpm2.o
