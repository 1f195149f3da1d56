#!/usr/bin/env bash
# Both database servers are lost (keepers and postmasters SIGKILLed): for a
# while no primary exists.  A real sac-reader on pn532-sim keeps making
# events into its spool, unacknowledged; the controller holds what it has,
# says once that the database is unavailable, and keeps running; sac-purge
# fails its passes and keeps running.  Then one server (the former standby)
# comes back alone: pg_auto_failover promotes it, and without anyone
# touching the daemons the controller stores the spooled events (every one
# exactly once, by id), sac-purge passes again and audits the passes that
# failed, and `audit verify` is compliant.
source "$(dirname "$0")/../lib.sh"
source "$T_REPO/tests/ha_lib.sh"

check "formation: monitor, primary node1, synchronous standby node2" ha_start
ha_setup_done
station() {
    certs_make
    credential_key_make "$T_DIR/credential.key"
    enroll_setup hq gate-1 || return 1
    enroll "Badge A" "$F_UID_A" >/dev/null || return 1
    enroll "Badge B" "$F_UID_B" >/dev/null || return 1
    make_login aud1 sac_auditor
    port=$(ha_free_port)
    controller_start ctl-1 "$port" || return 1
    purge_up
    reader_up gate-1 "127.0.0.1:$port"
}
check "site hq, reader gate-1 on pn532-sim, two badges, controller, sac-purge" station
ha_setup_done
spawn tap_loop gate-1; tapper=$T_LAST_PID
check "taps acknowledged with both servers up" wait_for 60 bash -c \
    "[ \$(grep -Ec 'event [0-9a-f]{32}: (GRANT|DENY)' '$T_DIR/gate-1.log') -ge 3 ]"
check "sac-purge passes with both servers up" wait_for 30 bash -c "grep -q 'purge pass:' '$T_DIR/purge.log'"
echo "# set up at ${SECONDS}s"

check "node1 lost" ha_kill 1
check "node2 lost" ha_kill 2
check "the controller says the database is unavailable" \
    wait_for 30 grep -q 'database unavailable' "$T_DIR/ctl-1.log"
check "sac-purge fails its passes" wait_for 30 grep -q 'database unreachable' "$T_DIR/purge.log"
# From here on no ACK can come: count the events made and wait for three more.
made_down=$(taps gate-1)
acked_down=$(acks gate-1)
check "the reader keeps making events into its spool" wait_for 60 bash -c \
    "[ \$(grep -Ec 'event [0-9a-f]{32} created' '$T_DIR/gate-1.log') -ge $((made_down + 3)) ]"
check "... without an acknowledgement while no primary exists" \
    test "$(acks gate-1)" -le $((acked_down + 1))
check "the controller keeps running" kill -0 "$(controller_pid ctl-1)"
check "sac-purge keeps running" kill -0 "$PURGE_PID"
check_exit "no server takes writes (sacctl, multi-host conninfo: database unreachable)" 3 \
    sacctl_as aud1 audit verify
echo "# no primary at ${SECONDS}s"

ha_run 2
check "node2 comes back alone and is promoted" wait_for 90 sql -c "SELECT 1"
check "the controller finds the new primary on its own" \
    wait_for 30 grep -q 'database reachable again' "$T_DIR/ctl-1.log"
kill -TERM "$tapper"; wait "$tapper" 2>/dev/null
sim gate-1 remove >/dev/null
account gate-1
check "sac-purge audits the passes that failed" \
    wait_for 30 grep -Eq 'audited [0-9]+ failed purge pass' "$T_DIR/purge.log"
check "the failure is in the audit log, as a failed purge_pass" \
    test "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = 'failed'")" -ge 1
purged_after() {
    [ "$(sql -c "SELECT count(*) FROM audit.log a WHERE action = 'purge_pass' AND outcome = 'allowed'
                 AND id > (SELECT max(id) FROM audit.log WHERE outcome = 'failed')")" -ge 1 ]
}
check "sac-purge passes again on the new primary" wait_for 30 purged_after
check "audit verify on the new primary: compliant, chain intact" sacctl_as aud1 audit verify
check "the daemons' logs have no sanitizer report" \
    bash -c "! grep -q 'Sanitizer' '$T_DIR/ctl-1.log' '$T_DIR/purge.log' '$T_DIR/gate-1.log'"
echo "# done at ${SECONDS}s"
done_testing
