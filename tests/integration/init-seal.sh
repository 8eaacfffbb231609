#!/usr/bin/env bash
# Production keys end to end (issue 14): a non-debug boot (cocoon.attest=sim) gets its keys
# from the test seal server (tests/seal) on the host, over the sim-only TCP transport (this
# host has no vhost-vsock): the guest reaches the host's 127.0.0.1 at 10.0.2.2 through the
# launcher's QEMU user networking, so the spec names its network and cocoon-init brings it
# up before the keys step. The spec's runtime/sim seeds the guest's sim CA, whose report_key
# the server uses to check the TDREPORT MAC.
#   boot 1: the blank persistent disk is formatted, the service writes a file and sees
#           APP_KEY = base64 of the server's "app" key;
#   boot 2: same spec, same server: the volume opens, the file is there, the same APP_KEY;
#   a changed (measured) spec: another key, FATAL persistent, the disk byte-identical;
#   every malicious server: FATAL keys naming the failed check, the disk byte-identical.
# The server's port is in the measured spec, so boots 1, 2 and the changed spec share one
# server process; each malicious variant gets its own (kernel-chosen port).
source "$(dirname "$0")/lib.sh"
require_appliance
SRV=$BUILD/tests/cocoon-test-seal-server
need_file "$SRV" "built by make (tests/seal/module.mk)"
need_file "$BIN/cocoon-sim" "built by make"

SEAL_PID=
seal_stop() {
    if [ -n "$SEAL_PID" ]; then kill "$SEAL_PID" 2>/dev/null || true; wait "$SEAL_PID" 2>/dev/null || true; fi
    SEAL_PID=
}
trap 'rc=$?; seal_stop; (exit $rc); it_cleanup' EXIT

SPEC=$WORK/spec
make_appliance_root "$WORK/root.img"
truncate -s 64M "$WORK/persistent.img"
"$BIN/cocoon-sim" --dir "$SPEC/runtime/sim" init >/dev/null || fail "cocoon-sim init failed"
need_file "$SPEC/runtime/sim/report_key" "cocoon-sim init writes the sim TDREPORT MAC key"
cp -r "$SPEC/runtime/sim" "$WORK/server-sim"   # the server's own copy of the same CA and report_key
MRE=$(printf '%s' 'cocoon-sim seal enclave' | sha256sum | cut -d' ' -f1)   # the sim enclave (tests/seal)
SECRET=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# seal_start MODE: a fresh server (kernel-chosen port) and the spec's keys/cocoon-seal.json
# pointing at it; its log is $WORK/seal-MODE.log.
seal_start() {
    local mode=$1 port=""
    seal_stop
    SEAL_LOG=$WORK/seal-$mode.log
    rm -f "$WORK/seal.port"
    "$SRV" --sim-dir "$WORK/server-sim" --secret "$SECRET" --listen tcp:127.0.0.1:0 --mode "$mode" \
        --port-file "$WORK/seal.port" 2>"$SEAL_LOG" &
    SEAL_PID=$!
    for _ in $(seq 100); do [ -s "$WORK/seal.port" ] && break; sleep 0.05; done
    port=$(cat "$WORK/seal.port" 2>/dev/null || true)
    port_ok "$port" || fail "the seal server ($mode) did not start: $(cat "$SEAL_LOG")"
    mkdir -p "$SPEC/keys"
    printf '{"mrenclave": ["%s"], "server": "tcp:10.0.2.2:%s", "timeout_ms": 5000}\n' "$MRE" "$port" \
        > "$SPEC/keys/cocoon-seal.json"
}

# served_key NAME: the SHA-256 of the last NAME key the server handed out.
served_key() { grep -oE "\\(key $1 sha256 [0-9a-f]{64}\\)" "$SEAL_LOG" | tail -n1 | grep -oE '[0-9a-f]{64}' || true; }

SVC='exec >/dev/console 2>&1; if [ -f /data/marker ]; then echo "svc: found $(cat /data/marker)";
else echo "written-by-boot-1" > /data/marker && sync && echo "svc: wrote marker"; fi;
set -- $(printf %s "$APP_KEY" | base64 -d | sha256sum); echo "svc: app_key ${#APP_KEY} chars sha256 $1";
echo "svc: ready"; exec sleep 1000'
write_spec "$SPEC" "{\"version\": 1, \"persistent\": {\"mount\": \"/data\"},
  \"network\": {\"interface\": \"eth0\", \"address\": \"10.0.2.15/24\", \"gateway\": \"10.0.2.2\"},
  \"services\": [{\"name\": \"store\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC")], \"restart\": \"no\"}]}"

boot() {
    vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline)" \
        --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" --spec "$SPEC"
}
lacks() { ! grep -q -- "$1" "$2"; }
is_sha256() { [[ "$1" =~ ^[0-9a-f]{64}$ ]]; }
app_key_seen() { console_text | grep -oE '^svc: app_key 44 chars sha256 [0-9a-f]{64}$' | awk '{print $NF}'; }

# ---- boots 1 and 2: one good server ----
seal_start good
boot
console_lacks "$FATAL_RE"
console_has '^cocoon-init: network: eth0 10\.0\.2\.15/24, gateway 10\.0\.2\.2$'
console_has '^cocoon-init: key provider cocoon-seal$'
console_has '^cocoon-init: keys: disk_encryption, app derived; APP_KEY set for 1 service\(s\)$'
console_lacks 'cocoon:cocoon_debug' "a non-debug boot"
console_has '^cocoon-init: volume persistent: formatted'
console_has '^svc: wrote marker'
console_has '^cocoon-init: shutdown: volume persistent closed'
DISK1=$(served_key disk_encryption) APP1=$(served_key app) SEEN1=$(app_key_seen)
check "the server logged the disk key it handed out" is_sha256 "$DISK1"
check "the server logged the app key it handed out" is_sha256 "$APP1"
check "the service's APP_KEY (sha256 '$SEEN1') is the server's app key ($APP1)" [ "$SEEN1" = "$APP1" ]
check "disk_encryption and app get different keys" [ "$DISK1" != "$APP1" ]
check "the persistent disk has a LUKS header" [ "$(head -c 4 "$WORK/persistent.img")" = LUKS ]
check "the marker is not in plaintext on the disk" lacks 'written-by-boot-1' "$WORK/persistent.img"
pass "boot 1: formatted with the seal server's key, file written, APP_KEY = base64 of the app key"

boot
console_lacks "$FATAL_RE"
console_has '^cocoon-init: volume persistent: opened'
console_has '^svc: found written-by-boot-1$' "second boot reads the first boot's file"
DISK2=$(served_key disk_encryption) SEEN2=$(app_key_seen)
check "the second boot gets the first boot's disk key" [ "$DISK2" = "$DISK1" ]
check "the second boot's APP_KEY is the first's" [ "$SEEN2" = "$APP1" ]
pass "boot 2: same spec, same key: the volume opened, the file read back, the same APP_KEY"

# ---- a changed measured spec: another key, halt at persistent, disk untouched ----
DISK_SHA=$(sha256 "$WORK/persistent.img")
echo "a measured change" > "$SPEC/extra.txt"
boot
console_has '^cocoon-init: FATAL persistent: .*the derived key does not open' "the changed spec's key must not open the volume"
console_lacks '^svc: '
DISK3=$(served_key disk_encryption)
check "the changed-spec boot got a disk key" is_sha256 "$DISK3"
check "a changed spec gets another disk key" [ "$DISK3" != "$DISK1" ]
DISK_SHA3=$(sha256 "$WORK/persistent.img")
check "the changed-spec boot leaves the disk byte-identical" [ "$DISK_SHA3" = "$DISK_SHA" ]
rm "$SPEC/extra.txt"
pass "changed spec: another key, FATAL persistent, disk byte-identical"

# ---- malicious servers: FATAL keys naming the check, disk untouched ----
for m in wrong-mrenclave:seal_mrenclave debug:seal_debug unbound:seal_report_data \
    replay:seal_report_data truncated:seal_framing extended:seal_response \
    oversize:seal_framing tampered:seal_report_data silent:seal_timeout; do
    mode=${m%%:*} chk=${m#*:}
    seal_start "$mode"
    boot
    console_has "^cocoon-init: FATAL keys: key provider cocoon-seal: key [a-z_]+: $chk: " "server mode $mode"
    console_lacks '^cocoon-init: volume persistent' "server mode $mode"
    console_lacks '^svc: ' "server mode $mode"
    DISK_SHA_M=$(sha256 "$WORK/persistent.img")
    check "server mode $mode leaves the disk byte-identical" [ "$DISK_SHA_M" = "$DISK_SHA" ]
    pass "server mode $mode: $(console_text | grep -m1 -oE 'FATAL keys: .{0,120}')"
done
seal_stop
pass "cocoon-seal boots: format, reopen, changed spec and nine malicious servers"
