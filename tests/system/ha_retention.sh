#!/usr/bin/env bash
# Retention holds on every copy of the database.
#  1. A purge pass on the primary erases physically on the standby too: the
#     same byte search as purge_erasure, over the standby's own relation
#     files after the pass and a CHECKPOINT (restartpoint) there; and once
#     the WAL kept for standbys (wal_keep_size, max_slot_wal_keep_size) has
#     moved past it, the value is in no WAL file of either node.
#  2. Access data erased on the new primary after a failover does not come
#     back with the old primary: rejoined (really rewound by pg_rewind: it
#     holds rows the standby never received) as the standby, none of its
#     relation files holds the erased bytes nor its own unreplicated ones,
#     and `audit verify` is compliant on the new primary.
# Each search first finds the value where it must be, so the check can fail.
source "$(dirname "$0")/../lib.sh"
source "$T_REPO/tests/ha_lib.sh"

check "formation: monitor, primary node1, synchronous standby node2" ha_start
ha_setup_done
make_login purger sac_purge
make_login aud1 sac_auditor
cat >"$T_DIR/purge-once.conf" <<CONF
[purge]
database       = $(conninfo purger)
CONF

# access_files N: every file of every relation in schema access on node N
# (tables, partitions, indexes, TOAST), as paths under its data directory.
access_files() {
    ha_sql "$1" -c "
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
# files_containing TEXT N LISTFILE: the relation files (all forks and
# segments) of node N listed in LISTFILE that hold TEXT.
files_containing() {
    local text=$1 dir="$T_DIR/node$2" rel f
    while read -r rel; do
        for f in "$dir/$rel" "$dir/$rel".* "$dir/$rel"_*; do
            [ -f "$f" ] && grep -aqF -- "$text" "$f" && echo "$rel"
        done
    done <"$3" | sort -u
}
# replayed P S: node S has replayed everything node P has written so far.
replay_reached() { [ "$(ha_sql "$1" -c "SELECT pg_last_wal_replay_lsn() >= '$2'")" = t ]; }
replayed() {
    local lsn; lsn=$(ha_sql "$1" -c "SELECT pg_current_wal_lsn()")
    wait_for 30 replay_reached "$2" "$lsn"
}
# restartpoint P S: a checkpoint on primary P, replayed and made a
# restartpoint on standby S (which then writes its buffers to its files).
restartpoint() {
    ha_sql "$1" -c "CHECKPOINT" && replayed "$1" "$2" && ha_sql "$2" -c "CHECKPOINT"
}
# access_data MARK: 50 ledger rows 30 h old, a presence 25 h old and a
# completed cycle (its row deleted), all carrying MARK; and recent rows
# carrying KEEP-ME-0815, which must stay.
access_data() {
    sql >/dev/null <<SQL
SELECT access.ensure_partition(now() - interval '30 hours'), access.ensure_partition(now()),
       access.ensure_partition(now() - interval '5 minutes');
INSERT INTO access.events
    SELECT now() - interval '30 hours' + g * interval '1 second', 'gate-1', gen_random_uuid(),
           now() - interval '30 hours', 'G', 1, 'i', '$1'
    FROM generate_series(1, 50) g;
INSERT INTO access.events
    SELECT now() - interval '5 minutes', 'gate-1', gen_random_uuid(), now(), 'G', 1, 'i', 'KEEP-ME-0815'
    FROM generate_series(1, 5) g
    ON CONFLICT DO NOTHING;
DELETE FROM access.presence;
INSERT INTO access.presence VALUES
    (1, 101, 1, 'KEEP-ME-0815', now() - interval '1 hour',   now(), 'gate-1'),
    (2, 102, 1, '$1',           now() - interval '2 hours',  now(), 'gate-1'),
    (3, 103, 1, '$1',           now() - interval '25 hours', now(), 'gate-1');
DELETE FROM access.presence WHERE badge_id = 2;
SQL
}
# wal_holds TEXT N: the WAL files of node N that hold TEXT.
wal_holds() { grep -laF -- "$1" "$T_DIR/node$2"/pg_wal/0* 2>/dev/null; }

# --- 1. the standby erases with the primary ------------------------------------------
check_eq "WAL kept for standbys is bounded: wal_keep_size, max_slot_wal_keep_size (node1)" \
    "$(ha_sql 1 -c "SELECT current_setting('wal_keep_size') || ' ' || current_setting('max_slot_wal_keep_size')")" "64MB 128MB"
check_eq "... the same on the standby (its copy of the configuration)" \
    "$(ha_sql 2 -c "SELECT current_setting('wal_keep_size') || ' ' || current_setting('max_slot_wal_keep_size')")" "64MB 128MB"
access_data ERASE-ME-4711
check "checkpoint on node1, restartpoint on node2" restartpoint 1 2
access_files 2 >"$T_DIR/files.before"
found=$(files_containing ERASE-ME-4711 2 "$T_DIR/files.before")
check "before the pass the value is in the standby's files (ledger, presence): $(echo $found)" \
    test "$(echo "$found" | grep -c .)" -ge 2
check "... and in its WAL" test -n "$(wal_holds ERASE-ME-4711 2)"

check_exit "sac-purge --once on the primary (multi-host conninfo)" 0 sac-purge -c "$T_DIR/purge-once.conf" --once
check "checkpoint on node1, restartpoint on node2 after the pass" restartpoint 1 2
access_files 2 >"$T_DIR/files.after"
cat "$T_DIR/files.before" "$T_DIR/files.after" | sort -u >"$T_DIR/files.all"
check_eq "after the pass the value is in no relation file of the standby" \
    "$(files_containing ERASE-ME-4711 2 "$T_DIR/files.all")" ""
check_match "while the kept value is still found there by the same search" \
    "$(files_containing KEEP-ME-0815 2 "$T_DIR/files.after")" "."
check_eq "the standby answers no erased row" \
    "$(ha_sql 2 -c "SELECT count(*) FROM access.events WHERE zone = 'ERASE-ME-4711'")" 0

# WAL: once more than wal_keep_size and max_slot_wal_keep_size was written
# after it, a checkpoint removes the segments holding the value on the
# primary and a restartpoint on the standby (wal_recycle = off: removed, not
# renamed for reuse).  The standby keeps a slot for the other node too, which
# pg_autoctl advances only every few seconds: the slot limit is the bound.
for _ in $(seq 1 10); do
    sql -c "SELECT txid_current()" -c "SELECT pg_switch_wal()" >/dev/null
done
sql -c "CHECKPOINT" >/dev/null
check "checkpoint on node1, restartpoint on node2 after 160 MB of WAL" restartpoint 1 2
check_eq "the value is in no WAL file of the primary" "$(wal_holds ERASE-ME-4711 1)" ""
check_eq "... nor of the standby" "$(wal_holds ERASE-ME-4711 2)" ""
check_eq "no replication slot keeps more (every slot's WAL reserved or gone)" \
    "$(ha_sql 1 -c "SELECT count(*) FROM pg_replication_slots WHERE wal_status NOT IN ('reserved', 'lost')")" 0

# --- 2. the old primary comes back without what the new one erased -----------------------
# ERASE-ME-0042 reaches both nodes and is erased on the new primary after
# the failover.  ERASE-ME-0099 only ever exists on node1: written while
# node1's WAL sender is stopped, committed locally (never acknowledged, as
# an event whose COMMIT waited for the standby when the primary died), so
# node1 has WAL node2 never saw and must really be rewound.
access_data ERASE-ME-0042
check "checkpoint on node1, restartpoint on node2" restartpoint 1 2
sender=$(ha_sql 1 -c "SELECT pid FROM pg_stat_replication")
check_match "node1's WAL sender ($sender) stopped" "$(kill -STOP "$sender" 2>&1 && echo stopped)" '^stopped$'
ha_sql 1 >/dev/null <<'SQL'
SET synchronous_commit = local;
INSERT INTO access.events
    SELECT now() - interval '30 hours' + g * interval '1 second', 'gate-1', gen_random_uuid(),
           now() - interval '30 hours', 'G', 1, 'i', 'ERASE-ME-0099'
    FROM generate_series(1, 50) g;
CHECKPOINT;
SQL
access_files 1 >"$T_DIR/files1.before"
check_match "ERASE-ME-0042 is in node1's files before the failover" \
    "$(files_containing ERASE-ME-0042 1 "$T_DIR/files1.before")" "."
check_match "... and so is ERASE-ME-0099, which node2 never received" \
    "$(files_containing ERASE-ME-0099 1 "$T_DIR/files1.before")" "."
check "node1 killed (its stopped WAL sender with it)" ha_kill 1
check "node2 takes writes" wait_for 60 sql -c "SELECT 1"
check_eq "node2 never had ERASE-ME-0099" \
    "$(sql -c "SELECT count(*) FROM access.events WHERE zone = 'ERASE-ME-0099'")" 0
check_exit "sac-purge --once on the new primary" 0 sac-purge -c "$T_DIR/purge-once.conf" --once
check_eq "the new primary has no erased row" \
    "$(sql -c "SELECT count(*) FROM access.events WHERE zone = 'ERASE-ME-0042'")" 0
check "audit verify on the new primary: compliant" sacctl_as aud1 audit verify
ha_run 1
check "node1 rejoins as the standby" ha_wait_states "node1:secondary node2:primary" 90
check "node1 was rewound (pg_rewind ran, not 'no rewind required')" \
    grep -q 'pg_rewind: rewinding from last common checkpoint' "$T_DIR/node1.keeper.log"
check "checkpoint on node2, restartpoint on the rejoined node1" restartpoint 2 1
access_files 1 >"$T_DIR/files1.after"
cat "$T_DIR/files1.before" "$T_DIR/files1.after" | sort -u >"$T_DIR/files1.all"
check_eq "the rejoined node1 holds ERASE-ME-0042 in no relation file" \
    "$(files_containing ERASE-ME-0042 1 "$T_DIR/files1.all")" ""
check_eq "... nor ERASE-ME-0099, its own unacknowledged rows" \
    "$(files_containing ERASE-ME-0099 1 "$T_DIR/files1.all")" ""
check_match "while the kept value is still found there" \
    "$(files_containing KEEP-ME-0815 1 "$T_DIR/files1.after")" "."
check_eq "node1 answers no erased row" \
    "$(ha_sql 1 -c "SELECT count(*) FROM access.events WHERE zone LIKE 'ERASE-ME-%'")" 0
grep -E 'pg_rewind: (servers diverged|rewinding from)' "$T_DIR/node1.keeper.log" \
    | sed 's/^.*INFO */# /' | tail -n 3
done_testing
