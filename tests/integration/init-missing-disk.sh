#!/usr/bin/env bash
# cocoon-init halts with a message naming the disk that never appeared (no "root" disk).
IT_PLAIN_QEMU=1  # no root disk: the launcher would always attach one
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" '{"version": 1}'
DISK_TIMEOUT=3
vm_run --initrd "$INITRD" --append "$(appliance_cmdline)" --spec "$WORK/spec"
console_has "${FATAL_RE}" "one FATAL line"
console_has '^cocoon-init: FATAL disks: .*"root"' "names the missing root disk"
[ "$(console_text | grep -cE "$FATAL_RE")" = 1 ] || fail "expected exactly one FATAL line"
console_lacks 'switched to the verified root'
pass "missing root disk halts: $(console_text | grep -E "$FATAL_RE")"
