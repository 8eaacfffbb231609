#!/bin/bash
# The `cocoon` machine profile emits Cocoon's own QEMU command line: Cocoon's run_qemu
# (TelegramMessenger/cocoon scripts/cocoon-launch at b75d444, lines 559-626, recreated below
# verbatim, dedented out of its function) is run by python3 on the same configuration, and its
# argument list must equal `cocoon-launch run --print0` argument for argument. The two
# deviations, both documented in docs/operator-guide.md: no SSH forward (ssh_port is refused:
# the appliance has no SSH server; Cocoon's stub gets ssh_port None) and a trailing
# `-qmp unix:RUN/qmp.sock` (host side only, for stop and --supervise).
set -euo pipefail
BUILD=${BUILD:-build}
L=$(realpath "$BUILD/bin/cocoon-launch")
T=$(mktemp -d /tmp/launch-cocoon-shape.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: launch_cocoon_shape: $*" >&2; exit 1; }
mkdir -p "$T/img" "$T/spec" "$T/run"
for f in OVMF.fd image.vmlinuz image.initrd image.img; do : > "$T/img/$f"; done
printf '  console=hvc0 cocoon.roothash=00 \n' > "$T/img/image.cmdline"   # Cocoon strips it
: > "$T/p.img"; : > "$T/m.tar"; : > "$T/m.tar.verity"
MODEL=Qwen/Qwen3-8B@b968826d9c46dd6066d109eabc6255188de91218:7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9

cat > "$T/cocoon_run_qemu.py" <<'PY'
# argv: instance image_dir test|prod gpu tdx|notdx persistent spec model_tar
import sys
from pathlib import Path
class Cfg: pass
cfg = Cfg()
cfg.instance, cfg.image_dir, cfg.persistent, cfg.prepared_spec_dir = int(sys.argv[1]), sys.argv[2], sys.argv[6], sys.argv[7]
cfg.test, cfg.fake_ton, cfg.gpu, cfg.no_tdx = sys.argv[3] == 'test', False, sys.argv[4] or None, sys.argv[5] == 'notdx'
cfg.vsock_cid, cfg.ssh_port, cfg.tcp_ports, cfg.extra_qemu_args = 6, None, [12000], []
cfg.model_tar_path = sys.argv[8] or None
model_tar_file = Path(cfg.model_tar_path) if cfg.model_tar_path else None
model_verity_file = Path(cfg.model_tar_path + ".verity") if cfg.model_tar_path else None
# ---- Cocoon's scripts/cocoon-launch run_qemu, lines 559-626 ----
# Build QEMU command
offset = cfg.instance * 10

# vsock CID with instance*10 offset (consistent with ports)
vsock_cid = cfg.vsock_cid + (cfg.instance * 10)

netdev = 'user,id=user.0'
if cfg.ssh_port:
    netdev += f',hostfwd=tcp::{cfg.ssh_port + offset}-:22'
for guest_port in cfg.tcp_ports:
    netdev += f',hostfwd=tcp::{guest_port + offset}-:{guest_port}'

# Read cmdline
cmdline_file = Path(cfg.image_dir) / 'image.cmdline'
cmdline = cmdline_file.read_text().strip()
if cfg.test:
    cmdline += ' cocoon_debug'
if cfg.fake_ton:
    cmdline += ' cocoon_fake_ton'
cmdline += ' cocoon_gpu' if cfg.gpu else ' modprobe.blacklist=nvidia'

# Check OVMF
ovmf = Path(cfg.image_dir) / 'OVMF.fd'
if not ovmf.exists():
    sys.exit(f'ERROR: OVMF.fd not found: {ovmf}')

machine = 'q35,kernel-irqchip=split,memory-backend=mem0'
if not cfg.no_tdx:
    machine += ',confidential-guest-support=tdx'

tdx_obj = [] if cfg.no_tdx else ['-object',
                                 '{"qom-type":"tdx-guest","id":"tdx","quote-generation-socket":{"type":"vsock","cid":"2","port":"4050"}}']
gpu_cmd = ['-device', f'vfio-pci,host={cfg.gpu},bus=pci.0,iommufd=iommufd0'] if cfg.gpu else []
tar_cmd = ['-drive', f'readonly=on,file={model_tar_file},id=drivecache,if=none,index=3,werror=report',
           '-device', 'virtio-blk-pci,drive=drivecache,serial=model-tar',
           '-drive', f'readonly=on,file={model_verity_file},id=drivecacheverity,if=none,index=4,werror=report',
           '-device', 'virtio-blk-pci,drive=drivecacheverity,serial=model-tar-verity'] if cfg.model_tar_path else []

qemu = ['qemu-system-x86_64',
        '-machine', machine,
        '-bios', str(ovmf),
        '-accel', 'kvm', '-cpu', 'host', '-smp', '32',
        '-vga', 'none',
        *tdx_obj,
        '-object', 'memory-backend-ram,id=mem0,size=100G',
        '-device', f'vhost-vsock-pci,guest-cid={vsock_cid}',
        '-object', 'iommufd,id=iommufd0',
        '-device', 'pcie-root-port,id=pci.0,bus=pcie.0',
        '-drive',
        f'cache=writeback,file={cfg.image_dir}/image.img,readonly=on,id=drive1,if=none,index=1,werror=report',
        '-device', 'virtio-blk-pci,bootindex=1,drive=drive1,serial=root',
        '-drive', f'cache=writeback,file={cfg.persistent},format=raw,id=drive2,if=none,index=2,werror=report',
        '-device', 'virtio-blk-pci,bootindex=2,drive=drive2,serial=persistent',
        *tar_cmd,
        '-chardev', 'stdio,id=char0',
        '-device', 'virtio-serial-pci,id=virtio-serial0',
        '-device', 'virtconsole,chardev=char0',
        '-kernel', f'{cfg.image_dir}/image.vmlinuz',
        '-initrd', f'{cfg.image_dir}/image.initrd',
        '-append', cmdline,
        '-virtfs', f'local,path={cfg.prepared_spec_dir},mount_tag=spec,security_model=mapped,readonly=on',
        '-net', 'nic,netdev=user.0,model=virtio',
        '-netdev', netdev,
        '-nographic',
        '-serial', 'null',
        '-monitor', 'null',
        *gpu_cmd,
        *cfg.extra_qemu_args]
# ---- end of Cocoon's code ----
sys.stdout.write('\0'.join(qemu) + '\0')
PY

# compare CASE CONFIG-LINES PY-ARGS...
compare() {
    local name=$1 conf=$2; shift 2
    printf '[node]\ntype = worker\nmodel = %s\nowner_address = UQAuz15H1ZHrZ_psVrAra7HealMIVeFq0wguqlmFno1f3B-m\nprofile = cocoon\nimage-dir = %s\npersistent = %s\nspec_dir = %s\nrun_dir = %s\nlog_dir = %s\n%b' \
        "$MODEL" "$T/img" "$T/p.img" "$T/spec" "$T/run" "$T/run" "$conf" > "$T/$name.conf"
    "$L" run "$T/$name.conf" --print0 > "$T/$name.ours" 2> "$T/$name.err" || { cat "$T/$name.err" >&2; fail "$name: run --print0 failed"; }
    python3 "$T/cocoon_run_qemu.py" "$@" > "$T/$name.cocoon" || fail "$name: Cocoon's run_qemu failed"
    # ours = Cocoon's + "-qmp unix:RUN/qmp.sock,server=on,wait=off"
    printf -- '-qmp\0unix:%s/qmp.sock,server=on,wait=off\0' "$T/run" > "$T/qmp"
    cat "$T/$name.cocoon" "$T/qmp" > "$T/$name.want"
    if ! cmp -s "$T/$name.ours" "$T/$name.want"; then
        diff <(tr '\0' '\n' < "$T/$name.want") <(tr '\0' '\n' < "$T/$name.ours") >&2 || :
        fail "$name: the cocoon profile's argv differs from Cocoon's run_qemu (< Cocoon, > ours)"
    fi
    echo "ok: launch_cocoon_shape: $name: $(tr -cd '\0' < "$T/$name.ours" | wc -c) arguments equal to Cocoon's run_qemu (+ -qmp)"
}
# the GPU host address is normalized (0000:ab:00.00 -> 0000:ab:00.0: the host side, not guest-visible)
compare tdx-gpu-model 'gpu = 0000:ab:00.00\nmodel.tar = '"$T/m.tar,$T/m.tar.verity"'\ninstance = 1\ntest = true\n' \
    1 "$T/img" test 0000:ab:00.0 tdx "$T/p.img" "$T/spec" "$T/m.tar"
compare notdx-plain 'tdx = no\naccel = kvm\n' 0 "$T/img" prod "" notdx "$T/p.img" "$T/spec" ""

# the shape's guest-visible parts the issue names
A=$(tr '\0' '\n' < "$T/tdx-gpu-model.ours")
grep -qx -- '-m' <<<"$A" && fail "cocoon shape has -m"
grep -qx -- '-nodefaults' <<<"$A" && fail "cocoon shape has -nodefaults"
grep -q 'hpet=off' <<<"$A" && fail "cocoon shape has hpet=off"
grep -qx 'pcie-root-port,id=pci.0,bus=pcie.0' <<<"$A" || fail "no pcie-root-port"
# one root port and iommufd even without a GPU
B=$(tr '\0' '\n' < "$T/notdx-plain.ours")
grep -qx 'iommufd,id=iommufd0' <<<"$B" && grep -qx 'pcie-root-port,id=pci.0,bus=pcie.0' <<<"$B" ||
    fail "iommufd and the root port are not always there"
# refusals of what Cocoon's shape cannot carry
printf 'gpu = 0000:ab:00.0,0000:ac:00.0\n' >> "$T/notdx-plain.conf"
st=0; "$L" run "$T/notdx-plain.conf" --print0 > /dev/null 2> "$T/err" || st=$?
[ $st = 3 ] && grep -q "profile cocoon: Cocoon's shape passes one GPU" "$T/err" || fail "two GPUs not refused: $(cat "$T/err")"
echo "ok: launch_cocoon_shape: no -m, no -nodefaults, no hpet=off, iommufd + one root port always; two GPUs refused"
