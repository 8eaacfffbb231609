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

# launch_worker_conf DIR [LINE...]: a worker's node.conf on stdout, for the image DIR/img, the
# spec DIR/spec and the persistent disk DIR/persistent.img, with the guest's port 8443
# forwarded from a free host port; each LINE ("key = value") follows.
launch_worker_conf() {
	local d=$1
	shift
	printf '%s\n' "[node]" "type = worker" "image_dir = $d/img" "spec_dir = $d/spec" \
		"persistent_disk = $d/persistent.img" "ports = $(free_port):8443" "$@"
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

# The Debian mirror: the same rule as every other fetch (image-recipes/debfetch.sh: apt's
# configuration, DEBIAN_MIRROR overrides; COCOON_DEBIAN_MIRROR is kept as an alias).
_launch_debfetch() {
	DEBIAN_MIRROR=${DEBIAN_MIRROR:-${COCOON_DEBIAN_MIRROR:-}} "$(dirname "${BASH_SOURCE[0]}")/../../image-recipes/debfetch.sh" "$@"
}

# launch_qemu11_root: QEMU >= 10.1 (the first with the tdx-guest object) from Debian trixie,
# in a cached trixie root (the bookworm host's libc is not touched). Test tooling is pinned by
# upstream version, not by Debian revision (docs/testing.md): the newest qemu-system-x86 with
# upstream version >= QEMU_MIN that trixie-backports or trixie serves, resolved through the
# suites' signed InRelease and the Packages sha256 (debfetch.sh tool), installed by
# mmdebstrap with apt verifying against the pinned debian-archive-keyring, then checked: the
# installed version and the index sha256 are the resolved ones and `-object help` lists
# tdx-guest. Prints the build it uses; sets QROOT and QEMU_VERSION. Cache: COCOON_CACHE_DIR
# (default /var/cache/cocoon). Needs root.
QEMU_MIN=10.1
launch_qemu11_root() {
	[ "$(id -u)" = 0 ] || die "the QEMU root needs root (mmdebstrap root mode, chroot)"
	command -v mmdebstrap >/dev/null || die "mmdebstrap missing (make deps installs it)"
	local CACHE=${COCOON_CACHE_DIR:-/var/cache/cocoon} ROOT M got inst name suite sha keyring
	M=$(_launch_debfetch mirror) || die "no Debian mirror in the apt configuration; set DEBIAN_MIRROR"
	read -r name QEMU_VERSION suite sha < <(_launch_debfetch tool qemu-system-x86 "$QEMU_MIN" trixie-backports trixie) ||
		die "cannot resolve qemu-system-x86 >= $QEMU_MIN from the mirror's signed indexes"
	keyring=$(_launch_debfetch keyring) || die "cannot get the pinned Debian keyring"
	ROOT="$CACHE/qemu-trixie-${QEMU_VERSION//[:~+]/_}"
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.qemu-root.lock"
	flock 9
	if [ "$(cat "$ROOT/.cocoon-ready" 2>/dev/null || true)" != "$QEMU_VERSION $sha" ]; then
		echo "preparing trixie root with qemu-system-x86=$QEMU_VERSION ($suite) in $ROOT (mirror from apt config)"
		rm -rf "$ROOT" "$ROOT.tmp"
		mmdebstrap --quiet --variant=apt --aptopt='APT::Install-Recommends "false"' --keyring="$keyring" \
			--include="qemu-system-x86=$QEMU_VERSION" --skip=cleanup/apt/lists \
			--setup-hook='mkdir -p "$1/etc/apt/preferences.d"; printf "Package: qemu-* seabios\nPin: release n=trixie-backports\nPin-Priority: 990\n" > "$1/etc/apt/preferences.d/qemu"' \
			trixie "$ROOT.tmp" "deb $M trixie main" "deb $M trixie-backports main" ||
			die "mmdebstrap could not install qemu-system-x86=$QEMU_VERSION"
		got=$(chroot "$ROOT.tmp" apt-cache show "qemu-system-x86=$QEMU_VERSION" | awk '/^SHA256:/{print $2; exit}')
		[ "$got" = "$sha" ] || die "qemu-system-x86 $QEMU_VERSION has SHA256 $got in apt's index, $sha in the signed index debfetch.sh read"
		inst=$(chroot "$ROOT.tmp" dpkg-query -W -f='${Version}' qemu-system-x86)
		[ "$inst" = "$QEMU_VERSION" ] || die "installed qemu-system-x86 is $inst, resolved $QEMU_VERSION"
		chroot "$ROOT.tmp" qemu-system-x86_64 -object help | grep -qw tdx-guest ||
			die "qemu-system-x86 $QEMU_VERSION has no tdx-guest object"
		echo "$QEMU_VERSION $sha" > "$ROOT.tmp/.cocoon-ready"
		mv "$ROOT.tmp" "$ROOT"
	fi
	flock -u 9
	echo "test tooling: qemu-system-x86 $QEMU_VERSION sha256 $sha ($suite, upstream >= $QEMU_MIN)"
	QROOT=$ROOT
}
