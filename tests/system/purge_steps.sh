#!/usr/bin/env bash
# sac-purge runs a pass as separate short transactions: while one step waits
# for its lock (here the muster roll, held by another session), the steps
# before it are committed and ingest can write the ledger and presence; the
# pass still ends in one purge_runs row and one audit record with the counts
# of every step.  A step that fails makes the pass a failed pass, audited
# with the step's name.  The steps refuse a stale pass start and a finish
# without the step counts.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
printf '[purge]\ndatabase = %s\ninterval = 60s\naccess_max_age = 24h\n' "$(conninfo purger)" \
    >"$T_DIR/purge.conf"
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
check "ingest writes the ledger while the pass waits (no lock of the pass is left on it)" \
    sql -c "SET lock_timeout = '5s'; INSERT INTO access.events VALUES (now(), 'gate-1', gen_random_uuid(), now(), 'G', 1, 'i', 'zone-1')"
check "…and presence" \
    sql -c "SET lock_timeout = '5s'; INSERT INTO access.presence VALUES (3, 3, 1, 'zone-1', now(), now(), 'gate-1')"
check_eq "no pass is recorded before its last step" "$(runs true)" "$runs0"
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

# --- a failing step fails the pass ----------------------------------------------------
sql -c "ALTER FUNCTION sac.purge_muster(interval, interval, timestamptz) SET lock_timeout = '1s'" >/dev/null
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

# --- the steps check what they are given --------------------------------------------
check_match "a pass start older than one interval is refused" \
    "$(as_purger -c "SELECT sac.purge_presence('24 hours', '60 seconds', now() - interval '2 minutes')")" '22023'
check_match "a pass start in the future is refused" \
    "$(as_purger -c "SELECT sac.purge_muster('24 hours', '60 seconds', now() + interval '1 minute')")" '22023'
check_match "a finish without the step counts is refused" \
    "$(as_purger -c "SELECT sac.purge_finish('24 hours', '60 seconds', now(), '{}', '{}', '{}')")" '22023'
check_match "a negative count is refused" \
    "$(as_purger -c "SELECT sac.purge_finish('24 hours', '60 seconds', now(),
        '{\"partitions_created\": 0, \"partitions_dropped\": 0, \"events_removed\": -5, \"expiry_rows_removed\": 0, \"ledger_ms\": 1}',
        '{\"presence_expired\": 0, \"presence_rewritten\": 0, \"presence_changes\": 0, \"presence_ms\": 1}',
        '{\"muster_rows_removed\": 0, \"muster_rewritten\": 0, \"muster_ms\": 1}')")" '22023'
check_eq "the one-call pass still works" \
    "$(sql -c "SELECT (sac.purge_pass('24 hours', '60 seconds') ->> 'partitions_dropped') IS NOT NULL")" t
check_eq "the audit chain is intact" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t
done_testing
