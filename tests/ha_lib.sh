# tests/ha_lib.sh — a replicated PostgreSQL 15 under pg_auto_failover for the
# failover tests (tests/system/ha_*.sh) and `make ha-demo`.  Source it after
# tests/lib.sh, instead of calling pg_start.
#
# On 127.0.0.1, in $T_DIR: a monitor and two nodes (node1 starts as the
# primary, node2 as its synchronous standby), each run by its own
# `pg_autoctl run` in a process group of its own (as the postgres OS user
# when we are root), so that ha_kill can take a node down the way a lost
# machine goes: keeper and postmaster SIGKILLed at once.
#
#   ha_start                 monitor + node1 + node2, database sac migrated
#   conninfo ROLE            multi-host conninfo that follows the primary
#   ha_sql N ARGS...         psql as the superuser on node N itself
#   ha_kill N                SIGKILL node N's keeper and postmaster (its group)
#   ha_run N                 start node N's keeper again (it rejoins)
#   ha_states                "node1:STATE node2:STATE" as the monitor sees them
#   ha_wait_states WANT S    until ha_states is WANT (S seconds at most)
#   ha_primary               the node number the monitor calls primary
#
# The timings are the tuned ones of docs/ha.md: failure detection in about
# 4 s, the old primary demotes itself after 3 s without monitor and standby,
# the new one takes writes 6 s after the failover started.
#
# After ha_start, libpq's environment (PGHOST, PGPORT, PGTARGETSESSIONATTRS)
# points at both nodes, read-write: `sql`, `sacctl`, `make_login` of
# tests/lib.sh follow the primary.  The station helpers (ha_station …) use
# the reader helpers and purge_up of tests/lib/ (loaded by tests/lib.sh).

HA_HOSTS=127.0.0.1,127.0.0.1
HA_PGIDS=()
HA_XDG="$T_DIR/xdg"

# Monitor settings (postgresql.conf of the monitor), see docs/ha.md.
HA_MONITOR_CONF="pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 4000
pgautofailover.primary_demote_timeout = 6000
pgautofailover.startup_grace_period = 2000"

# Keeper settings (pg_autoctl config set), see docs/ha.md.
HA_KEEPER_CONF="timeout.network_partition_timeout 3
timeout.prepare_promotion_catchup 5
timeout.prepare_promotion_walreceiver 2"

# SAC_HA_DEFAULTS=1: pg_auto_failover's own timings instead (to measure
# what the tuning buys).
if [ -n "${SAC_HA_DEFAULTS:-}" ]; then HA_MONITOR_CONF=""; HA_KEEPER_CONF=""; fi

# Node settings: small for a test machine; WAL kept for standbys is bounded
# (retention: no copy of access data outlives its limit in pg_wal).
HA_NODE_CONF="shared_buffers = 32MB
effective_cache_size = 256MB
maintenance_work_mem = 32MB
work_mem = 4MB
max_connections = 100
wal_keep_size = 64MB
max_slot_wal_keep_size = 128MB
wal_recycle = off"

# ha_pg_cmd: the command prefix that runs a PostgreSQL tool as the postgres
# OS user (initdb and postgres refuse root) with pg_autoctl's state under $T_DIR.
ha_pg_cmd() {
    HA_CMD=()
    [ "$(id -u)" -eq 0 ] && HA_CMD=(runuser -u postgres --)
    # Without the clients' libpq environment: postgres itself takes PGPORT
    # as its default port, and pg_autoctl's own connections must not be
    # read-write only.
    HA_CMD+=(env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGTARGETSESSIONATTRS
             -u PGCONNECT_TIMEOUT XDG_CONFIG_HOME="$HA_XDG/config" XDG_DATA_HOME="$HA_XDG/data"
             XDG_RUNTIME_DIR="$HA_XDG/run" PATH="/usr/lib/postgresql/15/bin:$PATH")
}
ha_as_pg() { ha_pg_cmd; "${HA_CMD[@]}" "$@"; }

ha_monitor_uri() { echo "postgres://autoctl_node@127.0.0.1:$HA_MON_PORT/pg_auto_failover?sslmode=disable"; }

# ha_keeper NAME: starts `pg_autoctl run` for $T_DIR/NAME in a new process
# group; remembers the group in HA_PGID_NAME.
ha_keeper() {
    local name=$1
    ha_pg_cmd
    # Started from a script without job control, the background child is
    # not a group leader, so setsid makes it one without forking: $! is the
    # process group of the keeper and of the postgres it starts.
    setsid "${HA_CMD[@]}" pg_autoctl run --pgdata "$T_DIR/$name" >>"$T_DIR/$name.keeper.log" 2>&1 &
    printf -v "HA_PGID_$name" '%s' "$!"
    HA_PGIDS+=("$!")
    disown "$!"
}

# ha_free_port: like free_port, below Linux's ephemeral range (32768-60999):
# a formation keeps many client connections open (health checks,
# replication), and a port one of them uses locally cannot be listened on.
ha_free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
}

ha_port() { local v="HA_PORT$1"; echo "${!v}"; }

ha_sql() {
    local n=$1; shift
    psql -qXAt -d "host=127.0.0.1 port=$(ha_port "$n") user=postgres dbname=sac target_session_attrs=any" "$@"
}

ha_monitor_sql() {
    psql -qXAt -d "host=127.0.0.1 port=$HA_MON_PORT user=autoctl_node dbname=pg_auto_failover target_session_attrs=any" "$@"
}

ha_states() {
    ha_monitor_sql -c "SELECT string_agg(nodename || ':' || reportedstate, ' ' ORDER BY nodeid)
                       FROM pgautofailover.node" 2>/dev/null
}
ha_states_are() { [ "$(ha_states)" = "$1" ]; }
ha_wait_states() { wait_for "$2" ha_states_are "$1"; }

ha_primary() {
    ha_monitor_sql -c "SELECT nodeid FROM pgautofailover.node
                       WHERE reportedstate IN ('primary', 'wait_primary', 'single')
                         AND goalstate IN ('primary', 'wait_primary', 'single')" 2>/dev/null
}

# ha_create_node N: creates node N against the monitor (node1 runs initdb
# and becomes the primary, node2 is cloned from it) and starts its keeper.
ha_create_node() {
    local n=$1 line
    ha_as_pg pg_autoctl create postgres --pgdata "$T_DIR/node$n" --pgport "$(ha_port "$n")" \
        --hostname 127.0.0.1 --listen 127.0.0.1 --name "node$n" --dbname sac \
        --auth trust --no-ssl --monitor "$(ha_monitor_uri)" >>"$T_DIR/node$n.create.log" 2>&1 \
        || { tail -n 20 "$T_DIR/node$n.create.log"; return 1; }
    while read -r line; do
        [ -n "$line" ] || continue
        # shellcheck disable=SC2086
        ha_as_pg pg_autoctl config set --pgdata "$T_DIR/node$n" $line >/dev/null || return 1
    done <<<"$HA_KEEPER_CONF"
    ha_keeper "node$n"
}

ha_start() {
    HA_MON_PORT=$(ha_free_port); HA_PORT1=$(ha_free_port); HA_PORT2=$(ha_free_port)
    while [ "$HA_PORT2" = "$HA_PORT1" ] || [ "$HA_PORT1" = "$HA_MON_PORT" ] || [ "$HA_PORT2" = "$HA_MON_PORT" ]; do
        HA_PORT2=$(ha_free_port)
    done
    mkdir -p "$HA_XDG"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$T_DIR" "$HA_XDG"
    ha_as_pg pg_autoctl create monitor --pgdata "$T_DIR/monitor" --pgport "$HA_MON_PORT" \
        --hostname 127.0.0.1 --auth trust --no-ssl >"$T_DIR/monitor.create.log" 2>&1 \
        || { tail -n 20 "$T_DIR/monitor.create.log"; return 1; }
    printf '%s\nshared_buffers = 16MB\n' "$HA_MONITOR_CONF" >>"$T_DIR/monitor/postgresql.conf"
    ha_keeper monitor
    wait_for 30 ha_monitor_sql -c "SELECT 1" || { echo "monitor did not start" >&2; return 1; }

    ha_create_node 1 || return 1
    # Settings first on the primary: node2's copy of postgresql.conf is
    # cloned from it.
    printf '%s\n' "$HA_NODE_CONF" >>"$T_DIR/node1/postgresql.conf"
    wait_for 30 ha_states_are "node1:single" || { echo "node1 not single: $(ha_states)" >&2; return 1; }
    wait_for 30 ha_sql 1 -c "SELECT pg_reload_conf()" || { echo "node1 does not answer" >&2; return 1; }
    ha_create_node 2 || return 1
    ha_wait_states "node1:primary node2:secondary" 60 \
        || { echo "formation not ready: $(ha_states)" >&2; return 1; }
    # The primary's own settings that need a restart (shared_buffers) wait
    # for the next start; everything about WAL retention is reloadable.
    export PGHOST=$HA_HOSTS PGPORT="$HA_PORT1,$HA_PORT2" PGUSER=postgres PGDATABASE=sac
    export PGTARGETSESSIONATTRS=read-write PGCONNECT_TIMEOUT=2
    if [ -x "$T_BIN/sacctl" ]; then
        "$T_BIN/sacctl" db migrate >"$T_DIR/migrate.log" 2>&1 || { cat "$T_DIR/migrate.log"; return 1; }
    else
        cat "$T_REPO"/sql/[0-9]*.sql | psql -qX -v ON_ERROR_STOP=1 -1 >"$T_DIR/migrate.log" 2>&1 \
            || { cat "$T_DIR/migrate.log"; return 1; }
    fi
}

# Multi-host conninfo for a login role: whichever node takes writes.
conninfo() {
    echo "host=$HA_HOSTS port=$HA_PORT1,$HA_PORT2 dbname=sac user=$1 target_session_attrs=read-write connect_timeout=2"
}

# ha_kill N: node N is lost: its keeper, its postmaster and every process
# the postmaster started, SIGKILLed at once.  (PostgreSQL's children run in
# sessions of their own, so they are named one by one, from the postmaster's
# children before it dies.)
ha_kill() {
    local v="HA_PGID_node$1" pm kids
    pm=$(head -n 1 "$T_DIR/node$1/postmaster.pid" 2>/dev/null)
    kids=$( [ -n "$pm" ] && pgrep -P "$pm" | tr '\n' ' ')
    # shellcheck disable=SC2086
    kill -KILL -- "-${!v}" ${pm:+$pm} $kids 2>/dev/null
    wait_for 10 ha_gone "${!v}" $kids
}
# ha_gone PGID PID...: no process of group PGID and none of the PIDs is left.
ha_gone() {
    local g=$1 p; shift
    pgrep -g "$g" >/dev/null && return 1
    for p in "$@"; do [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && return 1; done
    return 0
}

ha_run() { ha_keeper "node$1"; }

# --- a station on the replicated database ------------------------------------
#
# ha_station: site hq with readers gate-in (in, lobby), gate-out (out) and
# hall-in (in, hall); persons "Person 1" … "Person 120", each with a badge
# whose credential is sha256('ha-badge-N'); logins off1 (certified and
# informed officer of hq), aud1 (auditor), cert1 (certifier); reader
# certificates; sac-controller ctl-1 on $HA_CTL_PORT and sac-purge (every
# second), both with the multi-host conninfo.
ha_station() {
    certs_make
    credential_key_make "$T_DIR/credential.key"
    sql >/dev/null <<'SQL' || return 1
INSERT INTO sac.sites (name) VALUES ('hq');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES
    ('gate-in', 1, 'in', 'lobby'), ('gate-out', 1, 'out', NULL), ('hall-in', 1, 'in', 'hall');
INSERT INTO sac.persons (name, category) SELECT 'Person ' || i, 'staff' FROM generate_series(1, 120) i;
INSERT INTO sac.badges (credential, person_id)
    SELECT sha256(('ha-badge-' || substr(p.name, 8))::bytea), p.id FROM sac.persons p;
SQL
    local r
    for r in gate-in gate-out hall-in; do cert_issue reader-ca "$r" "$r"; done
    make_login cert1 sac_certifier
    make_login off1 sac_officer
    make_login aud1 sac_auditor
    sacctl_as cert1 officer certify off1 --site hq --expires "$(date -u -d '+30 days' +%F)" >/dev/null || return 1
    sacctl_as off1 officer acknowledge --yes >/dev/null || return 1
    HA_CTL_PORT=$(ha_free_port)
    controller_start ctl-1 "$HA_CTL_PORT" || return 1
    purge_up
}

# ha_creds FROM TO: the credentials of persons FROM..TO, one per line.
ha_creds() {
    sql -c "SELECT encode(sha256(('ha-badge-' || i)::bytea), 'hex') FROM generate_series($1, $2) i"
}

# ha_taps READER FROM TO: one event per person FROM..TO at READER, sent in
# one connection; succeeds when every one was acknowledged.
ha_taps() {
    local reader=$1 from=$2 to=$3 cred i=$2 ms
    ms=$(date +%s%3N)
    ha_creds "$from" "$to" | while read -r cred; do
        printf 'EVENT %s %s %s\n' "$(openssl rand -hex 16)" "$((ms + i - from))" "$cred"
        i=$((i + 1))
    done >"$T_DIR/taps.$reader"
    "$T_BIN/../bench/ingest" send -s "127.0.0.1:$HA_CTL_PORT" --cert "$T_DIR/pki/$reader.crt" \
        --key "$T_DIR/pki/$reader.key" --ca "$T_DIR/pki/controller-ca.crt" \
        --expect $((to - from + 2)) --timeout 60 \
        < <(echo "HELLO sac/1 $reader"; cat "$T_DIR/taps.$reader") >"$T_DIR/taps.$reader.out"
    [ "$(grep -c '^ACK ' "$T_DIR/taps.$reader.out")" = $((to - from + 1)) ]
}

# ha_load NAME CONNS RATE SECONDS: tests/tools/ha_readers.py at hall-in with
# the badges of persons 101..120, bookkeeping in $T_DIR/NAME/ (spawned;
# its pid in HA_LOAD_PID).  The controllers: $HA_LOAD_SERVERS (host:port,…),
# by default ctl-1.
ha_load() {
    ha_creds 101 120 >"$T_DIR/hall.creds"
    spawn python3 "$T_REPO/tests/tools/ha_readers.py" --server "${HA_LOAD_SERVERS:-127.0.0.1:$HA_CTL_PORT}" \
        --cert "$T_DIR/pki/hall-in.crt" --key "$T_DIR/pki/hall-in.key" \
        --ca "$T_DIR/pki/controller-ca.crt" --reader hall-in --conns "$2" --rate "$3" \
        --duration "$4" --creds "$T_DIR/hall.creds" --out "$T_DIR/$1" >"$T_DIR/$1.out" 2>&1
    HA_LOAD_PID=$T_LAST_PID
}

# ha_present: the officer's headcount at hq, "PRESENT person_id,…" (exit 1
# when sacctl failed).
ha_present() {
    sacctl_as off1 --format json headcount --site hq >"$T_DIR/headcount.json" 2>"$T_DIR/headcount.err" \
        || return 1
    python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))
print(h["present"], ",".join(str(p["person_id"]) for p in sorted(h["persons"], key=lambda p: p["person_id"])))' \
        "$T_DIR/headcount.json"
}

# ha_failover N TRUTH [PID...]: kills node N (the primary), and the
# processes PID with it (what else ran in that building), and measures, from
# the kill, until `sacctl headcount` answers TRUTH (HA_HEAD_S); HA_KILL_MS
# and HA_DEAD_MS are the times of the kill and of its completion.
ha_failover() {
    local n=$1 truth=$2 got; shift 2
    HA_KILL_MS=$(date +%s%3N)
    [ $# -gt 0 ] && kill -KILL "$@"
    ha_kill "$n"
    HA_DEAD_MS=$(date +%s%3N)
    while :; do
        got=$(ha_present) && [ "$got" = "$truth" ] && break
        [ $(( $(date +%s%3N) - HA_KILL_MS )) -gt 300000 ] && { HA_HEAD_S=never; return 1; }
        sleep 0.2
    done
    HA_HEAD_S=$(ha_seconds $(( $(date +%s%3N) - HA_KILL_MS )))
}

# ha_setup_done: ends the test when a set-up check failed (nothing after it
# could mean anything).
ha_setup_done() { [ "$T_FAIL" -eq 0 ] || done_testing; }

ha_seconds() { printf '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# ha_account NAME READER: the accounting of load NAME against the ledger,
# by event id: sets HA_MADE HA_ACKED HA_STORED HA_LOST HA_DUPLICATED
# HA_STRANGERS (stored but never made) and HA_WRITES_S (kill to the first
# ACK of an event made after the kill had completed).
ha_account() {
    local d="$T_DIR/$1"
    awk '{print $1}' "$d/made" | sort -u >"$d/made.ids"
    awk '{print $1}' "$d/acked" | sort -u >"$d/acked.ids"
    sql -c "SELECT replace(event_id::text, '-', '') FROM access.events WHERE reader_id = '$2'" \
        | sort >"$d/stored.all"
    sort -u "$d/stored.all" >"$d/stored.ids"
    HA_MADE=$(wc -l <"$d/made.ids")
    HA_ACKED=$(wc -l <"$d/acked.ids")
    HA_STORED=$(wc -l <"$d/stored.ids")
    HA_LOST=$(comm -23 "$d/acked.ids" "$d/stored.ids" | wc -l)
    HA_DUPLICATED=$(( $(wc -l <"$d/stored.all") - HA_STORED ))
    HA_STRANGERS=$(comm -13 "$d/made.ids" "$d/stored.ids" | wc -l)
    local first
    first=$(awk -v t="$HA_DEAD_MS" '$3 > t && (m == "" || $4 < m) {m = $4} END {print m}' "$d/acked")
    if [ -n "$first" ]; then HA_WRITES_S=$(ha_seconds $((first - HA_KILL_MS))); else HA_WRITES_S=never; fi
}

# The SPEC §7 summary line.
ha_summary() {
    echo "failover: writes resumed after $HA_WRITES_S s, headcount after $HA_HEAD_S s;" \
        "events acked $HA_ACKED, stored $HA_STORED, lost $HA_LOST, duplicated $HA_DUPLICATED"
}

ha_cleanup() {
    local g
    for g in "${HA_PGIDS[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
    for g in "${HA_PGIDS[@]}"; do
        wait_for 10 bash -c "! pgrep -g $g >/dev/null" || true
    done
    t_cleanup
}
trap ha_cleanup EXIT
