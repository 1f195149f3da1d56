#!/usr/bin/env bash
# sac-controller: what gets stored and answered.  GRANT / DENY / EXPIRED,
# revoked and unknown badges, a clock far ahead (clamped), redelivery (same
# verdict, stored once, also through another connection), presence in and
# out, the muster roll of an open drill, 1,000 pipelined events, a disabled
# reader's live connection closed, and SIGTERM finishing what is in flight.
source "$(dirname "$0")/../lib.sh"

check "controller starts" ctl_setup

ev() { printf 'EVENT %s %s %s\n' "$(event_id "$1")" "$2" "$3"; }
T=$(now_ms)
out=$( { printf 'HELLO sac/1 gate-in\n'; ev 1 "$T" "$CRED_A"; ev 2 "$T" "$CRED_UNKNOWN"
         ev 3 "$T" "$CRED_REVOKED"; ev 4 $((T - 25 * 3600 * 1000)) "$CRED_A"
         ev 5 $((T + 3600 * 1000)) "$CRED_POOL"; } | as_reader gate-in --expect 6)
check_match "enrolled badge: GRANT" "$out" "ACK $(event_id 1) GRANT"
check_match "unknown credential: DENY" "$out" "ACK $(event_id 2) DENY"
check_match "revoked badge: DENY" "$out" "ACK $(event_id 3) DENY"
check_match "older than 24 h: EXPIRED" "$out" "ACK $(event_id 4) EXPIRED"
check_match "an hour in the future, pool badge: GRANT" "$out" "ACK $(event_id 5) GRANT"
check_eq "EXPIRED is not stored" "$(events_count "event_id = '$(event_id 4)'")" 0
check_eq "DENY is stored as a ledger row with verdict D" \
    "$(sql -c "SELECT verdict FROM access.events WHERE event_id = '$(event_id 2)'")" D
check_eq "the future time is clamped to the arrival time" \
    "$(sql -c "SELECT occurred_at <= received_at FROM access.events WHERE event_id = '$(event_id 5)'")" t
check "the clamp is logged" grep -q 'ahead' "$T_DIR/controller.log"
check_eq "presence: badge A in the lobby" \
    "$(sql -c "SELECT zone FROM access.presence p JOIN sac.badges b ON b.id = p.badge_id WHERE b.person_id = 1")" lobby
check_eq "presence: the pool badge is present too" "$(sql -c "SELECT count(*) FROM access.presence")" 2
check_no_match "access.events has no credential column" \
    "$(sql -c "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_schema = 'access'")" credential

# Redelivery: same connection and another one; the verdict is the stored one
# even though the badge has been revoked since.
sql -c "UPDATE sac.badges SET revoked_at = now() WHERE person_id = 1 AND revoked_at IS NULL" >/dev/null
out=$( { printf 'HELLO sac/1 gate-in\n'; ev 1 "$T" "$CRED_A"; ev 1 "$T" "$CRED_A"; ev 2 "$T" "$CRED_UNKNOWN"
         ev 5 $((T + 3600 * 1000)) "$CRED_POOL"; } | as_reader gate-in --expect 5)
check_eq "redelivery: same verdicts as the first time" \
    "$(printf '%s\n' "$out" | grep ACK | sort | tr '\n' ' ')" \
    "ACK $(event_id 1) GRANT ACK $(event_id 1) GRANT ACK $(event_id 2) DENY ACK $(event_id 5) GRANT "
check_eq "redelivery: each event stored once" "$(events_count "event_id IN ('$(event_id 1)','$(event_id 2)','$(event_id 5)')")" 3
check_eq "a revoked badge is denied from the next event on" \
    "$(printf 'HELLO sac/1 gate-in\n%s\n' "$(ev 6 "$(now_ms)" "$CRED_A")" | as_reader gate-in --expect 2 | tail -n 1)" \
    "ACK $(event_id 6) DENY"
sql -c "UPDATE sac.badges SET revoked_at = NULL WHERE person_id = 1 AND credential = '\\x$CRED_A'" >/dev/null

# An open drill: the muster reader accounts for the badge, the out reader
# removes the presence and marks the pool badge as left.
sql -c "INSERT INTO sac.emergencies (site_id, kind, reason, declared_by) VALUES (1, 'drill', 'test', 'officer')" >/dev/null
sql -c "INSERT INTO access.muster_roll (emergency_id, badge_id, person_id) SELECT 1, badge_id, person_id FROM access.presence" >/dev/null
T2=$(now_ms)
out=$(printf 'HELLO sac/1 muster-1\n%s\n' "$(ev 10 "$T2" "$CRED_A")" | as_reader muster-1 --expect 2)
check_match "muster reader: GRANT" "$out" "ACK $(event_id 10) GRANT"
check_eq "muster: the badge is accounted for at its muster point" \
    "$(sql -c "SELECT state::text || ' ' || muster_reader FROM access.muster_roll WHERE person_id = 1")" "a muster-1"
check_eq "muster: presence moves to the muster zone, read-in time kept" \
    "$(sql -c "SELECT zone, since < last_seen FROM access.presence WHERE person_id = 1")" "park|t"
out=$(printf 'HELLO sac/1 gate-out\n%s\n%s\n' "$(ev 11 "$(now_ms)" "$CRED_POOL")" "$(ev 12 $((T2 + 1)) "$CRED_A")" \
      | as_reader gate-out --expect 3)
check_eq "out reader: both GRANT" "$(printf '%s\n' "$out" | grep -c 'GRANT$')" 2
check_eq "out: the pool badge is marked as left on the roll" \
    "$(sql -c "SELECT state FROM access.muster_roll WHERE person_id IS NULL")" l
check_eq "out: no presence left" "$(sql -c "SELECT count(*) FROM access.presence")" 0
out=$(printf 'HELLO sac/1 gate-in\n%s\n' "$(ev 13 "$T2" "$CRED_A")" | as_reader gate-in --expect 2)
check_eq "a late in-event older than the read-out makes no one present" "$(sql -c "SELECT count(*) FROM access.presence")" 0
check_eq "a redelivered out is answered with its stored verdict" \
    "$(printf 'HELLO sac/1 gate-out\n%s\n' "$(ev 12 $((T2 + 1)) "$CRED_A")" | as_reader gate-out --expect 2 | tail -n 1)" \
    "ACK $(event_id 12) GRANT"
check_eq "the redelivered out changed nothing" "$(sql -c "SELECT count(*) FROM access.presence")" 0
# A redelivered event and a new one together: the new one still has its
# effect (a batch holding a stored key is ingested by the general path).
out=$( { printf 'HELLO sac/1 gate-in\n'; ev 13 "$T2" "$CRED_A"; ev 14 "$(now_ms)" "$CRED_POOL"; } \
      | as_reader gate-in --expect 3)
check_eq "redelivered and new event together: both GRANT" "$(printf '%s\n' "$out" | grep -c 'GRANT$')" 2
check_eq "…the new one enters the pool badge, the redelivered one is stored once" \
    "$(sql -c "SELECT count(*) FROM access.presence WHERE person_id IS NULL")|$(events_count "event_id = '$(event_id 13)'")" "1|1"

# 1,000 pipelined events on one connection.
before=$(events_count)
{ printf 'HELLO sac/1 gate-in\n'; for i in $(seq 1000 1999); do printf 'EVENT %032x %s %s\n' "$i" "$T2" "$CRED_POOL"; done; } \
    >"$T_DIR/pipelined.txt"
out=$(as_reader gate-in --expect 1001 --timeout 30 <"$T_DIR/pipelined.txt")
check_eq "1,000 pipelined events: 1,000 ACKs" "$(printf '%s\n' "$out" | grep -c '^ACK .* GRANT$')" 1000
check_eq "1,000 pipelined events: 1,000 distinct ids acknowledged" \
    "$(printf '%s\n' "$out" | grep '^ACK' | cut -d' ' -f2 | sort -u | wc -l)" 1000
check_eq "1,000 pipelined events: 1,000 rows" "$(events_count)" $((before + 1000))

# Disabling a reader closes its live connection.
"$CTL_BENCH" idle -s "127.0.0.1:$CTL_PORT" --cert "$T_DIR/pki/gate-in.crt" --key "$T_DIR/pki/gate-in.key" \
    --ca "$T_DIR/pki/controller-ca.crt" --reader gate-in --conns 1 --duration 60 >"$T_DIR/idle.out" 2>&1 &
IDLE=$!
T_PIDS+=("$IDLE")
check "a live connection is up" wait_for 10 grep -q 'connected 1' "$T_DIR/idle.out"
sql -c "UPDATE sac.readers SET enabled = false WHERE id = 'gate-in'" >/dev/null
check "disabling the reader closes its live connection (ERR disabled)" wait_for 12 grep -q 'ERR disabled' "$T_DIR/idle.out"
check_match "…and the controller logs why, each word once" \
    "$(grep 'reader gate-in: closing' "$T_DIR/controller.log")" 'reader gate-in: closing: reader disabled \(ERR disabled\)$'
check_match "reader last_seen is kept up to date" "$(sql -c "SELECT last_seen > now() - interval '1 minute' FROM sac.readers WHERE id = 'gate-in'")" t
kill "$IDLE" 2>/dev/null
sql -c "UPDATE sac.readers SET enabled = true WHERE id = 'gate-in'" >/dev/null

# `sacctl reader disable` notifies the controller, which closes the live
# connection at once rather than at its next periodic check.
"$CTL_BENCH" idle -s "127.0.0.1:$CTL_PORT" --cert "$T_DIR/pki/gate-in.crt" --key "$T_DIR/pki/gate-in.key" \
    --ca "$T_DIR/pki/controller-ca.crt" --reader gate-in --conns 1 --duration 60 >"$T_DIR/idle2.out" 2>&1 &
IDLE=$!
T_PIDS+=("$IDLE")
check "a live connection is up again" wait_for 10 grep -q 'connected 1' "$T_DIR/idle2.out"
mark=$(log_mark "$T_DIR/controller.log")
check "sacctl reader disable" sacctl reader disable gate-in
check "the controller acts on the database's notification" \
    wait_for 12 log_has_since "$T_DIR/controller.log" "$mark" 'reader gate-in disabled \(notified by the database\)'
check "…and closes the live connection (ERR disabled)" wait_for 12 grep -q 'ERR disabled' "$T_DIR/idle2.out"
kill "$IDLE" 2>/dev/null
sql -c "UPDATE sac.readers SET enabled = true WHERE id = 'gate-in'" >/dev/null

# SIGTERM: events in flight are stored and acknowledged, exit 0.
T3=$(now_ms)
{ printf 'HELLO sac/1 gate-in\n'; for i in $(seq 3000 3499); do printf 'EVENT %032x %s %s\n' "$i" "$T3" "$CRED_POOL"; done; } \
    >"$T_DIR/term.txt"
as_reader gate-in --expect 501 --timeout 20 <"$T_DIR/term.txt" >"$T_DIR/term.out" &
SENDER=$!
wait_for 10 grep -q WELCOME "$T_DIR/term.out"
kill -TERM "$CTL_PID"
wait "$CTL_PID"; rc=$?
wait "$SENDER"
check_eq "SIGTERM: exit status 0" "$rc" 0
acks=$(grep -c '^ACK' "$T_DIR/term.out")
ids=$(grep '^ACK' "$T_DIR/term.out" | cut -d' ' -f2 | paste -sd, -)
check_eq "SIGTERM: every acknowledged event is stored" \
    "$(sql -c "SELECT count(*) FROM access.events WHERE event_id = ANY ('{${ids}}'::uuid[])")" "$acks"
check "SIGTERM: some events were acknowledged before the exit ($acks)" test "$acks" -gt 0
check "SIGTERM: stopping logged" grep -q 'stopped' "$T_DIR/controller.log"
check_no_match "no credential in the controller log" "$(cat "$T_DIR/controller.log")" "$CRED_A|$CRED_POOL"
done_testing
