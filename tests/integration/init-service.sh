#!/usr/bin/env bash
# Boots to the supervisor and starts a test service from the spec: the service runs in the
# verified root (reads /etc/testfile), gets its environment from the spec, sees the RTMR3
# event log, and reads the model volume mounted read-only through dm-verity at /models/x.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
make_model_volume x "$WORK/model.img"
write_spec "$WORK/spec" "{\"version\": 1,
  \"models\": [{\"name\": \"x\", \"roothash\": \"$MODEL_HASH\", \"data_blocks\": $MODEL_BLOCKS}],
  \"services\": [{\"name\": \"hello\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_REPORT; exec sleep 1000")],
                 \"env\": [\"GREETING=from-the-spec\"], \"restart\": \"no\"}]}"
vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline)" \
    --disk "root=$WORK/root.img:ro" --disk "model-x=$WORK/model.img:ro" --spec "$WORK/spec"
console_lacks "$FATAL_RE"
console_has "^cocoon-init: volume model-x: mounted \\(verity $MODEL_HASH\\)"
console_has '^cocoon-init: supervisor: 1 service'
console_has '^cocoon-init: service hello started'
console_has '^svc: root=cocoon-test-root$' "service runs in the verified root"
console_has '^svc: env=from-the-spec$' "service environment from the spec"
console_has '^svc: model=model-x-weights$' "model volume readable at /models/x"
console_has '^svc: rtmr3.log cocoon:spec.tree=[0-9a-f]{64}$'
console_has '^svc: rtmr3.log cocoon:tdx_inited$'
console_has '^cocoon-init: shutdown complete'
pass "service started from the spec in the verified root, model volume mounted"
