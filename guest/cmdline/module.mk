# guest/cmdline: the parser of the measured kernel command line's cocoon.* keys
# (docs/boot.md "Command line keys"). One parser for every guest program that reads
# /proc/cmdline (cocoon-init, cocoon-ratls --attest cmdline), so they cannot disagree.
LIBCOCOON_CMDLINE := $(call lib,cocoon-cmdline)
$(eval $(call static_lib,cocoon-cmdline,guest/cmdline/cmdline.c))
