#!/usr/bin/env bash
# The headcount and the muster fed by the real controller: badges tapped
# through sac-controller (mutual TLS, sac/1) at in, muster and out readers
# move people onto and off the premises and the roll.
source "$(dirname "$0")/../lib.sh"
# Within the longest certification the database allows (1 year by default).
EXPIRES=$(date -u -d "+300 days" +%Y-%m-%d)

check "controller starts" ctl_setup
make_login cert1 sac_certifier
make_login off1 sac_officer
sacctl_as cert1 officer certify off1 --site hq --expires "$EXPIRES" >/dev/null
sacctl_as off1 officer acknowledge --yes >/dev/null

n=0
# tap READER CREDENTIAL: one event through the controller; prints the verdict.
tap() {
    n=$((n + 1))
    local e; e=$(event_id "$n")
    printf 'HELLO sac/1 %s\nEVENT %s %s %s\n' "$1" "$e" "$(now_ms)" "$2" \
        | as_reader "$1" --expect 2 | sed -n "s/^ACK $e //p"
}
hc() { sacctl_as off1 --format json headcount --site hq | tr -d '\n'; }
ms() { sacctl_as off1 --format json muster status --emergency "$id" | tr -d '\n'; }

check_eq "person A badges in" "$(tap gate-in "$CRED_A")" GRANT
check_eq "a pool badge badges in" "$(tap gate-in "$CRED_POOL")" GRANT
check_exit "no headcount before an emergency is declared" 1 sacctl_as off1 headcount --site hq
id=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "controller drill")
check_match "drill declared" "$id" '^[0-9]+$'

out=$(hc)
check_match "headcount: two present, one unidentified" "$out" '"present": 2, "unidentified": 1'
check_match "… A is listed in the lobby" "$out" '"name": "Test Person", "category": "staff", "zone": "lobby"'
check_match "muster: both on the roll, unaccounted" "$(ms)" '"on_roll": 2, "accounted": 0, "left": 0, "unaccounted": 2'

check_eq "A taps at the muster point" "$(tap muster-1 "$CRED_A")" GRANT
out=$(ms)
check_match "… A is accounted for" "$out" '"on_roll": 2, "accounted": 1, "left": 0, "unaccounted": 1'
check_match "… at muster-1" "$out" '\{"reader": "muster-1", "zone": "park", "accounted": 1\}'
check_no_match "… and no longer listed as unaccounted" "$out" "Test Person"

check_eq "the pool badge goes out" "$(tap gate-out "$CRED_POOL")" GRANT
check_match "… it has left the site" "$(ms)" '"accounted": 1, "left": 1, "unaccounted": 0'
check_match "… and is no longer present" "$(hc)" '"present": 1, "unidentified": 0'

check_eq "A goes out too" "$(tap gate-out "$CRED_A")" GRANT
out=$(hc)
check_match "a person in then out is not listed" "$out" '"present": 0, "unidentified": 0, "expired_presence": 0, "persons": \[\]'
check_eq "a revoked badge is denied" "$(tap gate-in "$CRED_REVOKED")" DENY
check_match "… and nobody appears" "$(hc)" '"present": 0'
check "close" sacctl_as off1 emergency close "$id"
check_eq "audit: the officer's calls, with counts and no names" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE action IN ('headcount', 'muster_status') AND outcome = 'allowed' AND role = 'off1'")" 7
check_eq "no audit record names anyone" "$(sql -c "SELECT count(*) FROM audit.log WHERE concat(detail, site) LIKE '%Test Person%'")" 0
done_testing
