#!/usr/bin/env bash
# Measured boot on a vTPM, predicted from the files and checked against real boots (issue 19 §1,
# docs/measurement.md "TPM PCRs"). The production initrd (cocoon-init) boots through
# cocoon-launch with a swtpm TPM (QEMU -tpmdev emulator + tpm-crb, the socket in the work
# directory); Debian's OVMF and the kernel's EFI stub measure into the SHA-256 bank. A test
# service prints the PCRs (/sys/class/tpm/tpm0/pcr-sha256/N) and the TCG2 event log
# (/sys/kernel/security/tpm0/binary_bios_measurements, base64) on the serial console. On the host:
#   - the log replays to the TPM's PCRs (cocoon-measure eventlog --tpm LOG --pcrs FILE);
#   - every PCR `cocoon-measure image --tpm` predicts from the files (kernel, initrd, cmdline,
#     OVMF, memory) equals the booted value, and each logged event of those PCRs equals the
#     predicted event at its place (eventlog --tpm --vm);
#   - PCR 1 (QEMU's ACPI with the TPM's tables) predicted from the blobs `cocoon-launch
#     capture-acpi` captures on the same machine shape with the same TPM device;
#   - PCR 0 (firmware volumes in memory) taken from the first boot's log predicts a second boot;
#   - with QEMU >= 10 (the launch tests' trixie root), OVMF measures the unpatched kernel;
#   - the check fails naming the PCR and the event when the kernel, the initrd or the cmdline
#     differ from the files the prediction used, and when the PCR values do not match the log.
source "$(dirname "$0")/lib.sh"
require_appliance
need_file "$BIN/cocoon-measure" "built by make"
command -v swtpm >/dev/null || fail "swtpm not found (make deps installs swtpm)"
command -v "$QEMU" >/dev/null || fail "$QEMU not found"
OVMF=$(realpath "$FIXTURES/tdx/measure/OVMF.fd")
MEASURE=$BIN/cocoon-measure

SWTPM_PIDS=()
tpm_cleanup() {
    local p
    for p in "${SWTPM_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap 'rc=$?; tpm_cleanup; (exit $rc); it_cleanup' EXIT

# QEMU < 10 hands OVMF the kernel with its setup-header patches (specs/measurement.md §3.5).
qemu_major=$("$QEMU" --version | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p')
[[ "$qemu_major" =~ ^[0-9]+$ ]] || fail "cannot read the QEMU version"
if [ "$qemu_major" -ge 10 ]; then KERNEL_MODE=unpatched; else KERNEL_MODE=qemu-patched; fi

make_appliance_root "$WORK/root.img"
# The service prints the PCRs and the event log, then stays up until the power button.
DUMP='exec >/dev/console 2>&1; mount -t securityfs securityfs /sys/kernel/security || echo "svc: no securityfs";
for n in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23; do
echo "svc: pcr $n $(cat /sys/class/tpm/tpm0/pcr-sha256/$n)"; done;
base64 /sys/kernel/security/tpm0/binary_bios_measurements | while read -r l; do echo "svc: tpmlog $l"; done;
echo "svc: ready"'
write_spec "$WORK/spec" "{\"version\": 1, \"services\": [{\"name\": \"tpmdump\",
  \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$DUMP; exec sleep 1000")], \"restart\": \"no\"}]}"

# swtpm_qemu DIR [ROOT]: a fresh swtpm (state and socket in DIR/tpm) and DIR/qemu, a QEMU
# wrapper for cocoon-launch's `qemu` key that adds the TPM (tpm-crb) and records its argv in
# DIR/qemu.argv. With ROOT, QEMU is ROOT's (a chroot), run in a private mount namespace where
# the work directory, the tree and the fixtures are bind-mounted at their own paths.
swtpm_qemu() {
    local d=$1 root=${2:-} i
    mkdir -p "$d/tpm"
    swtpm socket --tpm2 --tpmstate dir="$d/tpm" --ctrl type=unixio,path="$d/tpm/swtpm.sock" \
        --flags startup-clear --terminate --log file="$d/tpm/swtpm.log" &
    SWTPM_PIDS+=($!)
    for ((i = 0; i < 50; i++)); do [ -S "$d/tpm/swtpm.sock" ] && break; sleep 0.1; done
    [ -S "$d/tpm/swtpm.sock" ] || fail "swtpm did not create its socket"
    local tpm="-chardev socket,id=chrtpm,path=$d/tpm/swtpm.sock -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0"
    if [ -z "$root" ]; then
        cat > "$d/qemu" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$d/qemu.argv"
exec "$QEMU" "\$@" $tpm
EOF
    else
        cat > "$d/qemu" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$d/qemu.argv"
exec unshare -m sh -c 'set -e; mount --make-rprivate /
for p in "$WORK" "$REPO" "$BUILD" "$(realpath "$FIXTURES")"; do mkdir -p "$root\$p"; mount --bind "\$p" "$root\$p"; done
exec chroot "$root" qemu-system-x86_64 "\$@"' sh "\$@" $tpm
EOF
    fi
    chmod +x "$d/qemu"
}

# tpm_boot NAME [CMDLINE_EXTRA [QEMU_ROOT]]: one boot with a fresh swtpm. Leaves in
# $WORK/NAME: tpm.log, pcrs.txt ("<index> <hex>" lines), qemu.argv (what cocoon-launch ran),
# cmdline, memory, node.conf (the launcher's configuration).
tpm_boot() {
    local name=$1 extra=${2:-} d=$WORK/$1
    swtpm_qemu "$d" "${3:-}"
    LAUNCH_VM_QEMU=$d/qemu vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline) $extra" \
        --disk "root=$WORK/root.img:ro" --spec "$WORK/spec"
    console_lacks "$FATAL_RE"
    console_lacks '^svc: no securityfs'
    cp "$CONSOLE" "$d/console.log"
    cp "$WORK/vm/node.conf" "$d/node.conf"
    console_text | sed -n 's/^svc: tpmlog //p' | base64 -d > "$d/tpm.log" || fail "$name: the event log is not base64"
    console_text | sed -n 's/^svc: pcr //p' > "$d/pcrs.txt"
    [ "$(grep -cE '^[0-9]+ [0-9A-Fa-f]{64}$' "$d/pcrs.txt")" = 24 ] || fail "$name: the guest printed no 24 SHA-256 PCRs"
    [ -s "$d/tpm.log" ] || fail "$name: the guest printed no event log"
    sed -n '/^-append$/{n;p;q}' "$d/qemu.argv" > "$d/cmdline"
    sed -n '/^-m$/{n;p;q}' "$d/qemu.argv" > "$d/memory"
    [ -s "$d/cmdline" ] && [ -s "$d/memory" ] || fail "$name: no -append / -m in cocoon-launch's QEMU command line"
    pass "$name: booted with swtpm; $(wc -c < "$d/tpm.log") bytes of TCG2 log, 24 PCRs read in the guest"
}

# vm_json OUT KERNEL INITRD CMDLINE_FILE MEMORY [TPM_LOG [ACPI_DIR]]: the VM description
# cocoon-measure predicts from (ACPI_DIR: capture-acpi's tables.bin, rsdp.bin, table-loader.bin;
# KERNEL_MODE: the kernel bytes OVMF measures).
vm_json() {
    local extra=""
    [ -n "${6:-}" ] && extra="\"tpm_log\": $(json_str "$6"),"
    [ -n "${7:-}" ] && extra="$extra \"acpi_tables\": $(json_str "$7/tables.bin"), \"rsdp\": $(json_str "$7/rsdp.bin"),
        \"table_loader\": $(json_str "$7/table-loader.bin"),"
    printf '{"firmware": %s, "kernel": %s, "initrd": %s, "cmdline": %s, %s "memory": %s, "kernel_mode": "%s"}\n' \
        "$(json_str "$OVMF")" "$(json_str "$2")" "$(json_str "$3")" "$(json_str "$(cat "$4")")" "$extra" \
        "$(json_str "$5")" "$KERNEL_MODE" > "$1"
}

# pcrs_equal PREDICTION_JSON PCRS_TXT: every PCR in .pcrs equals the TPM's value (independent of
# the CLI's own comparison: jq and the guest's text), and PCR 2-9 are among them.
pcrs_equal() {
    local n want got
    for n in 2 3 4 5 6 7 8 9; do jq -e --arg n "$n" '.pcrs[$n] | test("^[0-9a-f]{64}$")' "$1" >/dev/null || {
        echo "PCR $n not predicted"; return 1; }; done
    for n in $(jq -r '.pcrs | keys[]' "$1"); do
        want=$(jq -r --arg n "$n" '.pcrs[$n]' "$1")
        got=$(awk -v n="$n" '$1 == n {print tolower($2)}' "$2")
        [ "$want" = "$got" ] || { echo "PCR $n: predicted $want, booted $got"; return 1; }
    done
}

tpm_boot boot1
B1=$WORK/boot1
MEM=$(cat "$B1/memory")
vm_json "$WORK/vm.json" "$KERNEL_DIR/vmlinuz" "$INITRD" "$B1/cmdline" "$MEM"
check "cocoon-measure image --tpm" "$MEASURE" image --vm "$WORK/vm.json" --tpm --json > "$WORK/predict.json"
for n in 0 1; do
    jq -e --arg n "$n" '.pcrs_not_predicted[$n] | length > 20' "$WORK/predict.json" >/dev/null ||
        fail "PCR $n is neither predicted nor explained without a reference log"
done

check "the TPM log replays to the booted PCRs" \
    "$MEASURE" eventlog --tpm "$B1/tpm.log" --pcrs "$B1/pcrs.txt" --json > "$WORK/replay1.json"
check "every predicted PCR equals the booted value" pcrs_equal "$WORK/predict.json" "$B1/pcrs.txt"
check "PCR 2-9 and their events match the prediction" \
    "$MEASURE" eventlog --tpm "$B1/tpm.log" --pcrs "$B1/pcrs.txt" --vm "$WORK/vm.json" --json > "$WORK/cmp1.json"
[ "$(jq_get "$WORK/cmp1.json" '[.prediction[] | select(.matches_log and .matches_pcr_value)] | length')" = 8 ] ||
    fail "not 8 predicted PCRs matched: $(jq -c .prediction "$WORK/cmp1.json")"
nev=$(jq_uint "$WORK/cmp1.json" '[.events[] | select(.pcr >= 2 and .pcr <= 9 and .type_name != "EV_NO_ACTION")] | length')
npred=$(jq_uint "$WORK/predict.json" '[.tpm_events[][]] | length')
[ "$nev" = "$npred" ] && [ "$nev" -ge 12 ] || fail "the log has $nev events in PCR 2-9, the prediction $npred"
pass "PCR 2-9 predicted from the files = booted PCRs; the log replays; its $nev events there match the predicted ones"

# PCR 1: QEMU's ACPI blobs of boot 1's machine shape with the TPM attached, captured by the
# launcher's probe (cocoon-launch capture-acpi, its qemu set to the TPM wrapper).
"$BIN/cocoon-mkinitrd" -o "$WORK/probe.img" -c gzip --elf "init=$BIN/cocoon-acpi-probe" >"$WORK/probe.log" 2>&1 ||
    fail "cannot build the ACPI probe initrd"
swtpm_qemu "$WORK/capture"
capture_acpi() {
    "$BIN/cocoon-launch" capture-acpi "$B1/node.conf" --set qemu="$WORK/capture/qemu" \
        --kernel "$KERNEL_DIR/vmlinuz" --initrd "$WORK/probe.img" --out "$WORK/acpi" \
        --timeout "$BOOT_TIMEOUT" > "$WORK/capture.log" 2>&1 || { cat "$WORK/capture.log"; return 1; }
}
check "cocoon-launch capture-acpi with the TPM" capture_acpi
vm_json "$WORK/vm-acpi.json" "$KERNEL_DIR/vmlinuz" "$INITRD" "$B1/cmdline" "$MEM" "" "$WORK/acpi"
"$MEASURE" image --vm "$WORK/vm-acpi.json" --tpm --json > "$WORK/predict-acpi.json" || fail "image --tpm with ACPI blobs failed"
[ "$(jq_get "$WORK/predict-acpi.json" .profile.pcr1_source)" = captured-acpi ] || fail "PCR 1 not from the captured blobs"
check "PCR 1-9 predicted with the captured ACPI equal the booted PCRs" pcrs_equal "$WORK/predict-acpi.json" "$B1/pcrs.txt"
check "PCR 1-9 and their events match (captured ACPI)" \
    "$MEASURE" eventlog --tpm "$B1/tpm.log" --pcrs "$B1/pcrs.txt" --vm "$WORK/vm-acpi.json" --json > "$WORK/cmp-acpi.json"
[ "$(jq_get "$WORK/predict-acpi.json" '.pcrs | keys | length')" = 9 ] || fail "PCR 1-9 not all predicted with the ACPI blobs"
pass "PCR 1 predicted from the ACPI blobs captured with the TPM attached (loader, rsdp, TPM log area, tables, boot variables)"

# A second boot with another cmdline: PCR 0 from the first boot's log (and PCR 1 from the
# captured blobs) predict it; PCR 9 moves.
tpm_boot boot2 "tpmtest.variant=2"
B2=$WORK/boot2
vm_json "$WORK/vm2.json" "$KERNEL_DIR/vmlinuz" "$INITRD" "$B2/cmdline" "$MEM" "$B1/tpm.log" "$WORK/acpi"
check "PCR 0-9 of boot 2 (PCR 0 from boot 1's log) match" \
    "$MEASURE" eventlog --tpm "$B2/tpm.log" --pcrs "$B2/pcrs.txt" --vm "$WORK/vm2.json" --json > "$WORK/cmp2.json"
"$MEASURE" image --vm "$WORK/vm2.json" --tpm --json > "$WORK/predict2.json" || fail "image --tpm with tpm_log failed"
check "PCR 0-9 predicted for boot 2 equal its PCRs" pcrs_equal "$WORK/predict2.json" "$B2/pcrs.txt"
[ "$(jq_get "$WORK/predict2.json" '.pcrs | keys | length')" = 10 ] || fail "PCR 0-9 not all predicted with tpm_log"
pass "PCR 0 from a reference log and PCR 1-9 from the files predict another boot of the same firmware and VM shape"

# ---- the checks fail, naming the PCR and the event, when the files differ ----
# cmdline: boot 2 ran with an extra argument; the prediction from boot 1's cmdline must fail.
check_fails "cmdline differs from the prediction's" 'mismatch: PCR 9 event 0: .*LoadOptions' \
    "$MEASURE" eventlog --tpm "$B2/tpm.log" --pcrs "$B2/pcrs.txt" --vm "$WORK/vm.json"
# kernel: one byte of a section flipped (still a valid PE image).
cp "$KERNEL_DIR/vmlinuz" "$WORK/vmlinuz.other"
flip_byte "$WORK/vmlinuz.other" $(( $(stat -c %s "$WORK/vmlinuz.other") / 2 ))
vm_json "$WORK/vm-kernel.json" "$WORK/vmlinuz.other" "$INITRD" "$B1/cmdline" "$MEM"
check_fails "kernel differs from the booted one" 'mismatch: PCR 4 event 0: .*kernel' \
    "$MEASURE" eventlog --tpm "$B1/tpm.log" --pcrs "$B1/pcrs.txt" --vm "$WORK/vm-kernel.json"
# initrd: same size (the QEMU header patch is unchanged), one byte flipped.
cp "$INITRD" "$WORK/initrd.other"
flip_byte "$WORK/initrd.other" 1000
vm_json "$WORK/vm-initrd.json" "$KERNEL_DIR/vmlinuz" "$WORK/initrd.other" "$B1/cmdline" "$MEM"
check_fails "initrd differs from the booted one" 'mismatch: PCR 9 event 1: .*Linux initrd' \
    "$MEASURE" eventlog --tpm "$B1/tpm.log" --pcrs "$B1/pcrs.txt" --vm "$WORK/vm-initrd.json"
# The same three through the jq comparison of predicted and booted PCR values.
for v in kernel initrd; do
    "$MEASURE" image --vm "$WORK/vm-$v.json" --tpm --json > "$WORK/predict-$v.json" || fail "image --tpm ($v) failed"
done
check_fails "predicted PCR 4 (other kernel) vs booted" '^PCR 4: predicted' pcrs_equal "$WORK/predict-kernel.json" "$B1/pcrs.txt"
check_fails "predicted PCR 9 (other initrd) vs booted" '^PCR 9: predicted' pcrs_equal "$WORK/predict-initrd.json" "$B1/pcrs.txt"
check_fails "predicted PCR 9 (boot 1 cmdline) vs boot 2" '^PCR 9: predicted' pcrs_equal "$WORK/predict.json" "$B2/pcrs.txt"
# ACPI tables other than the booted machine's (one byte of the captured blob flipped).
mkdir -p "$WORK/acpi-other"
cp "$WORK/acpi/"*.bin "$WORK/acpi-other/"
flip_byte "$WORK/acpi-other/tables.bin" 100
vm_json "$WORK/vm-acpi-other.json" "$KERNEL_DIR/vmlinuz" "$INITRD" "$B1/cmdline" "$MEM" "" "$WORK/acpi-other"
check_fails "ACPI tables differ from the booted machine's" 'mismatch: PCR 1 event 3: .*etc/acpi/tables' \
    "$MEASURE" eventlog --tpm "$B1/tpm.log" --pcrs "$B1/pcrs.txt" --vm "$WORK/vm-acpi-other.json"
# The replay check: a PCR value the log does not account for, and a truncated log.
sed "s/^7 .*/7 $(printf '%064d' 7)/" "$B1/pcrs.txt" > "$WORK/pcrs-other7.txt"
check_fails "a PCR value the log does not replay to" 'mismatch: PCR 7 is 0{63}7, the log replays to ' \
    "$MEASURE" eventlog --tpm "$B1/tpm.log" --pcrs "$WORK/pcrs-other7.txt"
head -c $(( $(wc -c < "$B1/tpm.log") - 7 )) "$B1/tpm.log" > "$WORK/tpm-truncated.log"
check_fails "a truncated log" 'malformed TPM event log: event at offset [0-9]+ truncated' \
    "$MEASURE" eventlog --tpm "$WORK/tpm-truncated.log"
pass "kernel, initrd and cmdline that differ from the prediction's fail naming PCR 4 / PCR 9 and the event"

# ---- QEMU >= 10 (test tooling, a trixie root): OVMF measures the unpatched kernel ----
# QEMU 10 adds fw_cfg etc/boot/kernel, the kernel without QEMU's setup-header writes, and
# Debian's OVMF 2025.02 measures that one (specs/measurement.md §3.5): the `unpatched` mode
# production TDX hosts use, booted here with the same TPM.
source "$IT_DIR/launch_lib.sh"
launch_qemu11_root
tpm_boot boot3 "" "$QROOT"
B3=$WORK/boot3
KERNEL_MODE=unpatched
vm_json "$WORK/vm3.json" "$KERNEL_DIR/vmlinuz" "$INITRD" "$B3/cmdline" "$(cat "$B3/memory")"
check "QEMU $QEMU_VERSION: PCR 2-9 (unpatched kernel) and their events match" \
    "$MEASURE" eventlog --tpm "$B3/tpm.log" --pcrs "$B3/pcrs.txt" --vm "$WORK/vm3.json" --json > "$WORK/cmp3.json"
"$MEASURE" image --vm "$WORK/vm3.json" --tpm --json > "$WORK/predict3.json" || fail "image --tpm (QEMU $QEMU_VERSION) failed"
check "QEMU $QEMU_VERSION: predicted PCRs equal the booted ones" pcrs_equal "$WORK/predict3.json" "$B3/pcrs.txt"
KERNEL_MODE=qemu-patched
vm_json "$WORK/vm3-patched.json" "$KERNEL_DIR/vmlinuz" "$INITRD" "$B3/cmdline" "$(cat "$B3/memory")"
check_fails "QEMU $QEMU_VERSION predicted as qemu-patched" 'mismatch: PCR 4 event 0: .*kernel \(qemu-patched' \
    "$MEASURE" eventlog --tpm "$B3/tpm.log" --pcrs "$B3/pcrs.txt" --vm "$WORK/vm3-patched.json"
pass "QEMU $QEMU_VERSION: Debian's OVMF measures the unpatched kernel; PCR 2-9 predicted with kernel_mode unpatched"
