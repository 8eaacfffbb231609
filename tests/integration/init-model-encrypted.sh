#!/usr/bin/env bash
# Confidential models end to end (issue 18; docs/boot.md "Encrypted models"): a model volume
# built by `image-recipes/build-model --encrypt` (aes-xts-plain64 under dm-verity over the
# ciphertext) is opened by cocoon-init (cocoon.attest=sim) with the key that the key server
# (`cocoon-keyserver serve` on the host, reached at 10.0.2.2 through QEMU's user network)
# releases over mutual RA-TLS, only when the model's grant allows the appliance:
#   boot 1  grant for another image hash: refused (grant_image_hash), nothing mounted; the
#           server logs the appliance's image hash and RTMR3, and that RTMR3 is the one the
#           guest logged after cocoon:tdx_inited and `cocoon-measure spec` predicts (no RTMR3
#           event for the model)
#   boot 2  grant for that image hash but another RTMR3 (spec): refused (grant_rtmr3)
#   boot 3  grant for the image hash and RTMR3: released, mounted, the service reads the
#           model's file; the release is in the server's log
#   boot 4  a grant with another key: verity passes, the erofs mount fails, halt
#   boot 5  the volume's ciphertext changed in a data block: dm-verity halts the boot
#   boot 6  a key server that never answers (TCP accepted, no TLS): keyserver_timeout, halt
# One key server process serves boots 1-5 (its port, identity key and image hash are in the
# measured spec: the guest pins the key and verifies the server's sim quote and image hash).
source "$(dirname "$0")/lib.sh"
require_appliance
KS=$BIN/cocoon-keyserver
need_file "$KS" "built by make (guest/keyserver/module.mk)"
need_file "$BIN/cocoon-sim" "built by make"
need_file "$BIN/cocoon-measure" "built by make"
export BUILDROOT=${BUILDROOT:-$BUILD/buildroot} KEYSERVER=$KS

KS_PID= SILENT_PID=
ks_stop() {
    for p in $KS_PID $SILENT_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    KS_PID= SILENT_PID=
}
trap 'rc=$?; ks_stop; (exit $rc); it_cleanup' EXIT

SPEC=$WORK/spec
make_appliance_root "$WORK/root.img"
"$BIN/cocoon-sim" --dir "$SPEC/runtime/sim" init >/dev/null || fail "cocoon-sim init failed"
cp -r "$SPEC/runtime/sim" "$WORK/ks-sim"   # the key server's copy of the same software CA

# The model: one file the service prints, built and encrypted by the recipe.
mkdir -p "$WORK/model-src"
echo "model-x-weights" > "$WORK/model-src/weights.txt"
head -c 65536 /dev/zero | tr '\0' 'w' > "$WORK/model-src/padding.bin"
head -c 64 /dev/urandom > "$WORK/model.key"
head -c 64 /dev/urandom > "$WORK/wrong.key"
image-recipes/build-model --encrypt "$WORK/model.key" --commit v1 "$WORK/model-src" x "$WORK/model" \
    >/dev/null 2>"$WORK/build-model.log" || { cat "$WORK/build-model.log" >&2; fail "build-model --encrypt failed"; }
MJSON=$WORK/model/x.json MODEL_IMG=$WORK/model/x.img
MODEL=$(jq_get "$MJSON" .model) MODEL_HASH=$(jq_get "$MJSON" .root_hash) MODEL_BLOCKS=$(jq_uint "$MJSON" .data_blocks)
check "the volume holds the model's text in plaintext" bash -c '! grep -q model-x-weights "$1"' _ "$MODEL_IMG"

# The key server: its secret, the admin's key, the DCAP policy of the sim CA.
head -c 32 /dev/urandom > "$WORK/ks.secret"
openssl genpkey -algorithm ed25519 -out "$WORK/admin.pem" 2>/dev/null || fail "openssl genpkey"
ADMIN_PUB=$(openssl pkey -in "$WORK/admin.pem" -pubout -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')
cat > "$WORK/ks.json" <<JSON
{"version": 1, "listen": "tcp:127.0.0.1:0", "admin_listen": "tcp:127.0.0.1:0", "store": "$WORK/ks-store",
 "secret_file": "$WORK/ks.secret", "admin_key": "$ADMIN_PUB", "attest": "sim",
 "peer_policy": {"measure_policy": "$WORK/ks-sim/policy.json", "root": "$WORK/ks-sim/root.pem",
                 "collateral": "$WORK/ks-sim/collateral.json"}}
JSON
rm -f "$WORK/ks.info"
COCOON_SIM_DIR=$WORK/ks-sim "$KS" serve --config "$WORK/ks.json" --info-file "$WORK/ks.info" 2>"$WORK/ks.log" &
KS_PID=$!
for _ in $(seq 100); do [ -s "$WORK/ks.info" ] && break; sleep 0.05; done
[ -s "$WORK/ks.info" ] || fail "the key server did not start: $(cat "$WORK/ks.log")"
KS_PORT=$(jq_uint "$WORK/ks.info" .port) KS_ADMIN=$(jq_uint "$WORK/ks.info" .admin_port)
KS_ID=$(jq_get "$WORK/ks.info" .identity) KS_IMAGE=$(jq_get "$WORK/ks.info" .image_hash)

# grant KEYFILE ARGS...: (re)place the model's grant through the signed admin path.
grant() {
    local key=$1; shift
    "$KS" add-key --server "tcp:127.0.0.1:$KS_ADMIN" --server-key "$KS_ID" --admin-key "$WORK/admin.pem" \
        --model "$MODEL" --key-file "$key" "$@" >/dev/null 2>"$WORK/grant.err" ||
        fail "add-key failed: $(cat "$WORK/grant.err")"
}

# spec ADDRESS TIMEOUT_MS: the measured spec with the encrypted model and its key server.
spec() {
    write_spec "$SPEC" "{\"version\": 1,
  \"network\": {\"interface\": \"eth0\", \"address\": \"10.0.2.15/24\", \"gateway\": \"10.0.2.2\"},
  \"models\": [{\"name\": \"x\", \"roothash\": \"$MODEL_HASH\", \"data_blocks\": $MODEL_BLOCKS,
    \"encrypted\": {\"model\": \"$MODEL\", \"key_bytes\": 64,
      \"keyserver\": {\"address\": \"$1\", \"public_key\": \"$KS_ID\", \"image_hashes\": [\"$KS_IMAGE\"],
        \"timeout_ms\": $2}}}],
  \"services\": [{\"name\": \"report\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$SVC_REPORT; exec sleep 1000")],
    \"restart\": \"no\"}]}"
}
boot() { # IMG
    vm_boot_until_ready --initrd "$INITRD" --append "$(appliance_cmdline)" \
        --disk "root=$WORK/root.img:ro" --disk "model-x=$1:ro" --spec "$SPEC"
}
refused() { # CHECK: the boot halted at models naming the key server's refusal, nothing mounted
    console_has "^cocoon-init: FATAL models: model x: keyserver_refused: the key server refused: $1: "
    console_lacks '^cocoon-init: volume model-x: mounted'
    console_lacks '^svc: '
}
spec "tcp:10.0.2.2:$KS_PORT" 20000
ZERO32=$(printf '%064d' 0) ZERO48=$(printf '%096d' 0)

# ---- boot 1: another image hash ----
grant "$WORK/model.key" --image-hash "$ZERO32"
boot "$MODEL_IMG"
console_has "^cocoon-init: volume model-x: key for $MODEL from tcp:10\\.0\\.2\\.2:$KS_PORT$"
refused grant_image_hash
GUEST_RTMR3=$(console_rtmr3)
line=$(grep -E "refused model $MODEL to image [0-9a-f]{64} rtmr3 [0-9a-f]{96}: grant_image_hash" "$WORK/ks.log" | tail -n1)
IMAGE_HASH=$(sed -E 's/.* to image ([0-9a-f]{64}) .*/\1/' <<< "$line")
RTMR3=$(sed -E 's/.* rtmr3 ([0-9a-f]{96}):.*/\1/' <<< "$line")
check "the server logged the refused appliance ($line)" [ ${#IMAGE_HASH} = 64 ]
check "the server saw RTMR3 $RTMR3, the guest logged $GUEST_RTMR3 after tdx_inited" [ "$RTMR3" = "$GUEST_RTMR3" ]
"$BIN/cocoon-measure" spec "$SPEC" --json > "$WORK/predict.json" || fail "cocoon-measure spec failed"
PREDICTED=$(jq_get "$WORK/predict.json" .rtmr3)
check "RTMR3 $RTMR3 is cocoon-measure spec's prediction $PREDICTED" [ "$RTMR3" = "$PREDICTED" ]
pass "boot 1: image hash not allowed: halted, nothing mounted; RTMR3 is the spec's ($RTMR3)"

# ---- boot 2: the image hash, another RTMR3 ----
grant "$WORK/model.key" --image-hash "$IMAGE_HASH" --rtmr3 "$ZERO48"
boot "$MODEL_IMG"
refused grant_rtmr3
pass "boot 2: spec (RTMR3) not allowed: halted, nothing mounted"

# ---- boot 3: allowed ----
grant "$WORK/model.key" --image-hash "$IMAGE_HASH" --rtmr3 "$RTMR3"
boot "$MODEL_IMG"
console_lacks "$FATAL_RE"
console_has "^cocoon-init: volume model-x: mounted \\(verity $MODEL_HASH, decrypted with the key server's key\\)$"
console_has '^svc: model=model-x-weights$' "the service reads the decrypted model"
console_lacks '^svc: rtmr3.log .*model' "no RTMR3 event for the model"
check "the third boot's RTMR3 is the first's" [ "$(console_rtmr3)" = "$RTMR3" ]
check "the release is in the server's log" grep -qE "released model $MODEL to image $IMAGE_HASH rtmr3 $RTMR3 " "$WORK/ks.log"
check "the release is in releases.log" grep -q "\"model\": \"$MODEL\", \"image_hash\": \"$IMAGE_HASH\"" \
    "$WORK/ks-store/releases.log"
console_has '^cocoon-init: shutdown: volume model-x closed'
pass "boot 3: image hash and spec allowed: key released, volume decrypted and mounted"

# ---- boot 4: the wrong key ----
grant "$WORK/wrong.key" --image-hash "$IMAGE_HASH" --rtmr3 "$RTMR3"
boot "$MODEL_IMG"
console_has "^cocoon-init: FATAL models: mount erofs /dev/mapper/model-x on /models/x \\(.*\\): the released key does not decrypt"
console_lacks 'verity: .*corrupted' "verity passes with the wrong key"
console_lacks '^svc: '
pass "boot 4: wrong key: verity passes, the mount fails, halt"

# ---- boot 5: tampered ciphertext ----
grant "$WORK/model.key" --image-hash "$IMAGE_HASH" --rtmr3 "$RTMR3"
cp "$MODEL_IMG" "$WORK/tampered.img"
boot_flipped_model "$WORK/tampered.img" "$SPEC" "dm-verity reports the changed ciphertext"
console_lacks '^svc: '
pass "boot 5: tampered ciphertext: verity halts"

# ---- boot 6: a key server that never answers ----
rm -f "$WORK/silent.port"
/usr/bin/python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(600)' "$WORK/silent.port" &
SILENT_PID=$!
for _ in $(seq 100); do [ -s "$WORK/silent.port" ] && break; sleep 0.05; done
SILENT=$(cat "$WORK/silent.port")
port_ok "$SILENT" || fail "the silent listener did not start"
spec "tcp:10.0.2.2:$SILENT" 3000
boot "$MODEL_IMG"
console_has '^cocoon-init: FATAL models: model x: keyserver_timeout: TLS handshake: no answer within 3000 ms'
console_lacks '^cocoon-init: volume model-x: mounted'
pass "boot 6: key server unreachable: timeout, halt"
ks_stop
pass "encrypted model: opened only when allowed; refused on image hash, spec, wrong key, tampering, timeout"
