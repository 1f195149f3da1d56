# tests/lib/controller.sh — the controller's configuration, and the set-up
# of tests/system/controller_*.sh (loaded by tests/lib.sh).
#
# controller_conf FILE PORT LOGIN [LINE...]: the [controller] section for
# 127.0.0.1:PORT with the test PKI and database role LOGIN, plus LINEs.
#
# ctl_setup: a cluster with one site, readers
#   gate-in (in, zone lobby), gate-out (out), muster-1 (muster, zone park),
#   gate-off (in, disabled),
# a person with badge UID 04a1b2c3 ($CRED_A), a pool badge 04d5e6f7
# ($CRED_POOL), a revoked badge 04000001 ($CRED_REVOKED), certificates for
# each reader, and a running controller on $CTL_PORT.

CTL_BENCH="$T_BIN/../bench/ingest"

# event_id N: a fixed, valid event id for test event N.
event_id() { printf '%032x' "$1"; }

now_ms() { date +%s%3N; }

controller_conf() {
    local file=$1 port=$2 login=$3 line; shift 3
    {
        echo "[controller]"
        echo "listen      = 127.0.0.1:$port"
        echo "certificate = $T_DIR/pki/controller.crt"
        echo "private_key = $T_DIR/pki/controller.key"
        echo "reader_ca   = $T_DIR/pki/reader-ca.crt"
        echo "database    = $(conninfo "$login")"
        for line in "$@"; do echo "$line"; done
    } >"$file"
}

ctl_write_config() { controller_conf "$T_DIR/controller.conf" "$CTL_PORT" ctl_login "$@"; }

ctl_start() {
    spawn "$T_BIN/sac-controller" -c "$T_DIR/controller.conf" 2>>"$T_DIR/controller.log"
    CTL_PID=$T_LAST_PID
    wait_for 20 grep -q 'ready' "$T_DIR/controller.log"
}

ctl_setup() {
    pg_start || return 1
    certs_make
    credential_key_make "$T_DIR/credential.key"
    local r
    for r in gate-in gate-out muster-1 gate-off; do
        cert_issue reader-ca "$r" "$r"
    done
    make_login ctl_login sac_ingest
    CRED_A=$(credential_of 04a1b2c3)
    CRED_POOL=$(credential_of 04d5e6f7)
    CRED_REVOKED=$(credential_of 04000001)
    CRED_UNKNOWN=$(credential_of 04999999)
    sql >/dev/null <<SQL || return 1
INSERT INTO sac.sites (name) VALUES ('hq');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES
    ('gate-in', 1, 'in', 'lobby'), ('gate-out', 1, 'out', NULL),
    ('muster-1', 1, 'muster', 'park'), ('gate-off', 1, 'in', NULL);
UPDATE sac.readers SET enabled = false WHERE id = 'gate-off';
INSERT INTO sac.persons (name, category) VALUES ('Test Person', 'staff');
INSERT INTO sac.badges (credential, person_id) VALUES ('\\x$CRED_A', 1);
INSERT INTO sac.badges (credential, person_id) VALUES ('\\x$CRED_POOL', NULL);
INSERT INTO sac.badges (credential, person_id, revoked_at) VALUES ('\\x$CRED_REVOKED', 1, now());
SQL
    CTL_PORT=$(free_port)
    ctl_write_config
    ctl_start
}

# as_reader CERTNAME [ingest send options]: stdin to the controller as that
# reader's certificate; prints what the controller answered.
as_reader() {
    local name=$1; shift
    "$CTL_BENCH" send -s "127.0.0.1:$CTL_PORT" --cert "$T_DIR/pki/$name.crt" \
        --key "$T_DIR/pki/$name.key" --ca "$T_DIR/pki/controller-ca.crt" "$@"
}

events_count() { sql -c "SELECT count(*) FROM access.events${1:+ WHERE $1}"; }
