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
GUEST_KERNEL_DIR := $(BUILD)/guest-kernel
DEPS_PACKAGES += curl xz-utils dpkg kmod

$(GUEST_KERNEL_DIR)/kver: $(IMAGE_LOCK_FILE) $(DEBFETCH)
	$(DEBFETCH) kernel $(GUEST_KERNEL_DIR)

.PHONY: guest-kernel image-lock
guest-kernel: $(GUEST_KERNEL_DIR)/kver

image-lock:
	$(DEBFETCH) lock
