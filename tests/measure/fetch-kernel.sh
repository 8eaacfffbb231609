#!/bin/sh
# Fetch a real signed Debian kernel (PE/COFF vmlinuz) for the Authenticode tests into
# $1 (e.g. build/cache/kernel/vmlinuz). The package comes from the mirror in this
# machine's apt configuration (apt-get download); it is pinned by version and sha256.
set -eu
OUT=$1
PKG=${KERNEL_PKG:-linux-image-6.1.0-50-cloud-amd64}
VER=${KERNEL_VER:-6.1.176-1}
SHA=${KERNEL_SHA256:-efe19f605b6f54a8352e68d85a629abb2d30b72a085faef603a9152590baa791}
VMLINUZ=${KERNEL_FILE:-boot/vmlinuz-6.1.0-50-cloud-amd64}
dir=$(dirname "$OUT")
mkdir -p "$dir"
tmp=$(cd "$dir" && mktemp -d "$PWD/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
deb="$tmp/${PKG}_${VER}_amd64.deb"
if [ -n "${KERNEL_DEB:-}" ]; then
	cp "$KERNEL_DEB" "$deb"
else
	(cd "$tmp" && apt-get download "$PKG=$VER" >/dev/null 2>"$tmp/err") || {
		cat "$tmp/err" >&2
		echo "error: cannot download $PKG=$VER with apt-get (run 'apt-get update' or set KERNEL_DEB)" >&2
		exit 1
	}
	deb=$(ls "$tmp"/*.deb)
fi
echo "$SHA  $deb" | sha256sum -c --quiet - || { echo "error: $deb: sha256 mismatch" >&2; exit 1; }
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./$VMLINUZ"
mv "$tmp/$VMLINUZ" "$OUT"
touch "$OUT"
echo "fetched $PKG=$VER -> $OUT"
