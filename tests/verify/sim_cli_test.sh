#!/bin/bash
# End to end: cocoon-sim (the sim attestation backend) extends and quotes, cocoon-measure
# verifies with the state directory's root, collateral and policy. Run by `make test`.
set -euo pipefail
BIN=${BUILD:-build}/bin
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
D=$T/sim
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
expect_rc() { # name want_rc cmd...
	local name=$1 want=$2; shift 2
	local rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" = "$want" ]; then pass "$name (exit $rc)"; else fail "$name: exit $rc, want $want: $(head -c 300 "$T/err")"; fi
}
# jget FILE KEY: a top-level field ("null" when absent); invalid JSON prints nothing and fails.
jget() { jq -r --arg k "$2" '.[$k]' "$1"; }
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2' want '$3'"; fi; }
S="$BIN/cocoon-sim --dir $D"
V() { "$BIN/cocoon-measure" quote "$1" --collateral "$D/collateral.json" --root "$D/root.pem" "${@:2}"; }

expect_rc "sim init" 0 $S init
for f in root.pem collateral.json policy.json registers; do
	[ -s "$D/$f" ] && pass "state has $f" || fail "state lacks $f"
done
expect_rc "extend-event" 0 $S extend-event "cocoon:tdx_inited"
R3=$(cat "$T/out")
# RTMR3 = SHA-384(0^48 || SHA-384("cocoon:tdx_inited"))
want=$(python3 -c 'import hashlib; d=hashlib.sha384(b"cocoon:tdx_inited").digest(); print(hashlib.sha384(bytes(48)+d).hexdigest())')
eq "RTMR3 after one event" "$R3" "$want"
expect_rc "read from another process" 0 $S read 3
eq "RTMR3 shared" "$(cat "$T/out")" "$R3"
expect_rc "quote" 0 $S quote --report-data 00112233 --out "$T/q.bin"

expect_rc "verify sim quote with its root and policy" 0 V "$T/q.bin" --policy "$D/policy.json" --json
eq "verdict" "$(jget "$T/out" verdict)" ok
eq "tcb_status" "$(jget "$T/out" tcb_status)" UpToDate
eq "RTMR3 in the quote" "$(jget "$T/out" rtmr3)" "$R3"
eq "REPORTDATA in the quote" "$(jget "$T/out" report_data)" "00112233$(printf '0%.0s' $(seq 120))"
expect_rc "default policy pins Intel's root key id" 4 V "$T/q.bin" --json
eq "failed_check" "$(jget "$T/out" failed_check)" policy_root_key_id
expect_rc "the pinned Intel root does not anchor the sim chain" 3 \
	"$BIN/cocoon-measure" quote "$T/q.bin" --collateral "$D/collateral.json" --json
eq "failed_check" "$(jget "$T/out" failed_check)" trust_anchor
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[600]^=1; open(sys.argv[2],"wb").write(b)' \
	"$T/q.bin" "$T/bad.bin"
expect_rc "tampered sim quote is invalid" 3 V "$T/bad.bin" --policy "$D/policy.json" --json
eq "failed_check" "$(jget "$T/out" failed_check)" quote_signature
expect_rc "collateral expired in 40 days" 3 V "$T/q.bin" --policy "$D/policy.json" \
	--time $(( $(date +%s) + 40 * 86400 ))
expect_rc "usage error" 2 $S read 9

if [ $fails -ne 0 ]; then echo "sim_cli_test: $fails FAILED"; exit 1; fi
echo "sim_cli_test: all passed"
