#!/bin/bash
# cocoon-launch collateral against a local PCS (tests/collateral/pcs.py on a kernel-chosen
# port): the Intel fixture bundle served as PCS API v4 responses is verified and installed;
# bundles of a software PCK CA (tests/collateral/gen.c) replace it or are refused
# (broken signature, not JSON, expired, revoked PCK CA, wrong FMSPC, older than the one in
# use, server down), and after each refusal the installed bundle is byte for byte the
# last good one and the state file says why. Seconds, no VM.
# Run by `make test` with BUILD and FIXTURES set.
set -euo pipefail
source "$(dirname "$0")/../integration/check_lib.sh"
BUILD=${BUILD:-build}
L=$BUILD/bin/cocoon-launch
GEN=$BUILD/tests/cocoon-test-collateral-gen
PCS=$(dirname "$0")/pcs.py
F=${FIXTURES:-../shared/fixtures}/tdx/quotes
for x in "$L" "$GEN"; do [ -x "$x" ] || { echo "FAIL: $x is missing (make)" >&2; exit 1; }; done
T=$(mktemp -d)
SRV=
cleanup() { [ -z "$SRV" ] || kill "$SRV" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT

start_pcs() {
    rm -f "$T/port"
    python3 "$PCS" serve "$T/srv" "$T/port" 2>>"$T/pcs.log" &
    SRV=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
    PORT=$(cat "$T/port")
    check "the test PCS listens on port $PORT" port_ok "$PORT"
}
mkdir -p "$T/srv" "$T/spec" "$T/img"
start_pcs
conf() { # FMSPC ROOT: the launcher config
    cat >"$T/node.conf" <<CONF
[node]
image_dir = $T/img
spec_dir = $T/spec
memory = 1G
vcpus = 1
collateral_url = http://127.0.0.1:$PORT
collateral_root_crl_url = http://127.0.0.1:$PORT/IntelSGXRootCA.der
collateral_fmspc = $1
CONF
    [ -z "$2" ] || echo "collateral_root = $2" >>"$T/node.conf"
}
STATE=$T/spec/runtime/collateral-state.json
state() { jq -e -r ".fmspcs[0].$1" "$STATE"; }
run_ok() { "$L" collateral "$T/node.conf" "$@"; }
# refused NAME CHECK-RE ARGS...: exit 1, the bundle in use unchanged, the state names it
refused() {
    local name=$1 re=$2 before
    shift 2
    before=$(sha256sum <"$BUNDLE")
    check_fails "$name is refused" "$re" "$L" collateral "$T/node.conf" "$@"
    local rc=0
    "$L" collateral "$T/node.conf" "$@" >/dev/null 2>&1 || rc=$?
    check "$name: exit 1" test "$rc" = 1
    check "$name: the last good bundle stays" test "$(sha256sum <"$BUNDLE")" = "$before"
    check "$name: state says refused or fetch_failed" grep -qE '"last_result": "(refused|fetch_failed)"' "$STATE"
    check "$name: state keeps the bundle" test "$(state bundle)" = "runtime/collateral/$(basename "$BUNDLE")"
}

# --- Intel's collateral (fixture A, FMSPC B0C06F000000), at its verification time ---
TA=1752919234
python3 "$PCS" split "$F/dcapqvl_tdx_quote_collateral.json" "$T/srv"
conf B0C06F000000 ""
check "Intel bundle fetched, verified, installed" run_ok --time $TA
BUNDLE=$T/spec/runtime/collateral/B0C06F000000.json
check "the installed bundle is the fixture's content" python3 - "$BUNDLE" "$F/dcapqvl_tdx_quote_collateral.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a == b, "bundle differs from the fixture"
PY
check "libmeasure verifies the quote with the installed bundle" \
    bash -c "\"$BUILD/bin/cocoon-measure\" quote \"$F/dcapqvl_tdx_quote.bin\" --collateral \"$BUNDLE\" --time $TA >/dev/null"
check "state: updated" test "$(state last_result)" = updated
check "state: fetched_at" test "$(state fetched_at)" = $TA
check "state: TCB info issue date" test "$(state tcb_issue_date)" = 1750328163
check "state: platform" test "$(state platform)" = true
check "a second run leaves it unchanged" test "$(run_ok --time $TA)" = "collateral B0C06F000000: unchanged"
python3 "$PCS" split "$F/dcapqvl_tdx_quote_collateral.json" "$T/srv" --hex-root-crl
check "a root CA CRL served as hex is taken too" run_ok --time $TA
refused "expired (verified a year later)" "tcb_info_expired|_expired" --time $((TA + 365 * 86400))
check "state: still fetched at the first run" test "$(state fetched_at)" = $TA
# wrong FMSPC: another platform's (valid) TCB info served under this FMSPC's URL
python3 "$PCS" split "$F/dcapqvl_tdx_quote_outdated_collateral.json" "$T/wrong" --as-fmspc B0C06F000000
cp "$T/wrong/tcb-B0C06F000000.json" "$T/wrong/tcb-B0C06F000000.chain" "$T/srv/"
refused "another FMSPC's TCB info" "is for FMSPC 90c06f000000, not b0c06f000000" --time $TA
check "state names the check" test "$(state last_check)" = collateral_fmspc
python3 "$PCS" split "$F/dcapqvl_tdx_quote_collateral.json" "$T/srv"
python3 - "$T/srv/tcb-B0C06F000000.json" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.rindex('"signature":"') + len('"signature":"') + 5
open(p, "w").write(s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:])
PY
refused "a TCB info signature flipped" "tcb_info_signature|signature" --time $TA
echo 'not json' >"$T/srv/tcb-B0C06F000000.json"
refused "a body that is not JSON" "TCB info response: not valid JSON" --time $TA
check "state names the check" test "$(state last_check)" = pcs_response
rm "$T/srv/tcb-B0C06F000000.json"
refused "an HTTP 404" "HTTP status 404" --time $TA
check "state: fetch_failed" test "$(state last_result)" = fetch_failed
python3 "$PCS" split "$F/dcapqvl_tdx_quote_collateral.json" "$T/srv"
kill "$SRV"; wait "$SRV" 2>/dev/null || true; SRV=
refused "a PCS that is down" "GET http://127.0.0.1:$PORT/" --time $TA
start_pcs
conf B0C06F000000 ""
check "the server back: fetched again" run_ok --time $TA
echo "collateral_peer_fmspcs = 90C06F000000" >>"$T/node.conf"
check_fails "a peer FMSPC the PCS does not know" "collateral 90C06F000000: .*HTTP status 404; no bundle is installed for it" \
    "$L" collateral "$T/node.conf" --time $TA
check "the platform's bundle is still fetched" jq -e '.fmspcs[0].last_result == "unchanged" and .fmspcs[1].bundle == null' "$STATE"

# --- a software PCK CA: newer replaces, older / revoked / expired / wrong FMSPC do not ---
NOW=$(date +%s)
G=$T/gen
mkdir -p "$G"
check "test bundles generated" "$GEN" "$G" "$NOW"
rm -rf "$T/srv"/*
python3 "$PCS" split "$G/good.json" "$T/srv"
conf 00906ED50000 "$G/root.pem"
check "sim bundle installed (now)" run_ok
BUNDLE=$T/spec/runtime/collateral/00906ED50000.json
check "it is good.json" cmp -s "$BUNDLE" <(jq -c -j . "$G/good.json")
for v in older revoked expired wrongfmspc; do
    python3 "$PCS" split "$G/$v.json" "$T/srv" --as-fmspc 00906ED50000
    case $v in
    older) re="collateral_older|older than the bundle in use" ;;
    revoked) re="revoked" ;;
    expired) re="_expired" ;;
    wrongfmspc) re="is for FMSPC 00906ed50001, not 00906ed50000" ;;
    esac
    refused "the $v bundle" "$re"
done
check "state names the older check" bash -c "python3 '$PCS' split '$G/older.json' '$T/srv' && ! '$L' collateral '$T/node.conf' >/dev/null 2>&1 && jq -e '.fmspcs[0].last_check == \"collateral_older\"' '$STATE' >/dev/null"
python3 "$PCS" split "$G/newer.json" "$T/srv"
check "a newer bundle replaces it" run_ok
check "it is newer.json" cmp -s "$BUNDLE" <(jq -c -j . "$G/newer.json")
check "nothing else is left in the collateral directory" test "$(ls -A "$T/spec/runtime/collateral")" = 00906ED50000.json$'\n'B0C06F000000.json
check "a peer FMSPC equal to the platform's is fetched once" bash -c "echo 'collateral_peer_fmspcs = 00906ED50000, 00906ed50000' >>'$T/node.conf' && '$L' collateral '$T/node.conf' --json | jq -e '.fmspcs | length == 1'"

# --- run --supervise: a refresh before QEMU starts, then one every collateral_refresh ---
FIXTURES=${FIXTURES:-../shared/fixtures}
source "$(dirname "$0")/../integration/launch_lib.sh"
launch_test_image "$T/img"
python3 "$PCS" split "$G/good.json" "$T/srv"
rm -rf "$T/spec/runtime"
conf 00906ED50000 "$G/root.pem"
cat >>"$T/node.conf" <<CONF
collateral_refresh = 10
tdx = no
accel = tcg
log_dir = $T/log
run_dir = $T/run
CONF
cat >"$T/fakeqemu" <<SH
#!/bin/sh
# the bundle QEMU starts with, then stay up past one refresh period
sha256sum <"$BUNDLE" >"$T/at-start"
sleep 14
exit 3
SH
chmod +x "$T/fakeqemu"
(sleep 3 && python3 "$PCS" split "$G/newer.json" "$T/srv") &
st=0
"$L" run "$T/node.conf" --set qemu="$T/fakeqemu" --supervise --max-restarts 0 >"$T/sup.out" 2>&1 || st=$?
check "supervise gave up after QEMU exited (exit 4)" test "$st" = 4
check "QEMU started with the bundle fetched before it" test "$(cat "$T/at-start")" = "$(jq -c -j . "$G/good.json" | sha256sum)"
check "the scheduled refresh installed the newer bundle" cmp -s "$BUNDLE" <(jq -c -j . "$G/newer.json")
check "no refresh process is left" bash -c "! pgrep -f '^$L run $T/node.conf' >/dev/null"
echo "ok: $(basename "$0")"
