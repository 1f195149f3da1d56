#!/usr/bin/env bash
# sac-controller: command line and configuration (SPEC §2).  --check-config
# prints every problem with file:line and exits 2, 3 only when the file
# itself is unreadable; --version, --help; a listen address that cannot be
# bound is an environment failure (3).
source "$(dirname "$0")/../lib.sh"

certs_make
cert_issue reader-ca gate-in gate-in
CTL_PORT=$(free_port)
T_PG_SOCK=/nonexistent T_PG_PORT=5432
ctl_write_config
C="$T_DIR/controller.conf"

check_exit "--check-config on a good file: 0" 0 sac-controller -c "$C" --check-config
check_exit "--version: 0" 0 sac-controller --version
check_match "--version prints the version" "$(sac-controller --version)" '^sac-controller [0-9]+\.[0-9]+'
check_exit "--help: 0" 0 sac-controller --help
check_exit "unknown option: 2" 2 sac-controller --frobnicate
check_exit "unreadable configuration file: 3" 3 sac-controller -c "$T_DIR/missing.conf" --check-config

cat >"$T_DIR/bad.conf" <<CONF
[controller]
listen      = 127.0.0.1:notaport
certificate = $T_DIR/pki/missing.crt
private_key = $T_DIR/pki/controller.key
colour      = blue
database    = dbname=sac
CONF
out=$(sac-controller -c "$T_DIR/bad.conf" --check-config 2>&1); rc=$?
check_eq "bad configuration: exit 2" "$rc" 2
check_match "bad port reported with its line" "$out" 'bad.conf:2: .*port'
check_match "missing certificate file reported with its line" "$out" 'bad.conf:3: '
check_match "unknown key reported with its line" "$out" 'bad.conf:5: .*colour'
check_match "missing reader_ca reported" "$out" "reader_ca"

# A file that exists but is not a certificate.
sed "s|^certificate .*|certificate = $T_DIR/pki/reader-ca.key|" "$C" >"$T_DIR/unusable.conf"
out=$(sac-controller -c "$T_DIR/unusable.conf" --check-config 2>&1); rc=$?
check_eq "a key given as certificate: exit 2" "$rc" 2
check_match "... says which step failed" "$out" 'certificate'

# A private key that group or others may read is refused, naming the file
# (like the credential key): a 0644 key used to give "configuration OK".
chmod 0644 "$T_DIR/pki/controller.key"
out=$(sac-controller -c "$C" --check-config 2>&1); rc=$?
check_eq "a world-readable private key: exit 2" "$rc" 2
check_match "... naming the key, its line and the rule" "$out" \
    "controller.conf:4: 'private_key': private key $T_DIR/pki/controller.key has permissions 0644, too open"
chmod 0640 "$T_DIR/pki/controller.key"
check_exit "a group-readable private key: exit 2" 2 sac-controller -c "$C" --check-config
check_exit "... and the daemon does not start with it" 2 timeout 20 sac-controller -c "$C"
chmod 0400 "$T_DIR/pki/controller.key"
check_exit "mode 0400 is fine" 0 sac-controller -c "$C" --check-config
chmod 0600 "$T_DIR/pki/controller.key"
check_exit "--config is -c" 0 sac-controller --config "$C" --check-config

# The port is taken: the daemon cannot start.
busy=$(free_port)
sed "s|^listen .*|listen = 127.0.0.1:$busy|" "$C" >"$T_DIR/busy.conf"
sac-controller -c "$T_DIR/busy.conf" 2>"$T_DIR/first.log" &
FIRST=$!; T_PIDS+=("$FIRST")
check "first controller listening" wait_for 20 grep -q ready "$T_DIR/first.log"
check_exit "a second controller on the same port: exit 3" 3 timeout 20 sac-controller -c "$T_DIR/busy.conf"
kill -TERM "$FIRST"; wait "$FIRST"; rc=$?
check_eq "SIGTERM with the database unreachable and nothing in flight: exit 0" "$rc" 0
check_eq "the unreachable database was logged once" "$(grep -c 'database unavailable' "$T_DIR/first.log")" 1
done_testing
