# Helpers shared by the cocoon-launch integration tests (sourced, not run).

# Results: ok/bad count; launch_summary prints "N passed, N failed" and sets the status.
pass=0
fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
launch_summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}

# launch_test_image DIR: an image directory QEMU can load (not boot): the fixture
# OVMF.fd, a minimal bzImage header (boot protocol 2.15, no code), a small initrd,
# a cmdline, a sparse rootfs, and manifest.json with their sha256.
launch_test_image() {
	local d=$1 k
	mkdir -p "$d"
	cp "$FIXTURES/tdx/measure/OVMF.fd" "$d/OVMF.fd"
	k="$d/vmlinuz"
	head -c 8192 /dev/zero > "$k"
	_put() { printf "$2" | dd of="$k" bs=1 seek=$(($1)) conv=notrunc status=none; }
	_put 0x1f1 '\x01'; _put 0x1fe '\x55\xaa'; _put 0x202 'HdrS'; _put 0x206 '\x0f\x02'
	_put 0x211 '\x01'; _put 0x22c '\xff\xff\xff\x7f'; _put 0x238 '\x00\x08\x00\x00'
	head -c 4096 /dev/zero > "$d/initrd.img"
	echo "console=hvc0 cocoon.roothash=00" > "$d/cmdline"
	truncate -s 64M "$d/rootfs.img"
	{
		printf '{"artifacts": {'
		local sep="" f
		for f in OVMF.fd vmlinuz initrd.img cmdline rootfs.img; do
			printf '%s"%s": {"sha256": "%s"}' "$sep" "$f" "$(sha256sum "$d/$f" | cut -d' ' -f1)"
			sep=", "
		done
		printf '}}\n'
	} > "$d/manifest.json"
}
