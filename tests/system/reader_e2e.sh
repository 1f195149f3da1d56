#!/usr/bin/env bash
# A badge presented on pn532-sim, read by sac-reader through the real libnfc,
# sent over mutual TLS to the real sac-controller and stored in PostgreSQL:
# exactly one ledger row (verdict G) and a presence row for the right badge;
# an unknown card is denied.  The UID appears nowhere (reader and controller
# logs, spool, the whole PostgreSQL data directory and server log), and the
# credential nowhere but in sac.badges.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
enroll_setup hq gate-1 || exit 1
uid=04$(openssl rand -hex 6)      # 7 random bytes
stranger=04$(openssl rand -hex 6)
badge=$(enroll "Ada Lovelace" "$uid")
check_match "a badge is enrolled" "$badge" '^[0-9]+$'

port=$(free_port)
controller_start ctl-1 "$port" || exit 1
sim_start gate-1
# Started with a controller list that leads nowhere; SIGHUP applies the fix.
# libnfc's debug log (frames in hex) is asked for, and must not happen.
reader_conf gate-1 "127.0.0.1:$(free_port)"
LIBNFC_LOG_LEVEL=3 reader_start gate-1
check "the reader runs without a controller" wait_for 10 grep -q "device .*: open" "$T_DIR/gate-1.log"
echo "colour = blue" >>"$T_DIR/gate-1.conf"
kill -HUP "$(reader_pid gate-1)"
check "a broken configuration is refused on SIGHUP" wait_for 10 grep -q "reload refused" "$T_DIR/gate-1.log"
check "... and the reader keeps running" kill -0 "$(reader_pid gate-1)"
reader_conf gate-1 "127.0.0.1:$port"
kill -HUP "$(reader_pid gate-1)"
check "SIGHUP reloads the controllers list" wait_for 10 grep -q "configuration reloaded" "$T_DIR/gate-1.log"
check "the reader connects" wait_for 15 grep -q "connected to controller 127.0.0.1:$port" "$T_DIR/gate-1.log"

tap gate-1 "$uid"
check "the reader logs GRANT" wait_for 10 grep -qE "event [0-9a-f]{32}: GRANT" "$T_DIR/gate-1.log"
id=$(grep -oE "event [0-9a-f]{32}: GRANT" "$T_DIR/gate-1.log" | head -n 1 | awk '{print $2}' | tr -d :)
check_eq "exactly one ledger row" "$(ledger_count)" 1
check_eq "... with verdict G and the reader's event id" \
    "$(sql -c "SELECT verdict::text || ' ' || replace(event_id::text, '-', '') FROM access.events")" "G $id"
check_eq "a presence row for the right badge" \
    "$(sql -c "SELECT badge_id || ' ' || last_reader FROM access.presence")" "$badge gate-1"
check "the acknowledged event left the spool" wait_for 5 bash -c "test ! -s '$T_DIR/spool/gate-1.spool'"

tap gate-1 "$stranger"
check "an unknown card is denied" wait_for 10 grep -qE "event [0-9a-f]{32}: DENY" "$T_DIR/gate-1.log"
check_eq "... and stored as a D ledger row" "$(ledger_count "verdict = 'D'")" 1
check_eq "... with no presence" "$(sql -c 'SELECT count(*) FROM access.presence')" 1

# Privacy: flush everything PostgreSQL holds to its files first.
sql -c "CHECKPOINT" >/dev/null
kill -TERM "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"
cred=$(credential_of "$uid")
for u in "$uid" "$stranger"; do
    pat="$u|$(echo "$u" | sed 's/../&[: ]/g; s/[: ]$//')"
    for f in gate-1.log ctl-1.log pg/server.log; do
        check "UID not in $f" bash -c "! grep -qiE '$pat' '$T_DIR/$f'"
    done
    check "UID bytes not in the PostgreSQL data directory" \
        bytes_absent "$u" "$T_DIR/pg"
    check "UID not in the PostgreSQL data directory as text" bash -c "! grep -raqi '$u' '$T_DIR/pg'"
    check "UID bytes not in the spool" \
        bytes_absent "$u" "$T_DIR/spool/gate-1.spool"
done
for f in gate-1.log ctl-1.log pg/server.log; do
    check "credential not in $f" bash -c "! grep -qi '$cred' '$T_DIR/$f'"
done
check "credential bytes not in the spool" \
    bytes_absent "$cred" "$T_DIR/spool/gate-1.spool"
done_testing
