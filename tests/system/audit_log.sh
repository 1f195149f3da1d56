#!/usr/bin/env bash
# sacctl audit log: the audit rows for auditors, as text, JSON (exactly the
# keys of SPEC §2) and CSV, optionally from --since; refused to others.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
make_login auditor sac_auditor
make_login clerk sac_admin
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
sac-purge -c "$T_DIR/purge.conf" --once 2>/dev/null
sac-purge -c "$T_DIR/purge.conf" --once 2>/dev/null

json=$(sacctl_as auditor --format json audit log); rc=$?
check_eq "exit 0" "$rc" 0
check_match "a JSON array" "$json" '^\['
check_eq "the two passes are listed" "$(printf '%s' "$json" | grep -o '"action": *"purge_pass"' | wc -l)" 2
keys=$(printf '%s' "$json" | tr -d '\n' | sed 's/},.*//' | grep -o '"[a-z_]*": ' | tr -d '": ' | paste -sd,)
check_eq "exactly the keys of the contract, in order" "$keys" id,at,role,action,site,emergency_id,outcome,count,detail,hash
check_match "the acting role" "$json" '"role": *"purger"'
check_match "times in ISO-8601 UTC" "$json" '"at": *"[0-9-]{10}T[0-9:]{8}Z"'
check_match "hashes in hex" "$json" '"hash": *"[0-9a-f]{64}"'
check_match "ids are numbers" "$json" '"id": *1,'

csv=$(sacctl_as auditor --format csv audit log)
check_eq "CSV header" "$(printf "%s\n" "$csv" | head -1 | tr -d "\r")" id,at,role,action,site,emergency_id,outcome,count,detail,hash
check_match "text lists the passes" "$(sacctl_as auditor audit log)" 'purge_pass +allowed|purge_pass.*allowed'

since=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
check_eq "--since in the future: no rows" \
    "$(sacctl_as auditor --format json audit log --since "$since" | grep -o '"action": *"[a-z_]*"' | sort -u | paste -sd,)" ''
check_exit "--since must be ISO-8601" 2 sacctl_as auditor audit log --since tomorrow
check_match "reading the log is itself audited" \
    "$(sql -c "SELECT string_agg(DISTINCT action, ',') FROM audit.log WHERE role = 'auditor'")" audit_log
check_exit "a role outside sac_auditor is refused (exit 1)" 1 sacctl_as clerk audit log
check_exit "so is the purge role" 1 sacctl_as purger audit log

done_testing
