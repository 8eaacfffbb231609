# Helpers shared by the cocoon-launch integration tests (sourced, not run).
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

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

die() { echo "error: $*" >&2; exit 1; }

# launch_qemu11_root: a cached Debian trixie root with trixie-backports qemu-system-x86
# pinned by version and by the SHA256 of the signed Packages index (the bookworm host's
# libc is not touched). Sets QROOT. Mirror: the host's apt configuration, or
# COCOON_DEBIAN_MIRROR. Cache: COCOON_CACHE_DIR (default /var/cache/cocoon). Needs root.
# The Debian mirror: the same rule as every other fetch (image-recipes/debfetch.sh: apt's
# configuration, DEBIAN_MIRROR overrides; COCOON_DEBIAN_MIRROR is kept as an alias).
_launch_mirror() {
	DEBIAN_MIRROR=${DEBIAN_MIRROR:-${COCOON_DEBIAN_MIRROR:-}} "$(dirname "${BASH_SOURCE[0]}")/../../image-recipes/debfetch.sh" mirror ||
		die "no Debian mirror in the apt configuration; set DEBIAN_MIRROR"
}

QEMU_VERSION="1:11.1.3+ds-1~bpo13+1"
QEMU_SHA256="447decc4b3c245edc1d0940bdf97c87e07b2e3bd4b24c4d0c7155d860d52bd5f"
launch_qemu11_root() {
	[ "$(id -u)" = 0 ] || die "the QEMU 11 root needs root (mmdebstrap root mode, chroot)"
	command -v mmdebstrap >/dev/null || die "mmdebstrap missing (make deps installs it)"
	local CACHE=${COCOON_CACHE_DIR:-/var/cache/cocoon} ROOT M got inst
	ROOT="$CACHE/qemu-trixie-bpo-${QEMU_VERSION//[:~+]/_}"
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.qemu-root.lock"
	flock 9
	if [ "$(cat "$ROOT/.cocoon-ready" 2>/dev/null || true)" != "$QEMU_VERSION $QEMU_SHA256" ]; then
		M=$(_launch_mirror)
		echo "preparing trixie root with qemu-system-x86=$QEMU_VERSION in $ROOT (mirror from apt config)"
		rm -rf "$ROOT" "$ROOT.tmp"
		mmdebstrap --quiet --variant=apt --aptopt='APT::Install-Recommends "false"' \
			--include="qemu-system-x86=$QEMU_VERSION" --skip=cleanup/apt/lists \
			--setup-hook='mkdir -p "$1/etc/apt/preferences.d"; printf "Package: qemu-* seabios\nPin: release n=trixie-backports\nPin-Priority: 990\n" > "$1/etc/apt/preferences.d/qemu"' \
			trixie "$ROOT.tmp" "deb $M trixie main" "deb $M trixie-backports main"
		got=$(chroot "$ROOT.tmp" apt-cache show "qemu-system-x86=$QEMU_VERSION" | awk '/^SHA256:/{print $2; exit}')
		[ "$got" = "$QEMU_SHA256" ] || die "qemu-system-x86 $QEMU_VERSION has SHA256 $got in the index, pinned $QEMU_SHA256"
		inst=$(chroot "$ROOT.tmp" dpkg-query -W -f='${Version}' qemu-system-x86)
		[ "$inst" = "$QEMU_VERSION" ] || die "installed qemu-system-x86 is $inst, pinned $QEMU_VERSION"
		echo "$QEMU_VERSION $QEMU_SHA256" > "$ROOT.tmp/.cocoon-ready"
		mv "$ROOT.tmp" "$ROOT"
	fi
	flock -u 9
	QROOT=$ROOT
}
