#!/usr/bin/env bash
# sac-controller against hostile TLS peers, beyond controller_tls.sh (rogue
# CA, no certificate, TLS 1.2) and controller_hostile.sh (50 silent sockets,
# half a ClientHello, a byte-a-second reader): reader certificates that are
# expired, not yet valid, or for servers only (EKU serverAuth); a genuine
# reader certificate saying HELLO for another reader; a client hoping for a
# session ticket (for 0-RTT early data); a KeyUpdate; 1,000 TCP
# connections left idle.
# Each is refused or timed out, and an ordinary reader keeps getting ACKs.
source "$(dirname "$0")/../lib.sh"

FT=$(ls /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 2>/dev/null)
if [ -z "$FT" ]; then not_ok "libfaketime (tools/ensure-deps installs faketime)"; done_testing; fi
check "controller starts" ctl_setup
P="$T_DIR/pki"

# Certificates with the real reader CA and CN, signed at another date.
LD_PRELOAD="$FT" FAKETIME="-3d" cert_issue reader-ca expired gate-in        # valid 3 days ago, 1 day
LD_PRELOAD="$FT" FAKETIME="+1d" cert_issue reader-ca notyet gate-in         # valid from tomorrow
cert_issue reader-ca server-only gate-in "extendedKeyUsage=serverAuth"
check "the expired certificate is expired" bash -c "! openssl x509 -in '$P/expired.crt' -noout -checkend 0"
check "the not-yet-valid certificate starts in the future" bash -c \
    "[ \$(date -d \"\$(openssl x509 -in '$P/notyet.crt' -noout -startdate | cut -d= -f2)\" +%s) -gt \$(date +%s) ]"

n=0
ordinary_ack() {
    n=$((n + 1))
    out=$(printf 'HELLO sac/1 gate-in\nEVENT %032x %s %s\n' "$n" "$(now_ms)" "$CRED_A" | as_reader gate-in --expect 2)
    check_match "$1: the ordinary reader still gets its ACK" "$out" "ACK $(event_id "$n") GRANT"
}
hello() { printf 'HELLO sac/1 gate-in\nEVENT %032x %s %s\n' 999 "$(now_ms)" "$CRED_A"; }

for c in expired:'certificate has expired' notyet:'certificate is not yet valid' server-only:'unsuitable certificate purpose'; do
    name=${c%%:*} why=${c#*:}
    out=$(hello | as_reader "$name" --expect 2 --timeout 5)
    check_no_match "$name reader certificate gets no WELCOME" "$out" 'WELCOME|ACK'
    check_match "$name reader certificate: the handshake fails" "$out" 'TLS-FAILED|CLOSED'
    check "$name: the controller logs why ($why)" wait_for 10 grep -Eq "$why" "$T_DIR/controller.log"
    ordinary_ack "after $name"
done
check_eq "nothing stored from the refused certificates" "$(events_count "event_id = '$(event_id 999)'")" 0

# gate-in's genuine certificate, HELLO for gate-out.
out=$(printf 'HELLO sac/1 gate-out\nEVENT %032x %s %s\n' 998 "$(now_ms)" "$CRED_A" | as_reader gate-in --expect 2 --timeout 5)
check_match "gate-in's certificate saying HELLO gate-out gets ERR" "$out" '^ERR '
check_no_match "... and no WELCOME or ACK" "$out" 'WELCOME|ACK'
check_eq "nothing stored under gate-out" "$(events_count "reader_id = 'gate-out'")" 0
ordinary_ack "after the impostor HELLO"

# 0-RTT needs a session from an earlier connection: the controller issues no
# ticket, so a client has nothing to resume and no early data to send.
out=$( (hello; sleep 2) | timeout 10 openssl s_client -connect "127.0.0.1:$CTL_PORT" -tls1_3 \
      -cert "$P/gate-in.crt" -key "$P/gate-in.key" -CAfile "$P/controller-ca.crt" \
      -sess_out "$T_DIR/session.pem" -msg 2>&1)
check_match "a TLS 1.3 client is welcomed (control)" "$out" 'WELCOME sac/1'
check_no_match "no NewSessionTicket is sent" "$out" 'NewSessionTicket|New Session Ticket'
check "so no session to resume for early data" bash -c "! grep -q 'BEGIN SSL SESSION' '$T_DIR/session.pem' 2>/dev/null"

# A client that asks for a TLS 1.3 KeyUpdate (s_client's K command) before
# its HELLO: new keys both ways, the session goes on.
out=$( (sleep 1; echo K; sleep 1
        printf 'HELLO sac/1 gate-in\nEVENT %032x %s %s\n' 997 "$(now_ms)" "$CRED_A"; sleep 2) \
      | timeout 10 openssl s_client -connect "127.0.0.1:$CTL_PORT" -tls1_3 -cert "$P/gate-in.crt" \
          -key "$P/gate-in.key" -CAfile "$P/controller-ca.crt" -msg 2>&1)
check_match "the client sent a KeyUpdate" "$out" '>>> .*KeyUpdate'
check_match "the controller answered with its own KeyUpdate" "$out" '<<< .*KeyUpdate'
check_match "after the KeyUpdate: WELCOME and ACK" "$(echo "$out" | grep -E '^(WELCOME|ACK) ' | tr '\n' ' ')" \
    "^WELCOME sac/1 .*ACK $(event_id 997) GRANT"
ordinary_ack "after the KeyUpdate"

# 1,000 TCP connections opened and left idle (no TLS byte).
python3 - "$CTL_PORT" 1000 >"$T_DIR/idle.out" 2>&1 <<'PY' &
import resource, select, socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 100), hard))
socks = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    socks.append(s)
print("opened", len(socks), flush=True)
open_ = set(socks)
deadline = time.time() + 40
while open_ and time.time() < deadline:
    r, _, _ = select.select(list(open_)[:1000], [], [], 1)
    for s in r:
        try:
            data = s.recv(64)
        except OSError:
            data = b""
        if not data:
            open_.discard(s)
            s.close()
print("closed by the controller", count - len(open_), flush=True)
PY
T_PIDS+=("$!")
check "1,000 idle TCP connections opened" wait_for 30 grep -q 'opened 1000' "$T_DIR/idle.out"
for i in 1 2 3; do ordinary_ack "with 1,000 idle connections ($i)"; done
check "all 1,000 idle connections closed by the handshake timeout" wait_for 45 \
    grep -q 'closed by the controller 1000' "$T_DIR/idle.out"
ordinary_ack "after the idle connections"
check "controller still running" kill -0 "$CTL_PID"
check_no_match "no sanitizer report, no credential in the controller log" \
    "$(cat "$T_DIR/controller.log")" "Sanitizer|$CRED_A"
done_testing
