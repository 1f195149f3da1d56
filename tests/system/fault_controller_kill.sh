#!/usr/bin/env bash
# The controller is SIGKILLed twice while three readers drain 9,000 spooled
# events and a card is tapped again and again, with sac-purge running every
# second; it is restarted each time.  In the end every event is in the
# ledger exactly once, by id, and every reader logged a verdict for each.
source "$(dirname "$0")/../lib.sh"
source "$T_REPO/tests/pn532-sim/harness.sh"
source "$(dirname "$0")/fault_lib.inc"

readers=(gate-1 gate-2 gate-3)
fault_setup "${readers[@]}" || exit 1
seed gate-1 0000a001 3000; seed gate-2 0000a002 3000; seed gate-3 0000a003 3000
echo "# set up in ${SECONDS}s"
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
purge_up
for r in "${readers[@]}"; do reader_up "$r" "127.0.0.1:$port" || exit 1; done
spawn tap_loop gate-1; tapper=$T_LAST_PID

for k in 1 2; do
    wait_for 60 ledger_at_least $((k * 3000 - 1000)) || true
    before=$(ledger_count)
    kill -KILL "$(controller_pid ctl-1)"; wait "$(controller_pid ctl-1)" 2>/dev/null
    check "SIGKILL $k with $before of 9000+ events stored: readers notice" \
        wait_for 30 grep -q "controller 127.0.0.1:$port: " "$T_DIR/gate-2.log"
    controller_start ctl-1 "$port" || exit 1
    echo "# restart $k at ${SECONDS}s"
done
check "the taps go on after the restarts" wait_for 30 bash -c \
    "[ \$(grep -c 'created' '$T_DIR/gate-1.log') -ge 3 ]"
kill -TERM "$tapper"; wait "$tapper" 2>/dev/null
sim gate-1 remove >/dev/null

echo "# accounting at ${SECONDS}s"
account "${readers[@]}"
echo "# accounted at ${SECONDS}s"
check "every reader reconnected after the kills" \
    test "$(grep -c 'connected to controller' "$T_DIR/gate-3.log")" -ge 2
check "sac-purge passes ran during the faults" test "$(purge_passes)" -ge 1
check "sac-purge still running" kill -0 "$PURGE_PID"
check "the controller log has no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR/ctl-1.log'"
done_testing
