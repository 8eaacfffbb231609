# guest/keys: key providers behind guest/keys/keys.h (debug now; seal, tpm2 later).
KEYS_SRCS := $(sort $(wildcard guest/keys/*.c))
LIBCOCOON_KEYS := $(LIBDIR)/libcocoon-keys.a

$(LIBCOCOON_KEYS): $(KEYS_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^
