#!/usr/bin/env bash
# bench/purge.sh — how long a purge pass takes and what it costs ingest.
#
#   1. 24 hourly partitions holding BENCH_EVENTS (default 10,000,000) ledger
#      events and a presence table of 5,000 present of 50,000 badges: one
#      pass that drops the expired hour.
#   2. Steady state: a durable ingest of 1,000 events/s (pgbench, one
#      transaction per event: the ledger insert plus the presence upsert or,
#      for a read-out, delete; 1 in 10 events of random badges is a read-in,
#      which keeps about 5,000 of 50,000 present) with a pass every second;
#      median pass time.
#   3. Ingest latency p99 of the transactions that overlapped a pass vs.
#      those that did not.
#   4. Backlog: the purge was down for a day: BENCH_EVENTS events, all past
#      the limit, and 40 % of them completed cycles whose presence rows were
#      deleted (dead tuples); one pass erases it all.
#
# Targets: steady pass <= 100 ms; p99 during a pass <= 2x idle; backlog
# erased <= 10 s.  Prints a report; figures from one run on this machine.
set -u
source "$(dirname "$0")/../tests/lib.sh"
export SAC_BIN=${SAC_BIN:-$T_REPO/build/bin}
T_BIN=$SAC_BIN
export PATH="$T_BIN:$PATH"
events=${BENCH_EVENTS:-10000000}
steady_s=${BENCH_STEADY_SECONDS:-30}

pg_start "shared_buffers = 512MB
max_wal_size = 4GB
checkpoint_timeout = 5min
autovacuum = off" || exit 1
make_login purger sac_purge
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"

ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else print a[int((NR + 1) / 2)]}'; }

# fill_ledger FIRST_HOURS_AGO: 24 hourly partitions from FIRST_HOURS_AGO back,
# BENCH_EVENTS rows spread evenly.
fill_ledger() {
    local from=$1
    sql -c "SELECT access.ensure_partition(now() - make_interval(hours => h)) FROM generate_series($from, $from + 23) h" >/dev/null
    sql -c "INSERT INTO access.events
            SELECT date_trunc('hour', now()) - make_interval(hours => $from + 23)
                   + (g::float8 / $events) * interval '24 hours' - interval '1 second',
                   'gate-' || (g % 40), gen_random_uuid(), now(), 'G', 1,
                   CASE WHEN g % 2 = 0 THEN 'i' ELSE 'o' END, 'zone-' || (g % 12)
            FROM generate_series(1, $events) g
            WHERE date_trunc('hour', now()) - make_interval(hours => $from + 23)
                   + (g::float8 / $events) * interval '24 hours' - interval '1 second'
                  >= date_trunc('hour', now() - make_interval(hours => $from + 23))" >/dev/null
}

echo "# purge benchmark: $events ledger events, $(nproc) cores"

# --- 1. one pass over a full day --------------------------------------------------
# Hours 1..24 ago: the oldest is due, as it is once an hour in production.
t0=$(ms); fill_ledger 1; t1=$(ms)
sql -c "INSERT INTO access.presence
        SELECT b, b, 1, 'zone-' || (b % 12), now() - (b % 600) * interval '1 minute', now(), 'gate-1'
        FROM generate_series(1, 5000) b" >/dev/null
sql -c "VACUUM ANALYZE access.events" >/dev/null; sql -c "CHECKPOINT" >/dev/null
echo "setup: $(sql -c "SELECT count(*) FROM access.events") events in $(sql -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'access.events'::regclass") partitions, loaded in $(( (t1 - t0) / 1000 )) s"
t0=$(ms); sac-purge -c "$T_DIR/purge.conf" --once 2>/dev/null; t1=$(ms)
echo "full-day pass: $((t1 - t0)) ms wall (incl. connect), $(sql -c "SELECT counts->>'duration_ms' FROM audit.purge_runs ORDER BY id DESC LIMIT 1") ms in the database, dropped $(sql -c "SELECT counts->>'partitions_dropped' FROM audit.purge_runs ORDER BY id DESC LIMIT 1") partition(s) / $(sql -c "SELECT counts->>'events_removed' FROM audit.purge_runs ORDER BY id DESC LIMIT 1") events"

# --- 2 and 3. steady state at 1,000 events/s ------------------------------------------
cat >"$T_DIR/ingest.sql" <<'SQL'
\set badge random(1, 50000)
\set in random(0, 9)
BEGIN;
INSERT INTO access.events VALUES (now(), 'gate-1', gen_random_uuid(), now(), 'G', 1, 'i', 'zone-1');
\if :in = 0
INSERT INTO access.presence VALUES (:badge, :badge, 1, 'zone-1', now(), now(), 'gate-1')
    ON CONFLICT (badge_id) DO UPDATE SET last_seen = excluded.last_seen, last_reader = excluded.last_reader;
\else
DELETE FROM access.presence WHERE badge_id = :badge;
\endif
END;
SQL
run_ingest() { # run_ingest SECONDS LOGPREFIX
    (cd "$T_DIR" && pgbench -n -c 2 -j 1 -R 1000 -T "$1" -f ingest.sql -l --log-prefix="$2" sac >"$2.out" 2>&1)
}
# Idle: ingest alone.
run_ingest "$steady_s" idle
# With a pass every second.
first_run=$(sql -c "SELECT coalesce(max(id), 0) FROM audit.purge_runs")
# A pass every second: the shortest interval the database accepts is 10 s,
# so the passes are asked for one at a time ("a pass now").
spawn sh -c 'while :; do sac-purge -c "$1" --once 2>/dev/null; sleep 1; done' sh "$T_DIR/purge.conf"
purge_pid=$T_LAST_PID
run_ingest "$steady_s" busy
kill -TERM "$purge_pid"; wait "$purge_pid" 2>/dev/null; sleep 1
sql -c "SELECT (extract(epoch FROM started_at) * 1e6)::bigint, (extract(epoch FROM finished_at) * 1e6)::bigint,
               counts->>'duration_ms'
        FROM audit.purge_runs WHERE id > $first_run AND ok" | tr '|' ' ' >"$T_DIR/passes.txt"
steady=$(awk '{print $3}' "$T_DIR/passes.txt" | median)
echo "steady state: $(wc -l <"$T_DIR/passes.txt") passes at 1 s intervals under 1,000 events/s, median $steady ms in the database (max $(awk '{print $3}' "$T_DIR/passes.txt" | sort -n | tail -1) ms)"

# pgbench log: client tx time_us script epoch_s epoch_us lag_us; with -R,
# time_us counts from the scheduled start: subtract the lag to get the
# transaction's own latency.
p99() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) {print "n/a"; exit} i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", a[i] / 1000}'; }
cat "$T_DIR"/idle.[0-9]* 2>/dev/null | awk 'NF >= 7 {print $3 - $7}' >"$T_DIR/idle.lat"
cat "$T_DIR"/busy.[0-9]* 2>/dev/null | awk 'NF >= 7 {printf "%.0f %d\n", $5 * 1000000 + $6, $3 - $7}' >"$T_DIR/busy.lat"
# A transaction overlapped a pass if its [end - latency, end] meets [start, finish].
awk 'NR == FNR {s[NR] = $1; f[NR] = $2; n = NR; next}
     {end = $1; beg = $1 - $2; hit = 0
      for (i = 1; i <= n; i++) if (beg <= f[i] && end >= s[i]) {hit = 1; break}
      print hit, $2}' "$T_DIR/passes.txt" "$T_DIR/busy.lat" >"$T_DIR/busy.tagged"
idle_p99=$(p99 <"$T_DIR/idle.lat")
during_p99=$(awk '$1 == 1 {print $2}' "$T_DIR/busy.tagged" | p99)
outside_p99=$(awk '$1 == 0 {print $2}' "$T_DIR/busy.tagged" | p99)
echo "ingest p99: idle $idle_p99 ms ($(wc -l <"$T_DIR/idle.lat") tx); during a pass $during_p99 ms ($(awk '$1 == 1' "$T_DIR/busy.tagged" | wc -l) tx); between passes $outside_p99 ms"
echo "ingest rate achieved: idle $(grep -o 'tps = [0-9.]*' "$T_DIR/idle.out" | head -1), busy $(grep -o 'tps = [0-9.]*' "$T_DIR/busy.out" | head -1)"

# --- 4. backlog -----------------------------------------------------------------------
sql -c "TRUNCATE access.events, access.presence" >/dev/null
for p in $(sql -c "SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'access.events'::regclass"); do
    sql -c "DROP TABLE $p" >/dev/null
done
t0=$(ms); fill_ledger 25; t1=$(ms)
completed=$((events * 4 / 10 / 2))
sql -c "INSERT INTO access.presence
        SELECT b, b, 1, 'zone-' || (b % 12), now() - interval '2 hours', now(), 'gate-1'
        FROM generate_series(1, $completed + 5000) b;
        DELETE FROM access.presence WHERE badge_id > 5000" >/dev/null
sql -c "CHECKPOINT" >/dev/null
echo "backlog: $(sql -c "SELECT count(*) FROM access.events") events past the limit, $completed completed cycles as dead presence rows, loaded in $(( (t1 - t0) / 1000 )) s"
# The presence table is 16 partitions: its size is theirs.
presence_size() { sql -c "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'access.presence'::regclass"; }
before=$(presence_size)
t0=$(ms); sac-purge -c "$T_DIR/purge.conf" --once 2>/dev/null; t1=$(ms)
echo "backlog pass: $((t1 - t0)) ms wall, $(sql -c "SELECT counts->>'duration_ms' FROM audit.purge_runs ORDER BY id DESC LIMIT 1") ms in the database; dropped $(sql -c "SELECT counts->>'partitions_dropped' FROM audit.purge_runs ORDER BY id DESC LIMIT 1") partitions; presence $before -> $(presence_size), $(sql -c "SELECT count(*) FROM access.presence") rows kept"
