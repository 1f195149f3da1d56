#!/usr/bin/env bash
# sac-purge runs a pass as separate short transactions: while one step waits
# for its lock (here the muster roll, held by another session), the steps
# before it are committed and ingest can write the ledger and presence; the
# pass still ends in one purge_runs row and one audit record with the counts
# of every step.  A step that cannot get its lock within a second fails the
# pass, audited with the step's name.  The steps run only inside a pass the
# database began, in order, once each, within one interval.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
as_purger() { psql -qXAt -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate "$(conninfo purger)" "$@" 2>&1; }

# An old hour of the ledger, an expired read-in and a current one.
sql -c "SELECT access.ensure_partition(now() - interval '25 hours')" >/dev/null
sql -c "INSERT INTO access.events VALUES (now() - interval '25 hours', 'gate-1', gen_random_uuid(),
        now(), 'G', 1, 'i', 'zone-1')" >/dev/null
sql -c "INSERT INTO access.presence VALUES
        (1, 1, 1, 'zone-1', now() - interval '25 hours', now(), 'gate-1'),
        (2, 2, 1, 'zone-1', now() - interval '1 hour', now(), 'gate-1')" >/dev/null
runs() { sql -c "SELECT count(*) FROM audit.purge_runs WHERE ok = $1"; }
records() { sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = '$1'"; }
purge_waits_for_roll() {
    [ "$(sql -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE NOT l.granted AND l.relation = 'access.muster_roll'::regclass
                   AND a.application_name = 'sac-purge'")" = 1 ]
}
# hold_roll / release_roll: another session holds the muster roll exclusively.
hold_roll() {
    rm -f "$T_DIR/hold"; mkfifo "$T_DIR/hold"
    spawn sh -c 'exec psql -qXAt -v ON_ERROR_STOP=1 -f - <"$1" >/dev/null' sh "$T_DIR/hold"
    exec 7>"$T_DIR/hold"
    echo "BEGIN; LOCK TABLE access.muster_roll IN ACCESS EXCLUSIVE MODE; SELECT 1;" >&7
    wait_for 10 sh -c "[ \"\$(psql -qXAt -c \"SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' AND relation = 'access.muster_roll'::regclass\")\" = 1 ]"
}
release_roll() { echo "COMMIT;" >&7; exec 7>&-; }

# --- a pass in steps ------------------------------------------------------------------
# The muster step waits at most a second: give it longer here, so that the
# test can look at the database while the pass waits.
sql -c "ALTER FUNCTION sac.purge_muster(bigint) SET lock_timeout = '60s'" >/dev/null
runs0=$(runs true); rec0=$(records allowed)
check "another session holds the muster roll" hold_roll
spawn "$T_BIN/sac-purge" -c "$T_DIR/purge.conf" --once 2>"$T_DIR/purge.log"
purge_pid=$T_LAST_PID
check "the pass reaches the muster step and waits for the roll" wait_for 20 purge_waits_for_roll
check_eq "meanwhile the ledger step is committed: the old hour is gone" \
    "$(sql -c "SELECT to_regclass('access.events_' || to_char((now() - interval '25 hours') AT TIME ZONE 'UTC', 'YYYYMMDDHH24')) IS NULL")" t
check_eq "…and the hours ahead exist" \
    "$(sql -c "SELECT to_regclass('access.events_' || to_char((now() + interval '3 hours') AT TIME ZONE 'UTC', 'YYYYMMDDHH24')) IS NOT NULL")" t
check_eq "the presence step is committed: the expired read-in is counted and gone" \
    "$(sql -c "SELECT (SELECT sum(removed) FROM access.presence_expiries) || ' ' || (SELECT string_agg(badge_id::text, ',') FROM access.presence)")" "1 2"
check_eq "…and its work is in the pass's row already, before the pass ends" \
    "$(sql -c "SELECT ok IS NULL AND counts ? 'presence_ms' AND (counts->>'presence_expired')::int = 1 FROM audit.purge_runs ORDER BY id DESC LIMIT 1")" t
check "ingest writes the ledger while the pass waits (no lock of the pass is left on it)" \
    sql -c "SET lock_timeout = '5s'; INSERT INTO access.events VALUES (now(), 'gate-1', gen_random_uuid(), now(), 'G', 1, 'i', 'zone-1')"
check "…and presence" \
    sql -c "SET lock_timeout = '5s'; INSERT INTO access.presence VALUES (3, 3, 1, 'zone-1', now(), now(), 'gate-1')"
check_eq "no pass is recorded as done before its last step" "$(runs true)" "$runs0"
release_roll
wait "$purge_pid"; rc=$?
check_eq "the pass finishes once the roll is free, exit 0" "$rc" 0
check_eq "one purge_runs row for the pass" "$(runs true)" $((runs0 + 1))
check_eq "one audit record for the pass" "$(records allowed)" $((rec0 + 1))
counts=$(sql -c "SELECT counts FROM audit.purge_runs WHERE ok ORDER BY id DESC LIMIT 1")
check_match "with the counts of the ledger step" "$counts" '"partitions_dropped": 1[,}].*"events_removed": 1[,}]|"events_removed": 1[,}].*"partitions_dropped": 1[,}]'
check_match "…of the presence step" "$counts" '"presence_expired": 1[,}]'
check_match "…of the muster step" "$counts" '"muster_rows_removed": 0[,}]'
check_match "…and one cut-off" "$counts" '"cutoff": "[0-9-]{10}T[0-9:]{8}Z"'
check_eq "the pass's time runs from its first step to its record" \
    "$(sql -c "SELECT started_at < finished_at AND (counts->>'duration_ms')::numeric >= (counts->>'ledger_ms')::numeric + (counts->>'presence_ms')::numeric FROM audit.purge_runs WHERE ok ORDER BY id DESC LIMIT 1")" t
check_eq "rows written during the pass are kept" "$(sql -c "SELECT string_agg(badge_id::text, ',' ORDER BY badge_id) FROM access.presence")" "2,3"
check_match "the journal carries the audit chain's head after the pass" \
    "$(cat "$T_DIR/purge.log")" 'audit chain head: sac-anchor:[0-9]+:[0-9a-f]{64}'

# --- a step that cannot get its lock within a second fails the pass -------------------
sql -c "ALTER FUNCTION sac.purge_muster(bigint) SET lock_timeout = '1s'" >/dev/null
runs1=$(runs true); failed0=$(records failed)
check "the roll is held again" hold_roll
check_exit "a pass whose muster step cannot lock the roll fails, exit 1" 1 \
    "$T_BIN/sac-purge" -c "$T_DIR/purge.conf" --once
release_roll
check_eq "no successful pass is recorded" "$(runs true)" "$runs1"
check_eq "a failed pass is" "$(records failed)" $((failed0 + 1))
rec=$(sql -c "SELECT detail FROM audit.log WHERE action = 'purge_pass' AND outcome = 'failed' ORDER BY id DESC LIMIT 1")
check_match "naming the step" "$rec" '"step": "muster"'
check_match "…and the SQLSTATE" "$rec" '"sqlstate": "55P03"'

# --- the steps run only inside a pass the database began ------------------------------
pass=$(as_purger -c "SELECT pass FROM sac.purge_ledger()")
check_match "the purge role begins a pass: the database gives its id" "$pass" '^[0-9]+$'
check_match "no finish before every step ran" \
    "$(as_purger -c "SELECT sac.purge_finish($pass)")" '22023'
check_match "no step of a pass that does not exist" \
    "$(as_purger -c "SELECT sac.purge_presence(999999)")" '22023'
check_eq "the presence step rewrites one partition per call: 15 more to go" \
    "$(as_purger -c "SELECT sac.purge_presence($pass)")" t
calls=1
while [ "$(as_purger -c "SELECT sac.purge_presence($pass)")" = t ]; do calls=$((calls + 1)); done
check_eq "…16 calls in all" "$((calls + 1))" 16
check_match "…and no call more" "$(as_purger -c "SELECT sac.purge_presence($pass)")" '22023'
sql -c "UPDATE audit.purge_runs SET started_at = started_at - interval '2 minutes' WHERE id = $pass" >/dev/null
check_match "no step of a pass begun more than one interval ago" \
    "$(as_purger -c "SELECT sac.purge_muster($pass)")" '22023'
check "the next pass succeeds" "$T_BIN/sac-purge" -c "$T_DIR/purge.conf" --once
check_eq "…and records the abandoned one as failed, with what it did" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = 'failed'
               AND detail::jsonb ->> 'reason' = 'unfinished' AND detail::jsonb ? 'presence_ms'
               AND (detail::jsonb ->> 'presence_parts')::int = 16")" 1
check_eq "…its row is closed as failed" "$(sql -c "SELECT ok FROM audit.purge_runs WHERE id = $pass")" f
check_eq "the one-call pass still works" \
    "$(sql -c "SELECT (sac.purge_pass() ->> 'partitions_dropped') IS NOT NULL")" t
check_eq "the audit chain is intact" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t
done_testing
