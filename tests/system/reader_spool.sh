#!/usr/bin/env bash
# The spool on disk, with the real controller: a corrupt record and a torn
# tail are skipped with a log line and do not stop the records after them
# from being delivered; a spooled event older than 24 h is removed unsent and
# counted in the log; the reader keeps working.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
enroll_setup hq gate-1 || exit 1
uid=04$(openssl rand -hex 6)
enroll "Katherine Johnson" "$uid" >/dev/null
cred=$(credential_of "$uid")

port=$(free_port)
sim_start gate-1
reader_conf gate-1 "127.0.0.1:$port"
reader_start gate-1
for i in 1 2 3; do tap gate-1 "$uid"; done
kill -TERM "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"
check_eq "three events spooled" "$(spool_records gate-1)" 3
ids=$(grep -oE "event [0-9a-f]{32} created" "$T_DIR/gate-1.log" | awk '{print $2}')
first=$(echo "$ids" | sed -n 1p); third=$(echo "$ids" | sed -n 3p)

# Flip a byte in the second record, add a record from 25 hours ago, then a torn one.
spool="$T_DIR/spool/gate-1.spool"
printf '\xff' | dd of="$spool" bs=1 seek=$((66 + 40)) conv=notrunc status=none
old_id=$(openssl rand -hex 16)
spool_record "$old_id" $(( ($(date +%s) - 25 * 3600) * 1000 )) "$cred" >>"$spool"
spool_record "$(openssl rand -hex 16)" "$(date +%s)000" "$cred" | head -c 30 >>"$spool"

controller_start ctl-1 "$port" || exit 1
reader_start gate-1
check "the reader delivers the intact events" wait_for 20 ledger_is 2
check "the corrupt record is reported" grep -q "skipped 66 corrupt bytes at offset 66" "$T_DIR/gate-1.log"
check "the torn record is reported" grep -q "skipped 30 torn or corrupt bytes" "$T_DIR/gate-1.log"
check "the old event is removed unsent and counted" \
    grep -q "removed 1 spooled events older than 24 h" "$T_DIR/gate-1.log"
stored=$(sql -c "SELECT replace(event_id::text, '-', '') FROM access.events ORDER BY 1" | tr '\n' ' ')
want=$(printf '%s\n' "$first" "$third" | sort | tr '\n' ' ')
check_eq "the first and third events are stored" "$stored" "$want"
check "the old event never reached the controller" bash -c "! grep -q '$old_id' '$T_DIR/ctl-1.log'"
check_eq "... nor the database" "$(ledger_count "event_id = '$old_id'")" 0
tap gate-1 "$uid"
check "a new tap is delivered after all that" wait_for 20 ledger_is 3
check "the spool is compacted to nothing" wait_for 10 bash -c "test ! -s '$spool'"
check "the reader is still running" kill -0 "$(reader_pid gate-1)"
done_testing
