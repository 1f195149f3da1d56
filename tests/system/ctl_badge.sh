#!/usr/bin/env bash
# sacctl badge enroll / revoke: the credential computed from the UID and the
# key file, pool badges, validity, re-enrolment, bad UIDs, TIMEs and key
# files, roles without sac_admin; and that no UID or credential shows up in
# any output, the audit log or the server log.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login admin1 sac_admin
make_login nobody1
make_login auditor1 sac_auditor
credential_key_make "$T_DIR/credential.key"
export SAC_CREDENTIAL_KEY_FILE="$T_DIR/credential.key"

# Everything sacctl prints (stdout and stderr) is kept, to search it for
# UIDs and credentials at the end.
adm() {
    sacctl_as admin1 "$@" >"$T_DIR/cmd.out" 2>&1
    local rc=$?
    cat "$T_DIR/cmd.out" | tee -a "$T_DIR/all.out"
    return $rc
}
CR=$'\r'

site_id=$(adm site add hq)
pid=$(adm person add --name "Ana Li" --category staff)

# --- badges -------------------------------------------------------------------
uid="04:A2:1B:7C:11:22:33"
uid_plain=04a21b7c112233
cred=$(credential_of "$uid_plain")

bid=$(adm badge enroll --person "$pid" --uid "$uid" --valid-until 2099-12-31)
check_match "badge enroll prints the badge id" "$bid" '^[0-9]+$'
check_eq "the stored credential is HMAC-SHA256(key, UID)" \
    "$(sql -c "SELECT encode(credential, 'hex') FROM sac.badges WHERE id = $bid")" "$cred"
check_eq "valid-until without a zone is UTC" \
    "$(sql -c "SELECT valid_until = '2099-12-31 00:00:00+00' FROM sac.badges WHERE id = $bid")" "t"
check_exit "enrolling an enrolled badge: exit 2" 2 adm badge enroll --person "$pid" --uid "$uid_plain"
check_match "…saying so" "$(cat "$T_DIR/last.out")" "already enrolled"
check_eq "the server logged no unique violation" "$(grep -c 'duplicate key' "$T_DIR/pg/server.log")" "0"
check_eq "badge enroll --pool --format json, UID in upper case without colons" \
    "$(adm --format json badge enroll --pool --uid 0A0B0C0D --valid-until 2099-01-01T12:00:00+02:00)" \
    '{"badge_id": '$((bid + 1))'}'
check_eq "a pool badge has no person; the offset is honoured" \
    "$(sql -c "SELECT person_id IS NULL, valid_until = '2099-01-01 10:00:00+00' FROM sac.badges WHERE id = $((bid + 1))")" "t|t"
check_eq "badge enroll --format csv with the UID on stdin" \
    "$(printf '0102030405060708090a\n' | adm --format csv badge enroll --person "$pid" --uid -)" \
    "badge_id${CR}"$'\n'"$((bid + 2))${CR}"
for bad in 04a21b 04a21b7c11 04:a2:1b:7c: 04::a2:1b:7c zz010203 0102030405060708090a0b "" "04 a2 1b 7c"; do
    check_exit "badge enroll --uid '$bad': exit 2" 2 adm badge enroll --pool --uid "$bad"
done
check_exit "a UID without --uid: exit 2 (and not echoed)" 2 adm badge enroll --pool "$uid_plain"
check_exit "a UID as a command word: exit 2 (and not echoed)" 2 adm "$uid_plain"
check_exit "badge enroll with --person and --pool: exit 2" 2 adm badge enroll --person "$pid" --pool --uid 01020304
check_exit "badge enroll without --person or --pool: exit 2" 2 adm badge enroll --uid 01020304
check_exit "badge enroll for an unknown person: exit 2" 2 adm badge enroll --person 999999 --uid 01020304
check_exit "badge enroll with a bad person id: exit 2" 2 adm badge enroll --person "1; DROP" --uid 01020304
check_exit "badge enroll --valid-until tomorrow: exit 2" 2 adm badge enroll --pool --uid 01020304 --valid-until tomorrow
check_exit "badge enroll --valid-until 2026-13-01: exit 2" 2 adm badge enroll --pool --uid 01020304 --valid-until 2026-13-01
check_exit "badge enroll --valid-until in the past: exit 2" 2 adm badge enroll --pool --uid 01020304 --valid-until 2001-01-01
check_exit "badge enroll with a missing key file: exit 3" 3 adm badge enroll --pool --uid 01020304 --key "$T_DIR/nokey"
cp "$T_DIR/credential.key" "$T_DIR/open.key"; chmod 644 "$T_DIR/open.key"
check_exit "badge enroll with a group-readable key: exit 2" 2 adm badge enroll --pool --uid 01020304 --key "$T_DIR/open.key"
(umask 077; echo nothex >"$T_DIR/bad.key")
check_exit "badge enroll with a malformed key: exit 2" 2 adm badge enroll --pool --uid 01020304 --key "$T_DIR/bad.key"
check_eq "no bad enrollment stored anything" "$(sql -c 'SELECT count(*) FROM sac.badges')" "3"

check_eq "badge revoke --format json" "$(adm --format json badge revoke --uid "$uid")" '{"badge_id": '$bid'}'
check_eq "…sets revoked_at" "$(sql -c "SELECT revoked_at IS NOT NULL FROM sac.badges WHERE id = $bid")" "t"
check_exit "revoking it again: exit 2" 2 adm badge revoke --uid "$uid"
check_exit "revoking an unknown badge: exit 2" 2 adm badge revoke --uid 01020304
check_exit "revoking with a bad UID: exit 2" 2 adm badge revoke --uid 0102
check_eq "a revoked badge can be enrolled again (same badge)" \
    "$(adm badge enroll --pool --uid "$uid")" "$bid"
check_eq "…as active" "$(sql -c "SELECT revoked_at IS NULL AND person_id IS NULL FROM sac.badges WHERE id = $bid")" "t"

# --- roles without sac_admin: exit 1 ---------------------------------------------------
for role in nobody1 auditor1; do
    check_exit "badge enroll as $role: exit 1" 1 sacctl_as "$role" badge enroll --pool --uid 01020304
    check_match "…naming the role and what it needs" "$(cat "$T_DIR/last.out")" \
        "role '$role' may not enroll badges \(needs sac_admin\)"
    check_exit "badge revoke as $role: exit 1" 1 sacctl_as "$role" badge revoke --uid 0A0B0C0D
done
check_eq "refused calls changed nothing" \
    "$(sql -c "SELECT count(*) FROM sac.badges WHERE revoked_at IS NULL")" "3"

check_eq "enrolments and revocations are audited with ids" \
    "$(sql -c "SELECT string_agg(action || ':' || detail, ',' ORDER BY id) FROM audit.log WHERE action LIKE 'badge_%'")" \
    "badge_enroll:badge $bid person $pid,badge_enroll:badge $((bid + 1)) pool,badge_enroll:badge $((bid + 2)) person $pid,badge_revoke:badge $bid,badge_enroll:badge $bid pool"

# --- no UID, no credential anywhere -------------------------------------------------------------
all_uids='04:?a2:?1b:?7c:?11:?22:?33|0a:?0b:?0c:?0d|01:?02:?03:?04:?05:?06:?07:?08:?09:?0a'
check_no_match "no UID in sacctl's output" "$(tr 'A-Z' 'a-z' <"$T_DIR/all.out")" "$all_uids"
check_no_match "no credential in sacctl's output" "$(cat "$T_DIR/all.out")" "$cred"
check_no_match "no UID in the server log" "$(tr 'A-Z' 'a-z' <"$T_DIR/pg/server.log")" "$all_uids"
check_no_match "no credential in the server log" "$(cat "$T_DIR/pg/server.log")" "$cred|\\\\x[0-9a-f]{64}"
check_eq "no credential in the audit log" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE detail ~ '[0-9a-f]{16}'")" "0"

done_testing
