#!/usr/bin/env bash
# A chain can be cut at its tail without breaking what is left: a superuser
# with session_replication_role = replica deletes the last records, and the
# remaining chain verifies.  An auditor keeps the head off the host
# (`sacctl audit anchor`, one line) and `sacctl audit verify --anchor LINE`
# then fails; sac-purge logs the head after every pass, so the journal
# carries anchors too.
source "$(dirname "$0")/../lib.sh"
pg_start || exit 1
make_login aud1 sac_auditor
make_login adm1 sac_admin
make_login purger sac_purge
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
sacctl_as adm1 site add hq >/dev/null
sacctl_as adm1 site add annex >/dev/null

anchor=$(sacctl_as aud1 audit anchor)
check_match "the anchor is one line: position and hash" "$anchor" '^sac-anchor:[0-9]+:[0-9a-f]{64}$'
check_match "…also as JSON" "$(sacctl_as aud1 --format json audit anchor)" '"anchor": "sac-anchor:'
check_eq "the anchor call is audited" "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'audit_anchor'")" 2
check_exit "verify with the anchor: compliant" 0 sacctl_as aud1 audit verify --anchor "$anchor"
check_match "…the anchor is held" "$(sacctl_as aud1 --format json audit verify --anchor "$anchor")" '"anchor": "held"'
check_exit "a malformed anchor is bad usage (exit 2)" 2 sacctl_as aud1 audit verify --anchor "sac-anchor:1:xyz"
check_exit "an anchor of another chain: not compliant" 1 \
    sacctl_as aud1 audit verify --anchor "sac-anchor:1:$(printf '0%.0s' $(seq 1 64))"

check_exit "a purge pass" 0 sac-purge -c "$T_DIR/purge.conf" --once
journal=$(grep -o 'sac-anchor:[0-9]*:[0-9a-f]*' "$T_DIR/last.out" | tail -n 1)
check_match "sac-purge logged the head after the pass" "$journal" '^sac-anchor:[0-9]+:[0-9a-f]{64}$'
check_exit "the journal's head is held" 0 sacctl_as aud1 audit verify --anchor "$journal"
sacctl_as adm1 site add depot >/dev/null

# The cut: the last three records and their chain positions.
sql -c "SET session_replication_role = replica;
        DELETE FROM audit.chain WHERE seq > (SELECT max(seq) - 3 FROM audit.chain);
        DELETE FROM audit.log l WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.log_id = l.id)
                                AND NOT EXISTS (SELECT 1 FROM audit.unchained u WHERE u.log_id = l.id)" >/dev/null
check_exit "without an anchor the cut chain still verifies" 0 sacctl_as aud1 audit verify
out=$(sacctl_as aud1 --format json audit verify --anchor "$journal"); rc=$?
check_eq "with the journal's anchor: not compliant (exit 1)" "$rc" 1
check_match "…the anchor is gone" "$out" '"anchor": "gone"'
check_match "…rule audit_anchor" "$out" '"rule": "audit_anchor"'
check_exit "an older anchor, before the cut, is still held" 0 sacctl_as aud1 audit verify --anchor "$anchor"
check_exit "only auditors may take an anchor" 1 sacctl_as adm1 audit anchor
done_testing
