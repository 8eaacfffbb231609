#!/usr/bin/env bash
# One flipped byte in a rootfs data block that boot reads (the erofs superblock, block 0):
# the hash tree and root hash still match, so activation succeeds, and the first read of
# the block fails dm-verity verification; the root was opened with panic-on-corruption, so
# the boot stops there (the verified root is never switched to).
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" '{"version": 1}'
flip_byte "$WORK/root.img" 1100   # inside the erofs superblock (offset 1024..1151)
vm_run --initrd "$INITRD" --append "$(appliance_cmdline)" --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
console_has 'device-mapper: verity: .*data block 0 is corrupted' "dm-verity reports the block"
console_lacks 'switched to the verified root'
console_lacks 'cocoon-init: supervisor:'
pass "corrupted root block halts: $(console_text | grep -m1 -E 'verity: .*corrupted')"
