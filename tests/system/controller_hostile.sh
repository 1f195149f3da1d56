#!/usr/bin/env bash
# sac-controller: slow and hostile peers never delay the others.  Half-open
# TCP connections (no TLS at all), a ClientHello that stops half-way, and a
# reader dribbling its HELLO one byte a second are all served their timeout
# while ordinary readers keep getting ACKs.
source "$(dirname "$0")/../lib.sh"

check "controller starts" ctl_setup
P="$T_DIR/pki"

# 50 silent TCP connections.
for i in $(seq 1 50); do
    ( exec 3<>"/dev/tcp/127.0.0.1/$CTL_PORT" && cat <&3 >/dev/null; echo closed >"$T_DIR/silent.$i" ) &
    T_PIDS+=("$!")
done
# A TLS record header and nothing more.
( exec 3<>"/dev/tcp/127.0.0.1/$CTL_PORT" && printf '\x16\x03\x01\x02\x00\x01' >&3 && cat <&3 >/dev/null
  echo closed >"$T_DIR/halfhello" ) &
T_PIDS+=("$!")
# A reader that completes TLS and then sends one byte a second.
( for c in H E L L O ' ' s a c / 1 ' ' g a t e - i n; do printf '%s' "$c"; sleep 1; done; echo ) \
    | timeout 40 openssl s_client -quiet -connect "127.0.0.1:$CTL_PORT" -cert "$P/gate-in.crt" \
        -key "$P/gate-in.key" -CAfile "$P/controller-ca.crt" >"$T_DIR/dribble.out" 2>&1 &
T_PIDS+=("$!")
sleep 1

T=$(now_ms)
for i in 1 2 3; do
    out=$(printf 'HELLO sac/1 gate-in\nEVENT %032x %s %s\n' "$i" "$T" "$CRED_A" | as_reader gate-in --expect 2)
    check_match "ordinary reader $i served while slow peers hang on" "$out" "ACK $(event_id "$i") GRANT"
done
all_silent_closed() { [ "$(ls "$T_DIR"/silent.* 2>/dev/null | wc -l)" -eq 50 ]; }
check "silent TCP connections are closed by the handshake timeout" wait_for 20 all_silent_closed
check "a half-sent ClientHello is closed by the handshake timeout" wait_for 20 test -f "$T_DIR/halfhello"
check "the byte-a-second reader gets ERR timeout" wait_for 20 grep -q 'ERR timeout' "$T_DIR/dribble.out"
check_no_match "the byte-a-second reader was never welcomed" "$(cat "$T_DIR/dribble.out")" 'WELCOME'
check "handshake timeouts are logged" grep -q 'handshake timed out' "$T_DIR/controller.log"
out=$(printf 'HELLO sac/1 gate-in\nPING\n' | as_reader gate-in --expect 2)
check_match "still serving afterwards" "$out" 'PONG'
check "controller still running" kill -0 "$CTL_PID"
done_testing
