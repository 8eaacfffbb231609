# Cocoon TD appliance: the one entry point.
#
#   make deps            install the Debian packages the build and tests need (root)
#   make                 build libraries and programs into build/bin
#   make demo            build the appliance image, boot it in QEMU, verify it from the host
#   make test            unit tests (normal + ASan/UBSan build), then integration tests
#   make fuzz            build the libFuzzer targets (clang) and run each for FUZZ_SECONDS
#   make bench           benchmarks, reported as ratios against a named baseline
#   make install         install programs under $(DESTDIR)$(PREFIX)
#   make clean
#
# Components live in their folders and describe themselves in a module.mk that this
# file includes; they append to the variables below (PROGRAMS, UNIT_TESTS, FUZZERS,
# BENCHES, DEPS_PACKAGES, ...). Objects go to $(BUILD)/obj, binaries to $(BUILD)/bin.

.DEFAULT_GOAL := all
SHELL := /bin/bash
.DELETE_ON_ERROR:
# Keep objects made through pattern rules (they are not intermediate files to us).
.SECONDARY:
.SUFFIXES:

PREFIX  ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60
# Fixtures are read in place, never copied: ../shared/fixtures next to the checkout.
FIXTURES ?= $(abspath $(CURDIR)/../shared/fixtures)
export FIXTURES

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)
# The build's time, reproducible: SOURCE_DATE_EPOCH, else the commit's time. cocoon-ratls
# never verifies peers at an earlier time (its time floor, docs/threat-model.md "Time").
BUILD_TIME ?= $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)

ifeq ($(SANITIZE),1)
BUILD ?= build/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SAN_FLAGS :=
endif
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj
LIBDIR := $(BUILD)/lib
TESTBIN := $(BUILD)/tests

CC ?= cc
PKG_CONFIG ?= pkg-config
# Libraries every component may use. Components add their own with pkg-config too.
BASE_PKGS := libcrypto libssl json-c

pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pkg_libs = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes -Wmissing-prototypes
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN_FLAGS) -I. -ffile-prefix-map=$(CURDIR)=. \
              -DCOCOON_VERSION='"$(VERSION)"' \
              -DCOCOON_BUILD_TIME=$(BUILD_TIME) $(call pkg_cflags,$(BASE_PKGS))
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)
BASE_LIBS := $(call pkg_libs,$(BASE_PKGS))

# Filled in by the module.mk files.
PROGRAMS :=
UNIT_TESTS :=
FUZZERS :=
BENCHES :=
INTEGRATION_TESTS :=
CLEAN_EXTRA :=
DEPS_PACKAGES := build-essential pkg-config git ca-certificates curl \
	libssl-dev libjson-c-dev libcmocka-dev \
	libcryptsetup-dev libkmod-dev libudev-dev libblkid-dev libtss2-dev libxml2-dev \
	clang libclang-rt-14-dev llvm

# Shared by every module.mk, so that none depends on the order they are included in: a
# module names another's library with $(call lib,NAME) and another's variables only in
# deferred (`=`) assignments or recipes, never in an immediate (`:=`) one or a rule line.
# (The pinned guest kernel's directory is shared too: one extraction for every build flavour.)
GUEST_KERNEL_DIR := build/guest-kernel

# lib: the path of a module's static library.
lib = $(LIBDIR)/lib$(1).a
# static_lib: the archive rule of a module's library, the objects of SOURCES:
#   $(eval $(call static_lib,NAME,SOURCES))   ->   $(call lib,NAME)
define static_lib
$(call lib,$(1)): $(patsubst %.c,$(OBJ)/%.o,$(2))
	@mkdir -p $$(@D)
	rm -f $$@
	$$(AR) rcs $$@ $$^
endef

# Prerequisites may name variables set later ($$(test_NAME_DEPS) in tests/unit/module.mk).
.SECONDEXPANSION:

# compile_c: one object rule for every C file, with header dependencies.
$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS_$(firstword $(subst /, ,$<))) -MMD -MP -c $< -o $@

include $(sort $(wildcard */module.mk */*/module.mk))

.PHONY: all test unit-test unit-test-asan integration-test test-integration fuzz fuzz-build bench \
        install clean deps
all: $(PROGRAMS)

# ---- tests -----------------------------------------------------------------------
# Each unit test is a cmocka binary; the runner prints cmocka's summary per binary and
# fails at the end if any failed.
unit-test: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do \
	  echo "== $$t"; \
	  if ! FIXTURES="$(FIXTURES)" $$t; then echo "FAILED: $$t"; fail=1; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "unit tests: FAILED"; exit 1; fi; \
	echo "unit tests ($(BUILD)): all passed"

unit-test-asan:
	$(MAKE) --no-print-directory SANITIZE=1 unit-test

integration-test test-integration: all
	@fail=0; for t in $(INTEGRATION_TESTS); do \
	  echo "== $$t"; \
	  if ! BUILD="$(BUILD)" FIXTURES="$(FIXTURES)" $$t; then echo "FAILED: $$t"; fail=1; fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "integration tests: FAILED"; exit 1; fi; \
	echo "integration tests: all passed"

test: all
	$(MAKE) --no-print-directory unit-test
	$(MAKE) --no-print-directory unit-test-asan
	$(MAKE) --no-print-directory integration-test

# ---- fuzzing (clang + libFuzzer) ----------------------------------------------------
# A module registers a target with:  FUZZERS += name ; fuzz_name_SRCS := ... ;
# fuzz_name_SEEDS := seed files (fixtures are read in place) ; fuzz_name_LIBS := extra libs.
FUZZ_BIN := build/fuzz
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined -DCOCOON_VERSION='"fuzz"' -DCOCOON_FUZZING \
               -DCOCOON_BUILD_TIME=$(BUILD_TIME) \
               $(call pkg_cflags,$(BASE_PKGS) $(LIBMEASURE_GPU_PKGS))
define fuzz_rule
$(FUZZ_BIN)/fuzz_$(1): $$(fuzz_$(1)_SRCS)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(fuzz_$(1)_SRCS) -o $$@ $$(LIBMEASURE_GPU_LIBS) $$(BASE_LIBS) $$(fuzz_$(1)_LIBS)
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzz_rule,$(f))))

fuzz-build: $(FUZZERS:%=$(FUZZ_BIN)/fuzz_%)
# Each target runs FUZZ_SECONDS over its corpus (build/fuzz/corpus/NAME, grown by the run)
# seeded with copies of its seed files; crashes land in build/fuzz/artifacts/NAME/.
fuzz: fuzz-build
	@set -e; $(foreach f,$(FUZZERS),\
	  mkdir -p $(FUZZ_BIN)/corpus/$(f) $(FUZZ_BIN)/seeds/$(f) $(FUZZ_BIN)/artifacts/$(f); \
	  $(if $(fuzz_$(f)_SEEDS),cp -f $(fuzz_$(f)_SEEDS) $(FUZZ_BIN)/seeds/$(f)/;) \
	  echo "== fuzz_$(f) for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_BIN)/fuzz_$(f) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BIN)/artifacts/$(f)/ $(FUZZ_BIN)/corpus/$(f) $(FUZZ_BIN)/seeds/$(f);)

# ---- the main job ------------------------------------------------------------------------
# Build the production image (when missing), boot it under QEMU with cocoon-launch (TCG,
# sim attestation), verify it from the host and shut it down (host-launcher/demo/demo.sh).
.PHONY: demo
demo: all
	host-launcher/demo/demo.sh

# ---- benchmarks ----------------------------------------------------------------------
bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; BUILD="$(BUILD)" FIXTURES="$(FIXTURES)" $$b || exit 1; done

# ---- install / clean / deps ------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build $(CLEAN_EXTRA)

deps:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "error: make deps installs Debian packages with apt-get and must run as root (try: sudo make deps)" >&2; \
	  exit 1; fi
	@missing=$$(for p in $(sort $(DEPS_PACKAGES)); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(sort $(DEPS_PACKAGES))) packages present"; exit 0; fi; \
	echo "deps: installing $$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
