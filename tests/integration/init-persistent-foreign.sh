#!/usr/bin/env bash
# A persistent disk that is neither blank nor LUKS2 (an ext4 filesystem made on the host)
# halts the boot with a FATAL persistent line and is left byte-identical.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
truncate -s 64M "$WORK/persistent.img"
mkfs.ext4 -q -F -E root_owner=0:0 -U 8a7b6c5d-0000-4000-8000-000000000002 "$WORK/persistent.img" >/dev/null ||
    fail "mkfs.ext4 on the host failed"
before=$(sha256 "$WORK/persistent.img")
write_spec "$WORK/spec" '{"version": 1, "persistent": {"mount": "/data"}}'
vm_run --initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug)" \
    --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" --spec "$WORK/spec"
console_has '^cocoon-init: FATAL persistent: .*not blank' "refuses the foreign disk"
[ "$(console_text | grep -cE "$FATAL_RE")" = 1 ] || fail "expected exactly one FATAL line"
console_lacks 'switched to the verified root'
after=$(sha256 "$WORK/persistent.img")
[ "$before" = "$after" ] || fail "the foreign disk was modified ($before -> $after)"
pass "foreign (ext4) persistent disk halts and stays byte-identical: $(console_text | grep -E "$FATAL_RE" | cut -c1-160)"
