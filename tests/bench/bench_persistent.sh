#!/usr/bin/env bash
# make bench: the cost of the persistent volume's integrity (LUKS2 + dm-integrity,
# aes-xts-plain64 + hmac(sha256), journal on) against plain aes-xts-plain64, inside the
# guest. Two boots of the appliance in the same run, identical but for the spec's
# "integrity": each formats its blank disk, then a service writes BENCH_MB MiB with dd
# (conv=fsync) and reads it back after dropping the page cache, BENCH_REPS times. Reported:
# MiB/s of each and the ratio integrity/plain of the times (a report, not an assertion).
# Under QEMU TCG (the test machines) the crypto is emulated: the ratio there is not the
# ratio on a TDX host; run the same script with QEMU=... on real hardware for that.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-900}
source "$(dirname "$0")/../integration/lib.sh"
MB=${BENCH_MB:-48}
REPS=${BENCH_REPS:-3}
[[ "$MB" =~ ^[1-9][0-9]*$ && "$REPS" =~ ^[1-9][0-9]*$ ]] || fail "BENCH_MB and BENCH_REPS must be positive integers"
require_appliance
make_appliance_root "$WORK/root.img"
# Service: for each rep, "bench: W0 W1 R0 R1" (/proc/uptime seconds around the write and the read).
SVC="up() { read u _ < /proc/uptime; echo \$u; }; i=0; while [ \$i -lt $REPS ]; do
rm -f /data/bench; sync; w0=\$(up); /bin/busybox dd if=/dev/zero of=/data/bench bs=1M count=$MB conv=fsync 2>/dev/null || exit 1; w1=\$(up);
sync; echo 3 > /proc/sys/vm/drop_caches; r0=\$(up); /bin/busybox dd if=/data/bench of=/dev/null bs=1M 2>/dev/null || exit 1; r1=\$(up);
echo \"bench: \$w0 \$w1 \$r0 \$r1\"; i=\$((i + 1)); done; echo 'svc: ready'; exec sleep 1000"
# per_mode NAME SPEC_EXTRA: boot with a fresh blank disk, collect the bench lines into $WORK/NAME.txt
per_mode() {
    local name=$1 extra=$2
    rm -f "$WORK/$name.img"
    truncate -s $(( (MB + 16 + 64) << 20 )) "$WORK/$name.img"
    write_spec "$WORK/spec-$name" "{\"version\": 1, \"persistent\": {\"mount\": \"/data\"$extra},
  \"services\": [{\"name\": \"bench\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC")], \"restart\": \"no\"}]}"
    # vm_boot_until_ready with a longer wait (formatting and dd under TCG take minutes).
    vm_start --monitor --initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug)" \
        --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/$name.img" --spec "$WORK/spec-$name"
    wait_console '^svc: ready|^cocoon-init: FATAL' "$BOOT_TIMEOUT"
    console_lacks "$FATAL_RE"
    vm_monitor system_powerdown
    vm_wait
    console_text | sed -n 's/^bench: //p' > "$WORK/$name.txt"
    [ "$(wc -l < "$WORK/$name.txt")" = "$REPS" ] || fail "$name: expected $REPS bench lines"
}
per_mode plain ', "integrity": false'
console_has '^cocoon-init: volume persistent: formatted \(no integrity\)'
per_mode integrity ''
console_has '^cocoon-init: volume persistent: formatted \(integrity hmac\(sha256\)\)'
awk -v mb="$MB" -v reps="$REPS" '
    FNR == NR { pw += $2 - $1; pr += $4 - $3; next }
    { iw += $2 - $1; ir += $4 - $3 }
    END {
        if (pw <= 0 || pr <= 0 || iw <= 0 || ir <= 0) { print "bench: a time is zero (raise BENCH_MB)"; exit 1 }
        printf "persistent volume, %d MiB written (dd conv=fsync) and read back (cold cache), %d reps per mode\n", mb, reps
        printf "plain aes-xts-plain64:            write %.1f MiB/s, read %.1f MiB/s\n", mb * reps / pw, mb * reps / pr
        printf "aes-xts-plain64 + hmac(sha256):   write %.1f MiB/s, read %.1f MiB/s\n", mb * reps / iw, mb * reps / ir
        printf "ratio integrity/plain (time):     write %.2fx, read %.2fx\n", iw / pw, ir / pr
    }' "$WORK/plain.txt" "$WORK/integrity.txt"
