#!/usr/bin/env bash
# cocoon.debug: a FATAL starts the debug shell only after RTMR3 <- "cocoon:debug_shell", and
# the logged RTMR3 is the replay of the boot's events followed by that one. The initrd here
# has a shell (/bin/sh = busybox), the appliance's has none; the FATAL comes from an invalid
# cocoon.json after `cocoon:spec.tree` was extended. The shell waits on a console without
# input, so the test stops QEMU itself.
IT_PLAIN_QEMU=1  # plain QEMU under `timeout`: killing it stops the VM the shell holds up
source "$(dirname "$0")/lib.sh"
require_appliance
need_file "$BIN/cocoon-measure" "built by make"
bb=$(command -v busybox) || fail "busybox not found (make deps installs busybox-static)"
echo "file bin/sh $bb 0755" > "$WORK/shell.list"
make_initrd "$WORK/initrd.img" guest/init/modules.list --elf "init=$BIN/cocoon-init" \
    initrd/initrd.list "$WORK/shell.list"
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" '{"version": 99}'
vm_start --initrd "$WORK/initrd.img" --append "$(appliance_cmdline cocoon.debug)" \
    --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
wait_console '^cocoon-init: cocoon.debug: (starting a|no) debug shell' 150
kill "$VM_PID" 2>/dev/null || true
wait "$VM_PID" 2>/dev/null || true
VM_PID=
console_has "${FATAL_RE}" "the FATAL that asks for the shell"
console_has '^cocoon-init: FATAL spec: ' "the spec is refused"
console_has '^cocoon-init: rtmr3 extend "cocoon:debug_shell"$' "the shell is measured"
console_has '^cocoon-init: cocoon.debug: starting a debug shell' "then the shell starts"
# Order: extend, then shell.
console_text | grep -E '^cocoon-init: (rtmr3 extend "cocoon:debug_shell"|cocoon.debug: starting)' |
    head -n1 | grep -q 'rtmr3 extend' || fail "the shell started before the extend"
guest=$(console_rtmr3)
"$BIN/cocoon-measure" spec "$WORK/spec" --json > "$WORK/predict.json" || fail "cocoon-measure spec failed"
tree=$(grep -oE '"spec_tree": *"[0-9a-f]{64}"' "$WORK/predict.json" | grep -oE '[0-9a-f]{64}')
[ -n "$tree" ] || fail "no spec_tree in cocoon-measure spec output"
printf 'cocoon:spec.tree=%s\ncocoon:debug_shell\n' "$tree" > "$WORK/expected.log"
want=$(python3 -c '
import hashlib, sys
r = bytes(48)
for m in open(sys.argv[1]).read().splitlines():
    r = hashlib.sha384(r + hashlib.sha384(m.encode()).digest()).digest()
print(r.hex())' "$WORK/expected.log") || fail "replay failed"
[ "$guest" = "$want" ] || fail "RTMR3 after the debug shell event $guest != replay $want"
pass "debug shell measured first: RTMR3 $guest = replay(spec.tree, cocoon:debug_shell)"
