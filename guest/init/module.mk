# cocoon-init: PID 1 of the appliance's initrd (docs/boot.md).
# libudev finds the disks (enumeration + kernel uevent monitor; no udevd in the initrd).
GUEST_PKGS := libcryptsetup libkmod blkid libudev
EXTRA_CFLAGS_guest := $(call pkg_cflags,$(GUEST_PKGS))
GUEST_LIBS := $(call pkg_libs,$(GUEST_PKGS))

# Everything but main.c goes into a library the unit tests link.
INIT_SRCS := $(filter-out guest/init/main.c,$(sort $(wildcard guest/init/*.c)))
LIBCOCOON_INIT := $(call lib,cocoon-init)
$(eval $(call static_lib,cocoon-init,$(INIT_SRCS)))

$(BIN)/cocoon-init: $(OBJ)/guest/init/main.o $(LIBCOCOON_INIT) $(LIBCOCOON_CMDLINE) $(call lib,cocoon-keyserver) \
		$(call lib,cocoonratls) $(call lib,cocoon-keys) $(call lib,cocoon-gpu) $(call lib,cocoon-attest) $(call lib,measure) \
		$$(TPM_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $(OBJ)/guest/init/main.o $(TPM_OBJS) $(filter %.a,$^) -o $@ $(GUEST_LIBS) $(TSS2_LIBS) \
		$(BASE_LIBS)
	@# PID 1 links no GPU verifier (libxml2, ICU): it runs as a child from the root (docs/gpu.md)
	@if readelf -d $@ | grep -q "NEEDED.*libxml2"; then echo "error: $@ needs libxml2 (docs/gpu.md)"; rm -f $@; exit 1; fi

PROGRAMS += $(BIN)/cocoon-init
# test_init_luks runs mkfs.ext4 on a file (blank-disk detection must see ext4).
DEPS_PACKAGES += e2fsprogs
# The module list the initrd ships as /etc/cocoon/modules (read by cocoon-init).
INIT_MODULES_LIST := guest/init/modules.list

# Unit tests (tests/unit/test_init_*.c, test_attest_tdx.c, test_keys_debug.c).
GUEST_TEST_DEPS := $(LIBCOCOON_INIT) $(LIBCOCOON_CMDLINE) $(call lib,cocoon-keyserver) $(call lib,cocoonratls) \
	$(call lib,cocoon-keys) $(call lib,cocoon-gpu) $(call lib,cocoon-attest)
GUEST_TESTS := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_init_*.c tests/unit/test_attest_tdx.c \
	tests/unit/test_keys_*.c))
$(foreach t,$(GUEST_TESTS),$(eval test_$(t)_DEPS := $$(GUEST_TEST_DEPS)))
$(foreach t,$(GUEST_TESTS),$(eval test_$(t)_LIBS = $$(GUEST_LIBS) $$(ATTEST_SIM_LIBS) $$(LIBMEASURE_GPU_LIBS)))
# The TPM tests (tests/unit/test_keys_tpm2.c, test_attest_tpm.c) link the TPM objects and
# tpm2-tss, and start swtpm.
test_keys_tpm2_DEPS := $(TPM_OBJS) $(GUEST_TEST_DEPS)
test_keys_tpm2_LIBS += $(TSS2_TEST_LIBS)
test_attest_tpm_DEPS = $(TPM_OBJS) $(OBJ)/measure/cli/cmd_tpm_quote.o $(OBJ)/measure/cli/common.o $(GUEST_TEST_DEPS)
test_attest_tpm_LIBS = $(GUEST_LIBS) $(TSS2_TEST_LIBS) $(LIBMEASURE_GPU_LIBS)
DEPS_PACKAGES += swtpm

# libFuzzer targets (make fuzz): the LUKS2 metadata check on host-controlled headers,
# the spec and cmdline parsers. `=` because LIBMEASURE_SRCS is set by measure/module.mk.
FUZZERS += init_luks init_spec init_status
fuzz_init_luks_SRCS = tests/fuzz/fuzz_init_luks.c guest/init/luks.c $(LIBMEASURE_SRCS)
fuzz_init_luks_SEEDS := tests/fuzz/seeds/init_luks.json tests/fuzz/seeds/init_luks_integrity.json \
	tests/fuzz/seeds/init_luks_tpm2.json
fuzz_init_luks_LIBS := -lcryptsetup -lblkid
fuzz_init_spec_SRCS = tests/fuzz/fuzz_init_spec.c guest/init/appspec.c guest/init/net.c guest/init/log.c guest/cmdline/cmdline.c $(LIBMEASURE_SRCS)
fuzz_init_spec_SEEDS := tests/fuzz/seeds/init_spec.json tests/fuzz/seeds/init_cmdline.txt
# The status channel's request line (status.h): host input.
fuzz_init_status_SRCS = tests/fuzz/fuzz_init_status.c guest/init/status.c guest/init/log.c $(LIBMEASURE_SRCS)
fuzz_init_status_SEEDS := tests/fuzz/seeds/init_status.txt
