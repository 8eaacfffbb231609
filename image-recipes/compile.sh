#!/usr/bin/env bash
# compile.sh OUTDIR TARGET...: build TARGETs (Makefile targets such as build/bin/cocoon-init)
# reproducibly inside the pinned trixie build root and copy the results to OUTDIR.
#
# The source is the set of files git tracks in this checkout (uncommitted edits included,
# untracked files excluded), staged at the fixed path /build/src inside the build root; the
# build runs with SOURCE_DATE_EPOCH, LC_ALL=C.UTF-8, TZ=UTC, umask 022 and
# -ffile-prefix-map=/build/src=., so neither the host's libraries nor its paths, time zone or
# clock reach the binaries. VERSION (default: `git describe --always --dirty`) is passed in.
#
# Environment: BUILDROOT (default build/buildroot), SOURCE_DATE_EPOCH (default: the commit
# time of HEAD), VERSION.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"
die() { echo "compile: error: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: compile.sh OUTDIR TARGET..."
out=$1; shift
[ "$(id -u)" = 0 ] || die "must run as root (the pinned build root runs under chroot)"
root=${BUILDROOT:-$top/build/buildroot}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)}
version=${VERSION:-$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)}
br_ensure "$root" >&2

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/src" "$stage/out"
# Tracked files only, modes normalized, so untracked junk and the umask do not matter.
(cd "$top" && git ls-files -z | while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue
    install -D -m "$([ -x "$f" ] && echo 0755 || echo 0644)" "$f" "$stage/src/$f"
done)
flags="-O2 -g -ffile-prefix-map=/build/src=. -fdebug-prefix-map=/build/src=."
br_run "$root" "$stage/src:/build/src" "$stage/out:/build/out" -- \
    sh -c 'umask 022 && cd /build/src && make -j"$(nproc)" BUILD=/build/out/b VERSION="$0" CFLAGS="$1" \
           LDFLAGS="-Wl,--build-id=sha1" ${2}' "$version" "$flags" "$(printf '%s ' "$@" | sed 's#\(^\| \)build/#\1/build/out/b/#g')" >&2 ||
    die "build in the build root failed"
mkdir -p "$out"
for t in "$@"; do
    f=$stage/out/b/${t#build/}
    [ -f "$f" ] || die "target $t was not produced"
    install -m 0755 "$f" "$out/$(basename "$t")"
done
