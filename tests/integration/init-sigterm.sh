#!/usr/bin/env bash
# SIGTERM to PID 1 (sent here by a service) gives the same orderly shutdown as the power
# button: services stopped, sync, power-off.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" '{"version": 1,
  "services": [{"name": "stopper", "argv": ["/bin/sh", "-c", "echo svc: ready >/dev/console; sleep 1; kill -TERM 1; exec sleep 1000"],
                "restart": "no"}]}'
vm_run --initrd "$INITRD" --append "$(appliance_cmdline)" --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
console_has '^svc: ready'
console_has '^cocoon-init: shutdown: SIGTERM'
console_has '^cocoon-init: shutdown complete'
console_lacks "$FATAL_RE"
pass "SIGTERM: orderly shutdown, VM powered off"
