#!/bin/bash
# cocoon-launch argv against the option parser of trixie-backports QEMU (>= 10.1, TDX).
#
# QEMU comes from a cached trixie root (mmdebstrap; the bookworm host's libc is not
# touched): test tooling pinned by upstream version (>= 10.1), the newest Debian revision
# the mirror serves, verified through the signed indexes (launch_lib.sh, docs/testing.md);
# the build used is printed. The Debian mirror is taken from the host's apt configuration
# (DEBIAN_MIRROR overrides). Cache: COCOON_CACHE_DIR (default /var/cache/cocoon when root).
# First run ~1.5 min, later runs reuse the root.
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

BUILD=${BUILD:-build}
LAUNCH=$(realpath "$BUILD/bin/cocoon-launch")
FIXTURES=${FIXTURES:-../shared/fixtures}
. "$(dirname "$0")/launch_lib.sh"

launch_qemu11_root
ROOT=$QROOT
chroot "$ROOT" qemu-system-x86_64 --version | head -n1

# A test image and node inside the root (paths are given to QEMU relative to the root).
T=$(mktemp -d "$ROOT/tmp/launch.XXXXXX")
trap 'rm -rf "$T"' EXIT
TIN=${T#"$ROOT"}
mkdir -p "$T/img" "$T/spec" "$T/log" "$T/run"
launch_test_image "$T/img"
truncate -s 64M "$T/persistent.img" "$T/model.img" "$T/model.verity"
launch_worker_conf "$T" "model.qwen = $T/model.img, $T/model.verity" "memory = 2G" "vcpus = 2" "vsock_cid = 6" \
	"log_dir = $T/log" "run_dir = $T/run" > "$T/worker.conf"

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
