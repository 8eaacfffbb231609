#!/usr/bin/env bash
# RTMR3 of the sim backend after boot equals `cocoon-measure spec`'s prediction for the spec
# directory, and the guest's event log (/run/cocoon/rtmr3.log, printed by the test service)
# replays to the same value (`cocoon-measure spec DIR --log FILE`).
source "$(dirname "$0")/lib.sh"
require_appliance
need_file "$BIN/cocoon-measure" "built by make"
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" "{\"version\": 1,
  \"services\": [{\"name\": \"report\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_REPORT; exec sleep 1000")],
                 \"restart\": \"no\"}]}"
mkdir -p "$WORK/spec/app"
echo "some measured configuration" > "$WORK/spec/app/config.txt"
mkdir -p "$WORK/spec/runtime"
echo "not measured" > "$WORK/spec/runtime/vars"
vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline)" \
    --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
console_lacks "$FATAL_RE"
guest=$(console_rtmr3)
[[ "$guest" =~ ^[0-9a-f]{96}$ ]] || fail "cocoon-init logged no RTMR3 value (got '$guest')"
"$BIN/cocoon-measure" spec "$WORK/spec" --json > "$WORK/predict.json" || fail "cocoon-measure spec failed"
predicted=$(jq_get "$WORK/predict.json" .rtmr3)
[[ "$predicted" =~ ^[0-9a-f]{96}$ ]] || fail "no rtmr3 in cocoon-measure spec output: $(cat "$WORK/predict.json")"
[ "$guest" = "$predicted" ] || fail "guest RTMR3 $guest != predicted $predicted"
console_text | sed -n 's/^svc: rtmr3.log //p' > "$WORK/rtmr3.log"
[ -s "$WORK/rtmr3.log" ] || fail "the service printed no event log"
"$BIN/cocoon-measure" spec "$WORK/spec" --log "$WORK/rtmr3.log" > "$WORK/replay.out" ||
    fail "the guest's event log does not replay to the prediction: $(cat "$WORK/replay.out")"
pass "sim RTMR3 $guest = cocoon-measure spec prediction; event log replays to it"
