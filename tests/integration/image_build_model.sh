#!/usr/bin/env bash
# image-recipes/build-model is deterministic and its volume verifies:
#  - the same directory built twice (different mtimes, umask, TZ, output dirs) is byte-identical;
#  - a tar of the same files gives a valid volume too;
#  - `veritysetup verify` (host cryptsetup, no device-mapper needed) accepts the root hash
#    with the data_blocks / hash_offset of the metadata (read with jq -e, validated);
#  - test of the test: the same verify check fails on a volume with one flipped data byte,
#    on a wrong root hash and on metadata without one valid data_blocks.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILDROOT=${BUILDROOT:-$BUILD/buildroot}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
TEST_NAME=image_build_model
fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
source tests/integration/check_lib.sh

# verify_volume IMG JSON HASH: IMG verifies against HASH with the geometry of JSON (the one
# verify check of this test; run through check / check_fails).
verify_volume() {
    local img=$1 json=$2 hash=$3 blocks off
    blocks=$(jq_uint "$json" '.data_blocks')
    off=$(jq_uint "$json" '.hash_offset')
    [ "$blocks" -gt 0 ] || fail "$json: data_blocks is 0"
    [ "$off" = $((blocks * 4096)) ] || fail "$json: hash_offset $off is not data_blocks * 4096"
    [ "$(stat -c %s "$img")" -gt "$off" ] || fail "$img: no hash area after $off bytes"
    [[ "$hash" =~ ^[0-9a-f]{64}$ ]] || fail "root hash '$hash' is not 64 hex digits"
    veritysetup verify --hash-offset="$off" --data-blocks="$blocks" "$img" "$img" "$hash"
}

mk_src() { # DIR: the same content, different metadata each time
    mkdir -p "$1/weights/shard" "$1/cfg"
    printf 'model config\n' > "$1/cfg/config.json"
    head -c 1048576 /dev/zero | tr '\0' 'w' > "$1/weights/shard/0.bin"
    seq 1 50000 > "$1/weights/vocab.txt"
    chmod 0755 "$1/cfg"
    touch -d "@$2" "$1"/cfg/config.json "$1"/weights/vocab.txt
}
mk_src "$t/a" 1000000
(umask 077; mk_src "$t/b" 2000000)
sleep 1

r1=$(TZ=UTC image-recipes/build-model "$t/a" demo-model "$t/out1" 2>"$t/log1") || { cat "$t/log1"; fail "build 1"; }
r2=$(TZ=Asia/Tokyo image-recipes/build-model "$t/b" demo-model "$t/out2" 2>"$t/log2") || { cat "$t/log2"; fail "build 2"; }
[ "$r1" = "$r2" ] || fail "root hashes differ: $r1 vs $r2"
cmp "$t/out1/demo-model.img" "$t/out2/demo-model.img" || fail "images differ"
cmp "$t/out1/demo-model.json" "$t/out2/demo-model.json" || fail "metadata differs"
[[ "$r1" =~ ^demo-model:[0-9a-f]{64}$ ]] || fail "output '$r1' is not NAME:<root hash>"
check "no progress line [1/3]" grep -q '\[1/3\]' "$t/log1"
check "no progress line [3/3]" grep -q '\[3/3\]' "$t/log1"
echo "ok: two builds identical ($r1)"

hash=${r1#demo-model:}
img=$t/out1/demo-model.img
json=$t/out1/demo-model.json
check "veritysetup verify rejected the volume" verify_volume "$img" "$json" "$hash"
echo "ok: veritysetup verify accepts the root hash ($(jq_uint "$json" .data_blocks) data blocks)"

# Test of the test: the verify check above fails on broken inputs.
cp "$img" "$t/corrupt.img"
printf '\x01' | dd of="$t/corrupt.img" bs=1 seek=$((4096 * 3 + 17)) conv=notrunc status=none
check "the corrupted copy differs" bash -c '! cmp -s "$1" "$2"' _ "$img" "$t/corrupt.img"
check_fails "a flipped data byte fails the verify check" 'Verification failed at position 12288' \
    verify_volume "$t/corrupt.img" "$json" "$hash"
wrong=$(printf '%s' "$hash" | tr '0-9a-f' '1-9a-f0')
check_fails "a wrong root hash fails the verify check" 'Verification of root hash failed' \
    verify_volume "$img" "$json" "$wrong"
jq '.data_blocks = "\(.data_blocks)\n\(.data_blocks)"' "$json" > "$t/twice.json"
check_fails "metadata with data_blocks twice fails the verify check" 'not exactly one value' \
    verify_volume "$img" "$t/twice.json" "$hash"
jq 'del(.data_blocks)' "$json" > "$t/none.json"
check_fails "metadata without data_blocks fails the verify check" 'gave no value' \
    verify_volume "$img" "$t/none.json" "$hash"

tar -C "$t/a" --sort=name -cf "$t/src.tar" .
r3=$(image-recipes/build-model "$t/src.tar" demo-model "$t/out3" 2>"$t/log3") || { cat "$t/log3"; fail "tar build"; }
[[ "$r3" =~ ^demo-model:[0-9a-f]{64}$ ]] || fail "output '$r3' is not NAME:<root hash>"
check "tar-built volume does not verify" \
    verify_volume "$t/out3/demo-model.img" "$t/out3/demo-model.json" "${r3#demo-model:}"
echo "ok: tar input builds a verifiable volume ($r3)"
echo "image_build_model: 8 passed, 0 failed"
