#!/usr/bin/env bash
# An event that arrives when it is already due for deletion (older than the
# cut-off the next purge pass will use) gets its verdict but leaves nothing
# behind: it must not recreate an hour that purge dropped, where it would
# outlive access_max_age by up to one purge interval.  The limits are the
# database's settings.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
cred='\x'$(printf 'ab%.0s' $(seq 1 32))
sql -c "INSERT INTO sac.sites (name) VALUES ('hq');
        INSERT INTO sac.readers (id, site_id, direction, zone) VALUES ('gate-in', 1, 'in', 'lobby');
        INSERT INTO sac.persons (name, category) VALUES ('Grace', 'staff');
        INSERT INTO sac.badges (credential, person_id) VALUES ('$cred', 1);" >/dev/null

# ingest AGE: one event AGE ago at gate-in; prints the verdict.
ingest() {
    sql -c "SELECT verdict FROM sac.ingest(ARRAY['gate-in'], ARRAY[gen_random_uuid()],
                ARRAY[(extract(epoch FROM now() - interval '$1') * 1000)::bigint],
                ARRAY['$cred'::bytea])"
}
ledger() { sql -c "SELECT count(*) FROM access.events"; }
hour_of() { sql -c "SELECT 'access.events_' || to_char((now() - interval '$1') AT TIME ZONE 'UTC', 'YYYYMMDDHH24')"; }

check_eq "with the default 24-hour limit, a 100-minute-old event is stored" "$(ingest '100 minutes')" GRANT
check_eq "... in the ledger" "$(ledger)" 1
old_hour=$(hour_of '100 minutes')

# A 2-hour limit and a 30-minute interval: everything older than about 89
# minutes is due now.
sql -c "SELECT FROM sac.retention_set(interval '2 hours', interval '30 minutes')" >/dev/null
psql -qXAt -v ON_ERROR_STOP=1 "$(conninfo purger)" -c "SELECT sac.purge_pass()" >/dev/null
check_eq "the pass dropped the 100-minute-old hour" "$(sql -c "SELECT to_regclass('$old_hour') IS NULL")" t
check_eq "a due event still gets its verdict" "$(ingest '100 minutes')" GRANT
check_eq "... but nothing is stored" "$(ledger)" 0
check_eq "... and the dropped hour is not recreated" "$(sql -c "SELECT to_regclass('$old_hour') IS NULL")" t
check_eq "... nor a presence made of it" "$(sql -c 'SELECT count(*) FROM access.presence')" 0
check_eq "a 30-minute-old event is stored" "$(ingest '30 minutes')" GRANT
check_eq "... in the ledger" "$(ledger)" 1
check_eq "... with a presence" "$(sql -c 'SELECT count(*) FROM access.presence')" 1
check_eq "an event older than 24 h is EXPIRED" "$(ingest '25 hours')" EXPIRED
check_eq "... and not stored" "$(ledger)" 1
done_testing
