#!/usr/bin/env bash
# sac-reader's command line: --version, --help, --check-config reporting
# every problem with file:line (exit 2), a credential key that is too open or
# malformed, an unreadable configuration file (exit 3).
source "$(dirname "$0")/../lib.sh"

certs_make
reader_conf gate-1 127.0.0.1:7443 pn532_uart:/dev/null

check_exit "--version exits 0" 0 sac-reader --version
check_match "--version names the program" "$(sac-reader --version)" '^sac-reader [0-9]'
check_exit "--help exits 0" 0 sac-reader --help
check_exit "an unknown option is bad usage" 2 sac-reader --frobnicate
check_exit "a good configuration checks out" 0 sac-reader -c "$T_DIR/gate-1.conf" --check-config

# Many problems at once: every one is reported with its line.
cat >"$T_DIR/bad.conf" <<CONF
[reader]
id             = -bad id
device         = pn532_uart:/dev/null
controllers    = 127.0.0.1:notaport
certificate    = $T_DIR/pki/missing.crt
private_key    = $T_DIR/pki/gate-1.key
controller_ca  = $T_DIR/pki/controller-ca.crt
credential_key = $T_DIR/credential.key
spool          = $T_DIR/no-such-dir/x.spool
colour         = blue
CONF
check_exit "a bad configuration exits 2" 2 sac-reader -c "$T_DIR/bad.conf" --check-config
out=$(sac-reader -c "$T_DIR/bad.conf" --check-config 2>&1)
check_match "bad id reported with its line" "$out" "bad.conf:2: 'id'"
check_match "bad port reported with its line" "$out" "bad.conf:4: .*bad port"
check_match "missing certificate reported with its line" "$out" "bad.conf:5: .*missing.crt"
check_match "spool directory reported with its line" "$out" "bad.conf:9: .*no-such-dir"
check_match "unknown key reported with its line" "$out" "bad.conf:10: unknown key 'colour'"
check_exit "the daemon refuses to start with it" 2 sac-reader -c "$T_DIR/bad.conf"

chmod 640 "$T_DIR/credential.key"
out=$(sac-reader -c "$T_DIR/gate-1.conf" --check-config 2>&1); rc=$?
check_eq "a group-readable credential key is an error" "$rc" 2
check_match "... saying so" "$out" "gate-1.conf:8: .*too open"
chmod 600 "$T_DIR/credential.key"
echo "0123abcd" >"$T_DIR/credential.key"
out=$(sac-reader -c "$T_DIR/gate-1.conf" --check-config 2>&1); rc=$?
check_eq "a credential key that is not 64 hex digits is an error" "$rc" 2
check_match "... saying so" "$out" "64 hexadecimal digits"
credential_key_make "$T_DIR/credential.key.new" && mv "$T_DIR/credential.key.new" "$T_DIR/credential.key"

# The reader's TLS key and a DESFire card key follow the same rule.
chmod 644 "$T_DIR/pki/gate-1.key"
out=$(sac-reader -c "$T_DIR/gate-1.conf" --check-config 2>&1); rc=$?
check_eq "a world-readable TLS private key is an error" "$rc" 2
check_match "... naming it" "$out" "gate-1.conf:6: 'private_key': private key .*gate-1.key has permissions 0644, too open"
chmod 600 "$T_DIR/pki/gate-1.key"
openssl rand -hex 16 >"$T_DIR/card.key"; chmod 640 "$T_DIR/card.key"
printf 'card           = desfire\ncard_key       = %s\n' "$T_DIR/card.key" >>"$T_DIR/gate-1.conf"
out=$(sac-reader -c "$T_DIR/gate-1.conf" --check-config 2>&1); rc=$?
check_eq "a group-readable card key is an error" "$rc" 2
check_match "... naming it" "$out" "'card_key': private key .*card.key has permissions 0640, too open"
chmod 600 "$T_DIR/card.key"
check_exit "card = desfire with a private 32-digit card key checks out" 0 \
    sac-reader -c "$T_DIR/gate-1.conf" --check-config
sed -i '/^card/d' "$T_DIR/gate-1.conf"

# A key that does not belong to the certificate makes the TLS context unusable.
cert_issue reader-ca other other
sed -i "s|$T_DIR/pki/gate-1.key|$T_DIR/pki/other.key|" "$T_DIR/gate-1.conf"
check_exit "a private key not matching the certificate is an error" 2 \
    sac-reader -c "$T_DIR/gate-1.conf" --check-config

check_exit "an unreadable configuration file exits 3" 3 \
    sac-reader -c "$T_DIR/nonexistent.conf" --check-config
done_testing
