#!/usr/bin/env bash
# The building with the primary database server burns under load while a
# drill is open: that server (keeper and postmaster) and the controller
# ctl-1 next to it are SIGKILLed at once.  pg_auto_failover promotes the
# synchronous standby; controller ctl-2 and sac-purge follow the primary
# through their multi-host conninfo without anyone touching them; the
# readers of ctl-1 fail over to ctl-2 and re-send what was in flight, and
# every event is stored exactly once, by id: nothing acknowledged is lost.  The officer's headcount from the new
# primary equals the truth, the audit chain runs on without a gap and
# `audit verify` is compliant.  The old primary then rejoins as the standby
# and synchronous replication is back.
source "$(dirname "$0")/../lib.sh"
source "$T_REPO/tests/ha_lib.sh"

check "formation: monitor, primary node1, synchronous standby node2" ha_start
check_eq "an ACK waits for the standby: synchronous_standby_names" \
    "$(ha_sql 1 -c "SHOW synchronous_standby_names")" "ANY 1 (pgautofailover_standby_2)"
check_eq "... and synchronous_commit is on" "$(ha_sql 1 -c "SHOW synchronous_commit")" "on"
check "station: readers, 120 badges, officer, controller, sac-purge" ha_station
ha_setup_done
echo "# set up at ${SECONDS}s"

# The truth: persons 1-100 badge in at gate-in, 81-100 badge out again;
# the load at hall-in badges 101-120 in, again and again.  Present: 1-80
# and 101-120.
check "persons 1-100 badged in" ha_taps gate-in 1 100
check "persons 81-100 badged out" ha_taps gate-out 81 100
truth="100 $(seq -s, 1 80),$(seq -s, 101 120)"
drill=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "failover drill")
check_match "a drill is open" "$drill" '^[0-9]+$'
check_eq "headcount before the load: 1-80" "$(ha_present)" "80 $(seq -s, 1 80)"
ctl2_port=$(ha_free_port)
check "controller ctl-2 in the other building" controller_start ctl-2 "$ctl2_port"

# Half of the 20 reader connections go to ctl-1 first, half to ctl-2.
HA_LOAD_SERVERS="127.0.0.1:$HA_CTL_PORT,127.0.0.1:$ctl2_port"
ha_load load 20 400 24
present_is_truth() { [ "$(ha_present)" = "$truth" ]; }
check "headcount with the load: 1-80 and 101-120" wait_for 30 present_is_truth
# The last audit row before the failover, acknowledged to the officer
# (the headcount above wrote it): it must be on the new primary, unchanged.
audit_before=$(sql -c "SELECT id || ' ' || encode(hash, 'hex') FROM audit.log ORDER BY id DESC LIMIT 1")
anchor=$(sacctl_as aud1 audit anchor)
echo "# load running at ${SECONDS}s"

check "node1 and ctl-1 killed; the headcount answers the truth from the new primary" \
    ha_failover 1 "$truth" "$(controller_pid ctl-1)"
check_eq "node2 is the primary now" "$(ha_primary)" 2
wait "$HA_LOAD_PID"; rc=$?
check_eq "readers: nothing pending at the end" "$rc" 0
sed 's/^/# /' "$T_DIR/load.out"
ha_account load hall-in
echo "# $(ha_summary)"
check "events were made before and after the failover ($HA_MADE)" test "$HA_MADE" -gt 5000
check_eq "every event made was acknowledged" "$HA_ACKED" "$HA_MADE"
check_eq "events lost (acknowledged, not stored)" "$HA_LOST" 0
check_eq "events duplicated in the ledger" "$HA_DUPLICATED" 0
check_eq "ledger rows never made by a reader" "$HA_STRANGERS" 0
check_eq "events stored = events made" "$HA_STORED" "$HA_MADE"
check "the readers of ctl-1 reconnected and re-sent events in flight" \
    grep -Eq 'resent [1-9][0-9]* reconnects [1-9]' "$T_DIR/load.out"
check_match "writes resumed (seconds after the kill: $HA_WRITES_S)" "$HA_WRITES_S" '^[0-9]+\.[0-9]$'
check "ctl-2 lost the database and found the new primary on its own" \
    grep -q 'database reachable again' "$T_DIR/ctl-2.log"
check "ctl-2 kept running" kill -0 "$(controller_pid ctl-2)"
check_eq "headcount after the load (the new primary)" "$(ha_present)" "$truth"
check_eq "the audit row written before the failover is on the new primary, unchanged" \
    "$(sql -c "SELECT id || ' ' || encode(hash, 'hex') FROM audit.log WHERE id = ${audit_before%% *}")" \
    "$audit_before"
purged_since_kill() {
    [ "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = 'allowed'
                 AND at > to_timestamp($HA_DEAD_MS / 1000.0)")" -ge 1 ]
}
check "sac-purge passes on the new primary" wait_for 30 purged_since_kill
check "audit verify on the new primary: compliant, chain intact" sacctl_as aud1 audit verify
check "... and the chain still holds the head anchored before the failover ($anchor)" \
    sacctl_as aud1 audit verify --anchor "$anchor"
echo "# failover checked at ${SECONDS}s"

# The old primary comes back: rewound (or cloned) to follow node2.
ha_run 1
check "monitor: node1 secondary, node2 primary" ha_wait_states "node1:secondary node2:primary" 90
check_eq "an ACK waits for the rejoined standby again" \
    "$(ha_sql 2 -c "SHOW synchronous_standby_names")" "ANY 1 (pgautofailover_standby_1)"
node1_has_all() {
    [ "$(ha_sql 1 -c "SELECT count(*) FROM access.events WHERE reader_id = 'hall-in'")" = "$HA_STORED" ]
}
check "node1 has every stored event" wait_for 30 node1_has_all
check_eq "sacctl emergency close through the multi-host conninfo" \
    "$(sacctl_as off1 emergency close "$drill" >/dev/null 2>&1; echo $?)" 0
check "the controller logs have no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR'/ctl-*.log"
echo "# done at ${SECONDS}s"
done_testing
