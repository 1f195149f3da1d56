#!/usr/bin/env bash
# sacctl audit verify: compliant on a fresh system and after purge passes;
# not compliant, with a violation naming the rule, for an access record past
# the limit, a stale purge, a completed cycle left unerased, an old video file
# and a tampered audit log.  Only auditors may ask (exit 1 otherwise).
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
make_login auditor sac_auditor
make_login clerk sac_admin
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
purge() { sac-purge -c "$T_DIR/purge.conf" --once 2>/dev/null; }
verify() { sacctl_as auditor --format json audit verify "$@"; }
# rules ARGS...: the violated rules, sorted, comma-separated.
rules() { verify "$@" | grep -o '"rule": *"[a-z_]*"' | sed 's/.*"\([a-z_]*\)"$/\1/' | sort | paste -sd,; }

out=$(verify); rc=$?
check_eq "a fresh system is compliant (exit 0)" "$rc" 0
check_match "JSON: compliant true" "$out" '"compliant": *true'
check_match "JSON: no violations" "$out" '"violations": *\[ *\]'
check_match "JSON: no access record, so no age" "$out" '"oldest_access_record_age_s": *null'
check_match "JSON: the audit chain" "$out" '"audit_chain": *"intact"'
check_match "JSON: last_purge_at" "$out" '"last_purge_at": *null'
check_exit "a role outside sac_auditor is refused (exit 1)" 1 sacctl_as clerk audit verify
check_exit "a database that cannot be reached: exit 3" 3 \
    sacctl --db "host=$T_DIR/nowhere port=1 dbname=sac user=auditor" audit verify

# Data and a pass: compliant.
sql -c "INSERT INTO access.presence VALUES (1, 101, 1, 'z', now() - interval '1 hour', now(), 'gate-1'),
                                           (2, 102, 1, 'z', now() - interval '2 hours', now(), 'gate-1')"
purge
out=$(verify); rc=$?
check_eq "with fresh data and a recent pass: compliant" "$rc" 0
check_match "the oldest record's age is reported" "$out" '"oldest_access_record_age_s": *(7[0-9]{3})'
check_match "and the last pass" "$out" '"last_purge_at": *"[0-9-]{10}T[0-9:]{8}Z"'

# An access record past the limit.
sql -c "SELECT access.ensure_partition(now() - interval '25 hours')" >/dev/null
sql -c "INSERT INTO access.events VALUES (now() - interval '25 hours', 'gate-1', gen_random_uuid(), now() - interval '25 hours', 'G', 1, 'i', 'z')"
check_exit "an access record older than 24 h: not compliant (exit 1)" 1 verify
check_eq "rule access_max_age" "$(rules)" access_max_age
check_match "in plain words" "$(verify)" '"detail": *"the oldest access record is 9[0-9]{4} s old, older than the limit of 86400 s"'
purge
check_exit "the next pass makes it compliant again" 0 verify

# A stale purge: the last successful pass is more than two intervals old.
sql -c "UPDATE audit.purge_runs SET finished_at = finished_at - interval '5 minutes', started_at = started_at - interval '5 minutes'"
check_exit "no pass within two intervals: not compliant" 1 verify
check_eq "rule purge_stale (and nothing else: no presence changes since the rewrite)" "$(rules)" purge_stale
purge
check_exit "compliant after a pass" 0 verify

# A completed cycle: badge 2 reads out; the row is deleted but its bytes stay
# until the next rewrite.
sql -c "DELETE FROM access.presence WHERE badge_id = 2"
check_exit "a cycle completed since a recent pass: still compliant" 0 verify
sql -c "UPDATE audit.purge_runs SET finished_at = finished_at - interval '5 minutes', started_at = started_at - interval '5 minutes'"
check_eq "left for more than two intervals: rules completed_cycle and purge_stale" "$(rules)" completed_cycle,purge_stale
purge
check_exit "compliant after a pass" 0 verify

# Video.
v="$T_DIR/video"; mkdir -p "$v/cam" "$T_DIR/outside"
head -c 100 /dev/zero >"$v/cam/new.mp4"
head -c 100 /dev/zero >"$T_DIR/outside/ancient.mp4"; touch -d '-90 days' "$T_DIR/outside/ancient.mp4"
ln -s ../../outside/ancient.mp4 "$v/cam/link-to-ancient"
check_exit "a video store with new files (a link to an old file is judged by itself)" 0 verify --video-dir "$v"
check_match "the files are counted" "$(verify --video-dir "$v")" '"video_files": *2'
head -c 100 /dev/zero >"$v/cam/old.mp4"; touch -d '-31 days' "$v/cam/old.mp4"
check_exit "a file older than 30 days: not compliant" 1 verify --video-dir "$v"
check_eq "rule video_max_age" "$(rules --video-dir "$v")" video_max_age
check "verify never removes anything" test -f "$v/cam/old.mp4"
check_exit "an unreadable video directory: exit 3" 3 verify --video-dir "$T_DIR/none"
rm "$v/cam/old.mp4"

# Tampering with the audit log.
check_exit "compliant before tampering" 0 verify
sql -c "ALTER TABLE audit.log DISABLE TRIGGER log_no_update_delete;
        UPDATE audit.log SET outcome = 'refused', detail = 'rewritten' WHERE id = 3;
        ALTER TABLE audit.log ENABLE TRIGGER log_no_update_delete" >/dev/null
out=$(verify); rc=$?
check_eq "a modified audit row: not compliant" "$rc" 1
check_match "the chain is reported broken" "$out" '"audit_chain": *"broken"'
check_match "at the row" "$out" '"first_broken_audit_row": *3'
check_eq "rule audit_chain" "$(rules)" audit_chain
check_match "text output names the rule too" "$(sacctl_as auditor audit verify)" 'audit_chain'

check_eq "every verify call is audited" \
    "$(sql -c "SELECT count(*) > 10 FROM audit.log WHERE action = 'audit_verify' AND role = 'auditor'")" t
done_testing
