#!/usr/bin/env bash
# DESFire EV1 cards and DES-keyed factory cards end to end, through the real
# libnfc, sac-reader, sac-controller and PostgreSQL, with cards emulated
# behind pn532-sim:
#   - `sacctl badge issue` personalises cards as NXP ships them (card master
#     key DES zeros): an EV2 card, an EV1 card (it answers "illegal command"
#     to AuthenticateEV2First), an EV1 card with a random UID; an EV1 card is
#     re-issued;
#   - their taps are GRANTed for the right person (EV1 AES authentication
#     and EV1 secure messaging);
#   - refused, with no event: an EV1 card with other keys, a clone of an EV1
#     card, an EV1 card pulled away mid-authentication;
#   - the fallback: an EV2 card with wrong keys is refused at
#     AuthenticateEV2First and never asked with the EV1 command; an EV2 card
#     made to answer "illegal command" (as a man in the middle would) is
#     never read over EV1: refused at AuthenticateAES with wrong keys, and
#     with its own right keys too (the family is bound into the keys), while
#     the same card is granted again once it answers EV2 normally;
#   - neither a UID nor a card number is in any log, spool or the database.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
card_key_make "$T_DIR/card.key"
card_key_make "$T_DIR/other-card.key"
enroll_setup hq gate-1 || exit 1
ada=$(sacctl person add --name "Ada Lovelace" --category staff)
grace=$(sacctl person add --name "Grace Hopper" --category staff)
alan=$(sacctl person add --name "Alan Turing" --category staff)
edsger=$(sacctl person add --name "Edsger Dijkstra" --category staff)

uid_ev1=04$(openssl rand -hex 6)
uid_blank=04$(openssl rand -hex 6)
uid_ev1rnd=04$(openssl rand -hex 6)
uid_ev1other=04$(openssl rand -hex 6)
uid_ev2other=04$(openssl rand -hex 6)
uid_ev2down=04$(openssl rand -hex 6)
sim_start gate-1
sim gate-1 desfire ev1 "$uid_ev1" ev1 des >/dev/null
sim gate-1 desfire blank "$uid_blank" des >/dev/null
sim gate-1 desfire ev1rnd "$uid_ev1rnd" random ev1 des >/dev/null
sim gate-1 desfire ev1other "$uid_ev1other" ev1 des >/dev/null
sim gate-1 desfire ev2other "$uid_ev2other" des >/dev/null
sim gate-1 desfire ev2down "$uid_ev2down" des >/dev/null
sim gate-1 desfire clone "$uid_ev1" ev1 >/dev/null
check_match "the emulator refuses an unknown card flag" "$(sim gate-1 desfire x 04112233445566 ev3)" '^error usage'

# --- issuing cards with the factory DES key -----------------------------------
out=$(issue gate-1 blank "$T_DIR/card.key" --person "$grace" 2>"$T_DIR/issue.err")
check_match "an EV2 card with the factory DES key is issued" "$out" '^[0-9]+$'
badge_grace=$out
out=$(issue gate-1 ev1 "$T_DIR/card.key" --person "$ada" 2>>"$T_DIR/issue.err")
check_match "an EV1 card with the factory DES key is issued" "$out" '^[0-9]+$'
badge_ada_first=$out
badge_alan=$(issue gate-1 ev1rnd "$T_DIR/card.key" --person "$alan" 2>>"$T_DIR/issue.err")
check_match "an EV1 card with a random UID is issued" "$badge_alan" '^[0-9]+$'
badge_edsger=$(issue gate-1 ev2down "$T_DIR/card.key" --person "$edsger" 2>>"$T_DIR/issue.err")
check_match "another EV2 card is issued" "$badge_edsger" '^[0-9]+$'
badge_ev1other=$(issue gate-1 ev1other "$T_DIR/other-card.key" --pool 2>>"$T_DIR/issue.err")
check_match "an EV1 card is issued under another card key" "$badge_ev1other" '^[0-9]+$'
badge_ev2other=$(issue gate-1 ev2other "$T_DIR/other-card.key" --pool 2>>"$T_DIR/issue.err")
check_match "an EV2 card is issued under another card key" "$badge_ev2other" '^[0-9]+$'
badge_ada=$(issue gate-1 ev1 "$T_DIR/card.key" --person "$ada" 2>"$T_DIR/reissue.err")
check_match "an issued EV1 card is re-issued" "$badge_ada" '^[0-9]+$'
check "... retiring its previous badge" grep -q "previous badge $badge_ada_first is revoked" "$T_DIR/reissue.err"
issue gate-1 ev1other "$T_DIR/card.key" --pool >/dev/null 2>"$T_DIR/refused.err"
check_eq "an EV1 card of another system is not issued: exit 2" "$?" 2
check "... refused by the card at AuthenticateAES" grep -q "the card cannot be issued: .*AuthenticateAES: the card answered AE" "$T_DIR/refused.err"
secrets=()
for c in ev1 blank ev1rnd ev2down; do
    secrets+=("$(sim gate-1 secret "$c" | awk '{print $2}')")
done
check_match "the EV1 card holds a 16-byte card number" "${secrets[0]}" '^[0-9a-f]{32}$'
check_match "... and the DES-factory EV2 card too" "${secrets[1]}" '^[0-9a-f]{32}$'

# --- reading --------------------------------------------------------------------
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
reader_conf_desfire gate-1 "127.0.0.1:$port" "$T_DIR/card.key"
LIBNFC_LOG_LEVEL=3 reader_start gate-1
check "the reader connects" wait_for 15 grep -q "connected to controller 127.0.0.1:$port" "$T_DIR/gate-1.log"

tap_card gate-1 ev1
check "an EV1 card is granted" wait_for 10 acks_are gate-1 1
check_eq "... for Ada's new badge" "$(sql -c "SELECT badge_id FROM access.presence")" "$badge_ada"
tap_card gate-1 blank
check "an EV2 card issued from the DES factory key is granted" wait_for 10 acks_are gate-1 2
check_eq "... for Grace's badge" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = $badge_grace")" 1
tap_card gate-1 ev1rnd
check "an EV1 card with a random UID is granted" wait_for 10 acks_are gate-1 3
check_eq "... for Alan's badge" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = $badge_alan")" 1
check_eq "... all three as GRANT" "$(sql -c "SELECT string_agg(verdict::text, ' ') FROM access.events")" "G G G"

taps_before=$(taps gate-1)
check "an EV2 card with other keys is refused" refused_card gate-1 ev2other
check "... at AuthenticateEV2First" grep -q "card authentication failed: AuthenticateEV2First: the card answered AE" "$T_DIR/gate-1.log"
check "... and never asked with EV1's AuthenticateAES (no fallback on an authentication error)" \
    bash -c "! grep -q 'AuthenticateAES' '$T_DIR/gate-1.log'"
check "an EV1 card with other keys is refused" refused_card gate-1 ev1other
check "... at AuthenticateAES" grep -q "card authentication failed: AuthenticateAES: the card answered AE" "$T_DIR/gate-1.log"
check "a clone of an EV1 card (same UID, no keys) is refused" refused_card gate-1 clone
check "... because the application is missing" grep -q "card authentication failed: SelectApplication: .*A0 (application not found)" "$T_DIR/gate-1.log"
check "an EV1 card pulled away mid-authentication is refused" refused_card gate-1 ev1 "cut-after 2"
check "... as gone" grep -q "card authentication failed: AuthenticateAES: no answer" "$T_DIR/gate-1.log"

# A man in the middle makes EV2 cards answer "illegal command" to
# AuthenticateEV2First: the reader falls back to AuthenticateAES with the
# card's EV1-family key, which an EV2 card does not hold.
tap_card gate-1 ev2down
check "an EV2 card with the right keys is granted" wait_for 10 acks_are gate-1 4
check_eq "... for Edsger's badge" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = $badge_edsger")" 1
sim gate-1 downgrade ev2other >/dev/null
sim gate-1 downgrade ev2down >/dev/null
taps_before=$(taps gate-1)
aes_refusals=$(grep -c "AuthenticateAES: the card answered AE" "$T_DIR/gate-1.log")
check "a forced downgrade does not let a card without the keys in" refused_card gate-1 ev2other
check "a forced downgrade of the right EV2 card is refused too" refused_card gate-1 ev2down
check_eq "... both at AuthenticateAES" \
    "$(grep -c "AuthenticateAES: the card answered AE" "$T_DIR/gate-1.log")" $((aes_refusals + 2))
check_eq "refused cards made no event" "$(taps gate-1)" "$taps_before"
check_eq "the ledger holds only the four grants" "$(ledger_count)" 4
check "the reader is still running" kill -0 "$(reader_pid gate-1)"

# --- privacy -----------------------------------------------------------------------
sql -c "CHECKPOINT" >/dev/null
kill -TERM "$(reader_pid gate-1)"
wait "$(reader_pid gate-1)"
for s in "$uid_ev1" "$uid_blank" "$uid_ev1rnd" "$uid_ev1other" "$uid_ev2other" "$uid_ev2down" "${secrets[@]}"; do
    for f in gate-1.log ctl-1.log pg/server.log issue.err reissue.err refused.err; do
        check "no UID or card number in $f" bash -c "! grep -qi '$s' '$T_DIR/$f'"
    done
    check "... nor its bytes in the PostgreSQL data directory" bytes_absent "$s" "$T_DIR/pg"
    check "... nor in the spool" bytes_absent "$s" "$T_DIR/spool/gate-1.spool"
done
done_testing
