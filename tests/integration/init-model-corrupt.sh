#!/usr/bin/env bash
# One flipped byte in a model volume block that boot reads (erofs superblock, block 0):
# the model's dm-verity mapping reports the corrupted block and the boot stops before the
# services start.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
make_model_volume x "$WORK/model.img"
write_spec "$WORK/spec" "{\"version\": 1,
  \"models\": [{\"name\": \"x\", \"roothash\": \"$MODEL_HASH\", \"data_blocks\": $MODEL_BLOCKS}]}"
boot_flipped_model "$WORK/model.img" "$WORK/spec" "dm-verity reports the model block"
console_lacks '^cocoon-init: supervisor:'
pass "corrupted model block halts: $(console_text | grep -m1 -E 'verity: .*corrupted')"
