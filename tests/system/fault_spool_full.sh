#!/usr/bin/env bash
# The reader's spool lives on a filesystem that fills up.  The spool holds
# exactly 2,048 pending records (33 tmpfs pages) while the controller is
# down; the rest of the filesystem is filled, so the next append needs a page
# that is not there.  A tap then fails to be spooled: the reader says so
# ("cannot write an event", "LOST"), keeps running and keeps the events it
# had.  (The filesystem is filled while the spool ends exactly on a page
# boundary: tmpfs would otherwise take up to 62 more records in the page it
# already gave the file.)  Once space is freed, new taps are spooled, and
# when the controller comes up every event made is in the ledger exactly
# once, by id.  Needs root (mount -t tmpfs); without it the test fails its set-up check.
source "$(dirname "$0")/../lib.sh"

MNT="$T_DIR/spool"
mkdir -p "$MNT"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=256k,mode=0700 sac-spool-test "$MNT" 2>"$T_DIR/mount.err"; then
    not_ok "set-up: a 256 KiB tmpfs for the spool (needs root; $(cat "$T_DIR/mount.err" 2>/dev/null))"
    done_testing
fi
# Stop the reader before unmounting (t_cleanup stops what spawn started).
trap 't_cleanup_and_umount' EXIT
t_cleanup_and_umount() {
    local pid
    for pid in "${T_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${T_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    umount "$MNT" 2>/dev/null || umount -l "$MNT"
    t_cleanup
}

fault_setup gate-1 || exit 1
seed gate-1 0000f001 2048
check_eq "the seeded spool is exactly 33 pages (2,048 records)" \
    "$(stat -c %s "$MNT/gate-1.spool")" $((33 * 4096))
port=$(free_port)                       # nothing listens yet: events stay pending
reader_up gate-1 "127.0.0.1:$port" || exit 1
check "reader loaded the 2,048 seeded events" wait_for 20 grep -q 'spool: 2048 events to deliver' "$T_DIR/gate-1.log"

dd if=/dev/zero of="$MNT/fill" bs=4096 2>/dev/null
check_eq "the filesystem is full" "$(df --output=avail "$MNT" | tail -1 | tr -d ' ')" 0
size_before=$(stat -c %s "$MNT/gate-1.spool")

lost_are() { [ "$(log_count gate-1 'LOST')" = "$1" ]; }
for n in 1 2; do
    sim gate-1 present "$F_UID_B" >/dev/null
    check "full filesystem, tap $n: the event is reported LOST" wait_for 10 lost_are "$n"
    sim gate-1 remove >/dev/null
    sim gate-1 wait-polls 4 >/dev/null
done
check_match "the reader names the failure in its log" "$(cat "$T_DIR/gate-1.log")" \
    'spool .*gate-1.spool: cannot write an event.*(space|No space)'
check "the reader keeps running" kill -0 "$(reader_pid gate-1)"
check_eq "the spool keeps its records, no half record left behind" \
    "$(stat -c %s "$MNT/gate-1.spool")" "$size_before"
check_eq "the spool still holds its 2,048 pending records" \
    "$(python3 -c "d=open('$MNT/gate-1.spool','rb').read(); print(sum(1 for i in range(0, len(d) - 65, 66) if d[i:i+4] == b'SP\x01P'))")" 2048
lost_ids=$(grep -oE 'event [0-9a-f]{32} LOST' "$T_DIR/gate-1.log" | awk '{print $2}' | sort -u)

rm -f "$MNT/fill"
check "space freed: a tap is spooled again" tap gate-1 "$F_UID_A"
check "and another" tap gate-1 "$F_UID_X"

controller_start ctl-1 "$port" || exit 1
exp=$(expected_ids gate-1)
n_exp=$(echo "$exp" | grep -c .)
check "events made: 2,048 seeded + at least one per tap after freeing ($n_exp)" test "$n_exp" -ge 2050
check "every event acknowledged in the end" wait_for 60 all_delivered gate-1
led=$(ledger_ids gate-1)
check_eq "events lost (made, not in the ledger)" \
    "$(comm -23 <(echo "$exp") <(echo "$led" | sort -u) | grep -c .)" 0
check_eq "events duplicated in the ledger" "$(echo "$led" | uniq -d | grep -c .)" 0
check_eq "ledger rows = events made ($n_exp)" "$(echo "$led" | grep -c .)" "$n_exp"
check_eq "the 2 LOST events never reached the ledger (they were never made durable)" \
    "$(comm -12 <(echo "$lost_ids") <(echo "$led" | sort -u) | grep -c .)" 0
check_eq "2 distinct LOST ids" "$(echo "$lost_ids" | grep -c .)" 2
check "the reader log has no sanitizer report" bash -c "! grep -q 'Sanitizer' '$T_DIR/gate-1.log'"
echo "# done at ${SECONDS}s"
done_testing
