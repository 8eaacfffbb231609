#!/usr/bin/env bash
# Boot step 7 (docs/boot.md "GPU verification"): only the measured spec decides.
# 1. A spec with "gpu": "required" on this initrd (no NVIDIA modules, no GPU) halts at the
#    GPU step naming the check, before any key or volume, and extends no GPU event.
# 2. A spec without a GPU boots although the command line says cocoon.gpu=required: the key
#    is ignored (a line says so), no GPU module is loaded, and RTMR3 is the prediction of
#    `cocoon-measure spec`, which has no cocoon:gpu_verified for this spec.
source "$(dirname "$0")/lib.sh"
require_appliance
need_file "$BIN/cocoon-measure" "built by make"
make_appliance_root "$WORK/root.img"

write_spec "$WORK/gpu" "{\"version\": 1, \"gpu\": \"required\",
  \"services\": [{\"name\": \"report\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_REPORT; exec sleep 1000")],
                 \"restart\": \"no\"}]}"
vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline)" \
    --disk "root=$WORK/root.img:ro" --spec "$WORK/gpu"
console_has '^cocoon-init: FATAL gpu: gpu_modules: module nvidia' "the GPU step halts naming the missing module"
[ "$(console_text | grep -cE "$FATAL_RE")" = 1 ] || fail "expected exactly one FATAL line"
console_lacks 'cocoon:gpu_verified' "no GPU event without a verified GPU"
console_lacks 'key provider|switched to the verified root|^svc: ready' "nothing after the GPU step"
"$BIN/cocoon-measure" spec "$WORK/gpu" --json > "$WORK/gpu.json" || fail "cocoon-measure spec failed"
jq -e '[.events[].event] | index("cocoon:gpu_verified") == 1' "$WORK/gpu.json" > /dev/null ||
    fail "the prediction for a GPU spec lacks cocoon:gpu_verified after spec.tree: $(cat "$WORK/gpu.json")"
first=$(console_text | grep -E "$FATAL_RE")

write_spec "$WORK/nogpu" "{\"version\": 1, \"gpu\": \"off\",
  \"services\": [{\"name\": \"report\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_REPORT; exec sleep 1000")],
                 \"restart\": \"no\"}]}"
vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline cocoon.gpu=required)" \
    --disk "root=$WORK/root.img:ro" --spec "$WORK/nogpu"
console_lacks "$FATAL_RE"
console_has '^cocoon-init: gpu: cocoon.gpu=required on the command line ignored: the measured spec says "off"'
console_has '^cocoon-init: gpu: not required by the spec \(GPU modules not loaded\)'
console_has '^svc: ready'
guest=$(console_rtmr3)
"$BIN/cocoon-measure" spec "$WORK/nogpu" --json > "$WORK/nogpu.json" || fail "cocoon-measure spec failed"
predicted=$(jq_get "$WORK/nogpu.json" .rtmr3)
[ "$guest" = "$predicted" ] || fail "guest RTMR3 $guest != predicted $predicted"
jq -e '[.events[].event] | index("cocoon:gpu_verified") == null' "$WORK/nogpu.json" > /dev/null ||
    fail "the prediction for a spec without a GPU has cocoon:gpu_verified"
pass "GPU spec halts ($first); cmdline cocoon.gpu=required ignored, RTMR3 $guest = prediction"
