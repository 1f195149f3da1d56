#!/usr/bin/env bash
# The access policy, read from the catalog: every table (partitions
# included), sequence and function in the schemas sac, access and audit,
# checked for a login role in each group role and for one in no group.
#   - no role but sac_owner has any privilege on a table or sequence;
#   - a role may EXECUTE exactly the functions tests/system/policy_expected.txt
#     lists for its group — so a function added without the right grants, or
#     granted without being listed, fails here;
#   - no function is executable by PUBLIC; every SECURITY DEFINER function
#     pins its search_path;
#   - the audit log refuses UPDATE, DELETE and TRUNCATE even to the
#     superuser, and a row changed behind its triggers' back is found by
#     audit.first_broken_row().
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
GROUPS_=(sac_ingest sac_purge sac_admin sac_certifier sac_officer sac_auditor)
for g in "${GROUPS_[@]}"; do make_login "login_$g" "$g"; done
make_login login_none
# Partitions exist in the catalog before anything is enumerated.
sql -c "SELECT access.ensure_partition(now()), access.ensure_partition(now() + interval '1 hour')" >/dev/null
SCHEMAS="'sac', 'access', 'audit'"

# --- tables, partitions, sequences ------------------------------------------
ntables=$(sql -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname IN ($SCHEMAS) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')")
nparts=$(sql -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'access' AND c.relispartition")
check_match "the catalog lists the tables" "$ntables" '^[1-9][0-9]+$'
check_match "…including partitions of access.events" "$nparts" '^[2-9]$|^[1-9][0-9]+$'

check_eq "every table and sequence belongs to sac_owner" "$(sql -c "
    SELECT string_agg(n.nspname || '.' || c.relname, ' ')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ($SCHEMAS) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND pg_get_userbyid(c.relowner) <> 'sac_owner'")" ""

for role in "${GROUPS_[@]/#/login_}" login_none "${GROUPS_[@]}"; do
    got=$(sql -c "
        SELECT string_agg(n.nspname || '.' || c.relname || ':' || p.priv, ' ')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                'REFERENCES', 'TRIGGER']) AS p(priv)
        WHERE n.nspname IN ($SCHEMAS) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND (has_table_privilege('$role', c.oid, p.priv)
               OR (p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                   AND has_any_column_privilege('$role', c.oid, p.priv)))")
    check_eq "$role has no privilege on any table or partition" "$got" ""
    got=$(sql -c "
        SELECT string_agg(n.nspname || '.' || c.relname || ':' || p.priv, ' ')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) AS p(priv)
        WHERE n.nspname IN ($SCHEMAS) AND c.relkind = 'S'
          AND has_sequence_privilege('$role', c.oid, p.priv)")
    check_eq "$role has no privilege on any sequence" "$got" ""
    got=$(sql -c "
        SELECT string_agg(s.nspname || ':' || p.priv, ' ')
        FROM (VALUES ('access'), ('audit'), ('sac')) s(nspname)
        CROSS JOIN unnest(ARRAY['USAGE', 'CREATE']) AS p(priv)
        WHERE has_schema_privilege('$role', s.nspname, p.priv)
          AND NOT (s.nspname = 'sac' AND p.priv = 'USAGE')")
    check_eq "$role may not use access or audit, nor create in any schema" "$got" ""
done
check_eq "PUBLIC has no privilege on any table" "$(sql -c "
    SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p(priv)
    WHERE n.nspname IN ($SCHEMAS) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND has_table_privilege('public', c.oid, p.priv)")" "0"

# --- functions --------------------------------------------------------------------
nfuncs=$(sql -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname IN ($SCHEMAS)")
check_match "the catalog lists the functions" "$nfuncs" '^[1-9][0-9]+$'

expected=$(grep -v '^[[:space:]]*\(#\|$\)' "$T_REPO/tests/system/policy_expected.txt" | sort)
roles_values=$(for g in "${GROUPS_[@]}" none; do printf "('login_%s', '%s')," "$g" "$g"; done)
actual=$(sql -c "
    SELECT p.oid::regprocedure::text || ' ' || r.grp
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    CROSS JOIN (VALUES ${roles_values%,}) AS r(login, grp)
    WHERE n.nspname IN ($SCHEMAS) AND has_function_privilege(r.login, p.oid, 'EXECUTE')" | sort)
check_eq "each role may execute exactly the functions listed for its group" \
    "$(diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") | grep '^[<>]' | sed 's/^</missing:/; s/^>/unexpected:/' | tr '\n' ';')" ""
check_eq "the role in no group may execute nothing" \
    "$(printf '%s\n' "$actual" | grep -c ' none$')" "0"
# The groups themselves, not only their members, match the list.
actual_groups=$(sql -c "
    SELECT p.oid::regprocedure::text || ' ' || r.rolname
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    CROSS JOIN (SELECT rolname FROM pg_roles WHERE rolname IN
                ('sac_ingest', 'sac_purge', 'sac_admin', 'sac_certifier', 'sac_officer', 'sac_auditor')) r
    WHERE n.nspname IN ($SCHEMAS) AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')" | sort)
check_eq "the group roles match the list too" "$actual_groups" "$expected"

check_eq "no function is executable by PUBLIC" "$(sql -c "
    SELECT string_agg(p.oid::regprocedure::text, ' ')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ($SCHEMAS) AND has_function_privilege('public', p.oid, 'EXECUTE')")" ""
check_eq "every function belongs to sac_owner" "$(sql -c "
    SELECT string_agg(p.oid::regprocedure::text, ' ')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ($SCHEMAS) AND pg_get_userbyid(p.proowner) <> 'sac_owner'")" ""
# Pinned = search_path set on the function, naming only pg_catalog and
# pg_temp (every object is schema-qualified), so no caller's schema is searched.
check_eq "every SECURITY DEFINER function pins its search_path" "$(sql -c "
    SELECT string_agg(p.oid::regprocedure::text, ' ')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ($SCHEMAS) AND p.prosecdef
      AND NOT EXISTS (
          SELECT 1 FROM unnest(p.proconfig) AS c(setting)
          WHERE c.setting LIKE 'search_path=%'
            AND string_to_array(replace(substr(c.setting, 13), ' ', ''), ',')
                <@ ARRAY['pg_catalog', 'pg_temp'])")" ""
check_match "there are SECURITY DEFINER functions to check" "$(sql -c "
    SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ($SCHEMAS) AND p.prosecdef")" '^[1-9][0-9]*$'

# --- the audit log: append-only and hash-chained ---------------------------------------
sacctl_as login_sac_admin site add hq >/dev/null
sacctl_as login_sac_admin site add geneva >/dev/null
sacctl_as login_sac_admin person add --name "Ana Li" --category staff >/dev/null
check_eq "the admin calls were audited" "$(sql -c 'SELECT count(*) FROM audit.log')" "3"
check_eq "the chain is intact" "$(sql -c 'SELECT audit.first_broken_row() IS NULL')" "t"
# psql -c exits 1 when the statement fails.
for stmt in "UPDATE audit.log SET detail = 'x'" "DELETE FROM audit.log" "TRUNCATE audit.log"; do
    check_exit "the superuser may not: $stmt" 1 sql -c "$stmt"
    check_match "…the log says it is append-only" "$(cat "$T_DIR/last.out")" "append-only: (UPDATE|DELETE|TRUNCATE) is refused"
done
check_exit "a group role may not write to it directly" 1 \
    psql -qXAt -v ON_ERROR_STOP=1 "$(conninfo login_sac_auditor)" -c "INSERT INTO audit.log (action, outcome) VALUES ('x', 'allowed')"
check_match "…permission denied" "$(cat "$T_DIR/last.out")" "permission denied"
check_eq "the log is unchanged" "$(sql -c 'SELECT count(*) FROM audit.log WHERE detail IS DISTINCT FROM $$x$$')" "3"

second=$(sql -c "SELECT id FROM audit.log ORDER BY id OFFSET 1 LIMIT 1")
sql -c "ALTER TABLE audit.log DISABLE TRIGGER USER;
        UPDATE audit.log SET detail = 'site 99' WHERE id = $second;
        ALTER TABLE audit.log ENABLE TRIGGER USER" >/dev/null
check_eq "a changed row is found by audit.first_broken_row()" "$(sql -c 'SELECT audit.first_broken_row()')" "$second"
sql -c "ALTER TABLE audit.log DISABLE TRIGGER USER;
        UPDATE audit.log SET detail = 'site ' || (SELECT id FROM sac.sites WHERE name = 'geneva') WHERE id = $second;
        ALTER TABLE audit.log ENABLE TRIGGER USER" >/dev/null
check_eq "restored, the chain verifies again" "$(sql -c 'SELECT audit.first_broken_row() IS NULL')" "t"
sql -c "ALTER TABLE audit.log DISABLE TRIGGER USER;
        DELETE FROM audit.log WHERE id = $second;
        ALTER TABLE audit.log ENABLE TRIGGER USER" >/dev/null
check_eq "a deleted row breaks the chain where it was" "$(sql -c 'SELECT audit.first_broken_row()')" \
    "$second"

done_testing
