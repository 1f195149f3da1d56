#!/usr/bin/env bash
# sac-reader against pn532-sim with no controller reachable: every
# presentation becomes exactly one spooled event (a held card is not a
# stream; the same card after removal is a new one), the spool is 0600 and
# never holds the UID, the log never shows it; a device that stops answering
# is reopened without the reader exiting; SIGTERM ends it promptly with 0.
source "$(dirname "$0")/../lib.sh"

certs_make
sim_start gate-1
port=$(free_port)   # nobody listens there
reader_conf gate-1 "127.0.0.1:$port"
reader_start gate-1
pid=$(reader_pid gate-1)
check "the reader opens the device" wait_for 10 grep -q "device .*: open" "$T_DIR/gate-1.log"

uid=04$(openssl rand -hex 6)            # 7 bytes, random: a grep for it means something
taps() { log_count gate-1 'event [0-9a-f]{32} created'; }
taps_are() { [ "$(taps)" = "$1" ]; }

# A second reader configured with the same port is kept off it.
reader_conf twin "127.0.0.1:$port" "pn532_uart:$(sim_pty gate-1)"
reader_start twin
check "a second reader on the same port is refused" \
    wait_for 10 grep -q "in use by another reader" "$T_DIR/twin.log"

sim gate-1 present "$uid" >/dev/null
check "a presented card becomes an event" wait_for 10 taps_are 1
sim gate-1 wait-polls 10 >/dev/null
check_eq "a card held on the reader is one event" "$(taps)" 1
sim gate-1 remove >/dev/null
sim gate-1 wait-polls 4 >/dev/null
sim gate-1 present "$uid" >/dev/null
check "the same card again after removal is a new event" wait_for 10 taps_are 2
sim gate-1 remove >/dev/null
sim gate-1 wait-polls 4 >/dev/null
check_eq "the spool holds both events" "$(spool_records gate-1)" 2
check_eq "the second reader made none" "$(log_count twin 'created')" 0
kill -TERM "$(reader_pid twin)"; wait "$(reader_pid twin)"
check_eq "the spool is mode 0600" "$(stat -c %a "$T_DIR/spool/gate-1.spool")" 600

# The device stops answering, then comes back: the reader reopens it.
sim gate-1 mute >/dev/null
check "a mute device is noticed" wait_for 10 grep -q "device .*failed\|cannot open" "$T_DIR/gate-1.log"
sim gate-1 unmute >/dev/null
check "the device is reopened" wait_for 15 grep -q "open again after a fault" "$T_DIR/gate-1.log"
sim gate-1 present "$uid" >/dev/null
check "taps count again after the fault" wait_for 10 taps_are 3
sim gate-1 remove >/dev/null
sim gate-1 error >/dev/null
sim gate-1 wait-polls 3 >/dev/null
sim gate-1 garbage >/dev/null
sim gate-1 wait-polls 3 >/dev/null
sim gate-1 present "$uid" >/dev/null
check "error and garbage frames do not stop it" wait_for 10 taps_are 4
check "the reader is still running" kill -0 "$pid"

# SIGHUP with another device: the reader switches to it.
sim_start gate-2
sim gate-1 remove >/dev/null
sed -i "s|^device .*|device = pn532_uart:$(sim_pty gate-2)|" "$T_DIR/gate-1.conf"
kill -HUP "$pid"
check "SIGHUP opens the new device" wait_for 10 grep -q "device pn532_uart:$(sim_pty gate-2): open" "$T_DIR/gate-1.log"
sim gate-2 present "$uid" >/dev/null
check "taps on the new device are read" wait_for 10 taps_are 5
sim gate-2 remove >/dev/null
sim gate-1 present "$uid" >/dev/null
sim gate-2 wait-polls 10 >/dev/null
check_eq "a card on the old device makes no event" "$(taps)" 5
sim gate-1 remove >/dev/null

# Privacy at the source.
upper=$(echo "$uid" | tr a-f A-F)
check "the UID is not in the log (hex)" bash -c "! grep -qiE '$uid|$(echo "$uid" | sed 's/../&[: ]?/g')' '$T_DIR/gate-1.log'"
check "the UID is not in the spool (raw bytes)" \
    bytes_absent "$uid" "$T_DIR/spool/gate-1.spool"
check "the UID is not in the spool (hex)" bash -c "! grep -qaiE '$uid|$upper' '$T_DIR/spool/gate-1.spool'"
cred=$(credential_of "$uid")
check "the credential is not in the log" bash -c "! grep -qi '$cred' '$T_DIR/gate-1.log'"

# SIGTERM while polling: exit 0 within a second.
start=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"; rc=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
check_eq "SIGTERM exits 0" "$rc" 0
check "... within a second (${elapsed} ms)" test "$elapsed" -lt 1000
check "unsent events stay spooled" test "$(spool_records gate-1)" = 5
done_testing
