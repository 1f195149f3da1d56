#!/usr/bin/env bash
# sac-controller: the sac/1 grammar.  Every malformed-line class gets ERR and
# that connection closed, nothing from the bad line is stored, and the
# controller keeps serving others.  Greeting checks: unknown and disabled
# readers, HELLO id different from the certificate CN, EVENT before HELLO,
# second HELLO.
source "$(dirname "$0")/../lib.sh"

check "controller starts" ctl_setup
cert_issue reader-ca ghost ghost

E1=$(event_id 1)
out=$(printf 'HELLO sac/1 gate-in\nPING\nEVENT %s %s %s\n' "$E1" "$(now_ms)" "$CRED_A" \
      | as_reader gate-in --expect 3)
check_match "HELLO is answered with WELCOME" "$out" '^WELCOME sac/1 [0-9]{13}'
check_match "PING is answered with PONG" "$out" $'\n''PONG [0-9]{13}'
check_match "a valid EVENT is acknowledged" "$out" "ACK $E1 GRANT"

# bad_line DESC N FORMAT: after a good HELLO, FORMAT (printf, may hold \0)
# carrying event N, then a PING that must never be answered.
bad_line() {
    local desc=$1 id; id=$(event_id "$2")
    local before out
    before=$(events_count)
    # shellcheck disable=SC2059
    out=$( { printf 'HELLO sac/1 gate-in\n'; printf "$3"; printf 'PING\n'; } \
           | as_reader gate-in --expect 4 --timeout 5)
    check_match "$desc: ERR" "$out" $'\n''ERR [a-z-]+ [^\n]+'
    check_match "$desc: connection closed after ERR" "$out" $'\n''CLOSED$'
    check_no_match "$desc: nothing answered after the bad line" "$out" 'PONG|ACK'
    check_eq "$desc: nothing stored" "$(events_count)" "$before"
    check_eq "$desc: event $2 not stored" "$(events_count "event_id = '$id'")" 0
}
T=$(now_ms)
long=$(printf 'x%.0s' $(seq 1 300))
bad_line "uppercase hex" 11 "EVENT $(event_id 11 | tr 0-9a-f 0-9A-F | sed 's/^0/A/') $T $CRED_A\n"
bad_line "non-hex credential" 12 "EVENT $(event_id 12) $T ${CRED_A:0:63}g\n"
bad_line "short event id" 13 "EVENT $(event_id 13 | cut -c2-) $T $CRED_A\n"
bad_line "short credential" 14 "EVENT $(event_id 14) $T ${CRED_A:0:62}\n"
bad_line "NUL byte" 15 "EVENT $(event_id 15) $T ${CRED_A:0:32}\\0${CRED_A:33}\n"
bad_line "overlong line" 16 "EVENT $(event_id 16) $T $CRED_A $long\n"
bad_line "overlong line without LF" 17 "$long$long"
bad_line "unknown verb" 18 "TAP $(event_id 18) $T $CRED_A\n"
bad_line "negative time" 19 "EVENT $(event_id 19) -$T $CRED_A\n"
bad_line "extra field" 20 "EVENT $(event_id 20) $T $CRED_A extra\n"
bad_line "CR before LF" 21 "EVENT $(event_id 21) $T $CRED_A\r\n"
bad_line "double space" 22 "EVENT  $(event_id 22) $T $CRED_A\n"
bad_line "second HELLO" 23 "HELLO sac/1 gate-in\nEVENT $(event_id 23) $T $CRED_A\n"
bad_line "verb of the controller" 24 "ACK $(event_id 24) GRANT\n"

out=$(printf 'EVENT %s %s %s\nHELLO sac/1 gate-in\n' "$(event_id 30)" "$T" "$CRED_A" \
      | as_reader gate-in --expect 2 --timeout 5)
check_match "EVENT before HELLO: ERR" "$out" '^ERR protocol expected HELLO'
check_eq "EVENT before HELLO: not stored" "$(events_count "event_id = '$(event_id 30)'")" 0

out=$(printf 'HELLO sac/1 gate-out\n' | as_reader gate-in --expect 2 --timeout 5)
check_match "HELLO id differs from the certificate CN: ERR" "$out" '^ERR identity '
check_match "HELLO id differs from the CN: closed" "$out" 'CLOSED$'

out=$(printf 'HELLO sac/1 ghost\n' | as_reader ghost --expect 2 --timeout 5)
check_match "unknown reader: ERR" "$out" '^ERR unknown-reader '
check_match "unknown reader: closed" "$out" 'CLOSED$'

out=$(printf 'HELLO sac/1 gate-off\nEVENT %s %s %s\n' "$(event_id 31)" "$T" "$CRED_A" \
      | as_reader gate-off --expect 2 --timeout 5)
check_match "disabled reader: ERR" "$out" '^ERR disabled '
check_eq "disabled reader: nothing stored" "$(events_count "event_id = '$(event_id 31)'")" 0

out=$(printf 'HELLO sac/1 gate-in\nEVENT %s %s %s\n' "$(event_id 40)" "$(now_ms)" "$CRED_A" \
      | as_reader gate-in --expect 2)
check_match "still serving after all of that" "$out" "ACK $(event_id 40) GRANT"
check "controller still running" kill -0 "$CTL_PID"
check_no_match "no credential in the controller log" "$(cat "$T_DIR/controller.log")" "$CRED_A|${CRED_A:0:16}"
done_testing
