# cocoon-launch (host launcher) and cocoon-acpi-probe (static /init of the ACPI probe guest).
LAUNCH_LIB_SRCS := host-launcher/config.c host-launcher/image.c host-launcher/argv.c \
	host-launcher/check.c host-launcher/run.c host-launcher/unit.c host-launcher/acpi.c \
	host-launcher/acpi_wire.c host-launcher/collateral.c host-launcher/status.c host-launcher/cocoon_conf.c \
	host-launcher/argv_default.c host-launcher/argv_cocoon.c
LAUNCH_LIB := $(call lib,launch)
$(eval $(call static_lib,launch,$(LAUNCH_LIB_SRCS)))

# The program: main.c dispatches to one file per subcommand (host-launcher/cli/cmd_*.c).
LAUNCH_CLI_SRCS := host-launcher/main.c $(sort $(wildcard host-launcher/cli/*.c))

# libton (ton/) holds the cell code of publish and registry; it uses libmeasure, so it comes first.
$(BIN)/cocoon-launch: $(LAUNCH_CLI_SRCS:%.c=$(OBJ)/%.o) $(LAUNCH_LIB) $(call lib,ton) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS) $(call pkg_libs,libcurl)

# cocoon-launch collateral fetches with libcurl (host-launcher/cli/http.c).
DEPS_PACKAGES += libcurl4-openssl-dev

# The probe runs as PID 1 in a bare initrd: static, libc only, no sanitizers.
$(BIN)/cocoon-acpi-probe: host-launcher/probe/acpi-probe.c host-launcher/acpi_wire.c host-launcher/acpi_wire.h
	@mkdir -p $(@D)
	$(CC) -std=c17 -D_GNU_SOURCE $(WARN) -O2 -I. -static host-launcher/probe/acpi-probe.c \
		host-launcher/acpi_wire.c -o $@

PROGRAMS += $(BIN)/cocoon-launch $(BIN)/cocoon-acpi-probe

test_launch_config_DEPS := $(LAUNCH_LIB)
test_launch_check_DEPS := $(LAUNCH_LIB)
test_launch_acpi_DEPS := $(LAUNCH_LIB)
test_launch_collateral_DEPS := $(LAUNCH_LIB)
test_launch_status_DEPS := $(LAUNCH_LIB)
test_launch_cocoon_DEPS := $(LAUNCH_LIB)

INTEGRATION_TESTS += tests/integration/launch_cli.sh tests/integration/launch_qemu_tdx.sh \
	tests/integration/launch_cocoon_conf.sh tests/integration/launch_cocoon_shape.sh

# mmdebstrap builds the cached trixie-backports root whose QEMU (>= 10.1) parses the TDX argv.
DEPS_PACKAGES += mmdebstrap qemu-system-x86

# capture-acpi boots a real probe guest: it needs the pinned guest kernel fetch
# (image-recipes/debfetch.sh) and cocoon-mkinitrd (initrd/), both from the boot work.
ifneq ($(wildcard image-recipes/debfetch.sh),)
ifneq ($(wildcard initrd/main.c),)
INTEGRATION_TESTS += tests/integration/launch_capture_acpi.sh
endif
endif

# Fuzzing: config, --set, manifest.json and capture-acpi log parsers (first byte selects).
# '=': LIBMEASURE_SRCS comes from measure/module.mk.
FUZZERS += launch
fuzz_launch_SRCS = host-launcher/fuzz/fuzz_launch.c $(LAUNCH_LIB_SRCS) $(LIBMEASURE_SRCS)
fuzz_launch_SEEDS = $(wildcard host-launcher/examples/*.conf tests/unit/golden/launch/*.conf)

# The PCS / PCCS responses of `cocoon-launch collateral` (seed: the fixture bundle as the PCS
# serves it, made by tests/collateral/pcs.py).
FUZZERS += launch_pcs
fuzz_launch_pcs_SRCS = host-launcher/fuzz/fuzz_launch_pcs.c host-launcher/collateral.c $(LIBMEASURE_SRCS)
LAUNCH_PCS_SEED := build/cache/fuzz/pcs-dcapqvl-tdx.bin
$(LAUNCH_PCS_SEED): $(FIXTURES)/tdx/quotes/dcapqvl_tdx_quote_collateral.json tests/collateral/pcs.py
	@mkdir -p $(@D)/pcs
	python3 tests/collateral/pcs.py split $< $(@D)/pcs
	cd $(@D)/pcs && for f in tcb-B0C06F000000.json tcb-B0C06F000000.chain qe.json qe.chain pckcrl.der \
		pckcrl.chain; do cat $$f; printf '\n--\n'; done >../$(@F).tmp && cat rootcrl.der >>../$(@F).tmp
	mv $(@D)/$(@F).tmp $@
fuzz_launch_pcs_SEEDS := $(LAUNCH_PCS_SEED)
fuzz-build: $(LAUNCH_PCS_SEED)

# The status channel's answers as the host reads them (status.h, run.c's boot watch).
FUZZERS += launch_status
fuzz_launch_status_SRCS = host-launcher/fuzz/fuzz_launch_status.c $(LAUNCH_LIB_SRCS) $(LIBMEASURE_SRCS)
fuzz_launch_status_SEEDS := tests/fuzz/seeds/launch_status.txt
