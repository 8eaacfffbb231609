# tests/integration: real boots of the pinned Debian kernel under QEMU TCG (docs/testing.md).
DEPS_PACKAGES += qemu-system-x86 erofs-utils cryptsetup-bin socat busybox-static e2fsprogs coreutils
# jq -e: JSON values in the shell tests (check_lib.sh jq_get/jq_uint); python3: free_port.
DEPS_PACKAGES += jq python3
# cpio: make_appliance_root unpacks cocoon-mkinitrd's list entries (keyserver_td.sh's root).
DEPS_PACKAGES += cpio

$(BUILD)/tests/integration/testinit: $(OBJ)/tests/integration/testinit.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ -lkmod -lcryptsetup

# selftest_checks.sh: the checks the other shell tests rely on can fail (no VM, seconds).
INTEGRATION_TESTS += tests/integration/selftest_checks.sh
# tools_cli.sh: the command lines of cocoon-keyserver, cocoon-sim and cocoon-mkinitrd (seconds).
INTEGRATION_TESTS += tests/integration/tools_cli.sh
INTEGRATION_TESTS += tests/integration/debfetch.sh tests/integration/boot-harness.sh
# The boot tests need the kernel, the initrd builder and the test init.
integration-test test-integration: $(GUEST_KERNEL_DIR)/kver $(BIN)/cocoon-mkinitrd \
	$(BUILD)/tests/integration/testinit

# Scenarios that boot the appliance (cocoon-init from guest/init as /init of $(BUILD)/initrd.img).
# They are registered when the tree builds cocoon-init; each fails with a clear message if
# $(BIN)/cocoon-init or $(BUILD)/initrd.img is missing when run directly.
APPLIANCE_TESTS := init-service init-persistent init-persistent-foreign init-luks-tampered \
	init-persistent-integrity init-persistent-tpm2 \
	init-verity-corrupt init-model-corrupt init-missing-disk init-wrong-roothash \
	init-powerdown init-sigterm init-seal init-model-encrypted init-status \
	keyserver_td
# RTMR3 against `cocoon-measure spec` (measure/cli/cmd_spec.c) when the tree has it.
ifneq ($(wildcard measure/cli/cmd_spec.c),)
APPLIANCE_TESTS += init-rtmr3 init-debug-shell init-gpu
endif
ifneq ($(wildcard guest/init/main.c),)
INTEGRATION_TESTS += $(APPLIANCE_TESTS:%=tests/integration/%.sh)
integration-test test-integration: $(BUILD)/initrd.img
# collateral_boot: two appliances verify each other with the collateral cocoon-launch fetched
# from the test PCS (tests/collateral/: pcs.py, gen.c); cocoon-ratls and the test engine run
# in the guests.
INTEGRATION_TESTS += tests/integration/collateral_boot.sh
integration-test test-integration: $(BUILD)/tests/cocoon-test-collateral-gen $(BUILD)/tests/ratls-engine \
	$(BIN)/cocoon-ratls
# make bench: the persistent volume's integrity cost against plain aes-xts, in the guest.
BENCHES += tests/bench/bench_persistent.sh
tests/bench/bench_persistent.sh: $(BUILD)/initrd.img
# make bench: cocoon-init's boot time against a bare initrd, as ratios to the kernel's time to /init.
BENCHES += tests/bench/bench_boot.sh
tests/bench/bench_boot.sh: $(BUILD)/initrd.img
endif
# Measured boot on a vTPM: the production initrd with swtpm (QEMU tpm-crb), the booted PCRs and
# TCG2 log against cocoon-measure image --tpm / eventlog --tpm (issue 19 §1).
DEPS_PACKAGES += swtpm
ifneq ($(wildcard guest/init/main.c),)
INTEGRATION_TESTS += tests/integration/tpm_measured_boot.sh
endif
# init-seal and keyserver_td (the key server's TD, its keys sealed) boot against the test seal server (tests/seal/module.mk builds it).
integration-test test-integration: $(BUILD)/tests/cocoon-test-seal-server

# The gpu image variant (docs/gpu.md): one build (the NVIDIA modules cached in
# $COCOON_CACHE/gpu-modules, so one module build per CI run), two TCG boots.
ifneq ($(wildcard image-recipes/gpu-layer.sh),)
INTEGRATION_TESTS += tests/integration/image_gpu.sh
endif
