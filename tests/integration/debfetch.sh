#!/usr/bin/env bash
# image-recipes/debfetch.sh against a local file:// mirror (no network): the mirror is read
# from apt's configuration (deb822 and one-line formats, security archives skipped);
# `lock` pins the newest version with its sha256; `kernel` downloads, verifies, caches and
# extracts vmlinuz + lib/modules with a generated modules.dep; a cached file is re-verified;
# a wrong sha256 and a version the mirror no longer has fail with messages naming them.
source "$(dirname "$0")/lib.sh"
DF=$REPO/image-recipes/debfetch.sh
export COCOON_CACHE=$WORK/cache IMAGE_LOCK=$WORK/packages.lock IMAGE_LIST=$WORK/packages.list

# -- mirror from apt's configuration
mkdir -p "$WORK/apt1/sources.list.d" "$WORK/apt2/sources.list.d" "$WORK/apt3"
cat > "$WORK/apt1/sources.list.d/debian.sources" <<'SRC'
Types: deb
# http://snapshot.example.invalid/archive/debian/20250520T000000Z
URIs: http://security.example.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
URIs: http://mirror-a.example.invalid/debian/
Suites: bookworm bookworm-updates
Components: main
SRC
cat > "$WORK/apt2/sources.list" <<'SRC'
# comment
deb http://security.example.invalid/debian-security bookworm-security main
deb [signed-by=/usr/share/keyrings/k.gpg arch=amd64] http://mirror-b.example.invalid/debian bookworm main
SRC
[ "$(env -u DEBIAN_MIRROR APT_ETC="$WORK/apt1" "$DF" mirror)" = http://mirror-a.example.invalid/debian ] ||
    fail "deb822 mirror not found"
[ "$(env -u DEBIAN_MIRROR APT_ETC="$WORK/apt2" "$DF" mirror)" = http://mirror-b.example.invalid/debian ] ||
    fail "sources.list mirror not found"
[ "$(DEBIAN_MIRROR=http://override.example.invalid/d/ APT_ETC="$WORK/apt1" "$DF" mirror)" = \
  http://override.example.invalid/d ] || fail "DEBIAN_MIRROR does not override"
if env -u DEBIAN_MIRROR APT_ETC="$WORK/apt3" "$DF" mirror 2> "$WORK/err"; then fail "no mirror accepted"; fi
grep -q 'set DEBIAN_MIRROR' "$WORK/err" || fail "no-mirror message: $(cat "$WORK/err")"
pass "mirror from deb822 .sources, one-line sources.list, DEBIAN_MIRROR"

# -- a local mirror with a fake kernel package in two versions
PKG=linux-image-9.9.9-test-amd64
KV=9.9.9-test
M=$WORK/mirror
mkdir -p "$M/dists/trixie-backports/main/binary-amd64" "$M/pool/main/l/linux"
mkdeb() { # VERSION -> pool path
    local v=$1 root=$WORK/debroot-$1
    mkdir -p "$root/DEBIAN" "$root/boot" "$root/usr/lib/modules/$KV/kernel"
    echo "vmlinuz $v" > "$root/boot/vmlinuz-$KV"
    echo "CONFIG_TEST=y" > "$root/boot/config-$KV"
    : > "$root/usr/lib/modules/$KV/modules.order"
    : > "$root/usr/lib/modules/$KV/modules.builtin"
    : > "$root/usr/lib/modules/$KV/modules.builtin.modinfo"
    printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: test <t@example.invalid>\nDescription: test\n' \
        "$PKG" "$v" > "$root/DEBIAN/control"
    dpkg-deb --root-owner-group -Zxz --build "$root" "$M/pool/main/l/linux/${PKG}_${v}_amd64.deb" >/dev/null
    echo "pool/main/l/linux/${PKG}_${v}_amd64.deb"
}
: > "$M/Packages"
for v in 1.0-1 1.1-1~bpo13+1 1.1-1~bpo13; do
    f=$(mkdeb "$v")
    printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nFilename: %s\nSize: %s\nSHA256: %s\n\n' \
        "$PKG" "$v" "$f" "$(stat -c %s "$M/$f")" "$(sha256 "$M/$f")" >> "$M/Packages"
done
xz -c "$M/Packages" > "$M/dists/trixie-backports/main/binary-amd64/Packages.xz"
export DEBIAN_MIRROR=file://$M
echo "$PKG trixie-backports amd64" > "$IMAGE_LIST"
"$DF" lock 2> "$WORK/err" || fail "lock failed: $(cat "$WORK/err")"
want="$PKG 1.1-1~bpo13+1 amd64 trixie-backports $(sha256 "$M/pool/main/l/linux/${PKG}_1.1-1~bpo13+1_amd64.deb")"
grep -qxF "$want" "$IMAGE_LOCK" || fail "lock does not pin the newest version: $(grep -v '^#' "$IMAGE_LOCK")"
pass "lock pins the newest version with its sha256"

"$DF" kernel "$WORK/k" 2> "$WORK/err" || fail "kernel failed: $(cat "$WORK/err")"
[ "$(cat "$WORK/k/vmlinuz")" = "vmlinuz 1.1-1~bpo13+1" ] || fail "wrong vmlinuz extracted"
[ "$(cat "$WORK/k/kver")" = "$KV" ] || fail "wrong kver"
[ -f "$WORK/k/lib/modules/$KV/modules.dep" ] && [ -f "$WORK/k/lib/modules/$KV/modules.dep.bin" ] ||
    fail "depmod did not generate modules.dep"
deb=$COCOON_CACHE/debs/${PKG}_1.1-1~bpo13+1_amd64.deb
[ -f "$deb" ] || fail "not cached at $deb"
pass "kernel fetched, verified, cached and extracted (vmlinuz, kver, modules.dep)"

# Served from the cache without the mirror; a corrupted cache entry is fetched again.
mv "$M/pool" "$M/pool.off"
[ "$("$DF" fetch "$PKG" 2>/dev/null)" = "$deb" ] || fail "cache hit did not work without the mirror"
echo corrupt >> "$deb"
if "$DF" fetch "$PKG" 2> "$WORK/err"; then fail "a corrupted cache entry was accepted"; fi
grep -q "cannot download $PKG" "$WORK/err" || fail "unexpected message: $(cat "$WORK/err")"
mv "$M/pool.off" "$M/pool"
[ "$("$DF" fetch "$PKG" 2>/dev/null)" = "$deb" ] || fail "re-download after corruption failed"
[ "$(sha256 "$deb")" = "$(awk -v p="$PKG" '$1 == p {print $5}' "$IMAGE_LOCK")" ] || fail "cache holds a bad file"
pass "cache re-verified on every use; corrupted entry replaced"

# Wrong sha256 in the lock; a version the mirror no longer has.
rm -rf "$COCOON_CACHE/debs"
sed -i "s/ [0-9a-f]\{64\}\$/ $(printf '0%.0s' {1..64})/" "$IMAGE_LOCK"
if "$DF" fetch "$PKG" 2> "$WORK/err"; then fail "a wrong sha256 was accepted"; fi
grep -q "but the lock pins 0000" "$WORK/err" || fail "sha mismatch message: $(cat "$WORK/err")"
echo "$PKG 0.9-1 amd64 trixie-backports $(printf '0%.0s' {1..64})" > "$IMAGE_LOCK"
if "$DF" fetch "$PKG" 2> "$WORK/err"; then fail "a missing version was accepted"; fi
grep -q "the mirror no longer has $PKG 0.9-1 (trixie-backports/amd64)" "$WORK/err" ||
    fail "missing-version message: $(cat "$WORK/err")"
pass "wrong sha256 and vanished version fail naming the package: $(tail -n1 "$WORK/err")"
