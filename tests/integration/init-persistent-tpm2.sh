#!/usr/bin/env bash
# The tpm2 key provider with a real (emulated) TPM: the launcher's machine (q35, OVMF) with
# QEMU's tpm-crb backed by swtpm, whose state directory lives in the work directory and
# survives the reboots. OVMF's EFI stub measures the kernel command line into PCR 9;
# cocoon.attest=tpm puts the spec tree into PCR 15; the spec seals to PCRs 9 and 15.
#   boot 1  blank disk: a new secret is sealed, stored as LUKS2 token 0 (cocoon-tpm2); a
#           service writes a marker
#   boot 2  same TPM, same cmdline and spec: the token unseals, the marker is read back
#   boot 3  one more word on the command line (PCR 9 only): the volume does not open, the
#           FATAL names PCR 9
#   boot 4  cmdline with cocoon.attest=sim (nothing extends PCR 15): the FATAL names PCR 15
#   boot 5  a changed spec (another PCR 15): the same refusal
source "$(dirname "$0")/lib.sh"
require_appliance
command -v swtpm >/dev/null || fail "swtpm not found (make deps installs it)"
make_appliance_root "$WORK/root.img"
truncate -s 64M "$WORK/persistent.img"
mkdir -p "$WORK/tpm"
write_marker_spec "$WORK/spec"
mkdir -p "$WORK/spec/keys"
echo '{"pcrs": [9, 15]}' > "$WORK/spec/keys/tpm2.json"
SWTPM_PID=
swtpm_up() {
    rm -f "$WORK/swtpm.sock"
    swtpm socket --tpm2 --tpmstate "dir=$WORK/tpm" --ctrl "type=unixio,path=$WORK/swtpm.sock" \
        --log "file=$WORK/swtpm.log" --terminate &
    SWTPM_PID=$!
    for _ in $(seq 100); do [ -S "$WORK/swtpm.sock" ] && return 0; sleep 0.1; done
    fail "swtpm did not create $WORK/swtpm.sock"
}
# cocoon-launch's `qemu`: the host QEMU with the TPM added (the launcher has no TPM option)
printf '#!/bin/sh\nexec "%s" "$@" -chardev socket,id=chrtpm,path=%s -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0\n' \
    "$QEMU" "$WORK/swtpm.sock" > "$WORK/qemu"
chmod +x "$WORK/qemu"
swtpm_down() {
    if [ -n "$SWTPM_PID" ]; then kill "$SWTPM_PID" 2>/dev/null || true; wait "$SWTPM_PID" 2>/dev/null || true; fi
    SWTPM_PID=
}
trap 'swtpm_down; it_cleanup' EXIT
boot() {
    swtpm_up
    LAUNCH_VM_QEMU=$WORK/qemu vm_boot_until_ready --initrd "$INITRD" \
        --append "$(appliance_cmdline cocoon.debug "$@" | sed 's/cocoon.attest=sim //') ${ATTEST:-cocoon.attest=tpm}" \
        --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" --spec "$WORK/spec"
    swtpm_down
}

boot
console_lacks "$FATAL_RE"
console_has '^cocoon-init: attestation backend tpm'
console_has '^cocoon-init: key provider tpm2 \(sealed a new secret'
console_has '^cocoon-init: volume persistent: formatted'
console_has '^svc: wrote marker'
cryptsetup luksDump "$WORK/persistent.img" > "$WORK/dump1.txt" || fail "luksDump failed"
grep -qE '^ +0: cocoon-tpm2' "$WORK/dump1.txt" || fail "no cocoon-tpm2 token in the header: $(cat "$WORK/dump1.txt")"
if grep -q 'written-by-boot-1' "$WORK/persistent.img"; then fail "the marker is in plaintext on the disk"; fi
# PCR 15 (read back as the runtime register, zero-padded) is what cocoon-measure spec --tpm predicts
"$BIN/cocoon-measure" spec "$WORK/spec" --tpm --json > "$WORK/predict.json" || fail "cocoon-measure spec --tpm failed"
want=$(jq_get "$WORK/predict.json" .pcr15)$(printf '0%.0s' $(seq 32))
got=$(console_rtmr3)
check "PCR 15 = cocoon-measure spec --tpm ($want)" test "$got" = "$want"
cp "$CONSOLE" "$WORK/console-boot1.log"

boot
console_lacks "$FATAL_RE"
console_lacks 'sealed a new secret'
console_has '^cocoon-init: volume persistent: opened'
console_has '^svc: found written-by-boot-1$' "second boot reads the first boot's file"
cp "$CONSOLE" "$WORK/console-boot2.log"

boot printk.time=1
console_has '^cocoon-init: FATAL keys: .*PCR 9 changed' "another cmdline (one word more) changes PCR 9"
console_lacks '^cocoon-init: FATAL keys: .*PCR 15' "the spec is the same: PCR 15 is not named"
console_lacks '^svc: '
cp "$CONSOLE" "$WORK/console-boot3.log"

ATTEST=cocoon.attest=sim boot
console_has '^cocoon-init: FATAL keys: .*PCR 9, 15 changed' "another cmdline (cocoon.attest=sim): PCR 9, and PCR 15 unextended"
console_lacks '^svc: '
cp "$CONSOLE" "$WORK/console-boot4.log"

echo "another file" > "$WORK/spec/extra.txt"
boot
console_has '^cocoon-init: FATAL keys: .*PCR 15 changed' "another spec gives another PCR 15"
console_lacks '^cocoon-init: FATAL keys: .*PCR 9' "the cmdline is the same: PCR 9 is not named"
console_lacks '^svc: '
cmp -s <(cryptsetup luksDump "$WORK/persistent.img") "$WORK/dump1.txt" || fail "the refused boots changed the LUKS header"
pass "tpm2: sealed on the blank disk, unsealed after a reboot, refused naming PCR 9 after a cmdline change and PCR 15 after an attestation or spec change"
