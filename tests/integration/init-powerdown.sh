#!/usr/bin/env bash
# The ACPI power button (QEMU monitor system_powerdown) gives an orderly shutdown: the
# supervisor logs the reason, stops services, syncs, and the VM powers off by itself.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" '{"version": 1}'
vm_start --monitor --initrd "$INITRD" --append "$(appliance_cmdline)" \
    --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
wait_console '^cocoon-init: supervisor: ' 90
console_has '^cocoon-init: power button: /dev/input/' "the supervisor watches the ACPI power button"
sleep 1
vm_monitor system_powerdown
vm_wait
console_has '^cocoon-init: shutdown: power button'
console_has '^cocoon-init: shutdown complete'
console_lacks "$FATAL_RE"
pass "power button: orderly shutdown, VM powered off"
