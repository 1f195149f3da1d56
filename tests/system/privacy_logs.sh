#!/usr/bin/env bash
# Logs are access records: at their default level no daemon writes a line
# per badge event — no event id, no credential, nothing a gate-and-time
# could be read from.  Only SAC_DEBUG=1 (documented as access data) does.
# Every line a daemon writes carries its syslog priority prefix.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
enroll_setup hq gate-1 || exit 1
uid=04$(openssl rand -hex 6)
enroll "Alan Turing" "$uid" >/dev/null
cred=$(credential_of "$uid")
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
sim_start gate-1
reader_conf gate-1 "127.0.0.1:$port"
READER_DEBUG=0 reader_start gate-1
check "the reader connects" wait_for 20 grep -q 'connected to controller' "$T_DIR/gate-1.log"
# quiet_tap N: presents the card until the ledger holds N events.
quiet_tap() {
    sim gate-1 present "$uid" >/dev/null
    wait_for 20 ledger_is "$1"; local rc=$?
    sim gate-1 remove >/dev/null; sim gate-1 wait-polls 4 >/dev/null
    return $rc
}
for n in 1 2 3; do check "tap $n stored" quiet_tap "$n"; done
ids=$(sql -c "SELECT replace(event_id::text, '-', '') FROM access.events")
make_login purger sac_purge
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
spawn sac-purge -c "$T_DIR/purge.conf" 2>>"$T_DIR/purge.log"
purge_pid=$T_LAST_PID
check "a purge pass ran" wait_for 30 grep -q 'purge pass' "$T_DIR/purge.log"
for p in "$(reader_pid gate-1)" "$(controller_pid ctl-1)" "$purge_pid"; do
    kill -TERM "$p"; wait "$p"
done

check_eq "three event ids to look for" "$(echo "$ids" | grep -c .)" 3
all="$T_DIR/ctl-1.log $T_DIR/gate-1.log $T_DIR/purge.log"
for id in $ids; do
    check "event $id is in no daemon's log" bash -c "! grep -q '$id' $all"
done
check "no credential in any log" bash -c "! grep -qi '$cred' $all"
check "no line per event in the reader's log" bash -c "! grep -qE 'event [0-9a-f]{32}' '$T_DIR/gate-1.log'"
for f in ctl-1 purge; do
    check_eq "every line of $f.log carries a priority prefix" \
        "$(grep -cvE '^<[0-7]>sac-[a-z]+: ' "$T_DIR/$f.log")" 0
done
check_eq "every line of the reader's own log carries a priority prefix (libnfc's aside)" \
    "$(grep -vE '^(error|warning|info|debug)[[:space:]]+libnfc' "$T_DIR/gate-1.log" | grep -cvE '^<[0-7]>sac-reader: ')" 0

# With SAC_DEBUG=1 the same tap is logged: the check above can see it.
: >"$T_DIR/gate-1.log"
controller_start ctl-1 "$port" || exit 1
READER_DEBUG=1 reader_start gate-1
quiet_tap 4
check "with SAC_DEBUG=1 the reader does log the event (debug level)" \
    wait_for 10 grep -qE '^<7>sac-reader: event [0-9a-f]{32}: GRANT' "$T_DIR/gate-1.log"
done_testing
