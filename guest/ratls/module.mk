# cocoon-ratls: the RA-TLS server, forwarder and SOCKS5 proxy (docs/ratls.md).
# libcocoonratls.a holds everything but main.c; cocoon-measure's `cert` command links it
# too, so the auditor verifies certificates with the very code the appliance uses.
RATLS_SRCS := $(filter-out guest/ratls/main.c,$(sort $(wildcard guest/ratls/*.c)))
LIBRATLS := $(LIBDIR)/libcocoonratls.a

$(LIBRATLS): $(RATLS_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

test_pow_DEPS := $(LIBRATLS)
test_ratls_cert_DEPS := $(LIBRATLS)
