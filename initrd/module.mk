# initrd: cocoon-mkinitrd, the deterministic initramfs builder (docs/initrd.md).
MKINITRD_LIB_SRCS := initrd/tree.c initrd/elfdeps.c initrd/listfile.c initrd/kmods.c initrd/compress.c
LIBMKINITRD := $(call lib,mkinitrd)
MKINITRD_LIBS := -lzstd -lz
DEPS_PACKAGES += libzstd-dev zlib1g-dev kmod

$(eval $(call static_lib,mkinitrd,$(MKINITRD_LIB_SRCS)))

$(BIN)/cocoon-mkinitrd: $(OBJ)/initrd/main.o $(LIBMKINITRD) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(MKINITRD_LIBS) $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-mkinitrd
test_mkinitrd_tree_DEPS := $(LIBMKINITRD)
test_mkinitrd_tree_LIBS := $(MKINITRD_LIBS)

# The appliance initrd: cocoon-init as /init with its shared libraries, the modules in
# cocoon-init's list with their modules.dep closure, initrd/initrd.list. Needs the
# cocoon-init program (guest/init) and the pinned kernel (make guest-kernel).
INIT_MODULES_LIST ?= guest/init/modules.list
INITRD_IMG := $(BUILD)/initrd.img
$(INITRD_IMG): $(BIN)/cocoon-init $(BIN)/cocoon-mkinitrd $(GUEST_KERNEL_DIR)/kver initrd/initrd.list \
		$(INIT_MODULES_LIST)
	$(BIN)/cocoon-mkinitrd -o $@ --elf init=$(BIN)/cocoon-init \
		-k $(GUEST_KERNEL_DIR)/lib/modules/$$(cat $(GUEST_KERNEL_DIR)/kver) -m $(INIT_MODULES_LIST) \
		initrd/initrd.list

.PHONY: initrd
initrd: $(INITRD_IMG)
