#!/usr/bin/env bash
# The gpu image variant (image-recipes/build-image with VARIANT=gpu; docs/gpu.md), built once
# and booted under QEMU TCG, where there is no GPU:
#  1. the manifest names every file the NVIDIA layer adds, and each is in the initrd or the
#     root filesystem with that sha256; the step-3 module list does not name the GPU
#     modules; the measured cmdline carries firmware_class.path; measurements.json's RTMR2
#     events are over this initrd and cmdline;
#  2. a spec requiring a GPU: cocoon-init loads the real nvidia.ko (built from Debian's
#     nvidia-open-kernel-source against the pinned kernel) with its dependency closure from
#     the initrd: the kernel accepts every symbol version (a module built against other
#     headers would fail with "disagrees about version"), nvidia.ko's init runs and finds no
#     GPU; the boot halts at step 7 naming the check (gpu_nvml: ... no GPU), before any key;
#  3. a spec without a GPU boots the same image to its service and loads no GPU module.
# The module build is cached in $COCOON_CACHE/gpu-modules (one build per CI run).
# IMAGE_GPU_PREBUILT=DIR checks and boots an image directory built before instead (to
# iterate on the checks, or to see them fail on a broken image).
source "$(dirname "$0")/lib.sh"
require_boot_assets
command -v zstd > /dev/null || fail "zstd is missing (make deps)"
if [ -n "${IMAGE_GPU_PREBUILT:-}" ]; then
    img=$(cd "$IMAGE_GPU_PREBUILT" && pwd)
else
    img=$BUILD/it-image-gpu
    rel_build=$(realpath --relative-to="$REPO" "$BUILD")
    # A RIM bundle (NVIDIA's VBIOS RIM of the fixtures), pinned by a lock made here
    mkdir -p "$WORK/rims"
    cp "$FIXTURES/gpu/rims/1010_0200_882_96005E0001_PROD.swidtag" "$WORK/rims/"
    (cd "$WORK/rims" && sha256sum -- * | awk '{print $2, $1}') > "$WORK/rims.lock"
    # a bundle file the lock does not pin is refused before anything is built
    echo x > "$WORK/rims/extra.xml"
    if GPU_RIMS=$WORK/rims GPU_RIMS_LOCK=$WORK/rims.lock image-recipes/gpu-layer.sh /nonexistent "$WORK/layer" \
        > "$WORK/layer.log" 2>&1; then fail "gpu-layer.sh took a RIM the lock does not pin"; fi
    grep -q 'RIM bundle: extra.xml is not pinned' "$WORK/layer.log" || fail "the unpinned RIM refusal: $(tail -1 "$WORK/layer.log")"
    rm "$WORK/rims/extra.xml"
    GPU_RIMS=$WORK/rims GPU_RIMS_LOCK=$WORK/rims.lock VARIANT=gpu BUILD=$rel_build \
        image-recipes/build-image it-gpu "$img" > "$WORK/build.log" 2>&1 ||
        { tail -40 "$WORK/build.log" >&2; fail "build-image with VARIANT=gpu failed"; }
    pass "gpu image built ($(grep -oE 'gpu-modules: (cached|built)' "$WORK/build.log" | tail -1))"
fi
M=$img/manifest.json
[ "$(jq_get "$M" .variant)" = gpu ] || fail "manifest variant is not gpu"

# -- 1. every added file, where the manifest says, with its sha256
mkdir -p "$WORK/initrd" "$WORK/rootfs"
zstd -dc "$img/initrd.img" | (cd "$WORK/initrd" && cpio -idm --quiet --no-absolute-filenames) ||
    fail "cannot unpack initrd.img"
fsck.erofs --extract="$WORK/rootfs" "$img/rootfs.img" > /dev/null 2>&1 || fail "cannot extract rootfs.img (fsck.erofs)"
n=0
while IFS='|' read -r where want link; do
    f=$WORK/${where%%:*}/${where#*:}
    if [ -n "$link" ]; then
        [ -L "$f" ] && [ "$(readlink "$f")" = "$link" ] || fail "$where is not a link to $link"
    else
        [ -f "$f" ] && [ ! -L "$f" ] || fail "$where (manifest gpu.files) is not in the image"
        [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$want" ] || fail "$where has another sha256 than the manifest's $want"
    fi
    n=$((n + 1))
done < <(jq -r '.gpu.files | to_entries[] | [.key, (.value.sha256 // ""), (.value.symlink // "")] | join("|")' "$M")
# nothing NVIDIA in the image that the manifest does not list
extra=$( (cd "$WORK" && find initrd rootfs \( -iname '*nvidia*' -o -name 'gsp_*' \) ! -type d) | sed 's#^\([a-z]*\)/#\1:#' | sort |
    comm -23 - <(jq -r '.gpu.files | keys[]' "$M" | sort))
[ -z "$extra" ] || fail "files in the image the manifest does not list: $extra"
for w in "initrd:lib/modules/*/updates/nvidia/nvidia.ko" "initrd:lib/modules/*/updates/nvidia/nvidia-uvm.ko" \
         "rootfs:lib/firmware/nvidia/*/gsp_ga10x.bin" "rootfs:lib/firmware/nvidia/*/gsp_tu10x.bin" \
         "rootfs:usr/bin/nvidia-smi" "initrd:lib/x86_64-linux-gnu/libnvidia-ml.so.1" \
         "rootfs:usr/share/cocoon/gpu/rims/1010_0200_882_96005E0001_PROD.swidtag"; do
    jq -r '.gpu.files | keys[]' "$M" | grep -qx -- "$(echo "$w" | sed 's/[.]/[.]/g; s/[*]/[^\/]*/g')" || fail "the manifest does not list $w"
done
[ "$n" -ge 9 ] || fail "the manifest lists only $n GPU files"
grep -qiE '^nvidia' "$WORK/initrd/etc/cocoon/modules" && fail "step 3's module list names a GPU module"
grep -q ' firmware_class.path=/sysroot/lib/firmware' "$img/cmdline" || fail "the cmdline lacks firmware_class.path"
python3 - "$img" <<'PY' || fail "measurements.json is not over this initrd and cmdline"
import hashlib, json, sys
img = sys.argv[1]
m = json.load(open(img + "/measurements.json"))
initrd = hashlib.sha384(open(img + "/initrd.img", "rb").read()).hexdigest()
cmd = open(img + "/cmdline").read().rstrip("\n") + " initrd=initrd"
want = hashlib.sha384(cmd.encode("utf-16-le") + b"\0\0").hexdigest()
for prof in m["profiles"].values():
    ev = prof["variants"]["base"]["events"]["rtmr2"]
    assert [e["digest"] for e in ev] == [want, initrd], ev
PY
pass "manifest lists $n GPU files, each in the image with its sha256; nothing else NVIDIA; RTMR2 over this initrd and cmdline"

# -- 2. and 3. boots (the image's cmdline with the harness's serial console and sim attestation)
ROOT_HASH=$(jq_get "$M" .root_hash)
cmdline=$(sed 's/console=hvc0 //' "$img/cmdline")
probe='"services": [{"name": "probe", "argv": ["/usr/bin/cocoon-ratls", "--version"], "restart": "no"}]'
write_spec "$WORK/gpu" "{\"version\": 1, \"gpu\": \"required\", $probe}"
BOOT_TIMEOUT=${BOOT_TIMEOUT_GPU:-300}
vm_boot_until_ready --initrd "$img/initrd.img" --append "$cmdline cocoon.attest=sim cocoon.timeout=30" \
    --disk "root=$img/rootfs.img:ro" --spec "$WORK/gpu"
console_has '^cocoon-init: switched|^cocoon-init: gpu: |^cocoon-init: FATAL gpu: ' "the boot reached step 7"
console_has '^cocoon-init: module nvidia: no such device, skipped' "nvidia.ko loaded into the pinned kernel and found no device"
console_lacks 'disagrees about version|Unknown symbol|Invalid module format|exec format' "no symbol or format error"
console_has '^cocoon-init: FATAL gpu: gpu_nvml: .*no GPU' "the boot halts at step 7 saying there is no GPU"
[ "$(console_text | grep -cE "$FATAL_RE")" = 1 ] || fail "expected exactly one FATAL line"
console_lacks 'cocoon:gpu_verified|key provider|^cocoon-init: service ' "nothing after the GPU step"
first=$(console_text | grep -E "$FATAL_RE")
nvrm=$(console_text | grep -m1 'NVRM' || true)
pass "GPU spec: nvidia.ko with its closure loaded, then '$first'${nvrm:+ (kernel: $nvrm)}"

write_spec "$WORK/nogpu" "{\"version\": 1, \"gpu\": \"off\", $probe}"
vm_start --monitor --initrd "$img/initrd.img" --append "$cmdline cocoon.attest=sim cocoon.timeout=30" \
    --disk "root=$img/rootfs.img:ro" --spec "$WORK/nogpu"
wait_console '^cocoon-init: service probe .*(not restarted|stopped)|^cocoon-init: FATAL' 240
if ! console_text | grep -qE "$FATAL_RE"; then vm_monitor system_powerdown; fi
vm_wait
console_lacks "$FATAL_RE"
console_has '^cocoon-init: gpu: not required by the spec \(GPU modules not loaded\)'
console_has '^cocoon-init: switched to the verified root'
console_has '^cocoon-init: service probe started'
console_lacks 'NVRM|module nvidia' "no GPU module loaded"
pass "spec without a GPU: the gpu image boots to its service, no GPU module loaded"
