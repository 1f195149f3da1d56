#!/usr/bin/env bash
# sacctl headcount and the officers' commands: every condition that must be
# met, each refusal path with exit 1, its message and a refused audit record;
# the headcount follows who is in and who went out; the three formats; no
# role but a certified, informed officer ever obtains a name.
source "$(dirname "$0")/../lib.sh"
# Within the longest certification the database allows (1 year by default).
EXPIRES=$(date -u -d "+300 days" +%Y-%m-%d)
pg_start || exit 1

make_login cert1 sac_certifier
make_login off1 sac_officer
make_login off2 sac_officer
make_login adm1 sac_admin
make_login aud1 sac_auditor
make_login ing1 sac_ingest
make_login pur1 sac_purge
make_login nobody1

sql <<'SQL' >/dev/null
INSERT INTO sac.sites (name) VALUES ('hq'), ('annex');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES
    ('hq-in', 1, 'in', 'lobby'), ('hq-m1', 1, 'muster', 'lawn');
INSERT INTO sac.persons (name, category, org) VALUES
    ('Ada Zeta-Secret', 'staff', 'UN'), ('Bo Zeta-Secret', 'delegate', 'UN');
INSERT INTO sac.badges (credential, person_id)
    SELECT sha256(i::text::bytea), CASE WHEN i <= 2 THEN i END FROM generate_series(1, 3) i;
SQL
# The controller's work, done here by hand: badge B of person P reads in / out.
tap_in() { sql -c "INSERT INTO access.presence VALUES ($1, ${2:-NULL}, 1, 'lobby', now(), now(), 'hq-in')" >/dev/null; }
tap_out() { sql -c "DELETE FROM access.presence WHERE badge_id = $1" >/dev/null; }
# last_audit ACTION: "outcome detail count" of the newest record of that action.
last_audit() { sql -c "SELECT outcome || ' ' || coalesce(detail, '-') || ' ' || coalesce(count::text, '-') FROM audit.log WHERE action = '$1' ORDER BY id DESC LIMIT 1"; }
audits() { sql -c "SELECT count(*) FROM audit.log"; }

# refused DESC ROLE WANT_MESSAGE WANT_AUDIT_ACTION WANT_AUDIT ARGS...: the
# command exits 1, says why, and one refused audit record is added.
refused() {
    local desc=$1 role=$2 msg=$3 action=$4 want=$5; shift 5
    local before; before=$(audits)
    check_exit "$desc: exit 1" 1 sacctl_as "$role" "$@"
    check_match "$desc: says why" "$(cat "$T_DIR/last.out")" "$msg"
    check_eq "$desc: audited as refused" "$(last_audit "$action")" "$want"
    check_eq "$desc: exactly one audit record" "$(audits)" "$((before + 1))"
}

tap_in 1 1
tap_in 3

# --- certification --------------------------------------------------------------
refused "an officer may not certify" off1 "not a certifier" officer_certify "refused not_certifier role=off2 -" \
    officer certify off2 --site hq --expires "$EXPIRES"
refused "certifying a non-officer role" cert1 "adm1 is not a member of sac_officer" officer_certify \
    "refused not_officer_role role=adm1 -" officer certify adm1 --site hq --expires "$EXPIRES"
check_exit "a bad --expires is bad usage" 2 sacctl_as cert1 officer certify off1 --site hq --expires tomorrow
check "certify off1 for hq" sacctl_as cert1 officer certify off1 --site hq --expires "$EXPIRES"
check_eq "… printed as a record" "$(sacctl_as cert1 --format json officer certify off1 --site hq --expires "$EXPIRES"T12:00:00Z)" \
    '{"role": "off1", "site": "hq", "expires_at": "'"$EXPIRES"'T12:00:00Z"}'
check_eq "… audited with role and expiry" "$(last_audit officer_certify)" "allowed role=off1 expires=${EXPIRES}T12:00:00Z -"

# --- every condition of a headcount, one by one -----------------------------------
# A role in no sac group cannot reach schema sac at all: refused by
# PostgreSQL's privileges, before any function could write an audit record.
before=$(audits)
check_exit "a role in no sac group: exit 1" 1 sacctl_as nobody1 headcount --site hq
check_match "… says why" "$(cat "$T_DIR/last.out")" "role 'nobody1' may not run a headcount"
check_eq "… and leaves no audit record" "$(audits)" "$before"
refused "an administrator" adm1 "role adm1 is not a security officer" headcount "refused not_officer -" headcount --site hq
refused "an auditor" aud1 "role aud1 is not a security officer" headcount "refused not_officer -" headcount --site hq
refused "unknown site" off1 "unknown site nowhere" headcount "refused unknown_site -" headcount --site nowhere
refused "an officer not certified for the site" off2 "role off2 is not certified as an officer for site hq" \
    headcount "refused not_certified -" headcount --site hq
refused "certified, not acknowledged" off1 "has not acknowledged the rules" headcount "refused not_acknowledged -" \
    headcount --site hq
out=$(sacctl_as off1 officer acknowledge)
check_match "acknowledge without --yes prints paragraph 27" "$out" "Sole purpose"
check_match "… and says nothing was recorded" "$out" "Nothing was recorded"
check_eq "… and records nothing" "$(sql -c "SELECT count(*) FROM sac.acknowledgements")" 0
check_match "acknowledge --yes records it" "$(sacctl_as off1 officer acknowledge --yes)" "Acknowledged: version 1"
check_eq "… audited" "$(last_audit officer_acknowledge)" "allowed rules_version=1 -"
refused "no open emergency" off1 "no emergency or drill is open at site hq" headcount "refused no_emergency -" \
    headcount --site hq
sql -c "INSERT INTO sac.rules (version, body) VALUES (2, 'Rules, second edition.')" >/dev/null
refused "acknowledged an older version of the rules" off1 "acknowledged version 1 of the rules, the current version is 2" \
    headcount "refused old_rules -" headcount --site hq
check_match "acknowledging the new version" "$(sacctl_as off1 officer acknowledge --yes)" "Acknowledged: version 2"

# --- declare, and count --------------------------------------------------------------
refused "declaring at another site" off1 "not certified as an officer for site annex" emergency_declare \
    "refused not_certified kind=drill -" emergency declare --site annex --kind drill --reason "test"
check_exit "declaring with a bad kind is bad usage" 2 sacctl_as off1 emergency declare --site hq --kind party --reason x
id=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "quarterly drill")
check_match "declare prints the emergency id" "$id" '^[0-9]+$'
check_eq "… audited with the roll size, the kind and the reason" "$(last_audit emergency_declare)" \
    'allowed {"kind": "drill", "reason": "quarterly drill", "confirmation_required": false} 2'
refused "a second declare at the same site" off1 "emergency $id is already open at site hq" emergency_declare \
    "refused already_open kind=emergency -" emergency declare --site hq --kind emergency --reason "again"

out=$(sacctl_as off1 headcount --site hq)
check_match "headcount: present 2" "$out" "^present: +2$"
check_match "… one unidentified" "$out" "unidentified: +1"
check_match "… Ada is listed" "$out" "Ada Zeta-Secret +staff +lobby"
check_eq "… audited with the count, no name" "$(last_audit headcount)" "allowed - 2"
tap_in 2 2
tap_out 1
out=$(sacctl_as off1 --format json headcount --site hq)
check_match "a person who went out is not listed" "$out" '"present": 2, "unidentified": 1'
check_no_match "… Ada is gone" "$out" "Ada"
check_match "… Bo, who came in, is" "$out" '\{"person_id": 2, "name": "Bo Zeta-Secret", "category": "delegate", "zone": "lobby", "since": "[0-9-]{10}T[0-9:]{8}Z"\}'
check_match "json has every field" "$out" \
    '^\{"site": "hq", "emergency_id": '"$id"', "as_of": "[0-9-]{10}T[0-9:]{8}Z", "present": 2, "unidentified": 1, "expired_presence": 0, "persons": \['
sql -c "INSERT INTO access.presence_expiries (site_id, removed) VALUES (1, 3)" >/dev/null
out=$(sacctl_as off1 --format csv headcount --site hq)
check_match "csv: the summary with expired presences" "$out" "^hq,$id,[0-9TZ:-]+,2,1,3"
check_match "csv: the persons" "$out" "2,Bo Zeta-Secret,delegate,lobby,"

# --- nobody else obtains a name, through any function ---------------------------------
refused_count() { sql -c "SELECT count(*) FROM audit.log WHERE action = '$1' AND outcome = 'refused'"; }
hc_before=$(refused_count headcount); ms_before=$(refused_count muster_status)
for r in adm1 aud1 cert1 ing1 pur1 off2 nobody1; do
    out=$( {
        sacctl_as $r headcount --site hq
        sacctl_as $r muster status --emergency "$id"
        sacctl_as $r emergency declare --site hq --kind drill --reason x
        sacctl_as $r emergency close "$id"
        sacctl_as $r officer acknowledge --yes
        for f in "sac.headcount('hq')" "sac.muster_status($id)"; do
            psql -qXAt -d "$(conninfo $r)" -c "SELECT * FROM $f"
        done
        for t in access.presence access.muster_roll sac.persons; do
            psql -qXAt -d "$(conninfo $r)" -c "SELECT * FROM $t"
        done
    } 2>&1 )
    check_no_match "$r obtains no name" "$out" "Zeta-Secret"
done
check_eq "the emergency is still open" "$(sql -c "SELECT closed_at IS NULL FROM sac.emergencies WHERE id = $id")" t
check_eq "every headcount tried by a sac role was audited as refused (6 roles, twice)" \
    "$(refused_count headcount)" "$((hc_before + 12))"
check_eq "every muster status likewise" "$(refused_count muster_status)" "$((ms_before + 12))"

# --- expiry and revocation ---------------------------------------------------------------
sql -c "UPDATE sac.certifications SET expires_at = now() - interval '1 second' WHERE role_name = 'off1'" >/dev/null
refused "an expired certification" off1 "certification of role off1 for site hq expired at" headcount "refused expired -" \
    headcount --site hq
check "re-certifying" sacctl_as cert1 officer certify off1 --site hq --expires "$EXPIRES"
refused "re-certified, so the acknowledgement must be renewed" off1 "has not acknowledged the rules" headcount \
    "refused not_acknowledged -" headcount --site hq
check "acknowledging again" sacctl_as off1 officer acknowledge --yes
check "headcount allowed again" sacctl_as off1 headcount --site hq
check "revoke" sacctl_as cert1 officer revoke off1 --site hq
check_eq "… audited" "$(last_audit officer_revoke)" "allowed role=off1 -"
refused "a revoked certification" off1 "certification of role off1 for site hq was revoked at" headcount "refused revoked -" \
    headcount --site hq
refused "revoked officers cannot close" off1 "was revoked" emergency_close "refused revoked -" emergency close "$id"
refused "revoking twice" cert1 "holds no unrevoked certification" officer_revoke "refused not_certified role=off1 -" \
    officer revoke off1 --site hq

check_eq "the audit chain is intact" "$(sql -c "SELECT coalesce(audit.first_broken_row()::text, 'intact')")" intact
check_eq "no audit record names a person" "$(sql -c "SELECT count(*) FROM audit.log WHERE concat(detail, site) LIKE '%Zeta%'")" 0
check_no_match "the server log names nobody" "$(cat "$T_DIR/pg/server.log")" "Zeta-Secret"
done_testing
