#!/usr/bin/env bash
# make bench: boot time of cocoon-init against a bare initrd, under QEMU TCG, through the
# launcher's machine shape (tests/integration/launch_vm.sh). Two boots in the same run:
#  - the appliance (cocoon-init, the test root, one service): the kernel's own time to /init
#    is cocoon-init's first timestamp ("step init at T ms", CLOCK_MONOTONIC), and its work is
#    the time from there to "services started at T ms" (docs/boot.md "Status channel");
#  - a bare initrd whose /init (busybox sh) only mounts proc, sysfs and devtmpfs and execs a
#    shell: /proc/uptime at /init's start and in the shell.
# Reported: both times and the ratio init-work / kernel-time-to-/init for each, plus
# cocoon-init's per-step times (the disk steps include waiting for the virtio disks). A
# report, not an assertion. Under TCG everything is emulated: run with QEMU=... on KVM/TDX
# for hardware numbers. BENCH_REPS boots of each (default 2).
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
source "$(dirname "$0")/../integration/lib.sh"
REPS=${BENCH_REPS:-2}
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || fail "BENCH_REPS must be a positive integer"
require_appliance
bb=$(command -v busybox) || fail "busybox not found (make deps installs busybox-static)"
make_appliance_root "$WORK/root.img"
write_spec "$WORK/spec" '{"version": 1, "services": [{"name": "idle", "argv": ["/bin/sleep", "1000"], "restart": "no"}]}'

# The bare initrd: busybox and a /init that mounts and execs a shell.
cat > "$WORK/bare-init" <<'SH'
#!/bin/busybox sh
read t0 _ < /proc/uptime 2>/dev/null || { /bin/busybox mount -t proc proc /proc; read t0 _ < /proc/uptime; }
/bin/busybox mount -t proc proc /proc 2>/dev/null
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
export T0=$t0
exec /bin/busybox sh -c 'read t1 _ < /proc/uptime; echo "bare: init $T0 shell $t1"; /bin/busybox poweroff -f'
SH
printf 'dir proc\ndir sys\ndir dev\nfile bin/busybox %s\nfile init %s 0755\n' "$bb" "$WORK/bare-init" > "$WORK/bare.list"
"$BIN/cocoon-mkinitrd" -o "$WORK/bare.img" "$WORK/bare.list" 2> "$WORK/mkinitrd.log" ||
    { cat "$WORK/mkinitrd.log" >&2; fail "cocoon-mkinitrd (bare) failed"; }

ms() { awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }'; }
: > "$WORK/appliance.txt"; : > "$WORK/bare.txt"; : > "$WORK/steps.txt"
for ((i = 1; i <= REPS; i++)); do
    vm_start --initrd "$INITRD" --append "$(appliance_cmdline)" --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
    wait_console '^cocoon-init: services started at|^cocoon-init: FATAL' "$BOOT_TIMEOUT"
    console_lacks "$FATAL_RE"
    line=$(console_text | grep -oE '^cocoon-init: services started at [0-9]+ ms \([0-9]+ ms after /init started at [0-9]+ ms\)')
    read -r t1 d t0 < <(sed -E 's/.* at ([0-9]+) ms \(([0-9]+) ms after \/init started at ([0-9]+) ms\)/\1 \2 \3/' <<<"$line")
    echo "$t0 $d" >> "$WORK/appliance.txt"
    console_text | sed -nE 's/^cocoon-init: step ([a-z_-]+) at ([0-9]+) ms$/\1 \2/p' > "$WORK/steps.$i"
    echo "services $t1" >> "$WORK/steps.$i"
    console_text | sed -nE 's/^cocoon-init: module ([a-z0-9_-]+): ([0-9]+) ms$/\1 \2/p' > "$WORK/slowmods.$i"
    vm_monitor system_powerdown
    vm_wait

    vm_start --initrd "$WORK/bare.img" --append ""
    wait_console '^bare: init [0-9.]+ shell [0-9.]+' 300
    vm_wait
    read -r b0 b1 < <(console_text | sed -nE 's/^bare: init ([0-9.]+) shell ([0-9.]+)$/\1 \2/p')
    echo "$(ms "$b0") $(( $(ms "$b1") - $(ms "$b0") ))" >> "$WORK/bare.txt"
done

report() { # NAME FILE: medians of kernel->/init and /init->end, and their ratio
    local k w
    k=$(cut -d' ' -f1 "$2" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    w=$(cut -d' ' -f2 "$2" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '  %-34s %8d ms %10d ms   %6.1f %%\n' "$1" "$k" "$w" "$(awk -v w="$w" -v k="$k" 'BEGIN { print 100 * w / k }')"
}
echo "boot time under TCG (median of $REPS boots each; 'work' = /init start to the end named)"
printf '  %-34s %11s %13s   %8s\n' "" "kernel->/init" "/init->end" "work/kernel"
report "cocoon-init (end: services started)" "$WORK/appliance.txt"
report "bare /init (end: shell running)" "$WORK/bare.txt"
echo "cocoon-init steps of the last boot (ms from the step's start to the next; disks/root include waiting for the devices):"
awk 'NR > 1 { printf "  %-14s %6d ms\n", p, $2 - t } { p = $1; t = $2 }' "$WORK/steps.$REPS"
echo "module loads of >= 100 ms in that boot (libkmod insert, dependencies included):"
sort -k2 -n -r "$WORK/slowmods.$REPS" | awk '{ printf "  %-20s %6d ms\n", $1, $2 }'
echo "  total: $(awk '{ s += $2 } END { print s + 0 }' "$WORK/slowmods.$REPS") ms"
