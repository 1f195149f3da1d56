#!/usr/bin/env bash
# A misbehaving network between two readers and the controller
# (tests/tools/faultproxy.py): connections chopped after a random 1..N bytes
# (mid-line, mid-TLS-record, mid-handshake), stalled with bytes waiting,
# new connections refused, every live connection cut — while 4,000 spooled
# events drain and a card is tapped.  Once the network is sound again every
# event is in the ledger exactly once, by id, and the controller has served
# through it all.
source "$(dirname "$0")/../lib.sh"

readers=(gate-1 gate-2)
fault_setup "${readers[@]}" || exit 1
seed gate-1 0000d001 2000; seed gate-2 0000d002 2000
port=$(free_port); pport=$(free_port)
controller_start ctl-1 "$port" || exit 1
ctlf="$T_DIR/proxy.mode"
echo "chop 30000 1" >"$ctlf"
spawn python3 "$T_TOOLS/faultproxy.py" "$pport" "$port" "$ctlf"
check "the proxy listens" wait_for 10 grep -q ready "$ctlf.state"
for r in "${readers[@]}"; do reader_up "$r" "127.0.0.1:$pport" || exit 1; done
spawn tap_loop gate-1; tapper=$T_LAST_PID
set_mode() { echo "$1" >"$ctlf"; wait_for 10 grep -q "mode=${1%% *}" "$ctlf.state"; }
proxy_accepted() { sed -n 's/.*accepted=\([0-9]*\).*/\1/p' "$ctlf.state"; }
proxy_cuts() { sed -n 's/.* cut=\([0-9]*\).*/\1/p' "$ctlf.state"; }
echo "# set up in ${SECONDS}s"

check "chopped connections: at least 20 cut mid-stream" wait_for 60 bash -c \
    "[ \$(sed -n 's/.* cut=\([0-9]*\).*/\1/p' '$ctlf.state') -ge 20 ]"
check "... and events still get through" wait_for 60 ledger_at_least 1
before=$(ledger_count)
echo "# chopped until ${SECONDS}s, $before stored"
set_mode stall
a0=$(proxy_accepted)
check "stalled handshakes: the readers give up on them and try again" wait_for 60 bash -c \
    "[ \$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' '$ctlf.state') -ge $((a0 + 2)) ]"
echo "# stalled until ${SECONDS}s"
set_mode drop
c0=$(proxy_cuts)
check "dropped and refused connections: the readers keep trying" wait_for 30 bash -c \
    "[ \$(sed -n 's/.* cut=\([0-9]*\).*/\1/p' '$ctlf.state') -ge $((c0 + 4)) ]"
echo "# refused until ${SECONDS}s"
set_mode pass
check "pass: events flow again" wait_for 60 ledger_at_least $((before + 1))
echo "# passed until ${SECONDS}s"
check "both readers connected through the proxy again" wait_for 30 bash -c \
    "grep -qE 'live=([2-9]|[1-9][0-9])' '$ctlf.state'"
c1=$(proxy_cuts)
set_mode cut
check "cut: both live connections closed" test "$(proxy_cuts)" -ge $((c1 + 2))
set_mode pass
kill -TERM "$tapper"; wait "$tapper" 2>/dev/null
sim gate-1 remove >/dev/null
echo "# network sound again at ${SECONDS}s with $(ledger_count) stored; proxy: $(cat "$ctlf.state")"

account "${readers[@]}"
check "the controller is still running" kill -0 "$(controller_pid ctl-1)"
check "the controller log has no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR/ctl-1.log'"
echo "# done at ${SECONDS}s"
done_testing
