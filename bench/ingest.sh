#!/usr/bin/env bash
# bench/ingest.sh — sac-controller end to end: its own PostgreSQL cluster,
# the controller (build/bin), and the C client build/bench/ingest over real
# TLS 1.3.  Prints:
#   * tap-to-ACK latency p50/p99 at a fixed offered load (1,000 events/s),
#   * events/s at saturation (durable: ACK after COMMIT, presence kept),
#   * raw COPY rows/s into an equivalent table in the same cluster, and the
#     ratio controller / COPY,
#   * the controller's RSS idle, with 2,000 and with 10,000 idle connections.
# Every event is a GRANT at an "in" reader, so each one also upserts
# access.presence.  Runs take a few minutes; figures vary with the load of
# the machine: compare the ratios.
set -u
cd "$(dirname "$0")/.."
export SAC_BIN=${SAC_BIN:-$PWD/build/bin}
source tests/lib.sh
CTL_BENCH=${SAC_BENCH_BIN:-$PWD/build/bench/ingest}
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_SECONDS:-10}
# BENCH_PARTS: which measurements (bench/compare.sh runs "fixed sat").
PARTS=" ${BENCH_PARTS:-fixed sat copy idle} "
part() { [[ $PARTS == *" $1 "* ]]; }

[ -x "$SAC_BIN/sac-controller" ] && [ -x "$CTL_BENCH" ] || { echo "build first: make all"; exit 2; }

pg_start "shared_buffers = 512MB
max_wal_size = 8GB
checkpoint_timeout = 30min
max_connections = 50" || exit 3
certs_make
cert_issue reader-ca bench-in bench-in
make_login ctl_login sac_ingest
sql >/dev/null <<'SQL' || exit 3
INSERT INTO sac.sites (name) VALUES ('bench');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES ('bench-in', 1, 'in', 'lobby');
INSERT INTO sac.persons (name, category) SELECT 'person ' || i, 'staff' FROM generate_series(1, 20000) i;
INSERT INTO sac.badges (credential, person_id) SELECT sha256(('badge' || i)::bytea), i FROM generate_series(1, 20000) i;
CREATE TABLE public.copy_events (LIKE access.events INCLUDING ALL);
SQL
sql -c "SELECT encode(credential, 'hex') FROM sac.badges" >"$T_DIR/creds"
CTL_PORT=$(free_port)
ctl_write_config
ctl_start || { cat "$T_DIR/controller.log"; exit 3; }

client() { # MODE ARGS...
    local mode=$1; shift
    "$CTL_BENCH" "$mode" -s "127.0.0.1:$CTL_PORT" --cert "$T_DIR/pki/bench-in.crt" \
        --key "$T_DIR/pki/bench-in.key" --ca "$T_DIR/pki/controller-ca.crt" --reader bench-in \
        --creds "$T_DIR/creds" "$@"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i+1)}'; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$CTL_PID/status"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, PostgreSQL $(sql -c 'SHOW server_version'), synchronous_commit=$(sql -c 'SHOW synchronous_commit')"
echo "runs: $RUNS x ${DURATION}s each; medians"

client load --conns 20 --rate 1000 --duration 3 --window 64 >/dev/null 2>&1 # warm-up

: >"$T_DIR/fixed"; : >"$T_DIR/sat"; : >"$T_DIR/copy"
for run in $(seq 1 "$RUNS"); do
    if part fixed; then
        client load --conns 50 --rate 1000 --duration "$DURATION" --window 64 2>/dev/null | grep '^sent' >>"$T_DIR/fixed"
    fi
    if part sat; then
        client load --conns 50 --rate 0 --duration "$DURATION" --window 128 2>/dev/null | grep '^sent' >>"$T_DIR/sat"
    fi
    part copy || continue
    rows=500000
    sql -c "TRUNCATE public.copy_events"
    sql -c "COPY (SELECT now() - (i % 3000) * interval '1 second', 'bench-in', md5(i::text || random()::text)::uuid, now(), 'G', 1, 'i', 'lobby' FROM generate_series(1, $rows) i) TO STDOUT" >"$T_DIR/copy.txt"
    t0=$(date +%s%N)
    sql -c "COPY public.copy_events FROM STDIN" <"$T_DIR/copy.txt"
    t1=$(date +%s%N)
    echo "$rows $(( (t1 - t0) / 1000 ))" | awk '{printf "%.0f\n", $1 / ($2 / 1e6)}' >>"$T_DIR/copy"
done
fixed_p50=$(field p50_ms <"$T_DIR/fixed" | median)
fixed_p99=$(field p99_ms <"$T_DIR/fixed" | median)
fixed_rate=$(field events_per_s <"$T_DIR/fixed" | median)
sat_rate=$(field events_per_s <"$T_DIR/sat" | median)
sat_p50=$(field p50_ms <"$T_DIR/sat" | median)
sat_p99=$(field p99_ms <"$T_DIR/sat" | median)
copy_rate=$(median <"$T_DIR/copy")
part fixed && echo "fixed load 1000/s, 50 connections: achieved ${fixed_rate} events/s, tap-to-ACK p50 ${fixed_p50} ms, p99 ${fixed_p99} ms"
part sat && echo "saturation, 50 connections x window 128: ${sat_rate} events/s (p50 ${sat_p50} ms, p99 ${sat_p99} ms)"
if part copy; then
    echo "raw COPY text, 500k rows, same columns and primary key: ${copy_rate} rows/s"
    echo "ratio controller / COPY: $(awk -v a="$sat_rate" -v b="$copy_rate" 'BEGIN {printf "%.2f", a / b}')"
    echo "per-run: fixed=[$(field p99_ms <"$T_DIR/fixed" | paste -sd' ')] p99 ms; saturation=[$(field events_per_s <"$T_DIR/sat" | paste -sd' ')] ev/s; copy=[$(paste -sd' ' "$T_DIR/copy")] rows/s"
    sql -c "SELECT 'presence rows: ' || count(*) FROM access.presence"
fi

part idle || exit 0
echo "controller RSS, no connections: $(rss_mib) MiB"
for n in 2000 10000; do
    client idle --conns "$n" --duration 600 >"$T_DIR/idle.$n" 2>"$T_DIR/idle.$n.err" &
    IDLE=$!; T_PIDS+=("$IDLE")
    if wait_for 300 grep -q '^connected' "$T_DIR/idle.$n"; then
        sleep 2
        echo "controller RSS with $(grep '^connected' "$T_DIR/idle.$n" | field connected) idle connections (of $n): $(rss_mib) MiB"
    else
        echo "idle $n: not all connections came up ($(sort -u "$T_DIR/idle.$n.err" | head -3))"
    fi
    # client() runs in a background subshell: stop its child, then it.
    pkill -TERM -P "$IDLE" 2>/dev/null; kill "$IDLE" 2>/dev/null; wait "$IDLE" 2>/dev/null
    sleep 2
done
