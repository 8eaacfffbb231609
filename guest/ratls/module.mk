# cocoon-ratls: the RA-TLS server, forwarder and SOCKS5 proxy (docs/ratls.md).
# libcocoonratls.a holds everything but main.c (loop, TLS, config, identity, logger); the
# certificate format, its verifier and the PoW wire format are libmeasure's (measure/ratls/),
# which cocoon-measure's `cert` command links too.
RATLS_SRCS := $(filter-out guest/ratls/main.c,$(sort $(wildcard guest/ratls/*.c)))
LIBRATLS := $(call lib,cocoonratls)
$(eval $(call static_lib,cocoonratls,$(RATLS_SRCS)))

$(BIN)/cocoon-ratls: $(OBJ)/guest/ratls/main.o $(LIBRATLS) $(LIBCOCOON_CMDLINE) $(call lib,cocoon-gpu) \
		$(call lib,cocoon-attest) $(call lib,measure)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(ATTEST_SIM_LIBS) $(LIBMEASURE_GPU_LIBS) $(BASE_LIBS)

PROGRAMS += $(BIN)/cocoon-ratls

# Everything that links the peer verifier (measure/ratls/peer.c) links the GPU verifier too.
$(foreach t,config peerinfo socks5 proxy verify tls gpuext cert pow,$(eval test_ratls_$(t)_LIBS = $$(LIBMEASURE_GPU_LIBS)))
test_ratls_config_DEPS := $(LIBRATLS) $(LIBCOCOON_CMDLINE)
test_ratls_peerinfo_DEPS := $(LIBRATLS)
test_ratls_socks5_DEPS := $(LIBRATLS)
test_ratls_proxy_DEPS := $(LIBRATLS)
# '=': SIMCA_OBJS comes from guest/attest/sim.mk.
test_ratls_verify_DEPS = $(SIMCA_OBJS)
test_ratls_tls_DEPS = $(LIBRATLS) $(SIMCA_OBJS)

INTEGRATION_TESTS += tests/integration/ratls_mutual tests/integration/ratls_load tests/integration/ratls_dns \
	tests/integration/ratls_flood tests/integration/ratls_cocoon tests/integration/ratls_cli
BENCHES += tests/bench/bench_ratls

# nginx: the TLS 1.3 terminator baseline of the benchmark; valgrind: leak check in
# tests/integration/ratls_load; openssl: the CLI checks of the certificate tests; iproute2:
# loopback up in the private network namespace of tests/integration/ratls_dns.
DEPS_PACKAGES += nginx-light valgrind openssl iproute2
# The GPU evidence extension and the "gpu" peer policy key (measure/ratls/gpuext.c, peer.c).
test_ratls_gpuext_DEPS = $(SIMCA_OBJS) $(LIBRATLS) $(call lib,cocoon-gpu) $(call lib,cocoon-attest)
$(TESTBIN)/test_ratls_gpuext: | $(TESTBIN)/fake_nvml.so
