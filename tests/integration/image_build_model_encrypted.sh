#!/usr/bin/env bash
# image-recipes/build-model --encrypt (docs/formats.md "Encrypted model volumes"):
#  - two builds of the same files (different mtimes, umask, TZ, output dirs) with the same key
#    are byte-identical;
#  - a marker string of the input never appears in the encrypted output (volume or metadata);
#  - dm-verity covers the ciphertext: `veritysetup verify` accepts the root hash;
#  - the ciphertext is aes-xts-plain64 of the plain build's erofs: decrypting it with an
#    independent AES-XTS (Python's cryptography, tweak = sector number) gives the data blocks of
#    `build-model` without --encrypt, byte for byte (the kernel's dm-crypt opens it in
#    tests/integration/init-model-encrypted.sh);
#  - the metadata carries the model string NAME@COMMIT:<root hash> and the spec entry.
# Test of the test: a flipped ciphertext byte fails verity; another key does not decrypt.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILDROOT=${BUILDROOT:-$BUILD/buildroot}
export KEYSERVER=${KEYSERVER:-$BUILD/bin/cocoon-keyserver}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
TEST_NAME=image_build_model_encrypted
fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
source tests/integration/check_lib.sh
[ -x "$KEYSERVER" ] || fail "$KEYSERVER missing (make)"

MARKER=cocoon-secret-weights-marker-7f3a
mk_src() { # DIR MTIME: the same content, different metadata each time
    mkdir -p "$1/weights"
    printf '{"marker": "%s"}\n' "$MARKER" > "$1/config.json"
    for i in $(seq 1 2000); do echo "$MARKER $i"; done > "$1/weights/0.txt"
    touch -d "@$2" "$1/config.json" "$1/weights/0.txt"
}
mk_src "$t/a" 1000000
(umask 077; mk_src "$t/b" 2000000)
head -c 64 /dev/urandom > "$t/key"
head -c 64 /dev/urandom > "$t/other.key"

r1=$(TZ=UTC image-recipes/build-model --encrypt "$t/key" --commit v1 "$t/a" secret-model "$t/out1" 2>"$t/log1") ||
    { cat "$t/log1"; fail "build 1"; }
r2=$(TZ=Asia/Tokyo image-recipes/build-model --encrypt "$t/key" --commit v1 "$t/b" secret-model "$t/out2" 2>"$t/log2") ||
    { cat "$t/log2"; fail "build 2"; }
check "root hashes differ: $r1 vs $r2" [ "$r1" = "$r2" ]
check "the two encrypted images differ" cmp "$t/out1/secret-model.img" "$t/out2/secret-model.img"
check "the two metadata files differ" cmp "$t/out1/secret-model.json" "$t/out2/secret-model.json"
echo "ok: two encrypted builds identical ($r1)"

img=$t/out1/secret-model.img json=$t/out1/secret-model.json
hash=${r1#secret-model:}
lacks() { ! grep -q -- "$MARKER" "$@"; }
check "the marker is in the source" grep -q -- "$MARKER" "$t/a/config.json"
check "the plaintext marker appears in the encrypted output" lacks "$img" "$json"
key_absent() { # KEY FILE...: neither the raw key nor its hex is in any FILE
    /usr/bin/python3 - "$@" <<'PY'
import sys
k = open(sys.argv[1], "rb").read()
for f in sys.argv[2:]:
    d = open(f, "rb").read()
    if k[:16] in d or k[32:48] in d or k.hex().encode()[:32] in d:
        sys.exit(f + " holds key bytes")
PY
}
check "the output directory holds only NAME.img and NAME.json" \
    [ "$(ls -A "$t/out1" | tr '\n' ' ')" = "secret-model.img secret-model.json " ]
check "the key appears in the output" key_absent "$t/key" "$img" "$json"
echo "ok: the marker and the key are not in the output"

model=$(jq_get "$json" .model)
check "model string '$model'" [ "$model" = "secret-model@v1:$hash" ]
check "spec entry" [ "$(jq_get "$json" .spec.encrypted.model)" = "$model" ]
check "spec key size" [ "$(jq_uint "$json" .spec.encrypted.key_bytes)" = 64 ]
check "cipher" [ "$(jq_get "$json" .encryption.cipher)" = aes-xts-plain64 ]
blocks=$(jq_uint "$json" .data_blocks)
verify() { veritysetup verify --hash-offset=$((blocks * 4096)) --data-blocks="$blocks" "$1" "$1" "$hash"; }
check "veritysetup verify rejects the encrypted volume" verify "$img"
cp "$img" "$t/flipped.img"
printf '\x01' | dd of="$t/flipped.img" bs=1 seek=$((4096 + 5)) conv=notrunc status=none
check_fails "a flipped ciphertext byte fails verity" 'Verification failed' verify "$t/flipped.img"
echo "ok: dm-verity covers the ciphertext ($blocks data blocks)"

# The plain build of the same files: its data blocks are the decryption of ours.
image-recipes/build-model "$t/a" secret-model "$t/plain" >/dev/null 2>"$t/log3" || { cat "$t/log3"; fail "plain build"; }
check "plain and encrypted builds have different geometry" [ "$(jq_uint "$t/plain/secret-model.json" .data_blocks)" = "$blocks" ]
decrypt() { # KEY OUT: the data area of $img decrypted as aes-xts-plain64, 512-byte sectors
    /usr/bin/python3 - "$1" "$img" "$2" "$blocks" <<'PY'
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key = open(sys.argv[1], "rb").read()
data = open(sys.argv[2], "rb").read()[: int(sys.argv[4]) * 4096]
out = bytearray()
for s in range(len(data) // 512):
    d = Cipher(algorithms.AES(key), modes.XTS(s.to_bytes(16, "little"))).decryptor()
    out += d.update(data[s * 512:(s + 1) * 512]) + d.finalize()
open(sys.argv[3], "wb").write(out)
PY
}
decrypt "$t/key" "$t/dec.bin"
head -c $((blocks * 4096)) "$t/plain/secret-model.img" > "$t/plain.bin"
check "the decrypted volume is not the plain build's erofs" cmp "$t/dec.bin" "$t/plain.bin"
decrypt "$t/other.key" "$t/dec-other.bin"
check_fails "another key does not decrypt" 'differ' cmp "$t/dec-other.bin" "$t/plain.bin"
echo "ok: the ciphertext is aes-xts-plain64 of the plain erofs"

head -c 48 /dev/urandom > "$t/short.key"
check_fails "a 48-byte key is refused" 'has 48 bytes' \
    image-recipes/build-model --encrypt "$t/short.key" "$t/a" secret-model "$t/out4"
echo "image_build_model_encrypted: 6 passed, 0 failed"
