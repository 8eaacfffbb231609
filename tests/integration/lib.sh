# tests/integration/lib.sh: the boot harness, sourced by every scenario script.
#
# Boots the pinned Debian kernel ($BUILD/guest-kernel, from `make guest-kernel`) with an
# initrd built by cocoon-mkinitrd under QEMU TCG, with disks built here on the host, and
# asserts on the serial console log and on the disk files. See docs/testing.md.
#
# Environment: BUILD (default build), KEEP=1 keeps the work directory, QEMU (default
# qemu-system-x86_64), BOOT_TIMEOUT (seconds per boot, default 120).
set -euo pipefail

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$IT_DIR/../.." && pwd)
cd "$REPO"
BUILD=$(cd "${BUILD:-build}" 2>/dev/null && pwd || echo "$REPO/${BUILD:-build}")
BIN=$BUILD/bin
KERNEL_DIR=$BUILD/guest-kernel
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-120}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

# Fixed identities of the test images (same values as the production recipe, image.md §4.1).
VERITY_SALT=00010203040506070809101a1b1c1d1e1f
ROOT_VERITY_UUID=16961134-6412-4db8-96f9-3dd00bd6ffa3
MODEL_VERITY_UUID=645ac31f-7610-42e1-8434-9d733699eac0
EROFS_UUID=3c0c0a11-7e57-4b00-8000-000000000001

TEST_NAME=$(basename "$0")
source "$IT_DIR/check_lib.sh"
WORK=$(mktemp -d "/tmp/cocoon-it.${TEST_NAME}.XXXXXX")
CONSOLE=$WORK/console.log
VM_PID=

it_cleanup() {
    local rc=$?
    if [ -n "$VM_PID" ] && kill -0 "$VM_PID" 2>/dev/null; then kill "$VM_PID" 2>/dev/null || true; fi
    if [ "$rc" -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
        echo "$TEST_NAME: work directory kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap it_cleanup EXIT

fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    if [ -s "$CONSOLE" ]; then
        echo "---- last console lines ($CONSOLE) ----" >&2
        tail -n 40 "$CONSOLE" >&2
        echo "----" >&2
    fi
    exit 1
}
pass() { echo "ok: $TEST_NAME: $*"; }

need_file() { [ -e "$1" ] || fail "$1 is missing ($2)"; }

require_boot_assets() {
    need_file "$KERNEL_DIR/vmlinuz" "run 'make guest-kernel'"
    need_file "$KERNEL_DIR/kver" "run 'make guest-kernel'"
    need_file "$BIN/cocoon-mkinitrd" "run 'make'"
    KVER=$(cat "$KERNEL_DIR/kver")
    command -v "$QEMU" >/dev/null || fail "$QEMU not found (make deps installs qemu-system-x86)"
    qemu_tooling
}

# qemu_tooling: the TCG boots run the host's Debian qemu-system-x86 (installed by `make deps`,
# verified by apt). Test tooling is pinned by upstream version (docs/testing.md): require
# >= QEMU_TCG_MIN and print the build used (version and the sha256 of apt's signed index).
QEMU_TCG_MIN=7.2
qemu_tooling() {
    local v up sha
    if [ "$QEMU" != qemu-system-x86_64 ]; then echo "test tooling: QEMU=$QEMU ($("$QEMU" --version | head -n1))"; return; fi
    v=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null) || fail "qemu-system-x86 is not installed (make deps)"
    up=${v#*:}; up=${up%-*}
    dpkg --compare-versions "$up" ge "$QEMU_TCG_MIN" || fail "qemu-system-x86 $v is older than $QEMU_TCG_MIN"
    sha=$(apt-cache show "qemu-system-x86=$v" 2>/dev/null | awk '/^SHA256:/ {print $2; exit}')
    [ -n "$sha" ] || sha="unknown (no longer in the apt index)"
    echo "test tooling: qemu-system-x86 $v sha256 $sha (host, upstream >= $QEMU_TCG_MIN)"
}

# make_initrd OUT MODULE_LIST LISTFILE... : cocoon-mkinitrd with the pinned kernel's modules.
make_initrd() {
    local out=$1 mods=$2
    shift 2
    "$BIN/cocoon-mkinitrd" -o "$out" -k "$KERNEL_DIR/lib/modules/$KVER" -m "$mods" "$@" 2>"$WORK/mkinitrd.log" ||
        { cat "$WORK/mkinitrd.log" >&2; fail "cocoon-mkinitrd failed"; }
}

# verity_append FILE UUID: pad FILE to 4096, append a dm-verity hash area right after the
# data (veritysetup on the file, no device-mapper), set VERITY_HASH and VERITY_BLOCKS.
verity_append() {
    local f=$1 uuid=$2 size n
    size=$(stat -c %s "$f")
    n=$(( (size + 4095) / 4096 ))
    truncate -s $((n * 4096)) "$f"
    veritysetup format "$f" "$f" --hash-offset=$((n * 4096)) --data-blocks="$n" \
        --salt="$VERITY_SALT" --uuid="$uuid" --root-hash-file="$f.roothash" >/dev/null ||
        fail "veritysetup format $f failed"
    VERITY_HASH=$(cat "$f.roothash")
    [[ "$VERITY_HASH" =~ ^[0-9a-f]{64}$ ]] || fail "veritysetup format $f gave no root hash"
    VERITY_BLOCKS=$n
}

# make_rootfs SRCDIR OUT: erofs (fixed UUID and timestamps, all files root-owned) + verity.
# Sets ROOT_HASH and ROOT_BLOCKS.
make_rootfs() {
    local src=$1 out=$2
    mkfs.erofs --quiet -T"$SOURCE_DATE_EPOCH" -U"$EROFS_UUID" --all-root "$out" "$src" ||
        fail "mkfs.erofs failed"
    verity_append "$out" "$ROOT_VERITY_UUID"
    ROOT_HASH=$VERITY_HASH
    ROOT_BLOCKS=$VERITY_BLOCKS
}

# flip_byte FILE OFFSET: invert one byte in place (the offset must lie inside the file).
flip_byte() {
    local f=$1 off=$2 b
    [[ "$off" =~ ^[0-9]+$ ]] && [ "$off" -lt "$(stat -c %s "$f")" ] || fail "flip_byte: offset '$off' is outside $f"
    b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
    [[ "$b" =~ ^[0-9]{1,3}$ ]] || fail "flip_byte: cannot read byte $off of $f"
    printf "$(printf '\\%03o' $((b ^ 0xff)))" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none ||
        fail "flip_byte: cannot write byte $off of $f"
    [ "$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')" = $((b ^ 0xff)) ] || fail "flip_byte: byte $off of $f unchanged"
}

# ---- the one QEMU invocation ------------------------------------------------------------
# (cocoon-launch run --no-tdx replaces this function later; keep the VM description here.)
# vm_start [--disk SERIAL=FILE[:ro]]... [--spec DIR] [--append CMDLINE] [--monitor]
#          [--tpm SWTPM_CTRL_SOCKET] --initrd FILE
# Starts QEMU in the background; the serial console goes to $CONSOLE. vm_wait collects it.
# --tpm: a TPM 2.0 (tpm-crb) backed by the swtpm whose control socket is given.
vm_start() {
    local initrd="" append="" spec="" monitor=0 args=() n=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --initrd) initrd=$2; shift 2 ;;
            --tpm) args+=(-chardev "socket,id=chrtpm,path=$2" -tpmdev "emulator,id=tpm0,chardev=chrtpm"
                          -device "tpm-crb,tpmdev=tpm0"); shift 2 ;;
            --append) append=$2; shift 2 ;;
            --spec) spec=$2; shift 2 ;;
            --monitor) monitor=1; shift ;;
            --disk)
                local serial=${2%%=*} file=${2#*=} ro=off
                case "$file" in *:ro) file=${file%:ro}; ro=on ;; esac
                args+=(-drive "file=$file,if=none,id=d$n,format=raw,readonly=$ro,cache=unsafe"
                       -device "virtio-blk-pci,drive=d$n,serial=$serial")
                n=$((n + 1)); shift 2 ;;
            *) fail "vm_start: unknown argument $1" ;;
        esac
    done
    [ -n "$initrd" ] || fail "vm_start: --initrd missing"
    [ -n "$spec" ] && args+=(-virtfs "local,path=$spec,mount_tag=spec,security_model=none,readonly=on")
    if [ "$monitor" = 1 ]; then
        args+=(-monitor "unix:$WORK/monitor.sock,server=on,wait=off")
    else
        args+=(-monitor none)
    fi
    : > "$CONSOLE"
    # no_timer_check: on a loaded host TCG can miss the kernel's early IO-APIC timer probe,
    # which then panics ("IO-APIC + timer doesn't work"); the probe checks the emulator, not us.
    timeout -k 5 "$BOOT_TIMEOUT" "$QEMU" -nodefaults -no-user-config -machine q35 -accel tcg -cpu max \
        -smp 1 -m 1024 -display none -no-reboot \
        -serial "file:$CONSOLE" \
        -kernel "$KERNEL_DIR/vmlinuz" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 loglevel=4 no_timer_check $append" \
        "${args[@]}" > "$WORK/qemu.out" 2>&1 &
    VM_PID=$!
}

# vm_wait: wait for QEMU to exit; VM_RC = its exit status (124 = timed out).
vm_wait() {
    VM_RC=0
    wait "$VM_PID" || VM_RC=$?
    VM_PID=
    if [ "$VM_RC" = 124 ]; then fail "VM did not power off within ${BOOT_TIMEOUT}s"; fi
    if [ "$VM_RC" != 0 ]; then
        cat "$WORK/qemu.out" >&2
        fail "QEMU exited with status $VM_RC"
    fi
}

# vm_run ARGS...: vm_start + vm_wait.
vm_run() { vm_start "$@"; vm_wait; }

# vm_monitor COMMAND: one human-monitor command (needs vm_start --monitor).
vm_monitor() {
    printf '%s\n' "$1" | socat - "UNIX-CONNECT:$WORK/monitor.sock" >/dev/null ||
        fail "cannot reach the QEMU monitor"
}

# vm_boot_until_ready ARGS...: vm_start --monitor ARGS, wait for the test service's
# "svc: ready" line (or a FATAL line), press the power button, wait for the power-off.
vm_boot_until_ready() {
    vm_start --monitor "$@"
    wait_console '^svc: ready|^cocoon-init: FATAL' 150
    # After a FATAL line cocoon-init powers off by itself.
    if ! console_text | grep -qE "$FATAL_RE"; then vm_monitor system_powerdown; fi
    vm_wait
}

# wait_console REGEX SECONDS: wait until the console log has a matching line.
wait_console() {
    local re=$1 secs=$2 i
    for ((i = 0; i < secs * 5; i++)); do
        console_text | grep -qE -- "$re" && return 0
        if [ -n "$VM_PID" ] && ! kill -0 "$VM_PID" 2>/dev/null; then break; fi
        sleep 0.2
    done
    fail "console never showed /$re/ within ${secs}s"
}

# Assertions on the console log (carriage returns from the guest tty's ONLCR removed).
# A missing console log fails console_has and console_lacks alike (an absent log lacks everything).
console_text() { tr -d '\r' < "$CONSOLE" 2>/dev/null || true; }
console_has() {
    [ -f "$CONSOLE" ] || fail "no console log $CONSOLE"
    console_text | grep -qE -- "$1" || fail "console lacks /$1/${2:+ ($2)}"
}
console_lacks() {
    [ -f "$CONSOLE" ] || fail "no console log $CONSOLE"
    if console_text | grep -qE -- "$1"; then fail "console unexpectedly has /$1/${2:+ ($2)}"; fi
}

# ---- the appliance (cocoon-init) -----------------------------------------------------------
# require_appliance: cocoon-init ($BIN/cocoon-init, built by make from guest/init) and the
# appliance initrd ($BUILD/initrd.img, `make initrd`: cocoon-init as /init + its modules).
require_appliance() {
    require_boot_assets
    need_file "$BIN/cocoon-init" "cocoon-init is built by 'make' from guest/init"
    need_file "$BUILD/initrd.img" "run 'make initrd'"
    [ ! "$BIN/cocoon-init" -nt "$BUILD/initrd.img" ] || fail "$BUILD/initrd.img is older than cocoon-init; run 'make initrd'"
    INITRD=$BUILD/initrd.img
}

# make_appliance_root OUT [LISTFILE]: a small verified root: static busybox (sh + applets used
# by the test services) and /etc/testfile, plus the entries of LISTFILE (cocoon-mkinitrd's
# list format, as image-recipes/rootfs.list: `elf` lines bring their libraries), erofs +
# appended verity. Sets ROOT_HASH, ROOT_BLOCKS.
make_appliance_root() {
    local out=$1 list=${2:-} src=$WORK/rootsrc a bb
    bb=$(command -v busybox) || fail "busybox not found (make deps installs busybox-static)"
    rm -rf "$src"
    mkdir -p "$src/bin" "$src/etc" "$src/dev" "$src/proc" "$src/sys" "$src/run" "$src/tmp" "$src/data"
    cp "$bb" "$src/bin/busybox"
    for a in sh cat echo ls sleep kill sync mount umount df sha256sum head grep touch rm mkdir base64; do
        ln -sf busybox "$src/bin/$a"
    done
    echo "cocoon-test-root" > "$src/etc/testfile"
    if [ -n "$list" ]; then
        "$BIN/cocoon-mkinitrd" -c none -o "$WORK/root-extra.cpio" "$list" 2>"$WORK/mkinitrd.log" ||
            { cat "$WORK/mkinitrd.log" >&2; fail "cocoon-mkinitrd $list failed"; }
        (cd "$src" && cpio -idm --quiet --no-absolute-filenames < "$WORK/root-extra.cpio") ||
            fail "cannot unpack the entries of $list"
    fi
    make_rootfs "$src" "$out"
}

# write_spec DIR JSON: the appliance spec directory shared as 9p tag "spec".
write_spec() {
    mkdir -p "$1"
    printf '%s\n' "$2" > "$1/cocoon.json"
}

# appliance_cmdline [EXTRA...]: the measured cmdline keys cocoon-init reads (docs/boot.md).
appliance_cmdline() {
    echo "cocoon.roothash=$ROOT_HASH cocoon.rootblocks=$ROOT_BLOCKS cocoon.attest=sim cocoon.timeout=${DISK_TIMEOUT:-10} $*"
}

# The single FATAL line cocoon-init prints on any refusal (then it powers off).
FATAL_RE='^cocoon-init: FATAL [a-z_0-9-]+: '

# make_model_volume NAME OUT: an erofs model volume (one file, weights.txt) with an appended
# verity tree (Cocoon's model UUID and salt). Sets MODEL_HASH and MODEL_BLOCKS.
make_model_volume() {
    local name=$1 out=$2 src=$WORK/model-$1
    mkdir -p "$src"
    echo "model-$name-weights" > "$src/weights.txt"
    head -c 65536 /dev/zero | tr '\0' 'w' > "$src/padding.bin"   # several blocks: a real hash tree
    mkfs.erofs --quiet -T"$SOURCE_DATE_EPOCH" -U"$EROFS_UUID" --all-root "$out" "$src" ||
        fail "mkfs.erofs (model) failed"
    verity_append "$out" "$MODEL_VERITY_UUID"
    MODEL_HASH=$VERITY_HASH
    MODEL_BLOCKS=$VERITY_BLOCKS
}

# A service that prints what the boot gave it, then keeps running.
# Lines: "svc: root=<testfile>", "svc: env=<GREETING>", "svc: rtmr3.log <line>" (the event
# log), "svc: model=<weights>" when /models/x exists, and "svc: ready".
# It writes to /dev/console itself: services' stdout/stderr go to their in-guest log
# (/run/cocoon/log/<service>.log), and to the console only with cocoon.debug (docs/boot.md).
SVC_REPORT='exec >/dev/console 2>&1; echo "svc: root=$(cat /etc/testfile)"; echo "svc: env=$GREETING";
while read -r l; do echo "svc: rtmr3.log $l"; done < /run/cocoon/rtmr3.log;
if [ -d /models/x ]; then echo "svc: model=$(cat /models/x/weights.txt)"; fi;
echo "svc: ready"'

# json_str TEXT: TEXT as a JSON string literal (quotes, backslashes, newlines escaped).
json_str() {
    local s=$1
    s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/ }
    printf '"%s"' "$s"
}

# write_marker_spec DIR [PERSISTENT_KEYS]: a spec with the persistent volume mounted on /data
# (plus PERSISTENT_KEYS, e.g. ', "integrity": false') and the service "store": on a fresh
# volume it writes /data/marker ("svc: wrote marker"), on a reopened one it prints it
# ("svc: found written-by-boot-1"); then "svc: ready".
SVC_MARKER='if [ -f /data/marker ]; then echo "svc: found $(cat /data/marker)";
else echo "written-by-boot-1" > /data/marker && sync && echo "svc: wrote marker"; fi; echo "svc: ready"; exec sleep 1000'
write_marker_spec() {
    write_spec "$1" "{\"version\": 1, \"persistent\": {\"mount\": \"/data\"${2:-}},
  \"services\": [{\"name\": \"store\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_MARKER")], \"restart\": \"no\"}]}"
}

# boot_flipped_model IMG SPEC WHY: flips one byte inside IMG's erofs superblock (block 0, which
# boot reads) and boots with IMG as model volume x and SPEC: dm-verity must report the block
# (WHY) and the volume must not be mounted. A verity panic stops the kernel (panic=-1, no
# reboot): vm_run waits for QEMU to exit.
boot_flipped_model() {
    flip_byte "$1" 1100
    vm_run --initrd "$INITRD" --append "$(appliance_cmdline)" \
        --disk "root=$WORK/root.img:ro" --disk "model-x=$1:ro" --spec "$2"
    console_has 'device-mapper: verity: .*data block 0 is corrupted' "$3"
    console_lacks '^cocoon-init: volume model-x: mounted'
}

# sha256 FILE
sha256() { sha256sum "$1" | cut -d' ' -f1; }

# console_rtmr3: the RTMR3 value cocoon-init logged after "cocoon:tdx_inited".
console_rtmr3() {
    console_text | grep -oE '^cocoon-init: rtmr3 [0-9a-f]{96}' | tail -n1 | awk '{print $3}'
}

# ---- boots go through the launcher ---------------------------------------------------------
# Every scenario boots with `cocoon-launch run --no-tdx` (tests/integration/launch_vm.sh): the
# launcher's machine shape (q35, OVMF, virtio-blk serials, 9p spec, virtio-net, consoles, QMP)
# with the test's kernel, initrd and disks. The launcher always attaches a root disk, so a
# scenario about a machine without one sets IT_PLAIN_QEMU=1 and keeps the plain vm_start above.
if [ "${IT_PLAIN_QEMU:-0}" != 1 ]; then
    [ -x "$BIN/cocoon-launch" ] || fail "$BIN/cocoon-launch is missing (run make)"
    FIXTURES=${FIXTURES:-$REPO/../shared/fixtures}
    source "$IT_DIR/launch_vm.sh"
    vm_start() { launch_vm_start "$@"; }
    vm_monitor() { launch_vm_powerdown; }
fi
