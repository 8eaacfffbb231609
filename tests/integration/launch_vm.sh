# Glue for the appliance boot tests (tests/integration/lib.sh of the boot work): boot
# through `cocoon-launch run --no-tdx` instead of a hand-written QEMU command line, so the
# tests exercise the launcher's machine shape (q35, OVMF, virtio-blk serials, 9p spec,
# virtio-net, virtio console, serial log, QMP). Sourced after lib.sh; uses its WORK,
# CONSOLE, KERNEL_DIR, BIN, BOOT_TIMEOUT, FIXTURES and fail. Drop-in use:
#   vm_start() { launch_vm_start "$@"; }
#   vm_monitor() { launch_vm_powerdown; }     # the only monitor command the tests use
# Checked by hand on a trial merge with the boot branch: 10 of its 11 init-*.sh scenarios
# pass this way (service, powerdown, sigterm, rtmr3, persistent, persistent-foreign,
# luks-tampered, verity-corrupt, model-corrupt, wrong-roothash). The launcher always
# attaches the root disk, so init-missing-disk (no root disk) keeps plain QEMU.

# launch_vm_start [--disk SERIAL=FILE[:ro]]... [--spec DIR] [--append CMDLINE] [--monitor] --initrd FILE
# Writes $WORK/vm/node.conf and an image directory (fixture OVMF.fd, $KERNEL_DIR/vmlinuz,
# the initrd, cmdline "console=ttyS0 panic=-1 loglevel=4 no_timer_check CMDLINE", the "root" disk as
# rootfs.img), starts `cocoon-launch run --no-tdx` in the background (VM_PID) with the
# serial console (ttyS0) at $CONSOLE. LAUNCH_VM_DIR (default $WORK/vm) is the VM's directory,
# so a test may run a second VM beside the first; LAUNCH_PORTS, when set, is the launcher's
# `ports` value (host port forwards [tcp:]HOST:GUEST, comma-separated). LAUNCH_VM_QEMU, when
# set, is the launcher's `qemu` binary (a wrapper that adds devices, e.g. the swtpm TPM of
# tpm_measured_boot.sh).
launch_vm_start() {
    local d="${LAUNCH_VM_DIR:-$WORK/vm}"
    local initrd="" append="" spec="$d/spec-empty" disks=() serial file
    while [ $# -gt 0 ]; do
        case "$1" in
            --initrd) initrd=$2; shift 2 ;;
            --append) append=$2; shift 2 ;;
            --spec) spec=$2; shift 2 ;;
            --monitor) shift ;;   # QMP is always there: vm_monitor uses cocoon-launch stop
            --disk) disks+=("$2"); shift 2 ;;
            *) fail "launch_vm_start: unknown argument $1" ;;
        esac
    done
    [ -n "$initrd" ] || fail "launch_vm_start: --initrd missing"
    rm -rf "$d"; mkdir -p "$d/img" "$d/spec-empty" "$d/log"
    ln -s "$(realpath "$FIXTURES/tdx/measure/OVMF.fd")" "$d/img/OVMF.fd"
    ln -s "$(realpath "$KERNEL_DIR/vmlinuz")" "$d/img/vmlinuz"
    ln -s "$(realpath "$initrd")" "$d/img/initrd.img"
    echo "console=ttyS0 panic=-1 loglevel=4 no_timer_check $append" > "$d/img/cmdline"
    {
        echo "[node]"; echo "type = worker"; echo "tdx = no"; echo "accel = tcg"
        echo "image_dir = $d/img"; echo "spec_dir = $spec"; echo "memory = 1G"; echo "vcpus = 1"
        echo "vsock_cid = 0"; echo "console = file"; echo "log_dir = $d/log"; echo "run_dir = $d/run"
        [ -z "${LAUNCH_PORTS:-}" ] || echo "ports = $LAUNCH_PORTS"
        if [ -n "${LAUNCH_VM_QEMU:-}" ]; then echo "qemu = $LAUNCH_VM_QEMU"; fi
        for x in "${disks[@]}"; do
            serial=${x%%=*} file=${x#*=}; file=${file%:ro}
            case "$serial" in
                root) ln -s "$(realpath "$file")" "$d/img/rootfs.img" ;;
                persistent) echo "persistent_disk = $file" ;;
                model-*) echo "model.${serial#model-} = $file" ;;
                *) fail "launch_vm_start: no cocoon-launch key for disk serial $serial" ;;
            esac
        done
    } > "$d/node.conf"
    [ -e "$d/img/rootfs.img" ] || : > "$d/img/rootfs.img"
    : > "$d/log/worker-0.serial.log"
    ln -sf "$d/log/worker-0.serial.log" "$CONSOLE.tmp" && mv -f "$CONSOLE.tmp" "$CONSOLE"
    timeout -k 5 "$BOOT_TIMEOUT" "$BIN/cocoon-launch" run "$d/node.conf" --no-verify > "$WORK/qemu.out" 2>&1 &
    VM_PID=$!
}

# launch_vm_powerdown: the ACPI power button through QMP (of the VM in LAUNCH_VM_DIR); waits
# until QEMU exits.
launch_vm_powerdown() {
    "$BIN/cocoon-launch" stop "${LAUNCH_VM_DIR:-$WORK/vm}/node.conf" --timeout 60 >/dev/null ||
        fail "cocoon-launch stop failed"
}
