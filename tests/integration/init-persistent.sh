#!/usr/bin/env bash
# First boot formats the blank persistent disk (LUKS2 + ext4, debug key provider), a
# service writes a file; the second boot with the same spec reopens the volume and finds it.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
truncate -s 64M "$WORK/persistent.img"
write_marker_spec "$WORK/spec"
boot() {
    vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug)" \
        --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" --spec "$WORK/spec"
    console_lacks "$FATAL_RE"
    console_has '^cocoon-init: shutdown: volume persistent closed'
}
boot
console_has '^cocoon-init: volume persistent: formatted'
console_has '^svc: wrote marker'
[ "$(head -c 4 "$WORK/persistent.img")" = LUKS ] || fail "the persistent disk has no LUKS header"
if grep -q 'written-by-boot-1' "$WORK/persistent.img"; then fail "the marker is in plaintext on the disk"; fi
cp "$CONSOLE" "$WORK/console-boot1.log"
boot
console_has '^cocoon-init: volume persistent: opened'
console_lacks '^cocoon-init: volume persistent: formatted'
console_has '^svc: found written-by-boot-1$' "second boot reads the first boot's file"
pass "blank disk formatted (LUKS2, encrypted), reopened on the second boot with the file intact"
