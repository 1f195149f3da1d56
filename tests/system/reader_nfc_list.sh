#!/usr/bin/env bash
# pn532-sim is faithful enough for libnfc's own tools: nfc-list sees the
# emulated ISO 14443-A card with a 4-, 7- and 10-byte UID (and its ATS when
# the SAK says ISO 14443-4), and sees nothing once it is removed.
source "$(dirname "$0")/../lib.sh"

if ! command -v nfc-list >/dev/null; then
    echo "ok 1 # SKIP nfc-list is not installed (Debian package libnfc-bin)"
    exit 0
fi
sim_start r1
export LIBNFC_AUTO_SCAN=false LIBNFC_DEVICE="pn532_uart:$(sim_pty r1)"
spaced() { echo "$1" | sed 's/../&  /g; s/ *$//'; }

sim r1 present 04a1b2c3 >/dev/null
out=$(nfc-list -t 1 2>&1)
check_match "nfc-list finds the chip" "$out" "NFC device: .* opened"
check_match "a 4-byte UID" "$out" "UID \(NFCID1\): $(spaced 04a1b2c3)"
check_match "... with ATQA 00 04 and SAK 08" "$out" "ATQA \(SENS_RES\): 00  04"

sim r1 present 04112233445566 >/dev/null
out=$(nfc-list -t 1 2>&1)
check_match "a 7-byte UID" "$out" "UID \(NFCID1\): $(spaced 04112233445566)"

sim r1 present 04112233445566778899 0344 20 >/dev/null
out=$(nfc-list -t 1 2>&1)
check_match "a 10-byte UID" "$out" "UID \(NFCID1\): $(spaced 04112233445566778899)"
check_match "... and its ATS" "$out" "ATS: 78  80  70  02"

sim r1 remove >/dev/null
out=$(nfc-list 2>&1)
check_no_match "no card once removed" "$out" "UID"
check_no_match "no phantom cards of other types" "$out" "target\(s\) found"

check_exit "a bad control line is refused" 1 sim r1 present 0102
check_exit "status answers" 0 sim r1 status
check_exit "quit ends the emulator" 0 sim r1 quit
check "its control socket is gone" wait_for 5 test ! -e "$T_DIR/r1.ctl"
done_testing
