#!/usr/bin/env bash
# make demo: build the production appliance image, boot it with cocoon-launch under QEMU
# (TCG, no TDX here: the `sim` attestation backend and the debug key, both explicit cmdline
# variants that change RTMR2), then verify it from the host:
#   - the verified root hash the guest reports equals the image's;
#   - the guest's RTMR3 equals `cocoon-measure spec`'s prediction for the demo spec;
#   - the persistent volume is formatted (first boot) and the guest's RA-TLS certificate,
#     fetched through the QEMU port forward, verifies with `cocoon-measure cert` against the
#     sim root, carrying the predicted RTMR3 and an image hash;
#   - an ACPI power-button press shuts the appliance down in order.
# Environment: BUILD (default build), DEMO_IMAGE (boot this image directory instead of
# building images/default from the checkout),
# DEMO_TIMEOUT (seconds to wait for the boot, default 600), DEMO_PORT (the host port forwarded to
# the guest's 8443; default: a free port the kernel picks).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
BUILD=${BUILD:-build}
BIN=$top/$BUILD/bin
IMAGE=images/default
TIMEOUT=${DEMO_TIMEOUT:-600}
work=$top/$BUILD/demo
# jget FILE KEY[.SUBKEY]: a field of a JSON file ("" when absent); invalid JSON is an error.
jget() {
    jq -r --arg k "$2" 'getpath($k | split(".")) | if . == null then "" else tostring end' "$1" ||
        die "$1 is not JSON (reading $2)"
}
say() { printf '\033[1mdemo:\033[0m %s\n' "$*"; }
die() { echo "demo: FAILED: $*" >&2; [ -f "$work/log/worker-0.console.log" ] && tail -25 "$work/log/worker-0.console.log" >&2; exit 1; }
fail() { die "$@"; }
source tests/integration/check_lib.sh   # free_port
PORT=${DEMO_PORT:-$(free_port)}
port_ok "$PORT" || die "DEMO_PORT '$PORT' is not a port"

for p in cocoon-launch cocoon-measure cocoon-sim; do [ -x "$BIN/$p" ] || die "$BIN/$p missing (run make)"; done
if [ -z "${DEMO_IMAGE:-}" ]; then
    say "building the appliance image from this checkout (image-recipes/build-image; the first run creates the pinned build root)"
    image-recipes/build-image default "$top/$IMAGE" > "$BUILD/demo-image.log" 2>&1 ||
        { tail -20 "$BUILD/demo-image.log" >&2; die "image build failed (log: $BUILD/demo-image.log)"; }
else
    IMAGE=$DEMO_IMAGE
fi
IMAGE=$(cd "$IMAGE" && pwd)
roothash=$(sed -n 's/.*cocoon.roothash=\([0-9a-f]*\).*/\1/p' "$IMAGE/cmdline")

# The persistent disk survives between runs: the first boot formats it, later boots open it.
mkdir -p "$work"
find "$work" -mindepth 1 -maxdepth 1 ! -name persistent.img -exec rm -rf {} +
mkdir -p "$work/spec/runtime" "$work/log" "$work/run"
# The demo spec: the RA-TLS server in reverse mode in front of a (here absent) engine.
cat > "$work/spec/cocoon.json" <<JSON
{
  "version": 1,
  "gpu": "off",
  "persistent": { "mount": "/data" },
  "network": { "interface": "eth0", "address": "10.0.2.15/24", "gateway": "10.0.2.2" },
  "services": [
    { "name": "ratls", "argv": ["/usr/bin/cocoon-ratls", "run", "--attest", "sim",
                                "--event-log", "/run/cocoon/rtmr3.log",
                                "-R", "0.0.0.0:8443:127.0.0.1:8000@any", "--pow-difficulty", "8"],
      "restart": "always" }
  ]
}
JSON
# The sim CA, generated here so that this host can verify the guest's sim quotes
# (runtime/ is not measured; docs/boot.md).
"$BIN/cocoon-sim" --dir "$work/spec/runtime/sim" init >/dev/null || die "cocoon-sim init failed"
[ -f "$work/persistent.img" ] || truncate -s 256M "$work/persistent.img"
cat > "$work/node.conf" <<CONF
[node]
type = worker
tdx = no
accel = tcg
image_dir = $IMAGE
spec_dir = $work/spec
persistent_disk = $work/persistent.img
memory = 2G
vcpus = 2
ports = $PORT:8443
vsock_cid = 0
console = file
log_dir = $work/log
run_dir = $work/run
CONF

say "booting $IMAGE with cocoon-launch run --no-tdx --accel tcg --sim --debug"
"$BIN/cocoon-launch" run "$work/node.conf" --sim --debug > "$work/launch.log" 2>&1 &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
console=$work/log/worker-0.console.log
serial=$work/log/worker-0.serial.log
deadline=$((SECONDS + TIMEOUT))
until grep -qs "service ratls started" "$console" "$serial"; do
    kill -0 $qemu 2>/dev/null || die "QEMU exited before the appliance came up (see $work/launch.log)"
    grep -hs "cocoon-init: FATAL" "$console" "$serial" && die "the appliance halted"
    [ $SECONDS -lt $deadline ] || die "no 'service ratls started' within ${TIMEOUT}s"
    sleep 2
done
log=$(cat "$console" "$serial" 2>/dev/null | tr -d '\r')
line() { grep -Eo -m1 "cocoon-init: $1.*" <<<"$log"; }
say "appliance up:"
for pat in "root verified" "attestation backend" "rtmr3 [0-9a-f]{96}" "volume persistent" "network:" "service ratls started"; do
    echo "    $(line "$pat")"
done

got_root=$(line "root verified" | awk '{print $4}') || die "the guest logged no 'root verified' line"
[ "$got_root" = "$roothash" ] || die "guest verified root $got_root, image has $roothash"
got_rtmr3=$(line "rtmr3 [0-9a-f]{96}" | awk '{print $3}') || die "the guest logged no RTMR3 value"
"$BIN/cocoon-measure" spec "$work/spec" --debug --json > "$work/spec.json" || die "cocoon-measure spec failed"
want_rtmr3=$(jget "$work/spec.json" rtmr3)
say "RTMR3 guest     $got_rtmr3"
say "RTMR3 predicted $want_rtmr3 (cocoon-measure spec --debug)"
[ -n "$got_rtmr3" ] && [ "$got_rtmr3" = "$want_rtmr3" ] || die "RTMR3 differs from the prediction"
line "volume persistent: (formatted|opened)" >/dev/null || die "persistent volume neither formatted nor opened"

say "fetching the RA-TLS certificate through the port forward (PoW, TLS 1.3) and verifying it"
# The demo boots with cocoon.debug (the debug key provider: there is no seal server here), so
# the certificate's event log carries cocoon:cocoon_debug, which every policy without
# allow_debug refuses (docs/verification.md). The check uses the sim policy plus allow_debug.
jq -e '. + {"allow_debug": true}' "$work/spec/runtime/sim/policy.json" > "$work/policy-debug.json" ||
    die "cannot write the demo's debug policy"
ok=0
for _ in $(seq 1 30); do
    if "$BIN/cocoon-measure" cert "127.0.0.1:$PORT" --root "$work/spec/runtime/sim/root.pem" \
        --collateral "$work/spec/runtime/sim/collateral.json" --policy "$work/policy-debug.json" \
        --json > "$work/cert.json" 2> "$work/cert.err"; then
        ok=1; break
    fi
    sleep 2
done
[ $ok = 1 ] || die "cocoon-measure cert failed: $(cat "$work/cert.err")"
cert_rtmr3=$(jget "$work/cert.json" measurements.rtmr3)
log_ok=$(jget "$work/cert.json" event_log_matches_rtmr3)
image_hash=$(jget "$work/cert.json" image_hash)
verdict=$(jget "$work/cert.json" verdict)
say "certificate verdict $verdict, image hash $image_hash"
[ "$verdict" = ok ] || die "certificate verdict $verdict"
[ "$cert_rtmr3" = "$want_rtmr3" ] || die "the certificate's quote has RTMR3 $cert_rtmr3"
[ "$log_ok" = true ] || die "the certificate's RTMR3 event log does not replay to the quote's RTMR3"
say "the certificate's quote carries the predicted RTMR3 and its event log replays to it"

say "the guest's status channel (cocoon-launch status):"
"$BIN/cocoon-launch" status "$work/node.conf" > "$work/status.txt" || die "cocoon-launch status failed"
sed 's/^/    /' "$work/status.txt"
"$BIN/cocoon-launch" status "$work/node.conf" --json > "$work/status.json" || die "cocoon-launch status --json failed"
[ "$(jget "$work/status.json" phase)" = running ] || die "status phase is $(jget "$work/status.json" phase), not running"
[ "$(jget "$work/status.json" rtmr3)" = "$want_rtmr3" ] || die "status RTMR3 differs from the prediction"
[ "$(jget "$work/status.json" image_hash)" = "$image_hash" ] || die "status image hash differs from the certificate's"

say "pressing the ACPI power button (cocoon-launch stop)"
"$BIN/cocoon-launch" stop "$work/node.conf" --timeout 120 >/dev/null || die "cocoon-launch stop failed"
wait $qemu || true
trap - EXIT
grep -qs "cocoon-init: shutdown complete" "$console" "$serial" || die "no orderly shutdown"
say "orderly shutdown: $(cat "$console" "$serial" 2>/dev/null | grep -c 'shutdown: volume') volume(s) closed"
say "OK: root $roothash verified, RTMR3 as predicted, certificate verified, clean shutdown"
