#!/bin/bash
# make bench: quote verification throughput (fixture Q1 at its time, warm collateral cache)
# next to the baseline @phala/dcap-qvl from npm on the same quote, collateral and time; and
# cold verification (no cache, no PCK memo) next to the floor of the ECDSA verifications it
# must do, measured in the same run.
set -euo pipefail
BUILD=${BUILD:-build}
FIXTURES=${FIXTURES:-../shared/fixtures}
SECONDS_PER_RUN=${BENCH_SECONDS:-3}
here=$(cd "$(dirname "$0")" && pwd)
Q=$FIXTURES/tdx/quotes/dcapqvl_tdx_quote.bin
C=$FIXTURES/tdx/quotes/dcapqvl_tdx_quote_collateral.json
T=1752919234
BASELINE_PKG=@phala/dcap-qvl@0.3.9
npm_dir=$BUILD/bench/npm

read -r ours ours_status < <("$BUILD/bench/bench_verify" "$Q" "$C" "$T" "$SECONDS_PER_RUN")
echo "libmeasure cm_verify_quote (warm cache): $ours verifications/s (status $ours_status)"
read -r cold floor ecdsa_us cold_status < <("$BUILD/bench/bench_verify" "$Q" "$C" "$T" "$SECONDS_PER_RUN" cold)
echo "libmeasure cm_verify_quote (cold: no collateral cache, no PCK memo): $cold verifications/s (status $cold_status)"
echo "floor: the 9 ECDSA-P256 verifications a cold verification must do, $ecdsa_us us each here: $floor/s"
awk -v a="$cold" -v b="$floor" 'BEGIN { printf "ratio cold / floor: %.2f\n", a / b }'

base=""
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "baseline $BASELINE_PKG: node/npm not installed; no ratio reported"
elif [ ! -d "$npm_dir/node_modules/@phala/dcap-qvl" ] &&
	! (mkdir -p "$npm_dir" && npm_config_cache="$BUILD/bench/npm-cache" npm install --prefix "$npm_dir" \
		--no-audit --no-fund --no-save "$BASELINE_PKG" >"$BUILD/bench/npm-install.log" 2>&1); then
	echo "baseline $BASELINE_PKG: npm registry unreachable (see $BUILD/bench/npm-install.log); no ratio reported"
else
	read -r base base_status < <(node "$here/bench_verify_baseline.js" "$npm_dir" "$Q" "$C" "$T" "$SECONDS_PER_RUN")
	echo "baseline $BASELINE_PKG verify():         $base verifications/s (status $base_status)"
	if [ "$base_status" != "$ours_status" ]; then
		echo "error: verdicts differ ($ours_status vs $base_status)" >&2
		exit 1
	fi
	awk -v a="$ours" -v b="$base" 'BEGIN { printf "ratio libmeasure / dcap-qvl: %.1fx (goal >= 20x)\n", a / b }'
fi
