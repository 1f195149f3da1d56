#!/usr/bin/env bash
# The purge role, psql in hand, can only ask for a pass now.  It cannot
# choose limits (no function takes them), cannot erase the roll of an open
# drill nor the presence table, cannot run a deleting step outside a pass
# the database began, cannot forge a pass's counts, and cannot put free text
# into the audit log.  The roll of an open emergency survives even the
# shortest legal limit until the emergency closes; then it goes.  Only
# sac_admin sets the limits, within the legal bounds, audited.
source "$(dirname "$0")/../lib.sh"
EXPIRES=$(date -u -d "+300 days" +%Y-%m-%d)
pg_start || exit 1
make_login purger sac_purge
make_login off1 sac_officer
make_login cert1 sac_certifier
make_login adm1 sac_admin
make_login aud1 sac_auditor
as_purger() { psql -qXAt -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate "$(conninfo purger)" "$@" 2>&1; }
sql <<'SQL' >/dev/null
INSERT INTO sac.sites (name) VALUES ('hq');
INSERT INTO sac.persons (name, category) VALUES ('Ada Example', 'staff'), ('Bo Example', 'staff'),
    ('Cy Example', 'staff'), ('Di Example', 'staff');
INSERT INTO sac.badges (credential, person_id) SELECT sha256(i::text::bytea), i FROM generate_series(1, 4) i;
INSERT INTO access.presence SELECT i, i, 1, 'lobby', now() - interval '20 minutes', now(), 'hq-in'
    FROM generate_series(1, 4) i;
SQL
sacctl_as cert1 officer certify off1 --site hq --expires "$EXPIRES" >/dev/null
sacctl_as off1 officer acknowledge --yes >/dev/null
id=$(sacctl_as off1 emergency declare --site hq --kind drill --reason "evacuation drill")
on_roll() { sql -c "SELECT count(*) FROM access.muster_roll WHERE emergency_id = $id"; }
check_eq "an open drill with four on its roll" "$(on_roll)" 4
audit0=$(sql -c "SELECT count(*) FROM audit.log")

# --- limits from the caller: no such function ---------------------------------------
check_match "purge_muster with the caller's limits does not exist" \
    "$(as_purger -c "SELECT sac.purge_muster('2 seconds', '1 second', now())")" '42883'
check_match "nor purge_presence" \
    "$(as_purger -c "SELECT sac.purge_presence('2 seconds', '1 second', now())")" '42883'
check_match "nor purge_pass with limits" \
    "$(as_purger -c "SELECT sac.purge_pass('2 seconds', '1 second')")" '42883'
check_match "nor purge_ledger with limits" \
    "$(as_purger -c "SELECT * FROM sac.purge_ledger('1 hour', '1 second')")" '42883'
check_match "a deleting step outside a pass the database began is refused" \
    "$(as_purger -c "SELECT sac.purge_muster(424242)")" '22023'
check_match "the purge role cannot set the limits" \
    "$(as_purger -c "SELECT * FROM sac.retention_set('1 hour', '10 seconds')")" '42501'
check_match "nor change the settings table" \
    "$(as_purger -c "UPDATE sac.settings SET access_max_age = '1 second'")" '42501'
check_eq "the drill's roll is intact" "$(on_roll)" 4
check_eq "and the presence table" "$(sql -c "SELECT count(*) FROM access.presence")" 4

# --- forged passes and free text -----------------------------------------------------
check_match "purge_finish with the caller's counts does not exist" \
    "$(as_purger -c "SELECT sac.purge_finish('24 hours', '60 seconds', now(), '{\"partitions_created\": 0}', '{}', '{}')")" '42883'
check_match "purge_failed with free text does not exist" \
    "$(as_purger -c "SELECT sac.purge_failed('{\"note\": \"Alice Example badged in at 09:12\"}')")" '42883'
check_match "its typed form refuses a word outside its fixed set" \
    "$(as_purger -c "SELECT sac.purge_failed(1, now(), now(), 'Alice Example badged in at 09:12', 'ledger', '')")" '22023'
pass=$(as_purger -c "SELECT pass FROM sac.purge_ledger()")
check_match "a pass the database began" "$pass" '^[0-9]+$'
check_match "cannot be finished without its presence and muster steps" \
    "$(as_purger -c "SELECT sac.purge_finish($pass)")" '22023'
check_eq "no successful pass is recorded for it" \
    "$(sql -c "SELECT count(*) FROM audit.purge_runs WHERE ok")" 0
check_eq "no free text reached the audit log" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE detail LIKE '%Alice%' OR detail LIKE '%note%'")" 0

# --- the shortest legal limit and an open drill ---------------------------------------
check_exit "the purge role may not set the limits through sacctl (exit 1)" 1 \
    sacctl_as purger retention set --access-max-age 1h
check_exit "below the legal bound: bad input (exit 2)" 2 sacctl_as adm1 retention set --access-max-age 30m
check_exit "above it: exit 2" 2 sacctl_as adm1 retention set --access-max-age 25h
check_exit "an interval below 10s: exit 2" 2 sacctl_as adm1 retention set --purge-interval 5s
check_exit "an interval above 30m: exit 2" 2 sacctl_as adm1 retention set --purge-interval 31m
check "sac_admin sets 1h and 10s" sacctl_as adm1 retention set --access-max-age 1h --purge-interval 10s
check_match "any sac role reads them" "$(sacctl_as aud1 --format json retention show)" \
    '"access_max_age_s": 3600, "purge_interval_s": 10'
check_eq "audited with old and new values" \
    "$(sql -c "SELECT role || ' ' || (detail::jsonb ->> 'access_max_age_s') || ' ' || (detail::jsonb ->> 'was_access_max_age_s') FROM audit.log WHERE action = 'retention_set'")" \
    "adm1 3600 86400"
# The drill has been open for two hours (its roll was taken then).
sql -c "UPDATE access.muster_roll SET created_at = now() - interval '2 hours';
        UPDATE sac.emergencies SET declared_at = now() - interval '2 hours'" >/dev/null
check "a pass now" as_purger -c "SELECT sac.purge_pass()"
check_eq "the open drill's roll survives a limit it is older than" "$(on_roll)" 4
sacctl_as off1 emergency close "$id" >/dev/null
check "a pass after the close" as_purger -c "SELECT sac.purge_pass()"
check_eq "the closed drill's roll is gone" "$(on_roll)" 0
check_eq "its emergency row stays while its close is within the limit" \
    "$(sql -c "SELECT count(*) FROM sac.emergencies WHERE id = $id")" 1
sql -c "UPDATE sac.emergencies SET closed_at = now() - interval '61 minutes'" >/dev/null
sql -c "UPDATE audit.purge_runs SET started_at = started_at - interval '2 minutes' WHERE id = $pass" >/dev/null
check "a pass once the close is past the limit" as_purger -c "SELECT sac.purge_pass()"
check_eq "removes the emergency row (the audit log keeps its kind and reason)" \
    "$(sql -c "SELECT count(*) FROM sac.emergencies WHERE id = $id")" 0
check_eq "each pass is audited with the database's limit and cut-off" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = 'allowed'
               AND (detail::jsonb ->> 'access_max_age_s')::int = 3600 AND detail::jsonb ? 'cutoff'")" 3
check_eq "the pass left unfinished was recorded as failed, by the database" \
    "$(sql -c "SELECT role || ' ' || (detail::jsonb ->> 'reason') FROM audit.log WHERE action = 'purge_pass' AND outcome = 'failed'")" \
    "purger unfinished"
check_eq "the audit chain is intact" "$(sql -c "SELECT audit.first_broken_row() IS NULL")" t
done_testing
