#!/bin/bash
# cocoon-launch end to end on this host: check (TDX absent here), run --print of the
# examples, refusal on a tampered image, config errors, exec of a real QEMU (host
# qemu-system-x86, --no-tdx, TCG), supervision (restart backoff, give-up, SIGTERM ->
# QMP system_powerdown -> SIGTERM), stop through QMP, and systemd units.
set -euo pipefail

BUILD=${BUILD:-build}
FIXTURES=${FIXTURES:-../shared/fixtures}
L=$(realpath "$BUILD/bin/cocoon-launch")
. "$(dirname "$0")/launch_lib.sh"

T=$(mktemp -d /tmp/launch-cli.XXXXXX)
cleanup() {
	if [ -n "${QPID:-}" ]; then kill "$QPID" 2>/dev/null || :; fi
	rm -rf "$T"
}
trap cleanup EXIT
launch_test_image "$T/img"
mkdir -p "$T/spec"
truncate -s 64M "$T/persistent.img"
launch_worker_conf "$T" "memory = 256M" "vcpus = 1" "vsock_cid = 0" "tdx = no" "accel = tcg" \
	"log_dir = $T/log" "run_dir = $T/run" > "$T/node.conf"

# 1. check on this machine: TDX is absent and the verdict fails
st=0; out=$("$L" check 2>&1) || st=$?
if [ $st = 1 ] && grep -q '^FAIL tdx .*TDX is absent' <<<"$out" && grep -q '^verdict: FAIL' <<<"$out"; then
	ok "check says plainly that TDX is absent and exits 1"
else
	bad "check: status $st: $out"
fi
st=0; "$L" check --json >"$T/check.json" 2>"$T/check.err" || st=$?
if [ $st = 1 ] && jq -e '.verdict == "fail" and any(.checks[]; .name == "tdx" and .status == "fail")' "$T/check.json" >/dev/null; then
	ok "check --json has the checks and the verdict"
else
	bad "check --json: status $st: $(cat "$T/check.json" "$T/check.err")"
fi

# 2. the example configs are accepted as they are
for ex in worker proxy; do
	if "$L" run "host-launcher/examples/$ex.conf" --print >"$T/$ex.print" 2>"$T/$ex.err" &&
	   grep -q "tdx-guest" "$T/$ex.print"; then
		ok "run --print accepts examples/$ex.conf"
	else
		bad "run --print examples/$ex.conf: $(cat "$T/$ex.err")"
	fi
done

# 2b. a bad option is named as typed, once (getopt's own message is off), and a refused value
# says what the option wants and what it got; exit 2
for a in "--bogus|unknown option '--bogus'" "--timeout|option '--timeout' needs a value" \
	"--timeout 3601|option '--timeout' wants 0-3600 seconds, got '3601'" \
	"--instance 100|option '--instance' wants 0-99, got '100'" \
	"--instance +5|option '--instance' wants 0-99, got '+5'" \
	"--accel=xen|option '--accel' wants kvm, tcg or auto, got 'xen'"; do
	read -ra words <<<"${a%%|*}"
	st=0; out=$("$L" stop "$T/node.conf" "${words[@]}" 2>&1) || st=$?
	if [ $st = 2 ] && [ "$out" = "$(printf "error: %s\n(see cocoon-launch stop --help)" "${a#*|}")" ]; then
		ok "stop ${a%%|*}: ${a#*|} (exit 2)"
	else
		bad "stop ${a%%|*}: status $st: $out"
	fi
done

# 3. config errors name key and line, exit 3
printf '[node]\ntype = worker\nmemroy = 1G\n' > "$T/bad.conf"
st=0; out=$("$L" run "$T/bad.conf" --print 2>&1) || st=$?
if [ $st = 3 ] && [ "$out" = "error: $T/bad.conf:3: unknown key 'memroy'" ]; then
	ok "unknown key is an error naming key and line (exit 3)"
else
	bad "bad config: status $st: $out"
fi

# 3b. capture-acpi --out reaches QEMU's option syntax (-chardev file,path=DIR/...): a comma or
# a control character in it is refused before anything is created or started (issue 13, 10)
for o in "$T/acpi,mux=on" "$T/acpi$(printf '\t')x"; do
	st=0; out=$("$L" capture-acpi "$T/node.conf" --kernel /nonexistent --initrd /nonexistent --out "$o" 2>&1) || st=$?
	if [ $st = 2 ] && grep -q "^error: --out: bad value .* (a path without commas or control characters)" <<<"$out" &&
	   [ ! -e "$o" ]; then
		ok "capture-acpi refuses --out $(printf %q "${o#"$T"/}") before creating it"
	else
		bad "capture-acpi --out $(printf %q "$o"): status $st: $out"
	fi
done

# 4. a tampered image is refused before QEMU starts
cp -r "$T/img" "$T/img2"
echo "console=hvc0 init=/bin/sh" > "$T/img2/cmdline"
st=0; out=$("$L" run "$T/node.conf" --set image_dir="$T/img2" 2>&1) || st=$?
if [ $st = 1 ] && grep -q "refusing to start: $T/img2/cmdline: sha256 .* does not match manifest.json" <<<"$out"; then
	ok "a cmdline that differs from manifest.json is refused"
else
	bad "tampered image: status $st: $out"
fi

# 5. TDX with TCG is refused; cmdline variants are announced
st=0; out=$("$L" run "$T/node.conf" --set tdx=yes --print 2>&1) || st=$?
if [ $st = 2 ] && grep -q "TDX needs --accel kvm" <<<"$out"; then
	ok "TDX with TCG is refused"
else
	bad "tdx+tcg: status $st: $out"
fi
st=0; out=$("$L" run "$T/node.conf" --debug --sim --print 2>&1) || st=$?
if [ $st = 0 ] && grep -q "variant 'debug' appends ' cocoon.debug'.*RTMR2" <<<"$out" &&
   grep -q "append 'console=hvc0 cocoon.roothash=00 cocoon.debug cocoon.attest=sim'" <<<"$out"; then
	ok "--debug --sim append the variants and say that RTMR2 changes"
else
	bad "variants: status $st: $out"
fi

# 6. foreground exec of the real host QEMU (no TDX, TCG): runs until killed, logs serial
st=0; timeout 5 "$L" run "$T/node.conf" --console file >"$T/fg.out" 2>&1 || st=$?
if [ $st = 124 ] && [ -f "$T/log/worker-0.serial.log" ] && grep -q "terminating on signal 15" "$T/fg.out"; then
	ok "run execs QEMU in the foreground (it got the SIGTERM itself; serial log created)"
else
	bad "foreground run: status $st: $(cat "$T/fg.out")"
fi

# 7. supervise: restart with exponential backoff, give up after --max-restarts (exit 4)
cat > "$T/fakeqemu" <<EOF
#!/bin/sh
echo run >> "$T/runs"
exit 3
EOF
chmod +x "$T/fakeqemu"
st=0; out=$("$L" run "$T/node.conf" --set qemu="$T/fakeqemu" --supervise --max-restarts 2 --restart-delay 1 2>&1) || st=$?
if [ $st = 4 ] && [ "$(wc -l < "$T/runs")" = 3 ] && grep -q "restart 1 in 1 s" <<<"$out" &&
   grep -q "restart 2 in 2 s" <<<"$out" && grep -q "giving up after 2 restart" <<<"$out"; then
	ok "supervise restarts with backoff 1 s, 2 s and gives up with exit 4"
else
	bad "supervise backoff: status $st: $out"
fi

# 8. supervise + SIGTERM with the real QEMU: QMP system_powerdown, then SIGTERM after
#    --stop-timeout (this firmware-only guest ignores the power button), exit 0
"$L" run "$T/node.conf" --supervise --stop-timeout 2 >"$T/sup.out" 2>&1 &
SPID=$!
for _ in $(seq 50); do [ -S "$T/run/qmp.sock" ] && grep -q started "$T/sup.out" && break; sleep 0.1; done
sleep 1
kill -TERM $SPID
st=0; wait $SPID || st=$?
out=$(cat "$T/sup.out")
if [ $st = 0 ] && grep -q "Terminated received, shutting the guest down" <<<"$out" &&
   ! grep -q "cannot connect to QMP" <<<"$out" &&
   grep -q "did not power off in 2 s, sending SIGTERM" <<<"$out" && grep -q "after shutdown request" <<<"$out"; then
	ok "supervise forwards SIGTERM as QMP system_powerdown, then SIGTERM, and exits 0"
else
	bad "supervise SIGTERM: status $st: $out"
fi
if [ -f "$T/log/worker-0.console.log" ]; then
	ok "supervise writes the console log to a file"
else
	bad "no console log file"
fi

# 9. stop: QMP system_powerdown against a running QEMU
rm -f "$T/run/qmp.sock"
"$L" run "$T/node.conf" --console file >"$T/bg.out" 2>&1 &
QPID=$!
for _ in $(seq 50); do [ -S "$T/run/qmp.sock" ] && break; sleep 0.1; done
sleep 1
st=0; out=$("$L" stop "$T/node.conf" --timeout 2 2>&1) || st=$?
if [ $st = 1 ] && [ "$out" = "error: QEMU still running 2 s after system_powerdown" ]; then
	ok "stop negotiates QMP and sends system_powerdown (firmware-only guest stays up, reported)"
else
	bad "stop: status $st: $out"
fi
# QEMU was started to be killed here: its exit status (SIGTERM) is not a result.
kill "$QPID"
wait "$QPID" 2>/dev/null || :
QPID=
st=0; out=$("$L" stop "$T/node.conf" --timeout 2 2>&1) || st=$?
if [ $st = 1 ] && grep -q "cannot connect to QMP" <<<"$out"; then
	ok "stop without a running guest says it cannot connect"
else
	bad "stop (no guest): status $st: $out"
fi

# 10. systemd units
mkdir -p "$T/units"
st=0; out=$("$L" unit "$T/node.conf" --instance 2 --out "$T/units" --bin /usr/local/bin/cocoon-launch 2>&1) || st=$?
if [ $st = 0 ] && grep -q '^ExecStart=/usr/local/bin/cocoon-launch run ${COCOON_CONFIG} --set instance=%i$' \
	"$T/units/cocoon-worker@.service" &&
   grep -q "^Environment=COCOON_CONFIG=$T/node.conf$" "$T/units/cocoon-worker@2.service.d/10-cocoon-launch.conf"; then
	ok "unit writes the template and the instance drop-in"
else
	bad "unit: status $st: $out"
fi
if command -v systemd-analyze >/dev/null && [ -d /run/systemd/system ]; then
	if systemd-analyze verify "$T/units/cocoon-worker@2.service" >/dev/null 2>&1; then ok "systemd-analyze verify"; else bad "systemd-analyze verify failed"; fi
fi

launch_summary
