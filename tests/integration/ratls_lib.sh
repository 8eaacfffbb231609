# Shared helpers of the cocoon-ratls integration tests (sourced).
set -euo pipefail
BUILD=${BUILD:-build}
RATLS=$BUILD/bin/cocoon-ratls
MEASURE=$BUILD/bin/cocoon-measure
ENGINE=$BUILD/tests/ratls-engine
LOAD=$BUILD/tests/ratls-load
WORK=$(mktemp -d /tmp/ratls-it.XXXXXX)
export COCOON_SIM_DIR=$WORK/sim
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.log; do [ -f "$f" ] || continue; echo "--- $f" >&2; tail -n 20 "$f" >&2; done; exit 1; }
ok() { echo "ok - $*"; }
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

# start_engine NAME [ARGS...]: sets ENGINE_PORT
start_engine() {
	local name=$1; shift
	rm -f "$WORK/$name.port"
	"$ENGINE" --port-file "$WORK/$name.port" "$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.05; done
	ENGINE_PORT=$(cat "$WORK/$name.port" 2>/dev/null || true)
	port_ok "$ENGINE_PORT" || fail "engine $name wrote no port (got '$ENGINE_PORT')"
}

# start_ratls NAME ARGS...: sets RATLS_PID and PORTS (bound ports in listener order)
start_ratls() {
	local name=$1; shift
	"$RATLS" run "$@" 2>"$WORK/$name.log" &
	RATLS_PID=$!
	PIDS+=($RATLS_PID)
	for _ in $(seq 200); do
		grep -q "event=started" "$WORK/$name.log" 2>/dev/null && break
		kill -0 "$RATLS_PID" 2>/dev/null || fail "$name exited: $(cat "$WORK/$name.log")"
		sleep 0.05
	done
	grep -q "event=started" "$WORK/$name.log" || fail "$name did not start"
	mapfile -t PORTS < <(sed -n 's/.*event=listening .* port=\([0-9]*\) .*/\1/p' "$WORK/$name.log")
	[ "${#PORTS[@]}" -gt 0 ] || fail "$name logged no listening port"
	local p
	for p in "${PORTS[@]}"; do port_ok "$p" || fail "$name logged a bad port '$p'"; done
}

nfds() { ls "/proc/$1/fd" | wc -l; }

# sim_policy IMAGE_HASH: the --policy keys of a `tdx` policy for the sim TD (its root and
# collateral in $COCOON_SIM_DIR, made by gen-cert) that pins IMAGE_HASH, as a production
# peer policy must (docs/ratls.md "Production policies"); sets SIM.
sim_policy() {
	local ih=$1 rk
	[[ "$ih" =~ ^[0-9a-f]{64}$ ]] || fail "sim_policy: bad image hash '$ih'"
	rk=$(openssl x509 -in "$COCOON_SIM_DIR/root.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
		tail -c 65 | openssl dgst -sha384 -r | cut -d' ' -f1)
	printf '{"root_key_ids":["%s"],"image_hashes":["%s"]}\n' "$rk" "$ih" >"$WORK/sim-policy.json"
	SIM="root=$COCOON_SIM_DIR/root.pem,collateral=$COCOON_SIM_DIR/collateral.json,policy=$WORK/sim-policy.json"
}
