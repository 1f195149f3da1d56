#!/usr/bin/env bash
# PostgreSQL stopped under load, first with `pg_ctl stop -m immediate` (a
# crash: no checkpoint, WAL replay at start), then with `-m fast`, and
# started again each time, while two readers drain 6,000 spooled events and
# a card is tapped again and again, with sac-purge running every second.
# The controller holds what it has not stored, never acknowledges it, and
# carries on; in the end every event is in the ledger exactly once, by id.
source "$(dirname "$0")/../lib.sh"
source "$T_REPO/tests/pn532-sim/harness.sh"
source "$(dirname "$0")/fault_lib.inc"

readers=(gate-1 gate-2)
fault_setup "${readers[@]}" || exit 1
seed gate-1 0000b001 3000; seed gate-2 0000b002 3000
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
purge_up
for r in "${readers[@]}"; do reader_up "$r" "127.0.0.1:$port" || exit 1; done
spawn tap_loop gate-1; tapper=$T_LAST_PID
echo "# set up in ${SECONDS}s"

k=0
for mode in immediate fast; do
    k=$((k + 1))
    wait_for 60 ledger_at_least $((k * 2000)) || true
    before=$(ledger_count)
    check "pg_ctl stop -m $mode with $before of 6000+ events stored" pg_stop "$mode"
    # Both readers keep making and sending events into the outage.
    check "the taps go on while PostgreSQL is down" wait_for 30 bash -c \
        "[ \$(grep -c 'created' '$T_DIR/gate-1.log') -ge $((k * 2)) ]"
    check "the controller says the database is unavailable ($mode)" wait_for 30 \
        bash -c "[ \$(grep -c 'database unavailable' '$T_DIR/ctl-1.log') -ge $k ]"
    check "the controller is still running ($mode)" kill -0 "$(controller_pid ctl-1)"
    check "PostgreSQL starts again" pg_restart_server
    check "the controller reconnects ($mode)" wait_for 30 \
        bash -c "[ \$(grep -c 'database reachable again' '$T_DIR/ctl-1.log') -ge $k ]"
    echo "# restart $k at ${SECONDS}s"
done
kill -TERM "$tapper"; wait "$tapper" 2>/dev/null
sim gate-1 remove >/dev/null

account "${readers[@]}"
check "sac-purge passes ran" test "$(purge_passes)" -ge 1
check "sac-purge still running" kill -0 "$PURGE_PID"
check "the purge failures during the outage are audited afterwards" wait_for 30 \
    bash -c "grep -q 'audited [0-9]* failed purge pass' '$T_DIR/purge.log'"
check "the controller log has no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR/ctl-1.log'"
echo "# done at ${SECONDS}s"
done_testing
