#!/usr/bin/env bash
# Delivery guarantees of sac-reader with the real controller and database:
# events made while no controller is up are spooled and each delivered
# exactly once when it comes back; a reader killed (SIGKILL) while sending
# loses nothing and duplicates nothing after a restart; when the first
# controller of the list is down, the second one gets the events (failover).
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
enroll_setup hq gate-1 || exit 1
uid=04$(openssl rand -hex 6)
enroll "Grace Hopper" "$uid" >/dev/null

p1=$(free_port); p2=$(free_port)
sim_start gate-1
reader_conf gate-1 "127.0.0.1:$p1,127.0.0.1:$p2"
reader_start gate-1

# --- no controller at all: taps are spooled -----------------------------------
for i in 1 2 3; do tap gate-1 "$uid"; done
check_eq "three taps made three events" "$(taps gate-1)" 3
check_eq "all three are in the spool" "$(spool_records gate-1)" 3
check_eq "nothing reached the database" "$(ledger_count)" 0

# --- the first controller comes back: each event delivered once ---------------
controller_start ctl-1 "$p1" || exit 1
check "the spooled events are acknowledged" wait_for 20 acks_are gate-1 3
check_eq "three ledger rows" "$(ledger_count)" 3
check_eq "three distinct event ids" "$(sql -c 'SELECT count(DISTINCT event_id) FROM access.events')" 3
check "connected to the first controller" grep -q "connected to controller 127.0.0.1:$p1" "$T_DIR/gate-1.log"

# --- SIGKILL while sending -----------------------------------------------------
kill -TERM "$(controller_pid ctl-1)"; wait "$(controller_pid ctl-1)" 2>/dev/null
for i in 1 2 3 4 5 6; do tap gate-1 "$uid"; done
check_eq "six more events made while the controller is down" "$(taps gate-1)" 9
check_eq "... none of them in the database yet" "$(ledger_count)" 3
# Hold the ledger locked so that the events are sent but not acknowledged,
# then kill the reader: they are in flight.  The lock is released by ending
# the session that holds it.
spawn sql -c "BEGIN; LOCK TABLE access.events IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT" >/dev/null 2>&1
locker="SELECT pid FROM pg_locks WHERE relation = 'access.events'::regclass AND granted AND mode = 'AccessExclusiveLock'"
locked() { [ -n "$(sql -c "$locker")" ]; }
wait_for 10 locked
connections() { [ "$(grep -c "connected to controller" "$T_DIR/gate-1.log")" -ge "$1" ]; }
controller_start ctl-1 "$p1" || exit 1
check "the reader reconnects" wait_for 15 connections 2
sim gate-1 wait-polls 10 >/dev/null   # time to send what is spooled
check_eq "nothing acknowledged while the ledger is locked" "$(acks gate-1)" 3
kill -KILL "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)" 2>/dev/null
sql -c "SELECT pg_terminate_backend(pid) FROM ($locker) l" >/dev/null
reader_start gate-1
check "after the restart every event is acknowledged" wait_for 20 ledger_is 9
sleep 1   # would a duplicate arrive, it would be now
check_eq "nine ledger rows: none lost" "$(ledger_count)" 9
check_eq "nine distinct event ids: none duplicated" \
    "$(sql -c 'SELECT count(DISTINCT event_id) FROM access.events')" 9
check "the spool empties" wait_for 10 bash -c "test ! -s '$T_DIR/spool/gate-1.spool'"

# --- failover: the first controller is down, the second serves -----------------
kill -TERM "$(controller_pid ctl-1)"; wait "$(controller_pid ctl-1)" 2>/dev/null
controller_start ctl-2 "$p2" || exit 1
tap gate-1 "$uid"
check "an event goes through the second controller" wait_for 20 ledger_is 10
check "the reader failed over to it" grep -q "connected to controller 127.0.0.1:$p2" "$T_DIR/gate-1.log"
check "the reader is still running" kill -0 "$(reader_pid gate-1)"
done_testing
