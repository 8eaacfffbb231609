#!/usr/bin/env bash
# Collateral that arrives by itself, end to end (issue 17 §2): two appliances booted by
# `cocoon-launch run --no-tdx` (TCG, cocoon.attest=sim) verify each other's RA-TLS quotes
# with a `tdx` policy anchored at the software PCK CA's root, using only the DCAP collateral
# that `cocoon-launch collateral` fetched from a local PCS (tests/collateral/pcs.py) into
# each spec share's runtime/collateral/:
#   0. A boots before any collateral was installed (no runtime/collateral/): cocoon-ratls
#      runs and refuses a peer with collateral_missing (it used to exit: dcap.c);
#   1. the test PCS serves the collateral of the sim CA's FMSPC (00906ED50000); `cocoon-launch
#      collateral` installs it for A and B;
#   2. A and B boot (one software CA, seeded through runtime/sim/; the measured spec pins the
#      CA's root and the sim MRTD); a stream host -> A's forward -> B's reverse -> B's engine
#      and one B -> A: each cocoon-ratls logs peer_verified attested=1, none
#      collateral_missing; host side, cocoon-measure cert verifies B's live quote with the
#      provisioned directory and not without it (collateral_missing);
#   3. the PCS then serves a revoked bundle (PCK CA in the root CA CRL) and an expired one:
#      `cocoon-launch collateral` refuses both (exit 1), the installed bundle stays byte for
#      byte, the state file says refused and how old the bundle in use is; the refused
#      bundles do not verify the peer's live quote while the kept one does, and new
#      connections between A and B still verify;
#      A boots again: with the kept bundle its new cocoon-ratls verifies B afresh;
#   4. `cocoon-launch status` reports the collateral state each guest booted with (B:
#      updated; A after its reboot: refused, the kept bundle) and how old the bundle in use is.
# The guests' root is the test busybox root plus cocoon-ratls and the test engine with their
# shared libraries (not the production image: `make demo` boots that one). Host ports are the
# kernel's choice (free_port), forwarded by the launcher's `ports`; the guests reach each
# other through the host at 10.0.2.2.
source "$(dirname "$0")/lib.sh"
require_appliance
GEN=$BUILD/tests/cocoon-test-collateral-gen
ENGINE=$BUILD/tests/ratls-engine
PCS=$REPO/tests/collateral/pcs.py
for x in "$BIN/cocoon-ratls" "$BIN/cocoon-measure" "$GEN" "$ENGINE"; do need_file "$x" "built by make"; done
command -v curl >/dev/null || fail "curl not found"
BOOT_WAIT=${COLL_BOOT_WAIT:-400}   # seconds for both appliances to come up (TCG, shared host)
FMSPC=00906ED50000
jqt() { jq -e "$@" >/dev/null; }   # a jq -e test, quiet

SRV= PIDS=()
coll_cleanup() {
    local p
    for n in a b; do
        [ -f "$WORK/$n/node.conf" ] && timeout 30 "$BIN/cocoon-launch" stop "$WORK/$n/node.conf" --timeout 20 \
            >/dev/null 2>&1 || true
    done
    for p in "${PIDS[@]}" $SRV; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap 'rc=$?; coll_cleanup; (exit $rc); it_cleanup' EXIT

# ---- the software PCK CA, its collateral variants and the test PCS ----
NOW=$(date +%s)
G=$WORK/gen
mkdir -p "$G" "$WORK/simca" "$WORK/srv"
"$GEN" "$G" "$NOW" "$WORK/simca" || fail "cocoon-test-collateral-gen failed"
python3 "$PCS" split "$G/good.json" "$WORK/srv"
python3 "$PCS" serve "$WORK/srv" "$WORK/pcs.port" 2>>"$WORK/pcs.log" &
SRV=$!
for _ in $(seq 100); do [ -s "$WORK/pcs.port" ] && break; sleep 0.1; done
PCS_PORT=$(cat "$WORK/pcs.port" 2>/dev/null || true)
port_ok "$PCS_PORT" || fail "the test PCS did not start: $(cat "$WORK/pcs.log")"

# ---- the guest root: busybox, cocoon-ratls, the test engine and their libraries ----
add_elf() { # SRC DEST-IN-ROOT
    local src=$1 dst=$2 lib
    install -D -m 0755 "$src" "$ROOTSRC$dst"
    for lib in $(ldd "$src" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u); do
        [ -e "$ROOTSRC$lib" ] || install -D -m 0755 "$(realpath "$lib")" "$ROOTSRC$lib"
    done
}
ROOTSRC=$WORK/rootsrc
make_appliance_root "$WORK/unused-root.img"   # fills $ROOTSRC with the busybox root
add_elf "$BIN/cocoon-ratls" /usr/bin/cocoon-ratls
add_elf "$ENGINE" /usr/bin/ratls-engine
make_rootfs "$ROOTSRC" "$WORK/root.img"
check "the guest root carries cocoon-ratls's loader" test -e "$ROOTSRC/lib64/ld-linux-x86-64.so.2"

# ---- the two appliances: spec (measured: policy, root), runtime/sim, launcher config ----
RK=$(openssl x509 -in "$G/root.pem" -noout -pubkey | openssl pkey -pubin -outform DER | tail -c 65 |
    openssl dgst -sha384 -r | cut -d' ' -f1)
MRTD=$(printf 'cocoon-sim MRTD' | openssl dgst -sha384 -r | cut -d' ' -f1)   # guest/attest/sim.c
[[ "$RK$MRTD" =~ ^[0-9a-f]{192}$ ]] || fail "root key id / MRTD: '$RK' '$MRTD'"
for n in a b; do
    eval "${n^^}_REV=$(free_port) ${n^^}_FWD=$(free_port)"
done
[ "$(printf '%s\n' "$A_REV" "$A_FWD" "$B_REV" "$B_FWD" | sort -u | wc -l)" = 4 ] || fail "free_port gave a port twice"
# appliance NAME PEER_REVERSE_PORT REVERSE_PORT FORWARD_PORT
appliance() {
    local n=$1 peer=$2 rev=$3 fwd=$4 d=$WORK/$1 svc
    mkdir -p "$d/spec/runtime" "$d/img" "$d/log" "$d/run"
    cp "$G/root.pem" "$d/spec/sim-root.pem"
    printf '{"root_key_ids":["%s"],"mrtd":["%s"]}\n' "$RK" "$MRTD" > "$d/spec/peer-policy.json"
    cp -r "$WORK/simca" "$d/spec/runtime/sim"
    # cocoon-ratls's log goes to the console (services' output does not without cocoon.debug)
    svc="exec /usr/bin/cocoon-ratls run --attest sim --log-connections --pow-difficulty 8"
    svc+=" --policy tdx=tdx,root=/run/spec/sim-root.pem,collateral=/run/spec/runtime/collateral,policy=/run/spec/peer-policy.json"
    svc+=" -R 0.0.0.0:8443:127.0.0.1:8000@tdx -F 0.0.0.0:9000:10.0.2.2:$peer@tdx >/dev/console 2>&1"
    write_spec "$d/spec" "{\"version\": 1,
  \"network\": {\"interface\": \"eth0\", \"address\": \"10.0.2.15/24\", \"gateway\": \"10.0.2.2\"},
  \"services\": [
    {\"name\": \"engine\", \"argv\": [\"/usr/bin/ratls-engine\", \"--listen\", \"127.0.0.1:8000\", \"--peer-info\"],
     \"restart\": \"always\"},
    {\"name\": \"ratls\", \"argv\": [\"/bin/sh\", \"-c\", $(json_str "$svc")], \"restart\": \"always\"}]}"
    cp "$WORK/root.img" "$d/img/rootfs.img"
    ln -s "$(realpath "$FIXTURES/tdx/measure/OVMF.fd")" "$d/img/OVMF.fd"
    ln -s "$KERNEL_DIR/vmlinuz" "$d/img/vmlinuz"
    ln -s "$INITRD" "$d/img/initrd.img"
    echo "console=ttyS0 panic=-1 loglevel=4 $(appliance_cmdline)" > "$d/img/cmdline"
    cat > "$d/node.conf" <<CONF
[node]
type = worker
tdx = no
accel = tcg
image_dir = $d/img
spec_dir = $d/spec
memory = 1G
vcpus = 1
vsock_cid = 0
console = file
log_dir = $d/log
run_dir = $d/run
ports = $rev:8443, $fwd:9000
collateral_url = http://127.0.0.1:$PCS_PORT
collateral_root_crl_url = http://127.0.0.1:$PCS_PORT/IntelSGXRootCA.der
collateral_fmspc = $FMSPC
collateral_root = $G/root.pem
CONF
}
appliance a "$B_REV" "$A_REV" "$A_FWD"
appliance b "$A_REV" "$B_REV" "$B_FWD"
bundle() { echo "$WORK/$1/spec/runtime/collateral/$FMSPC.json"; }
state() { echo "$WORK/$1/spec/runtime/collateral-state.json"; }

con() { tr -d '\r' < "$WORK/$1/log/worker-0.serial.log" 2>/dev/null || true; }
# boot NAME...: start the appliances (cocoon-launch run, background)
boot() {
    local n
    for n in "$@"; do
        : > "$WORK/$n/log/worker-0.serial.log"
        timeout -k 5 $((BOOT_WAIT + 600)) "$BIN/cocoon-launch" run "$WORK/$n/node.conf" --no-verify \
            > "$WORK/$n/launch.out" 2>&1 &
        PIDS+=($!)
    done
}
# wait_started NAME...: until cocoon-ratls logged event=started in each (a FATAL line or
# cocoon-ratls's event=fatal fails the test)
wait_started() {
    local i n up
    for ((i = 0; i < BOOT_WAIT; i++)); do
        up=0
        for n in "$@"; do
            if con "$n" | grep -qE "$FATAL_RE|event=fatal"; then
                CONSOLE=$WORK/$n/log/worker-0.serial.log
                fail "appliance $n: $(con "$n" | grep -E "$FATAL_RE|event=fatal" | head -n1)"
            fi
            con "$n" | grep -q 'event=started' && up=$((up + 1))
        done
        [ "$up" = $# ] && return 0
        sleep 1
    done
    CONSOLE=$WORK/$1/log/worker-0.serial.log
    fail "cocoon-ratls did not start in $* within ${BOOT_WAIT}s"
}

# ---- 0. a boot before any collateral was installed ----
# runtime/collateral/ does not exist yet: cocoon-ratls starts all the same and refuses a
# peer with collateral_missing (a host-side cocoon-ratls of the same software CA).
check "no collateral installed yet" test ! -e "$WORK/a/spec/runtime/collateral"
boot a
wait_started a
cp -r "$WORK/simca" "$WORK/host-sim"
COCOON_SIM_DIR=$WORK/host-sim "$BIN/cocoon-ratls" run --attest sim --log-connections \
    --policy "tdx=tdx,root=$G/root.pem,collateral=$G/good.json,policy=$WORK/a/spec/peer-policy.json" \
    -F "127.0.0.1:0:127.0.0.1:$A_REV@tdx" 2>"$WORK/host-fwd.log" &
HOST_FWD=$!
PIDS+=($HOST_FWD)
for _ in $(seq 100); do grep -q event=started "$WORK/host-fwd.log" && break; sleep 0.1; done
HP=$(sed -n 's/.*event=listening .* port=\([0-9]*\) .*/\1/p' "$WORK/host-fwd.log")
port_ok "$HP" || fail "the host-side cocoon-ratls did not start: $(cat "$WORK/host-fwd.log")"
curl -sS -m 60 -X POST -d '{"max_tokens":1}' "http://127.0.0.1:$HP/v1/chat/completions" >/dev/null 2>&1 || true
for _ in $(seq 50); do con a | grep -q 'collateral_missing' && break; sleep 0.2; done
check "A refused the peer: no collateral bundle in /run/spec/runtime/collateral yet" \
    bash -c "grep -qE 'event=(peer_rejected|handshake_failed) .*collateral_missing.*no collateral bundle in /run/spec/runtime/collateral' '$WORK/a/log/worker-0.serial.log'"
kill "$HOST_FWD" 2>/dev/null || true
"$BIN/cocoon-launch" stop "$WORK/a/node.conf" --timeout 60 >/dev/null || fail "cocoon-launch stop a failed"
pass "a boot before any collateral: cocoon-ratls runs and refuses peers with collateral_missing"

# ---- 1. provisioning from the PCS ----
for n in a b; do
    check "appliance $n: collateral fetched and installed" \
        bash -c "'$BIN/cocoon-launch' collateral '$WORK/$n/node.conf' | grep -qx 'collateral $FMSPC: updated'"
    check "appliance $n: the installed bundle is the served one" cmp -s "$(bundle $n)" <(jq -c -j . "$G/good.json")
    check "appliance $n: state says updated" jqt ".fmspcs[0] | .fmspc == \"$FMSPC\" and .last_result == \"updated\"" \
        "$(state $n)"
done

# ---- 2. boot both; mutual RA-TLS with the tdx policy ----
boot a b
wait_started a b
pass "both appliances booted, cocoon-ratls started with the provisioned collateral"

# stream FORWARD_PORT TOKENS: a stream through an appliance's forward listener
stream() {
    local out
    out=$(curl -sS -N -m 120 -X POST -d "{\"max_tokens\":$2}" "http://127.0.0.1:$1/v1/chat/completions" 2>&1) || true
    [ "$(grep -c '^data: {' <<<"$out")" = "$2" ] && grep -q '^data: \[DONE\]' <<<"$out"
}
# verified NAME MODE COUNT: the appliance's cocoon-ratls logged COUNT peer_verified lines
# (attested) on its MODE listener
verified() { [ "$(con "$1" | grep -cE "event=peer_verified .*listener=$2:.* policy=tdx attested=1 ")" -ge "$3" ]; }
check "a stream host -> A forward -> B reverse -> B's engine" stream "$A_FWD" 4
check "B's reverse verified A's quote" verified b reverse 1
check "A's forward verified B's quote" verified a forward 1
check "a stream host -> B forward -> A reverse -> A's engine" stream "$B_FWD" 3
check "A's reverse verified B's quote" verified a reverse 1
check "B's forward verified A's quote" verified b forward 1
for n in a b; do
    check "appliance $n: no collateral_missing" bash -c "! grep -q collateral_missing '$WORK/$n/log/worker-0.serial.log'"
done
pass "A and B verify each other with the tdx policy and the launcher's collateral"

# Host side, the same verifier against B's live certificate: the provisioned directory verifies it,
# no collateral does not.
# verdict COLLATERAL: cocoon-measure cert's "VERDICT FAILED_CHECK" on B's live certificate
# with that collateral (file or directory; "" for none), the peer policy of the specs and the
# sim root; its error line when it refuses to load the collateral
verdict() {
    local out
    out=$("$BIN/cocoon-measure" cert "127.0.0.1:$B_REV" --root "$G/root.pem" \
        --policy "$WORK/a/spec/peer-policy.json" ${1:+--collateral "$1"} --json 2>&1) || true
    jq -r '.verdict + " " + (.failed_check // "-")' <<<"$out" 2>/dev/null || printf '%s\n' "$out" | head -n1
}
V=$(verdict "$WORK/a/spec/runtime/collateral")
check "cocoon-measure cert: the provisioned directory verifies B's quote ($V)" test "$V" = "ok -"
V=$(verdict "")
check "without collateral B's quote does not verify ($V)" grep -q ' collateral_missing$' <<<"$V"

# ---- 3. revoked and expired updates are refused; the old bundle stays in use ----
# refused VARIANT CHECK-RE VERDICT-RE: serve it, refresh both appliances: refused, bundle
# unchanged; cocoon-measure cert with it on B's live quote: VERDICT-RE
refused() {
    local v=$1 re=$2 vre=$3 n before
    python3 "$PCS" split "$G/$v.json" "$WORK/srv"
    for n in a b; do
        before=$(sha256 "$(bundle $n)")
        check_fails "appliance $n: the $v bundle is refused" "$re.*the last good bundle stays" \
            "$BIN/cocoon-launch" collateral "$WORK/$n/node.conf"
        check "appliance $n: the bundle in use is unchanged after the $v one" test "$(sha256 "$(bundle $n)")" = "$before"
        check "appliance $n: state says refused and keeps the bundle ($v)" jqt \
            ".fmspcs[0] | .last_result == \"refused\" and .bundle == \"runtime/collateral/$FMSPC.json\" and (.age | type) == \"number\" and .age >= 0 and .expired == false" \
            "$(state $n)"
    done
    V=$(verdict "$G/$v.json")
    check "the $v bundle does not verify B's live quote ($V)" grep -qE "$vre" <<<"$V"
}
refused revoked "revoked" "collateral_cert_revoked"
refused expired "_expired" "^invalid tcb_info_expired$"
check "the state file says how old the bundle in use is" \
    jqt ".fmspcs[0] | .age >= 3600 and .age < 3600 + 86400 and .tcb_issue_date == $((NOW - 3600))" "$(state a)"
V=$(verdict "$WORK/a/spec/runtime/collateral")
check "the kept bundle still verifies B's live quote ($V)" test "$V" = "ok -"
check "a new stream A -> B after the refusals" stream "$A_FWD" 2
check "a new stream B -> A after the refusals" stream "$B_FWD" 2
check "B's reverse verified A again" verified b reverse 2
check "A's reverse verified B again" verified a reverse 2
# A boots again: it starts with the kept bundle (the refused ones were never installed) and
# a new cocoon-ratls (empty attestation cache) verifies B afresh.
"$BIN/cocoon-launch" stop "$WORK/a/node.conf" --timeout 60 >/dev/null || fail "cocoon-launch stop a failed"
boot a
wait_started a
check "after A's reboot: a stream A -> B" stream "$A_FWD" 2
check "after A's reboot: a stream B -> A" stream "$B_FWD" 2
# fresh NAME MODE: a peer_verified line of the new process that did not come from the cache
fresh() { con "$1" | grep -qE "event=peer_verified .*listener=$2:.* policy=tdx attested=1 .*cached=0"; }
check "after A's reboot: A's forward verified B afresh with the kept bundle" fresh a forward
check "after A's reboot: A's reverse verified B with the kept bundle" verified a reverse 1
pass "revoked and expired collateral refused, the old bundle stays in use (also after a reboot)"

# ---- 4. status: the collateral the guests booted with and how old it is ----
# status NAME: `cocoon-launch status` of the appliance, JSON in $WORK/NAME.status.json, text in
# $WORK/NAME.status.txt
status() {
    "$BIN/cocoon-launch" status "$WORK/$1/node.conf" --json > "$WORK/$1.status.json" 2> "$WORK/$1.status.err" ||
        fail "cocoon-launch status $1 failed: $(cat "$WORK/$1.status.err")"
    "$BIN/cocoon-launch" status "$WORK/$1/node.conf" > "$WORK/$1.status.txt" 2>&1 ||
        fail "cocoon-launch status $1 (text) failed: $(cat "$WORK/$1.status.txt")"
}
# issued_age NAME LAST-REFRESH-RE: the "issued N s ago" of the status text's FMSPC line
issued_age() {
    sed -nE "s/^  $FMSPC +issued ([0-9]+) s ago, fetched [0-9]+ s ago, expires in [0-9]+ s, last refresh $2$/\1/p" \
        "$WORK/$1.status.txt"
}
status b
check "status b: the collateral state it booted with (updated)" jqt \
    ".collateral.path == \"/run/spec/runtime/collateral-state.json\" and .collateral.state.fmspcs[0].fmspc == \"$FMSPC\" and .collateral.state.fmspcs[0].last_result == \"updated\" and (.collateral.state.fmspcs[0].age | type) == \"number\" and .collateral.age_s >= 0" \
    "$WORK/b.status.json"
check "status b text: the collateral state's age" \
    grep -qE '^collateral +/run/spec/runtime/collateral-state\.json, [0-9]+ s old$' "$WORK/b.status.txt"
AGE=$(issued_age b updated)
check "status b text: the bundle in use was issued an hour ago (issued '$AGE' s ago)" \
    test "${AGE:-0}" -ge 3600 -a "${AGE:-0}" -lt $((3600 + BOOT_WAIT + 900))
status a
check "status a (rebooted): the state says refused and keeps the bundle" jqt \
    ".collateral.state.fmspcs[0] | .last_result == \"refused\" and .bundle == \"runtime/collateral/$FMSPC.json\" and .tcb_issue_date == $((NOW - 3600))" \
    "$WORK/a.status.json"
AGE=$(issued_age a "refused: TCB info expired.*")
check "status a text: the kept bundle's age and the refused refresh (issued '$AGE' s ago)" \
    test "${AGE:-0}" -ge 3600 -a "${AGE:-0}" -lt $((3600 + BOOT_WAIT + 900))
pass "cocoon-launch status reports the collateral age"
