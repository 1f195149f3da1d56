#!/usr/bin/env bash
# A power cut may come at any instant, and it keeps only what the disk was
# told to keep (fdatasync), not what was merely written.  So an event the
# reader has sent — and the controller may have acknowledged — must be
# durable in its spool before it leaves.  Read from the system calls of a
# real sac-reader (strace) while cards are tapped and spooled events drain:
# every pending record appended to the spool is followed by an fdatasync of
# the spool before the next byte goes to the controller.  A power cut is an
# instant between two of those system calls; the order makes each one safe.
source "$(dirname "$0")/../lib.sh"

check "strace is installed" command -v strace
fault_setup gate-1 || exit 1
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
sim_start gate-1
reader_conf gate-1 "127.0.0.1:$port"
# Debug level: the reader logs event lines only there (they are access data).
SAC_DEBUG=1 spawn strace -f -y -qq -s 8 -o "$T_DIR/strace.log" \
    -e trace=pwrite64,pwritev,write,writev,fsync,fdatasync,sendto,sendmsg \
    "$T_BIN/sac-reader" -c "$T_DIR/gate-1.conf" 2>>"$T_DIR/gate-1.log"
tracer=$T_LAST_PID
check "the traced reader connects" wait_for 60 grep -q 'connected to controller' "$T_DIR/gate-1.log"
for uid in "$F_UID_A" "$F_UID_X" "$F_UID_B" "$F_UID_A" "$F_UID_B"; do
    check "tap $uid" tap gate-1 "$uid"
done
check "all five taps acknowledged" wait_for 30 acks_are gate-1 5
# The reader is strace's child: stop it, and strace ends with it.
kill -TERM $(ps -o pid= --ppid "$tracer"); wait "$tracer" 2>/dev/null

# The trace, in the order the calls returned: a pending record ("SP\1P")
# written to the spool makes it dirty until an fdatasync/fsync of the
# spool; a write to the TCP socket while it is dirty is a send that a power
# cut could outlive the record of.
verdict=$(awk '
    /spool>/ && /pwrite/ && /"SP\\1P/ { dirty = 1; appended++ ; next }
    /(fdatasync|fsync)\([0-9]+<[^>]*spool>/ { if (dirty) synced++; dirty = 0; next }
    /<(TCP|TCPv6|socket):/ && /(write|writev|sendto|sendmsg)\(/ { sends++; if (dirty) early++ }
    END { printf "appended=%d synced=%d sends=%d early=%d\n", appended, synced, sends, early + 0 }
' "$T_DIR/strace.log")
echo "# $verdict"
# At least the five taps' records (compaction may also rewrite pending ones).
appended=$(sed -n 's/.*appended=\([0-9]*\).*/\1/p' <<<"$verdict")
synced=$(sed -n 's/.*synced=\([0-9]*\).*/\1/p' <<<"$verdict")
check "the trace saw the five taps' records written (${appended:-0})" test "${appended:-0}" -ge 5
check_match "…and sends to the controller" "$verdict" 'sends=[1-9]'
check_match "every pending record written was made durable before the next send" "$verdict" 'early=0$'
check_eq "an fdatasync for each pending record written" "${synced:-x}" "${appended:-y}"
done_testing
