# tests/web/web_lib.sh — helpers for the sac-web system tests (sourced after
# tests/lib.sh and tests/pn532-sim/harness.sh).
#
#   web_scram             pg_hba: password (SCRAM) sign-in for every role but
#                         the superuser, as sac-web requires
#   web_role ROLE PW GROUP...   a login role with a password
#   web_start [IDLE]      sac-web on https://localhost:$WEB_PORT (certificate
#                         of the test controller CA), log in $T_DIR/web.log
#   web_curl ARGS...      curl against it: status code, then the body, in
#                         $T_DIR/resp.{code,body,headers}; prints the code
#   web_signin ROLE PW    signs in with cookie jar $T_DIR/ROLE.jar; sets CSRF

web_scram() {
    cat >"$T_DIR/pg/pg_hba.conf" <<HBA
local all postgres trust
${WEB_HBA_EXTRA:-}
local all all scram-sha-256
HBA
    sql -c "SELECT pg_reload_conf()" >/dev/null
}

web_role() {
    local role=$1 pw=$2; shift 2
    make_login "$role" "$@"
    sql -c "ALTER ROLE \"$role\" PASSWORD '$pw'" >/dev/null
}

# sacctl as a role with its password.
sacctl_pw() { local role=$1 pw=$2; shift 2; "$T_BIN/sacctl" --db "$(conninfo "$role") password=$pw" "$@"; }

web_write_config() {
    cat >"$T_DIR/web.conf" <<CONF
[web]
listen       = 127.0.0.1:$WEB_PORT
certificate  = $T_DIR/pki/web.crt
private_key  = $T_DIR/pki/web.key
database     = host=$T_PG_SOCK port=$T_PG_PORT dbname=sac
session_idle = ${1:-10m}
CONF
}

web_start() {
    WEB_PORT=${WEB_PORT:-$(free_port)}
    [ -f "$T_DIR/pki/web.crt" ] || cert_issue controller-ca web localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
    web_write_config "${1:-10m}"
    spawn "$T_BIN/sac-web" -c "$T_DIR/web.conf" 2>>"$T_DIR/web.log"
    WEB_PID=$T_LAST_PID
    WEB_URL="https://localhost:$WEB_PORT"
    wait_for 60 grep -q 'started' "$T_DIR/web.log" || { echo "# sac-web did not start:"; sed 's/^/#   /' "$T_DIR/web.log"; return 1; }
}

web_curl() {
    curl -sS --cacert "$T_DIR/pki/controller-ca.crt" --resolve "localhost:$WEB_PORT:127.0.0.1" \
        -D "$T_DIR/resp.headers" -o "$T_DIR/resp.body" -w '%{http_code}' "$@" >"$T_DIR/resp.code"
    cat "$T_DIR/resp.code"
}

# web_api METHOD PATH [JSON] [ROLE]: a request in ROLE's session, with its CSRF token.
web_api() {
    local method=$1 path=$2 body=${3:-} role=${4:-$WEB_ROLE} csrf_var
    csrf_var="CSRF_${role//-/_}"
    local args=(-X "$method" -b "$T_DIR/$role.jar" -c "$T_DIR/$role.jar" -H "X-CSRF-Token: ${!csrf_var:-}")
    [ -n "$body" ] && args+=(-H "Content-Type: application/json" --data-binary "$body")
    web_curl "${args[@]}" "$WEB_URL$path"
}

web_body() { cat "$T_DIR/resp.body"; }

# json_get EXPR: evaluates a Python expression on the last body (bound to d).
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T_DIR/resp.body"; }

web_signin() {
    local role=$1 pw=$2
    rm -f "$T_DIR/$role.jar"
    web_curl -c "$T_DIR/$role.jar" -H "Content-Type: application/json" \
        --data-binary "{\"user\": \"$role\", \"password\": \"$pw\"}" "$WEB_URL/api/session" >/dev/null
    [ "$(cat "$T_DIR/resp.code")" = 200 ] || return 1
    printf -v "CSRF_${role//-/_}" '%s' "$(json_get 'd["csrf_token"]')"
    WEB_ROLE=$role
}

# web_backends ROLE: the role's live sac-web database connections.
web_backends() {
    sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$1' AND application_name = 'sac-web'"
}
backends_are() { [ "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$1'")" = "$2" ]; }
