#!/usr/bin/env bash
# cocoon-ratls against Telegram Cocoon's own `router` built from its source (issue 17 §0).
# A development check, not part of `make test`: CI cannot fetch or build Cocoon.
#
#   COCOON_ROUTER=/path/to/router [COCOON_GEN_CERT=/path/to/gen-cert] [POLICY=fake_tdx|any]
#   [N=60] [BUILD=build] tests/interop/cocoon_router.sh
#
# Build Cocoon's router and gen-cert from https://github.com/TelegramMessenger/cocoon (with
# its ton submodule): cmake, then `ninja router gen-cert` (targets of tee/CMakeLists.txt).
# Run from the repository root after `make`.
#
# POLICY=fake_tdx (default): the router's certificate comes from Cocoon's `gen-cert --tdx
#   fake_tdx`, cocoon-ratls runs with --attest fake_tdx, both sides verify the peer under
#   their fake_tdx policy (Cocoon's test attestation).
# POLICY=any: the router makes its own certificate without attestation (no -C), cocoon-ratls
#   runs with --attest fake_tdx; both sides use `any`.
# PoW: the router's default difficulty (20) and ours (20).
#
# Checks:
#  A. cocoon-ratls forward -> Cocoon reverse -> engine: N requests, N handshakes, no stall
#     (a connection slower than STALL_S seconds counts as a stall; Cocoon has no handshake
#     timeout, so a lost ClientHello shows as a request that hangs).
#  B. Cocoon forward -> cocoon-ratls reverse -> backend: N connections; the backend reads the
#     AttestedPeerInfo frame, answers and closes; every client gets the answer and then EOF.
#  C. EOF both ways: a backend closing after its answer gives EOF to the client behind the other
#     proxy (A2 through Cocoon's reverse, B through ours); a client's close reaches the echo
#     backend behind the other proxy, which closes, and the client sees its echo and EOF.
#  D. After the clients closed, `ss -tn` shows no ESTABLISHED connection between the proxies
#     (or to the backends).
# Writes a summary to $WORK/summary (printed at the end; the WORK dir is removed on exit
# unless KEEP=1).
source "$(dirname "$0")/../integration/ratls_lib.sh"
: "${COCOON_ROUTER:?set COCOON_ROUTER to the path of the Cocoon router binary}"
COCOON_GEN_CERT=${COCOON_GEN_CERT:-$(dirname "$COCOON_ROUTER")/gen-cert}
POLICY=${POLICY:-fake_tdx}
N=${N:-60}
STALL_S=${STALL_S:-5}
[ "${KEEP:-0}" = 1 ] && trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; echo "kept $WORK"' EXIT
SUMMARY=$WORK/summary
note() { echo "$*" | tee -a "$SUMMARY"; }
count() { grep -cE -- "$2" "$1" || true; }

case $POLICY in
fake_tdx) ROUTER_CERT=(-C "$WORK/router") ;;
any) ROUTER_CERT=() ;;
*) fail "POLICY must be fake_tdx or any" ;;
esac
if [ "$POLICY" = fake_tdx ]; then
	(cd "$WORK" && "$COCOON_GEN_CERT" --tdx fake_tdx --name router >gen-cert.log 2>&1) ||
		fail "Cocoon gen-cert failed: $(cat "$WORK/gen-cert.log")"
	[ -s "$WORK/router_cert.pem" ] || fail "Cocoon gen-cert wrote no router_cert.pem"
fi

# start_router NAME ARGS...: Cocoon's router; waits until every -R/-F port listens
start_router() {
	local name=$1; shift
	"$COCOON_ROUTER" "${ROUTER_CERT[@]}" "$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	local pid=$! a p
	for a in "$@"; do
		[[ "$a" =~ ^([0-9]+): ]] || continue
		p=${BASH_REMATCH[1]}
		for _ in $(seq 200); do
			ss -Hltn "sport = :$p" | grep -q . && break
			kill -0 "$pid" 2>/dev/null || fail "router $name exited: $(tail -5 "$WORK/$name.log")"
			sleep 0.05
		done
		ss -Hltn "sport = :$p" | grep -q . || fail "router $name does not listen on $p"
	done
}
# established PORT: ESTABLISHED TCP connections from or to PORT
established() { ss -Htn state established "( sport = :$1 or dport = :$1 )" | wc -l; }
settles() {
	for _ in $(seq 50); do [ "$(established "$1")" = 0 ] && return 0; sleep 0.1; done
	ss -Htnp state established "( sport = :$1 or dport = :$1 )" >&2
	return 1
}
# backend MODE: a plaintext backend on a free port (sets BPORT); MODE: frame-hello (read the
# AttestedPeerInfo frame, answer, close), hello (answer, close), echo (echo until EOF, close)
cat >"$WORK/backend.py" <<'EOF'
import socket, struct, sys, threading
mode, port, log = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "a")
def serve(c):
    try:
        if mode == "frame-hello":
            hdr = b""
            while len(hdr) < 4:
                d = c.recv(4 - len(hdr))
                if not d: raise EOFError("no frame")
                hdr += d
            n, body = struct.unpack("<I", hdr)[0], b""
            while len(body) < n:
                d = c.recv(n - len(body))
                if not d: raise EOFError("short frame")
                body += d
            log.write("frame %d\n" % (4 + n)); log.flush()
            c.sendall(b"hello-from-backend")
        elif mode == "hello":
            c.sendall(b"hello-from-backend")
        else:
            while True:
                d = c.recv(65536)
                if not d: break
                c.sendall(d)
            log.write("echo eof\n"); log.flush()
    except Exception as e:
        log.write("error %r\n" % e); log.flush()
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(128)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# client.py PORT: sends "ping", waits for the echo, half-closes, waits for the EOF; prints
# "ok" (echo and EOF), "no-echo" or "no-eof". The echo comes before the close: Cocoon's
# ProxyWorker loses plaintext data read together with the client's FIN (it ends on the
# closed side before writing to the other), also between two Cocoon routers.
cat >"$WORK/client.py" <<'EOF2'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"ping")
got = b""
try:
    while got != b"ping":
        d = s.recv(16)
        if not d: break
        got += d
except socket.timeout:
    pass
if got != b"ping":
    print("no-echo", repr(got)); sys.exit(1)
s.shutdown(socket.SHUT_WR)
try:
    d = s.recv(16)
except socket.timeout:
    print("no-eof"); sys.exit(1)
print("ok" if d == b"" else "extra %r" % d); sys.exit(0 if d == b"" else 1)
EOF2
backend() {
	BPORT=$(free_port)
	python3 "$WORK/backend.py" "$1" "$BPORT" "$WORK/backend-$1-$BPORT.log" 2>>"$WORK/backend.err" &
	PIDS+=($!)
	for _ in $(seq 100); do ss -Hltn "sport = :$BPORT" | grep -q . && break; sleep 0.05; done
}
ms() { date +%s%3N; }
# closes LOG N: waits up to 3 s for N normal closes in LOG; prints the count
closes() {
	local n
	for _ in $(seq 30); do
		n=$(count "$1" 'event=conn_close .*reason="done"')
		[ "$n" -ge "$2" ] && break
		sleep 0.1
	done
	echo "$n"
}

note "cocoon_router: POLICY=$POLICY N=$N router=$COCOON_ROUTER"

# ---- A. cocoon-ratls forward -> Cocoon reverse -> engine ----------------------------------
start_engine engine --tokens 4
CREV=$(free_port)
start_router crev -R "$CREV:127.0.0.1:$ENGINE_PORT@$POLICY"
start_ratls fwd --attest fake_tdx -F "127.0.0.1:0:127.0.0.1:$CREV@$POLICY" --log-connections
FWD=${PORTS[0]}
ok_n=0 stalls=0 max_ms=0
for i in $(seq "$N"); do
	t0=$(ms)
	out=$(curl -sS -N -m 30 -X POST -d '{"max_tokens":2}' "http://127.0.0.1:$FWD/v1/chat/completions" 2>&1) || true
	dt=$(($(ms) - t0))
	[ "$dt" -gt "$max_ms" ] && max_ms=$dt
	if [ "$(grep -c '^data: {' <<<"$out")" = 2 ]; then ok_n=$((ok_n + 1)); else echo "A request $i: $out" >>"$WORK/A-failures"; fi
	[ "$dt" -gt $((STALL_S * 1000)) ] && stalls=$((stalls + 1))
	echo "$i $dt" >>"$WORK/A-times"
done
hs=$(count "$WORK/fwd.log" 'event=peer_verified')
hsf=$(count "$WORK/fwd.log" 'event=handshake_(failed|timeout)')
note "A: cocoon-ratls -F -> Cocoon -R: requests ok $ok_n/$N, handshakes $hs/$N, handshake failures/timeouts $hsf, stalls (>${STALL_S}s) $stalls, slowest ${max_ms} ms"
A_OK=$([ "$ok_n" = "$N" ] && [ "$hs" = "$N" ] && [ "$stalls" = 0 ] && echo 1 || echo 0)
settles "$CREV" && A_LEFT=0 || A_LEFT=$(established "$CREV")
A_CLOSES=$(closes "$WORK/fwd.log" "$N")
A_WARN=$(count "$WORK/fwd.log" 'level=warn')
note "D(A): ESTABLISHED left to Cocoon's reverse after the clients closed: $A_LEFT; cocoon-ratls normal closes $A_CLOSES/$N, warnings $A_WARN"

# A2/C: a backend behind Cocoon's reverse that answers and closes -> the client behind
# cocoon-ratls forward gets the answer and EOF; a client's close reaches an echo backend.
backend hello
HB=$BPORT
backend echo
EB=$BPORT
CREV2=$(free_port)
CREV3=$(free_port)
start_router crev2 -R "$CREV2:127.0.0.1:$HB@$POLICY" -R "$CREV3:127.0.0.1:$EB@$POLICY"
start_ratls fwd2 --attest fake_tdx -F "127.0.0.1:0:127.0.0.1:$CREV2@$POLICY" \
	-F "127.0.0.1:0:127.0.0.1:$CREV3@$POLICY" --log-connections
F2=${PORTS[0]} F3=${PORTS[1]}
M=${M:-10}
eof1=0 eof2=0
for i in $(seq "$M"); do
	out=$(timeout 20 socat -u "TCP:127.0.0.1:$F2" STDOUT 2>&1) && [ "$out" = hello-from-backend ] &&
		eof1=$((eof1 + 1)) || echo "C1 $i: '$out'" >>"$WORK/C-failures"
	out=$(timeout 30 python3 "$WORK/client.py" "$F3" 2>&1) && [ "$out" = ok ] &&
		eof2=$((eof2 + 1)) || echo "C2 $i: '$out'" >>"$WORK/C-failures"
done
note "C(A): backend behind Cocoon -R closes -> EOF at the client behind cocoon-ratls -F: $eof1/$M"
note "C(A): client behind cocoon-ratls -F closes -> echo backend behind Cocoon -R sees EOF, client gets echo + EOF: $eof2/$M (echo backend EOFs: $(cat "$WORK"/backend-echo-*.log 2>/dev/null | grep -c 'echo eof' || true))"
l2=0
for p in "$CREV2" "$CREV3" "$HB" "$EB"; do settles "$p" || l2=$((l2 + $(established "$p"))); done
note "D(A2): ESTABLISHED left (Cocoon's reverses, backends): $l2"

# ---- B. Cocoon forward -> cocoon-ratls reverse -> backend ---------------------------------
backend frame-hello
FB=$BPORT
start_ratls rev --attest fake_tdx -R "127.0.0.1:0:127.0.0.1:$FB@$POLICY" --log-connections
REV=${PORTS[0]}
CFWD=$(free_port)
start_router cfwd -F "$CFWD:127.0.0.1:$REV@$POLICY"
ok_b=0 stalls_b=0 max_b=0
for i in $(seq "$N"); do
	t0=$(ms)
	out=$(timeout 30 socat -u "TCP:127.0.0.1:$CFWD" STDOUT 2>&1) || out="(exit $?) $out"
	dt=$(($(ms) - t0))
	[ "$dt" -gt "$max_b" ] && max_b=$dt
	[ "$out" = hello-from-backend ] && ok_b=$((ok_b + 1)) || echo "B $i: '$out'" >>"$WORK/B-failures"
	[ "$dt" -gt $((STALL_S * 1000)) ] && stalls_b=$((stalls_b + 1))
	echo "$i $dt" >>"$WORK/B-times"
done
hs_b=$(count "$WORK/rev.log" 'event=peer_verified')
hsf_b=$(count "$WORK/rev.log" 'event=handshake_(failed|timeout)')
frames=$(sort "$WORK"/backend-frame-hello-*.log | uniq -c | tr -s ' ' | tr '\n' ';')
note "B: Cocoon -F -> cocoon-ratls -R: answer + EOF at the client $ok_b/$N, handshakes $hs_b/$N, handshake failures/timeouts $hsf_b, stalls (>${STALL_S}s) $stalls_b, slowest ${max_b} ms; backend frames:$frames"
settles "$REV" && B_LEFT=0 || B_LEFT=$(established "$REV")
settles "$FB" || B_LEFT=$((B_LEFT + $(established "$FB")))
B_CLOSES=$(closes "$WORK/rev.log" "$N")
B_WARN=$(count "$WORK/rev.log" 'level=warn')
note "D(B): ESTABLISHED left between Cocoon's forward and cocoon-ratls reverse (and its backend): $B_LEFT; cocoon-ratls normal closes $B_CLOSES/$N, warnings $B_WARN"

# C(B): the client behind Cocoon's forward closes -> the echo backend behind cocoon-ratls
# reverse sees EOF and closes; the client gets its echo and EOF.
backend echo
EB2=$BPORT
start_ratls rev2 --attest fake_tdx -R "127.0.0.1:0:127.0.0.1:$EB2@$POLICY" --no-serialize-info --log-connections
REV2=${PORTS[0]}
CFWD2=$(free_port)
start_router cfwd2 -F "$CFWD2:127.0.0.1:$REV2@$POLICY"
eof3=0
for i in $(seq "$M"); do
	out=$(timeout 30 python3 "$WORK/client.py" "$CFWD2" 2>&1) && [ "$out" = ok ] &&
		eof3=$((eof3 + 1)) || echo "C3 $i: '$out'" >>"$WORK/C-failures"
done
note "C(B): backend behind cocoon-ratls -R closes -> EOF at the client behind Cocoon -F: $ok_b/$N (check B)"
note "C(B): client behind Cocoon -F closes -> echo backend behind cocoon-ratls -R sees EOF, client gets echo + EOF: $eof3/$M (echo EOFs: $(grep -c 'echo eof' "$WORK/backend-echo-$EB2.log" || true))"
l3=0
for p in "$REV2" "$EB2"; do settles "$p" || l3=$((l3 + $(established "$p"))); done
note "D(B2): ESTABLISHED left (cocoon-ratls reverse, echo backend): $l3; cocoon-ratls normal closes $(closes "$WORK/rev2.log" "$M")/$M, warnings $(count "$WORK/rev2.log" 'level=warn')"
ss -Htnp state established >"$WORK/ss-final.txt" || true
note "ss -tnp state established at the end (all ports): $(wc -l <"$WORK/ss-final.txt") lines (in $WORK/ss-final.txt)"

result=0
[ "$A_OK" = 1 ] && [ "$ok_b" = "$N" ] && [ "$hs_b" = "$N" ] && [ "$stalls_b" = 0 ] || result=1
[ "$eof1" = "$M" ] && [ "$eof2" = "$M" ] && [ "$eof3" = "$M" ] || result=1
[ "$A_LEFT" = 0 ] && [ "$l2" = 0 ] && [ "$B_LEFT" = 0 ] && [ "$l3" = 0 ] || result=1
[ "$A_CLOSES" = "$N" ] && [ "$B_CLOSES" = "$N" ] && [ "$A_WARN" = 0 ] && [ "$B_WARN" = 0 ] || result=1
for f in A-failures B-failures C-failures; do [ -s "$WORK/$f" ] && { echo "--- $f"; head -20 "$WORK/$f"; }; done
[ "$result" = 0 ] && note "cocoon_router: all passed" || note "cocoon_router: FAILED"
exit "$result"
