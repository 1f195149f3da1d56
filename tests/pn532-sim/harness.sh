# tests/pn532-sim/harness.sh — helpers for system tests (and the demo) that
# run sac-reader against pn532-sim.  Source it after tests/lib.sh.
#
#   sim_start NAME [--uid HEX]   emulator NAME; its pty path in $T_DIR/NAME.pty
#   sim NAME LINE...             one control line (see docs/reader.md); prints the reply
#   sim_pty NAME                 the emulator's /dev/pts/N
#   reader_conf NAME CONTROLLERS [DEVICE]
#                                $T_DIR/NAME.conf for reader id NAME, with a
#                                certificate for CN=NAME (needs certs_make) and
#                                the shared credential key $T_DIR/credential.key
#   reader_start NAME            sac-reader -c $T_DIR/NAME.conf, log in $T_DIR/NAME.log;
#                                its pid in READER_PID_<NAME with - as _>
#   credential_of UID_HEX        the credential (64 hex digits) of a UID

sim_start() {
    local name=$1; shift
    rm -f "$T_DIR/$name.pty"
    spawn "$T_BIN/pn532-sim" --pty-file "$T_DIR/$name.pty" --control "$T_DIR/$name.ctl" "$@" \
        2>>"$T_DIR/$name.sim.log"
    wait_for 10 test -s "$T_DIR/$name.pty" || { echo "pn532-sim $name did not start" >&2; return 1; }
}

sim() { local name=$1; shift; "$T_BIN/pn532-sim" --control "$T_DIR/$name.ctl" --send "$*"; }

sim_pty() { cat "$T_DIR/$1.pty"; }

credential_of() {
    uid_bytes "$1" | openssl dgst -sha256 -mac HMAC \
        -macopt "hexkey:$(cat "$T_DIR/credential.key")" | awk '{print $NF}'
}

# uid_bytes HEX: the raw bytes
uid_bytes() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

reader_conf() {
    local name=$1 controllers=$2 device=${3:-}
    [ -n "$device" ] || device="pn532_uart:$(sim_pty "$name")"
    [ -f "$T_DIR/credential.key" ] || credential_key_make "$T_DIR/credential.key"
    [ -f "$T_DIR/pki/$name.crt" ] || cert_issue reader-ca "$name" "$name"
    mkdir -p "$T_DIR/spool"
    cat >"$T_DIR/$name.conf" <<CONF
[reader]
id             = $name
device         = $device
controllers    = $controllers
certificate    = $T_DIR/pki/$name.crt
private_key    = $T_DIR/pki/$name.key
controller_ca  = $T_DIR/pki/controller-ca.crt
credential_key = $T_DIR/credential.key
spool          = $T_DIR/spool/$name.spool
CONF
}

reader_start() {
    local name=$1
    spawn "$T_BIN/sac-reader" -c "$T_DIR/$name.conf" 2>>"$T_DIR/$name.log"
    printf -v "READER_PID_${name//-/_}" '%s' "$T_LAST_PID"
}

# reader_pid NAME
reader_pid() { local v="READER_PID_${1//-/_}"; echo "${!v}"; }

# spool_records NAME: how many records the spool file holds (66 bytes each)
spool_records() { echo $(( $(stat -c %s "$T_DIR/spool/$1.spool") / 66 )); }

# log_count NAME REGEX: matching lines in the reader's log
log_count() { grep -Ec -- "$2" "$T_DIR/$1.log"; }
