# image-recipes: pinned Debian packages for the guest image (lock + fetch).
#
#   make guest-kernel   fetch the locked kernel .deb (cached in $(COCOON_CACHE)), verify its sha256
#                       and extract vmlinuz + lib/modules/<kver> into $(GUEST_KERNEL_DIR)
#   make image-lock     re-resolve image-recipes/packages.list against the mirror and rewrite
#                       image-recipes/packages.lock (deliberate re-pin; review the diff)
#
# The mirror comes from apt's configuration or DEBIAN_MIRROR; see image-recipes/debfetch.sh.
DEBFETCH := image-recipes/debfetch.sh
IMAGE_LOCK_FILE := image-recipes/packages.lock
# GUEST_KERNEL_DIR (the Makefile): one extraction for every build flavour.
DEPS_PACKAGES += curl xz-utils dpkg kmod gpgv jq

# Stale pins (docs/auditor-guide.md): `make image`, `make guest-kernel` and `make check-repro`
# are strict (a pin the mirror and the snapshot no longer serve is an error); `make test` builds
# from a temporary re-resolved lock with a loud warning, so that Debian's archive churn does not
# turn the tests red. `make check-pins` lists the stale pins and fails when there are any.
test integration-test test-integration: export COCOON_STALE_PINS = warn
image check-repro guest-kernel: export COCOON_STALE_PINS = strict
.PHONY: check-pins
check-pins:
	$(DEBFETCH) check-pins image-recipes/packages.lock image-recipes/buildroot.lock image-recipes/gpu.lock

$(GUEST_KERNEL_DIR)/kver: $(IMAGE_LOCK_FILE) $(DEBFETCH)
	$(DEBFETCH) kernel $(GUEST_KERNEL_DIR)

.PHONY: guest-kernel image-lock
guest-kernel: $(GUEST_KERNEL_DIR)/kver

image-lock:
	$(DEBFETCH) lock
	IMAGE_LIST=image-recipes/gpu.list IMAGE_LOCK=image-recipes/gpu.lock $(DEBFETCH) lock

# The pinned trixie build root (image-recipes/buildroot.sh): guest programs are compiled and
# the image tools run there. `make buildroot` creates or refreshes it from buildroot.lock.
BUILDROOT_DIR := $(BUILD)/buildroot
DEPS_PACKAGES += mmdebstrap apt-utils cryptsetup-bin tar util-linux

$(BUILDROOT_DIR)/.lock-sha256: image-recipes/buildroot.lock image-recipes/buildroot.sh image-recipes/debfetch.sh
	image-recipes/buildroot.sh create $(BUILDROOT_DIR)

.PHONY: buildroot
buildroot: $(BUILDROOT_DIR)/.lock-sha256

image-lock: image-lock-buildroot
.PHONY: image-lock-buildroot
image-lock-buildroot:
	image-recipes/buildroot.sh lock

INTEGRATION_TESTS += tests/integration/image_build_model.sh
INTEGRATION_TESTS += tests/integration/image_build_model_encrypted.sh
INTEGRATION_TESTS += tests/integration/image_compile_repro.sh

# The production image (image-recipes/build-image) and its reproducibility check.
# VARIANT=gpu: the gpu variant (NVIDIA modules, NVML, GSP firmware; docs/gpu.md) as images/gpu.
VARIANT ?=
IMAGE_NAME = $(if $(filter gpu,$(VARIANT)),gpu,default)
.PHONY: image check-repro
image:
	VARIANT=$(VARIANT) image-recipes/build-image $(IMAGE_NAME)
check-repro:
	VARIANT=$(VARIANT) image-recipes/check-repro $(IMAGE_NAME)
CLEAN_EXTRA += images
INTEGRATION_TESTS += tests/integration/image_appliance.sh
