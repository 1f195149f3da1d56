#!/usr/bin/env bash
# Officers as insiders.  A bogus drill leaves its reason in the auditor's
# audit log (the officer is told before typing it); once closed, no one
# reads names from it, only counts; at a site that asks for it, a drill
# shows names only after a second certified officer confirmed it (not the
# declarer), while an emergency never waits.  A certifier cannot certify
# without end, even through psql: the database caps a certification at its
# certification_max setting (1 year by default).
source "$(dirname "$0")/../lib.sh"
EXPIRES=$(date -u -d "+300 days" +%Y-%m-%d)
pg_start || exit 1
make_login off1 sac_officer
make_login off2 sac_officer
make_login cert1 sac_certifier
make_login adm1 sac_admin
make_login aud1 sac_auditor
sql <<'SQL' >/dev/null
INSERT INTO sac.sites (name) VALUES ('hq'), ('annex');
INSERT INTO sac.persons (name, category) VALUES ('Ada Example', 'staff'), ('Bo Example', 'staff');
INSERT INTO sac.badges (credential, person_id) SELECT sha256(i::text::bytea), i FROM generate_series(1, 2) i;
INSERT INTO access.presence VALUES (1, 1, 1, 'lobby', now(), now(), 'hq-in'),
                                   (2, 2, 2, 'yard', now(), now(), 'annex-in');
SQL
as_cert() { psql -qXAt -v ON_ERROR_STOP=1 "$(conninfo cert1)" -c "$1" 2>&1; }

# --- certification without end ----------------------------------------------------
check_match "psql: certify until infinity is refused by the database" \
    "$(as_cert "SELECT refusal FROM sac.officer_certify('off1', 'hq', 'infinity')")" 'at most'
check_match "…so is two years" \
    "$(as_cert "SELECT refusal FROM sac.officer_certify('off1', 'hq', now() + interval '2 years')")" 'at most'
check_eq "…audited as refused" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'officer_certify' AND outcome = 'refused' AND detail LIKE 'expiry_too_far%'")" 2
check_eq "no certification was stored" "$(sql -c "SELECT count(*) FROM sac.certifications")" 0
check_exit "sacctl: 300 days is within the limit" 0 sacctl_as cert1 officer certify off1 --site hq --expires "$EXPIRES"
for o in off1 off2; do
    for s in hq annex; do sacctl_as cert1 officer certify $o --site $s --expires "$EXPIRES" >/dev/null; done
    sacctl_as $o officer acknowledge --yes >/dev/null
done

# --- the reason is in the audit record ------------------------------------------------
check_match "the declare help tells the reason is kept in the audit log, without names" \
    "$(sacctl_as off1 emergency declare --help 2>&1)" "audit log.*never put a person's name"
check_match "so do the rules the officer acknowledged" "$(sacctl_as off1 officer acknowledge 2>&1)" \
    "reason you give when you declare"
id=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "nothing, just curious")
check_match "a bogus drill" "$id" '^[0-9]+$'
check_match "its reason is in the auditor's audit log" \
    "$(sacctl_as aud1 --format json audit log | python3 -c '
import json, sys
print([r["detail"] for r in json.load(sys.stdin) if r["action"] == "emergency_declare"])')" \
    'nothing, just curious'
check_match "names while it is open" "$(sacctl_as off1 --format json muster status --emergency "$id")" 'Ada Example'
sacctl_as off1 emergency close "$id" >/dev/null
out=$(sacctl_as off1 --format json muster status --emergency "$id")
check_match "after the close: counts" "$out" '"on_roll": 1, .*"unaccounted": 1'
check_no_match "…and no names" "$out" 'Ada Example'
check_eq "…nor any person row from the database, for any officer" \
    "$(psql -qXAt "$(conninfo off2)" -c "SELECT count(*) FROM sac.muster_status($id) WHERE part = 'person'")" 0

# --- a second officer confirms drills where the site asks for it ------------------------
check_exit "an officer may not change the site setting" 1 sacctl_as off1 site drill-confirm hq --required yes
check "the administrator asks for confirmation at hq" sacctl_as adm1 site drill-confirm hq --required yes
check_eq "…audited" "$(sql -c "SELECT role || ' ' || detail FROM audit.log WHERE action = 'site_drill_confirm'")" \
    'adm1 {"drill_confirm": true}'
id=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "drill, confirmation needed")
check_exit "no names before a second officer confirmed the drill (exit 1)" 1 sacctl_as off1 headcount --site hq
check_match "…says why" "$(cat "$T_DIR/last.out")" 'second officer'
check_exit "nor from the muster status" 1 sacctl_as off1 muster status --emergency "$id"
check_exit "the declarer may not confirm its own drill" 1 sacctl_as off1 emergency confirm "$id"
check_exit "a second certified officer confirms it" 0 sacctl_as off2 emergency confirm "$id"
check_match "then the names are shown" "$(sacctl_as off1 --format json headcount --site hq)" 'Ada Example'
check_eq "the confirmation is audited" \
    "$(sql -c "SELECT string_agg(role || ':' || outcome, ' ' ORDER BY id) FROM audit.log WHERE action = 'emergency_confirm'")" \
    "off1:refused off2:allowed"
sacctl_as off1 emergency close "$id" >/dev/null
id=$(sacctl_as off1 emergency declare --site hq --kind emergency --reason "fire alarm, east wing")
check_match "an emergency at the same site never waits" "$(sacctl_as off1 --format json headcount --site hq)" 'Ada Example'
sacctl_as off1 emergency close "$id" >/dev/null
id=$(sacctl_as off1 emergency declare --site annex --kind drill --reason "drill at the annex")
check_match "a drill at a site that does not ask for it shows names at once" \
    "$(sacctl_as off1 --format json headcount --site annex)" 'Bo Example'
sacctl_as off1 emergency close "$id" >/dev/null
check_eq "the audit chain is intact" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t
done_testing
