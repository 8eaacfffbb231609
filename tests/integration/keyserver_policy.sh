#!/usr/bin/env bash
# cocoon-keyserver on the host (no QEMU; docs/keys.md "Key server"): the key server releases a
# model key only to an attested appliance its policy and the model's grant allow, takes admin
# requests only signed by the pinned admin key, and keeps its keys across a restart. Appliances
# are `cocoon-keyserver request --attest sim` clients with their own copy of the software TD
# (registers and RTMR3 event log like cocoon-init's after tdx_inited).
#   allowed appliance        the key (same bytes as the model owner's key file); the release logged
#   non-attested client      refused in the handshake (quote_missing)
#   debug appliance          refused (policy_debug_event: cocoon:cocoon_debug in its event log)
#   grant for other images   refused (grant_image_hash); unknown model refused (unknown_model)
#   sim quote, production    the default measure policy (Intel's root key id) refuses the sim quote
#   admin, wrong signature   refused (admin_signature), the grant unchanged
#   admin, replayed seq      refused (admin_replay)
#   admin on the key port    refused: the attested listener takes no unattested client
#   restart                  same identity, the grant and the key are still there
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TEST_NAME=keyserver_policy
KS=$BUILD/bin/cocoon-keyserver SIM=$BUILD/bin/cocoon-sim
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $TEST_NAME: $*" >&2; for f in "$T"/*.log; do echo "--- $f" >&2; tail -n 5 "$f" >&2; done; exit 1; }
source tests/integration/check_lib.sh
for b in "$KS" "$SIM"; do [ -x "$b" ] || fail "missing $b (make)"; done

"$SIM" --dir "$T/ca" init >/dev/null
cp -r "$T/ca" "$T/ks-sim"
openssl genpkey -algorithm ed25519 -out "$T/admin.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$T/intruder.pem" 2>/dev/null
ADMIN_PUB=$(openssl pkey -in "$T/admin.pem" -pubout -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \n')
head -c 32 /dev/urandom > "$T/secret"
head -c 64 /dev/urandom > "$T/model.key"
MODEL="demo@v1:$(printf '%064d' 0 | tr 0 c)"

conf() { # NAME PEER_POLICY: a server configuration
    cat > "$T/$1.json" <<JSON
{"version": 1, "listen": "tcp:127.0.0.1:0", "admin_listen": "tcp:127.0.0.1:0", "store": "$T/store-$1",
 "secret_file": "$T/secret", "admin_key": "$ADMIN_PUB", "attest": "sim", "timeout_ms": 3000,
 "peer_policy": $2}
JSON
}
start() { # NAME: start the server of conf NAME; sets PORT ADMIN ID
    rm -f "$T/$1.info"
    COCOON_SIM_DIR=$T/ks-sim "$KS" serve --config "$T/$1.json" --info-file "$T/$1.info" 2>>"$T/$1.log" &
    PIDS+=($!)
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s "$T/$1.info" ] && break; sleep 0.05; done
    [ -s "$T/$1.info" ] || fail "server $1 did not start"
    PORT=$(jq_uint "$T/$1.info" .port) ADMIN=$(jq_uint "$T/$1.info" .admin_port) ID=$(jq_get "$T/$1.info" .identity)
}
admin() { # CMD KEY ARGS...: the admin CLI; its JSON answer in $T/admin.out
    local cmd=$1 key=$2; shift 2
    "$KS" "$cmd" --server "tcp:127.0.0.1:$ADMIN" --server-key "$ID" --admin-key "$key" "$@" > "$T/admin.out"
}
appliance() { # NAME [EVENT...]: a software TD whose RTMR3 event log has spec.tree, EVENT..., tdx_inited
    local d=$T/app-$1 ev; shift
    cp -r "$T/ca" "$d"
    : > "$d/rtmr3.log"
    for ev in "cocoon:spec.tree=$(printf '%064d' 0 | tr 0 e)" "$@" "cocoon:tdx_inited"; do
        "$SIM" --dir "$d" extend-event "$ev" >/dev/null
        echo "$ev" >> "$d/rtmr3.log"
    done
}
request() { # APPLIANCE [ARGS...]
    local d=$T/app-$1; shift
    COCOON_SIM_DIR=$d "$KS" request --server "tcp:127.0.0.1:$PORT" --server-key "$ID" --attest sim \
        --event-log "$d/rtmr3.log" "$@"
}
image_of() { # APPLIANCE: the image hash the server logged for its last request
    grep -oE "to image [0-9a-f]{64}" "$T/main.log" | tail -n1 | cut -d' ' -f3
}

conf main "{\"measure_policy\": \"$T/ca/policy.json\", \"root\": \"$T/ca/root.pem\", \"collateral\": \"$T/ca/collateral.json\"}"
# A listen port is digits only (sscanf's %u took "+0" and " 0"): the server refuses to start.
for port in +0 " 0"; do
    sed "s/\"tcp:127.0.0.1:0\", \"admin_listen\"/\"tcp:127.0.0.1:$port\", \"admin_listen\"/" "$T/main.json" > "$T/badport.json"
    check "the bad-port config differs from the good one" bash -c '! cmp -s "$0" "$1"' "$T/main.json" "$T/badport.json"
    check_fails "listen port '$port' is refused" "$(re_lit "listen address tcp:127.0.0.1:$port: tcp:IPV4:PORT")" \
        env COCOON_SIM_DIR="$T/ks-sim" timeout 10 "$KS" serve --config "$T/badport.json"
done
# With no secret_file the secret is APP_KEY, base64 of exactly 32 bytes (cocoon-init's): one
# longer than 340 characters overran a 256-byte stack buffer, a 64-byte one was cut to 32,
# and non-canonical text was taken.
jq --arg st "$T/store-appkey" 'del(.secret_file) | .store = $st' "$T/main.json" > "$T/appkey.json"
for key in "$(head -c 64 /dev/urandom | base64 -w0)" "$(head -c 600 /dev/zero | base64 -w0)" "not base64" \
    "$(head -c 32 /dev/zero | base64 -w0 | sed 's/A=$/B=/')"; do
    check_fails "APP_KEY '${key:0:16}...' (${#key} characters) is refused" "$(re_lit "APP_KEY is not base64 of 32 bytes")" \
        env APP_KEY="$key" COCOON_SIM_DIR="$T/ks-sim" timeout 10 "$KS" serve --config "$T/appkey.json"
done
env APP_KEY="$(head -c 32 /dev/urandom | base64 -w0)" COCOON_SIM_DIR="$T/ks-sim" \
    timeout 5 "$KS" serve --config "$T/appkey.json" --info-file "$T/appkey.info" 2>"$T/appkey.log" || true
check "an APP_KEY of 32 bytes serves (the info file was written)" jq_uint "$T/appkey.info" .port
start main
appliance good
appliance debug "cocoon:cocoon_debug"
KEY_SHA=$(sha256sum "$T/model.key" | cut -d' ' -f1)

# A grant for another image: refused, and the server names the appliance's image hash.
check "add-key" admin add-key "$T/admin.pem" --model "$MODEL" --key-file "$T/model.key" --image-hash "$(printf '%064d' 0)"
check_fails "a grant for another image hash refuses" 'grant_image_hash' request good --model "$MODEL"
GOOD_IMAGE=$(image_of good)
check "the refusal names the appliance's image hash" [ ${#GOOD_IMAGE} = 64 ]
check_fails "an unknown model is refused" 'unknown_model' request good --model "other@v1:$(printf '%064d' 0)"

# The allowed appliance gets the owner's key; the release is logged.
check "add-key for the appliance's image" admin add-key "$T/admin.pem" --model "$MODEL" --key-file "$T/model.key" \
    --image-hash "$GOOD_IMAGE"
check "the allowed appliance gets the model key" request good --model "$MODEL" --out "$T/got.key"
check "the released key is the owner's key" cmp "$T/got.key" "$T/model.key"
check "the release is logged" grep -q "\"model\": \"$MODEL\", \"image_hash\": \"$GOOD_IMAGE\"" "$T/store-main/releases.log"
echo "ok: the allowed appliance gets the key (sha256 $KEY_SHA), logged"

# The appliance may name the key server by its image instead of its key (the server's quote
# verified against the CA): the right image gets the key, another image is refused.
request_by_image() { # IMAGE_HASH ARGS...
    local ih=$1; shift
    COCOON_SIM_DIR=$T/app-good "$KS" request --server "tcp:127.0.0.1:$PORT" --server-image-hash "$ih" \
        --server-root "$T/ca/root.pem" --server-collateral "$T/ca/collateral.json" --attest sim \
        --event-log "$T/app-good/rtmr3.log" "$@"
}
KS_IMAGE=$(jq_get "$T/main.info" .image_hash)
check "the key server by its image hash" request_by_image "$KS_IMAGE" --model "$MODEL" --out "$T/got-i.key"
check "the same key" cmp "$T/got-i.key" "$T/model.key"
check_fails "a key server running another image is refused" 'keyserver_identity: .* runs image' \
    request_by_image "$(printf '%064d' 0)" --model "$MODEL"
check_fails "a key server with another key is refused" 'keyserver_identity: .* not the pinned one' \
    request good --model "$MODEL" --server-key "$(printf '%064d' 0)"
echo "ok: the appliance checks the key server's image hash or its pinned key"

# Refusals of the peer.
check_fails "a non-attested client is refused" 'keyserver_(frame|tls)' request good --model "$MODEL" --attest none
check "the server names the missing quote" grep -q "refused peer: keyserver_tls: .*quote_missing" "$T/main.log"
check_fails "a debug appliance is refused" 'keyserver_(frame|tls)' request debug --model "$MODEL"
check "the server names the debug event" grep -q "refused peer: keyserver_tls: .*policy_debug_event" "$T/main.log"
echo "ok: non-attested and debug appliances refused"

# Admin path.
check_fails "an admin request signed by another key is refused" 'admin_signature' \
    admin add-key "$T/intruder.pem" --model "$MODEL" --key-file "$T/model.key" --image-hash "$(printf '%064d' 0)"
check_fails "a replayed (not increasing) seq is refused" 'admin_replay' admin list "$T/admin.pem" --seq 5
ADMIN_SAVE=$ADMIN; ADMIN=$PORT
check_fails "the attested listener takes no admin request" 'keyserver_(frame|tls)' admin list "$T/admin.pem"
ADMIN=$ADMIN_SAVE
admin list "$T/admin.pem"
cp "$T/admin.out" "$T/list.json"
check "the grant is unchanged by the refused requests" [ "$(jq_get "$T/list.json" '.models[0].image_hashes[0]')" = "$GOOD_IMAGE" ]
check "list carries no key" bash -c '! grep -q "\"key\"" "$1"' _ "$T/list.json"
check "the store holds the key only sealed" bash -c '! grep -rqF "$(od -An -tx1 "$1" | tr -d " \n")" "$2"' \
    _ "$T/model.key" "$T/store-main"
echo "ok: admin requests need the pinned key and an increasing seq, never on the attested listener"

# Restart: same identity, same grant, same key.
OLD_ID=$ID
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
start main
check "the identity survives a restart" [ "$ID" = "$OLD_ID" ]
check "the key survives a restart" request good --model "$MODEL" --out "$T/got2.key"
check "the same key after the restart" cmp "$T/got2.key" "$T/model.key"
echo "ok: restart keeps identity, grants and keys"

# A production policy (Intel's root) refuses the sim appliance.
# Production: a measure policy that pins Intel's root key id (Cocoon's, CM_COCOON_ROOT_KEY_ID).
# The sim quote chains to the anchor this server was given, and is refused by that pin.
echo '{"root_key_ids": ["46e403bd34f05a3f2817ab9badcaacc7ffc98e0f261008cd30dae936cace18d5dcf58eef31463613de1570d516200993"]}' \
    > "$T/prod-policy.json"
conf prod "{\"measure_policy\": \"$T/prod-policy.json\", \"root\": \"$T/ca/root.pem\", \"collateral\": \"$T/ca/collateral.json\"}"
start prod
check_fails "a sim quote under a production policy is refused" 'keyserver_(frame|tls)' request good --model "$MODEL"
check "the production server names the root key id check" grep -q "refused peer: keyserver_tls: .*policy_root_key_id" "$T/prod.log"
echo "ok: a sim quote under the production policy is refused ($(grep -oE 'refused peer: keyserver_tls: .{0,90}' "$T/prod.log" | head -n1))"

# A policy with "gpu": the appliance's certificate must carry GPU evidence that verifies.
conf gpu "{\"root\": \"$T/ca/root.pem\", \"collateral\": \"$T/ca/collateral.json\", \"gpu\": \"default\"}"
start gpu
check_fails "a policy with gpu refuses an appliance without GPU evidence" 'keyserver_(frame|tls)' request good --model "$MODEL"
check "the server names the missing GPU evidence" grep -q "refused peer: keyserver_tls: .*gpu_missing" "$T/gpu.log"
echo "ok: a key server policy with gpu refuses an appliance without GPU evidence"
echo "keyserver_policy: 7 passed, 0 failed"
