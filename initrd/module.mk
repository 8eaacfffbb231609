# initrd: cocoon-mkinitrd, the deterministic initramfs builder (docs/initrd.md).
MKINITRD_LIB_SRCS := initrd/tree.c initrd/elfdeps.c initrd/kmods.c initrd/compress.c
LIBMKINITRD := $(LIBDIR)/libmkinitrd.a
MKINITRD_LIBS := -lzstd -lz
DEPS_PACKAGES += libzstd-dev zlib1g-dev kmod

$(LIBMKINITRD): $(MKINITRD_LIB_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/cocoon-mkinitrd: $(OBJ)/initrd/main.o $(LIBMKINITRD) $(LIBDIR)/libmeasure.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(MKINITRD_LIBS) $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-mkinitrd
test_mkinitrd_DEPS := $(LIBMKINITRD)
test_mkinitrd_LIBS := $(MKINITRD_LIBS)
