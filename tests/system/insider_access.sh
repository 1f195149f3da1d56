#!/usr/bin/env bash
# What the other insiders can learn or fake.  An administrator who revokes
# one person's badge cannot follow that person's taps through the denial
# counts (counts below 3 per reader-hour are suppressed for administrators,
# and the output says so); an auditor sees exact counts.  A login role in no
# sac group cannot even connect (no statistics views, no live presence
# count), and sacctl calls that a refusal (exit 1).  After cycles were
# purged, no planner statistics keep access times, readers or zones.  A
# read-in delivered late, older than the badge's last read-out, does not
# make the person present, and what that decision keeps goes with the
# retention limit.
source "$(dirname "$0")/../lib.sh"
EXPIRES=$(date -u -d "+300 days" +%Y-%m-%d)
pg_start || exit 1
make_login ctl1 sac_ingest
make_login adm1 sac_admin
make_login aud1 sac_auditor
make_login off1 sac_officer
make_login cert1 sac_certifier
make_login purger sac_purge
make_login outsider
sql <<'SQL' >/dev/null
INSERT INTO sac.sites (name) VALUES ('siteA');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES
    ('a-in', 1, 'in', 'lobby'), ('a-out', 1, 'out', 'lobby');
INSERT INTO sac.persons (name, category) VALUES ('Ada Example', 'staff'), ('Bo Example', 'staff');
INSERT INTO sac.badges (credential, person_id) SELECT sha256(i::text::bytea), i FROM generate_series(1, 2) i;
SQL
# tap READER CREDENTIAL_NO AGE: one event, delivered now, as the controller's login.
tap() {
    psql -qXAt -v ON_ERROR_STOP=1 "$(conninfo ctl1)" -c "SELECT verdict FROM sac.ingest(ARRAY['$1'],
        ARRAY[gen_random_uuid()], ARRAY[(extract(epoch FROM now() - interval '$3') * 1000)::bigint],
        ARRAY[sha256('$2'::bytea)])"
}

# --- denial counts cannot single out one person ----------------------------------------
check_eq "person 1 taps in" "$(tap a-in 1 '0 seconds')" GRANT
sql -c "UPDATE sac.badges SET revoked_at = now() WHERE id = 1" >/dev/null
check_eq "the revoked badge's next tap is denied" "$(tap a-in 1 '0 seconds')" DENY
out=$(sacctl_as adm1 --format json reader denials)
check_match "the administrator sees the reader-hour, without its count" "$out" '"denials": null, "suppressed": true'
check_no_match "…never the single denial" "$out" '"denials": 1'
check_match "…and the text output says counts are suppressed" "$(sacctl_as adm1 reader denials)" \
    'fewer than 3 denials; their counts are suppressed'
check_eq "…the database gives no count either" \
    "$(psql -qXAt "$(conninfo adm1)" -c "SELECT coalesce(denials::text, 'none') FROM sac.denial_counts()")" none
check_match "an auditor sees the exact count" "$(sacctl_as aud1 --format json reader denials)" '"denials": 1, "suppressed": false'
tap a-in 1 '0 seconds' >/dev/null; tap a-in 1 '0 seconds' >/dev/null
check_match "three denials in the hour: the administrator sees them" \
    "$(sacctl_as adm1 --format json reader denials)" '"denials": 3, "suppressed": false'

# --- who may connect ------------------------------------------------------------------
check_exit "a login role in no sac group cannot connect" 2 \
    psql -qXAt "$(conninfo outsider)" -c "SELECT n_live_tup FROM pg_stat_all_tables WHERE schemaname = 'access'"
check_match "…permission denied for the database" "$(cat "$T_DIR/last.out")" 'permission denied for database'
check_exit "sacctl as that role: refused, exit 1" 1 sacctl_as outsider audit verify
check_match "…saying who and why" "$(cat "$T_DIR/last.out")" "role 'outsider' may not read the retention status"
for g in sac_ingest sac_purge sac_admin sac_certifier sac_officer sac_auditor; do
    check_eq "$g may connect" "$(sql -c "SELECT has_database_privilege('$g', 'sac', 'CONNECT')")" t
done
check_eq "PUBLIC may not" "$(sql -c "SELECT has_database_privilege('outsider', 'sac', 'CONNECT')")" f

# --- a late read-in older than the last read-out ----------------------------------------
check_eq "person 2 taps in" "$(tap a-in 2 '10 minutes')" GRANT
check_eq "…and out" "$(tap a-out 2 '2 minutes')" GRANT
check_eq "a read-in from before the read-out arrives late (spooled)" "$(tap a-in 2 '5 minutes')" GRANT
sacctl_as cert1 officer certify off1 --site siteA --expires "$EXPIRES" >/dev/null
sacctl_as off1 officer acknowledge --yes >/dev/null
id=$(sacctl_as off1 emergency declare --site siteA --kind emergency --reason "fire alarm")
out=$(sacctl_as off1 --format json headcount --site siteA)
check_no_match "the headcount does not list the person who left" "$out" 'Bo Example'
check_eq "…nor is that person on the roll" "$(sql -c "SELECT count(*) FROM access.muster_roll WHERE emergency_id = $id AND badge_id = 2")" 0
sacctl_as off1 emergency close "$id" >/dev/null
check_eq "a newer read-in makes the person present again" "$(tap a-in 2 '1 minute')" GRANT
check_eq "…present" "$(sql -c "SELECT count(*) FROM access.presence WHERE badge_id = 2")" 1
check_eq "what the decision keeps: badge and read-out time only" \
    "$(sql -c "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'access.departures'::regclass AND attnum > 0")" \
    "badge_id,left_at"
# The limit: 1 hour; the read-out was 2 hours ago.
sql -c "SELECT FROM sac.retention_set(interval '1 hour', NULL);
        UPDATE access.departures SET left_at = now() - interval '2 hours'" >/dev/null
psql -qXAt "$(conninfo purger)" -c "SELECT sac.purge_pass()" >/dev/null
check_eq "…and it goes with the retention limit" "$(sql -c "SELECT count(*) FROM access.departures")" 0

# --- no planner statistics of access data -----------------------------------------------
tap a-out 2 '0 seconds' >/dev/null
sql -c "ANALYZE" >/dev/null
check_eq "after ANALYZE of the whole database, no access table or partition has statistics" \
    "$(sql -c "SELECT count(*) FROM pg_stats WHERE schemaname = 'access'")" 0
check_eq "…not even in pg_statistic" \
    "$(sql -c "SELECT count(*) FROM pg_statistic s JOIN pg_class c ON c.oid = s.starelid WHERE c.relnamespace = 'access'::regnamespace")" 0
check_eq "…while ANALYZE did count their rows" \
    "$(sql -c "SELECT count(*) > 0 FROM pg_class WHERE relnamespace = 'access'::regnamespace AND reltuples > 0")" t
check_eq "every column of every access table has statistics target 0" \
    "$(sql -c "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               WHERE c.relnamespace = 'access'::regnamespace AND c.relkind IN ('r', 'p')
                 AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget <> 0")" 0
check_eq "the audit chain is intact" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t
done_testing
