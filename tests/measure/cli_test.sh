#!/bin/bash
# Integration tests of cocoon-measure eventlog / mrtd / spec / image on the real fixtures.
# Run by `make test` with BUILD and FIXTURES set.
set -euo pipefail
B=${BUILD:-build}/bin/cocoon-measure
F=${FIXTURES:?}/tdx
K=build/cache/kernel/vmlinuz
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
# jget FILE KEY -> the value at a dotted path (numbers index arrays); prints nothing and
# exits non-zero when the path is absent or the file is not JSON (the eq that follows fails).
jget() { jq -r --arg k "$2" 'getpath($k | split(".") | map(tonumber? // .)) |
	if . == null then error("no \($k)") else . end' "$1"; }
expect_rc() { # name want_rc cmd...
	local name=$1 want=$2; shift 2
	local rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" = "$want" ]; then pass "$name (exit $rc)"; else fail "$name: exit $rc, want $want: $(head -c 300 "$T/err")"; fi
}
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2' want '$3'"; fi; }

RTMR0=3fa2f61f395b7f5feefb4ec2df61297f109ad8abcd6410c1b7df60f21f37b19297fc35e544039c7e1edece752afd17f6
# --- eventlog ---
expect_rc "eventlog replays the CCEL fixture to its quote" 0 \
	$B eventlog --ccel $F/ccel/ccel_table.dat --log $F/ccel/ccel_data.dat --quote $F/ccel/cos-113-tdx-quote.dat --json
eq "eventlog matches_quote" "$(jget $T/out matches_quote)" true
eq "eventlog rtmr0" "$(jget $T/out rtmr0)" $RTMR0
eq "eventlog decodes Boot0000" "$(jget $T/out events.13.description)" "Boot0000: UiApp"
eq "eventlog per-register verdict" "$(jget $T/out quote_registers.rtmr2.match)" true
head -c 9000 $F/ccel/ccel_data.dat >$T/trunc.dat
expect_rc "eventlog on a truncated log exits 1" 1 $B eventlog --log $T/trunc.dat
grep -q "event at offset 8992 truncated" $T/err && pass "truncation error names the offset" || fail "truncation offset: $(cat $T/err)"
expect_rc "eventlog against another TD's quote exits 3" 3 \
	$B eventlog --log $F/ccel/ccel_data.dat --quote $F/quotes/dcapqvl_tdx_quote.bin --json
eq "eventlog mismatch verdict" "$(jget $T/out matches_quote)" false
$PY - "$F/ccel/ccel_data.dat" "$T/dup.dat" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
sep = d[8577:8647]
open(sys.argv[2], "wb").write(d[:8647] + sep + d[8647:len(d) - len(sep)])
PY
expect_rc "eventlog with a duplicate separator exits 3" 3 $B eventlog --log $T/dup.dat --json
grep -q "duplicate EV_SEPARATOR" $T/out && pass "duplicate separator reported" || fail "no duplicate report"
expect_rc "eventlog bad CCEL table exits 1" 1 $B eventlog --ccel $F/ccel/nonce.dat --log $F/ccel/ccel_data.dat
expect_rc "eventlog without --log is a usage error" 2 $B eventlog --ccel $F/ccel/ccel_table.dat
expect_rc "eventlog --log without its value is a usage error" 2 $B eventlog --log
eq "... that names the option and says what is missing" "$(cat $T/err)" \
	"error: option '--log' needs a value (see: cocoon-measure eventlog --help)"
expect_rc "quote --json=1 is a usage error" 2 $B quote --json=1 q.dat
eq "... that says --json takes no value" "$(cat $T/err)" \
	"error: option '--json' takes no value (see: cocoon-measure quote --help)"
expect_rc "quote --time with a negative value is a usage error" 2 $B quote --collateral c.json --time -5 q.dat
eq "... that says what --time wants and what it got" "$(cat $T/err)" \
	"error: option '--time' wants unix seconds, got '-5' (see: cocoon-measure quote --help)"
expect_rc "cert --root longer than PATH_MAX is a usage error, not cut short" 2 \
	$B cert --root "/$(head -c 5000 /dev/zero | tr '\0' a)" cert.der
eq "... that names --root, its limit and the length given" "$(cat $T/err)" \
	"error: option '--root' wants at most 4095 bytes, got 5001 (see: cocoon-measure cert --help)"

# eventlog --vm: diff the log against a prediction
cat >$T/vm-log.json <<JSON
{"firmware": "$F/measure/OVMF.fd", "memory": "2G", "rtmr0_log": "$F/ccel/ccel_data.dat"}
JSON
expect_rc "eventlog --vm with RTMR0 from the same log" 0 $B eventlog --log $F/ccel/ccel_data.dat --vm $T/vm-log.json --json
eq "matches_prediction" "$(jget $T/out matches_prediction)" true
cat >$T/vm-pred.json <<JSON
{"firmware": "$F/measure/OVMF.fd", "memory": "2G", "acpi_tables": "$F/measure/canonical-defaults/acpi_tables.bin"}
JSON
expect_rc "eventlog --vm against another platform exits 3" 3 $B eventlog --log $F/ccel/ccel_data.dat --vm $T/vm-pred.json --json
eq "diff names the first differing event" "$(jget $T/out prediction_diff.0.log_description)" "TdxTable (1 table(s))"
eq "diff shows the predicted event" "$(jget $T/out prediction_diff.0.predicted_description)" "TD HOB for 2048 MiB of RAM (440 bytes)"
eq "separators line up" "$(jget $T/out prediction_diff.7.position)" 8

# --- mrtd ---
for order in per-page per-section; do
	expect_rc "mrtd $order" 0 $B mrtd --page-order $order --json $F/measure/OVMF.fd
	eq "mrtd $order equals the python reference" "$(jget $T/out mrtd)" "$($PY tests/measure/mrtd.py $F/measure/OVMF.fd $order)"
	eq "mrtd lists 6 sections" "$(jget $T/out sections.4.type)" TD_HOB
done
head -c 1000000 $F/measure/OVMF.fd >$T/short.fd
expect_rc "mrtd on a truncated firmware exits 1" 1 $B mrtd $T/short.fd
expect_rc "mrtd bad page order" 2 $B mrtd --page-order two-pass $F/measure/OVMF.fd

# --- image on tdx-measure's fixtures (platform only: MRTD + RTMR0) ---
for shape in canonical-defaults q35-with-hpet runtime-capture; do
	expect_rc "image $shape" 0 $B image --vm $F/measure/$shape/metadata.json --json
	eq "image $shape rtmr0 = expected.json" "$(jget $T/out rtmr0)" "$(jget $F/measure/$shape/expected.json rtmr0)"
	[ "$(jget $T/out mrtd)" != "$(jget $F/measure/$shape/expected.json mrtd)" ] &&
		pass "image $shape mrtd differs from Ubuntu's" || fail "Debian MRTD equals Ubuntu's"
done

# --- spec (against real git) and RTMR3 log replay ---
mkdir -p $T/spec/dir/sub $T/spec/runtime
printf 'model: x\n' >$T/spec/dir/a.yaml
printf '#!/bin/sh\n' >$T/spec/dir/sub/run.sh && chmod +x $T/spec/dir/sub/run.sh
printf 'unmeasured\n' >$T/spec/runtime/state
expect_rc "spec DIR" 0 $B spec --json $T/spec
tree=$(cd $T && cp -r spec git && cd git && rm -rf runtime && git init -q --object-format=sha256 . &&
	git add -A && git write-tree)
eq "spec_tree equals git write-tree (sha256)" "$(jget $T/out spec_tree)" "$tree"
printf 'cocoon:spec.tree=%s\ncocoon:tdx_inited\n' "$tree" >$T/rtmr3.log
want=$(jget $T/out rtmr3)
expect_rc "spec DIR --log matching" 0 $B spec --json --log $T/rtmr3.log $T/spec
eq "log_matches_spec" "$(jget $T/out log_matches_spec)" true
expect_rc "spec --debug DIR --log without the debug event exits 3" 3 $B spec --debug --log $T/rtmr3.log $T/spec
expect_rc "spec --log alone" 0 $B spec --json --log $T/rtmr3.log
eq "replayed rtmr3" "$(jget $T/out rtmr3)" "$want"
printf 'no newline' >$T/bad.log
expect_rc "spec --log malformed exits 1" 1 $B spec --log $T/bad.log

# eventlog --rtmr3-log: the guest's runtime log continues RTMR3 after the CCEL
expect_rc "eventlog --rtmr3-log against a quote taken before the extends exits 3" 3 \
	$B eventlog --log $F/ccel/ccel_data.dat --rtmr3-log $T/rtmr3.log --quote $F/ccel/cos-113-tdx-quote.dat --json
eq "rtmr3 continues with the runtime log" "$(jget $T/out rtmr3)" "$want"
eq "rtmr0 still matches the quote" "$(jget $T/out quote_registers.rtmr0.match)" true
eq "rtmr3 no longer matches the quote" "$(jget $T/out quote_registers.rtmr3.match)" false
cat >$T/vm-r3.json <<JSON
{"firmware": "$F/measure/OVMF.fd", "memory": "2G", "rtmr0_log": "$F/ccel/ccel_data.dat", "spec_dir": "spec"}
JSON
expect_rc "eventlog --rtmr3-log --vm with the spec" 0 \
	$B eventlog --log $F/ccel/ccel_data.dat --rtmr3-log $T/rtmr3.log --vm $T/vm-r3.json --json
eq "runtime events match the spec prediction" "$(jget $T/out prediction.rtmr3.match)" true
sed 's/}$/, "debug": true}/' $T/vm-r3.json >$T/vm-r3d.json
expect_rc "eventlog --rtmr3-log --vm with --debug spec mismatch" 3 \
	$B eventlog --log $F/ccel/ccel_data.dat --rtmr3-log $T/rtmr3.log --vm $T/vm-r3d.json --json
eq "diff names the missing debug event" "$(jget $T/out prediction_diff.0.predicted_description)" "cocoon:cocoon_debug"

# --- full image ---
head -c 3000000 $K >$T/initrd.img
cat >$T/vm.json <<JSON
{"firmware": "$F/measure/OVMF.fd", "kernel": "$PWD/$K", "initrd": "initrd.img",
 "cmdline": "console=hvc0", "memory": "2G", "cpus": 4,
 "acpi_tables": "$F/measure/canonical-defaults/acpi_tables.bin", "spec_dir": "spec"}
JSON
expect_rc "image full" 0 $B image --vm $T/vm.json --json
cp $T/out $T/full.json
eq "image rtmr0 with kernel" "$(jget $T/full.json rtmr0)" "$(jget $F/measure/canonical-defaults/expected.json rtmr0)"
eq "image rtmr3 = spec" "$(jget $T/full.json rtmr3)" "$want"
eq "image echoes kernel sha256" "$(jget $T/full.json inputs.kernel.sha256)" "$(sha256sum <$K | cut -d' ' -f1)"
eq "image echoes initrd sha256" "$(jget $T/full.json inputs.initrd.sha256)" "$(sha256sum <$T/initrd.img | cut -d' ' -f1)"
eq "image initrd event" "$(jget $T/full.json events.rtmr2.1.digest)" "$(sha384sum <$T/initrd.img | cut -d' ' -f1)"
eq "image kernel event = pefile Authenticode" "$(jget $T/full.json events.rtmr1.0.digest)" "$($PY tests/measure/authenticode.py $K)"
$PY - "$T/full.json" <<'PY' && pass "image_hash = SHA-256(registers)" || fail "image_hash"
import hashlib, json, sys
o = json.load(open(sys.argv[1]))
b = bytes.fromhex(o["mrtd"]) + bytes(48 * 3) + b"".join(bytes.fromhex(o["rtmr%d" % i]) for i in range(4)) + bytes(64)
sys.exit(hashlib.sha256(b).hexdigest() != o["image_hash"])
PY
sed 's/"cpus": 4,/"cpus": 4, "kernel_mode": "qemu-patched",/' $T/vm.json >$T/vm2.json
expect_rc "image qemu-patched" 0 $B image --vm $T/vm2.json --json
eq "qemu-patched: same rtmr2" "$(jget $T/out rtmr2)" "$(jget $T/full.json rtmr2)"
eq "qemu-patched kernel = pefile of patched" "$(jget $T/out events.rtmr1.0.digest)" \
	"$($PY tests/measure/authenticode.py $K --patch 2147483648 3000000)"
sed 's/"memory": "2G"/"memory": "lots"/' $T/vm.json >$T/vm3.json
expect_rc "image bad memory exits 1" 1 $B image --vm $T/vm3.json
expect_rc "image missing --vm" 2 $B image

if [ $fails -ne 0 ]; then echo "cli_test: $fails failure(s)"; exit 1; fi
echo "cli_test: all passed"
