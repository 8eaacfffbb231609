# cocoon-ratls: the RA-TLS server, forwarder and SOCKS5 proxy (docs/ratls.md).
# libcocoonratls.a holds everything but main.c (loop, TLS, config, identity, logger); the
# certificate format, its verifier and the PoW wire format are libmeasure's (measure/ratls/),
# which cocoon-measure's `cert` command links too.
# (Library paths are spelled out: this file is included before measure/module.mk.)
RATLS_SRCS := $(filter-out guest/ratls/main.c,$(sort $(wildcard guest/ratls/*.c)))
LIBRATLS := $(LIBDIR)/libcocoonratls.a

$(LIBRATLS): $(RATLS_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BIN)/cocoon-ratls: $(OBJ)/guest/ratls/main.o $(LIBRATLS) $(LIBDIR)/libcocoon-attest.a $(LIBDIR)/libmeasure.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(ATTEST_SIM_LIBS) $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-ratls

test_ratls_config_DEPS := $(LIBRATLS)
test_ratls_peerinfo_DEPS := $(LIBRATLS)
test_ratls_verify_DEPS := $(SIMCA_OBJS)
test_ratls_tls_DEPS := $(LIBRATLS) $(SIMCA_OBJS)

INTEGRATION_TESTS += tests/integration/ratls_mutual tests/integration/ratls_load
BENCHES += tests/bench/bench_ratls

# nginx: the TLS 1.3 terminator baseline of the benchmark; valgrind: leak check in
# tests/integration/ratls_load; openssl: the CLI checks of the certificate tests.
DEPS_PACKAGES += nginx-light valgrind openssl
