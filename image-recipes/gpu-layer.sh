#!/usr/bin/env bash
# gpu-layer.sh KERNEL_DIR OUTDIR: the NVIDIA layer of the gpu image variant (build-image
# VARIANT=gpu; docs/gpu.md), from the pins of gpu.lock.
#
# KERNEL_DIR (`debfetch.sh kernel` output) gets the modules built by gpu-modules.sh under
# lib/modules/<kver>/updates/nvidia/ and a regenerated modules.dep. OUTDIR receives
#   modules.list   the modules cocoon-init loads at step 7 (CI_GPU_MODULES of
#                  guest/init/gpu.h, one per line): cocoon-mkinitrd -M ships them with their
#                  dependency closure without listing them for step 3
#   initrd.list    NVML (libnvidia-ml.so.<ver> + the libnvidia-ml.so.1 link that Debian's
#                  nvidia-alternative would make): cocoon-init dlopens it at step 7
#   rootfs.list    the GSP firmware at lib/firmware/nvidia/<ver>/, NVML and the link,
#                  nvidia-smi at usr/bin/nvidia-smi (for the engine and operators), and the
#                  RIM bundle at usr/share/cocoon/gpu/rims/ when GPU_RIMS names one
#   root/          the unpacked packages the two lists point into (as /work/gpu/root)
#   manifest.part  the manifest's "gpu" member: driver version, packages, every added file
#                  with its sha256 and where it goes, the module build's input key
# Paths in the lists are those of the build root's view (/work = build-image's work dir).
#
# Environment: GPU_LOCK (default gpu.lock next to this script), BUILDROOT, COCOON_CACHE and
# the debfetch.sh variables. GPU_RIMS: a directory of NVIDIA RIMs (driver and VBIOS SWID
# tags, fetched and checked as docs/auditor-guide.md "Updating a RIM bundle" says) for step 7's
# comparison; every file in it must be pinned by GPU_RIMS_LOCK (default gpu-rims.lock next to
# this script: "NAME SHA256" lines) and every pin must be there. Unset: no bundle (a policy
# that requires RIM comparison then halts at step 7).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
die() { echo "gpu-layer: error: $*" >&2; exit 1; }
say() { echo "gpu-layer: $*" >&2; }
[ $# = 2 ] || die "usage: gpu-layer.sh KERNEL_DIR OUTDIR"
kdir=$1 out=$2
lock=${GPU_LOCK:-$here/gpu.lock}
rm -rf "$out" && mkdir -p "$out/root"

# The RIM bundle first: a wrong bundle fails before the module build.
rims=()
if [ -n "${GPU_RIMS:-}" ]; then
    rlock=${GPU_RIMS_LOCK:-$here/gpu-rims.lock}
    [ -d "$GPU_RIMS" ] || die "GPU_RIMS=$GPU_RIMS is not a directory"
    [ -f "$rlock" ] || die "GPU_RIMS is set but there is no RIM lock $rlock"
    mkdir -p "$out/root/rims"
    for f in "$GPU_RIMS"/*; do
        [ -e "$f" ] || continue
        n=$(basename "$f")
        [ -f "$f" ] && [ ! -L "$f" ] || die "RIM bundle: $n is not a regular file"
        [[ "$n" =~ ^[A-Za-z0-9._-]+$ ]] || die "RIM bundle: unexpected file name '$n'"
        want=$(awk -v n="$n" '!/^#/ && $1 == n {print $2}' "$rlock")
        [ -n "$want" ] || die "RIM bundle: $n is not pinned in $rlock"
        [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$want" ] || die "RIM bundle: $n does not have the sha256 $rlock pins ($want)"
        cp "$f" "$out/root/rims/$n"
        rims+=("$n")
    done
    while read -r n _; do
        [ -f "$out/root/rims/$n" ] || die "RIM bundle: $rlock pins $n, which $GPU_RIMS does not have"
    done < <(awk '!/^#/ && NF' "$rlock")
    [ ${#rims[@]} -gt 0 ] || die "RIM bundle: $GPU_RIMS is empty"
fi

# What cocoon-init loads (guest/init/gpu.h) is what the image ships: one source of truth.
names=$(sed -n 's/^#define CI_GPU_MODULES {\(.*\)}.*/\1/p' "$top/guest/init/gpu.h" | tr -d '" ' | tr ',' '\n')
[ -n "$names" ] || die "no '#define CI_GPU_MODULES {...}' in guest/init/gpu.h"
printf '%s\n' "$names" > "$out/modules.list"

# One driver version: the module source, firmware, NVML and nvidia-smi pins must agree.
ver=$(awk '$1 == "libnvidia-ml1" {v = $2; sub(/-.*/, "", v); print v}' "$lock")
[[ "$ver" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || die "cannot tell the driver version from libnvidia-ml1 in $lock"
for p in firmware-nvidia-gsp nvidia-smi nvidia-open-kernel-source; do
    v=$(awk -v n=$p '$1 == n {v = $2; sub(/-.*/, "", v); print v}' "$lock")
    [ "$v" = "$ver" ] || die "$p $v in $lock is not driver $ver (libnvidia-ml1): the layer must be one driver version"
done

kver=$(cat "$kdir/kver")
mods=$kdir/lib/modules/$kver
"$here/gpu-modules.sh" "$kdir" "$out/modules" || die "the module build failed"
mkdir -p "$mods/updates/nvidia"
cp "$out/modules/"*.ko "$mods/updates/nvidia/"
depmod -b "$kdir" "$kver" || die "depmod over $mods failed"

# shellcheck disable=SC2046
debs=$(IMAGE_LOCK=$lock "$here/debfetch.sh" fetch firmware-nvidia-gsp libnvidia-ml1 nvidia-smi) ||
    die "cannot fetch the GPU userspace packages ($lock)"
while read -r d; do dpkg-deb -x "$d" "$out/root"; done <<< "$debs"
nvml=usr/lib/x86_64-linux-gnu/nvidia/current/libnvidia-ml.so.$ver
fwdir=usr/lib/firmware/nvidia/$ver
smi=usr/lib/nvidia/current/nvidia-smi
for f in "$nvml" "$fwdir/gsp_ga10x.bin" "$fwdir/gsp_tu10x.bin" "$smi"; do
    [ -f "$out/root/$f" ] || die "the GPU packages have no $f"
done
# nvidia.ko must ask for exactly the firmware files shipped
want=$(modinfo -F firmware "$mods/updates/nvidia/nvidia.ko" | sort | paste -sd' ')
[ "$want" = "nvidia/$ver/gsp_ga10x.bin nvidia/$ver/gsp_tu10x.bin" ] ||
    die "nvidia.ko asks for firmware '$want', the layer ships nvidia/$ver/gsp_{ga10x,tu10x}.bin"

W=/work/gpu/root
cat > "$out/initrd.list" <<EOF
# NVML for boot step 7 (generated by image-recipes/gpu-layer.sh)
elf lib/x86_64-linux-gnu/libnvidia-ml.so.$ver $W/$nvml
slink lib/x86_64-linux-gnu/libnvidia-ml.so.1 libnvidia-ml.so.$ver
EOF
cat > "$out/rootfs.list" <<EOF
# The NVIDIA layer of the root filesystem (generated by image-recipes/gpu-layer.sh)
file lib/firmware/nvidia/$ver/gsp_ga10x.bin $W/$fwdir/gsp_ga10x.bin 0644
file lib/firmware/nvidia/$ver/gsp_tu10x.bin $W/$fwdir/gsp_tu10x.bin 0644
elf lib/x86_64-linux-gnu/libnvidia-ml.so.$ver $W/$nvml
slink lib/x86_64-linux-gnu/libnvidia-ml.so.1 libnvidia-ml.so.$ver
elf usr/bin/nvidia-smi $W/$smi
EOF
if [ ${#rims[@]} -gt 0 ]; then
    for n in "${rims[@]}"; do echo "file usr/share/cocoon/gpu/rims/$n $W/rims/$n 0644"; done >> "$out/rootfs.list"
fi

# The NVIDIA modules the initrd ships: the named ones and their nvidia dependencies
# (modules.dep lists the full closure; the other dependencies are the pinned kernel's).
shipped=$(while read -r n; do
    awk -v n="$n" -F': *' '{m = $1; sub(/.*\//, "", m); sub(/\.ko.*/, "", m); gsub(/-/, "_", m)} m == n {print $1 " " $2}' "$mods/modules.dep"
done < "$out/modules.list" | tr ' ' '\n' | grep '^updates/nvidia/' | sort -u)
[ "$(echo "$shipped" | grep -c .)" -ge "$(grep -c . "$out/modules.list")" ] || die "modules.dep does not list the GPU modules ($(paste -sd' ' "$out/modules.list"))"
sha() { sha256sum "$1" | cut -d' ' -f1; }
{
    echo "  \"gpu\": {"
    echo "    \"driver\": \"$ver\","
    echo "    \"cmdline\": \" firmware_class.path=/sysroot/lib/firmware\","
    echo "    \"modules_loaded_at_step7\": [$(sed 's/.*/"&"/' "$out/modules.list" | paste -sd, | sed 's/,/, /g')],"
    echo "    \"modules_build_inputs_sha256\": \"$(sha "$out/modules/inputs")\","
    echo "    \"modules_signed\": false,"
    echo "    \"rim_bundle\": [$(for n in "${rims[@]}"; do printf '"%s"\n' "$n"; done | paste -sd, | sed 's/,/, /g')],"
    echo "    \"files\": {"
    {
        for m in $shipped; do printf 'initrd:lib/modules/%s/%s %s\n' "$kver" "$m" "$(sha "$mods/$m")"; done
        printf 'initrd:lib/x86_64-linux-gnu/libnvidia-ml.so.%s %s\n' "$ver" "$(sha "$out/root/$nvml")"
        printf 'initrd:lib/x86_64-linux-gnu/libnvidia-ml.so.1 -> libnvidia-ml.so.%s\n' "$ver"
        for b in gsp_ga10x.bin gsp_tu10x.bin; do printf 'rootfs:lib/firmware/nvidia/%s/%s %s\n' "$ver" "$b" "$(sha "$out/root/$fwdir/$b")"; done
        printf 'rootfs:lib/x86_64-linux-gnu/libnvidia-ml.so.%s %s\n' "$ver" "$(sha "$out/root/$nvml")"
        printf 'rootfs:lib/x86_64-linux-gnu/libnvidia-ml.so.1 -> libnvidia-ml.so.%s\n' "$ver"
        printf 'rootfs:usr/bin/nvidia-smi %s\n' "$(sha "$out/root/$smi")"
        for n in "${rims[@]}"; do printf 'rootfs:usr/share/cocoon/gpu/rims/%s %s\n' "$n" "$(sha "$out/root/rims/$n")"; done
    } | awk '{ if ($2 == "->") v = "{\"symlink\": \"" $3 "\"}"; else v = "{\"sha256\": \"" $2 "\"}"
               printf "%s      \"%s\": %s", (n++ ? ",\n" : ""), $1, v } END {print ""}'
    echo "    },"
    echo "    \"packages\": {"
    awk '!/^#/ && NF {printf "%s      \"%s\": {\"version\": \"%s\", \"suite\": \"%s\", \"sha256\": \"%s\"%s}", (n++ ? ",\n" : ""), $1, $2, $4, $5, (NF >= 6 ? ", \"pool\": \"" $6 "\"" : "")} END {print ""}' "$lock"
    echo "    }"
    echo "  },"
} > "$out/manifest.part"
say "layer ready: driver $ver; initrd: $(echo $shipped | tr '\n' ' ')+ NVML; rootfs: GSP firmware, NVML, nvidia-smi"
