#!/usr/bin/env bash
# Boots to the supervisor and starts a test service from the spec: the service runs in the
# verified root (reads /etc/testfile), gets its environment from the spec, sees the RTMR3
# event log, and reads the model volume mounted read-only through dm-verity at /models/x.
# Without cocoon.debug, a service's stdout/stderr (here "quiet", like an engine logging
# prompts) never reach the host-visible console: they are in /run/cocoon/log/quiet.log,
# which the hello service reads back.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
make_model_volume x "$WORK/model.img"
# The secret is assembled at run time so it appears nowhere but in the service's output.
QUIET='s=SECRET; echo "quiet: prompt=$s-PROMPT-4242"; echo "quiet: stderr=$s-ERR-4242" >&2; exec sleep 1000'
READ_QUIET='exec >/dev/console 2>&1; l=/run/cocoon/log/quiet.log; i=0;
while [ $i -lt 60 ] && ! grep -q "ERR-4242" $l 2>/dev/null; do sleep 1; i=$((i+1)); done;
grep -q "^quiet: prompt=SECRET-PROMPT-4242$" $l && grep -q "^quiet: stderr=SECRET-ERR-4242$" $l &&
echo "svc: quiet.log=stdout+stderr"; set -- $(ls -ld /run/cocoon/log); echo "svc: logdir=$1";
set -- $(ls -l $l); echo "svc: logfile=$1"'
write_spec "$WORK/spec" "{\"version\": 1,
  \"models\": [{\"name\": \"x\", \"roothash\": \"$MODEL_HASH\", \"data_blocks\": $MODEL_BLOCKS}],
  \"services\": [{\"name\": \"quiet\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$QUIET")], \"restart\": \"no\"},
                {\"name\": \"hello\", \"after\": [\"quiet\"],
                 \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$READ_QUIET; $SVC_REPORT; exec sleep 1000")],
                 \"env\": [\"GREETING=from-the-spec\"], \"restart\": \"no\"}]}"
vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline)" \
    --disk "root=$WORK/root.img:ro" --disk "model-x=$WORK/model.img:ro" --spec "$WORK/spec"
console_lacks "$FATAL_RE"
console_has "^cocoon-init: volume model-x: mounted \\(verity $MODEL_HASH\\)"
console_has '^cocoon-init: supervisor: 2 service'
console_has '^cocoon-init: service hello started'
console_has '^cocoon-init: service quiet started'
console_has '^svc: root=cocoon-test-root$' "service runs in the verified root"
console_has '^svc: env=from-the-spec$' "service environment from the spec"
console_has '^svc: model=model-x-weights$' "model volume readable at /models/x"
console_has '^svc: rtmr3.log cocoon:spec.tree=[0-9a-f]{64}$'
console_has '^svc: rtmr3.log cocoon:tdx_inited$'
console_has '^svc: quiet.log=stdout\+stderr$' "service output kept in /run/cocoon/log/quiet.log"
console_has '^svc: logdir=drwx------$' "log directory 0700"
console_has '^svc: logfile=-rw-------$' "log file 0600"
console_lacks 'SECRET-(PROMPT|ERR)-4242' "non-debug service output on the console"
console_has '^cocoon-init: service output: /run/cocoon/log/<service>.log \([0-9]+ bytes \+ one rotated file each\)$'
console_has '^cocoon-init: shutdown complete'
pass "service started from the spec in the verified root, model volume mounted, output kept off the console"
