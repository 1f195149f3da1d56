#!/usr/bin/env bash
# The controller is SIGKILLed twice while three readers drain 9,000 spooled
# events and a card is tapped again and again, with sac-purge running every
# second; it is restarted each time.  In the end every event is in the
# ledger exactly once, by id, and every reader logged a verdict for each.
source "$(dirname "$0")/../lib.sh"

readers=(gate-1 gate-2 gate-3)
fault_setup "${readers[@]}" || exit 1
seed gate-1 0000a001 3000; seed gate-2 0000a002 3000; seed gate-3 0000a003 3000
echo "# set up in ${SECONDS}s"
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
purge_up
for r in "${readers[@]}"; do reader_up "$r" "127.0.0.1:$port" || exit 1; done
spawn tap_loop gate-1; tapper=$T_LAST_PID

# The window each kill must land in: the readers are draining the seeded
# events, some stored and some not.  Proven afterwards from the ledger:
# seeded events were stored both before and after the moment of the kill.
seeded_stored() { ledger_count "event_id::text LIKE '0000a00%'${1:+ AND $1}"; }
stored_beyond() { [ "$(seeded_stored)" -ge "$1" ]; }
kill_at=()
declare -A restart_mark
floor=200
for k in 1 2; do
    wait_for 60 stored_beyond "$floor" || true
    mark=$(log_mark "$T_DIR/gate-2.log")
    kill -KILL "$(controller_pid ctl-1)"; wait "$(controller_pid ctl-1)" 2>/dev/null
    kill_at[$k]=$(sql -c "SELECT clock_timestamp()")
    stored=$(seeded_stored)
    check "SIGKILL $k lands while the readers drain ($stored of 9000 seeded events stored)" \
        test "$stored" -ge "$floor" -a "$stored" -lt 9000
    check "SIGKILL $k: the readers notice" \
        wait_for 30 log_has_since "$T_DIR/gate-2.log" "$mark" "controller 127.0.0.1:$port: "
    floor=$((stored + 200))
    for r in "${readers[@]}"; do restart_mark[$r]=$(log_mark "$T_DIR/$r.log"); done
    controller_start ctl-1 "$port" || exit 1
    echo "# restart $k at ${SECONDS}s"
done
mark=$(log_mark "$T_DIR/gate-1.log")
check "the taps go on after the restarts" wait_for 30 \
    bash -c "[ \$(tail -c +$((mark + 1)) '$T_DIR/gate-1.log' | grep -c 'created') -ge 3 ]"
kill -TERM "$tapper"; wait "$tapper" 2>/dev/null
sim gate-1 remove >/dev/null

echo "# accounting at ${SECONDS}s"
account "${readers[@]}"
echo "# accounted at ${SECONDS}s"
for k in 1 2; do
    check "SIGKILL $k: seeded events were still to be stored when it hit" \
        test "$(seeded_stored "received_at > '${kill_at[$k]}'")" -gt 0
done
for r in "${readers[@]}"; do
    check "$r reconnected after the last restart" \
        wait_for 30 log_has_since "$T_DIR/$r.log" "${restart_mark[$r]}" 'connected to controller'
done
check "sac-purge passes ran during the faults" test "$(purge_passes)" -ge 1
check "sac-purge still running" kill -0 "$PURGE_PID"
check "the controller log has no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR/ctl-1.log'"
done_testing
