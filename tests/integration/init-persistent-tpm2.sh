#!/usr/bin/env bash
# The tpm2 key provider with a real (emulated) TPM: QEMU's tpm-crb backed by swtpm, whose
# state directory lives in the work directory and survives the reboots. cocoon.attest=tpm
# puts the spec tree into PCR 15, the spec seals to PCR 15.
#   boot 1  blank disk: a new secret is sealed, stored as LUKS2 token 0 (cocoon-tpm2); a
#           service writes a marker
#   boot 2  same TPM, same cmdline and spec: the token unseals, the marker is read back
#   boot 3  cmdline with cocoon.attest=sim (nothing extends PCR 15): the volume does not
#           open, the FATAL names PCR 15
#   boot 4  a changed spec (another PCR 15): the same refusal
# (Plain QEMU with SeaBIOS: no firmware measures the kernel command line here; with OVMF
# the EFI stub's PCR 9 carries it, docs/keys.md "The tpm2 provider".)
IT_PLAIN_QEMU=1  # the launcher has no TPM option: plain QEMU with --tpm
source "$(dirname "$0")/lib.sh"
require_appliance
command -v swtpm >/dev/null || fail "swtpm not found (make deps installs it)"
make_appliance_root "$WORK/root.img"
truncate -s 64M "$WORK/persistent.img"
mkdir -p "$WORK/tpm"
SVC='if [ -f /data/marker ]; then echo "svc: found $(cat /data/marker)";
else echo "written-by-boot-1" > /data/marker && sync && echo "svc: wrote marker"; fi; echo "svc: ready"; exec sleep 1000'
write_spec "$WORK/spec" "{\"version\": 1, \"persistent\": {\"mount\": \"/data\"},
  \"services\": [{\"name\": \"store\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC")], \"restart\": \"no\"}]}"
mkdir -p "$WORK/spec/keys"
echo '{"pcrs": [15]}' > "$WORK/spec/keys/tpm2.json"
SWTPM_PID=
swtpm_up() {
    rm -f "$WORK/swtpm.sock"
    swtpm socket --tpm2 --tpmstate "dir=$WORK/tpm" --ctrl "type=unixio,path=$WORK/swtpm.sock" \
        --log "file=$WORK/swtpm.log" --terminate &
    SWTPM_PID=$!
    for _ in $(seq 100); do [ -S "$WORK/swtpm.sock" ] && return 0; sleep 0.1; done
    fail "swtpm did not create $WORK/swtpm.sock"
}
swtpm_down() {
    if [ -n "$SWTPM_PID" ]; then kill "$SWTPM_PID" 2>/dev/null || true; wait "$SWTPM_PID" 2>/dev/null || true; fi
    SWTPM_PID=
}
trap 'swtpm_down; it_cleanup' EXIT
boot() {
    swtpm_up
    vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug "$@" | sed 's/cocoon.attest=sim //') ${ATTEST:-cocoon.attest=tpm}" \
        --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" --spec "$WORK/spec" \
        --tpm "$WORK/swtpm.sock"
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
cp "$CONSOLE" "$WORK/console-boot1.log"

boot
console_lacks "$FATAL_RE"
console_lacks 'sealed a new secret'
console_has '^cocoon-init: volume persistent: opened'
console_has '^svc: found written-by-boot-1$' "second boot reads the first boot's file"
cp "$CONSOLE" "$WORK/console-boot2.log"

ATTEST=cocoon.attest=sim boot
console_has '^cocoon-init: FATAL keys: .*PCR 15 changed' "another cmdline (cocoon.attest=sim) leaves PCR 15 unextended"
console_lacks '^svc: '
cp "$CONSOLE" "$WORK/console-boot3.log"

echo "another file" > "$WORK/spec/extra.txt"
boot
console_has '^cocoon-init: FATAL keys: .*PCR 15 changed' "another spec gives another PCR 15"
console_lacks '^svc: '
cmp -s <(cryptsetup luksDump "$WORK/persistent.img") "$WORK/dump1.txt" || fail "the refused boots changed the LUKS header"
pass "tpm2: sealed on the blank disk, unsealed after a reboot, refused (naming PCR 15) after a cmdline and a spec change"
