#!/usr/bin/env bash
# The status channel (guest/init/status.h) against a booted appliance, through the path the
# launcher attaches: the virtio-serial port "org.cocoon.status" whose host end is the unix
# socket run_dir/status.sock (this host has no /dev/vhost-vsock, so the vsock listener of the
# same service is not exercised here).
#  1. A running appliance: `cocoon-launch status --json` reports phase running, every boot
#     step with its time, RTMR3 and the image hash as the console logged them, the RTMR3
#     event log, service states and restarts, the GPU summary from /run/cocoon/gpu.json,
#     the collateral age, cocoon-init's log tail, and none of the services' output.
#     Hostile input (an overlong line, an unknown command) gets an error answer and the
#     channel keeps serving.
#  2. A boot stuck waiting for a model disk: status says booting at step "models", and
#     `run --supervise --stuck-timeout` stops and restarts it with backoff, then gives up
#     (--max-restarts 1).
source "$(dirname "$0")/lib.sh"
require_appliance
command -v socat >/dev/null || fail "socat not found (make deps)"
make_appliance_root "$WORK/root.img"
CONF=$WORK/vm/node.conf
SOCK=$WORK/vm/run/status.sock

NOISY='echo "noisy: SECRET-REQUEST-4242"; echo "{\"verified\": true, \"gpus\": 1}" > /run/cocoon/gpu.json;
echo "{\"version\": 1}" > /run/cocoon/collateral-state.json; echo "svc: ready" > /dev/console; exec sleep 1000'
write_spec "$WORK/spec" "{\"version\": 1,
  \"services\": [{\"name\": \"noisy\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$NOISY")], \"restart\": \"no\"},
                {\"name\": \"flaky\", \"argv\": [\"/bin/sh\", \"-c\", \"exit 3\"], \"restart\": \"on-failure\",
                 \"backoff_ms\": 500}]}"
vm_start --initrd "$INITRD" --append "$(appliance_cmdline)" --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
wait_console '^svc: ready|^cocoon-init: FATAL' 150
console_lacks "$FATAL_RE"
wait_console '^cocoon-init: service flaky exited with status 3; restart' 30
sleep 2   # at least one restart of flaky

"$BIN/cocoon-launch" status "$CONF" --json > "$WORK/st.json" 2> "$WORK/st.err" ||
    fail "cocoon-launch status failed: $(cat "$WORK/st.err")"
J=$WORK/st.json
jq -e '.phase == "running" and .step == "services" and (.nonce | length) == 16' "$J" >/dev/null ||
    fail "status: not running at step services: $(jq -c '{phase, step, nonce}' "$J")"
want_rtmr3=$(console_rtmr3)
[ "$(jq -r .rtmr3 "$J")" = "$want_rtmr3" ] || fail "status rtmr3 $(jq -r .rtmr3 "$J") != console $want_rtmr3"
want_hash=$(console_text | sed -n 's/^cocoon-init: image hash \([0-9a-f]\{64\}\)$/\1/p' | tail -n1)
[ -n "$want_hash" ] || fail "the console has no 'image hash' line"
[ "$(jq -r .image_hash "$J")" = "$want_hash" ] || fail "status image_hash differs from the console's $want_hash"
jq -e '[.event_log[] | select(test("^cocoon:spec.tree=[0-9a-f]{64}$"))] | length == 1' "$J" >/dev/null ||
    fail "status event_log lacks spec.tree: $(jq -c .event_log "$J")"
jq -e '.event_log | index("cocoon:tdx_inited") != null' "$J" >/dev/null || fail "status event_log lacks tdx_inited"
jq -e '[.steps[].name] as $n | ["init", "cmdline", "modules", "disks", "root", "spec", "attest",
       "spec-measure", "gpu", "network", "keys", "persistent", "models", "switch_root", "services"] == $n' "$J" \
    >/dev/null || fail "status steps: $(jq -c '[.steps[].name]' "$J")"
jq -e '[.steps[].t_ms] as $t | ($t | sort) == $t and $t[0] > 0 and .services_started_ms >= $t[-1]' "$J" >/dev/null ||
    fail "step times not increasing: $(jq -c '[.steps[].t_ms], .services_started_ms' "$J")"
jq -e '.services[0] | .name == "noisy" and .state == "running" and .pid > 0 and .restarts == 0' "$J" >/dev/null ||
    fail "status service noisy: $(jq -c '.services[0]' "$J")"
jq -e '.services[1] | .name == "flaky" and .restarts >= 1 and .last_exit == "exited with status 3"' "$J" >/dev/null ||
    fail "status service flaky: $(jq -c '.services[1]' "$J")"
jq -e '.gpu == {"verified": true, "gpus": 1}' "$J" >/dev/null || fail "status gpu: $(jq -c .gpu "$J")"
jq -e '.collateral.path == "/run/cocoon/collateral-state.json" and .collateral.state.version == 1 and .collateral.age_s >= 0 and .collateral.age_s < 600' \
    "$J" >/dev/null || fail "status collateral: $(jq -c .collateral "$J")"
jq -e '.log_tail | map(select(test("^services started at [0-9]+ ms"))) | length == 1' "$J" >/dev/null ||
    fail "status log_tail lacks 'services started': $(jq -c '.log_tail[-5:]' "$J")"
if grep -q 'SECRET-REQUEST-4242' "$J"; then fail "the status answer carries a service's output"; fi
pass "status --json: running, steps, RTMR3, image hash, event log, services, gpu, collateral, log tail; no service output"

"$BIN/cocoon-launch" status "$CONF" > "$WORK/st.txt" 2> "$WORK/st.err" ||
    fail "cocoon-launch status (text) failed: $(cat "$WORK/st.err")"
grep -qE '^phase +running \(step services\)$' "$WORK/st.txt" || fail "status text: $(head -3 "$WORK/st.txt")"
grep -qE "^image hash +$want_hash$" "$WORK/st.txt" || fail "status text lacks the image hash"
grep -qE '^  flaky +(backoff|running) +pid .* restarts [1-9]' "$WORK/st.txt" || fail "status text lacks flaky's restarts"

# Hostile input: an overlong line and an unknown command are answered with an error; the
# channel goes on serving (answers are one line each, in order).
{ head -c 400 /dev/zero | tr '\0' A; printf '\nreboot\nstatus hostile1\n'; sleep 3; } |
    timeout 10 socat - "UNIX-CONNECT:$SOCK" > "$WORK/hostile.out" || true
[ "$(grep -c . "$WORK/hostile.out")" = 3 ] || fail "hostile input: expected 3 answers, got: $(cut -c1-120 "$WORK/hostile.out")"
sed -n 1p "$WORK/hostile.out" | jq -e '.error | test("unknown request")' >/dev/null || fail "overlong line not refused"
sed -n 2p "$WORK/hostile.out" | jq -e '.error | test("unknown request")' >/dev/null || fail "unknown command not refused"
sed -n 3p "$WORK/hostile.out" | jq -e '.nonce == "hostile1" and .phase == "running"' >/dev/null ||
    fail "no status answer after hostile lines"
"$BIN/cocoon-launch" status "$CONF" --json > /dev/null 2> "$WORK/st.err" ||
    fail "status after hostile input failed: $(cat "$WORK/st.err")"
pass "overlong and unknown requests refused with an error; the channel keeps serving"

vm_monitor system_powerdown
vm_wait
console_has '^cocoon-init: shutdown complete'

# 2. Stuck: the spec names a model whose disk never comes; the disk wait is long.
write_spec "$WORK/spec2" "{\"version\": 1, \"models\": [{\"name\": \"x\", \"roothash\": \"$(printf '%064d' 0)\",
  \"data_blocks\": 1}], \"services\": []}"
sed -i "s|^spec_dir = .*|spec_dir = $WORK/spec2|" "$CONF"
echo "console=ttyS0 panic=-1 loglevel=4 no_timer_check $(DISK_TIMEOUT=600 appliance_cmdline)" > "$WORK/vm/img/cmdline"
timeout -k 5 600 "$BIN/cocoon-launch" run "$CONF" --no-verify --supervise --stuck-timeout 20 --max-restarts 1 \
    --restart-delay 1 > "$WORK/supervise.out" 2>&1 &
VM_PID=$!
ok=0
for _ in $(seq 1 90); do
    if "$BIN/cocoon-launch" status "$CONF" --json --timeout 3 > "$WORK/st2.json" 2>/dev/null &&
        jq -e '.phase == "booting" and .step == "models"' "$WORK/st2.json" >/dev/null; then ok=1; break; fi
    sleep 2
done
[ $ok = 1 ] || fail "status never showed booting at step models: $(cat "$WORK/st2.json" 2>/dev/null | head -c 300)"
jq -e '.services_started_ms == null and .image_hash != null' "$WORK/st2.json" >/dev/null ||
    fail "booting status: $(jq -c '{services_started_ms, image_hash}' "$WORK/st2.json")"
pass "status during a boot: phase booting, step models"
rc=0
wait "$VM_PID" || rc=$?
VM_PID=
[ "$rc" = 4 ] || { cat "$WORK/supervise.out" >&2; fail "supervise exited $rc, expected 4 (gave up)"; }
grep -q '^cocoon-launch: guest booting: step models$' "$WORK/supervise.out" || fail "supervise never saw step models"
# The first boot must be declared stuck; the second normally is too (a TCG kernel on a loaded
# host sometimes panics early instead, which also ends the run).
grep -q '^cocoon-launch: guest stuck: models for [0-9]* s (phase booting); restarting$' "$WORK/supervise.out" ||
    { cat "$WORK/supervise.out" >&2; fail "supervise did not detect the stuck boot"; }
grep -q '^cocoon-launch: QEMU exited (stopped: boot stuck); restart 1 in 1 s$' "$WORK/supervise.out" ||
    fail "supervise did not restart the stuck boot"
grep -q 'giving up after 1 restart' "$WORK/supervise.out" || fail "supervise did not give up"
pass "run --supervise tells booting from stuck: restarted with backoff, then gave up"
