#!/usr/bin/env bash
# bench/reader.sh — sac-reader latency, run by `make bench`: a throwaway
# PostgreSQL, the real controller, pn532-sim and the reader over mutual TLS;
# BENCH_READER_TAPS presentations (default 300) of an enrolled badge, each
# timed from the `present` control line to "event created" (spooled and
# fdatasync'd) and to the ACK; then the spool's append+fdatasync rate.
# Targets: presented -> event <= 150 ms; presented -> ACK p99 <= 200 ms.
set -u
source "$(dirname "$0")/../tests/lib.sh"
export SAC_BIN=${SAC_BIN:-$T_REPO/build/bin}

pg_start >/dev/null || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
enroll_setup hq gate-1 >/dev/null || exit 1
uid=04$(openssl rand -hex 6)
enroll "Bench Person" "$uid" >/dev/null || exit 1
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
sim_start gate-1 || exit 1
reader_conf gate-1 "127.0.0.1:$port"
echo "filesystem of the spool: $(df -T "$T_DIR" | awk 'NR==2{print $2}')"
"$T_REPO/build/bench/reader" --control "$T_DIR/gate-1.ctl" --uid "$uid" \
    --count "${BENCH_READER_TAPS:-300}" --spool-dir "$T_DIR/spool" -- \
    "$SAC_BIN/sac-reader" -c "$T_DIR/gate-1.conf"
