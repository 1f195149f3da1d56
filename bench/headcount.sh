#!/usr/bin/env bash
# bench/headcount.sh — how fast an officer learns who is on the premises.
#
# Its own throwaway cluster: 120,000 persons with badges; 100,000 present at
# site hq and 5,000 at site annex; 10 M ledger events in 24 hourly
# partitions (generate_series, as the superuser); an open drill at each site.
# Medians of: the bare SQL functions sac.headcount / sac.muster_status
# (pgbench, one connection, so no connection set-up), the whole
# `sacctl headcount` / `sacctl muster status` command (process, connection,
# call, sort, format, write), and, for reference, a plain presence join.
# Targets (docs/perf/headcount.md): headcount <= 10 ms for 5,000 present,
# <= 150 ms for 100,000.
source "$(dirname "$0")/../tests/lib.sh"
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
EVENTS=${SAC_BENCH_EVENTS:-10000000}

pg_start "shared_buffers = 512MB
max_wal_size = 4GB
synchronous_commit = off
autovacuum = off" || exit 3
make_login cert1 sac_certifier
make_login off1 sac_officer

echo "# loading: 120,000 persons, 105,000 present, $EVENTS ledger events"
load_start=$(date +%s)
sql <<SQL >/dev/null || exit 3
INSERT INTO sac.sites (name) VALUES ('hq'), ('annex');
INSERT INTO sac.readers (id, site_id, direction, zone)
SELECT s.name || '-' || d || '-' || i, s.id, d, 'zone-' || i
FROM sac.sites s, unnest(ARRAY['in', 'out', 'muster']) d, generate_series(1, 4) i;
INSERT INTO sac.persons (name, category, org)
SELECT 'Person ' || md5(i::text), (ARRAY['staff', 'contractor', 'consultant', 'visitor', 'delegate'])[1 + i % 5], 'UN'
FROM generate_series(1, 120000) i;
-- Every 50th badge is a pool badge (unidentified).
INSERT INTO sac.badges (credential, person_id)
SELECT sha256(i::text::bytea), CASE WHEN i % 50 <> 0 THEN i END FROM generate_series(1, 120000) i;
-- Sites interleaved on disk, as arrivals would leave them.
INSERT INTO access.presence (badge_id, person_id, site_id, zone, since, last_seen, last_reader)
SELECT b.id, b.person_id, CASE WHEN b.id % 21 = 0 THEN 2 ELSE 1 END, 'zone-' || (1 + b.id % 4),
       now() - (b.id % 600) * interval '1 minute', now(), 'hq-in-1'
FROM sac.badges b WHERE b.id <= 105000;
SELECT access.ensure_partition(date_trunc('hour', now()) - h * interval '1 hour')
FROM generate_series(0, 23) h;
INSERT INTO access.events (occurred_at, reader_id, event_id, received_at, verdict, site_id, direction, zone)
SELECT t, 'hq-in-1', md5(i::text)::uuid, t, 'G', 1, 'i', 'zone-1'
FROM generate_series(1, $EVENTS) i,
     LATERAL (SELECT date_trunc('hour', now()) - interval '23 hours'
                     + (i::double precision / $EVENTS) * interval '23 hours' AS t) x;
VACUUM ANALYZE;
SQL
echo "# loaded in $(( $(date +%s) - load_start )) s; present per site: $(sql -c "SELECT string_agg(site_id || ':' || n, ' ') FROM (SELECT site_id, count(*) n FROM access.presence GROUP BY 1 ORDER BY 1) x"); events: $(sql -c "SELECT count(*) FROM access.events")"
sacctl_as cert1 officer certify off1 --site hq --expires "$(date -u -d "+300 days" +%Y-%m-%d)" >/dev/null || exit 3
sacctl_as cert1 officer certify off1 --site annex --expires "$(date -u -d "+300 days" +%Y-%m-%d)" >/dev/null || exit 3
sacctl_as off1 officer acknowledge --yes >/dev/null || exit 3
big=$(sacctl_as off1 emergency declare --site hq --kind drill --reason bench) || exit 3
small=$(sacctl_as off1 emergency declare --site annex --kind drill --reason bench) || exit 3

median() { sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[int((NR + 1) / 2)]}'; }

# sql_ms N SQL: median ms of N calls on one connection (pgbench).
sql_ms() {
    local d; d=$(mktemp -d "$T_DIR/pgb.XXXXXX"); chmod 777 "$d"
    printf '%s\n' "$2" >"$d/q.sql"
    (cd "$d" && "$PGBENCH" -n -t "$1" -f q.sql -l --log-prefix=l "$(conninfo "${3:-off1}")" >/dev/null 2>&1) || { echo "failed"; return; }
    cat "$d"/l.* | awk '{print $3 / 1000}' | median
}

# cmd_ms N ARGS...: median ms of N runs of sacctl as off1, output discarded;
# each run must exit with $WANT (default 0), or the figure is "failed".
cmd_ms() {
    local n=$1 i t0 t1 rc times=""; shift
    for i in $(seq 1 "$n"); do
        t0=$(date +%s%N)
        sacctl_as off1 "$@" >/dev/null 2>&1; rc=$?
        t1=$(date +%s%N)
        [ "$rc" = "${WANT:-0}" ] || { echo "failed"; return; }
        times+="$(( (t1 - t0) / 1000 ))"$'\n'
    done
    printf '%s' "$times" | awk '{print $1 / 1000}' | median
}

plain="SELECT pr.person_id, ps.name, ps.category, pr.zone, pr.since FROM access.presence pr
       LEFT JOIN sac.persons ps ON ps.id = pr.person_id WHERE pr.site_id = SITE"
printf '\n%-44s %12s %12s\n' "median ms (lower is better)" "5,000" "100,000"
row() { printf '%-44s %12s %12s\n' "$1" "$2" "$3"; }
# BENCH_HEADCOUNT_BIG=0 (bench/compare.sh): the 5,000 column only.
big() { if [ "${BENCH_HEADCOUNT_BIG:-1}" = 1 ]; then "$@"; else echo "-"; fi; }
row "plain presence join (reference, psql-style)" "$(sql_ms 30 "${plain/SITE/2};" postgres)" "$(big sql_ms 10 "${plain/SITE/1};" postgres)"
row "SELECT * FROM sac.headcount(site)" "$(sql_ms 30 "SELECT * FROM sac.headcount('annex');")" "$(big sql_ms 10 "SELECT * FROM sac.headcount('hq');")"
row "SELECT * FROM sac.muster_status(id)" "$(sql_ms 30 "SELECT * FROM sac.muster_status($small);")" "$(big sql_ms 10 "SELECT * FROM sac.muster_status($big);")"
row "sacctl headcount (text)" "$(cmd_ms 15 headcount --site annex)" "$(big cmd_ms 7 headcount --site hq)"
row "sacctl --format json headcount" "$(cmd_ms 15 --format json headcount --site annex)" "$(big cmd_ms 7 --format json headcount --site hq)"
row "sacctl muster status (text)" "$(cmd_ms 15 muster status --emergency "$small")" "$(big cmd_ms 7 muster status --emergency "$big")"
row "sacctl: a refused headcount (unknown site)" "$(WANT=1 cmd_ms 15 headcount --site nowhere)" "-"
echo
echo "# load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (figures are only comparable within one run)"
echo "# audit records written: $(sql -c "SELECT count(*) FROM audit.log"); chain: $(sql -c "SELECT coalesce(audit.first_broken_row()::text, 'intact')")"
