#!/usr/bin/env bash
# With the debug key, a persistent LUKS2 volume whose header was tampered with after the
# first boot (one byte of the keyslot area's JSON metadata changed) halts the next boot
# before the key is used, and the disk is left byte-identical.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
truncate -s 64M "$WORK/persistent.img"
write_spec "$WORK/spec" '{"version": 1, "persistent": {"mount": "/data"},
  "services": [{"name": "idle", "argv": ["/bin/sh", "-c", "echo svc: ready; exec sleep 1000"], "restart": "no"}]}'
vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug)" \
    --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" --spec "$WORK/spec"
console_has '^cocoon-init: volume persistent: formatted'
# LUKS2 JSON area starts at 4096 (primary header); change the first "aes" to "bes".
off=$(grep -abo -m1 '"aes-' "$WORK/persistent.img" | head -n1 | cut -d: -f1) || fail "cannot search the LUKS2 header"
[[ "$off" =~ ^[0-9]+$ ]] || fail "no cipher name in the LUKS2 JSON area (got '$off')"
printf 'b' | dd of="$WORK/persistent.img" bs=1 seek=$((off + 1)) conv=notrunc status=none
before=$(sha256 "$WORK/persistent.img")
vm_run --initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug)" \
    --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" --spec "$WORK/spec"
console_has '^cocoon-init: FATAL persistent: ' "refuses the tampered header"
console_lacks 'switched to the verified root'
after=$(sha256 "$WORK/persistent.img")
[ "$before" = "$after" ] || fail "the tampered disk was modified ($before -> $after)"
pass "tampered LUKS2 header halts, disk byte-identical: $(console_text | grep -E "$FATAL_RE" | cut -c1-160)"
