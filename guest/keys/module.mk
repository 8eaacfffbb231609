# guest/keys: key providers behind guest/keys/keys.h (debug now; seal, tpm2 later).
KEYS_SRCS := $(sort $(wildcard guest/keys/*.c))
LIBCOCOON_KEYS := $(call lib,cocoon-keys)
$(eval $(call static_lib,cocoon-keys,$(KEYS_SRCS)))
