#!/bin/bash
# cocoon-launch argv against the option parser of trixie-backports QEMU (>= 10.1, TDX).
#
# QEMU comes from a cached trixie root (mmdebstrap; the bookworm host's libc is not
# touched), qemu-system-x86 pinned by exact version and by the SHA256 the signed
# Packages index lists for it. The Debian mirror is taken from the host's apt
# configuration (COCOON_DEBIAN_MIRROR overrides). Cache: COCOON_CACHE_DIR (default
# /var/cache/cocoon when root). First run ~1 min, later runs reuse the root.
#
# What each test proves, and where QEMU stops on a host without TDX:
#  1. TDX argv, -accel kvm: every option parses and the tdx-guest object is created; QEMU
#     stops at the KVM step: "vm-type TDX not supported by KVM" (or, without /dev/kvm,
#     at opening KVM). Devices are not realized at that point.
#  2. TDX argv with the accelerator switched to TCG: stops at the TDX private-memory step:
#     "cannot set up private guest memory for tdx-guest: KVM required".
#  3. The same worker shape without TDX (--no-tdx, TCG, no vsock: no /dev/vhost-vsock
#     here): fully accepted, every device realized; QEMU stays paused (-S) until killed.
#  4. GPU argv without TDX: stops at iommufd ("/dev/iommu does not exist"); with the
#     iommufd object removed, pcie-root-port and vfio-pci parse and QEMU stops at the
#     missing host device "no such host device".
set -euo pipefail

QEMU_VERSION="1:11.1.3+ds-1~bpo13+1"
QEMU_SHA256="447decc4b3c245edc1d0940bdf97c87e07b2e3bd4b24c4d0c7155d860d52bd5f"

BUILD=${BUILD:-build}
LAUNCH=$(realpath "$BUILD/bin/cocoon-launch")
FIXTURES=${FIXTURES:-../shared/fixtures}
. "$(dirname "$0")/launch_lib.sh"

die() { echo "error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "this test needs root (mmdebstrap root mode, chroot)"
command -v mmdebstrap >/dev/null || die "mmdebstrap missing (make deps installs it)"

mirror() {
	if [ -n "${COCOON_DEBIAN_MIRROR:-}" ]; then echo "$COCOON_DEBIAN_MIRROR"; return; fi
	local m
	m=$(awk '/^URIs:/{print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security' | head -n1 || true)
	if [ -z "$m" ]; then
		m=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){print $i; exit}}' \
			/etc/apt/sources.list 2>/dev/null | grep -v -- '-security' | head -n1 || true)
	fi
	[ -n "$m" ] || die "no Debian mirror in the apt configuration; set COCOON_DEBIAN_MIRROR"
	echo "$m"
}

CACHE=${COCOON_CACHE_DIR:-/var/cache/cocoon}
ROOT="$CACHE/qemu-trixie-bpo-${QEMU_VERSION//[:~+]/_}"
mkdir -p "$CACHE"
exec 9>"$CACHE/.qemu-root.lock"
flock 9
if [ "$(cat "$ROOT/.cocoon-ready" 2>/dev/null || true)" != "$QEMU_VERSION $QEMU_SHA256" ]; then
	M=$(mirror)
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
chroot "$ROOT" qemu-system-x86_64 --version | head -n1

# A test image and node inside the root (paths are given to QEMU relative to the root).
T=$(mktemp -d "$ROOT/tmp/launch.XXXXXX")
trap 'rm -rf "$T"' EXIT
TIN=${T#"$ROOT"}
mkdir -p "$T/img" "$T/spec" "$T/log" "$T/run"
launch_test_image "$T/img"
truncate -s 64M "$T/persistent.img" "$T/model.img" "$T/model.verity"
cat > "$T/worker.conf" <<EOF
[node]
type = worker
image_dir = $T/img
spec_dir = $T/spec
persistent_disk = $T/persistent.img
model.qwen = $T/model.img, $T/model.verity
memory = 2G
vcpus = 2
ports = 18443:8443
vsock_cid = 6
log_dir = $T/log
run_dir = $T/run
EOF

# argv of `cocoon-launch run --print0 ...`, with the root prefix stripped
argv_of() {
	local -n _out=$1
	shift
	mapfile -d '' _out < <("$LAUNCH" run "$T/worker.conf" --print0 "$@" 2>/dev/null)
	[ "${#_out[@]}" -gt 10 ] || die "cocoon-launch run --print0 $* failed"
	_out=("${_out[@]//$ROOT\//\/}")
}

# run QEMU in the root: prints its stderr, returns its status (124 = still running at timeout)
in_root() {
	touch "$ROOT/dev/kvm"
	local st=0
	unshare -m bash -c '
		root=$1; shift
		[ -e /dev/kvm ] && mount --bind /dev/kvm "$root/dev/kvm"
		exec timeout 10 chroot "$root" "$@" -S' _ "$ROOT" "$@" 2>"$T/stderr" >/dev/null || st=$?
	cat "$T/stderr"
	return $st
}

# 1. TDX argv as built for production
argv_of A
st=0; err=$(in_root "${A[@]}") || st=$?
echo "TDX argv (accel kvm) stopped with status $st: $err"
if [ "$st" = 1 ] && [ "$(grep -c . "$T/stderr")" = 1 ] &&
   { grep -q 'vm-type TDX not supported by KVM' "$T/stderr" ||
     grep -qE 'Could not access KVM kernel module|failed to initialize kvm' "$T/stderr"; }; then
	ok "TDX argv parses; QEMU 11 stops at the KVM/TDX step: $err"
else
	bad "TDX argv did not stop (only) at the KVM/TDX step: $err"
fi

# 2. the same argv with TCG: reaches the TDX private-memory setup
B=()
for a in "${A[@]}"; do
	case "$a" in kvm) B+=(tcg) ;; host) B+=(max) ;; *) B+=("$a") ;; esac
done
st=0; err=$(in_root "${B[@]}") || st=$?
if [ "$st" = 1 ] && [ "$err" = "qemu-system-x86_64: cannot set up private guest memory for tdx-guest: KVM required" ]; then
	ok "TDX argv under TCG stops at the TDX private memory step: $err"
else
	bad "TDX argv under TCG: status $st: $err"
fi

# 3. the no-TDX shape (no vsock: no /dev/vhost-vsock in this environment) is fully accepted
argv_of C --no-tdx --accel tcg --set vsock_cid=0 --set console=file
st=0; err=$(in_root "${C[@]}") || st=$?
if [ "$st" = 124 ] && ! grep -v 'terminating on signal' "$T/stderr" | grep -q .; then
	ok "no-TDX argv accepted by QEMU 11: all devices realized, guest paused until killed"
else
	bad "no-TDX argv: status $st: $err"
fi

# 4. GPU: iommufd, then pcie-root-port + vfio-pci
argv_of D --no-tdx --accel tcg --set vsock_cid=0 --set gpu=0000:17:00.0
st=0; err=$(in_root "${D[@]}") || st=$?
if [ "$st" = 1 ] && grep -q '/dev/iommu does not exist' "$T/stderr"; then
	ok "GPU argv: iommufd object parses, stops at the missing /dev/iommu"
else
	bad "GPU argv: status $st: $err"
fi
E=()
for a in "${D[@]}"; do
	if [ "$a" = "iommufd,id=iommufd0" ]; then unset 'E[-1]'; continue; fi
	E+=("${a/,iommufd=iommufd0/}")
done
st=0; err=$(in_root "${E[@]}") || st=$?
if [ "$st" = 1 ] && grep -q 'vfio-pci,host=0000:17:00.0,bus=rp-gpu0: vfio /sys/bus/pci/devices/0000:17:00.0: no such host device' "$T/stderr"; then
	ok "GPU argv without iommufd: pcie-root-port and vfio-pci parse, stops at the missing host device"
else
	bad "GPU argv without iommufd: status $st: $err"
fi

launch_summary
