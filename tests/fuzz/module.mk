# libFuzzer targets of libmeasure's core parsers (see the Makefile's fuzz section).
# (`=` where a list names LIBMEASURE_SRCS: it comes from measure/module.mk.)
FUZZERS += quote
fuzz_quote_SRCS = tests/fuzz/fuzz_quote.c $(LIBMEASURE_SRCS)
fuzz_quote_SEEDS := $(wildcard $(FIXTURES)/tdx/quotes/*.bin $(FIXTURES)/tdx/quotes/*.dat \
                     $(FIXTURES)/tdx/ccel/cos-113-tdx-quote.dat)
# Parsers of cocoon-measure's other inputs: the guest's RTMR3 log, etc/acpi/tables, VM.json.
FUZZERS += rtmr3 acpi vmjson
fuzz_rtmr3_SRCS = tests/fuzz/fuzz_rtmr3.c $(LIBMEASURE_SRCS)
fuzz_rtmr3_SEEDS := tests/fuzz/seeds/rtmr3.log
fuzz_acpi_SRCS = tests/fuzz/fuzz_acpi.c $(LIBMEASURE_SRCS)
# The fixture shapes all name their tables acpi_tables.bin: seed copies with distinct names.
FUZZ_ACPI_SEEDS := $(patsubst $(FIXTURES)/tdx/measure/%/acpi_tables.bin,build/cache/fuzz/acpi-%.bin,\
                     $(wildcard $(FIXTURES)/tdx/measure/*/acpi_tables.bin))
build/cache/fuzz/acpi-%.bin: $(FIXTURES)/tdx/measure/%/acpi_tables.bin
	@mkdir -p $(@D)
	cp $< $@
fuzz_acpi_SEEDS := $(FUZZ_ACPI_SEEDS)
fuzz-build: $(FUZZ_ACPI_SEEDS)
fuzz_vmjson_SRCS = tests/fuzz/fuzz_vmjson.c $(LIBMEASURE_SRCS)
fuzz_vmjson_SEEDS := tests/fuzz/seeds/vm.json
# The spec's .gitignore patterns and their matching (measure/predict/specignore.h).
FUZZERS += spec_ignore
fuzz_spec_ignore_SRCS = tests/fuzz/fuzz_spec_ignore.c $(LIBMEASURE_SRCS)
fuzz_spec_ignore_SEEDS := tests/fuzz/seeds/spec_gitignore.txt
# Command-line options of cocoon-measure and cocoon-launch (measure/core/opts.h).
FUZZERS += opts
fuzz_opts_SRCS = tests/fuzz/fuzz_opts.c $(LIBMEASURE_SRCS)
fuzz_opts_SEEDS := tests/fuzz/seeds/opts_argv.bin tests/fuzz/seeds/opts_head.bin tests/fuzz/seeds/opts_list.bin
# The one decimal parser and the one base64 reader (measure/core/util.h), against references.
FUZZERS += numbers
fuzz_numbers_SRCS = tests/fuzz/fuzz_numbers.c $(LIBMEASURE_SRCS)
fuzz_numbers_SEEDS := tests/fuzz/seeds/numbers_u64.txt tests/fuzz/seeds/numbers_b64.txt tests/fuzz/seeds/numbers_b64_spaces.txt
# The strict JSON reader under every JSON input of the tree (measure/core/json.h).
FUZZERS += json
fuzz_json_SRCS = tests/fuzz/fuzz_json.c $(LIBMEASURE_SRCS)
fuzz_json_SEEDS := tests/fuzz/seeds/vm.json tests/fuzz/seeds/init_spec.json tests/fuzz/seeds/ratls_config.json

# cocoon-ratls: every parser of peer-controlled bytes in guest/ratls (docs/ratls.md).
# Seeds that cannot be committed (certificates minted by the sim backend, the PoW vectors
# of the fixtures) are generated into $(RFUZZ_GEN) by the rules below (made by
# fuzz-build, so `make fuzz` copies them into the seed corpus).
# (The Makefile sets FUZZ_BIN after including the module.mk files: rule targets here
# spell its value, build/fuzz.)
RFUZZ_BIN := build/fuzz
RFUZZ_GEN := $(RFUZZ_BIN)/gen
RFUZZ_SIM := $(RFUZZ_BIN)/ratls_sim
# (The certificate verifier, measure/ratls/peer.c dcap.c cert.c, and pow.c are in $(LIBMEASURE_SRCS).)
RFUZZ_PROXY := guest/ratls/tls.c guest/ratls/peerinfo.c guest/ratls/log.c

FUZZERS += ratls_pow ratls_socks5 ratls_config ratls_peerinfo ratls_cert ratls_eventlog
fuzz_ratls_pow_SRCS = tests/fuzz/fuzz_ratls_pow.c $(LIBMEASURE_SRCS)
fuzz_ratls_pow_SEEDS = $(RFUZZ_GEN)/ratls_pow/*.bin
# The parser of the proxy's SOCKS5 requests (guest/ratls/socks5.h).
fuzz_ratls_socks5_SRCS = tests/fuzz/fuzz_ratls_socks5.c guest/ratls/socks5.c $(LIBMEASURE_SRCS)
fuzz_ratls_socks5_SEEDS = $(RFUZZ_GEN)/ratls_socks5/*.bin
fuzz_ratls_config_SRCS = tests/fuzz/fuzz_ratls_config.c guest/ratls/config.c guest/cmdline/cmdline.c \
	$(RFUZZ_PROXY) $(LIBMEASURE_SRCS)
fuzz_ratls_config_SEEDS := tests/fuzz/seeds/ratls_config.json tests/fuzz/seeds/ratls_config_flags.txt
fuzz_ratls_peerinfo_SRCS = tests/fuzz/fuzz_ratls_peerinfo.c guest/ratls/peerinfo.c $(LIBMEASURE_SRCS)
fuzz_ratls_peerinfo_SEEDS = $(RFUZZ_GEN)/ratls_peerinfo/*.bin
fuzz_ratls_cert_SRCS = tests/fuzz/fuzz_ratls_cert.c $(LIBMEASURE_SRCS)
# The GPU evidence extension (1.3.6.1.4.1.12345.3.2) read by policies with the key "gpu".
FUZZERS += ratls_gpuext
fuzz_ratls_gpuext_SRCS = tests/fuzz/fuzz_ratls_gpuext.c $(LIBMEASURE_SRCS)
fuzz_ratls_gpuext_SEEDS := tests/fuzz/seeds/ratls_gpuext.der
fuzz_ratls_cert_SEEDS = $(RFUZZ_GEN)/ratls_cert/*.der
fuzz_ratls_eventlog_SRCS = tests/fuzz/fuzz_ratls_eventlog.c guest/attest/simca.c $(LIBMEASURE_SRCS)
fuzz_ratls_eventlog_SEEDS := tests/fuzz/seeds/ratls_rtmr3.log

# (Prerequisites of fuzz-build itself: the Makefile's `.SECONDARY:` would not remake a
# missing order-only prerequisite of an up-to-date fuzzer.)
fuzz-build: $(patsubst %,$(RFUZZ_GEN)/ratls_%/.stamp,pow socks5 peerinfo cert)

# Challenge ‖ response of every solution and check of the Cocoon PoW vector.
$(RFUZZ_GEN)/ratls_pow/.stamp: $(FIXTURES)/pow/cocoon_pow_vector.json
	@rm -rf $(@D) && mkdir -p $(@D)
	jq -r '.salt_hex as $$s | (.solutions[], .checks[]) | "\(.difficulty_bits) \($$s) \(.response_hex)"' $< | \
	  { i=0; while read -r d s r; do i=$$((i + 1)); \
	    printf '91128e41%02x000000%s%s' "$$d" "$$s" "$$r" | xxd -r -p > $(@D)/vector_$$i.bin; done; }
	touch $@

# SOCKS5 CONNECT requests: IPv4, IPv6, numeric hosts sent as names (taken) and a named host
# (refused).
$(RFUZZ_GEN)/ratls_socks5/.stamp:
	@rm -rf $(@D) && mkdir -p $(@D)
	printf '050100017f0000012af8' | xxd -r -p > $(@D)/ipv4.bin
	printf '0501000400000000000000000000000000000001206c' | xxd -r -p > $(@D)/ipv6.bin
	printf '05010003%02x%s2af8' 8 "$$(printf 10.0.0.2 | xxd -p)" | xxd -r -p > $(@D)/host_numeric.bin
	printf '05010003%02x%s2af8' 3 "$$(printf ::1 | xxd -p)" | xxd -r -p > $(@D)/host_numeric6.bin
	printf '05010003%02x%s01bb' 14 "$$(printf worker.example | xxd -p)" | xxd -r -p > $(@D)/host_name.bin
	touch $@

# Peers: attested with IPv4 addresses, unattested with IPv6, a small output buffer.
$(RFUZZ_GEN)/ratls_peerinfo/.stamp:
	@rm -rf $(@D) && mkdir -p $(@D)
	{ printf '\x03\x00\x04\x01\x0a\x00\x00\x02'; head -c 12 /dev/zero; printf '\x2a\xf8\x01\x7f\x00\x00\x01'; \
	  head -c 12 /dev/zero; printf '\x2b\x4d'; seq 1000 | head -c 560; } > $(@D)/attested_v4.bin
	{ printf '\x02\x00\x04\x02\xfe\x80'; head -c 14 /dev/zero; printf '\x2a\xf8\x02\x00\x00'; head -c 13 /dev/zero; \
	  printf '\x01\x20\x6c'; seq 1000 | head -c 560; } > $(@D)/unattested_v6.bin
	{ printf '\x01\x80\x00\x03'; seq 2000 | head -c 620; } > $(@D)/small_buffer.bin
	touch $@

# Certificates: two attested by the sim backend (a fresh state directory, RTMR3 extended
# with the seed event log, which gen-cert embeds; one without the log), one with Cocoon's
# fake_tdx quote and one unattested self-signed Ed25519 certificate from the openssl CLI.
$(RFUZZ_GEN)/ratls_cert/.stamp: tests/fuzz/seeds/ratls_rtmr3.log | $(BIN)/cocoon-ratls $(BIN)/cocoon-sim
	@rm -rf $(@D) $(RFUZZ_SIM) && mkdir -p $(@D)/tmp
	$(BIN)/cocoon-sim --dir $(RFUZZ_SIM) init >/dev/null
	while read -r m; do $(BIN)/cocoon-sim --dir $(RFUZZ_SIM) extend-event "$$m" >/dev/null; done < $<
	COCOON_SIM_DIR=$(RFUZZ_SIM) $(BIN)/cocoon-ratls gen-cert --attest sim --out $(@D)/tmp --event-log $< >/dev/null
	openssl x509 -in $(@D)/tmp/cert.pem -outform DER -out $(@D)/attested_eventlog.der
	COCOON_SIM_DIR=$(RFUZZ_SIM) $(BIN)/cocoon-ratls gen-cert --attest sim --out $(@D)/tmp >/dev/null
	openssl x509 -in $(@D)/tmp/cert.pem -outform DER -out $(@D)/attested.der
	$(BIN)/cocoon-ratls gen-cert --attest fake_tdx --out $(@D)/tmp >/dev/null
	openssl x509 -in $(@D)/tmp/cert.pem -outform DER -out $(@D)/fake_tdx.der
	openssl req -x509 -newkey ed25519 -nodes -keyout $(@D)/tmp/key.pem -days 1 -outform DER \
	  -subj "/C=AE/ST=DUBAI/O=TDLib Development/OU=Security/CN=localhost" -out $(@D)/unattested.der 2>/dev/null
	rm -rf $(@D)/tmp
	touch $@
# jq and xxd generate the ratls seeds above (make fuzz-build).
DEPS_PACKAGES += jq xxd

# NVIDIA GPU evidence (measure/gpu/): the SPDM report parser, the opaque-data decoder, the RIM
# (SWID XML + XMLDSig) reader, the multi-GPU bundle reader. Report and opaque-data seeds are
# the binary forms of the hex fixtures (the opaque data of every fixture report starts at
# byte 3599: 37-byte request, 8-byte header, 64 x 55-byte blocks, 32-byte nonce, length).
GFUZZ_GEN := $(RFUZZ_GEN)/gpu
GFUZZ_REPORTS := nvtrust_sample_550/hopperAttestationReport.txt nvat_sample_535/hopperAttestationReport.txt \
	invalid_signature/hopperAttestationReportInvalidSignature.txt
FUZZERS += gpu_spdm gpu_opaque gpu_rim gpu_bundle
fuzz_gpu_spdm_SRCS = tests/fuzz/fuzz_gpu_spdm.c $(LIBMEASURE_SRCS)
fuzz_gpu_spdm_SEEDS = $(GFUZZ_GEN)/spdm/*.bin
fuzz_gpu_opaque_SRCS = tests/fuzz/fuzz_gpu_opaque.c $(LIBMEASURE_SRCS)
fuzz_gpu_opaque_SEEDS = $(GFUZZ_GEN)/opaque/*.bin
fuzz_gpu_rim_SRCS = tests/fuzz/fuzz_gpu_rim.c $(LIBMEASURE_SRCS)
fuzz_gpu_rim_SEEDS := $(wildcard $(FIXTURES)/gpu/rims/*.swidtag)
fuzz_gpu_bundle_SRCS = tests/fuzz/fuzz_gpu_bundle.c $(LIBMEASURE_SRCS)
fuzz_gpu_bundle_SEEDS := $(FIXTURES)/gpu/ppcie_8gpu/gpu_evidence.json
fuzz-build: $(GFUZZ_GEN)/.stamp
$(GFUZZ_GEN)/.stamp: $(addprefix $(FIXTURES)/gpu/,$(GFUZZ_REPORTS))
	@rm -rf $(@D) && mkdir -p $(@D)/spdm $(@D)/opaque
	i=0; for f in $^; do i=$$((i + 1)); tr -d ' \r\n' < $$f | xxd -r -p > $(@D)/spdm/report_$$i.bin; \
	  l=$$(xxd -s 3597 -l 2 -p $(@D)/spdm/report_$$i.bin); \
	  dd if=$(@D)/spdm/report_$$i.bin of=$(@D)/opaque/opaque_$$i.bin bs=1 skip=3599 \
	    count=$$((0x$$(echo $$l | cut -c3-4)$$(echo $$l | cut -c1-2))) status=none; done
	touch $@
# TPM quotes of the tpm backend (measure/tpm/quote.h): container, TPMS_ATTEST, verifier.
FUZZERS += tpm_quote
fuzz_tpm_quote_SRCS = tests/fuzz/fuzz_tpm_quote.c $(LIBMEASURE_SRCS)
fuzz_tpm_quote_SEEDS := tests/fuzz/seeds/tpm_quote.bin
