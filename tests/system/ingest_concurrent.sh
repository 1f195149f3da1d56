#!/usr/bin/env bash
# Two sac.ingest calls at once, as the controller's database connections
# (and several controllers) make them: the first events of a new hour from
# both create the hour's partition once and both are stored.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
cred_a='\x'$(printf 'ab%.0s' $(seq 1 32))
cred_b='\x'$(printf 'cd%.0s' $(seq 1 32))
sql -c "INSERT INTO sac.sites (name) VALUES ('hq');
        INSERT INTO sac.readers (id, site_id, direction, zone) VALUES ('gate-in', 1, 'in', 'lobby');
        INSERT INTO sac.persons (name, category) VALUES ('Grace', 'staff'), ('Alan', 'staff');
        INSERT INTO sac.badges (credential, person_id) VALUES ('$cred_a', 1), ('$cred_b', 2);" >/dev/null

# An hour no event has touched yet: 3 hours ago, inside the 24-hour limit.
hour_ms=$(sql -c "SELECT (extract(epoch FROM date_trunc('hour', now()) - interval '3 hours') * 1000 + 60000)::bigint")
hour_rel=$(sql -c "SELECT 'events_' || to_char((date_trunc('hour', now()) - interval '3 hours') AT TIME ZONE 'UTC', 'YYYYMMDDHH24')")
check_eq "the hour has no partition yet" "$(sql -c "SELECT to_regclass('access.$hour_rel') IS NULL")" t

# Session A stores an event of that hour and keeps its transaction open;
# session B stores another one meanwhile (it waits for A's partition), then
# A commits.
fifo="$T_DIR/a.in"; mkfifo "$fifo"
psql -qXAt -v ON_ERROR_STOP=1 <"$fifo" >"$T_DIR/a.out" 2>&1 &
A=$!; T_PIDS+=("$A")
exec 7>"$fifo"
echo "BEGIN; SELECT verdict FROM sac.ingest(ARRAY['gate-in'], ARRAY[gen_random_uuid()], ARRAY[${hour_ms}::bigint], ARRAY['$cred_a'::bytea]);" >&7
check "session A created the hour (uncommitted)" wait_for 20 grep -q GRANT "$T_DIR/a.out"
sql -c "SELECT verdict FROM sac.ingest(ARRAY['gate-in'], ARRAY[gen_random_uuid()], ARRAY[$((hour_ms + 1000))::bigint], ARRAY['$cred_b'::bytea])" >"$T_DIR/b.out" 2>&1 &
B=$!
check "session B waits for A" wait_for 20 bash -c "[ \"\$(psql -qXAt -c \"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted\")\" = 1 ]"
echo "COMMIT;" >&7; exec 7>&-
wait "$B"; rc=$?
check_eq "session B's event is stored after A committed (no 'already exists')" "$rc $(cat "$T_DIR/b.out")" "0 GRANT"
wait "$A"
check_eq "both events are in the hour's partition" "$(sql -c "SELECT count(*) FROM access.$hour_rel")" 2
check_eq "one partition for the hour" "$(sql -c "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'access.$hour_rel'::regclass")" 1
done_testing
