#!/bin/bash
# cocoon-launch capture-acpi end to end: boots the probe guest (pinned trixie-backports
# kernel from image-recipes/debfetch.sh, initrd made by cocoon-mkinitrd with
# cocoon-acpi-probe as /init) under host QEMU with TCG and the fixture OVMF.fd, and checks:
#  - the three fw_cfg blobs arrive complete (sizes QEMU uses: 128 KiB, 20, 4096 bytes);
#  - the captured etc/table-loader and etc/acpi/rsdp equal what libmeasure derives from the
#    captured etc/acpi/tables (an independent check of every captured byte of those two);
#  - another vCPU count gives other tables (MADT), the same shape gives the same bytes;
#  - VM.json is accepted by `cocoon-measure image --vm` and RTMR0 follows the shape.
# Not covered here: a TDX guest (no TDX hardware); see docs/operator-guide.md.
set -euo pipefail

BUILD=${BUILD:-build}
FIXTURES=${FIXTURES:-../shared/fixtures}
L=$(realpath "$BUILD/bin/cocoon-launch")
M=$(realpath "$BUILD/bin/cocoon-measure")
. "$(dirname "$0")/launch_lib.sh"

KDIR="$BUILD/guest-kernel"
if [ ! -f "$KDIR/vmlinuz" ]; then
	image-recipes/debfetch.sh kernel "$KDIR" || { echo "error: cannot fetch the guest kernel"; exit 1; }
fi
T=$(mktemp -d /tmp/launch-acpi.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$BUILD/bin/cocoon-mkinitrd" -o "$T/probe.img" -c gzip --elf "init=$BUILD/bin/cocoon-acpi-probe" >/dev/null ||
	{ echo "error: cocoon-mkinitrd failed"; exit 1; }

launch_test_image "$T/img"
cp "$KDIR/vmlinuz" "$T/img/vmlinuz"     # a real PE kernel, for cocoon-measure image
mkdir -p "$T/spec"
echo '{}' > "$T/spec/worker.json"
truncate -s 64M "$T/persistent.img" "$T/model.img"
launch_worker_conf "$T" "model.qwen = $T/model.img" "memory = 1G" "vcpus = 2" "vsock_cid = 0" "accel = tcg" \
	> "$T/node.conf"

capture() { # OUT [--set ...]
	local out=$1
	shift
	"$L" capture-acpi "$T/node.conf" --kernel "$KDIR/vmlinuz" --initrd "$T/probe.img" --out "$out" \
		--timeout 300 "$@" >"$out.log" 2>&1
}

if capture "$T/a" && [ "$(stat -c %s "$T/a/tables.bin")" = 131072 ] && [ "$(stat -c %s "$T/a/rsdp.bin")" = 20 ] &&
   [ "$(stat -c %s "$T/a/table-loader.bin")" = 4096 ] && [ "$(head -c 8 "$T/a/rsdp.bin")" = "RSD PTR " ]; then
	ok "probe captured etc/acpi/tables (131072), etc/acpi/rsdp (20), etc/table-loader (4096)"
else
	bad "capture failed: $(cat "$T/a.log")"
fi
if grep -q '"table_loader_matches": true' "$T/a/acpi.json" && grep -q '"rsdp_matches": true' "$T/a/acpi.json"; then
	ok "captured table-loader and rsdp equal libmeasure's derivation from the captured tables"
else
	bad "derivation mismatch: $(cat "$T/a/acpi.json")"
fi

capture "$T/b" || bad "second capture failed: $(cat "$T/b.log")"
capture "$T/c" --set vcpus=4 || bad "4-vCPU capture failed: $(cat "$T/c.log")"
if cmp -s "$T/a/tables.bin" "$T/b/tables.bin" && ! cmp -s "$T/a/tables.bin" "$T/c/tables.bin"; then
	ok "same shape gives the same tables; 4 vCPUs give different tables"
else
	bad "shape dependence not as expected"
fi

rtmr0_of() { "$M" image --vm "$1" 2>>"$T/m.err" | awk '/^rtmr0:/{print $2}'; }
sta=0; r0a=$(rtmr0_of "$T/a/VM.json") || sta=$?
stc=0; r0c=$(rtmr0_of "$T/c/VM.json") || stc=$?
if [ "$sta$stc" = 00 ] && [[ "$r0a" =~ ^[0-9a-f]{96}$ ]] && [[ "$r0c" =~ ^[0-9a-f]{96}$ ]] && [ "$r0a" != "$r0c" ]; then
	ok "cocoon-measure image --vm VM.json predicts RTMR0 per shape ($r0a vs $r0c)"
else
	bad "cocoon-measure image: '$r0a' '$r0c' $(cat "$T/m.err")"
fi

# The same capture with QEMU >= 10.1 from trixie (test tooling, cached chroot; the
# wrapper strips the root prefix from the paths).
launch_qemu11_root
Q=$(mktemp -d "$QROOT/tmp/acpi.XXXXXX")
trap 'rm -rf "$T" "$Q"' EXIT
cp -r "$T/img" "$T/spec" "$T/persistent.img" "$T/model.img" "$T/probe.img" "$Q/"
sed "s#$T/#$Q/#g" "$T/node.conf" > "$Q/node.conf"
printf '#!/bin/bash\nR=%s\nexec chroot "$R" qemu-system-x86_64 "${@//$R\\//\\/}"\n' "$QROOT" > "$Q/qemu11"
chmod +x "$Q/qemu11"
if "$L" capture-acpi "$Q/node.conf" --set qemu="$Q/qemu11" --kernel "$Q/img/vmlinuz" --initrd "$Q/probe.img" \
	--out "$Q/out" --timeout 300 >"$Q/out.log" 2>&1 &&
   grep -q '"table_loader_matches": true' "$Q/out/acpi.json" && grep -q '"rsdp_matches": true' "$Q/out/acpi.json"; then
	ok "capture with QEMU $QEMU_VERSION: complete, loader and rsdp equal the derivation"
	echo "   tables.bin sha256: host QEMU $(qemu-system-x86_64 --version | head -n1 | awk '{print $4}'):" \
		"$(sha256sum < "$T/a/tables.bin" | cut -c1-16)..., QEMU 11: $(sha256sum < "$Q/out/tables.bin" | cut -c1-16)..."
else
	bad "capture with QEMU 11: $(cat "$Q/out.log")"
fi

launch_summary
