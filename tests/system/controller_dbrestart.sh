#!/usr/bin/env bash
# sac-controller: PostgreSQL stopped and restarted under load.  No ACK while
# the database is away (readers keep their events), one log line per
# outage, and afterwards every event sent is stored exactly once and
# acknowledged.
source "$(dirname "$0")/../lib.sh"

check "controller starts" ctl_setup
echo "$CRED_A" >"$T_DIR/creds"; echo "$CRED_POOL" >>"$T_DIR/creds"; echo "$CRED_UNKNOWN" >>"$T_DIR/creds"

"$CTL_BENCH" load -s "127.0.0.1:$CTL_PORT" --cert "$T_DIR/pki/gate-in.crt" --key "$T_DIR/pki/gate-in.key" \
    --ca "$T_DIR/pki/controller-ca.crt" --reader gate-in --conns 4 --rate 300 --duration 10 \
    --window 2000 --creds "$T_DIR/creds" >"$T_DIR/load.out" 2>"$T_DIR/load.err" &
LOAD=$!
T_PIDS+=("$LOAD")
check "load running" wait_for 20 grep -q 'connected 4' "$T_DIR/load.out"
sleep 2
check "PostgreSQL stopped under load" pg_stop fast
sleep 3
stored_while_down=$(grep -c 'database unavailable' "$T_DIR/controller.log")
check "PostgreSQL restarted" pg_restart_server
wait "$LOAD"; rc=$?
check_eq "load client finished" "$rc" 0
read -r _ sent _ acked _ < <(grep '^sent' "$T_DIR/load.out")
check "events were sent (${sent:-none})" test "${sent:-0}" -gt 1000
check_eq "every event sent was acknowledged in the end" "${acked:-x}" "${sent:-y}"
check_eq "every event is stored exactly once" "$(events_count "reader_id = 'gate-in'")" "${sent:-y}"
check_eq "no duplicate event ids" "$(sql -c "SELECT count(DISTINCT event_id) FROM access.events")" "${sent:-y}"
check_eq "the outage is logged once" "$stored_while_down" 1
check_eq "... and not again afterwards" "$(grep -c 'database unavailable' "$T_DIR/controller.log")" 1
check "the return of the database is logged" grep -q 'database reachable again' "$T_DIR/controller.log"
check "controller still running" kill -0 "$CTL_PID"
done_testing
