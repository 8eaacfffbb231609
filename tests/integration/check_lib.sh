# tests/integration/check_lib.sh: how every shell test checks things (sourced by lib.sh,
# launch_lib.sh, ratls_lib.sh and the other shell tests).
#
#   check MSG CMD [ARG...]        run CMD; a non-zero exit fails the test with MSG
#   check_fails MSG RE CMD [ARG...]  CMD must exit non-zero with output matching RE (the
#                                 "test of the test": a check shown to catch a broken input)
#   re_lit TEXT                   TEXT as an extended regex matching exactly TEXT (for check_fails)
#   jq_get FILE FILTER            jq -e -r: the filter must give exactly one value, not null/false
#   jq_uint FILE FILTER           the same, and the value must be a decimal integer
#   free_port                     a TCP port the kernel just gave out (bind to port 0)
#   port_ok VALUE                 VALUE is one TCP port number (1..65535)
#
# Why a subshell: bash ignores `set -e` inside any command that is part of `||`, `&&` or an
# `if` condition, and an expansion error (`$((x))` on a non-number) aborts the whole command
# list, `|| fail` included, and the script goes on. check runs CMD in a subshell outside any
# condition, with `set -euo pipefail`, and looks only at the subshell's exit status, so a
# failing step, a failing pipeline stage or an expansion error inside CMD all fail the test.
# CMD cannot set variables for the caller; extract values first (jq_get, jq_uint), then check.

# check_fail MSG: the test's own fail (lib.sh, ratls_lib.sh, ...) when it has one.
check_fail() {
    if declare -F fail >/dev/null; then fail "$1"; fi
    echo "FAIL: ${TEST_NAME:-$(basename "$0")}: $1" >&2
    exit 1
}

check() {
    local msg=$1 rc
    shift
    [ $# -gt 0 ] || check_fail "check '$msg': no command"
    set +e
    (set -euo pipefail; "$@")
    rc=$?
    set -e
    [ "$rc" = 0 ] || check_fail "$msg (exit $rc: $*)"
}

check_fails() {
    local msg=$1 re=$2 rc out
    shift 2
    [ $# -gt 0 ] || check_fail "check_fails '$msg': no command"
    out=$(mktemp)
    set +e
    (set -euo pipefail; "$@") >"$out" 2>&1
    rc=$?
    set -e
    if [ "$rc" = 0 ]; then
        rm -f "$out"
        check_fail "$msg: the check passed on a broken input ($*)"
    fi
    if ! grep -qE -- "$re" "$out"; then
        cat "$out" >&2
        rm -f "$out"
        check_fail "$msg: the check failed (exit $rc) but its output lacks /$re/"
    fi
    echo "ok: ${TEST_NAME:-$(basename "$0")}: $msg: $(grep -m1 -E -- "$re" "$out")"
    rm -f "$out"
}

re_lit() { printf '%s' "$1" | sed 's/[][\.*^$()+?{}|/]/\\&/g'; }

jq_get() {
    local v
    v=$(jq -e -r "$2" "$1") || check_fail "$1: jq '$2' gave no value"
    [ -n "$v" ] && [ "$(printf '%s\n' "$v" | wc -l)" = 1 ] ||
        check_fail "$1: jq '$2' gave not exactly one value: '$v'"
    printf '%s\n' "$v"
}

jq_uint() {
    local v
    v=$(jq_get "$1" "$2") || exit 1
    [[ "$v" =~ ^[0-9]{1,18}$ ]] || check_fail "$1: jq '$2' is not an unsigned integer: '$v'"
    printf '%s\n' "$v"
}

# free_port: bind TCP port 0 on all addresses and print the port the kernel chose (then
# close it: the caller binds it next; a collision makes that bind fail loudly, not silently).
free_port() {
    local p
    p=$(/usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("0.0.0.0", 0))
print(s.getsockname()[1])') || check_fail "free_port: cannot bind port 0"
    port_ok "$p" || check_fail "free_port: '$p' is not a port"
    printf '%s\n' "$p"
}

port_ok() { [[ "$1" =~ ^[1-9][0-9]{0,4}$ ]] && [ "$1" -le 65535 ]; }
