#!/usr/bin/env bash
# DESFire badges end to end, through the real libnfc, sac-reader,
# sac-controller and PostgreSQL, with DESFire EV2 cards emulated behind
# pn532-sim:
#   - `sacctl badge issue` personalises factory cards (also one with a
#     random anticollision UID) and prints only the badge id;
#   - a tap of an issued card is GRANTed for the right person;
#   - refused, with "card authentication failed" and no event: a clone
#     (same UID, no keys), a UID-only magic card with the same UID, a card
#     issued under another card key, a card pulled away mid-authentication;
#   - a lost card revoked by badge id is DENYed; re-issuing a card retires
#     its old badge; a card of another system is not re-issued, but moves
#     to a new card key with --old-card-key;
#   - a UID-mode reader beside it still works;
#   - neither a UID nor a card number is in any log, spool or the database.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
card_key_make "$T_DIR/card.key"
card_key_make "$T_DIR/other-card.key"
enroll_setup hq gate-1 gate-2 || exit 1
ada=$(sacctl person add --name "Ada Lovelace" --category staff)
grace=$(sacctl person add --name "Grace Hopper" --category staff)

uid_ada=04$(openssl rand -hex 6)
uid_grace=04$(openssl rand -hex 6)
uid_other=04$(openssl rand -hex 6)
sim_start gate-1
sim gate-1 desfire ada "$uid_ada" >/dev/null
sim gate-1 desfire grace "$uid_grace" random >/dev/null
sim gate-1 desfire clone "$uid_ada" >/dev/null
sim gate-1 desfire other "$uid_other" >/dev/null

# --- issuing ----------------------------------------------------------------
out=$(issue gate-1 ada "$T_DIR/card.key" --person "$ada" 2>"$T_DIR/issue.err")
check_match "badge issue prints the badge id only" "$out" '^[0-9]+$'
badge_ada=$out
badge_grace=$(issue gate-1 grace "$T_DIR/card.key" --person "$grace" 2>>"$T_DIR/issue.err")
check_match "a card with a random UID is issued" "$badge_grace" '^[0-9]+$'
badge_other=$(issue gate-1 other "$T_DIR/other-card.key" --pool 2>>"$T_DIR/issue.err")
check_match "a card issued under another card key (enrolled as a pool badge)" "$badge_other" '^[0-9]+$'
issue gate-1 other "$T_DIR/card.key" --pool >/dev/null 2>"$T_DIR/refused.err"
check_eq "a card of another system is not issued: exit 2" "$?" 2
check "... saying why" grep -q "the card cannot be issued: .*authentication error" "$T_DIR/refused.err"
check_exit "issuing without a card in the field: exit 3" 3 \
    sacctl badge issue --device "pn532_uart:$(sim_pty gate-1)" --card-key "$T_DIR/card.key" \
    --key "$T_DIR/credential.key" --pool
chmod 640 "$T_DIR/card.key"
check_exit "a card key readable by the group is refused: exit 2" 2 \
    issue gate-1 clone "$T_DIR/card.key" --pool
chmod 600 "$T_DIR/card.key"
secret_ada=$(sim gate-1 secret ada | awk '{print $2}')
secret_grace=$(sim gate-1 secret grace | awk '{print $2}')
check_match "the card holds a 16-byte card number" "$secret_ada" '^[0-9a-f]{32}$'
check "the card number is not printed while issuing" \
    bash -c "! grep -qi '$secret_ada\|$secret_grace\|$uid_ada\|$uid_grace' '$T_DIR/issue.err'"

# --- reading ----------------------------------------------------------------
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
reader_conf_desfire gate-1 "127.0.0.1:$port" "$T_DIR/card.key"
check "--check-config accepts card = desfire" "$T_BIN/sac-reader" -c "$T_DIR/gate-1.conf" --check-config
cp "$T_DIR/gate-1.conf" "$T_DIR/good.conf"
sed -i 's/^card  .*/card           = nfc/' "$T_DIR/gate-1.conf"
check_exit "an unknown card mode is a configuration error" 2 "$T_BIN/sac-reader" -c "$T_DIR/gate-1.conf" --check-config
cp "$T_DIR/last.out" "$T_DIR/cfg.out"
check "... named" grep -q "'card' must be uid|desfire, not 'nfc'" "$T_DIR/cfg.out"
grep -v '^card_key' "$T_DIR/good.conf" >"$T_DIR/gate-1.conf"
check_exit "card = desfire without card_key: exit 2" 2 "$T_BIN/sac-reader" -c "$T_DIR/gate-1.conf" --check-config
cp "$T_DIR/last.out" "$T_DIR/cfg.out"
check "... named" grep -q "needs 'card_key'" "$T_DIR/cfg.out"
cp "$T_DIR/good.conf" "$T_DIR/gate-1.conf"
chmod 644 "$T_DIR/card.key"
check_exit "a card key readable by others: exit 2" 2 "$T_BIN/sac-reader" -c "$T_DIR/gate-1.conf" --check-config
cp "$T_DIR/last.out" "$T_DIR/cfg.out"
check "... named" grep -q "'card_key': .*too open" "$T_DIR/cfg.out"
chmod 600 "$T_DIR/card.key"
LIBNFC_LOG_LEVEL=3 reader_start gate-1
check "the reader connects" wait_for 15 grep -q "connected to controller 127.0.0.1:$port" "$T_DIR/gate-1.log"

tap_card gate-1 ada
check "an issued card is granted" wait_for 10 acks_are gate-1 1
check_eq "... GRANT stored" "$(sql -c "SELECT string_agg(verdict::text, ' ') FROM access.events")" "G"
check_eq "... for Ada's badge" "$(sql -c "SELECT badge_id FROM access.presence")" "$badge_ada"
tap_card gate-1 grace
check "a card with a random UID is granted" wait_for 10 acks_are gate-1 2
check_eq "... for Grace's badge" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = $badge_grace")" 1

taps_before=$(taps gate-1)
check "a clone (same UID, no keys) is refused" refused_card gate-1 clone
check "... because the application is missing" grep -q "card authentication failed: SelectApplication: .*A0 (application not found)" "$T_DIR/gate-1.log"
sim gate-1 present "$uid_ada" >/dev/null
check "a UID-only card with the same UID is refused" wait_for 10 refusals_are gate-1 2
sim gate-1 remove >/dev/null; sim gate-1 wait-polls 4 >/dev/null
check "... as not an ISO 14443-4 card" grep -q "card authentication failed: not an ISO 14443-4 card" "$T_DIR/gate-1.log"
check "a card with other keys is refused" refused_card gate-1 other
check "... by the card: authentication error" grep -q "card authentication failed: AuthenticateEV2First: the card answered AE" "$T_DIR/gate-1.log"
check "a card pulled away mid-authentication is refused" refused_card gate-1 ada "cut-after 2"
check "... as gone" grep -q "card authentication failed: AuthenticateEV2First: no answer" "$T_DIR/gate-1.log"
check_eq "refused cards made no event" "$(taps gate-1)" "$taps_before"
check_eq "... and the ledger holds only the two grants" "$(ledger_count)" 2
check "the reader is still running" kill -0 "$(reader_pid gate-1)"

# --- a lost card, re-issuing -------------------------------------------------
check_match "a lost card is revoked by its badge id" "$(sacctl badge revoke --badge "$badge_ada")" "^$badge_ada\$"
check_exit "... once" 2 sacctl badge revoke --badge "$badge_ada"
tap_card gate-1 ada
check "the revoked card is denied" wait_for 10 bash -c "grep -cE 'event [0-9a-f]{32}: DENY' '$T_DIR/gate-1.log' | grep -qx 1"
kill -TERM "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"
new_grace=$(issue gate-1 grace "$T_DIR/card.key" --person "$grace" 2>"$T_DIR/reissue.err")
check_match "a card is re-issued" "$new_grace" '^[0-9]+$'
check "... retiring its previous badge" grep -q "previous badge $badge_grace is revoked" "$T_DIR/reissue.err"
new_ada=$(issue gate-1 ada "$T_DIR/card.key" --person "$ada" 2>>"$T_DIR/reissue.err")
check_match "the found card is re-issued" "$new_ada" '^[0-9]+$'
check_eq "the old badges are revoked" \
    "$(sql -c "SELECT count(*) FROM sac.badges WHERE id IN ($badge_ada, $badge_grace) AND revoked_at IS NOT NULL")" 2
check_eq "... the new ones not" \
    "$(sql -c "SELECT count(*) FROM sac.badges WHERE id IN ($new_ada, $new_grace) AND revoked_at IS NULL")" 2
new_other=$(issue gate-1 other "$T_DIR/card.key" --old-card-key "$T_DIR/other-card.key" --pool 2>>"$T_DIR/reissue.err")
check_match "a card is moved to a new card key (--old-card-key)" "$new_other" '^[0-9]+$'
check "... retiring its previous badge" grep -q "previous badge $badge_other is revoked" "$T_DIR/reissue.err"
new_secret_grace=$(sim gate-1 secret grace | awk '{print $2}')
check "re-issuing writes a new card number" test "$new_secret_grace" != "$secret_grace"
reader_start gate-1
tap_card gate-1 grace
check "the re-issued card is granted" wait_for 10 bash -c "grep -cE 'event [0-9a-f]{32}: GRANT' '$T_DIR/gate-1.log' | grep -qx 3"
check_eq "... for its new badge" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = $new_grace")" 1
tap_card gate-1 other
check "the card moved to the new key is granted" wait_for 10 bash -c "grep -cE 'event [0-9a-f]{32}: GRANT' '$T_DIR/gate-1.log' | grep -qx 4"

# --- a UID-mode reader beside it ----------------------------------------------
uid_plain=04$(openssl rand -hex 6)
badge_plain=$(enroll "Alan Turing" "$uid_plain")
sim_start gate-2
reader_conf gate-2 "127.0.0.1:$port"
reader_start gate-2
tap gate-2 "$uid_plain"
check "a UID-mode reader still grants a UID badge" wait_for 10 acks_are gate-2 1
check "... GRANT" grep -qE "event [0-9a-f]{32}: GRANT" "$T_DIR/gate-2.log"

# --- privacy -------------------------------------------------------------------
sql -c "CHECKPOINT" >/dev/null
kill -TERM "$(reader_pid gate-1)" "$(reader_pid gate-2)"
wait "$(reader_pid gate-1)" "$(reader_pid gate-2)"
for s in "$uid_ada" "$uid_grace" "$uid_other" "$secret_ada" "$secret_grace" "$new_secret_grace"; do
    for f in gate-1.log ctl-1.log pg/server.log issue.err reissue.err; do
        check "no UID or card number in $f" bash -c "! grep -qi '$s' '$T_DIR/$f'"
    done
    check "... nor its bytes in the PostgreSQL data directory" bytes_absent "$s" "$T_DIR/pg"
    check "... nor in the spool" bytes_absent "$s" "$T_DIR/spool/gate-1.spool"
done
done_testing
