#!/usr/bin/env bash
# sac-purge erases access data for real: a completed cycle, an expired
# presence, an old muster roll and an old ledger hour are gone from every
# table and index file of schema access after one pass (and are found there
# before it, so the check can fail); open cycles and recent hours stay;
# partitions are dropped and created ahead; the pass is audited with counts
# only; no column of an access table keeps planner statistics.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
cat >"$T_DIR/purge.conf" <<CONF
[purge]
database       = $(conninfo purger)
CONF

# Every file of every relation in schema access: tables, partitions, indexes,
# TOAST tables and their indexes (all forks and segments).
access_files() {
    sql -c "
        WITH rels AS (
            SELECT c.oid, c.reltoastrelid FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'access' AND c.relkind IN ('r', 'i', 't', 'm')
        ), all_rels AS (
            SELECT oid FROM rels
            UNION SELECT reltoastrelid FROM rels WHERE reltoastrelid <> 0
            UNION SELECT i.indexrelid FROM pg_index i JOIN rels r ON i.indrelid = r.reltoastrelid
        )
        SELECT pg_relation_filepath(oid) FROM all_rels WHERE pg_relation_filepath(oid) IS NOT NULL"
}
# files_containing TEXT LISTFILE: the files (all forks/segments) holding TEXT.
files_containing() {
    local text=$1 list=$2 rel f
    while read -r rel; do
        for f in "$T_DIR/pg/$rel" "$T_DIR/pg/$rel".* "$T_DIR/pg/$rel"_*; do
            [ -f "$f" ] && grep -aqF -- "$text" "$f" && echo "$rel"
        done
    done <"$list" | sort -u
}

# --- data, written directly with the times we need ----------------------------
# Each group of rows stays inside its own hour: only those two partitions exist.
sql -c "SELECT access.ensure_partition(now() - interval '30 hours'),
               access.ensure_partition(now())" >/dev/null
sql -c "INSERT INTO access.events
        SELECT date_trunc('hour', now() - interval '30 hours') + g * interval '1 second', 'gate-1',
               gen_random_uuid(),
               now() - interval '30 hours', 'G', 1, 'i', 'ERASE-ME-4711'
        FROM generate_series(1, 50) g;
        INSERT INTO access.events
        SELECT greatest(now() - interval '5 minutes', date_trunc('hour', now())), 'gate-1',
               gen_random_uuid(), now(), 'G', 1, 'i',
               'KEEP-ME-0815'
        FROM generate_series(1, 5) g" >/dev/null
# Badge 1: an open cycle (stays).  Badge 2: a completed cycle (the read-out
# deleted its row).  Badge 3: read in 25 h ago, never out (expires).
# Badge 4: present, its zone updated (the old row version must go too).
sql -c "INSERT INTO access.presence VALUES
          (1, 101, 1, 'KEEP-ME-0815',  now() - interval '1 hour',   now(), 'gate-1'),
          (2, 102, 1, 'ERASE-ME-4711', now() - interval '2 hours',  now(), 'gate-1'),
          (3, 103, 1, 'ERASE-ME-4711', now() - interval '25 hours', now(), 'gate-1'),
          (4, 104, 1, 'ERASE-ME-4711', now() - interval '3 hours',  now(), 'gate-1');
        DELETE FROM access.presence WHERE badge_id = 2;
        UPDATE access.presence SET zone = 'KEEP-ME-0815' WHERE badge_id = 4;
        INSERT INTO access.muster_roll (emergency_id, badge_id, person_id, zone, created_at) VALUES
          (7, 1, 101, 'ERASE-ME-4711', now() - interval '25 hours'),
          (8, 1, 101, 'KEEP-ME-0815',  now() - interval '10 minutes');
        INSERT INTO access.presence_expiries (site_id, removed_at, removed)
          VALUES (1, now() - interval '25 hours', 3)" >/dev/null

old_part=$(sql -c "SELECT 'access.events_' || to_char((now() - interval '30 hours') AT TIME ZONE 'UTC', 'YYYYMMDDHH24')")
parts_before=$(sql -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'access.events'::regclass")
check_eq "two ledger partitions before the pass" "$parts_before" 2

sql -c "CHECKPOINT"
access_files >"$T_DIR/files.before"
# The heap files that held rows: the presence partitions in use and the roll.
sql -c "SELECT pg_relation_filepath(c.oid) FROM pg_class c
        WHERE (c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'access.presence'::regclass)
               OR c.oid = 'access.muster_roll'::regclass)
          AND pg_relation_size(c.oid) > 0" >"$T_DIR/rewritten.before"
check "rows were in presence partitions and the roll" test "$(wc -l <"$T_DIR/rewritten.before")" -ge 3
found=$(files_containing ERASE-ME-4711 "$T_DIR/files.before")
check_match "before the pass the erased value is in the presence file" "$found" "."
check "before the pass it is in $(echo "$found" | wc -l) files (ledger, presence, roll)" \
    test "$(echo "$found" | wc -l)" -ge 3

audit_before=$(sql -c "SELECT count(*) FROM audit.log")
check_exit "sac-purge --once succeeds" 0 sac-purge -c "$T_DIR/purge.conf" --once

# --- what the database says -------------------------------------------------------
check_eq "the open cycle stays" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = 1")" 1
check_eq "the updated presence stays" "$(sql -c "SELECT zone FROM access.presence WHERE badge_id = 4")" KEEP-ME-0815
check_eq "the expired presence is gone" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = 3")" 0
check_eq "the expired presence is counted for its site" \
    "$(sql -c "SELECT removed FROM access.presence_expiries WHERE removed_at > now() - interval '1 hour'")" 1
check_eq "old expiry counts are removed" \
    "$(sql -c "SELECT count(*) FROM access.presence_expiries WHERE removed_at < now() - interval '24 hours'")" 0
check_eq "the old muster roll is gone, the recent one stays" \
    "$(sql -c "SELECT string_agg(emergency_id::text, ',') FROM access.muster_roll")" 8
check_eq "the old ledger hour is dropped" "$(sql -c "SELECT to_regclass('$old_part') IS NULL")" t
check_eq "recent ledger rows stay" \
    "$(sql -c "SELECT count(*) FROM access.events WHERE zone = 'KEEP-ME-0815'")" 5
check_eq "the current hour and three ahead exist" \
    "$(sql -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'access.events'::regclass")" 4
check_eq "no ledger row older than the limit" \
    "$(sql -c "SELECT count(*) FROM access.events WHERE occurred_at < now() - interval '24 hours'")" 0

# --- the audit record ---------------------------------------------------------------
check_eq "one audit record for the pass" "$(sql -c "SELECT count(*) FROM audit.log")" $((audit_before + 1))
rec=$(sql -c "SELECT role || ' ' || action || ' ' || outcome || ' ' || detail FROM audit.log ORDER BY id DESC LIMIT 1")
check_match "audited as an allowed purge_pass by the purge role" "$rec" '^purger purge_pass allowed '
check_match "with partitions dropped" "$rec" '"partitions_dropped": 1'
check_match "with ledger rows removed" "$rec" '"events_removed": 50'
check_match "with presences expired" "$rec" '"presence_expired": 1'
check_match "with muster rows removed" "$rec" '"muster_rows_removed": 1'
check_match "with the cut-off" "$rec" '"cutoff": "[0-9-]{10}T[0-9:]{8}Z"'
check_match "with the duration" "$rec" '"duration_ms": [0-9.]+'
check_no_match "without zones or other row content" "$rec" 'ERASE-ME|KEEP-ME|gate-1'
check_eq "the run is kept in audit.purge_runs" \
    "$(sql -c "SELECT count(*) FROM audit.purge_runs WHERE ok AND access_max_age = '24 hours'")" 1

# --- the physical check ---------------------------------------------------------------
sql -c "CHECKPOINT"
access_files >"$T_DIR/files.after"
cat "$T_DIR/files.before" "$T_DIR/files.after" | sort -u >"$T_DIR/files.all"
found=$(files_containing ERASE-ME-4711 "$T_DIR/files.all")
check_eq "the erased value is in no file of schema access (old or new)" "$found" ""
kept=$(files_containing KEEP-ME-0815 "$T_DIR/files.after")
check_match "while kept values are still found by the same check" "$kept" "."
check_no_match "presence and the roll were rewritten (new files)" "$(cat "$T_DIR/files.after")" \
    "^($(paste -sd'|' "$T_DIR/rewritten.before"))\$"

# --- statistics -----------------------------------------------------------------------
sql -c "ANALYZE access.presence; ANALYZE access.muster_roll; ANALYZE access.events"
check_eq "ANALYZE ran (it counted the rows)" \
    "$(sql -c "SELECT reltuples > 0 FROM pg_class WHERE oid = 'access.presence'::regclass")" t
check_eq "no statistics of any column of an access table" \
    "$(sql -c "SELECT count(*) FROM pg_statistic s JOIN pg_class c ON c.oid = s.starelid
               WHERE c.relnamespace = 'access'::regnamespace")" 0

# --- a second pass finds nothing to remove and is audited again ---------------------------
check_exit "a second pass succeeds" 0 sac-purge -c "$T_DIR/purge.conf" --once
check_match "and records zero removals" \
    "$(sql -c "SELECT detail FROM audit.log ORDER BY id DESC LIMIT 1")" '"partitions_dropped": 0'
check_eq "the audit chain is intact" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t

done_testing
