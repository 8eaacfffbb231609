#!/bin/bash
# cocoon-keys seal-probe against the test seal server (tests/seal) on the host: the same key
# twice, another key for another name or enclave secret, the failed check named for each
# malicious server, test transports refused with the tdx backend. No QEMU.
set -euo pipefail
BUILD=${BUILD:-build}
KEYS=$BUILD/bin/cocoon-keys SIM=$BUILD/bin/cocoon-sim SRV=$BUILD/tests/cocoon-test-seal-server
for b in "$KEYS" "$SIM" "$SRV"; do [ -x "$b" ] || { echo "missing $b (make)"; exit 1; }; done
T=$(mktemp -d)
PID=
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
export COCOON_SIM_DIR=$T/sim
"$SIM" --dir "$T/sim" init >/dev/null
mkdir -p "$T/spec/keys"
MRE=$(printf '%s' 'cocoon-sim seal enclave' | sha256sum | cut -d' ' -f1)
printf '{"mrenclave":["%s"],"timeout_ms":1500}\n' "$MRE" >"$T/spec/keys/cocoon-seal.json"
SECRET=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')

serve() { # mode [secret]
	[ -z "$PID" ] || { kill "$PID"; wait "$PID" 2>/dev/null || true; }
	rm -f "$T/port"
	"$SRV" --sim-dir "$T/sim" --secret "${2:-$SECRET}" --listen tcp:127.0.0.1:0 --mode "$1" \
		--port-file "$T/port" 2>>"$T/server.log" &
	PID=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	[ -s "$T/port" ]
}
probe() { "$KEYS" seal-probe --server "tcp:127.0.0.1:$(cat "$T/port")" --attest sim --spec "$T/spec" "$@"; }

serve good
A=$(probe --key-name disk_encryption)
B=$(probe --key-name disk_encryption)
C=$(probe --key-name app)
echo "$A"
[[ $A =~ ^key\ disk_encryption\ sha256\ [0-9a-f]{64}$ ]]
[ "$A" = "$B" ]
[ "$A" != "$C" ]
# the server logs the fingerprint of what it handed out (init-seal.sh compares APP_KEY with it)
grep -qF "(key disk_encryption sha256 ${A##* })" "$T/server.log"
grep -qF "(key app sha256 ${C##* })" "$T/server.log"
probe --key-name app --json | grep -q '"key_sha256"'
serve good "$(printf '%064d' 7)"
D=$(probe --key-name disk_encryption)
[ "$A" != "$D" ]

for m in wrong-mrenclave:seal_mrenclave debug:seal_debug unbound:seal_report_data \
	truncated:seal_framing extended:seal_response oversize:seal_framing \
	tampered:seal_report_data silent:seal_timeout; do
	serve "${m%%:*}"
	rc=0
	probe --key-name disk_encryption >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 1 ] || { echo "mode ${m%%:*}: exit $rc"; exit 1; }
	grep -q "^error: ${m#*:} " "$T/err" || { echo "mode ${m%%:*}:"; cat "$T/err"; exit 1; }
	[ ! -s "$T/out" ]
	echo "mode ${m%%:*}: $(cat "$T/err")"
done
serve replay
probe --key-name disk_encryption >/dev/null
rc=0
probe --key-name disk_encryption 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "^error: seal_report_data " "$T/err"

rc=0
"$KEYS" seal-probe --server "tcp:127.0.0.1:$(cat "$T/port")" --attest tdx --spec "$T/spec" \
	--key-name x 2>"$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "^error: seal_config .*test transports" "$T/err"
echo "seal_probe: ok"
