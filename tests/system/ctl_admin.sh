#!/usr/bin/env bash
# sacctl administration: sites, readers, persons, badges and denial counts,
# in all three output formats, with good and bad input; what a role without
# sac_admin gets; an unreachable database; and that no UID or credential
# shows up in any output, the audit log or the server log.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login admin1 sac_admin
make_login nobody1
make_login auditor1 sac_auditor
credential_key_make "$T_DIR/credential.key"
export SAC_CREDENTIAL_KEY_FILE="$T_DIR/credential.key"

# Everything sacctl prints (stdout and stderr) is kept, to search it for
# UIDs and credentials at the end.
adm() {
    sacctl_as admin1 "$@" >"$T_DIR/cmd.out" 2>&1
    local rc=$?
    cat "$T_DIR/cmd.out" | tee -a "$T_DIR/all.out"
    return $rc
}
CR=$'\r'

# --- sites -------------------------------------------------------------------
site_id=$(adm site add hq)
check_match "site add prints the site id" "$site_id" '^[0-9]+$'
check_eq "site add --format json" "$(adm --format json site add geneva)" '{"site_id": '$((site_id + 1))'}'
check_eq "site add --format csv" "$(adm --format csv site add nairobi)" "site_id${CR}"$'\n'"$((site_id + 2))${CR}"
check_eq "global options may follow the command" "$(adm site add vienna --format json)" '{"site_id": '$((site_id + 3))'}'
check_exit "site add of an existing site: exit 2" 2 adm site add hq
check_match "…naming it" "$(cat "$T_DIR/last.out")" "site hq already exists"
check_exit "site add with a space: exit 2" 2 adm site add "head quarters"
check_match "…saying what a name may hold" "$(cat "$T_DIR/last.out")" "invalid site name"
check_exit "site add with SQL in the name: exit 2" 2 adm site add "x'); DROP TABLE sac.sites; --"
check_exit "site add without a name: exit 2" 2 adm site add
check_exit "site add with two names: exit 2" 2 adm site add a b
check_exit "site add with an unknown option: exit 2" 2 adm site add a --colour red
check_eq "four sites exist" "$(sql -c 'SELECT count(*) FROM sac.sites')" "4"

# --- readers -------------------------------------------------------------------
check_exit "reader add: exit 0" 0 adm reader add hq-gate-1-in --site hq --direction in --zone lobby
check_match "reader add prints the reader" "$(cat "$T_DIR/last.out")" 'id: +hq-gate-1-in'
out=$(adm --format json reader add hq-gate-1-out --site hq --direction out)
check_eq "reader add --format json" "$out" \
    '{"id": "hq-gate-1-out", "site": "hq", "direction": "out", "zone": null, "enabled": true}'
check_exit "reader add muster" 0 adm reader add hq-muster-a --site hq --direction muster --zone car-park
check_exit "reader add to an unknown site: exit 2" 2 adm reader add r1 --site nowhere --direction in
check_match "…naming the site" "$(cat "$T_DIR/last.out")" "unknown site nowhere"
check_exit "reader add with a bad direction: exit 2" 2 adm reader add r1 --site hq --direction sideways
check_exit "reader add with a bad id: exit 2" 2 adm reader add "r 1" --site hq --direction in
check_exit "reader add with a bad zone: exit 2" 2 adm reader add r1 --site hq --direction in --zone "a;b"
check_exit "reader add of an existing reader: exit 2" 2 adm reader add hq-gate-1-in --site hq --direction in
check_exit "reader add without --site: exit 2" 2 adm reader add r1 --direction in
check_exit "reader add with --site twice: exit 2" 2 adm reader add r1 --site hq --site hq --direction in

sql -c "UPDATE sac.readers SET last_seen = now() - interval '5 seconds' WHERE id = 'hq-gate-1-in';
        UPDATE sac.readers SET last_seen = now() - interval '5 minutes' WHERE id = 'hq-gate-1-out'"
json=$(adm --format json reader list)
check_eq "reader list --format json: one array, exact keys" \
    "$(printf '%s' "$json" | python3 -c '
import json, sys
rows = json.load(sys.stdin)
print(len(rows), ",".join(rows[0].keys()))
for r in rows: print(r["id"], r["site"], r["direction"], r["zone"], r["enabled"], r["online"], r["last_seen"] is None)
')" "3 id,site,direction,zone,enabled,online,last_seen
hq-gate-1-in hq in lobby True True False
hq-gate-1-out hq out None True False False
hq-muster-a hq muster car-park True False True"
check_match "last_seen is ISO-8601 UTC" "$json" '"last_seen": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"'
text=$(adm reader list)
check_match "reader list text: a header" "$(printf '%s\n' "$text" | head -n1)" '^id +site +direction +zone +enabled +online +last_seen$'
check_match "reader list text: a row per reader" "$(printf '%s\n' "$text" | sed -n 2p)" '^hq-gate-1-in +hq +in +lobby +true +true +20'
csv=$(adm --format csv reader list)
check_eq "reader list csv: header" "$(printf '%s\n' "$csv" | head -n1)" "id,site,direction,zone,enabled,online,last_seen$CR"
check_eq "reader list csv: four lines" "$(printf '%s\n' "$csv" | wc -l)" "4"
check_eq "reader list csv parses" "$(printf '%s' "$csv" | python3 -c '
import csv, sys; print(sum(1 for _ in csv.DictReader(sys.stdin)))')" "3"
check_exit "reader list takes no argument: exit 2" 2 adm reader list extra

check_eq "reader disable" "$(adm --format json reader disable hq-gate-1-out)" \
    '{"id": "hq-gate-1-out", "site": "hq", "direction": "out", "zone": null, "enabled": false}'
check_eq "…is stored" "$(sql -c "SELECT enabled FROM sac.readers WHERE id = 'hq-gate-1-out'")" "f"
check_exit "reader disable of an unknown reader: exit 2" 2 adm reader disable nosuch
check_exit "reader disable of a bad id: exit 2" 2 adm reader disable "'; DROP TABLE sac.readers; --"

# --- persons -------------------------------------------------------------------
bobby="Robert'); DROP TABLE sac.persons; --"
pid=$(adm person add --name "$bobby" --category staff --org "ACME \"Ltd\", \\ <b>")
check_match "person add prints the person id" "$pid" '^[0-9]+$'
check_eq "a name that looks like SQL is stored literally" \
    "$(sql -c "SELECT name || '|' || org FROM sac.persons WHERE id = $pid")" "$bobby|ACME \"Ltd\", \\ <b>"
check_eq "person add --format json" "$(adm --format json person add --name 'Ana Li' --category visitor)" \
    '{"person_id": '$((pid + 1))'}'
check_eq "person add --format csv" "$(adm --format csv person add --name 'Jo' --category delegate)" \
    "person_id${CR}"$'\n'"$((pid + 2))${CR}"
check_exit "person add with a bad category: exit 2" 2 adm person add --name "Al Bo" --category boss
check_exit "person add with an empty name: exit 2" 2 adm person add --name "" --category staff
check_exit "person add with a 201-character name: exit 2" 2 \
    adm person add --name "$(printf 'n%.0s' $(seq 1 201))" --category staff
check_exit "person add without --category: exit 2" 2 adm person add --name "Al Bo"
check_exit "person add with an empty org: exit 2" 2 adm person add --name "Al Bo" --category staff --org ""

# --- badges -------------------------------------------------------------------
uid="04:A2:1B:7C:11:22:33"
uid_plain=04a21b7c112233
key=$(cat "$T_DIR/credential.key")
cred=$(printf '%s' "$uid_plain" | xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" | awk '{print $NF}')

bid=$(adm badge enroll --person "$pid" --uid "$uid" --valid-until 2099-12-31)
check_match "badge enroll prints the badge id" "$bid" '^[0-9]+$'
check_eq "the stored credential is HMAC-SHA256(key, UID)" \
    "$(sql -c "SELECT encode(credential, 'hex') FROM sac.badges WHERE id = $bid")" "$cred"
check_eq "valid-until without a zone is UTC" \
    "$(sql -c "SELECT valid_until = '2099-12-31 00:00:00+00' FROM sac.badges WHERE id = $bid")" "t"
check_exit "enrolling an enrolled badge: exit 2" 2 adm badge enroll --person "$pid" --uid "$uid_plain"
check_match "…saying so" "$(cat "$T_DIR/last.out")" "already enrolled"
check_eq "the server logged no unique violation" "$(grep -c 'duplicate key' "$T_DIR/pg/server.log")" "0"
check_eq "badge enroll --pool --format json, UID in upper case without colons" \
    "$(adm --format json badge enroll --pool --uid 0A0B0C0D --valid-until 2099-01-01T12:00:00+02:00)" \
    '{"badge_id": '$((bid + 1))'}'
check_eq "a pool badge has no person; the offset is honoured" \
    "$(sql -c "SELECT person_id IS NULL, valid_until = '2099-01-01 10:00:00+00' FROM sac.badges WHERE id = $((bid + 1))")" "t|t"
check_eq "badge enroll --format csv with the UID on stdin" \
    "$(printf '0102030405060708090a\n' | adm --format csv badge enroll --person "$pid" --uid -)" \
    "badge_id${CR}"$'\n'"$((bid + 2))${CR}"
for bad in 04a21b 04a21b7c11 04:a2:1b:7c: 04::a2:1b:7c zz010203 0102030405060708090a0b "" "04 a2 1b 7c"; do
    check_exit "badge enroll --uid '$bad': exit 2" 2 adm badge enroll --pool --uid "$bad"
done
check_exit "badge enroll with --person and --pool: exit 2" 2 adm badge enroll --person "$pid" --pool --uid 01020304
check_exit "badge enroll without --person or --pool: exit 2" 2 adm badge enroll --uid 01020304
check_exit "badge enroll for an unknown person: exit 2" 2 adm badge enroll --person 999999 --uid 01020304
check_exit "badge enroll with a bad person id: exit 2" 2 adm badge enroll --person "1; DROP" --uid 01020304
check_exit "badge enroll --valid-until tomorrow: exit 2" 2 adm badge enroll --pool --uid 01020304 --valid-until tomorrow
check_exit "badge enroll --valid-until 2026-13-01: exit 2" 2 adm badge enroll --pool --uid 01020304 --valid-until 2026-13-01
check_exit "badge enroll --valid-until in the past: exit 2" 2 adm badge enroll --pool --uid 01020304 --valid-until 2001-01-01
check_exit "badge enroll with a missing key file: exit 3" 3 adm badge enroll --pool --uid 01020304 --key "$T_DIR/nokey"
cp "$T_DIR/credential.key" "$T_DIR/open.key"; chmod 644 "$T_DIR/open.key"
check_exit "badge enroll with a group-readable key: exit 2" 2 adm badge enroll --pool --uid 01020304 --key "$T_DIR/open.key"
(umask 077; echo nothex >"$T_DIR/bad.key")
check_exit "badge enroll with a malformed key: exit 2" 2 adm badge enroll --pool --uid 01020304 --key "$T_DIR/bad.key"
check_eq "no bad enrollment stored anything" "$(sql -c 'SELECT count(*) FROM sac.badges')" "3"

check_eq "badge revoke --format json" "$(adm --format json badge revoke --uid "$uid")" '{"badge_id": '$bid'}'
check_eq "…sets revoked_at" "$(sql -c "SELECT revoked_at IS NOT NULL FROM sac.badges WHERE id = $bid")" "t"
check_exit "revoking it again: exit 2" 2 adm badge revoke --uid "$uid"
check_exit "revoking an unknown badge: exit 2" 2 adm badge revoke --uid 01020304
check_exit "revoking with a bad UID: exit 2" 2 adm badge revoke --uid 0102
check_eq "a revoked badge can be enrolled again (same badge)" \
    "$(adm badge enroll --pool --uid "$uid")" "$bid"
check_eq "…as active" "$(sql -c "SELECT revoked_at IS NULL AND person_id IS NULL FROM sac.badges WHERE id = $bid")" "t"

# --- denial counts ------------------------------------------------------------
sql -c "SELECT access.ensure_partition(now()); SELECT access.ensure_partition(now() - interval '3 hours');
  INSERT INTO access.events (occurred_at, reader_id, event_id, received_at, verdict, site_id, direction)
  SELECT now() - (g % 2) * interval '3 hours', 'hq-gate-1-in', gen_random_uuid(), now(),
         CASE WHEN g <= 5 THEN 'D' ELSE 'G' END, $site_id, 'i'
  FROM generate_series(1, 8) g" >/dev/null
json=$(adm --format json reader denials)
check_eq "reader denials: per reader and hour, denials only" "$(printf '%s' "$json" | python3 -c '
import json, sys
print(" ".join("%s/%s/%d" % (r["reader"], r["site"], r["denials"]) for r in json.load(sys.stdin)))')" \
    "hq-gate-1-in/hq/3 hq-gate-1-in/hq/2"
check_match "…hours in ISO-8601" "$json" '"hour": "[0-9-]{10}T[0-9]{2}:00:00Z"'
since=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
check_eq "reader denials --since" "$(adm --format csv reader denials --since "$since" | tail -n +2 | cut -d, -f4)" "2$CR"
check_match "reader denials text" "$(adm reader denials)" 'hq-gate-1-in +hq +20[0-9-]+T[0-9:]+Z +3'
check_exit "reader denials --since yesterday: exit 2" 2 adm reader denials --since yesterday

# --- the audit log: every change, ids not names -------------------------------------------
actions=$(sql -c "SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM audit.log WHERE role = 'admin1'")
check_eq "every change is audited" "$actions" \
    "badge_enroll,badge_revoke,denial_counts,person_add,reader_add,reader_disable,site_add"
check_eq "the audit log holds no person's name" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE detail LIKE '%Robert%' OR detail LIKE '%Ana%'")" "0"
check_eq "badge_enroll details are ids" \
    "$(sql -c "SELECT detail FROM audit.log WHERE action = 'badge_enroll' ORDER BY id LIMIT 1")" "badge $bid person $pid"
check_eq "the audit chain is intact" "$(sql -c 'SELECT audit.first_broken_row() IS NULL')" "t"

# --- roles without sac_admin: exit 1 ---------------------------------------------------
for role in nobody1 auditor1; do
    check_exit "site add as $role: exit 1" 1 sacctl_as "$role" site add other
    check_match "…naming the role and what it needs" "$(cat "$T_DIR/last.out")" \
        "role '$role' may not add sites \(needs sac_admin\)"
    check_exit "reader add as $role: exit 1" 1 sacctl_as "$role" reader add r9 --site hq --direction in
    check_exit "reader disable as $role: exit 1" 1 sacctl_as "$role" reader disable hq-gate-1-in
    check_exit "reader list as $role: exit 1" 1 sacctl_as "$role" reader list
    check_exit "reader denials as $role: exit 1" 1 sacctl_as "$role" reader denials
    check_exit "person add as $role: exit 1" 1 sacctl_as "$role" person add --name X --category staff
    check_exit "badge enroll as $role: exit 1" 1 sacctl_as "$role" badge enroll --pool --uid 01020304
    check_exit "badge revoke as $role: exit 1" 1 sacctl_as "$role" badge revoke --uid 0A0B0C0D
done
check_eq "refused calls changed nothing" \
    "$(sql -c "SELECT (SELECT count(*) FROM sac.sites) || '/' || (SELECT count(*) FROM sac.readers) || '/' || (SELECT count(*) FROM sac.badges WHERE revoked_at IS NULL)")" "4/3/3"

# --- environment and usage ---------------------------------------------------------------------
mkdir -p "$T_DIR/empty"
check_exit "an unreachable database: exit 3" 3 sacctl --db "host=$T_DIR/empty port=5999 dbname=sac" reader list
check_match "…saying so" "$(cat "$T_DIR/last.out")" "cannot connect to the database"
check_exit "an unknown command: exit 2" 2 sacctl reader fly
check_exit "no command: exit 2" 2 sacctl
check_exit "a bad --format: exit 2" 2 sacctl --format xml reader list
check_exit "--help: exit 0" 0 sacctl --help
check_match "--help lists the commands" "$(cat "$T_DIR/last.out")" 'badge enroll'
check_exit "a command's --help: exit 0" 0 sacctl reader add --help
check_match "--version" "$(sacctl --version)" '^sacctl [0-9]+\.[0-9]+\.[0-9]+$'

# --- no UID, no credential anywhere -------------------------------------------------------------
all_uids='04:?a2:?1b:?7c:?11:?22:?33|0a:?0b:?0c:?0d|01:?02:?03:?04:?05:?06:?07:?08:?09:?0a'
check_no_match "no UID in sacctl's output" "$(tr 'A-Z' 'a-z' <"$T_DIR/all.out")" "$all_uids"
check_no_match "no credential in sacctl's output" "$(cat "$T_DIR/all.out")" "$cred"
check_no_match "no UID in the server log" "$(tr 'A-Z' 'a-z' <"$T_DIR/pg/server.log")" "$all_uids"
check_no_match "no credential in the server log" "$(cat "$T_DIR/pg/server.log")" "$cred|\\\\x[0-9a-f]{64}"
check_eq "no credential in the audit log" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE detail ~ '[0-9a-f]{16}'")" "0"

done_testing
