#!/bin/bash
# make bench: time to measure a full image (firmware + kernel + initrd + ACPI + spec
# directory: MRTD, RTMR0-3, image hash, sha256 echo of every input) with
# `cocoon-measure image`, as a ratio to the floor of hashing every input byte once with
# `sha384sum` over the same files, run interleaved in the same process tree.
set -eu
BUILD=${BUILD:-build}
F=${FIXTURES:?}/tdx/measure
K=build/cache/kernel/vmlinuz
RUNS=${BENCH_RUNS:-15}
INITRD_MB=${BENCH_INITRD_MB:-64}
[ -f "$K" ] || make -s "$K"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# A deterministic initrd-sized input and a spec directory of 200 small files.
openssl enc -aes-128-ctr -nosalt -pass pass:cocoon-bench -pbkdf2 -in /dev/zero 2>/dev/null |
	head -c $((INITRD_MB << 20)) >"$T/initrd.img"
mkdir -p "$T/spec/models"
for i in $(seq 1 200); do printf 'file %d\n%0512d\n' "$i" "$i" >"$T/spec/models/f$i.yaml"; done
cat >"$T/vm.json" <<JSON
{"firmware": "$F/OVMF.fd", "kernel": "$PWD/$K", "initrd": "initrd.img",
 "cmdline": "console=hvc0 root=/dev/vda ro", "memory": "100G", "cpus": 32,
 "acpi_tables": "$F/runtime-capture/acpi_tables.bin", "spec_dir": "spec"}
JSON
files=("$F/OVMF.fd" "$K" "$T/initrd.img" "$F/runtime-capture/acpi_tables.bin" "$T"/spec/models/*)
bytes=$(cat "${files[@]}" | wc -c)
"$BUILD/bin/cocoon-measure" image --vm "$T/vm.json" >/dev/null # warm the page cache
sha384sum "${files[@]}" >/dev/null
# Wall time (what the auditor waits for) and CPU time (user+sys, both threads) per tool.
TIMEFORMAT='%R %U %S'
: >"$T/tm" ; : >"$T/ts"
for _ in $(seq 1 "$RUNS"); do
	{ time "$BUILD/bin/cocoon-measure" image --vm "$T/vm.json" >/dev/null; } 2>>"$T/tm"
	{ time sha384sum "${files[@]}" >/dev/null; } 2>>"$T/ts"
done
awk -v n="$RUNS" -v bytes="$bytes" '
	FNR == NR { mw += $1; mc += $2 + $3; next }
	{ sw += $1; sc += $2 + $3 }
	END {
		printf "inputs: %.1f MiB (firmware, kernel, initrd, ACPI, spec: 200 files), %d runs each, interleaved\n", bytes / 1048576, n
		printf "cocoon-measure image: wall %.1f ms, cpu %.1f ms per run\n", mw / n * 1000, mc / n * 1000
		printf "sha384sum (same files): wall %.1f ms, cpu %.1f ms per run\n", sw / n * 1000, sc / n * 1000
		printf "ratio image/sha384sum: wall %.2fx, cpu %.2fx (aim < 1.5x)\n", mw / sw, mc / sc
	}' "$T/tm" "$T/ts"
