# tests/lib.sh — the system-test harness, sourced by tests/system/*.sh.
#
# Gives each test script a temporary directory, a throwaway PostgreSQL 15
# cluster in it (run as the postgres OS user when we are root: initdb refuses
# root), test certificates, and TAP-style checks.  Everything started here is
# stopped by the EXIT trap, also when a check fails or the script dies.
#
#   source "$(dirname "$0")/../lib.sh"
#   pg_start                  # cluster + database "sac" + migrations
#   check "what" command ...  # ok / not ok
#   done_testing
#
# It also loads tests/lib/*.sh: reader.sh (pn532-sim, sac-reader, the
# credential of a UID), controller.sh (the controller's configuration and
# the controller tests' set-up), fault.sh (seeded spools and the by-id
# accounting of the fault tests).

set -u
T_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_BIN=${SAC_BIN:-$T_REPO/build/bin}
T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "/tmp/sac-$T_NAME.XXXXXX")
chmod 755 "$T_DIR"
T_PASS=0
T_FAIL=0
T_PIDS=()
T_PG_STARTED=0
export PATH="$T_BIN:$PATH"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$T_REPO/tests/lsan.supp:print_suppressions=0}

t_cleanup() {
    local pid
    for pid in "${T_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${T_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    if [ "$T_PG_STARTED" = 1 ]; then
        t_as_pg pg_ctl -D "$T_DIR/pg" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ "$T_FAIL" -gt 0 ] && [ -n "${SAC_KEEP_FAILED:-}" ]; then
        echo "# kept $T_DIR" >&2
    else
        rm -rf "$T_DIR"
    fi
}
trap t_cleanup EXIT

# --- checks ---------------------------------------------------------------

ok() { T_PASS=$((T_PASS + 1)); echo "ok $((T_PASS + T_FAIL)) - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok $((T_PASS + T_FAIL)) - $*"; }

# check DESC CMD...: passes when CMD exits 0.
check() {
    local desc=$1; shift
    if "$@" >"$T_DIR/last.out" 2>&1; then ok "$desc"; else
        not_ok "$desc"; sed 's/^/#   /' "$T_DIR/last.out" | tail -n 20
    fi
}

# check_exit DESC STATUS CMD...: passes when CMD exits with STATUS.
check_exit() {
    local desc=$1 want=$2 got; shift 2
    "$@" >"$T_DIR/last.out" 2>&1; got=$?
    if [ "$got" = "$want" ]; then ok "$desc"; else
        not_ok "$desc (exit $got, wanted $want)"; sed 's/^/#   /' "$T_DIR/last.out" | tail -n 20
    fi
}

# check_eq DESC GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', wanted '$3')"; fi
}

# check_match DESC TEXT REGEX (extended regular expression)
check_match() {
    if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else
        not_ok "$1 (no match for /$3/)"; printf '%s\n' "$2" | sed 's/^/#   /' | tail -n 20
    fi
}

# check_no_match DESC TEXT REGEX
check_no_match() {
    if printf '%s' "$2" | grep -Eq -- "$3"; then
        not_ok "$1 (unexpected /$3/)"; printf '%s\n' "$2" | grep -E -- "$3" | sed 's/^/#   /' | head
    else ok "$1"; fi
}

# wait_for SECONDS CMD...: retries CMD every 0.1 s until it succeeds.
wait_for() {
    local limit=$1 i; shift
    for i in $(seq 1 $((limit * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    return 1
}

# log_mark FILE: the size of FILE now (0 when it does not exist yet), to be
# given to log_since / log_count_since: checks of a log then see only the
# lines written after the mark, never what happened before it.
log_mark() { stat -c %s "$1" 2>/dev/null || echo 0; }
# log_since FILE MARK: what was written to FILE after MARK
log_since() { tail -c +$(($2 + 1)) "$1" 2>/dev/null; }
# log_count_since FILE MARK REGEX: lines after MARK matching REGEX
log_count_since() { log_since "$1" "$2" | grep -Ec -- "$3"; }
# log_has_since FILE MARK REGEX: true once a line after MARK matches
log_has_since() { log_since "$1" "$2" | grep -Eq -- "$3"; }

done_testing() {
    echo "# $T_NAME: $T_PASS passed, $T_FAIL failed"
    [ "$T_FAIL" -eq 0 ]
    exit $?
}

# Runs a command in the background, remembered for cleanup.  Sets T_LAST_PID.
spawn() {
    "$@" &
    T_LAST_PID=$!
    T_PIDS+=("$T_LAST_PID")
}

# free_port: a port nothing listens on, below the kernel's ephemeral range
# (ip_local_port_range): a port chosen inside it may be taken as the local
# end of some client connection before the test binds it.
free_port() {
    local port low
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    [ "$low" -gt 12000 ] || low=32768
    while :; do
        port=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
}

# --- PostgreSQL -------------------------------------------------------------

t_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- env PATH="/usr/lib/postgresql/15/bin:$PATH" "$@"
    else
        env PATH="/usr/lib/postgresql/15/bin:$PATH" "$@"
    fi
}

# pg_start [EXTRA_POSTGRESQL_CONF_LINES]: initdb, start, create database sac,
# run `sacctl db migrate` as the superuser.  Exports PGHOST, PGPORT, PGUSER,
# PGDATABASE for the superuser; T_PG_SOCK is the socket directory.
pg_start() {
    T_PG_PORT=$(free_port)
    T_PG_SOCK="$T_DIR/sock"
    mkdir -p "$T_DIR/pg" "$T_PG_SOCK"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$T_DIR/pg" "$T_PG_SOCK"
    t_as_pg initdb -D "$T_DIR/pg" -U postgres -A trust -E UTF8 --no-locale >"$T_DIR/initdb.log" 2>&1 \
        || { cat "$T_DIR/initdb.log"; return 1; }
    cat >>"$T_DIR/pg/postgresql.conf" <<CONF
listen_addresses = ''
port = $T_PG_PORT
unix_socket_directories = '$T_PG_SOCK'
shared_buffers = 128MB
max_connections = 100
wal_recycle = off
${1:-}
CONF
    t_as_pg pg_ctl -D "$T_DIR/pg" -l "$T_DIR/pg/server.log" -w -t 60 start >/dev/null || return 1
    T_PG_STARTED=1
    export PGHOST="$T_PG_SOCK" PGPORT="$T_PG_PORT" PGUSER=postgres PGDATABASE=sac
    psql -qX -d postgres -c "CREATE DATABASE sac" >/dev/null || return 1
    if [ -x "$T_BIN/sacctl" ]; then
        "$T_BIN/sacctl" db migrate >"$T_DIR/migrate.log" 2>&1 || { cat "$T_DIR/migrate.log"; return 1; }
    else
        # Before sacctl exists on a branch: the same files, in one transaction.
        cat "$T_REPO"/sql/[0-9]*.sql | psql -qX -v ON_ERROR_STOP=1 -1 >"$T_DIR/migrate.log" 2>&1 \
            || { cat "$T_DIR/migrate.log"; return 1; }
    fi
}

pg_stop() { t_as_pg pg_ctl -D "$T_DIR/pg" -m "${1:-fast}" -w stop >/dev/null; }
pg_restart_server() { t_as_pg pg_ctl -D "$T_DIR/pg" -l "$T_DIR/pg/server.log" -w -t 60 start >/dev/null; }

# Conninfo for a login role: conninfo ROLE
conninfo() { echo "host=$T_PG_SOCK port=$T_PG_PORT dbname=sac user=$1"; }

# psql as the superuser, quiet, unaligned, tuples only.
sql() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

# make_login ROLE GROUP...: a login role in the given group roles.
make_login() {
    local role=$1; shift
    local groups; groups=$(IFS=,; echo "$*")
    sql -c "CREATE ROLE \"$role\" LOGIN${groups:+ IN ROLE $groups}" >/dev/null
}

# sacctl_as ROLE ARGS...: sacctl acting as a database role.
sacctl_as() { local role=$1; shift; "$T_BIN/sacctl" --db "$(conninfo "$role")" "$@"; }

# --- certificates -----------------------------------------------------------

# certs_make: a CA for readers and one for controllers under $T_DIR/pki,
# a controller certificate for 127.0.0.1/localhost.
certs_make() {
    local d="$T_DIR/pki"
    mkdir -p "$d" && chmod 700 "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=sac test reader CA" -keyout "$d/reader-ca.key" -out "$d/reader-ca.crt" 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=sac test controller CA" -keyout "$d/controller-ca.key" -out "$d/controller-ca.crt" 2>/dev/null
    cert_issue controller-ca controller localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
}

# cert_issue CA NAME CN [EXTENSION]: $T_DIR/pki/NAME.{key,crt} signed by CA.
cert_issue() {
    local d="$T_DIR/pki" ca=$1 name=$2 cn=$3 ext=${4:-}
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
        -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
    if [ -n "$ext" ]; then
        openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" \
            -CAcreateserial -days 1 -out "$d/$name.crt" -extfile <(echo "$ext") 2>/dev/null
    else
        openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" \
            -CAcreateserial -days 1 -out "$d/$name.crt" 2>/dev/null
    fi
    chmod 600 "$d/$name.key"
}

# credential_key_make PATH: 32 random bytes as 64 hex digits, mode 0600.
credential_key_make() {
    (umask 077; openssl rand -hex 32 >"$1")
}

# bytes_absent HEX PATH...: true when the byte sequence HEX occurs in no file
# under the PATHs (read as binary: NUL and newline bytes match exactly).
bytes_absent() {
    python3 - "$@" <<'PY'
import os, sys
needle = bytes.fromhex(sys.argv[1])
for root in sys.argv[2:]:
    paths = [root] if os.path.isfile(root) else [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    for p in paths:
        try:
            with open(p, "rb") as fh:
                if needle in fh.read():
                    print("found in", p); sys.exit(1)
        except OSError:
            pass
PY
}

for t_lib in "$T_REPO"/tests/lib/*.sh; do
    # shellcheck source=/dev/null
    source "$t_lib"
done
unset t_lib
