#!/usr/bin/env bash
# The key server as an appliance in its own TD (issue 18; docs/keys.md "Key server TD"), under
# QEMU TCG with sim attestation, two VMs at once through cocoon-launch:
#   key-server TD  the test root with /usr/bin/cocoon-keyserver (as image-recipes/rootfs.list
#                  ships it), started by cocoon-init from its measured spec (keyserver/keyserver.json:
#                  store /data/keyserver on the persistent volume, the peer policy, the pinned
#                  admin key, ports 7443/7444); its persistent-volume and APP_KEY keys come from
#                  the test seal server (cocoon-seal provider, non-debug), APP_KEY wraps the
#                  store; host ports (free ones from the kernel) forwarded to 7443/7444.
#   audit          `cocoon-keyserver identity` through the forwarded admin port: the quote
#                  verifies to the sim root, its RTMR3 is `cocoon-measure spec` of the key
#                  server's spec, its image hash is the one computed from the sim registers and
#                  that RTMR3 (and what cocoon-init logged); a wrong root is refused.
#   admin          add-key from the host, signed by the admin key pinned in the spec, with the
#                  worker's image hash and RTMR3 computed from the worker's files; a request
#                  signed by another key is refused.
#   worker A       a second TD (worker spec: the encrypted model, the key server by address,
#                  identity key and image hash) gets the key, opens and reads the model.
#   worker B       another spec (so another RTMR3 and image hash): refused (grant_image_hash),
#                  halt, nothing mounted.
#   restart        the key-server TD powered off and booted again: the volume is opened (not
#                  formatted), same identity, the grant listed, worker A gets the key again.
# Workers are real TCG boots, concurrent with the key-server TD (which idles in poll()).
# KEYSERVER_IMAGE=DIR (optional): the key-server TD boots the production image that
# image-recipes/build-image wrote to DIR (its initrd, verified root and cmdline, plus the
# measured `cocoon.attest=sim` variant) with the plain service argv of docs/keys.md; the server's
# log then stays in the TD, so the checks on it are skipped (said in the output).
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
source "$(dirname "$0")/lib.sh"
require_appliance
KS=$BIN/cocoon-keyserver SRV=$BUILD/tests/cocoon-test-seal-server
need_file "$KS" "built by make (guest/keyserver/module.mk)"
need_file "$SRV" "built by make (tests/seal/module.mk)"
need_file "$BIN/cocoon-sim" "built by make"
need_file "$BIN/cocoon-measure" "built by make"

KS_VM_PID= SEAL_PID=
KSVM=$WORK/ksvm KS_CONSOLE=$WORK/ks-console.log
extra_stop() {
    if [ -n "$KS_VM_PID" ]; then kill "$KS_VM_PID" 2>/dev/null || true; wait "$KS_VM_PID" 2>/dev/null || true; fi
    if [ -n "$SEAL_PID" ]; then kill "$SEAL_PID" 2>/dev/null || true; wait "$SEAL_PID" 2>/dev/null || true; fi
    KS_VM_PID= SEAL_PID=
}
trap 'rc=$?; [ $rc = 0 ] || { echo "---- key-server TD console ----"; tr -d "\r" < "$KS_CONSOLE" | tail -n 30; } >&2;
      extra_stop; (exit $rc); it_cleanup' EXIT

# ---- one sim CA for every party; the seal server for the key server's sealed keys ----------
"$BIN/cocoon-sim" --dir "$WORK/ca" init >/dev/null || fail "cocoon-sim init failed"
"$BIN/cocoon-sim" --dir "$WORK/other-ca" init >/dev/null || fail "cocoon-sim init failed"
cp -r "$WORK/ca" "$WORK/seal-sim"
MRE=$(printf '%s' 'cocoon-sim seal enclave' | sha256sum | cut -d' ' -f1)   # the sim enclave (tests/seal)
rm -f "$WORK/seal.port"
"$SRV" --sim-dir "$WORK/seal-sim" --secret "$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    --listen tcp:127.0.0.1:0 --mode good --port-file "$WORK/seal.port" 2>"$WORK/seal.log" &
SEAL_PID=$!
for _ in $(seq 100); do [ -s "$WORK/seal.port" ] && break; sleep 0.05; done
SEAL_PORT=$(cat "$WORK/seal.port" 2>/dev/null || true)
port_ok "$SEAL_PORT" || fail "the seal server did not start: $(cat "$WORK/seal.log")"

# ---- the image: one root for both roles (busybox for the test services + cocoon-keyserver) --
printf 'elf usr/bin/cocoon-keyserver %s\n' "$KS" > "$WORK/root-extra.list"
make_appliance_root "$WORK/root.img" "$WORK/root-extra.list"
if [ -n "${KEYSERVER_IMAGE:-}" ]; then
    need_file "$KEYSERVER_IMAGE/rootfs.img" "image-recipes/build-image"
    KS_ROOT=$KEYSERVER_IMAGE/rootfs.img KS_INITRD=$KEYSERVER_IMAGE/initrd.img KS_LOG=0
    KS_APPEND="$(grep -oE 'cocoon\.[a-z]+=[^ ]+' "$KEYSERVER_IMAGE/cmdline" | tr '\n' ' ')cocoon.attest=sim cocoon.timeout=10"
    KS_ARGV='"/usr/bin/cocoon-keyserver", "serve", "--config", "/run/spec/keyserver/keyserver.json"'
else
    KS_ROOT=$WORK/root.img KS_INITRD=$INITRD KS_LOG=1 KS_APPEND=$(appliance_cmdline)
    # The test root's sh copies the server's log to the console (the production image runs the
    # plain argv; its log is /run/cocoon/log/keyserver.log in the TD).
    KS_ARGV='"/bin/sh", "-c", "exec /usr/bin/cocoon-keyserver serve --config /run/spec/keyserver/keyserver.json 2>/dev/console"'
fi

# ---- the key-server TD's spec ----------------------------------------------------------------
openssl genpkey -algorithm ed25519 -out "$WORK/admin.pem" 2>/dev/null || fail "openssl genpkey"
openssl genpkey -algorithm ed25519 -out "$WORK/intruder.pem" 2>/dev/null || fail "openssl genpkey"
ADMIN_PUB=$(openssl pkey -in "$WORK/admin.pem" -pubout -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')
KSPEC=$WORK/ks-spec
mkdir -p "$KSPEC/keyserver" "$KSPEC/keys" "$KSPEC/runtime"
cp -r "$WORK/ca" "$KSPEC/runtime/sim"
# The trust anchor and measure policy for appliances are measured (part of the spec); the
# collateral is not (it changes; verified against the anchor).
cp "$WORK/ca/root.pem" "$WORK/ca/policy.json" "$KSPEC/keyserver/"
cat > "$KSPEC/keyserver/keyserver.json" <<JSON
{"version": 1, "listen": "tcp:0.0.0.0:7443", "admin_listen": "tcp:0.0.0.0:7444",
 "store": "/data/keyserver", "admin_key": "$ADMIN_PUB", "attest": "sim",
 "event_log": "/run/cocoon/rtmr3.log", "timeout_ms": 10000,
 "peer_policy": {"measure_policy": "/run/spec/keyserver/policy.json", "root": "/run/spec/keyserver/root.pem",
                 "collateral": "/run/cocoon/sim/collateral.json"}}
JSON
printf '{"mrenclave": ["%s"], "server": "tcp:10.0.2.2:%s", "timeout_ms": 10000}\n' "$MRE" "$SEAL_PORT" \
    > "$KSPEC/keys/cocoon-seal.json"
write_spec "$KSPEC" "{\"version\": 1, \"persistent\": {\"mount\": \"/data\"},
  \"network\": {\"interface\": \"eth0\", \"address\": \"10.0.2.15/24\", \"gateway\": \"10.0.2.2\"},
  \"services\": [{\"name\": \"keyserver\", \"argv\": [$KS_ARGV], \"restart\": \"on-failure\"}]}"
truncate -s 64M "$WORK/ks-persistent.img"
KS_PORT=$(free_port) KS_ADMIN=$(free_port)
[ "$KS_PORT" != "$KS_ADMIN" ] || KS_ADMIN=$(free_port)

ks_console() { tr -d '\r' < "$KS_CONSOLE" 2>/dev/null || true; }
# ks_boot: start the key-server TD (in the background) and wait until the server listens.
ks_boot() {
    CONSOLE=$KS_CONSOLE LAUNCH_VM_DIR=$KSVM LAUNCH_PORTS="tcp:$KS_PORT:7443, tcp:$KS_ADMIN:7444" BOOT_TIMEOUT=1800 \
        launch_vm_start --initrd "$KS_INITRD" --append "$KS_APPEND" --disk "root=$KS_ROOT:ro" \
        --disk "persistent=$WORK/ks-persistent.img" --spec "$KSPEC"
    KS_VM_PID=$VM_PID VM_PID=
    if [ "$KS_LOG" = 1 ]; then
        CONSOLE=$KS_CONSOLE VM_PID=$KS_VM_PID wait_console '^cocoon-keyserver: identity |^cocoon-init: FATAL' 400
    else # up when its certificate verifies through the forwarded port
        CONSOLE=$KS_CONSOLE VM_PID=$KS_VM_PID wait_console '^cocoon-init: service keyserver started|^cocoon-init: FATAL' 400
        for _ in $(seq 100); do ks_identity >/dev/null 2>&1 && break; sleep 2; done
    fi
    ks_console | grep -qE "$FATAL_RE" && fail "the key-server TD halted: $(ks_console | grep -E "$FATAL_RE")"
    return 0
}
# ks_stop: the power button; the TD stops the server, closes the volume and powers off.
ks_stop() {
    LAUNCH_VM_DIR=$KSVM launch_vm_powerdown
    wait "$KS_VM_PID" 2>/dev/null || true
    KS_VM_PID=
}
# ks_log_check MSG REGEX: the server's log (the key-server TD's console) has a line matching REGEX.
ks_log_check() {
    if [ "$KS_LOG" = 0 ]; then echo "skipped: $TEST_NAME: $1 (the production image keeps the server's log in the TD)"; return; fi
    check "$1" bash -c 'tr -d "\r" < "$1" | grep -qE -- "$2"' _ "$KS_CONSOLE" "$2"
}
ks_identity() { # [ROOT [COLLATERAL]]: the audit command against the forwarded admin port
    "$KS" identity --server "tcp:127.0.0.1:$KS_ADMIN" --server-root "${1:-$WORK/ca/root.pem}" \
        --server-collateral "${2:-$WORK/ca/collateral.json}"
}
# image_hash_of RTMR3: the image hash of a sim TD of this CA whose RTMR3 is RTMR3: SHA-256 over
# the registers file's MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..2, then RTMR3 and 64
# zero bytes (docs/formats.md), computed here independently of the C code.
image_hash_of() {
    python3 -c 'import hashlib, sys
regs = open(sys.argv[1], "rb").read()
assert len(regs) == 8 * 48 and regs[7 * 48:] == bytes(48), "registers: 8 x 48 bytes, RTMR3 zero"
print(hashlib.sha256(regs[:7 * 48] + bytes.fromhex(sys.argv[2]) + bytes(64)).hexdigest())' "$WORK/ca/registers" "$1"
}
predict_rtmr3() { # SPECDIR
    "$BIN/cocoon-measure" spec "$1" --json > "$WORK/predict.json" || fail "cocoon-measure spec $1 failed"
    jq_get "$WORK/predict.json" .rtmr3
}

# ---- boot 1 of the key-server TD: blank volume formatted, server up ------------------------
ks_boot
ks_console | grep -q '^cocoon-init: volume persistent: formatted' || fail "the blank persistent volume was not formatted"
ks_console | grep -q '^cocoon-init: key provider cocoon-seal$' || fail "the key server's keys are not the seal provider's"
APP1=$(grep -oE '\(key app sha256 [0-9a-f]{64}\)' "$WORK/seal.log" | tail -n1)
check "the seal server served the key-server TD its app key (the store's wrapping secret)" [ -n "$APP1" ]
LOGGED_IMAGE=$(ks_console | grep -oE '^cocoon-init: image hash [0-9a-f]{64}' | tail -n1 | awk '{print $4}')
pass "key-server TD booted${KEYSERVER_IMAGE:+ (production image $KEYSERVER_IMAGE)}: volume formatted, cocoon-keyserver serving"

# ---- audit: what the model owner checks before trusting this key server ---------------------
ks_identity > "$WORK/ks-id.json" || fail "cocoon-keyserver identity failed"
KS_ID=$(jq_get "$WORK/ks-id.json" .identity) KS_IMAGE=$(jq_get "$WORK/ks-id.json" .image_hash)
KS_RTMR3=$(jq_get "$WORK/ks-id.json" .rtmr3)
KS_PREDICTED=$(predict_rtmr3 "$KSPEC")
ks_log_check "the identity key is the one the server logged" "^cocoon-keyserver: identity $KS_ID, "
check "the key server's RTMR3 $KS_RTMR3 is cocoon-measure spec of its spec" [ "$KS_RTMR3" = "$KS_PREDICTED" ]
check "its certificate carries its RTMR3 event log, replayed" [ "$(jq_get "$WORK/ks-id.json" .event_log_replayed)" = true ]
check "its image hash is the one computed from the registers and the predicted RTMR3" \
    [ "$KS_IMAGE" = "$(image_hash_of "$KS_PREDICTED")" ]
check "its image hash is the one cocoon-init logged in the TD" [ "$KS_IMAGE" = "$LOGGED_IMAGE" ]
check_fails "a key server whose quote does not chain to the expected root is refused" 'keyserver_tls: .*pck_chain' \
    ks_identity "$WORK/other-ca/root.pem" "$WORK/other-ca/collateral.json"
pass "audit: identity $KS_ID, image $KS_IMAGE, RTMR3 = its spec's"

# ---- the model and the workers' specs -----------------------------------------------------------
# The volume as build-model --encrypt makes it (erofs, aes-xts-plain64 in place, verity over the
# ciphertext; the recipe itself is image_build_model_encrypted.sh's), here with the host's tools.
mkdir -p "$WORK/model-src"
echo "model-x-weights" > "$WORK/model-src/weights.txt"
head -c 65536 /dev/zero | tr '\0' 'w' > "$WORK/model-src/padding.bin"
head -c 64 /dev/urandom > "$WORK/model.key"
MODEL_IMG=$WORK/model.img
mkfs.erofs --quiet -T0 -U"$EROFS_UUID" --all-root "$MODEL_IMG" "$WORK/model-src" || fail "mkfs.erofs (model) failed"
truncate -s $(( ($(stat -c %s "$MODEL_IMG") + 4095) / 4096 * 4096 )) "$MODEL_IMG"
"$KS" encrypt-volume --key-file "$WORK/model.key" "$MODEL_IMG" || fail "encrypt-volume failed"
check "the volume holds no plaintext" bash -c '! grep -q model-x-weights "$1"' _ "$MODEL_IMG"
verity_append "$MODEL_IMG" "$MODEL_VERITY_UUID"
MODEL="x@v1:$VERITY_HASH"

worker_spec() { # DIR GREETING
    mkdir -p "$1/runtime"
    rm -rf "$1/runtime/sim" && cp -r "$WORK/ca" "$1/runtime/sim"
    write_spec "$1" "{\"version\": 1,
  \"network\": {\"interface\": \"eth0\", \"address\": \"10.0.2.15/24\", \"gateway\": \"10.0.2.2\"},
  \"models\": [{\"name\": \"x\", \"roothash\": \"$VERITY_HASH\", \"data_blocks\": $VERITY_BLOCKS,
    \"encrypted\": {\"model\": \"$MODEL\", \"key_bytes\": 64,
      \"keyserver\": {\"address\": \"tcp:10.0.2.2:$KS_PORT\", \"public_key\": \"$KS_ID\",
        \"image_hashes\": [\"$KS_IMAGE\"], \"timeout_ms\": 60000}}}],
  \"services\": [{\"name\": \"report\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_REPORT; exec sleep 1000")],
    \"env\": [\"GREETING=$2\"], \"restart\": \"no\"}]}"
}
worker_spec "$WORK/spec-a" worker-a
worker_spec "$WORK/spec-b" worker-b
A_RTMR3=$(predict_rtmr3 "$WORK/spec-a") B_RTMR3=$(predict_rtmr3 "$WORK/spec-b")
A_IMAGE=$(image_hash_of "$A_RTMR3") B_IMAGE=$(image_hash_of "$B_RTMR3")
check "the two worker specs differ in RTMR3" [ "$A_RTMR3" != "$B_RTMR3" ]
worker_boot() { # SPECDIR
    vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline)" \
        --disk "root=$WORK/root.img:ro" --disk "model-x=$MODEL_IMG:ro" --spec "$1"
}

# ---- admin path from the host -----------------------------------------------------------------
admin() { # KEY CMD ARGS...: signed for the pinned identity, the server's image checked too
    local key=$1 cmd=$2; shift 2
    "$KS" "$cmd" --server "tcp:127.0.0.1:$KS_ADMIN" --server-key "$KS_ID" --server-image-hash "$KS_IMAGE" \
        --server-root "$WORK/ca/root.pem" --server-collateral "$WORK/ca/collateral.json" --admin-key "$key" "$@"
}
check_fails "an add-key signed by a key other than the spec's admin key is refused" 'admin_signature' \
    admin "$WORK/intruder.pem" add-key --model "$MODEL" --key-file "$WORK/model.key" --image-hash "$B_IMAGE"
admin "$WORK/admin.pem" add-key --model "$MODEL" --key-file "$WORK/model.key" --image-hash "$A_IMAGE" \
    --rtmr3 "$A_RTMR3" > "$WORK/add.json" || fail "add-key through the forwarded admin port failed"
check "the grant is listed with worker A's image hash" [ "$(jq_get "$WORK/add.json" '.models[0].image_hashes[0]')" = "$A_IMAGE" ]
ks_log_check "the key server logged the grant" "^cocoon-keyserver: admin: key added for $MODEL "
pass "admin: a grant added from the host (signed), another signer refused"

# ---- worker A: allowed ---------------------------------------------------------------------------
worker_boot "$WORK/spec-a"
console_lacks "$FATAL_RE"
console_has "^cocoon-init: volume model-x: mounted \\(verity $VERITY_HASH, decrypted with the key server's key\\)$"
console_has '^svc: model=model-x-weights$' "the worker reads the decrypted model"
check "worker A's RTMR3 is its spec's prediction" [ "$(console_rtmr3)" = "$A_RTMR3" ]
ks_log_check "the key-server TD logged the release to worker A's image" \
    "^cocoon-keyserver: released model $MODEL to image $A_IMAGE rtmr3 $A_RTMR3 "
pass "worker A (allowed image and spec): key released by the key-server TD, model opened"

# ---- worker B: another spec, so another image hash: nothing ---------------------------------------
worker_boot "$WORK/spec-b"
console_has "^cocoon-init: FATAL models: model x: keyserver_refused: the key server refused: grant_image_hash: "
console_lacks '^cocoon-init: volume model-x: mounted'
console_lacks '^svc: '
ks_log_check "the key-server TD logged the refusal of worker B's image" \
    "^cocoon-keyserver: refused model $MODEL to image $B_IMAGE rtmr3 $B_RTMR3: grant_image_hash"
pass "worker B (spec and image hash not allowed): refused, halted, nothing mounted"

# ---- restart the key-server TD: the sealed store survives ----------------------------------------
ks_stop
ks_log_check "the key server stopped in order" '^cocoon-keyserver: stopping'
ks_console | grep -q '^cocoon-init: shutdown: volume persistent closed' || fail "the persistent volume was not closed"
check "the store never reached the disk in the clear" python3 -c 'import sys
k = open(sys.argv[1], "rb").read(); d = open(sys.argv[2], "rb").read()
sys.exit(1 if k in d or k.hex().encode() in d else 0)' "$WORK/model.key" "$WORK/ks-persistent.img"
ks_boot
ks_console | grep -q '^cocoon-init: volume persistent: opened' || fail "the persistent volume was not reopened"
APP2=$(grep -oE '\(key app sha256 [0-9a-f]{64}\)' "$WORK/seal.log" | tail -n1)
check "the same sealed app key after the restart" [ "$APP2" = "$APP1" ]
ks_identity > "$WORK/ks-id2.json" || fail "cocoon-keyserver identity failed after the restart"
check "the same identity after the restart" [ "$(jq_get "$WORK/ks-id2.json" .identity)" = "$KS_ID" ]
check "the same image hash after the restart" [ "$(jq_get "$WORK/ks-id2.json" .image_hash)" = "$KS_IMAGE" ]
admin "$WORK/admin.pem" list > "$WORK/list.json" || fail "list after the restart failed"
check "the grant survived the restart" [ "$(jq_get "$WORK/list.json" '.models[0].model')" = "$MODEL" ]
worker_boot "$WORK/spec-a"
console_lacks "$FATAL_RE"
console_has '^svc: model=model-x-weights$' "worker A reads the model with the key kept across the restart"
ks_stop
pass "restart: volume reopened, same identity, grant and key kept"
pass "key server TD: audited, administered from the host, releases only to the allowed worker, survives a restart"
