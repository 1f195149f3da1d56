#!/usr/bin/env bash
# sd_notify as systemd sees it: each daemon, started with NOTIFY_SOCKET and
# WATCHDOG_USEC the way a Type=notify unit with WatchdogSec= starts it, sends
# READY=1 once it serves, WATCHDOG=1 while it runs, and STOPPING=1 on SIGTERM
# before exiting 0.  The test plays systemd's part: a datagram socket that
# records what arrives.
source "$(dirname "$0")/../lib.sh"

# listen SOCKET LOG: records every datagram on SOCKET, one message per line
# (fields separated by '|'), in LOG.
listen() {
    spawn python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        data = s.recv(4096).decode("utf-8", "replace")
        log.write("|".join(data.strip("\n").split("\n")) + "\n")
' "$1" "$2"
    wait_for 10 test -S "$1"
}

has() { grep -Eq -- "$2" "$1"; }
# pings_after_ready LOG N: at least N WATCHDOG=1 messages after READY=1.
pings_after_ready() {
    local n
    n=$(sed -n '/\(^\||\)READY=1\(|\|$\)/,$p' "$1" | grep -Ec '(^|\|)WATCHDOG=1(\||$)')
    [ "$n" -ge "$2" ]
}

# notified NAME CMD...: starts CMD as a notify-type service would be started
# and checks READY and WATCHDOG; NAME_PID is left for the SIGTERM check.
notified() {
    local name=$1; shift
    local sock="$T_DIR/$name.notify" log="$T_DIR/$name.msgs"
    : >"$log"
    listen "$sock" "$log" || { not_ok "$name: notify socket listening"; return; }
    # WATCHDOG_USEC = 2 s: the daemon must ping at least every second.
    NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000 spawn "$@"
    printf -v "${name}_PID" '%s' "$T_LAST_PID"
    if wait_for 30 has "$log" '(^|\|)READY=1(\||$)'; then ok "$name: READY=1"; else
        not_ok "$name: READY=1"; sed 's/^/#   /' "$log"; fi
    # Three pings after READY: a watchdog that is sent once at start-up and
    # never again would leave systemd to kill the service.
    if wait_for 20 pings_after_ready "$log" 3; then ok "$name: WATCHDOG=1 keeps coming"; else
        not_ok "$name: WATCHDOG=1 keeps coming"; sed 's/^/#   /' "$log"; fi
}

# stopped NAME: SIGTERM, then STOPPING=1 and exit status 0.
stopped() {
    local name=$1 pid_var="${1}_PID" rc
    local pid=${!pid_var} log="$T_DIR/$1.msgs"
    kill -TERM "$pid"
    wait "$pid"; rc=$?
    check_eq "$name: exit 0 after SIGTERM" "$rc" 0
    if has "$log" '(^|\|)STOPPING=1(\||$)'; then ok "$name: STOPPING=1 on SIGTERM"; else
        not_ok "$name: STOPPING=1 on SIGTERM"; sed 's/^/#   /' "$log"; fi
}

pg_start
certs_make
cert_issue reader-ca r1 r1 "extendedKeyUsage=clientAuth"
credential_key_make "$T_DIR/pki/credential.key"
make_login notify_controller sac_ingest
make_login notify_purger sac_purge
make_login notify_admin sac_admin
sacctl_as notify_admin site add hq >/dev/null
sacctl_as notify_admin reader add r1 --site hq --direction in >/dev/null

port=$(free_port)
controller_conf "$T_DIR/controller.conf" "$port" notify_controller
notified controller "$T_BIN/sac-controller" -c "$T_DIR/controller.conf"

spawn "$T_BIN/pn532-sim" --pty-file "$T_DIR/r1.pty" --control "$T_DIR/r1.sock"
wait_for 10 test -s "$T_DIR/r1.pty"
cat >"$T_DIR/reader.conf" <<CONF
[reader]
id             = r1
device         = pn532_uart:$(cat "$T_DIR/r1.pty")
controllers    = 127.0.0.1:$port
certificate    = $T_DIR/pki/r1.crt
private_key    = $T_DIR/pki/r1.key
controller_ca  = $T_DIR/pki/controller-ca.crt
credential_key = $T_DIR/pki/credential.key
spool          = $T_DIR/r1.spool
CONF
notified reader "$T_BIN/sac-reader" -c "$T_DIR/reader.conf"

cat >"$T_DIR/purge.conf" <<CONF
[purge]
database       = $(conninfo notify_purger)
CONF
notified purge "$T_BIN/sac-purge" -c "$T_DIR/purge.conf"

stopped reader
stopped controller
stopped purge

done_testing
