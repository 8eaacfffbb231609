#!/bin/bash
# make bench: full verification of one GPU's evidence per second (issue 15 §5: device chain,
# report signature, RIM signature and chain, measurement comparison; fixture G2 with the
# genuine VBIOS RIM at 2025-01-01) next to the floor measured in the same run: the 9
# ECDSA-P384 verifications it needs, timed as the library does one; and OpenSSL's own
# `openssl speed ecdsap384` verify rate for reference (all in CPU time: the machine is
# shared). Aim: within 2x of the floor.
set -euo pipefail
BUILD=${BUILD:-build}
FIXTURES=${FIXTURES:-../shared/fixtures}
SECONDS_PER_RUN=${BENCH_SECONDS:-3}
G=$FIXTURES/gpu
read -r ours floor p384_us status < <("$BUILD/bench/bench_gpu" "$G/nvat_sample_535/hopperAttestationReport.txt" \
	"$G/nvat_sample_535/hopperCertChain.txt" 27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66 \
	"$G/rims" 1735689600 "$SECONDS_PER_RUN")
echo "libmeasure cm_gpu_verify (chain, report signature, VBIOS RIM, comparison): $ours verifications/s ($status)"
echo "floor: the 9 ECDSA-P384 verifications it needs, $p384_us us each here: $floor/s"
awk -v a="$ours" -v b="$floor" 'BEGIN { printf "ratio gpu verification / floor: %.2f (aim >= 0.5)\n", a / b }'
speed=$(openssl speed -seconds "$SECONDS_PER_RUN" ecdsap384 2>/dev/null | awk '$1 == "384" && $4 == "(nistp384)" { print $NF }')
if [ -n "$speed" ]; then
	echo "openssl speed ecdsap384: $speed verify/s (raw, digest not included) -> floor $(awk -v s="$speed" 'BEGIN { printf "%.0f", s / 9 }')/s"
fi
