#!/usr/bin/env bash
# sacctl muster status: the roll taken at declaration, accounted for at
# muster readers, left through out readers (the controller's updates are
# made here by hand, as sac_owner would); the formats; --watch redraws until
# SIGINT or SIGTERM (exit 0) or until the emergency is closed; a closed
# emergency stays readable by its officers until its roll is purged.
source "$(dirname "$0")/../lib.sh"
# Within the longest certification the database allows (1 year by default).
EXPIRES=$(date -u -d "+300 days" +%Y-%m-%d)
pg_start || exit 1

make_login cert1 sac_certifier
make_login off1 sac_officer
make_login off2 sac_officer
sql <<'SQL' >/dev/null
INSERT INTO sac.sites (name) VALUES ('hq'), ('annex');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES
    ('hq-in', 1, 'in', 'lobby'), ('hq-out', 1, 'out', 'lobby'),
    ('hq-m1', 1, 'muster', 'car-park'), ('hq-m2', 1, 'muster', 'lawn'),
    ('annex-m1', 2, 'muster', 'yard');
INSERT INTO sac.persons (name, category) VALUES
    ('Ada Example', 'staff'), ('Bo Example', 'visitor'), ('Cy Example', 'contractor'),
    ('Di Example', 'staff');
INSERT INTO sac.badges (credential, person_id)
    SELECT sha256(i::text::bytea), CASE WHEN i <= 4 THEN i END FROM generate_series(1, 5) i;
INSERT INTO access.presence VALUES
    (1, 1, 1, 'lobby', now(), now(), 'hq-in'), (2, 2, 1, 'east', now(), now(), 'hq-in'),
    (3, 3, 1, 'east', now(), now(), 'hq-in'), (5, NULL, 1, 'lobby', now(), now(), 'hq-in'),
    (4, 4, 2, 'yard', now(), now(), 'annex-in');
SQL
sacctl_as cert1 officer certify off1 --site hq --expires "$EXPIRES" >/dev/null
sacctl_as cert1 officer certify off2 --site annex --expires "$EXPIRES" >/dev/null
sacctl_as off1 officer acknowledge --yes >/dev/null
sacctl_as off2 officer acknowledge --yes >/dev/null

id=$(sacctl_as off1 emergency declare --site hq --kind emergency --reason "smoke in the east wing")
check_match "declared" "$id" '^[0-9]+$'
check_eq "the roll is everyone present at hq, unaccounted" \
    "$(sql -c "SELECT string_agg(badge_id || ':' || state::text, ' ' ORDER BY badge_id) FROM access.muster_roll WHERE emergency_id = $id")" \
    "1:u 2:u 3:u 5:u"

# JSON on one line: list items are separated by ",\n ".
ms() { sacctl_as off1 --format json muster status --emergency "$id" | tr -d '\n'; }
out=$(ms)
check_match "json: the header" "$out" \
    '^\{"emergency_id": '"$id"', "site": "hq", "kind": "emergency", "declared_at": "[0-9-]{10}T[0-9:]{8}Z", "closed_at": null, "on_roll": 4, "accounted": 0, "left": 0, "unaccounted": 4, '
check_match "json: both muster points of hq, none of the annex" "$out" \
    '"muster_points": \[\{"reader": "hq-m1", "zone": "car-park", "accounted": 0\}, \{"reader": "hq-m2", "zone": "lawn", "accounted": 0\}\]'
check_match "json: unaccounted persons, pool badge first, then by zone and name" "$out" \
    '"unaccounted_persons": \[\{"person_id": 2, "name": "Bo Example", "category": "visitor", "zone": "east", "last_seen": "[^"]+"\}, \{"person_id": 3, "name": "Cy Example".*\{"person_id": null, "name": null, "category": null, "zone": "lobby".*\{"person_id": 1, "name": "Ada Example"'
check_eq "audited with the persons listed" \
    "$(sql -c "SELECT outcome || ' ' || emergency_id || ' ' || count FROM audit.log WHERE action = 'muster_status' ORDER BY id DESC LIMIT 1")" \
    "allowed $id 4"

# What the controller does while the emergency is open: a tap at a muster
# reader sets 'a', at an out reader 'l', and a badge not on the roll that
# turns up at a muster point is added to it.
muster_tap() { sql -c "INSERT INTO access.muster_roll (emergency_id, badge_id, person_id, state, muster_reader, changed_at)
    VALUES ($id, $1, $2, 'a', '$3', now())
    ON CONFLICT (emergency_id, badge_id) DO UPDATE SET state = 'a', muster_reader = excluded.muster_reader, changed_at = now()" >/dev/null; }
out_tap() { sql -c "UPDATE access.muster_roll SET state = 'l', changed_at = now() WHERE emergency_id = $id AND badge_id = $1" >/dev/null; }

muster_tap 2 2 hq-m2
out_tap 1
out=$(ms)
check_match "after a muster tap and an out tap: counts" "$out" '"on_roll": 4, "accounted": 1, "left": 1, "unaccounted": 2'
check_match "… the muster point counts it" "$out" '\{"reader": "hq-m2", "zone": "lawn", "accounted": 1\}'
check_no_match "… Bo (accounted) is no longer unaccounted" "$out" "Bo Example"
check_no_match "… Ada (left) neither" "$out" "Ada Example"
check_match "… Cy still is" "$out" "Cy Example"
muster_tap 4 4 hq-m1
check_match "someone not on the roll reaching a muster point is added, accounted" "$(ms)" \
    '"on_roll": 5, "accounted": 2, "left": 1, "unaccounted": 2'

out=$(sacctl_as off1 muster status --emergency "$id")
check_match "text: counts" "$out" "unaccounted: +2"
check_match "text: muster points" "$out" "hq-m1 +car-park +1"
check_match "text: unaccounted persons" "$out" "3 +Cy Example +contractor +east"
out=$(sacctl_as off1 --format csv muster status --emergency "$id")
check_match "csv: header line" "$out" "^emergency_id,site,kind,declared_at,closed_at,on_roll,accounted,left,unaccounted"
check_match "csv: a person" "$out" "3,Cy Example,contractor,east,"

check_exit "an officer of another site: exit 1" 1 sacctl_as off2 muster status --emergency "$id"
check_match "… says why" "$(cat "$T_DIR/last.out")" "role off2 is not certified as an officer for site hq"
check_eq "… audited" "$(sql -c "SELECT outcome || ' ' || detail FROM audit.log WHERE action = 'muster_status' ORDER BY id DESC LIMIT 1")" \
    "refused not_certified"
check_exit "unknown emergency: exit 1" 1 sacctl_as off1 muster status --emergency 424242
check_match "… says why" "$(cat "$T_DIR/last.out")" "no emergency 424242"
check_exit "a bad id is bad usage" 2 sacctl_as off1 muster status --emergency abc

# --- --watch ---------------------------------------------------------------------------
# Started directly (not through a shell function) so that $! is sacctl itself.
"$T_BIN/sacctl" --db "$(conninfo off1)" muster status --emergency "$id" --watch >"$T_DIR/watch.out" 2>&1 &
wpid=$!
T_PIDS+=("$wpid")
check "watch prints the status" wait_for 20 grep -q "unaccounted: *2" "$T_DIR/watch.out"
check "… clearing the screen first" grep -q $'\033\\[H\033\\[2J' "$T_DIR/watch.out"
muster_tap 3 3 hq-m1
check "… and redraws when the roll changes" wait_for 20 grep -q "unaccounted: *1" "$T_DIR/watch.out"
kill -INT "$wpid"
wait "$wpid"
check_eq "SIGINT ends the watch with exit 0" "$?" 0

"$T_BIN/sacctl" --db "$(conninfo off1)" --format json muster status --emergency "$id" --watch >"$T_DIR/watch.json" 2>&1 &
wpid=$!
T_PIDS+=("$wpid")
check "json watch prints documents" wait_for 20 grep -q '"unaccounted": 1' "$T_DIR/watch.json"
kill -TERM "$wpid"
wait "$wpid"
check_eq "SIGTERM ends the watch with exit 0" "$?" 0
check_no_match "json watch has no screen control" "$(cat "$T_DIR/watch.json")" $'\033'

"$T_BIN/sacctl" --db "$(conninfo off1)" muster status --emergency "$id" --watch >"$T_DIR/watch2.out" 2>&1 &
wpid=$!
T_PIDS+=("$wpid")
wait_for 20 grep -q "unaccounted:" "$T_DIR/watch2.out"
check_match "close prints the unaccounted count" "$(sacctl_as off1 emergency close "$id")" "unaccounted: +1"
wait "$wpid"
check_eq "a watch ends by itself (exit 0) once the emergency is closed" "$?" 0
check "… after showing it closed" grep -Eq "closed_at: +[0-9-]{10}T" "$T_DIR/watch2.out"

# --- after close -------------------------------------------------------------------------
check_match "a closed emergency's roll stays readable by its officers" \
    "$(ms)" '"closed_at": "[0-9-]{10}T[0-9:]{8}Z", "on_roll": 5, "accounted": 3, "left": 1, "unaccounted": 1'
check_eq "… audited as such" "$(sql -c "SELECT outcome || ' ' || detail FROM audit.log WHERE action = 'muster_status' ORDER BY id DESC LIMIT 1")" \
    "allowed closed"
check_exit "closing twice: exit 1" 1 sacctl_as off1 emergency close "$id"
check_match "… says why" "$(cat "$T_DIR/last.out")" "already closed"
sql -c "DELETE FROM access.muster_roll WHERE emergency_id = $id" >/dev/null
check_match "once sac-purge removed the roll, nothing of it is left to read" "$(ms)" \
    '"on_roll": 0, "accounted": 0, "left": 0, "unaccounted": 0, .*"unaccounted_persons": \[\]'
id2=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "next drill")
check_match "a new emergency may be declared once the last is closed" "$id2" '^[0-9]+$'
check_eq "the audit chain is intact" "$(sql -c "SELECT coalesce(audit.first_broken_row()::text, 'intact')")" intact
done_testing
