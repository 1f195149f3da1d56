#!/usr/bin/env bash
# sacctl db migrate: applies sql/ once, in one transaction; running it again
# changes nothing and says so; an edited migration and a failing one are
# refused without leaving anything half-applied; only a superuser migrates.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1

applied=$(cat "$T_DIR/migrate.log")
nfiles=$(ls "$T_REPO"/sql/[0-9][0-9][0-9]_*.sql | wc -l)
check_eq "pg_start's migration printed one line per file" \
    "$(printf '%s\n' "$applied" | grep -c '^applied ')" "$nfiles"
check_match "the first file is 001_foundation.sql" "$(printf '%s\n' "$applied" | head -n1)" \
    '^applied +001_foundation\.sql +[0-9a-f]{64}$'
check_eq "each file is recorded" "$(sql -c 'SELECT count(*) FROM public.sac_migrations')" "$nfiles"
check_eq "the record matches the file's sha256" \
    "$(sql -c "SELECT sha256 FROM public.sac_migrations WHERE name = '001_foundation.sql'")" \
    "$(sha256sum "$T_REPO/sql/001_foundation.sql" | cut -d' ' -f1)"
check_eq "the migrations table is closed to PUBLIC" \
    "$(sql -c "SELECT has_table_privilege('public', 'public.sac_migrations', 'SELECT')")" "f"

check_exit "migrate twice: exit 0" 0 sacctl db migrate
check_match "migrate twice says nothing to apply" "$(cat "$T_DIR/last.out")" '^nothing to apply'
check_eq "migrate twice records nothing more" \
    "$(sql -c 'SELECT count(*) FROM public.sac_migrations')" "$nfiles"
out=$(sacctl --format json db migrate)
check_eq "migrate twice in JSON: an empty array" "$out" "[]"

# A copy of sql/ in which an applied file was edited: exit 2, naming it.
mkdir "$T_DIR/sql"
cp "$T_REPO"/sql/*.sql "$T_DIR/sql/"
echo "-- edited" >>"$T_DIR/sql/001_foundation.sql"
check_exit "an edited applied migration: exit 2" 2 env SAC_SQL_DIR="$T_DIR/sql" sacctl db migrate
check_match "the message names the edited file" "$(cat "$T_DIR/last.out")" '001_foundation\.sql has changed'
cp "$T_REPO/sql/001_foundation.sql" "$T_DIR/sql/"

# A new file that fails half-way: nothing of it (nor of an earlier pending
# file in the same run) stays.
cat >"$T_DIR/sql/900_first.sql" <<'SQL'
CREATE TABLE public.t900 (x int);
SQL
cat >"$T_DIR/sql/901_broken.sql" <<'SQL'
CREATE TABLE public.t901 (x int);
SELECT no_such_function();
SQL
check_exit "a failing migration: exit 3" 3 env SAC_SQL_DIR="$T_DIR/sql" sacctl db migrate
check_match "the message names the failing file" "$(cat "$T_DIR/last.out")" '901_broken\.sql'
check_eq "nothing of the failed run stayed" \
    "$(sql -c "SELECT count(*) FROM pg_class WHERE relname IN ('t900', 't901')")/$(sql -c "SELECT count(*) FROM public.sac_migrations WHERE name LIKE '90%'")" "0/0"

# A file that ends the transaction is reported (what it committed cannot be
# taken back, but it is not recorded as applied).
cat >"$T_DIR/sql/901_broken.sql" <<'SQL'
COMMIT;
SQL
check_exit "a migration that commits: exit 2" 2 env SAC_SQL_DIR="$T_DIR/sql" sacctl db migrate
check_match "the message names it" "$(cat "$T_DIR/last.out")" '901_broken\.sql ends the transaction'
check_eq "it is not recorded" \
    "$(sql -c "SELECT count(*) FROM public.sac_migrations WHERE name = '901_broken.sql'")" "0"

rm "$T_DIR/sql/901_broken.sql"
echo "CREATE TABLE public.t902 (x int);" >"$T_DIR/sql/902_new.sql"
check_exit "a new valid file is applied" 0 env SAC_SQL_DIR="$T_DIR/sql" sacctl db migrate
check_match "only the new file is printed" "$(cat "$T_DIR/last.out")" '^applied +902_new\.sql +[0-9a-f]{64}$'

# Only a superuser migrates; a login role in no group is refused (exit 1).
make_login nobody_in_particular
check_exit "migrate as a plain login role: exit 1" 1 env SAC_SQL_DIR="$T_DIR/sql" \
    sacctl --db "$(conninfo nobody_in_particular)" db migrate
check_match "the refusal names the role" "$(cat "$T_DIR/last.out")" "role 'nobody_in_particular' may not migrate"

# Two migrations of a fresh database at once: the advisory lock serialises
# them, so one applies every file and the other finds nothing to do.
sql -d postgres -c "CREATE DATABASE sac2" >/dev/null
PGDATABASE=sac2 sacctl db migrate >"$T_DIR/m1.out" 2>&1 & m1=$!
PGDATABASE=sac2 sacctl db migrate >"$T_DIR/m2.out" 2>&1 & m2=$!
wait $m1; rc1=$?; wait $m2; rc2=$?
check_eq "two concurrent migrations both succeed" "$rc1/$rc2" "0/0"
check_eq "…and the files are applied once" \
    "$(cat "$T_DIR/m1.out" "$T_DIR/m2.out" | grep -c '^applied ')/$(cat "$T_DIR/m1.out" "$T_DIR/m2.out" | grep -c '^nothing to apply')" \
    "$nfiles/1"

check_exit "a missing SQL directory: exit 3" 3 env SAC_SQL_DIR="$T_DIR/none" sacctl db migrate
check_exit "migrate takes no argument: exit 2" 2 sacctl db migrate extra

done_testing
