# guest/cmdline: the parser of the measured kernel command line's cocoon.* keys
# (docs/boot.md "Command line keys"). One parser for every guest program that reads
# /proc/cmdline (cocoon-init, cocoon-ratls --attest cmdline), so they cannot disagree.
LIBCOCOON_CMDLINE := $(LIBDIR)/libcocoon-cmdline.a

$(LIBCOCOON_CMDLINE): $(OBJ)/guest/cmdline/cmdline.o
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
