#!/usr/bin/env bash
# sac-purge as a program: configuration problems refused with file:line (the
# access-data limit and the interval are database settings: as keys they are
# unknown), exit statuses of --once (0 done, 1 refused, 3 database
# unreachable), passes that fail while the database is down are audited as
# failed once it is back, the loop keeps going and takes the limits the
# database holds at every pass, SIGHUP reloads the configuration, SIGTERM
# stops it (0).
source "$(dirname "$0")/../lib.sh"

conf() { printf '[purge]\n%s\n' "$1" >"$T_DIR/$2"; }

# --- configuration ---------------------------------------------------------------
conf "access_max_age = 24h" limit.conf
out=$(sac-purge -c "$T_DIR/limit.conf" --check-config 2>&1); rc=$?
check_eq "access_max_age is no key of the file: exit 2" "$rc" 2
check_match "names file and line" "$out" "limit.conf:2: unknown key 'access_max_age'"
conf "interval = 60s" interval.conf
out=$(sac-purge -c "$T_DIR/interval.conf" --check-config 2>&1); rc=$?
check_eq "nor is the interval: exit 2" "$rc" 2
check_match "names file and line" "$out" "interval.conf:2: unknown key 'interval'"
conf "video_max_age = 31d" over30.conf
out=$(sac-purge -c "$T_DIR/over30.conf" --check-config 2>&1); rc=$?
check_eq "video_max_age over 30 days: exit 2" "$rc" 2
check_match "names file and line" "$out" "over30.conf:2: .*video_max_age.*30d"
printf '[purge]\naccess_max_age = 2d\nvideo_max_age = 720h1\ncolour = blue\nvideo_dir = %s\n' \
    "$T_DIR/nowhere" >"$T_DIR/many.conf"
out=$(sac-purge -c "$T_DIR/many.conf" --check-config 2>&1); rc=$?
check_eq "several problems: exit 2" "$rc" 2
check_eq "every problem is printed" "$(printf '%s\n' "$out" | grep -c 'many.conf:[2-5]: ')" 4
check_exit "the daemon refuses to start with a bad configuration" 2 sac-purge -c "$T_DIR/limit.conf" --once
conf "video_max_age = 30d" ok.conf
check_exit "30d is accepted" 0 sac-purge -c "$T_DIR/ok.conf" --check-config
conf "video_max_age = 7d" short.conf
check_exit "a shorter video limit is accepted" 0 sac-purge -c "$T_DIR/short.conf" --check-config
check_exit "an unreadable configuration: exit 3" 3 sac-purge -c "$T_DIR/missing.conf" --check-config
check_match "--version" "$(sac-purge --version)" '^sac-purge [0-9]'
check_match "--help" "$(sac-purge --help)" 'usage: sac-purge'
check_exit "a bad option: exit 2" 2 sac-purge --frobnicate

# --- exit statuses of --once ---------------------------------------------------------
pg_start || exit 1
make_login purger sac_purge
make_login intruder
conf "database = $(conninfo purger)" purge.conf
conf "database = $(conninfo intruder)" intruder.conf
conf "database = host=$T_DIR/nosuchdir port=1 dbname=sac user=purger connect_timeout=2" down.conf
check_exit "--once: a pass as a member of sac_purge exits 0" 0 sac-purge -c "$T_DIR/purge.conf" --once
check_exit "--once: a role in no sac group is refused, exit 1" 1 sac-purge -c "$T_DIR/intruder.conf" --once
check_match "the refusal is logged" "$(cat "$T_DIR/last.out")" 'database refused: .*permission denied for database'
make_login clerk sac_admin
conf "database = $(conninfo clerk)" clerk.conf
check_exit "--once: a role in another sac group is refused, exit 1" 1 sac-purge -c "$T_DIR/clerk.conf" --once
check_match "the refusal is logged with its SQLSTATE" "$(cat "$T_DIR/last.out")" 'SQLSTATE 42501'
check_exit "--once: database unreachable, exit 3" 3 sac-purge -c "$T_DIR/down.conf" --once
check_eq "no pass ran for the refused role" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE role = 'intruder' AND outcome = 'allowed'")" 0

# --- the loop, a database outage, reload, stop --------------------------------------
sql -c "SELECT FROM sac.retention_set(NULL, interval '10 seconds')" >/dev/null
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/loop.conf"
spawn sac-purge -c "$T_DIR/loop.conf" 2>"$T_DIR/purge.log"
pid=$T_LAST_PID
passes() { sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = '$1'"; }
# passes_reach OUTCOME N: at least N passes with OUTCOME in the audit log.
passes_reach() { [ "$(passes "$1")" -ge "$2" ]; }
# runs_with_max_age_over AGE N: more than N successful runs with that limit.
runs_with_max_age_over() {
    [ "$(sql -c "SELECT count(*) FROM audit.purge_runs WHERE ok AND access_max_age = '$1'")" -gt "$2" ]
}
n0=$(passes allowed)
check "the loop runs passes every interval (10 s)" wait_for 40 passes_reach allowed $((n0 + 2))

pg_stop fast
sleep 11 # at least one pass fails while the database is down
check "the daemon survives the outage" kill -0 "$pid"
pg_restart_server
check "the failed passes are audited once the database is back" \
    wait_for 25 passes_reach failed 1
rec=$(sql -c "SELECT count || ' ' || detail FROM audit.log WHERE action = 'purge_pass' AND outcome = 'failed' ORDER BY id DESC LIMIT 1")
check_match "with how many passes failed" "$rec" '^[1-9][0-9]* .*"failed_passes": [1-9]'
check_match "and why" "$rec" '"reason": "unreachable"'
check_match "and when" "$rec" '"first_failed_at": "[0-9-]{10}T[0-9:]{8}Z"'
n1=$(passes allowed)
check "and passes resume" wait_for 25 passes_reach allowed $((n1 + 1))
check_eq "the audit chain is intact" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t

sql -c "SELECT FROM sac.retention_set(interval '12 hours', NULL)" >/dev/null
check "the next passes use the limit the database holds now (12h)" \
    wait_for 25 runs_with_max_age_over '12 hours' 0
printf '[purge]\naccess_max_age = 48h\n' >"$T_DIR/loop.conf"
kill -HUP "$pid"
check "the reload problem is logged with file and line" \
    wait_for 5 grep -q "loop.conf:2: unknown key 'access_max_age'" "$T_DIR/purge.log"
check "a bad configuration on reload is refused and the daemon keeps running" kill -0 "$pid"
n2=$(sql -c "SELECT count(*) FROM audit.purge_runs WHERE ok AND access_max_age = '12 hours'")
check "with the previous configuration" \
    wait_for 25 runs_with_max_age_over '12 hours' "$n2"

kill -TERM "$pid"
wait "$pid"; rc=$?
check_eq "SIGTERM: exit 0" "$rc" 0

done_testing
