#!/usr/bin/env bash
# An insider cannot stall the audited calls of others or the purge: a login
# in sac_ingest opens a transaction, makes an audited call (a refused
# headcount) and keeps the transaction open; meanwhile an officer declares
# and closes a drill, an administrator adds a site, an auditor verifies and
# sac-purge runs a pass — each finishes while that transaction is still
# open (on a log chained under one lock held to the caller's commit, each
# waited for it).  An officer who keeps a headcount's transaction open
# (holding the presence table) makes a purge pass fail within its lock
# bound, audited, instead of hanging it.  Once the holders are gone every
# record is chained and the chain verifies.
source "$(dirname "$0")/../lib.sh"
EXPIRES=$(date -u -d "+300 days" +%Y-%m-%d)
pg_start || exit 1
make_login ctl1 sac_ingest
make_login off1 sac_officer
make_login cert1 sac_certifier
make_login adm1 sac_admin
make_login aud1 sac_auditor
make_login purger sac_purge
sql -c "INSERT INTO sac.sites (name) VALUES ('hq');
        INSERT INTO access.presence VALUES (1, NULL, 1, 'lobby', now(), now(), 'hq-in')" >/dev/null
sacctl_as cert1 officer certify off1 --site hq --expires "$EXPIRES" >/dev/null
sacctl_as off1 officer acknowledge --yes >/dev/null
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"

# hold ROLE SQL: a psql session of ROLE runs SQL inside an open transaction
# and keeps it open until release.
hold() {
    rm -f "$T_DIR/hold"; mkfifo "$T_DIR/hold"
    spawn sh -c 'exec psql -qXAt "$1" -f - <"$2" >/dev/null 2>&1' sh "$(conninfo "$1")" "$T_DIR/hold"
    exec 7>"$T_DIR/hold"
    echo "BEGIN; $2; SELECT pg_sleep(0);" >&7
    wait_for 10 sh -c "[ \"\$(psql -qXAt -c \"SELECT count(*) FROM pg_stat_activity WHERE usename = '$1' AND state = 'idle in transaction'\")\" = 1 ]"
}
release() { echo "COMMIT;" >&7; exec 7>&-; }
holder_open() { [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$1' AND state = 'idle in transaction'")" = 1 ]; }
# finishes_while_open ROLE DESC CMD...: CMD runs in the background and must
# end while ROLE's transaction is still open.
finishes_while_open() {
    local role=$1 desc=$2 pid; shift 2
    "$@" >"$T_DIR/bg.out" 2>&1 &
    pid=$!
    if wait_for 30 sh -c "! kill -0 $pid 2>/dev/null"; then
        wait "$pid"; echo "$?" >"$T_DIR/bg.rc"
        if holder_open "$role"; then ok "$desc"; else not_ok "$desc (the holder was gone)"; fi
    else
        not_ok "$desc (still waiting after 30 s)"; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        echo 99 >"$T_DIR/bg.rc"
    fi
}

check "the ingest login holds a transaction open after an audited call" \
    hold ctl1 "SELECT refusal FROM sac.headcount('hq')"
finishes_while_open ctl1 "an officer declares a drill meanwhile" \
    sacctl_as off1 emergency declare --site hq --kind drill --reason "quarterly drill"
check_eq "…successfully" "$(cat "$T_DIR/bg.rc")" 0
id=$(cat "$T_DIR/bg.out")
finishes_while_open ctl1 "…reads the headcount" sacctl_as off1 headcount --site hq
check_eq "…successfully" "$(cat "$T_DIR/bg.rc")" 0
finishes_while_open ctl1 "…and closes the drill" sacctl_as off1 emergency close "$id"
check_eq "…successfully" "$(cat "$T_DIR/bg.rc")" 0
finishes_while_open ctl1 "an administrator adds a site meanwhile" sacctl_as adm1 site add annex
check_eq "…successfully" "$(cat "$T_DIR/bg.rc")" 0
finishes_while_open ctl1 "a purge pass runs meanwhile" sac-purge -c "$T_DIR/purge.conf" --once
check_eq "…successfully (exit 0)" "$(cat "$T_DIR/bg.rc")" 0
finishes_while_open ctl1 "an auditor verifies meanwhile" sacctl_as aud1 audit verify
check_eq "…compliant (exit 0)" "$(cat "$T_DIR/bg.rc")" 0
release

# An officer holding the presence table in an open headcount transaction.
id=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "second drill")
check "an officer holds a headcount's transaction open" \
    hold off1 "SELECT refusal FROM sac.headcount('hq')"
failed0=$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = 'failed'")
finishes_while_open off1 "a purge pass ends meanwhile (it does not hang)" \
    sac-purge -c "$T_DIR/purge.conf" --once
check_eq "…as a failed pass (exit 1): its lock wait is bounded" "$(cat "$T_DIR/bg.rc")" 1
check_eq "…audited as failed" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = 'failed'")" $((failed0 + 1))
release
sacctl_as off1 emergency close "$id" >/dev/null
check_exit "with the holders gone, the next pass succeeds" 0 sac-purge -c "$T_DIR/purge.conf" --once

check_eq "every record is chained" "$(sql -c "SELECT count(*) FROM audit.unchained")" 0
check_eq "the chain verifies" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t
check_eq "the headcounts (both holders' and the officer's own) are in it" \
    "$(sql -c "SELECT string_agg(l.role || ':' || l.outcome, ' ' ORDER BY l.id) FROM audit.log l
               JOIN audit.chain c ON c.log_id = l.id WHERE l.action = 'headcount'")" \
    "ctl1:refused off1:allowed off1:allowed"
done_testing
