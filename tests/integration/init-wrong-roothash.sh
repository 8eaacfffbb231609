#!/usr/bin/env bash
# cocoon-init refuses a root whose hash tree does not match cocoon.roothash, naming it.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" '{"version": 1}'
good=$ROOT_HASH
# Same image, root hash with its last digit changed.
last=${good: -1}
ROOT_HASH=${good:0:63}$([ "$last" = 0 ] && echo 1 || echo 0)
vm_run --initrd "$INITRD" --append "$(appliance_cmdline)" --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
console_has '^cocoon-init: FATAL root: .*root hash' "names the root hash"
[ "$(console_text | grep -cE "$FATAL_RE")" = 1 ] || fail "expected exactly one FATAL line"
console_lacks 'switched to the verified root'
pass "wrong root hash halts: $(console_text | grep -E "$FATAL_RE")"
