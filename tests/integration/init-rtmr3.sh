#!/usr/bin/env bash
# RTMR3 of the sim backend after boot equals `cocoon-measure spec`'s prediction for the spec
# directory, and the guest's event log (/run/cocoon/rtmr3.log, printed by the test service)
# replays to the same value (`cocoon-measure spec DIR --log FILE`). The spec has a Cocoon-style
# .gitignore: the guest copy leaves out what it ignores and keeps runtime/.
source "$(dirname "$0")/lib.sh"
require_appliance
need_file "$BIN/cocoon-measure" "built by make"
make_appliance_root "$WORK/root.img"
# What the guest's copy holds: .gitignore files and what they ignore are left out, runtime/ is not.
SPEC_CHECK='for f in .gitignore app/debug.log build app/runtime; do [ -e /run/spec/$f ] && echo "svc: copied-ignored $f"; done;
[ -f /run/spec/runtime/vars ] && echo "svc: runtime-copied"; [ -f /run/spec/app/config.txt ] && echo "svc: measured-copied"'
write_spec "$WORK/spec" "{\"version\": 1,
  \"services\": [{\"name\": \"report\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_REPORT; $SPEC_CHECK; exec sleep 1000")],
                 \"restart\": \"no\"}]}"
mkdir -p "$WORK/spec/app"
echo "some measured configuration" > "$WORK/spec/app/config.txt"
mkdir -p "$WORK/spec/runtime"
echo "not measured" > "$WORK/spec/runtime/vars"
# A Cocoon-style spec (its stock directories carry a .gitignore of "runtime"), plus patterns
# that ignore a file and a directory: measured and copied as cocoon-prepare-spec would.
printf 'runtime\n*.log\nbuild/\n' > "$WORK/spec/.gitignore"
echo "ignored" > "$WORK/spec/app/debug.log"
mkdir -p "$WORK/spec/build" "$WORK/spec/app/runtime"
echo "ignored" > "$WORK/spec/build/out"
echo "ignored at any depth" > "$WORK/spec/app/runtime/state"
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
wait_console "svc: measured-copied" 30
console_has "svc: runtime-copied" "runtime/ is copied as is"
console_lacks "svc: copied-ignored" "the copy leaves out .gitignore files and what they ignore"
pass "sim RTMR3 $guest = cocoon-measure spec prediction; event log replays to it; the copy follows .gitignore"
