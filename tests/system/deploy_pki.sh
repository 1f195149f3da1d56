#!/usr/bin/env bash
# tools/sac-pki: a station's CAs, controller and reader certificates and the
# credential key — names, key modes, chains, refusals — and a real TLS 1.3
# handshake with them (openssl s_server / s_client, the way the daemons use
# them: each side trusts only the other side's CA).
source "$(dirname "$0")/../lib.sh"

pki="$T_REPO/tools/sac-pki"
d="$T_DIR/etc"
mkdir -p "$d"

check "station: CAs, controller, three readers, credential key" \
    "$pki" --dir "$d" station ctl.example.org gate-in gate-out muster-1
check "a second controller with host names and addresses" \
    "$pki" --dir "$d" --name ctl-2 controller ctl-2.example.org 127.0.0.1 ::1

for k in reader-ca controller-ca controller ctl-2 gate-in gate-out muster-1 credential; do
    check_eq "$k.key is mode 0600" "$(stat -c %a "$d/$k.key")" 600
done
for c in reader-ca controller-ca controller ctl-2 gate-in gate-out muster-1; do
    check_eq "$c.crt is mode 0644" "$(stat -c %a "$d/$c.crt")" 644
done
check_match "credential key: 64 lowercase hex digits" "$(cat "$d/credential.key")" '^[0-9a-f]{64}$'
check_eq "credential key: one line" "$(wc -l <"$d/credential.key")" 1

subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253; }
san() { openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' '; }
check_eq "reader certificate: CN = reader id" "$(subject "$d/gate-out.crt")" "subject=CN=gate-out"
check_eq "controller certificate: CN = host" "$(subject "$d/controller.crt")" "subject=CN=ctl.example.org"
check_eq "controller certificate: SAN = host" "$(san "$d/controller.crt")" "DNS:ctl.example.org"
check_eq "second controller: every name in SAN" "$(san "$d/ctl-2.crt")" \
    "DNS:ctl-2.example.org,IPAddress:127.0.0.1,IPAddress:0:0:0:0:0:0:0:1"

check "reader certificate: chains to the reader CA for client use" \
    openssl verify -CAfile "$d/reader-ca.crt" -purpose sslclient "$d/muster-1.crt"
check "controller certificate: chains to the controller CA for server use" \
    openssl verify -CAfile "$d/controller-ca.crt" -purpose sslserver "$d/controller.crt"
check_exit "reader certificate: not trusted by the controller CA" 2 \
    openssl verify -CAfile "$d/controller-ca.crt" "$d/gate-in.crt"
check_exit "reader certificate: not usable as a server" 2 \
    openssl verify -CAfile "$d/reader-ca.crt" -purpose sslserver "$d/gate-in.crt"
check_exit "controller certificate: not trusted by the reader CA" 2 \
    openssl verify -CAfile "$d/reader-ca.crt" "$d/controller.crt"
check "key matches its certificate" \
    cmp <(openssl pkey -in "$d/gate-in.key" -pubout) <(openssl x509 -in "$d/gate-in.crt" -noout -pubkey)

# --- refusals ---------------------------------------------------------------

before=$(sha256sum "$d/gate-in.key")
check_exit "an existing reader is not replaced" 2 "$pki" --dir "$d" reader gate-in
check_eq "its key is untouched" "$(sha256sum "$d/gate-in.key")" "$before"
check_exit "an existing credential key is not replaced" 2 "$pki" --dir "$d" credential-key
check_exit "existing CAs are not replaced" 2 "$pki" --dir "$d" ca
check "--force replaces a reader" "$pki" --dir "$d" --force reader gate-in
check_no_match "the replaced key is new" "$(sha256sum "$d/gate-in.key")" "${before%% *}"
check_exit "bad reader id" 2 "$pki" --dir "$d" reader "gate in"
check_exit "reader id longer than 64" 2 "$pki" --dir "$d" reader "$(printf 'a%.0s' $(seq 1 65))"
check_exit "bad host" 2 "$pki" --dir "$d" --name ctl-3 controller "ctl_3;rm"
check_exit "unknown command" 2 "$pki" --dir "$d" frobnicate
check_exit "no command" 2 "$pki"
check_exit "bad --days" 2 "$pki" --dir "$d" --days 0 reader r9
check_exit "missing directory" 3 "$pki" --dir "$T_DIR/nope" ca
mkdir -p "$T_DIR/empty"
check_exit "reader without a CA" 3 "$pki" --dir "$T_DIR/empty" reader r1
check_match "says which CA is missing" "$("$pki" --dir "$T_DIR/empty" reader r1 2>&1)" 'reader-ca\.crt is missing'
check "--help" "$pki" --help

# --- a TLS 1.3 handshake with the station's files ---------------------------

port=$(free_port)
openssl s_server -quiet -accept "127.0.0.1:$port" -tls1_3 -naccept 1 \
    -cert "$d/ctl-2.crt" -key "$d/ctl-2.key" -CAfile "$d/reader-ca.crt" \
    -Verify 1 -verify_return_error </dev/null >"$T_DIR/s_server.out" 2>&1 &
srv=$!
T_PIDS+=("$srv")
listening() { ss -Hltn "sport = :$port" | grep -q .; }
wait_for 10 listening
out=$(echo | openssl s_client -connect "127.0.0.1:$port" -tls1_3 -verify_return_error \
    -cert "$d/gate-in.crt" -key "$d/gate-in.key" -CAfile "$d/controller-ca.crt" \
    -verify_ip 127.0.0.1 -brief 2>&1)
check_match "mutual TLS 1.3 with the station's certificates" "$out" 'Protocol version: TLSv1.3'
check_match "the reader verified the controller" "$out" 'Verification: OK'

done_testing
