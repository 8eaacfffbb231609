#!/usr/bin/env bash
# gpu-modules.sh KERNEL_DIR OUTDIR: the NVIDIA open kernel modules (nvidia, nvidia-uvm,
# nvidia-modeset, nvidia-drm, nvidia-peermem) of gpu.lock's nvidia-open-kernel-source, built
# against the pinned kernel inside the pinned build root, reproducibly; debug info stripped.
#
# KERNEL_DIR is `debfetch.sh kernel` output (kver, config, package). OUTDIR receives the five
# .ko files, SHA256SUMS and `inputs` (what the cache key covers). The build runs as Debian's
# own rules do (nvidia-open-kernel.tar.xz: `make modules KERNEL_UNAME=<kver>`), with
#  - the headers of gpu.lock (linux-headers-<kver>, -common, linux-kbuild; libelf for objtool)
#    unpacked outside the build root and bind-mounted at their Debian paths, after checking
#    that their .config is the pinned kernel's own config (the headers are pool pins: this is
#    what ties them to the signed linux-image package);
#  - fixed SOURCE_DATE_EPOCH=0, KBUILD_BUILD_TIMESTAMP/USER/HOST, LC_ALL, TZ, and the source
#    at the fixed path /build/nvidia with -ffile-prefix-map, so no host path or time is in
#    the output (checked: no /build/nvidia, work directory or checkout path in any .ko);
#  - `strip --strip-debug` (the five modules: about 310 MB -> 27 MB).
# The modules are not signed (the pinned kernel does not enforce signatures without Secure
# Boot; the image measures them instead: docs/gpu.md).
#
# Cache: $COCOON_CACHE/gpu-modules/<key>, key = sha256 over this script, the sha256 of every
# input .deb, the kernel package pin and the build root's lock; a cached entry is re-verified
# against its SHA256SUMS; GPU_MODULES_CACHE=0 builds anyway (check-repro's second build) and
# replaces the entry. -j: GPU_MODULES_JOBS (default 2).
#
# Environment: BUILDROOT (default build/buildroot), GPU_LOCK (default gpu.lock next to this
# script), COCOON_CACHE, DEBIAN_MIRROR, DEBIAN_SNAPSHOT, COCOON_STALE_PINS (see debfetch.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
die() { echo "gpu-modules: error: $*" >&2; exit 1; }
say() { echo "gpu-modules: $*" >&2; }

[ $# = 2 ] || die "usage: gpu-modules.sh KERNEL_DIR OUTDIR"
kdir=$1 out=$2
[ "$(id -u)" = 0 ] || die "must run as root (the pinned build root runs under chroot)"
[ -s "$kdir/kver" ] && [ -s "$kdir/config" ] && [ -s "$kdir/package" ] || die "$kdir is not 'debfetch.sh kernel' output (kver, config, package)"
kver=$(cat "$kdir/kver")
root=${BUILDROOT:-$top/build/buildroot}
lock=${GPU_LOCK:-$here/gpu.lock}
CACHE=${COCOON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cocoon}
MODULES="nvidia nvidia-uvm nvidia-modeset nvidia-drm nvidia-peermem"
pkgs="nvidia-open-kernel-source linux-headers-$kver linux-headers-${kver%-amd64}-common linux-kbuild-${kver%-amd64} libelf1t64"
br_ensure "$root" >&2
[ -s "$root/.lock" ] || die "the build root $root has no .lock"

# shellcheck disable=SC2086
debs=$(IMAGE_LOCK=$lock "$here/debfetch.sh" fetch $pkgs) || die "cannot fetch the pinned GPU build inputs ($lock)"
[ "$(echo "$debs" | wc -l)" = 5 ] || die "expected 5 packages from $lock"
inputs=$({
    echo "script $(sha256sum "$0" | cut -d' ' -f1)"
    echo "kernel $(cat "$kdir/package")"
    echo "buildroot-lock $(sha256sum "$root/.lock" | cut -d' ' -f1)"
    while read -r d; do echo "deb $(basename "$d") $(sha256sum "$d" | cut -d' ' -f1)"; done <<< "$debs"
})
key=$(printf '%s\n' "$inputs" | sha256sum | cut -d' ' -f1)
cache=$CACHE/gpu-modules/$key

publish() { # DIR: copy a verified result to OUTDIR
    rm -rf "$out" && mkdir -p "$out"
    for m in $MODULES; do cp "$1/$m.ko" "$out/"; done
    cp "$1/SHA256SUMS" "$1/inputs" "$out/"
}
if [ "${GPU_MODULES_CACHE:-1}" != 0 ] && [ -s "$cache/SHA256SUMS" ] && (cd "$cache" && sha256sum --quiet -c SHA256SUMS) 2>/dev/null &&
   cmp -s <(printf '%s\n' "$inputs") "$cache/inputs"; then
    say "cached: $cache"
    publish "$cache"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cocoon-gpu-modules.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/hdr" "$work/src" "$work/out"
while read -r d; do
    case "$(basename "$d")" in
        nvidia-open-kernel-source_*) dpkg-deb --fsys-tarfile "$d" | tar -xO ./usr/src/nvidia-open-kernel.tar.xz | tar -xJ -C "$work/src" ;;
        *) dpkg-deb -x "$d" "$work/hdr" ;;
    esac
done <<< "$debs"
src=$work/src/modules/nvidia-open-kernel
[ -f "$src/Makefile" ] || die "nvidia-open-kernel.tar.xz has no modules/nvidia-open-kernel/Makefile"
hconf=$work/hdr/usr/src/linux-headers-$kver/.config
[ -f "$hconf" ] || die "linux-headers-$kver has no .config"
# Debian's image package drops four build-only keys from the config it installs (the salt,
# the signing key and its use, the trusted keys); everything else must be identical.
cmp -s <(grep -v -E '^CONFIG_(BUILD_SALT|MODULE_SIG_ALL|MODULE_SIG_KEY|SYSTEM_TRUSTED_KEYS)=' "$hconf") "$kdir/config" ||
    die "the .config of linux-headers-$kver differs from the pinned kernel's config-$kver: the headers are not the pinned kernel's"
kbuild=$(cd "$work/hdr/usr/lib" && echo linux-kbuild-*)
[ -d "$work/hdr/usr/lib/$kbuild" ] || die "no usr/lib/linux-kbuild-* in the kbuild package"

jobs=${GPU_MODULES_JOBS:-2}
say "building $MODULES against $kver in the build root (make -j$jobs; a few minutes)"
# KCFLAGS: the kernel's own flags come from its Makefile; these only map the fixed source path.
br_run "$root" "$work/hdr/usr/src:/usr/src" "$work/hdr/usr/lib/$kbuild:/usr/lib/$kbuild" \
    "$work/hdr/usr/lib/modules:/usr/lib/modules" "$work/hdr/usr/lib/x86_64-linux-gnu:/build/gpu-libs" \
    "$src:/build/nvidia" -- sh -c '
    set -e; umask 022; cd /build/nvidia
    export LD_LIBRARY_PATH=/build/gpu-libs SOURCE_DATE_EPOCH=0 KBUILD_BUILD_TIMESTAMP=@0 \
        KBUILD_BUILD_USER=cocoon KBUILD_BUILD_HOST=cocoon
    make -j"$1" modules KERNEL_UNAME="$0" \
        KCFLAGS="-ffile-prefix-map=/build/nvidia/= -fdebug-prefix-map=/build/nvidia/=" > /build/nvidia/build.log 2>&1 ||
        { tail -40 /build/nvidia/build.log; exit 1; }
    for m in $2; do strip --strip-debug --enable-deterministic-archives -o "/build/nvidia/$m.stripped.ko" "$m.ko"; done
    ' "$kver" "$jobs" "$MODULES" >&2 || die "module build failed (above)"
for m in $MODULES; do
    f=$src/$m.stripped.ko
    [ -s "$f" ] || die "$m.ko was not built"
    # No build path may reach the image (the source lived at /build/nvidia, the host's at $work).
    if grep -a -q -e "/build/nvidia" -e "$work" -e "$top" "$f"; then die "$m.ko contains a build path"; fi
    [ "$(modinfo -F vermagic "$f" | awk '{print $1}')" = "$kver" ] || die "$m.ko is not built for $kver"
    cp "$f" "$work/out/$m.ko"
done
(cd "$work/out" && for m in $MODULES; do sha256sum "$m.ko"; done) > "$work/out/SHA256SUMS"
printf '%s\n' "$inputs" > "$work/out/inputs"
say "built: $(du -sh "$work/out" | cut -f1) stripped ($(du -ch "$src"/*.ko | tail -1 | cut -f1) before: the unstripped set plus the stripped copies)"
mkdir -p "$CACHE/gpu-modules"
rm -rf "$cache.tmp" && cp -r "$work/out" "$cache.tmp" && rm -rf "$cache" && mv "$cache.tmp" "$cache"
publish "$cache"
say "modules in $out (cache $cache)"
