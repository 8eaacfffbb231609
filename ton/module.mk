# libton: TON cells, bags of cells, dictionaries, addresses and the Cocoon root contract's
# messages and state (ton/ton.h, ton/cocoon.h; docs/publishing.md). Depends on libmeasure
# (struct cm_err, SHA-256) and OpenSSL (base64).
TON_SRCS := $(sort $(wildcard ton/*.c))
LIBTON := $(call lib,ton)
$(eval $(call static_lib,ton,$(TON_SRCS)))

# libFuzzer targets: the BoC reader (with the state parser and dictionary walks on what
# it accepts) and the address parser, seeded from the fixture's vectors.
FUZZERS += ton_boc ton_addr
fuzz_ton_boc_SRCS = tests/fuzz/fuzz_ton_boc.c $(TON_SRCS) $(LIBMEASURE_SRCS)
fuzz_ton_boc_SEEDS = $(TON_FUZZ_GEN)/boc/*.boc
fuzz_ton_addr_SRCS = tests/fuzz/fuzz_ton_addr.c $(TON_SRCS) $(LIBMEASURE_SRCS)
fuzz_ton_addr_SEEDS = $(TON_FUZZ_GEN)/addr/*.txt
TON_FUZZ_GEN := build/fuzz/gen/ton
TON_VECTORS := $(FIXTURES)/ton/ton_vectors.json

# Seeds: every BoC and every address of the fixture, one file each.
fuzz-build: $(TON_FUZZ_GEN)/.stamp
TON_ADDR_KEYS := .key == "raw" or (.key | endswith("_urlsafe")) or (.key | endswith("_std_base64"))
$(TON_FUZZ_GEN)/.stamp: $(TON_VECTORS)
	@rm -rf $(@D) && mkdir -p $(@D)/boc $(@D)/addr
	set -o pipefail; jq -r '[.. | objects | to_entries[] | select(.key | startswith("boc_hex")) | .value] | unique | .[]' $< | \
	  { i=0; while read -r h; do i=$$((i + 1)); printf '%s' "$$h" | xxd -r -p > $(@D)/boc/v$$i.boc; done; }
	set -o pipefail; jq -r '[.vectors[] | objects | to_entries[] | select($(TON_ADDR_KEYS)) | .value] | unique | .[]' $< | \
	  { i=0; while read -r a; do i=$$((i + 1)); printf '%s' "$$a" > $(@D)/addr/a$$i.txt; done; }
	touch $@

# test_ton_cells also runs cocoon-launch's publish and registry commands (host-launcher/cli/
# cmd_publish.c, cmd_registry.c) in-process on files it builds; its publish --image case boots
# nothing but measures the pinned guest kernel (as test_measure_pe and test_measure_predict).
TON_LAUNCH_OBJS := $(OBJ)/host-launcher/cli/cmd_publish.o $(OBJ)/host-launcher/cli/cmd_registry.o \
	$(OBJ)/host-launcher/cli/common.o
test_ton_cells_DEPS := $(TON_LAUNCH_OBJS) $(call lib,launch) $(LIBTON)
$(TESTBIN)/test_ton_cells: | $(MEASURE_KERNEL)
