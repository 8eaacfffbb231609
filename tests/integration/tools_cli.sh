#!/usr/bin/env bash
# The command lines of cocoon-keyserver, cocoon-keys, cocoon-sim and cocoon-mkinitrd (options read by
# libmeasure's table, measure/core/opts.h, as cocoon-measure's, cocoon-launch's and
# cocoon-ratls's are): a refused value, an unknown option, an option the subcommand does not
# take or a stray operand is a usage error (exit 2) that names it; numbers are digits only;
# a value too long for its buffer is refused, never cut; the options that are right work.
# No VM, no network: seconds.
set -euo pipefail
BIN=${BUILD:-build}/bin
source "$(dirname "$0")/check_lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for b in cocoon-keyserver cocoon-keys cocoon-sim cocoon-mkinitrd; do
    [ -x "$BIN/$b" ] || check_fail "missing $BIN/$b (make)"
done

# usage_error NAME TEXT CMD...: CMD exits 2 and its first line of stderr is exactly TEXT.
usage_error() {
    local name=$1 text=$2 rc=0
    shift 2
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" = 2 ] || check_fail "$name: exit $rc, want 2: $(head -c 300 "$T/err")"
    [ "$(head -n1 "$T/err")" = "$text" ] ||
        check_fail "$name: said '$(head -n1 "$T/err" | head -c 300)', want '$text'"
    echo "ok: tools_cli: $name"
}
long=/$(head -c 5000 /dev/zero | tr '\0' a)
# No check below connects (each stops before); the address is a port the kernel just gave out.
srv=tcp:127.0.0.1:$(free_port)
zero64=$(printf '%064d' 0)

# ---- cocoon-keyserver: one option table per subcommand ----------------------------------------
KS=$BIN/cocoon-keyserver
admin=(--server "$srv" --server-key "$zero64" --admin-key /dev/null)
usage_error "keyserver: --seq -1 is refused (strtoull made it 2^64-1)" \
    "error: list: option '--seq' wants 1-18446744073709551615, got '-1' (see: cocoon-keyserver --help)" \
    "$KS" list "${admin[@]}" --seq -1
usage_error "keyserver: --seq +5 is refused" \
    "error: list: option '--seq' wants 1-18446744073709551615, got '+5' (see: cocoon-keyserver --help)" \
    "$KS" list "${admin[@]}" --seq +5
usage_error "keyserver: an option its subcommand does not take is refused" \
    "error: list: unknown option '--model' (see: cocoon-keyserver --help)" "$KS" list "${admin[@]}" --model m
usage_error "keyserver: serve takes no operand" \
    "error: serve: unexpected argument 'extra' (see: cocoon-keyserver --help)" "$KS" serve --config c.json extra
usage_error "keyserver: a --server-root longer than PATH_MAX is refused, not cut" \
    "error: identity: option '--server-root' wants at most 4095 bytes, got 5001 (see: cocoon-keyserver --help)" \
    "$KS" identity --server "$srv" --server-collateral c.json --server-root "$long"
usage_error "keyserver: a --server longer than its 127 bytes is refused" \
    "error: request: option '--server' wants at most 127 bytes, got 5001 (see: cocoon-keyserver --help)" \
    "$KS" request --server "$long" --server-key "$zero64" --model m
ih=()
for i in $(seq 17); do ih+=(--image-hash "$zero64"); done
usage_error "keyserver: a 17th --image-hash is refused by name" \
    "error: add-key: option '--image-hash' may be given at most 16 times (see: cocoon-keyserver --help)" \
    "$KS" add-key "${admin[@]}" --model m --key-file k "${ih[@]}"
usage_error "keyserver: an unknown subcommand is named" \
    "error: unknown command 'bogus' (see: cocoon-keyserver --help)" "$KS" bogus
check "keyserver: list --help prints the usage" bash -c '"$0" list --help | grep -q "^usage: cocoon-keyserver serve"' "$KS"
# The right options reach the subcommand: --seq=5 and --server=... are read, and list goes on
# to the admin key, which /dev/null is not.
check_fails "keyserver: list with its options goes as far as the admin key" \
    "$(re_lit "error: /dev/null is not an Ed25519 private key (PEM)")" \
    "$KS" list --server="$srv" --server-key="$zero64" --admin-key /dev/null --seq=5

# ---- cocoon-keys seal-probe -------------------------------------------------------------------
KEYS=$BIN/cocoon-keys
usage_error "keys: --attest takes tdx or sim" \
    "error: option '--attest' wants tdx or sim, got 'xyz' (see: cocoon-keys seal-probe --help)" \
    "$KEYS" seal-probe --server "$srv" --key-name k --attest xyz
usage_error "keys: a stray operand is refused (it was a bare usage)" \
    "error: unexpected argument 'extra' (see: cocoon-keys seal-probe --help)" \
    "$KEYS" seal-probe --server "$srv" --key-name k extra
usage_error "keys: --server and --key-name are needed" \
    "error: seal-probe needs --server and --key-name (see: cocoon-keys seal-probe --help)" "$KEYS" seal-probe --json
check_fails "keys: --spec=DIR is read (the seal configuration under it is looked for)" "$(re_lit "$T/nospec/keys")" \
    "$KEYS" seal-probe --server="$srv" --key-name=k --attest=sim --spec="$T/nospec"

# ---- cocoon-sim: options before the COMMAND, then the command's own ---------------------------
SIM="$BIN/cocoon-sim --dir $T/sim"
check "sim: init" $SIM init
check "sim: quote with --report-data and --out" $SIM quote --report-data 0011 --out "$T/q.bin"
check "sim: the quote was written" test -s "$T/q.bin"
usage_error "sim: --report-data that is not hex is refused by name" \
    "error: option '--report-data' wants at most 64 bytes of hex, got 'zz' (try cocoon-sim --help)" \
    $SIM quote --report-data zz --out "$T/q.bin"
usage_error "sim: quote's options are not the program's" \
    "error: unknown option '--out' (try cocoon-sim --help)" "$BIN/cocoon-sim" --out "$T/q.bin" quote
usage_error "sim: the program's options are not quote's" \
    "error: unknown option '--dir' (try cocoon-sim --help)" "$BIN/cocoon-sim" quote --out "$T/q.bin" --dir "$T/sim"
usage_error "sim: --dir needs a value" "error: option '--dir' needs a value (try cocoon-sim --help)" "$BIN/cocoon-sim" --dir

# ---- cocoon-mkinitrd --------------------------------------------------------------------------
MK=$BIN/cocoon-mkinitrd
check "mkinitrd: --elf and --epoch build an archive" "$MK" -o "$T/i.img" --epoch 1700000000 -e usr/bin/true=/bin/true -c none
check "mkinitrd: every entry's mtime is --epoch (2023-11-14)" \
    bash -c '! TZ=UTC cpio -itv --quiet < "$0" | grep -v " Nov 14  2023 "' "$T/i.img"
usage_error "mkinitrd: --epoch +5 is refused (strtoull took it)" \
    "cocoon-mkinitrd: bad epoch '+5' (decimal seconds, < 2^32)" "$MK" -o "$T/i.img" --epoch +5 -e usr/bin/true=/bin/true
usage_error "mkinitrd: an --elf DEST of 1024 bytes or more is refused, not cut" \
    "cocoon-mkinitrd: --elf wants DEST=HOST with DEST shorter than 1024 bytes, got '$(head -c 64 /dev/zero | tr '\0' a)'" \
    "$MK" -o "$T/i.img" -e "$(head -c 1100 /dev/zero | tr '\0' a)=/bin/true"
libs=()
for i in $(seq 33); do libs+=(-L /lib); done
usage_error "mkinitrd: a 33rd --libdir is refused by name" \
    "cocoon-mkinitrd: option '--libdir' may be given at most 32 times" "$MK" -o "$T/i.img" "${libs[@]}" -e x=/bin/true
usage_error "mkinitrd: an unknown option is named" "cocoon-mkinitrd: unknown option '--bogus'" "$MK" --bogus
echo "tools_cli: all passed"
