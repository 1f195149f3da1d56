#!/usr/bin/env bash
# Certificate revocation with sac-pki and crl = FILE: a revoked reader is
# refused at the handshake by the controller; a reader refuses a revoked
# controller; an unreadable, foreign or expired list is a configuration
# error naming it; SIGHUP rereads the list (and keeps the running one when
# the new one is bad).
source "$(dirname "$0")/../lib.sh"
P="$T_DIR/pki"
PKI=("$T_REPO/tools/sac-pki" --dir "$P")
FT=$(ls /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 2>/dev/null)

mkdir -p "$P"
check "sac-pki makes a station" "${PKI[@]}" station 127.0.0.1 gate-1 gate-2
check "sac-pki crl writes both revocation lists" "${PKI[@]}" crl
check_eq "the lists are readable by the daemons (0644)" \
    "$(stat -c %a "$P/reader-ca.crl") $(stat -c %a "$P/controller-ca.crl")" "644 644"
credential_key_make "$T_DIR/credential.key"

pg_start || exit 1
enroll_setup hq gate-1 gate-2 || exit 1
uid=04$(openssl rand -hex 6)
enroll "Grace Hopper" "$uid" >/dev/null
port=$(free_port)
make_login ctl-1 sac_ingest
controller_conf "$T_DIR/ctl-1.conf" "$port" ctl-1 "crl         = $P/reader-ca.crl"
check_exit "the controller accepts its configuration with a CRL" 0 \
    sac-controller --check-config -c "$T_DIR/ctl-1.conf"
controller_start ctl-1 "$port" || exit 1
for r in gate-1 gate-2; do
    sim_start "$r"
    reader_conf "$r" "127.0.0.1:$port"
    echo "crl            = $P/controller-ca.crl" >>"$T_DIR/$r.conf"
    check_exit "$r accepts its configuration with a CRL" 0 sac-reader --check-config -c "$T_DIR/$r.conf"
    reader_start "$r"
    check "$r connects while nothing is revoked" wait_for 20 grep -q 'connected to controller' "$T_DIR/$r.log"
done

# --- a revoked reader ------------------------------------------------------
check "sac-pki revoke gate-2" "${PKI[@]}" revoke gate-2
check_match "the reader CA's list names gate-2's serial" \
    "$(openssl crl -in "$P/reader-ca.crl" -noout -text)" \
    "Serial Number: $(openssl x509 -in "$P/gate-2.crt" -noout -serial | cut -d= -f2)"
kill -HUP "$(controller_pid ctl-1)"
check "the controller rereads its configuration" wait_for 10 grep -q 'configuration reloaded' "$T_DIR/ctl-1.log"
kill -TERM "$(reader_pid gate-2)"; wait "$(reader_pid gate-2)"
: >"$T_DIR/gate-2.log"
reader_start gate-2
check "the revoked reader is refused at the handshake" \
    wait_for 20 grep -q 'TLS handshake failed: .*certificate revoked' "$T_DIR/ctl-1.log"
tap gate-2 "$uid"
tap gate-1 "$uid"
check "the other reader's event is stored" wait_for 20 ledger_is 1 "reader_id = 'gate-1'"
check_eq "nothing from the revoked reader" "$(ledger_count "reader_id = 'gate-2'")" 0
check_eq "the revoked reader got in only before its revocation" \
    "$(grep -c 'reader gate-2 connected' "$T_DIR/ctl-1.log")" 1

# --- a revoked controller --------------------------------------------------
check "sac-pki revoke controller" "${PKI[@]}" revoke controller
kill -HUP "$(reader_pid gate-1)"
check "the reader rereads its configuration" wait_for 10 grep -q 'configuration reloaded' "$T_DIR/gate-1.log"
kill -TERM "$(controller_pid ctl-1)"; wait "$(controller_pid ctl-1)"
controller_start ctl-1 "$port" || exit 1
check "the reader refuses the revoked controller" \
    wait_for 30 grep -q 'certificate revoked' "$T_DIR/gate-1.log"
n=$(grep -c 'connected to controller' "$T_DIR/gate-1.log")
tap gate-1 "$uid"
# (the earlier, acknowledged event is compacted away; this one stays pending)
spool_is() { [ "$(spool_records gate-1)" = "$1" ]; }
check "the tap stays in the reader's spool" wait_for 20 spool_is 1
check_eq "the reader did not connect to it" "$(grep -c 'connected to controller' "$T_DIR/gate-1.log")" "$n"

# --- bad lists ---------------------------------------------------------------
cp "$T_DIR/ctl-1.conf" "$T_DIR/bad.conf"
sed -i "s|^crl .*|crl = $P/missing.crl|" "$T_DIR/bad.conf"
out=$(sac-controller --check-config -c "$T_DIR/bad.conf" 2>&1); rc=$?
check_eq "a missing CRL is a configuration error" "$rc" 2
check_match "... naming it with its line" "$out" "bad.conf:7: 'crl': cannot use .*missing.crl"
sed -i "s|^crl .*|crl = $P/controller-ca.crl|" "$T_DIR/bad.conf"
out=$(sac-controller --check-config -c "$T_DIR/bad.conf" 2>&1); rc=$?
check_eq "a CRL of another CA is a configuration error" "$rc" 2
check_match "... saying so" "$out" "controller-ca.crl is not signed by the CA of .*reader-ca.crt"
if [ -n "$FT" ]; then
    out=$(LD_PRELOAD="$FT" FAKETIME="+400d" ASAN_OPTIONS="${ASAN_OPTIONS}:verify_asan_link_order=0" \
        sac-controller --check-config -c "$T_DIR/ctl-1.conf" 2>&1); rc=$?
    check_eq "a CRL past its next update (400 days on) is a configuration error" "$rc" 2
    check_match "... saying it expired and how to renew it" "$out" "reader-ca.crl has expired .*sac-pki crl"
else
    not_ok "libfaketime is needed to check an expired CRL (apt-get install faketime)"
fi
echo garbage >"$P/reader-ca.crl"
check_exit "a CRL that is not PEM is a configuration error" 2 \
    sac-controller --check-config -c "$T_DIR/ctl-1.conf"
kill -HUP "$(controller_pid ctl-1)"
check "SIGHUP with a broken CRL is refused" \
    wait_for 10 grep -q 'reload refused' "$T_DIR/ctl-1.log"
check "the controller keeps running" kill -0 "$(controller_pid ctl-1)"
done_testing
