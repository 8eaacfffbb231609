#!/usr/bin/env bash
# Guest programs compiled in the pinned build root are reproducible: two checkouts at
# different paths, built with different umask and TZ, give byte-identical binaries that
# carry no host path.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
BUILD=${BUILD:-build}
export BUILDROOT=${BUILDROOT:-$top/$BUILD/buildroot}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: image_compile_repro: $*" >&2; exit 1; }
# A second checkout of the same tracked files at another path.
mkdir -p "$t/elsewhere/checkout"
git ls-files -z | xargs -0 -I{} cp -P --parents {} "$t/elsewhere/checkout/" || fail "cannot copy the tracked files"
git -C "$t/elsewhere/checkout" init -q || fail "git init"
git -C "$t/elsewhere/checkout" add -A >/dev/null || fail "git add"
targets="build/bin/cocoon-measure"
VERSION=repro-test TZ=UTC image-recipes/compile.sh "$t/a" $targets > "$t/log1" 2>&1 || { tail -20 "$t/log1"; fail "build 1"; }
(cd "$t/elsewhere/checkout" && umask 077 && VERSION=repro-test TZ=Pacific/Auckland BUILDROOT=$BUILDROOT \
    image-recipes/compile.sh "$t/b" $targets) > "$t/log2" 2>&1 || { tail -20 "$t/log2"; fail "build 2"; }
for f in $targets; do
    b=$(basename "$f")
    cmp "$t/a/$b" "$t/b/$b" || fail "$b differs between the two builds"
    strings "$t/a/$b" > "$t/$b.strings" || fail "strings $b"
    [ -s "$t/$b.strings" ] || fail "strings found nothing in $b"
    if grep -qE "$top|$t|/work/" "$t/$b.strings"; then fail "$b contains a host path"; fi
done
echo "ok: $targets identical across checkouts, umask and TZ; no host paths"
echo "image_compile_repro: 1 passed, 0 failed"
