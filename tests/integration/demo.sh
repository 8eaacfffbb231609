#!/usr/bin/env bash
# make demo: boot the appliance under QEMU TCG (cocoon.attest=sim, cocoon.debug) with a
# verified root, a model volume, a persistent volume kept in $BUILD/demo (formatted on the
# first run, reopened on later runs) and a spec with one service; press the power button
# once the service is up; print RTMR3 (and cocoon-measure's prediction), the verified root
# hash and the state of each volume.
source "$(dirname "$0")/lib.sh"
require_appliance
DEMO=$BUILD/demo
mkdir -p "$DEMO"
make_appliance_root "$WORK/root.img"
make_model_volume x "$WORK/model.img"
[ -f "$DEMO/persistent.img" ] || truncate -s 64M "$DEMO/persistent.img"
SVC='echo "svc: hello from the verified root ($(cat /etc/testfile))";
echo "svc: model x: $(cat /models/x/weights.txt)";
n=$(cat /data/boots 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /data/boots; sync;
echo "svc: persistent /data: boot number $n"; echo "svc: ready"; exec sleep 1000'
write_spec "$WORK/spec" "{\"version\": 1, \"persistent\": {\"mount\": \"/data\"},
  \"models\": [{\"name\": \"x\", \"roothash\": \"$MODEL_HASH\", \"data_blocks\": $MODEL_BLOCKS}],
  \"services\": [{\"name\": \"demo\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC")], \"restart\": \"no\"}]}"
echo "demo: booting kernel $KVER with $INITRD (QEMU TCG); console: $DEMO/console.log"
vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug)" \
    --disk "root=$WORK/root.img:ro" --disk "persistent=$DEMO/persistent.img" \
    --disk "model-x=$WORK/model.img:ro" --spec "$WORK/spec"
cp "$CONSOLE" "$DEMO/console.log"
console_text | grep -E '^(cocoon-init|svc): '
console_lacks "$FATAL_RE"
predicted=""
if [ -x "$BIN/cocoon-measure" ] && "$BIN/cocoon-measure" spec "$WORK/spec" --debug --json > "$WORK/p.json" 2>/dev/null; then
    predicted=$(grep -oE '"rtmr3": *"[0-9a-f]{96}"' "$WORK/p.json" | head -n1 | grep -oE '[0-9a-f]{96}')
fi
echo
echo "== demo summary"
echo "RTMR3 (sim backend):        $(console_rtmr3)"
[ -z "$predicted" ] || echo "RTMR3 (cocoon-measure spec): $predicted"
echo "verified root hash:         $(console_text | sed -n 's/^cocoon-init: root verified //p')"
console_text | sed -n 's/^cocoon-init: volume \([^:]*\): \(.*\)/volume \1: \2/p'
console_text | sed -n 's/^svc: persistent \/data: /volume persistent contents: /p'
