#!/usr/bin/env bash
# Test of the tests' checks (no VM, a few seconds): every helper the shell tests check with
# fails when its input is broken, including the bug class of issue 11 (an expansion error in
# `cmd || fail` aborts the command list, the `|| fail` never runs and the script goes on).
#  - check: a failing command, a failing pipeline stage, `$((...))` on "327\n327", a failing
#    step of a function (set -e inside check even though check is called from `||` context);
#  - jq_get / jq_uint: missing key, null, two values, a non-number, invalid JSON;
#  - free_port: a port nobody listens on, and one that can then be listened on;
#  - lib.sh: flip_byte outside the file, console_has / console_lacks without a console log.
IT_PLAIN_QEMU=1  # only the helpers of lib.sh, no boot
source "$(dirname "$0")/lib.sh"

# The bug itself: without check, the `|| fail` after an expansion error never runs.
printf '#!/usr/bin/env bash\nset -euo pipefail\nb=$(printf "327\\n327")\necho $((b * 4096)) || exit 7\necho reached\n' \
    > "$WORK/bug.sh"
check "the unchecked form goes on after the expansion error (bash behaviour this test is about)" \
    grep -qx reached <(bash "$WORK/bug.sh" 2>/dev/null)
pass "bash goes on after '\$((b * 4096)) || fail' with b=327\\n327 (why check exists)"

arith() { local b=$1; echo $((b * 4096)); }
check "check passes a good command" arith 327 >/dev/null
check_fails "check fails on a failing command" 'exit 1: false' check "plain false" false
pipe() { false | cat; }
check_fails "check fails on a failing first pipeline stage" 'exit 1: pipe' check "pipeline" pipe
two=$(printf '327\n327')
check_fails "check fails on arithmetic with a two-line value" 'syntax error|exit 1' check "arith" arith "$two"
steps() { false; echo "not reached"; }
check_fails "check fails on a failing step inside a function" 'exit 1: steps' check "steps" steps

printf '{"a": 3, "n": null, "s": "x7", "l": [1, 2], "t": "1\\n2"}\n' > "$WORK/j.json"
check "jq_uint reads a number" test "$(jq_uint "$WORK/j.json" .a)" = 3
check "jq_get reads a string" test "$(jq_get "$WORK/j.json" .s)" = x7
check_fails "jq_get fails on a missing key" 'gave no value' jq_get "$WORK/j.json" .missing
check_fails "jq_get fails on null" 'gave no value' jq_get "$WORK/j.json" .n
check_fails "jq_get fails on two values" 'not exactly one value' jq_get "$WORK/j.json" '.l[]'
check_fails "jq_get fails on a two-line string" 'not exactly one value' jq_get "$WORK/j.json" .t
check_fails "jq_uint fails on a non-number" 'not an unsigned integer' jq_uint "$WORK/j.json" .s
printf '{"a": ' > "$WORK/bad.json"
check_fails "jq_get fails on invalid JSON" 'gave no value' jq_get "$WORK/bad.json" .a
pass "jq_get / jq_uint refuse missing, null, multiple, non-numeric values and invalid JSON"

p1=$(free_port)
p2=$(free_port)
check "free_port: nobody listens on $p1" bash -c '! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null' _ "$p1"
socat -T1 "TCP-LISTEN:$p1,bind=127.0.0.1" /dev/null &
sp=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$p1") 2>/dev/null && break; sleep 0.1; done
wait "$sp" || fail "free_port: socat could not listen on $p1 and serve one connection"
pass "free_port gave $p1 and $p2 (kernel-chosen, bindable)"

head -c 100 /dev/zero > "$WORK/f.bin"
check "flip_byte inside the file" flip_byte "$WORK/f.bin" 99
check "flip_byte changed the byte" test "$(od -An -tu1 -j 99 -N1 "$WORK/f.bin" | tr -d ' ')" = 255
check_fails "flip_byte fails outside the file" 'outside' flip_byte "$WORK/f.bin" 100
check_fails "flip_byte fails on a non-number offset" 'outside' flip_byte "$WORK/f.bin" 12x
rm -f "$CONSOLE"
check_fails "console_lacks fails without a console log" 'no console log' console_lacks 'FATAL'
check_fails "console_has fails without a console log" 'no console log' console_has 'ready'
echo "svc: ready" > "$CONSOLE"
check "console_has finds a line" console_has '^svc: ready$'
check_fails "console_lacks fails on a present line" 'unexpectedly has' console_lacks '^svc: ready$'
pass "flip_byte and the console assertions fail on broken input"
