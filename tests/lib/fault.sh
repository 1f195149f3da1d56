# tests/lib/fault.sh — the set-up and the accounting of tests/system/fault_*.sh
# (loaded by tests/lib.sh).
#
# Load comes from the real readers: each reader's spool is seeded with
# events of known ids (tests/tools/spool_seed.py) before it starts, and a
# background loop taps cards on pn532-sim while the fault happens.  At the
# end every event is accounted for BY ID: the ids seeded and the ids the
# readers logged as created must be exactly the ids in access.events, each
# once, and each must have a verdict in its reader's log.

T_TOOLS="$T_REPO/tests/tools"
F_UID_A=04a1b2c3d4e5f6
F_UID_B=04b1b2c3d4e5f6
F_UID_X=04c0ffee000001   # never enrolled: DENY

# fault_setup READER...: cluster, PKI, site hq with entry readers, two
# enrolled badges ($F_CRED_A, $F_CRED_B) and one stranger ($F_CRED_X).
fault_setup() {
    pg_start "${F_PG_CONF:-}" || return 1
    certs_make
    credential_key_make "$T_DIR/credential.key"
    enroll_setup hq "$@" || return 1
    enroll "Badge A" "$F_UID_A" >/dev/null || return 1
    enroll "Badge B" "$F_UID_B" >/dev/null || return 1
    F_CRED_A=$(credential_of "$F_UID_A")
    F_CRED_B=$(credential_of "$F_UID_B")
    F_CRED_X=$(credential_of "$F_UID_X")
}

# seed NAME TAG COUNT: COUNT pending events in NAME's spool (before it starts)
seed() {
    mkdir -p "$T_DIR/spool"
    python3 "$T_TOOLS/spool_seed.py" "$T_DIR/spool/$1.spool" "$2" "$3" \
        "$F_CRED_A" "$F_CRED_X" "$F_CRED_B" >>"$T_DIR/$1.seeded"
    chmod 600 "$T_DIR/spool/$1.spool"
}

# reader_up NAME CONTROLLERS: emulator, configuration and reader.
reader_up() {
    [ -f "$T_DIR/$1.pty" ] || sim_start "$1" || return 1
    reader_conf "$1" "$2"
    reader_start "$1"
}

# tap_loop NAME: taps A, stranger, B in turn until killed (run with spawn).
tap_loop() {
    local n=0 uids=("$F_UID_A" "$F_UID_X" "$F_UID_B")
    while :; do
        tap "$1" "${uids[$((n % 3))]}" >/dev/null 2>&1 || sleep 0.2
        n=$((n + 1))
    done
}

# purge_up: sac-purge (every 10 s, the shortest interval), log in $T_DIR/purge.log
purge_up() {
    make_login purger sac_purge
    sql -c "SELECT FROM sac.retention_set(NULL, interval '10 seconds')" >/dev/null
    cat >"$T_DIR/purge.conf" <<CONF
[purge]
database       = $(conninfo purger)
CONF
    spawn "$T_BIN/sac-purge" -c "$T_DIR/purge.conf" 2>>"$T_DIR/purge.log"
    PURGE_PID=$T_LAST_PID
}
purge_passes() { grep -c 'purge pass:' "$T_DIR/purge.log"; }

# expected_ids NAME: sorted ids seeded or created at NAME
# spool_harvest NAME: after NAME was killed, the ids of every intact pending
# record in its spool join the expected ids: an event spooled just before a SIGKILL may
# never have had its "created" line written.
spool_harvest() {
    python3 - "$T_DIR/spool/$1.spool" >>"$T_DIR/$1.harvested" <<'PY'
import sys, zlib
data = open(sys.argv[1], "rb").read()
for i in range(0, len(data) - 65, 66):
    rec = data[i:i + 66]
    if rec[:4] == b"SP\x01P" and zlib.crc32(rec[:62]) & 0xffffffff == int.from_bytes(rec[62:], "little"):
        print(rec[6:22].hex())
PY
}

expected_ids() {
    { cat "$T_DIR/$1.seeded" "$T_DIR/$1.harvested" 2>/dev/null
      grep -oE 'event [0-9a-f]{32} created' "$T_DIR/$1.log" | awk '{print $2}'; } | sort -u
}
ledger_ids() {
    sql -c "SELECT replace(event_id::text, '-', '') FROM access.events WHERE reader_id = '$1'" | sort
}
verdict_ids() {
    grep -oE 'event [0-9a-f]{32}: (GRANT|DENY)' "$T_DIR/$1.log" | awk '{print $2}' | tr -d : | sort -u
}
ledger_reader_count() { sql -c "SELECT count(*) FROM access.events WHERE reader_id = '$1'"; }
# all_delivered NAME: every expected id has a verdict in the reader's log
all_delivered() {
    [ -z "$(comm -23 <(expected_ids "$1") <(verdict_ids "$1"))" ]
}
ledger_at_least() { [ "$(ledger_count)" -ge "$1" ]; }

# account NAME...: the exact accounting, by id, per reader.
account() {
    local r exp led
    for r in "$@"; do
        exp=$(expected_ids "$r"); led=$(ledger_ids "$r")
        check "$r: every event acknowledged in the end" wait_for 90 all_delivered "$r"
        exp=$(expected_ids "$r"); led=$(ledger_ids "$r")
        check_eq "$r: events lost (made, not in the ledger)" \
            "$(comm -23 <(echo "$exp") <(echo "$led" | sort -u) | grep -c .)" 0
        check_eq "$r: events duplicated in the ledger" \
            "$(echo "$led" | uniq -d | grep -c .)" 0
        check_eq "$r: ledger rows never made by the reader" \
            "$(comm -13 <(echo "$exp") <(echo "$led" | sort -u) | grep -c .)" 0
        check_eq "$r: ledger rows = events made ($(echo "$exp" | grep -c .))" \
            "$(echo "$led" | grep -c .)" "$(echo "$exp" | grep -c .)"
        check_eq "$r: no event lost at the source" "$(log_count "$r" 'LOST')" 0
    done
}
