# cocoon-launch (host launcher) and cocoon-acpi-probe (static /init of the ACPI probe guest).
LAUNCH_LIB_SRCS := host-launcher/config.c host-launcher/image.c host-launcher/argv.c \
	host-launcher/check.c host-launcher/run.c host-launcher/unit.c host-launcher/acpi.c \
	host-launcher/acpi_wire.c host-launcher/status.c host-launcher/cocoon_conf.c \
	host-launcher/argv_cocoon.c
LAUNCH_LIB := $(call lib,launch)
$(eval $(call static_lib,launch,$(LAUNCH_LIB_SRCS)))

# The program: main.c dispatches to one file per subcommand (host-launcher/cli/cmd_*.c).
LAUNCH_CLI_SRCS := host-launcher/main.c $(sort $(wildcard host-launcher/cli/*.c))

# libton (ton/) holds the cell code of publish and registry; it uses libmeasure, so it comes first.
$(BIN)/cocoon-launch: $(LAUNCH_CLI_SRCS:%.c=$(OBJ)/%.o) $(LAUNCH_LIB) $(call lib,ton) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(BASE_LIBS)

# The probe runs as PID 1 in a bare initrd: static, libc only, no sanitizers.
$(BIN)/cocoon-acpi-probe: host-launcher/probe/acpi-probe.c host-launcher/acpi_wire.c host-launcher/acpi_wire.h
	@mkdir -p $(@D)
	$(CC) -std=c17 -D_GNU_SOURCE $(WARN) -O2 -I. -static host-launcher/probe/acpi-probe.c \
		host-launcher/acpi_wire.c -o $@

PROGRAMS += $(BIN)/cocoon-launch $(BIN)/cocoon-acpi-probe

test_launch_config_DEPS := $(LAUNCH_LIB)
test_launch_check_DEPS := $(LAUNCH_LIB)
test_launch_acpi_DEPS := $(LAUNCH_LIB)
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
# The status channel's answers as the host reads them (status.h, run.c's boot watch).
FUZZERS += launch_status
fuzz_launch_status_SRCS = host-launcher/fuzz/fuzz_launch_status.c $(LAUNCH_LIB_SRCS) $(LIBMEASURE_SRCS)
fuzz_launch_status_SEEDS := tests/fuzz/seeds/launch_status.txt
