#!/usr/bin/env bash
# sac-controller: TLS 1.3 with mutual authentication.  A client certificate
# from another CA, no client certificate, and TLS 1.2 all fail the
# handshake; the controller proves its own name; SIGHUP loads a new
# certificate for new connections; --check-config loads the files.
source "$(dirname "$0")/../lib.sh"

check "controller starts" ctl_setup
P="$T_DIR/pki"

# A rogue CA issuing a certificate with a real reader's CN.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=rogue CA" -keyout "$P/rogue-ca.key" -out "$P/rogue-ca.crt" 2>/dev/null
cert_issue rogue-ca rogue gate-in

hello() { printf 'HELLO sac/1 gate-in\n'; }
out=$(hello | as_reader gate-in --expect 1)
check_match "a reader certificate from the reader CA is accepted" "$out" '^WELCOME '

out=$(hello | as_reader rogue --expect 1 --timeout 5)
check_no_match "a certificate from a rogue CA gets no WELCOME" "$out" 'WELCOME'
check_match "a certificate from a rogue CA: handshake alert" "$out" 'TLS-FAILED|CLOSED'

# (stdin stays open a moment: with TLS 1.3 the refusal arrives after the
# client has finished its side of the handshake)
out=$( (hello; sleep 3) | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$CTL_PORT" \
      -CAfile "$P/controller-ca.crt" 2>&1)
check_no_match "no client certificate gets no WELCOME" "$out" 'WELCOME'
check_match "no client certificate: alert" "$out" 'alert|error'

out=$(hello | timeout 10 openssl s_client -quiet -tls1_2 -connect "127.0.0.1:$CTL_PORT" \
      -cert "$P/gate-in.crt" -key "$P/gate-in.key" -CAfile "$P/controller-ca.crt" 2>&1)
check_no_match "TLS 1.2 gets no WELCOME" "$out" 'WELCOME'
check_match "TLS 1.2: protocol version alert" "$out" 'version|alert'

out=$(hello | timeout 10 openssl s_client -quiet -tls1_3 -connect "127.0.0.1:$CTL_PORT" \
      -cert "$P/gate-in.crt" -key "$P/gate-in.key" -CAfile "$P/controller-ca.crt" \
      -verify_return_error -verify_ip 127.0.0.1 2>&1 & sleep 2; kill $! 2>/dev/null)
check_match "openssl s_client with TLS 1.3 and a reader certificate is welcomed" "$out" 'WELCOME sac/1'

# The client checks the controller's name: a certificate for another name fails.
cert_issue controller-ca other-name other.example "subjectAltName=DNS:other.example"
cp "$P/controller.crt" "$P/controller.crt.orig"; cp "$P/controller.key" "$P/controller.key.orig"
cp "$P/other-name.crt" "$P/controller.crt"; cp "$P/other-name.key" "$P/controller.key"
kill -HUP "$CTL_PID"
check "SIGHUP is logged as a reload" wait_for 10 grep -q 'configuration reloaded' "$T_DIR/controller.log"
out=$(hello | as_reader gate-in --expect 1 --timeout 5)
check_match "after SIGHUP the new certificate is served (wrong name for 127.0.0.1)" "$out" 'TLS-FAILED.*mismatch'
cp "$P/controller.crt.orig" "$P/controller.crt"; cp "$P/controller.key.orig" "$P/controller.key"
kill -HUP "$CTL_PID"
reloads_at_least() { [ "$(grep -c 'configuration reloaded' "$T_DIR/controller.log")" -ge "$1" ]; }
check "second reload" wait_for 10 reloads_at_least 2
out=$(hello | as_reader gate-in --expect 1)
check_match "the original certificate is back after a second SIGHUP" "$out" '^WELCOME '

# A broken file on SIGHUP keeps the running configuration.
echo garbage >"$P/controller.crt"
kill -HUP "$CTL_PID"
check "a broken certificate on SIGHUP is refused" wait_for 10 grep -q 'reload refused: keeping the running configuration' "$T_DIR/controller.log"
out=$(hello | as_reader gate-in --expect 1)
check_match "still serving with the previous certificate" "$out" '^WELCOME '
check_exit "--check-config: unusable certificate exits 2" 2 sac-controller -c "$T_DIR/controller.conf" --check-config
cp "$P/controller.crt.orig" "$P/controller.crt"
check_exit "--check-config: good configuration exits 0" 0 sac-controller -c "$T_DIR/controller.conf" --check-config
cp "$P/gate-in.key" "$P/controller.key"
check_exit "--check-config: key not matching the certificate exits 2" 2 sac-controller -c "$T_DIR/controller.conf" --check-config
cp "$P/controller.key.orig" "$P/controller.key"
check_no_match "no credential in the controller log" "$(cat "$T_DIR/controller.log")" "$CRED_A"
done_testing
