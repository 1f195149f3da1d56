#!/usr/bin/env bash
# sacctl administration: sites, readers, persons and denial counts, in all
# three output formats, with good and bad input; what a role without
# sac_admin gets; an unreachable database; usage errors.  (Badges:
# ctl_badge.sh.)
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login admin1 sac_admin
make_login nobody1
make_login auditor1 sac_auditor

adm() { sacctl_as admin1 "$@"; }
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
sql -c "UPDATE sac.readers SET last_seen = now() WHERE id = 'hq-gate-1-out'" >/dev/null
check_eq "a disabled reader is offline, even when seen a moment ago" \
    "$(adm --format csv reader list | grep '^hq-gate-1-out,' | cut -d, -f5,6)" "false,false"
check_eq "reader enable" "$(adm --format json reader enable hq-gate-1-out)" \
    '{"id": "hq-gate-1-out", "site": "hq", "direction": "out", "zone": null, "enabled": true}'
check_eq "…is stored, and the reader is online again" \
    "$(adm --format csv reader list | grep '^hq-gate-1-out,' | cut -d, -f5,6)" "true,true"
check_exit "reader enable of an enabled reader: exit 0" 0 adm reader enable hq-gate-1-out
check_exit "reader enable of an unknown reader: exit 2" 2 adm reader enable nosuch
check_exit "reader enable without an id: exit 2" 2 adm reader enable

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

# --- denial counts ------------------------------------------------------------
sql -c "SELECT access.ensure_partition(now()); SELECT access.ensure_partition(now() - interval '3 hours');
  INSERT INTO access.events (occurred_at, reader_id, event_id, received_at, verdict, site_id, direction)
  SELECT now() - (g % 2) * interval '3 hours', 'hq-gate-1-in', gen_random_uuid(), now(),
         CASE WHEN g <= 5 THEN 'D' ELSE 'G' END, $site_id, 'i'
  FROM generate_series(1, 8) g" >/dev/null
json=$(adm --format json reader denials)
check_eq "reader denials: per reader and hour, denials only; below 3 suppressed for an administrator" \
    "$(printf '%s' "$json" | python3 -c '
import json, sys
print(" ".join("%s/%s/%s/%s" % (r["reader"], r["site"], r["denials"], r["suppressed"]) for r in json.load(sys.stdin)))')" \
    "hq-gate-1-in/hq/3/False hq-gate-1-in/hq/None/True"
check_match "…hours in ISO-8601" "$json" '"hour": "[0-9-]{10}T[0-9]{2}:00:00Z"'
since=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
check_eq "reader denials --since" "$(adm --format csv reader denials --since "$since" | tail -n +2 | cut -d, -f4,5)" ",true$CR"
check_match "reader denials text" "$(adm reader denials)" 'hq-gate-1-in +hq +20[0-9-]+T[0-9:]+Z +3'
check_match "…says that small counts are suppressed" "$(adm reader denials)" 'fewer than 3 denials; their counts are suppressed'
check_eq "an auditor sees exact counts" \
    "$(sacctl_as auditor1 --format csv reader denials --since "$since" | tail -n +2 | cut -d, -f4,5)" "2,false$CR"
check_exit "reader denials --since yesterday: exit 2" 2 adm reader denials --since yesterday

# --- the audit log: every change, ids not names -------------------------------------------
actions=$(sql -c "SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM audit.log WHERE role = 'admin1'")
check_eq "every change is audited" "$actions" \
    "denial_counts,person_add,reader_add,reader_disable,reader_enable,site_add"
check_eq "the audit log holds no person's name" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE detail LIKE '%Robert%' OR detail LIKE '%Ana%'")" "0"
check_eq "person_add details are ids" \
    "$(sql -c "SELECT detail FROM audit.log WHERE action = 'person_add' ORDER BY id LIMIT 1")" "person $pid category staff"
check_no_match "the server log holds no person's name" "$(cat "$T_DIR/pg/server.log")" 'Robert|Ana Li'
check_eq "the audit chain is intact" "$(sql -c 'SELECT audit.first_broken_row() IS NULL')" "t"

# --- roles without sac_admin: exit 1 ---------------------------------------------------
for role in nobody1 auditor1; do
    check_exit "site add as $role: exit 1" 1 sacctl_as "$role" site add other
    check_match "…naming the role and what it needs" "$(cat "$T_DIR/last.out")" \
        "role '$role' may not add sites \(needs sac_admin\)"
    check_exit "reader add as $role: exit 1" 1 sacctl_as "$role" reader add r9 --site hq --direction in
    check_exit "reader disable as $role: exit 1" 1 sacctl_as "$role" reader disable hq-gate-1-in
    check_exit "reader list as $role: exit 1" 1 sacctl_as "$role" reader list
    [ "$role" = auditor1 ] || check_exit "reader denials as $role: exit 1" 1 sacctl_as "$role" reader denials
    check_exit "person add as $role: exit 1" 1 sacctl_as "$role" person add --name X --category staff
done
check_eq "refused calls changed nothing" \
    "$(sql -c "SELECT (SELECT count(*) FROM sac.sites) || '/' || (SELECT count(*) FROM sac.readers) || '/' || (SELECT count(*) FROM sac.persons)")" "4/3/3"

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

done_testing
