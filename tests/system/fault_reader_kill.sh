#!/usr/bin/env bash
# A reader is SIGKILLed three times while it drains 20,000 spooled events
# (fdatasync'd, some sent and not yet acknowledged, some acknowledged and
# not yet settled on disk) and while a card is being tapped; it is restarted
# on the same spool each time.  Nothing is lost: every event is in the
# ledger exactly once, by id, whatever was resent.
source "$(dirname "$0")/../lib.sh"

fault_setup gate-1 || exit 1
seed gate-1 0000c001 20000
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
reader_up gate-1 "127.0.0.1:$port" || exit 1
echo "# set up in ${SECONDS}s"
verdicts() { grep -cE 'event [0-9a-f]{32}: ' "$T_DIR/gate-1.log"; }
verdicts_at_least() { [ "$(verdicts)" -ge "$1" ]; }
# Each kill comes 500 verdicts into the run it ends: the drain is fast, and
# 20,000 events leave room for three kills however fast it is.
since=0

for k in 1 2 3; do
    wait_for 60 verdicts_at_least $((since + 500)) || true
    sim gate-1 present "$F_UID_A" >/dev/null     # a tap racing the kill
    kill -KILL "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)" 2>/dev/null
    before=$(ledger_count "event_id::text LIKE '0000c001%'")
    spool_harvest gate-1
    kill_at[$k]=$(sql -c "SELECT clock_timestamp()")
    check "reader SIGKILL $k lands while it drains ($before of 20000 seeded events stored)" \
        test "$before" -lt 20000
    check "reader SIGKILL $k: it is gone" bash -c "! kill -0 $(reader_pid gate-1) 2>/dev/null"
    sim gate-1 remove >/dev/null
    reader_start gate-1
    check "restart $k: it starts again on the same spool" wait_for 30 \
        bash -c "[ \$(grep -c 'reader gate-1 on ' '$T_DIR/gate-1.log') -ge $((k + 1)) ]"
    check "restart $k: connected again" wait_for 30 \
        bash -c "[ \$(grep -c 'connected to controller' '$T_DIR/gate-1.log') -ge $((k + 1)) ]"
    since=$(verdicts)
done
check "a tap after the last restart" tap gate-1 "$F_UID_B"

account gate-1
for k in 1 2 3; do
    check "SIGKILL $k: seeded events were still to be stored when it hit" \
        test "$(ledger_count "event_id::text LIKE '0000c001%' AND received_at > '${kill_at[$k]}'")" -gt 0
done
resent=$(sql -c "SELECT count(*) FROM access.events" )
check "the spool holds nothing pending once all is acknowledged" wait_for 30 \
    bash -c "[ \$(python3 -c \"import sys; d=open('$T_DIR/spool/gate-1.spool','rb').read(); print(sum(1 for i in range(0, len(d) - 65, 66) if d[i:i+4] == b'SP\\x01P'))\") = 0 ]"
check "the controller log has no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR/ctl-1.log'"
echo "# done at ${SECONDS}s ($resent ledger rows)"
done_testing
