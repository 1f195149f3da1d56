#!/usr/bin/env bash
# sac-controller, sac-reader (on pn532-sim) and `sac-purge --once` of the
# normal build (build/bin, not the sanitizer build) under valgrind
# memcheck: taps granted and denied, events stored, a purge pass, SIGTERM.
# No invalid read or write, no use of uninitialised memory, no definite or
# indirect leak at exit.  Reachable memory of libraries is not a finding;
# tests/tools/valgrind.supp lists the suppressions (libnfc only), with the reason.
source "$(dirname "$0")/../lib.sh"
NORMAL_BIN="$T_REPO/build/bin"
make -s -C "$T_REPO" all >"$T_DIR/make.log" 2>&1 || { cat "$T_DIR/make.log"; exit 1; }
# The emulator and sacctl run normally; the three daemons under valgrind.
T_BIN="$NORMAL_BIN"

VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
    --suppressions="$T_REPO/tests/tools/valgrind.supp")

fault_setup gate-1 || exit 1
seed gate-1 0000e001 200
port=$(free_port)
make_login ctl-1 sac_ingest
controller_conf "$T_DIR/ctl-1.conf" "$port" ctl-1
spawn "${VG[@]}" --log-file="$T_DIR/controller.vg" "$NORMAL_BIN/sac-controller" -c "$T_DIR/ctl-1.conf" 2>>"$T_DIR/ctl-1.log"
ctl=$T_LAST_PID
check "the controller listens under valgrind" wait_for 60 grep -q 'listening on' "$T_DIR/ctl-1.log"
sim_start gate-1
reader_conf gate-1 "127.0.0.1:$port"
SAC_DEBUG=1 spawn "${VG[@]}" --log-file="$T_DIR/reader.vg" "$NORMAL_BIN/sac-reader" -c "$T_DIR/gate-1.conf" 2>>"$T_DIR/gate-1.log"
rdr=$T_LAST_PID
check "the reader connects under valgrind" wait_for 60 grep -q 'connected to controller' "$T_DIR/gate-1.log"
for u in "$F_UID_A" "$F_UID_X" "$F_UID_B"; do
    sim gate-1 present "$u" >/dev/null
    wait_for 30 bash -c "[ \$(grep -c created '$T_DIR/gate-1.log') -ge 1 ]"
    sim gate-1 remove >/dev/null; sim gate-1 wait-polls 4 >/dev/null
done
check "taps were made" test "$(grep -c created "$T_DIR/gate-1.log")" -ge 1
account gate-1
check "GRANT and DENY both seen" bash -c \
    "grep -q ': GRANT' '$T_DIR/gate-1.log' && grep -q ': DENY' '$T_DIR/gate-1.log'"

make_login purger sac_purge
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
check_exit "sac-purge --once under valgrind exits 0" 0 \
    "${VG[@]}" --log-file="$T_DIR/purge.vg" "$NORMAL_BIN/sac-purge" -c "$T_DIR/purge.conf" --once

kill -TERM "$rdr"; wait "$rdr"; rc_r=$?
kill -TERM "$ctl"; wait "$ctl"; rc_c=$?
check_eq "sac-reader exits 0 on SIGTERM under valgrind" "$rc_r" 0
check_eq "sac-controller exits 0 on SIGTERM under valgrind" "$rc_c" 0
for n in controller reader purge; do
    r=$(cat "$T_DIR/$n.vg")
    check_match "$n: valgrind ran to the end" "$r" 'ERROR SUMMARY: '
    check_match "$n: no memory errors" "$r" 'ERROR SUMMARY: 0 errors'
    check_no_match "$n: no invalid access" "$r" 'Invalid (read|write|free)|uninitialised|Mismatched free'
    check_no_match "$n: no definite leak" "$r" 'definitely lost: [1-9]'
    check_no_match "$n: no indirect leak" "$r" 'indirectly lost: [1-9]'
done
done_testing
