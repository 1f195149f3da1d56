# tests/lib/reader.sh — sac-reader against pn532-sim, and the readers'
# view of the controller and the ledger (loaded by tests/lib.sh).
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
#   credential_of UID_HEX [KEY]  the credential (64 hex digits) of a UID:
#                                HMAC-SHA256 under the key file (default
#                                $T_DIR/credential.key) of the UID's bytes

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
        -macopt "hexkey:$(cat "${2:-$T_DIR/credential.key}")" | awk '{print $NF}'
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

# The tests follow events through the reader's debug lines (event ids are
# access data, so the daemon logs them only at debug level); READER_DEBUG=0
# runs the reader at its default level.
reader_start() {
    local name=$1
    SAC_DEBUG=${READER_DEBUG:-1} spawn "$T_BIN/sac-reader" -c "$T_DIR/$name.conf" 2>>"$T_DIR/$name.log"
    printf -v "READER_PID_${name//-/_}" '%s' "$T_LAST_PID"
}

# reader_pid NAME
reader_pid() { local v="READER_PID_${1//-/_}"; echo "${!v}"; }

# spool_records NAME: how many records the spool file holds (66 bytes each)
spool_records() { echo $(( $(stat -c %s "$T_DIR/spool/$1.spool") / 66 )); }

# log_count NAME REGEX: matching lines in the reader's log
log_count() { grep -Ec -- "$2" "$T_DIR/$1.log"; }

# --- with the real controller and PostgreSQL (after pg_start, certs_make) ----

# controller_start NAME PORT: sac-controller NAME on 127.0.0.1:PORT, database
# role NAME (created in sac_ingest on first use), log in $T_DIR/NAME.log.
# Its pid in CONTROLLER_PID_<NAME with - as _>.
controller_start() {
    local name=$1 port=$2
    if [ ! -f "$T_DIR/$name.conf" ]; then
        make_login "$name" sac_ingest
        controller_conf "$T_DIR/$name.conf" "$port" "$name"
    fi
    spawn "$T_BIN/sac-controller" -c "$T_DIR/$name.conf" 2>>"$T_DIR/$name.log"
    printf -v "CONTROLLER_PID_${name//-/_}" '%s' "$T_LAST_PID"
    wait_for 60 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || { echo "controller $name did not listen" >&2; return 1; }
}

controller_pid() { local v="CONTROLLER_PID_${1//-/_}"; echo "${!v}"; }

# enroll_setup SITE READER...: the site and its entry readers, as the superuser.
enroll_setup() {
    local site=$1 r; shift
    sacctl site add "$site" >/dev/null || return 1
    for r in "$@"; do sacctl reader add "$r" --site "$site" --direction in >/dev/null || return 1; done
}

# enroll NAME UID_HEX: a person with one badge; prints the badge id.
enroll() {
    local person
    person=$(sacctl person add --name "$1" --category staff) || return 1
    sacctl badge enroll --person "$person" --uid "$2" --key "$T_DIR/credential.key" >/dev/null || return 1
    sql -c "SELECT id FROM sac.badges WHERE person_id = $person"
}

# verdicts NAME: the reader's logged verdict lines
acks() { grep -Ec -- "event [0-9a-f]{32}: (GRANT|DENY|EXPIRED)" "$T_DIR/$1.log"; }
acks_are() { [ "$(acks "$1")" = "$2" ]; }
taps() { grep -Ec -- "event [0-9a-f]{32} created" "$T_DIR/$1.log"; }
taps_are() { [ "$(taps "$1")" = "$2" ]; }

# tap NAME UID: presents the card until the reader made an event, then removes it
# and waits until the reader polled an empty field.
tap() {
    local before; before=$(taps "$1")
    sim "$1" present "$2" >/dev/null
    wait_for 10 taps_are "$1" $((before + 1)) || { echo "no event for tap on $1" >&2; return 1; }
    sim "$1" remove >/dev/null
    sim "$1" wait-polls 4 >/dev/null
}

# ledger_count [WHERE]: rows in access.events (superuser)
ledger_count() { sql -c "SELECT count(*) FROM access.events ${1:+WHERE $1}"; }
ledger_is() { [ "$(ledger_count "${2:-}")" = "$1" ]; }

# spool_record ID_HEX32 UNIX_MS CRED_HEX64: one pending spool record on
# stdout (the layout of reader/spool.h; gzip's trailer is the CRC-32).
spool_record() {
    local ms=$2 le="" i
    for i in 0 1 2 3 4 5 6 7; do le+=$(printf '\\x%02x' $(( (ms >> (8 * i)) & 255 ))); done
    { printf 'SP\x01P\x38\x00'; uid_bytes "$1"; printf "$le"; uid_bytes "$3"; } >"$T_DIR/.rec"
    cat "$T_DIR/.rec"
    gzip -c <"$T_DIR/.rec" | tail -c 8 | head -c 4
}
