# cocoon-init: PID 1 of the appliance's initrd (docs/boot.md).
GUEST_PKGS := libcryptsetup libkmod blkid libudev
EXTRA_CFLAGS_guest := $(call pkg_cflags,$(GUEST_PKGS))
GUEST_LIBS := $(call pkg_libs,$(GUEST_PKGS))

# Everything but main.c goes into a library the unit tests link.
INIT_SRCS := $(filter-out guest/init/main.c,$(sort $(wildcard guest/init/*.c)))
LIBCOCOON_INIT := $(LIBDIR)/libcocoon-init.a

$(LIBCOCOON_INIT): $(INIT_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/cocoon-init: $(OBJ)/guest/init/main.o $(LIBCOCOON_INIT) $(LIBDIR)/libcocoon-keys.a $(LIBDIR)/libcocoon-attest.a $(LIBDIR)/libmeasure.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(GUEST_LIBS) $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-init
# The module list the initrd ships as /etc/cocoon/modules (read by cocoon-init).
INIT_MODULES_LIST := guest/init/modules.list
