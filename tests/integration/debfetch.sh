#!/usr/bin/env bash
# image-recipes/debfetch.sh against local file:// mirrors signed by a test key (no network):
# the mirror is read from apt's configuration (deb822 and one-line formats, security archives
# skipped); indexes are trusted only through a gpgv-verified InRelease (the test key's keyring
# accepted, pinned as a debian-archive-keyring package or given directly; Debian's keyring
# refused; a Packages.xz other than the signed one, another suite's Release and an expired
# Valid-Until refused); `lock` pins the newest version with its sha256 and release date;
# `kernel` downloads, verifies, caches and extracts vmlinuz + lib/modules with a generated
# modules.dep; a cached file is re-verified; a wrong sha256 fails naming it. A pin the mirror
# replaced (backports keep only the newest revision): strict fetches fail naming the package,
# what the mirror has and both ways out; DEBIAN_SNAPSHOT fetches the identical package from a
# snapshot-style tree; COCOON_STALE_PINS=warn builds from a temporary lock with a loud warning;
# check-pins lists it and fails; `make guest-kernel` stays strict; the test-tooling resolver
# picks the newest revision with an upstream version constraint. Archive areas (SUITE/COMPONENT
# pins read contrib's signed index) and pool pins (a package the index dropped, fetched by its
# exact pool path with the pinned sha256 only; kept by `lock`; seen by check-pins).
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

# logged PREFIX CMD...: CMD with stdout in PREFIX.out and stderr in PREFIX.err (for later checks)
logged() { local p=$1; shift; "$@" > "$p.out" 2> "$p.err"; }
# The test chooses the stale-pin mode of each step itself (make test exports warn).
export COCOON_STALE_PINS=strict

# -- a signing key for the local mirrors (the test's own archive key)
export GNUPGHOME=$WORK/gnupg
mkdir -m 700 -p "$GNUPGHOME"
check "test key generated" gpg --batch --quiet --passphrase '' --quick-gen-key 'cocoon test archive <archive@example.invalid>' ed25519 sign never
gpg --batch --export > "$WORK/test-keyring.gpg"
[ -s "$WORK/test-keyring.gpg" ] || fail "no test keyring exported"

# sign_suite ROOT SUITE [RELEASE-EXTRA]: Release over main/binary-amd64/Packages.xz, clear-signed
# into InRelease by the test key.
sign_suite() {
    local d=$1/dists/$2 p=main/binary-amd64/Packages.xz
    {
        printf 'Origin: Test\nSuite: %s\nCodename: %s\nDate: Sat, 05 Dec 2026 02:11:04 UTC\n' "$2" "$2"
        [ -z "${3:-}" ] || printf '%s\n' "$3"
        printf 'Components: main\nArchitectures: amd64\nSHA256:\n %s %s %s\n' "$(sha256 "$d/$p")" "$(stat -c %s "$d/$p")" "$p"
    } > "$d/Release"
    rm -f "$d/InRelease"
    gpg --batch --quiet --digest-algo SHA256 --clearsign -o "$d/InRelease" "$d/Release"
}

PKG=linux-image-9.9.9-test-amd64
KV=9.9.9-test
mkdeb() { # VERSION OUTDIR -> pool path (relative to the mirror root)
    local v=$1 root=$WORK/debroot-$1
    if [ ! -f "$WORK/debs/${PKG}_${v}_amd64.deb" ]; then
        mkdir -p "$root/DEBIAN" "$root/boot" "$root/usr/lib/modules/$KV/kernel" "$WORK/debs"
        echo "vmlinuz $v" > "$root/boot/vmlinuz-$KV"
        echo "CONFIG_TEST=y" > "$root/boot/config-$KV"
        : > "$root/usr/lib/modules/$KV/modules.order"
        : > "$root/usr/lib/modules/$KV/modules.builtin"
        : > "$root/usr/lib/modules/$KV/modules.builtin.modinfo"
        printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: test <t@example.invalid>\nDescription: test\n' \
            "$PKG" "$v" > "$root/DEBIAN/control"
        dpkg-deb --root-owner-group -Zxz --build "$root" "$WORK/debs/${PKG}_${v}_amd64.deb" >/dev/null
    fi
    mkdir -p "$2/pool/main/l/linux"
    cp "$WORK/debs/${PKG}_${v}_amd64.deb" "$2/pool/main/l/linux/"
    echo "pool/main/l/linux/${PKG}_${v}_amd64.deb"
}
# mk_mirror ROOT SUITE VERSION...: a signed suite serving the fake kernel in these versions.
mk_mirror() {
    local root=$1 suite=$2 v f
    shift 2
    mkdir -p "$root/dists/$suite/main/binary-amd64"
    : > "$root/Packages.$suite"
    for v in "$@"; do
        f=$(mkdeb "$v" "$root")
        printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nFilename: %s\nSize: %s\nSHA256: %s\n\n' \
            "$PKG" "$v" "$f" "$(stat -c %s "$root/$f")" "$(sha256 "$root/$f")" >> "$root/Packages.$suite"
    done
    xz -c "$root/Packages.$suite" > "$root/dists/$suite/main/binary-amd64/Packages.xz"
    sign_suite "$root" "$suite"
}

M=$WORK/mirror
mk_mirror "$M" trixie-backports 1.0-1 1.1-1~bpo13+1 1.1-1~bpo13
export DEBIAN_MIRROR=file://$M DEBIAN_KEYRING=$WORK/test-keyring.gpg
echo "$PKG trixie-backports amd64" > "$IMAGE_LIST"
check "lock against the signed test mirror" "$DF" lock
want="$PKG 1.1-1~bpo13+1 amd64 trixie-backports $(sha256 "$M/pool/main/l/linux/${PKG}_1.1-1~bpo13+1_amd64.deb")"
check "lock pins the newest version with its sha256" grep -qxF "$want" "$IMAGE_LOCK"
check "lock records the suite's release date" grep -qxF "# release-date: trixie-backports 20261205T021104Z" "$IMAGE_LOCK"
pass "lock pins the newest version with its sha256 and the Release date"

check "kernel fetch" "$DF" kernel "$WORK/k"
[ "$(cat "$WORK/k/vmlinuz")" = "vmlinuz 1.1-1~bpo13+1" ] || fail "wrong vmlinuz extracted"
[ "$(cat "$WORK/k/kver")" = "$KV" ] || fail "wrong kver"
[ -f "$WORK/k/lib/modules/$KV/modules.dep" ] && [ -f "$WORK/k/lib/modules/$KV/modules.dep.bin" ] ||
    fail "depmod did not generate modules.dep"
deb=$COCOON_CACHE/debs/${PKG}_1.1-1~bpo13+1_amd64.deb
[ -f "$deb" ] || fail "not cached at $deb"
pass "kernel fetched, verified, cached and extracted (vmlinuz, kver, modules.dep)"

# -- trust: only indexes signed by a key of the keyring, only the Packages the Release signs
refetch_index() { rm -rf "$COCOON_CACHE/dists"; "$DF" index trixie-backports; }
rm -rf "$COCOON_CACHE/dists"
check_fails "Debian's keyring refuses the test mirror" "$(re_lit "is not signed by a key of")" \
    env DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg "$DF" index trixie-backports
check "the test keyring accepts it" refetch_index
cp "$M/dists/trixie-backports/InRelease" "$WORK/InRelease.good"
sed -i 's/^Codename: trixie-backports/Codename: trixie-backportz/' "$M/dists/trixie-backports/InRelease"
check_fails "an InRelease whose signed text was edited is refused" "$(re_lit "is not signed by a key of")" refetch_index
cp "$WORK/InRelease.good" "$M/dists/trixie-backports/InRelease"
mkdir -p "$M/dists/other/main/binary-amd64"
cp "$M/dists/trixie-backports/main/binary-amd64/Packages.xz" "$M/dists/other/main/binary-amd64/"
sign_suite "$M" other
cp "$M/dists/other/InRelease" "$M/dists/trixie-backports/InRelease"
check_fails "another suite's signed Release is refused" "$(re_lit "is the Release of another suite")" refetch_index
sign_suite "$M" trixie-backports "Valid-Until: Sat, 05 Dec 2020 02:11:04 UTC"
check_fails "an expired Valid-Until is refused" "$(re_lit "expired at Sat, 05 Dec 2020")" refetch_index
sign_suite "$M" trixie-backports
cp "$M/dists/trixie-backports/main/binary-amd64/Packages.xz" "$WORK/Packages.xz.good"
echo 'Package: evil' | xz -c > "$M/dists/trixie-backports/main/binary-amd64/Packages.xz"
check_fails "a Packages.xz the signed Release does not list is refused" "$(re_lit "the signed Release lists")" refetch_index
cp "$WORK/Packages.xz.good" "$M/dists/trixie-backports/main/binary-amd64/Packages.xz"
check "the restored mirror verifies again" refetch_index

# The pinned keyring package: debian-archive-keyring by version + sha256 (KEYRING_LOCK), fetched
# by its pool path; here it carries the test key.
KR=$WORK/krroot
mkdir -p "$KR/DEBIAN" "$KR/usr/share/keyrings" "$M/pool/main/d/debian-archive-keyring"
cp "$WORK/test-keyring.gpg" "$KR/usr/share/keyrings/debian-archive-keyring.pgp"
printf 'Package: debian-archive-keyring\nVersion: 9999.1\nArchitecture: all\nMaintainer: test <t@example.invalid>\nDescription: test\n' > "$KR/DEBIAN/control"
krdeb=$M/pool/main/d/debian-archive-keyring/debian-archive-keyring_9999.1_all.deb
dpkg-deb --root-owner-group -Zxz --build "$KR" "$krdeb" >/dev/null
echo "debian-archive-keyring 9999.1 amd64 trixie $(sha256 "$krdeb")" > "$WORK/keyring.lock"
rm -rf "$COCOON_CACHE/dists"
check "the pinned keyring package verifies the mirror" env -u DEBIAN_KEYRING KEYRING_LOCK="$WORK/keyring.lock" "$DF" index trixie-backports
echo "debian-archive-keyring 9999.1 amd64 trixie $(printf '1%.0s' {1..64})" > "$WORK/keyring.bad.lock"
rm -rf "$COCOON_CACHE/dists"
check_fails "a keyring package with another sha256 is refused" "$(re_lit "cannot fetch the pinned debian-archive-keyring 9999.1")" \
    env -u DEBIAN_KEYRING KEYRING_LOCK="$WORK/keyring.bad.lock" "$DF" index trixie-backports
pass "indexes trusted only through gpgv (test key accepted, pinned keyring package, Debian's refused, edits refused)"

# Served from the cache without the mirror; a corrupted cache entry is fetched again.
mv "$M/pool" "$M/pool.off"
[ "$("$DF" fetch "$PKG" 2>/dev/null)" = "$deb" ] || fail "cache hit did not work without the mirror"
echo corrupt >> "$deb"
check_fails "a corrupted cache entry without the mirror" "$(re_lit "cannot download $PKG")" "$DF" fetch "$PKG"
mv "$M/pool.off" "$M/pool"
[ "$("$DF" fetch "$PKG" 2>/dev/null)" = "$deb" ] || fail "re-download after corruption failed"
[ "$(sha256 "$deb")" = "$(awk -v p="$PKG" '$1 == p {print $5}' "$IMAGE_LOCK")" ] || fail "cache holds a bad file"
pass "cache re-verified on every use; corrupted entry replaced"

# Wrong sha256 in the lock.
cp "$IMAGE_LOCK" "$WORK/good.lock"
rm -rf "$COCOON_CACHE/debs"
sed -i "s/ [0-9a-f]\{64\}\$/ $(printf '0%.0s' {1..64})/" "$IMAGE_LOCK"
check_fails "a wrong sha256 in the lock" "$(re_lit "but the lock pins 0000")" "$DF" fetch "$PKG"
cp "$WORK/good.lock" "$IMAGE_LOCK"
pass "a wrong sha256 fails naming it"

# -- a pin the mirror replaced: backports now serve 1.1-2~bpo13+1 only; a snapshot-style tree
# (<base>/<timestamp>/dists/...) taken at the lock's release date still has 1.1-1~bpo13+1.
rm -rf "$M" "$COCOON_CACHE"
mk_mirror "$M" trixie-backports 1.1-2~bpo13+1
S=$WORK/snapshot
mk_mirror "$S/20261205T021104Z" trixie-backports 1.0-1 1.1-1~bpo13+1
if "$DF" kernel "$WORK/k2" 2> "$WORK/stale.err"; then fail "the vanished pin was fetched"; fi
check "the message names the package, the pin and what the mirror has" \
    grep -qF "the mirror no longer serves $PKG 1.1-1~bpo13+1 (trixie-backports/amd64), pinned in $IMAGE_LOCK; it has: 1.1-2~bpo13+1" "$WORK/stale.err"
check "the message names DEBIAN_SNAPSHOT" grep -q "set DEBIAN_SNAPSHOT=" "$WORK/stale.err"
check "the message names the snapshot timestamp" grep -q "trixie-backports 20261205T021104Z" "$WORK/stale.err"
check "the message names make image-lock" grep -q "run 'make image-lock' to re-pin deliberately" "$WORK/stale.err"
check_fails "make guest-kernel stays strict under make test's warn mode" "$(re_lit "the mirror no longer serves $PKG 1.1-1~bpo13+1")" \
    env COCOON_STALE_PINS=warn make -s -C "$REPO" guest-kernel GUEST_KERNEL_DIR="$WORK/k-make" DEBFETCH="$DF"
if env COCOON_STALE_PINS=warn make -s -C "$REPO" image 2> "$WORK/image.err"; then fail "make image built with a stale pin"; fi
check "make image stays strict under make test's warn mode" grep -qF "the mirror no longer serves $PKG 1.1-1~bpo13+1" "$WORK/image.err"
check "make image stopped before building" bash -c "! grep -q 'build root' '$WORK/image.err'"
pass "a vanished pin fails strictly: $(grep -m1 'no longer serves' "$WORK/stale.err")"

check "kernel from the snapshot" env DEBIAN_SNAPSHOT="file://$S" "$DF" kernel "$WORK/k2"
check "the snapshot gives the identical package" diff -r "$WORK/k" "$WORK/k2"
pass "DEBIAN_SNAPSHOT fetches the pinned version, identical artifacts"

rm -rf "$COCOON_CACHE/debs"
cp "$IMAGE_LOCK" "$WORK/before.lock"
check "warn mode builds from a temporary lock" logged "$WORK/warn" env COCOON_STALE_PINS=warn "$DF" kernel "$WORK/k3"
[ "$(cat "$WORK/k3/vmlinuz")" = "vmlinuz 1.1-2~bpo13+1" ] || fail "warn mode did not take the mirror's version"
check "warn mode names the stale pin loudly" grep -q "WARNING:   stale: $PKG 1.1-1~bpo13+1" "$WORK/warn.err"
check "the lock file is not rewritten" cmp "$IMAGE_LOCK" "$WORK/before.lock"
pass "COCOON_STALE_PINS=warn: temporary lock, loud warning, lock untouched"

check_fails "check-pins lists the stale pin and fails" "$(re_lit "stale: $IMAGE_LOCK: $PKG 1.1-1~bpo13+1 (trixie-backports/amd64); the mirror has: 1.1-2~bpo13+1")" \
    "$DF" check-pins "$IMAGE_LOCK"
check "lock re-pins deliberately" "$DF" lock
check "check-pins passes on a fresh lock" "$DF" check-pins "$IMAGE_LOCK"
pass "check-pins: non-zero with the stale pin listed, zero after make image-lock"

# -- test tooling: pinned by upstream version, the newest Debian revision the mirror serves
mk_mirror "$M" trixie-backports 10.0.2+ds-1~bpo13+1 11.1.3+ds-1~bpo13+1 11.1.3+ds-2~bpo13+1
mk_mirror "$M" trixie 10.0.2+ds-1
PKG=qemu-test
mk_mirror "$M" trixie-backports 1:9.2.0+ds-1~bpo13+1 1:11.1.3+ds-2~bpo13+1 1:11.1.3+ds-1~bpo13+1
mk_mirror "$M" trixie 1:10.0.2+ds-1 1:11.2.0+ds-1
check "tool resolves" logged "$WORK/tool1" "$DF" tool qemu-test 10.1 trixie-backports trixie
check "tool picks the newest revision across suites" grep -qx "qemu-test 1:11.2.0+ds-1 trixie $(sha256 "$M/pool/main/l/linux/qemu-test_1:11.2.0+ds-1_amd64.deb")" "$WORK/tool1.out"
check "tool within one suite" logged "$WORK/tool2" "$DF" tool qemu-test 10.1 trixie-backports
check "tool picks the newest backports revision" grep -q "^qemu-test 1:11.1.3+ds-2~bpo13+1 trixie-backports " "$WORK/tool2.out"
check_fails "tool refuses when nothing meets the constraint" "$(re_lit "no qemu-test with upstream version >= 12")" \
    "$DF" tool qemu-test 12 trixie-backports trixie
pass "test tooling: newest revision meeting the upstream constraint ($(cat "$WORK/tool1.out"))"

# -- archive areas and pool pins (image-recipes/gpu.lock): SUITE/COMPONENT reads that area's
# signed index; a pin with a POOL path is for a package the index dropped: fetched by exactly
# that path, accepted only with the pinned sha256; `lock` keeps it; check-pins sees the pool.
rm -rf "$M" "$COCOON_CACHE"
PKG=linux-image-9.9.9-test-amd64
idx_area() { # ROOT SUITE AREA VERSION...: AREA's Packages.xz listing the fake kernel in these versions
    local root=$1 suite=$2 area=$3 v f
    shift 3
    mkdir -p "$root/dists/$suite/$area/binary-amd64"
    for v in "$@"; do
        f=$(mkdeb "$v" "$root")
        printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nFilename: %s\nSize: %s\nSHA256: %s\n\n' \
            "$PKG" "$v" "$f" "$(stat -c %s "$root/$f")" "$(sha256 "$root/$f")"
    done | xz -c > "$root/dists/$suite/$area/binary-amd64/Packages.xz"
}
idx_area "$M" trixie-backports main
idx_area "$M" trixie-backports contrib 3.0-1
pool=$(mkdeb 2.0-2 "$M")
d=$M/dists/trixie-backports
{
    printf 'Origin: Test\nSuite: trixie-backports\nCodename: trixie-backports\nDate: Sat, 05 Dec 2026 02:11:04 UTC\n'
    printf 'Components: main contrib\nArchitectures: amd64\nSHA256:\n'
    for a in main contrib; do
        printf ' %s %s %s\n' "$(sha256 "$d/$a/binary-amd64/Packages.xz")" "$(stat -c %s "$d/$a/binary-amd64/Packages.xz")" "$a/binary-amd64/Packages.xz"
    done
} > "$d/Release"
rm -f "$d/InRelease"
gpg --batch --quiet --digest-algo SHA256 --clearsign -o "$d/InRelease" "$d/Release"
printf '%s trixie-backports/contrib amd64\n' "$PKG" > "$IMAGE_LIST"
printf '# 1\n# 2\n# 3\n# note: where the hashes come from (test)\n%s 0-0 amd64 trixie-backports/contrib %s\n' \
    "$PKG" "$(printf '0%.0s' {1..64})" > "$IMAGE_LOCK"
check "lock resolves a package of the contrib area" "$DF" lock
check "lock keeps the lock's own notes" grep -qxF "# note: where the hashes come from (test)" "$IMAGE_LOCK"
c_sha=$(sha256 "$M/pool/main/l/linux/${PKG}_3.0-1_amd64.deb")
check "lock pins it with SUITE/COMPONENT" grep -qxF "$PKG 3.0-1 amd64 trixie-backports/contrib $c_sha" "$IMAGE_LOCK"
check "the contrib pin fetches" "$DF" fetch "$PKG"
echo "$PKG 3.0-1 amd64 trixie-backports $c_sha" > "$WORK/main.lock"
rm -rf "$COCOON_CACHE/debs"
check_fails "the same pin in the main area is not found there" "$(re_lit "the mirror no longer serves $PKG 3.0-1 (trixie-backports/amd64)")" \
    env IMAGE_LOCK="$WORK/main.lock" "$DF" fetch "$PKG"
pass "archive areas: lock and fetch through the contrib index; the area is part of the pin"

p_sha=$(sha256 "$M/$pool")
printf '# pool pin: sha256 of the pool download (test)\n%s 2.0-2 amd64 trixie-backports %s %s\n# release-date: trixie-backports 20261205T021104Z\n' \
    "$PKG" "$p_sha" "$pool" > "$WORK/pool.lock"
rm -rf "$COCOON_CACHE/debs"
check "a pool pin fetches by its path" logged "$WORK/pool" env IMAGE_LOCK="$WORK/pool.lock" "$DF" fetch "$PKG"
check "the fetch says it used the pool path" grep -q "fetched by its pool path (pool pin)" "$WORK/pool.err"
[ "$(sha256 "$(cat "$WORK/pool.out")")" = "$p_sha" ] || fail "the pool pin gave another file"
rm -rf "$COCOON_CACHE/debs"
sed "s/ $p_sha / $(printf '2%.0s' {1..64}) /" "$WORK/pool.lock" > "$WORK/pool-badsha.lock"
check_fails "a pool pin with another sha256 is refused" "$(re_lit "does not match the lock's 2222")" \
    env IMAGE_LOCK="$WORK/pool-badsha.lock" "$DF" fetch "$PKG"
sed "s#$pool#pool/main/l/linux/../../../x/${PKG}_2.0-2_amd64.deb#" "$WORK/pool.lock" > "$WORK/pool-badpath.lock"
check_fails "a pool path leaving the pool is refused" "$(re_lit "is not pool/<area>/<x>/<source>/${PKG}_2.0-2_amd64.deb")" \
    env IMAGE_LOCK="$WORK/pool-badpath.lock" "$DF" fetch "$PKG"
check "check-pins accepts a pool pin the pool serves" "$DF" check-pins "$WORK/pool.lock"
printf '%s trixie-backports amd64\n' "$PKG" > "$WORK/pool.list"
check "lock keeps a pool pin the index no longer lists" env IMAGE_LOCK="$WORK/pool.lock" IMAGE_LIST="$WORK/pool.list" "$DF" lock
check "the kept pool pin and its comment" bash -c "grep -B1 -xF '$PKG 2.0-2 amd64 trixie-backports $p_sha $pool' '$WORK/pool.lock' |
    head -1 | grep -qxF '# pool pin: sha256 of the pool download (test)'"
[ "$(grep -c '^# pool pin: sha256 of the pool download (test)$' "$WORK/pool.lock")" = 1 ] || fail "the pool pin's comment is not there exactly once"
mv "$M/$pool" "$WORK/gone.deb"
check_fails "check-pins fails when the pool lost it" "$(re_lit "stale: $WORK/pool.lock: $PKG 2.0-2")" "$DF" check-pins "$WORK/pool.lock"
rm -rf "$COCOON_CACHE/debs"
check_fails "and the fetch names the pool path" "$(re_lit "nor at its pool path $pool")" env IMAGE_LOCK="$WORK/pool.lock" "$DF" fetch "$PKG"
pass "pool pins: fetched by path with the pinned sha256 only, kept by lock, checked by check-pins"
