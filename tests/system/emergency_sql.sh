#!/usr/bin/env bash
# The emergency policy at the SQL level, as each role sees it through psql:
# every refusal is returned as data and leaves a refused audit record; the
# headcount and the muster follow access.presence and the roll.
source "$(dirname "$0")/../lib.sh"
pg_start || exit 1

# as ROLE SQL: one statement as a login role, unaligned, tuples only.
as() { psql -qXAt -v ON_ERROR_STOP=1 -d "$(conninfo "$1")" -c "$2"; }
audit_last() { sql -c "SELECT action || ' ' || outcome || ' ' || coalesce(detail, '') FROM audit.log ORDER BY id DESC LIMIT 1"; }

make_login cert1 sac_certifier
make_login off1 sac_officer
make_login off2 sac_officer
make_login adm1 sac_admin
make_login aud1 sac_auditor

sql <<'SQL' >/dev/null
INSERT INTO sac.sites (name) VALUES ('hq'), ('annex');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES
    ('hq-in', 1, 'in', 'lobby'), ('hq-out', 1, 'out', 'lobby'),
    ('hq-m1', 1, 'muster', 'car-park'), ('hq-m2', 1, 'muster', 'lawn');
INSERT INTO sac.persons (name, category) VALUES
    ('Ada Example', 'staff'), ('Bo Example', 'visitor'), ('Cy Example', 'contractor');
INSERT INTO sac.badges (credential, person_id)
    SELECT sha256(i::text::bytea), CASE WHEN i <= 3 THEN i END FROM generate_series(1, 4) i;
INSERT INTO access.presence (badge_id, person_id, site_id, zone, since, last_seen, last_reader)
VALUES (1, 1, 1, 'lobby', now() - interval '1 hour', now(), 'hq-in'),
       (2, 2, 1, 'lobby', now() - interval '2 hours', now(), 'hq-in'),
       (4, NULL, 1, 'lobby', now(), now(), 'hq-in'),
       (3, 3, 2, NULL, now(), now(), 'hq-in');
SQL

# --- certification -----------------------------------------------------------
check_eq "a certifier cannot certify a non-officer role" \
    "$(as cert1 "SELECT refusal FROM sac.officer_certify('adm1', 'hq', now() + interval '1 day')")" \
    "role adm1 is not a member of sac_officer"
check_eq "that refusal is audited" "$(audit_last)" "officer_certify refused not_officer_role role=adm1"
check_eq "an officer cannot certify itself" \
    "$(as off1 "SELECT refusal FROM sac.officer_certify('off1', 'hq', now() + interval '1 day')")" \
    "role off1 is not a certifier (not a member of sac_certifier)"
check_eq "unknown role" \
    "$(as cert1 "SELECT refusal FROM sac.officer_certify('nobody', 'hq', now() + interval '1 day')")" \
    "no such database role"
check_eq "expiry in the past" \
    "$(as cert1 "SELECT refusal FROM sac.officer_certify('off1', 'hq', now() - interval '1 day')")" \
    "the expiry must be in the future"
check_eq "certify off1 for hq" \
    "$(as cert1 "SELECT coalesce(refusal, 'ok') FROM sac.officer_certify('off1', 'hq', now() + interval '1 day')")" ok
check_eq "certify audited with role and expiry" "$(audit_last | cut -d' ' -f1-4)" \
    "officer_certify allowed role=off1 expires=$(date -u -d tomorrow +%Y-%m-%d)T$(sql -c "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'HH24:MI:SS\"Z\"') FROM sac.certifications WHERE role_name = 'off1'")"

# --- standing: not acknowledged, acknowledged, old rules ----------------------
check_eq "certified but not acknowledged: refused" \
    "$(as off1 "SELECT refusal FROM sac.headcount('hq')")" \
    'role off1 has not acknowledged the rules since its certification for site hq: run "sacctl officer acknowledge --yes"'
check_eq "refused headcount audited" "$(audit_last)" "headcount refused not_acknowledged"
check_eq "acknowledging a version that is not current is refused" \
    "$(as off1 "SELECT refusal FROM sac.officer_acknowledge(7)")" \
    "the current rules are version 1, not 7: read them again"
check_eq "an uncertified officer cannot acknowledge" \
    "$(as off2 "SELECT refusal FROM sac.officer_acknowledge(1)")" \
    "role off2 holds no valid certification; an acknowledgement counts only after a certification"
check_eq "acknowledge version 1" "$(as off1 "SELECT coalesce(refusal, 'ok') FROM sac.officer_acknowledge(1)")" ok
check_eq "acknowledgement audited" "$(audit_last)" "officer_acknowledge allowed rules_version=1"
check_eq "no open emergency: refused" "$(as off1 "SELECT refusal FROM sac.headcount('hq')")" \
    "no emergency or drill is open at site hq"
check_eq "... audited" "$(audit_last)" "headcount refused no_emergency"
sql -c "INSERT INTO sac.rules (version, body) VALUES (2, 'new rules')"
check_eq "acknowledged an older rules version: refused" "$(as off1 "SELECT refusal FROM sac.headcount('hq')")" \
    'role off1 acknowledged version 1 of the rules, the current version is 2: run "sacctl officer acknowledge --yes"'
check_eq "... audited" "$(audit_last)" "headcount refused old_rules"
check_eq "acknowledge version 2" "$(as off1 "SELECT coalesce(refusal, 'ok') FROM sac.officer_acknowledge(2)")" ok
check_eq "rules_current shows version 2" "$(as off1 "SELECT version FROM sac.rules_current()")" 2

# --- declare ------------------------------------------------------------------
check_eq "an officer of another site cannot declare" \
    "$(as off1 "SELECT refusal FROM sac.emergency_declare('annex', 'drill', 'test')")" \
    "role off1 is not certified as an officer for site annex"
check_eq "... audited" "$(audit_last)" "emergency_declare refused not_certified kind=drill"
check_eq "unknown site" "$(as off1 "SELECT refusal FROM sac.emergency_declare('nowhere', 'drill', 'test')")" \
    "unknown site nowhere"
check_exit "a bad kind is bad input (22023)" 1 as off1 "SELECT * FROM sac.emergency_declare('hq', 'party', 'x')"
id=$(as off1 "SELECT emergency_id || ' ' || on_roll FROM sac.emergency_declare('hq', 'drill', 'fire drill')")
check_match "declare returns the id and a roll of the 3 present at hq" "$id" '^[0-9]+ 3$'
id=${id% *}
check_eq "... audited with the roll size" \
    "$(sql -c "SELECT action || ' ' || outcome || ' ' || emergency_id || ' ' || count FROM audit.log ORDER BY id DESC LIMIT 1")" \
    "emergency_declare allowed $id 3"
check_eq "a second declare at hq is refused" \
    "$(as off1 "SELECT refusal FROM sac.emergency_declare('hq', 'emergency', 'again')")" \
    "emergency $id is already open at site hq: close it first"
check_eq "... audited" "$(audit_last)" "emergency_declare refused already_open kind=emergency"

# --- headcount ----------------------------------------------------------------
hc=$(as off1 "SELECT concat_ws('|', site, emergency_id, present, unidentified, expired_presence, person_id, name, category, zone) FROM sac.headcount('hq') ORDER BY site NULLS FIRST, name NULLS FIRST")
check_eq "headcount: one row per badge present, the pool badge unnamed, then the summary" "$hc" \
    "lobby
1|Ada Example|staff|lobby
2|Bo Example|visitor|lobby
hq|$id|3|1|0"
check_match "the summary is the last row" "$(as off1 "SELECT concat_ws('|', site, present) FROM sac.headcount('hq')" | tail -n 1)" '^hq\|3$'
check_eq "since is the read-in in Unix seconds" \
    "$(as off1 "SELECT abs(since - date_part('epoch', now() - interval '1 hour')) < 60 FROM sac.headcount('hq') WHERE person_id = 1")" t
check_eq "headcount audited with the number of persons, no names" \
    "$(sql -c "SELECT action || ' ' || outcome || ' ' || site || ' ' || emergency_id || ' ' || count FROM audit.log ORDER BY id DESC LIMIT 1")" \
    "headcount allowed hq $id 3"
sql -c "DELETE FROM access.presence WHERE badge_id = 2"
sql -c "INSERT INTO access.presence_expiries (site_id, removed) VALUES (1, 4), (1, 1), (2, 9)"
sql -c "INSERT INTO access.presence_expiries (site_id, removed_at, removed) VALUES (1, now() - interval '25 hours', 6)"
check_eq "a person who left is no longer listed; expired presences of the last 24 h counted" \
    "$(as off1 "SELECT concat_ws('|', present, expired_presence, name) FROM sac.headcount('hq') ORDER BY site NULLS FIRST, name NULLS FIRST")" \
    "
Ada Example
2|5"

# --- muster -------------------------------------------------------------------
ms() { as off1 "SELECT concat_ws('|', part, on_roll, accounted, left_site, unaccounted, reader, reader_zone, reader_accounted, name, zone) FROM sac.muster_status($id) ORDER BY part DESC, reader, name NULLS FIRST"; }
check_eq "muster: everyone unaccounted at first" "$(ms)" \
    "summary|3|0|0|3
point|hq-m1|car-park|0
point|hq-m2|lawn|0
person|lobby
person|Ada Example|lobby
person|Bo Example|lobby"
sql -c "UPDATE access.muster_roll SET state = 'a', muster_reader = 'hq-m2' WHERE badge_id = 1"
sql -c "UPDATE access.muster_roll SET state = 'l' WHERE badge_id = 2"
check_eq "muster follows the roll" "$(ms)" \
    "summary|3|1|1|1
point|hq-m1|car-park|0
point|hq-m2|lawn|1
person|lobby"
check_eq "muster audited with the persons listed" \
    "$(sql -c "SELECT action || ' ' || outcome || ' ' || emergency_id || ' ' || count FROM audit.log ORDER BY id DESC LIMIT 1")" \
    "muster_status allowed $id 1"
check_eq "unknown emergency" "$(as off1 "SELECT refusal FROM sac.muster_status(99999)")" "no emergency 99999"

# --- nobody else ----------------------------------------------------------------
for r in adm1 aud1 cert1 off2; do
    out=$(as $r "SELECT * FROM sac.headcount('hq')"; as $r "SELECT * FROM sac.muster_status($id)")
    check_no_match "$r obtains no name from headcount or muster" "$out" "Example"
done
check_eq "admin refused as not an officer" "$(as adm1 "SELECT refusal FROM sac.headcount('hq')")" \
    "role adm1 is not a security officer (not a member of sac_officer)"
check_eq "... audited" "$(audit_last)" "headcount refused not_officer"
check_eq "admin learns nothing about emergencies" "$(as adm1 "SELECT refusal FROM sac.muster_status(99999)")" \
    "role adm1 is not a security officer (not a member of sac_officer)"
check_exit "admin cannot read access.presence" 1 as adm1 "SELECT * FROM access.presence"

# --- revoke, expiry, close ------------------------------------------------------
sql -c "UPDATE sac.certifications SET expires_at = now() - interval '1 second' WHERE role_name = 'off1'"
check_match "expired certification refused" "$(as off1 "SELECT refusal FROM sac.headcount('hq')")" \
    '^the certification of role off1 for site hq expired at '
check_eq "... audited" "$(audit_last)" "headcount refused expired"
check_eq "re-certify" "$(as cert1 "SELECT coalesce(refusal, 'ok') FROM sac.officer_certify('off1', 'hq', now() + interval '1 day')")" ok
check_eq "re-certification needs a new acknowledgement" "$(as off1 "SELECT refusal FROM sac.headcount('hq')" | cut -c1-40)" \
    "role off1 has not acknowledged the rules"
check_eq "revoke" "$(as cert1 "SELECT coalesce(refusal, 'ok') FROM sac.officer_revoke('off1', 'hq')")" ok
check_match "revoked certification refused" "$(as off1 "SELECT refusal FROM sac.headcount('hq')")" \
    '^the certification of role off1 for site hq was revoked at '
check_eq "... audited" "$(audit_last)" "headcount refused revoked"
check_eq "revoking twice is refused" "$(as cert1 "SELECT refusal FROM sac.officer_revoke('off1', 'hq')")" \
    "role off1 holds no unrevoked certification for site hq"
as cert1 "SELECT refusal FROM sac.officer_certify('off1', 'hq', now() + interval '1 day')" >/dev/null
as off1 "SELECT refusal FROM sac.officer_acknowledge(2)" >/dev/null
check_eq "close" "$(as off1 "SELECT coalesce(refusal, 'ok') || ' ' || unaccounted FROM sac.emergency_close($id)")" "ok 1"
check_eq "close audited" "$(audit_last)" "emergency_close allowed kind=drill unaccounted=1"
check_eq "closing twice is refused" "$(as off1 "SELECT refusal FROM sac.emergency_close($id)" | cut -c1-30)" \
    "emergency $id was already closed"
check_eq "a closed emergency's muster stays readable" "$(as off1 "SELECT closed_at IS NOT NULL FROM sac.muster_status($id) LIMIT 1")" t
check_eq "headcount after close is refused" "$(as off1 "SELECT refusal FROM sac.headcount('hq')")" \
    "no emergency or drill is open at site hq"
check_eq "the audit chain is intact" "$(sql -c "SELECT coalesce(audit.first_broken_row()::text, 'intact')")" intact
check_eq "no audit record carries a name" "$(sql -c "SELECT count(*) FROM audit.log WHERE detail LIKE '%Example%'")" 0

done_testing
