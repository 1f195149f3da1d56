#!/usr/bin/env bash
# The procedure of docs/reader.md for a stolen reader, with the real
# daemons: disabling it closes its connection and refuses it; revoking its
# certificate refuses it at the TLS handshake even once re-enabled; the
# credential key is rotated on the remaining readers, a badge is denied
# until it is enrolled again under the new key, and then granted; its old
# credential is revoked.
source "$(dirname "$0")/../lib.sh"
P="$T_DIR/pki"
PKI=("$T_REPO/tools/sac-pki" --dir "$P")

mkdir -p "$P"
"${PKI[@]}" station 127.0.0.1 gate-1 gate-2 >/dev/null || exit 1
"${PKI[@]}" crl >/dev/null || exit 1
credential_key_make "$T_DIR/credential.key"
pg_start || exit 1
enroll_setup hq gate-1 gate-2 || exit 1
uid=04$(openssl rand -hex 6)
person=$(sacctl person add --name "Hedy Lamarr" --category staff) || exit 1
sacctl badge enroll --person "$person" --uid "$uid" --key "$T_DIR/credential.key" >/dev/null || exit 1
port=$(free_port)
make_login ctl-1 sac_ingest
controller_conf "$T_DIR/ctl-1.conf" "$port" ctl-1 "crl         = $P/reader-ca.crl"
controller_start ctl-1 "$port" || exit 1
for r in gate-1 gate-2; do
    sim_start "$r"; reader_conf "$r" "127.0.0.1:$port"; reader_start "$r"
done
verdicts() { grep -oE "event [0-9a-f]{32}: (GRANT|DENY)" "$T_DIR/$1.log" | awk '{print $3}' | tr '\n' ' '; }
tap gate-1 "$uid"
check "before the theft: GRANT at gate-1" wait_for 20 grep -q ': GRANT' "$T_DIR/gate-1.log"

# 1. disable: the live connection is closed and the reader refused.
sacctl reader disable gate-1 >/dev/null
check "disabling closes the stolen reader's connection" \
    wait_for 20 grep -q 'reader gate-1: closing' "$T_DIR/ctl-1.log"
n=$(ledger_count "reader_id = 'gate-1'")
tap gate-1 "$uid"
check_eq "its taps are not stored" "$(ledger_count "reader_id = 'gate-1'")" "$n"

# 2. revoke: refused at the handshake, even if re-enabled by mistake.
"${PKI[@]}" revoke gate-1 >/dev/null
kill -HUP "$(controller_pid ctl-1)"
check "the controller rereads the CRL" wait_for 10 grep -q "configuration reloaded" "$T_DIR/ctl-1.log"
sacctl reader enable gate-1 >/dev/null 2>&1 || sql -c "UPDATE sac.readers SET enabled = true WHERE id = 'gate-1'"
check "re-enabled, it is still refused: its certificate is revoked" \
    wait_for 30 grep -q 'TLS handshake failed: .*certificate revoked' "$T_DIR/ctl-1.log"
check_eq "... and nothing of it is stored" "$(ledger_count "reader_id = 'gate-1'")" "$n"

# 3. rotate the credential key on the readers that remain.
(umask 077; openssl rand -hex 32 >"$T_DIR/credential-new.key")
sed -i "s|^credential_key .*|credential_key = $T_DIR/credential-new.key|" "$T_DIR/gate-2.conf"
kill -HUP "$(reader_pid gate-2)"
check "gate-2 reloads with the new credential key" \
    wait_for 10 grep -q "'credential_key' changed" "$T_DIR/gate-2.log"
check_no_match "the reload log names the key file, never the key" "$(cat "$T_DIR/gate-2.log")" \
    "$(cat "$T_DIR/credential-new.key")"
tap gate-2 "$uid"
check "not yet re-enrolled: DENY" wait_for 20 bash -c "grep -qE ': DENY' '$T_DIR/gate-2.log'"
check_exit "enrol the badge again under the new key" 0 \
    sacctl badge enroll --person "$person" --uid "$uid" --key "$T_DIR/credential-new.key"
check_exit "revoke its credential under the old key" 0 \
    sacctl badge revoke --uid "$uid" --key "$T_DIR/credential.key"
tap gate-2 "$uid"
check "re-enrolled: GRANT" wait_for 20 bash -c "[ \$(grep -cE ': GRANT' '$T_DIR/gate-2.log') -ge 1 ]"
check_eq "the badge's verdicts at gate-2: DENY then GRANT" "$(verdicts gate-2)" "DENY GRANT "
done_testing
