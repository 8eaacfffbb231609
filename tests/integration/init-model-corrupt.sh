#!/usr/bin/env bash
# One flipped byte in a model volume block that boot reads (erofs superblock, block 0):
# the model's dm-verity mapping reports the corrupted block and the boot stops before the
# services start.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
make_model_volume x "$WORK/model.img"
flip_byte "$WORK/model.img" 1100
write_spec "$WORK/spec" "{\"version\": 1,
  \"models\": [{\"name\": \"x\", \"roothash\": \"$MODEL_HASH\", \"data_blocks\": $MODEL_BLOCKS}]}"
vm_run --initrd "$INITRD" --append "$(appliance_cmdline)" \
    --disk "root=$WORK/root.img:ro" --disk "model-x=$WORK/model.img:ro" --spec "$WORK/spec"
console_has 'device-mapper: verity: .*data block 0 is corrupted' "dm-verity reports the model block"
console_lacks '^cocoon-init: volume model-x: mounted'
console_lacks '^cocoon-init: supervisor:'
pass "corrupted model block halts: $(console_text | grep -m1 -E 'verity: .*corrupted')"
