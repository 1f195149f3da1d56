#!/usr/bin/env bash
# PostgreSQL stopped under load, first with `pg_ctl stop -m immediate` (a
# crash: no checkpoint, WAL replay at start), then with `-m fast`, and
# started again each time, while two readers drain 40,000 spooled events and
# a card is tapped again and again, with sac-purge running every second.
# The controller holds what it has not stored, never acknowledges it, and
# carries on; in the end every event is in the ledger exactly once, by id.
source "$(dirname "$0")/../lib.sh"

readers=(gate-1 gate-2)
fault_setup "${readers[@]}" || exit 1
seed gate-1 0000b001 20000; seed gate-2 0000b002 20000
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
purge_up
for r in "${readers[@]}"; do reader_up "$r" "127.0.0.1:$port" || exit 1; done
spawn tap_loop gate-1; tapper=$T_LAST_PID
echo "# set up in ${SECONDS}s"

# The window each stop must land in: the readers are draining the seeded
# events, some stored and some not.  Proven afterwards from the ledger:
# seeded events were stored both before and after the moment of the stop.
# Log checks look only at what was written after the stop.
seeded_stored() { ledger_count "event_id::text LIKE '0000b00%'${1:+ AND $1}"; }
stored_beyond() { [ "$(seeded_stored)" -ge "$1" ]; }
stop_at=()
floor=200
k=0
for mode in immediate fast; do
    k=$((k + 1))
    wait_for 60 stored_beyond "$floor" || true
    ctl_mark=$(log_mark "$T_DIR/ctl-1.log"); tap_mark=$(log_mark "$T_DIR/gate-1.log")
    before=$(seeded_stored)
    check "pg_ctl stop -m $mode lands while the readers drain ($before of 40000 seeded events stored)" \
        test "$before" -ge "$floor" -a "$before" -lt 40000
    check "pg_ctl stop -m $mode" pg_stop "$mode"
    # When the server took the request, from its own log (log_line_prefix %m).
    stop_at[$k]=$(grep -E "received (immediate|fast) shutdown request" "$T_DIR/pg/server.log" |
        sed -n "${k}p" | awk '{print $1" "$2" "$3}')
    # Both readers keep making and sending events into the outage.
    check "the taps go on while PostgreSQL is down" wait_for 30 \
        bash -c "[ \$(tail -c +$((tap_mark + 1)) '$T_DIR/gate-1.log' | grep -c 'created') -ge 2 ]"
    check "the controller says the database is unavailable ($mode)" wait_for 30 \
        log_has_since "$T_DIR/ctl-1.log" "$ctl_mark" 'database unavailable'
    check "the controller is still running ($mode)" kill -0 "$(controller_pid ctl-1)"
    check "PostgreSQL starts again" pg_restart_server
    check "the controller reconnects ($mode)" wait_for 30 \
        log_has_since "$T_DIR/ctl-1.log" "$ctl_mark" 'database reachable again'
    # The next stop as soon as the drain has resumed: the controller
    # stores what it held at once, and the rest follows quickly.
    floor=$(( $(seeded_stored) + 50 ))
    echo "# restart $k at ${SECONDS}s"
done
kill -TERM "$tapper"; wait "$tapper" 2>/dev/null
sim gate-1 remove >/dev/null

account "${readers[@]}"
for k in 1 2; do
    check "stop $k: seeded events were still to be stored when it hit" \
        test "$(seeded_stored "received_at > '${stop_at[$k]}'")" -gt 0
done
check "sac-purge passes ran" test "$(purge_passes)" -ge 1
check "sac-purge still running" kill -0 "$PURGE_PID"
check "the purge failures during the outage are audited afterwards" wait_for 30 \
    bash -c "grep -q 'audited [0-9]* failed purge pass' '$T_DIR/purge.log'"
check "the controller log has no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR/ctl-1.log'"
echo "# done at ${SECONDS}s"
done_testing
