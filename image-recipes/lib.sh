# Shared shell helpers of the image recipes (sourced, not run).
# br_run ROOT BIND... -- CMD...: run CMD inside the build root ROOT, in a private mount
# namespace (nothing leaks when it exits), with each BIND "hostpath:rootpath" bind-mounted.
br_run() {
    local root=$1; shift
    local binds=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do binds+=("$1"); shift; done
    [ "${1:-}" = "--" ] || { echo "br_run: missing --" >&2; return 2; }
    shift
    local script='set -e; r=$1; shift; n=$1; shift; i=0
        while [ $i -lt $n ]; do b=$1; shift; h=${b%%:*}; t=$r${b#*:}
            if [ -d "$h" ]; then mkdir -p "$t"; else mkdir -p "$(dirname "$t")"; : > "$t"; fi
            mount --bind "$h" "$t"; i=$((i+1)); done
        mount -t proc proc "$r/proc"
        exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 TZ=UTC \
            SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}" HOME=/root "$@"'
    unshare --mount --propagation private -- sh -c "$script" br_run "$root" "${#binds[@]}" "${binds[@]}" "$@"
}

# The build root, created on demand from the pinned lock (image-recipes/buildroot.sh).
br_ensure() {
    local root=$1 here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    "$here/buildroot.sh" create "$root"
}
