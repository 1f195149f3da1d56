#!/usr/bin/env bash
# sac-web's JSON API (SPEC §6) over real HTTPS against a real PostgreSQL
# with SCRAM sign-in: every status code of the table, the same JSON as
# `sacctl --format json`, the headers every answer carries, CSRF, the
# generic sign-in failure and its rate limit, sign-out and the idle timeout
# ending the database connection, the live board's audit (one record per
# minute, not per update), TLS 1.3 only, and nothing personal in the log.
source "$(dirname "$0")/../lib.sh"
source "$T_REPO/tests/web/web_lib.sh"

pg_start || exit 1
certs_make
web_role off1 'off1-pw' sac_officer
web_role aud1 'aud1-pw' sac_auditor
web_role adm1 'adm1-pw' sac_admin
web_role off2 'off2-pw' sac_officer
web_role cert1 'cert1-pw' sac_certifier
web_role nobody 'nobody-pw'
web_role trustee 'x' sac_officer
WEB_HBA_EXTRA="local all trustee trust" web_scram
sql <<'SQL' >/dev/null
INSERT INTO sac.sites (name) VALUES ('hq');
INSERT INTO sac.readers (id, site_id, direction, zone) VALUES
    ('hq-in', 1, 'in', 'lobby'), ('hq-m1', 1, 'muster', 'car-park'), ('hq-m2', 1, 'muster', 'lawn');
INSERT INTO sac.persons (name, category) VALUES ('Ada Example', 'staff'), ('Bo Example', 'visitor');
INSERT INTO sac.badges (credential, person_id)
    SELECT sha256(i::text::bytea), CASE WHEN i <= 2 THEN i END FROM generate_series(1, 3) i;
INSERT INTO access.presence VALUES
    (1, 1, 1, 'lobby', now(), now(), 'hq-in'), (2, 2, 1, 'east', now(), now(), 'hq-in'),
    (3, NULL, 1, 'lobby', now(), now(), 'hq-in');
SQL
sacctl_pw cert1 cert1-pw officer certify off1 --site hq --expires "$(date -u -d "+30 days" +%F)" >/dev/null
sacctl_pw cert1 cert1-pw officer certify off2 --site hq --expires "$(date -u -d "+30 days" +%F)" >/dev/null
sacctl_pw off2 off2-pw officer acknowledge --yes >/dev/null

# --- configuration ---------------------------------------------------------------
WEB_PORT=$(free_port)
cert_issue controller-ca web localhost "subjectAltName=DNS:localhost,IP:127.0.0.1"
web_write_config
check_exit "--check-config accepts a good configuration" 0 sac-web -c "$T_DIR/web.conf" --check-config
cp "$T_DIR/web.conf" "$T_DIR/bad.conf"
sed -i 's/dbname=sac$/dbname=sac user=sac_web/; s/session_idle = 10m/session_idle = 9d/' "$T_DIR/bad.conf"
echo "colour = blue" >>"$T_DIR/bad.conf"
check_exit "--check-config: a user in database, a long idle limit, an unknown key: exit 2" 2 \
    sac-web -c "$T_DIR/bad.conf" --check-config
out=$(cat "$T_DIR/last.out")
check_match "… names the user" "$out" "bad.conf:5: 'database' must not name a user"
check_match "… the idle limit" "$out" "bad.conf:6: 'session_idle' is 9d"
check_match "… and the key" "$out" "bad.conf:7: .*colour"
chmod 644 "$T_DIR/pki/web.key"
check_exit "--check-config: a private key readable by others: exit 2" 2 sac-web -c "$T_DIR/web.conf" --check-config
chmod 600 "$T_DIR/pki/web.key"
check_exit "--check-config: no such file: exit 3" 3 sac-web -c "$T_DIR/none.conf" --check-config

web_start || exit 1

# --- pages and headers -------------------------------------------------------------
check_eq "GET / is the console page" "$(web_curl "$WEB_URL/")" 200
headers=$(tr -d '\r' <"$T_DIR/resp.headers")
check_match "… Cache-Control: no-store" "$headers" "Cache-Control: no-store"
check_match "… a CSP that allows scripts from this origin only (no inline script)" "$headers" \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'"
check_no_match "… the CSP has no unsafe-inline" "$headers" "unsafe"
check_match "… HSTS" "$headers" "Strict-Transport-Security: max-age="
check_match "… no framing" "$headers" "X-Frame-Options: DENY"
check_no_match "the page has no inline script" "$(web_body)" "<script>|<script [^>]*>[^<]|on(click|load)="
check_eq "the script is served from the program" "$(web_curl "$WEB_URL/app.js")" 200
check_eq "an unknown page: 404" "$(web_curl "$WEB_URL/nothing")" 404
check_match "… with no-store too" "$(cat "$T_DIR/resp.headers")" "Cache-Control: no-store"
check "TLS 1.2 is refused (TLS 1.3 only)" bash -c "! curl -sS --tls-max 1.2 --cacert '$T_DIR/pki/controller-ca.crt' '$WEB_URL/' >/dev/null 2>&1"
check_eq "plain HTTP is not served" "$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$WEB_PORT/")" 000

# --- sign-in -------------------------------------------------------------------------
signin_body() { web_curl -H "Content-Type: application/json" --data-binary "$1" "$WEB_URL/api/session"; }
check_eq "wrong password: 401" "$(signin_body '{"user": "off1", "password": "nope"}')" 401
generic=$(web_body)
check_match "… one generic message" "$generic" '^\{"error":"sign-in failed: wrong role or password, or the role may not use sac"\}$'
check_eq "unknown role: 401" "$(signin_body '{"user": "ghost", "password": "nope"}')" 401
check_eq "… the same message" "$(web_body)" "$generic"
check_eq "a role in no sac group, right password: 401" "$(signin_body '{"user": "nobody", "password": "nobody-pw"}')" 401
check_eq "… the same message" "$(web_body)" "$generic"
check_eq "a role the server lets in without a password (trust): 401" \
    "$(signin_body '{"user": "trustee", "password": "anything"}')" 401
check_eq "… the same message" "$(web_body)" "$generic"
check "… and sac-web says why in its log" grep -q "pg_hba.conf must require scram-sha-256" "$T_DIR/web.log"
check_eq "a body that is not the sign-in object: 400" "$(signin_body '{"user": "off1"}')" 400
check_eq "an empty password: 400" "$(signin_body '{"user": "off1", "password": ""}')" 400

check "an officer signs in" web_signin off1 off1-pw
body=$(web_body)
check_match "… 200 {\"role\", \"csrf_token\"}" "$body" '^\{"role":"off1","csrf_token":"[0-9a-f]{64}"\}$'
check_match "… and a Secure, HttpOnly, SameSite=Strict session cookie" "$(tr -d '\r' <"$T_DIR/resp.headers")" \
    'Set-Cookie: __Host-sac_session=[0-9a-f]{64}; Path=/; Secure; HttpOnly; SameSite=Strict'
check_eq "… as its own role on the database" "$(web_backends off1)" 1

# --- no session, CSRF ---------------------------------------------------------------------
check_eq "no session: 401" "$(web_curl "$WEB_URL/api/headcount?site=hq")" 401
check_eq "a made-up session: 401" "$(web_curl -b "__Host-sac_session=$(printf '%064d' 7)" "$WEB_URL/api/headcount?site=hq")" 401
# --- refused by policy ----------------------------------------------------------------------
check_eq "declare before acknowledging the rules: 403" \
    "$(web_api POST /api/emergencies '{"site": "hq", "kind": "drill", "reason": "monthly drill"}')" 403
check_match "… {\"error\": why}" "$(web_body)" '^\{"error": ?"role off1 has not acknowledged the rules'
check_eq "GET /api/rules: 200" "$(web_api GET /api/rules)" 200
version=$(json_get 'd["rules_version"]')
check_match "… the rules text" "$(json_get 'd["rules"]')" "Sole purpose"
check_eq "acknowledging an older version: 403" "$(web_api POST /api/rules/acknowledge '{"rules_version": 999}')" 403
check_eq "acknowledging the version shown: 200" "$(web_api POST /api/rules/acknowledge "{\"rules_version\": $version}")" 200
check_eq "… recorded" "$(sql -c "SELECT count(*) FROM sac.acknowledgements WHERE role_name = 'off1'")" 1
# CSRF: requests that the database would allow, refused for want of the token.
check_eq "POST /api/emergencies without X-CSRF-Token: 403" \
    "$(CSRF_off1='' web_api POST /api/emergencies '{"site": "hq", "kind": "drill", "reason": "monthly drill"}')" 403
check_match "… says why" "$(web_body)" "X-CSRF-Token"
check_eq "… nothing was declared" "$(sql -c 'SELECT count(*) FROM sac.emergencies')" 0
check_eq "a wrong token: 403" \
    "$(CSRF_off1=$(printf '%064d' 1) web_api POST /api/emergencies '{"site": "hq", "kind": "drill", "reason": "x"}')" 403

check_eq "GET /api/sites: the officer's site, ready" "$(web_api GET /api/sites >/dev/null; json_get '[(s["site"], s["standing"]) for s in d]')" "[('hq', 'ready')]"
check_eq "headcount without an open emergency: 403" "$(web_api GET '/api/headcount?site=hq')" 403
check_match "… says why" "$(web_body)" "no emergency or drill is open at site hq"
check_eq "a bad body: 400" "$(web_api POST /api/emergencies '{"site": "hq", "kind": "party", "reason": "x"}')" 400
check_eq "a body that is not JSON: 415 without the JSON type" \
    "$(web_curl -X POST -b "$T_DIR/off1.jar" -H "X-CSRF-Token: $CSRF_off1" --data-binary 'site=hq' "$WEB_URL/api/emergencies")" 415
check_eq "an oversized body: 413" \
    "$(web_api POST /api/emergencies "{\"site\": \"hq\", \"kind\": \"drill\", \"reason\": \"$(head -c 20000 /dev/zero | tr '\0' x)\"}")" 413

# --- declare, read, close ---------------------------------------------------------------------
check_eq "POST /api/emergencies: 200" "$(web_api POST /api/emergencies '{"site": "hq", "kind": "drill", "reason": "monthly drill"}')" 200
check_match "… {\"emergency_id\": N}" "$(web_body | tr -d ' \n')" '^\{"emergency_id":[0-9]+\}$'
id=$(json_get 'd["emergency_id"]')
# The reason goes to the audit log (issue #12); not a name.
same_json() { python3 - "$1" "$2" "$3" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
for k in sys.argv[3].split(","):
    if k and isinstance(a, dict): a.pop(k, None); b.pop(k, None)
sys.exit(0 if a == b else print(a, "\n", b) or 1)
PY
}
check_eq "GET /api/muster: 200" "$(web_api GET "/api/muster?emergency=$id")" 200
check "… the JSON of sacctl muster status" same_json "$T_DIR/resp.body" \
    "$(sacctl_pw off1 off1-pw --format json muster status --emergency "$id")" ""
check_match "… with the names" "$(web_body)" "Ada Example"
check_eq "GET /api/headcount: 200" "$(web_api GET '/api/headcount?site=hq')" 200
check "… the JSON of sacctl headcount (but as_of)" same_json "$T_DIR/resp.body" \
    "$(sacctl_pw off1 off1-pw --format json headcount --site hq)" "as_of"
check_eq "a bad emergency id: 400" "$(web_api GET '/api/muster?emergency=12x')" 400
check_eq "an unknown emergency: 403" "$(web_api GET '/api/muster?emergency=424242')" 403

# The live board: Server-Sent Events, one audit record per minute of board.
before=$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'muster_board'")
curl -sSN --max-time 5 --cacert "$T_DIR/pki/controller-ca.crt" -b "$T_DIR/off1.jar" \
    "$WEB_URL/api/muster/stream?emergency=$id" >"$T_DIR/stream1.txt" 2>/dev/null &
spid=$!
check "the board stream sends the board" wait_for 20 grep -q '^event: board' "$T_DIR/stream1.txt"
sql -c "UPDATE access.muster_roll SET state = 'a', muster_reader = 'hq-m1', changed_at = now() WHERE emergency_id = $id AND badge_id = 2" >/dev/null
check "… and again when a badge is accounted for" wait_for 20 bash -c "[ \$(grep -c '^event: board' '$T_DIR/stream1.txt') -ge 2 ]"
check_match "… the new board" "$(grep '^data:' "$T_DIR/stream1.txt" | tail -n 1)" '"accounted" ?: ?1, "left" ?: ?0, "unaccounted" ?: ?2'
wait "$spid"
check_eq "one audit record for the whole live board (per minute, not per update)" \
    "$(sql -c "SELECT count(*) - $before FROM audit.log WHERE action = 'muster_board' AND outcome = 'allowed'")" 1
check_eq "… with the site, the emergency and the persons shown" \
    "$(sql -c "SELECT site || ' ' || emergency_id || ' ' || count FROM audit.log WHERE action = 'muster_board' ORDER BY id DESC LIMIT 1")" "hq $id 3"

check_eq "close without X-CSRF-Token: 403" "$(CSRF_off1='' web_api POST "/api/emergencies/$id/close")" 403
check_eq "POST /api/emergencies/N/close: 204" "$(web_api POST "/api/emergencies/$id/close")" 204
check_eq "… closed" "$(sql -c "SELECT closed_at IS NOT NULL FROM sac.emergencies WHERE id = $id")" t
check_eq "closing again: 403" "$(web_api POST "/api/emergencies/$id/close")" 403
check_eq "a bad id in the path: 400" "$(web_api POST "/api/emergencies/1x/close")" 400
check_eq "the board of a closed emergency: counts, no names" \
    "$(curl -sSN --max-time 5 --cacert "$T_DIR/pki/controller-ca.crt" -b "$T_DIR/off1.jar" "$WEB_URL/api/muster/stream?emergency=$id" | grep -c 'Example')" 0
# A site whose drills show names only after a second officer confirmed them.
sacctl_pw adm1 adm1-pw site drill-confirm hq --required yes >/dev/null
check_eq "a drill at a site that requires confirmation: 200" \
    "$(web_api POST /api/emergencies '{"site": "hq", "kind": "drill", "reason": "confirmed drill"}')" 200
id2=$(json_get 'd["emergency_id"]')
board2=$(curl -sSN --max-time 4 --cacert "$T_DIR/pki/controller-ca.crt" -b "$T_DIR/off1.jar" \
    "$WEB_URL/api/muster/stream?emergency=$id2" 2>/dev/null | grep '^data:' | head -n 1)
check_match "… its live board shows the counts, names withheld" "$board2" '"unaccounted" ?: ?3,.*"names_withheld" ?: ?"unconfirmed_drill"'
check_no_match "… and no name" "$board2" "Example"
check_eq "… GET /api/muster is refused until then: 403" "$(web_api GET "/api/muster?emergency=$id2")" 403
check_eq "the declaring officer may not confirm: 403" "$(web_api POST "/api/emergencies/$id2/confirm")" 403
check "a second officer signs in" web_signin off2 off2-pw
check_eq "… and confirms: 200" "$(web_api POST "/api/emergencies/$id2/confirm")" 200
check_match "… the JSON of sacctl emergency confirm" "$(web_body | tr -d ' \n')" "^\{\"emergency_id\":$id2,\"confirmed\":true\}$"
check_eq "now the names are shown: 200" "$(web_api GET "/api/muster?emergency=$id2" '' off1)" 200
check_match "… with the names" "$(web_body)" "Ada Example"
check_eq "close it: 204" "$(web_api POST "/api/emergencies/$id2/close" '' off1)" 204
WEB_ROLE=off1
check_eq "an unknown API path: 404" "$(web_api GET /api/nothing)" 404
check_eq "a wrong method: 405" "$(web_api PUT /api/emergencies)" 405

# --- auditor and admin --------------------------------------------------------------------------
check "an auditor signs in" web_signin aud1 aud1-pw
check_eq "GET /api/audit/verify: 200" "$(web_api GET /api/audit/verify)" 200
check "… the JSON of sacctl audit verify (but checked_at)" same_json "$T_DIR/resp.body" \
    "$(sacctl_pw aud1 aud1-pw --format json audit verify)" "checked_at,oldest_access_record_age_s,audit_head"
check_eq "GET /api/audit/report: 200" "$(web_api GET /api/audit/report)" 200
check_match "… with the chain's anchor" "$(json_get 'd["anchor"]["anchor"]')" '^sac-anchor:[0-9]+:[0-9a-f]{64}$'
check_eq "the auditor's muster read: 403" "$(web_api GET "/api/muster?emergency=$id")" 403
check_eq "… audited as refused" "$(sql -c "SELECT role || ' ' || outcome FROM audit.log WHERE action = 'muster_status' ORDER BY id DESC LIMIT 1")" "aud1 refused"
check_eq "the officer's audit verify: 403" "$(web_api GET /api/audit/verify '' off1)" 403
check "an admin signs in" web_signin adm1 adm1-pw
check_eq "GET /api/readers: 200" "$(web_api GET /api/readers)" 200
check "… the JSON of sacctl reader list" same_json "$T_DIR/resp.body" \
    "$(sacctl_pw adm1 adm1-pw --format json reader list)" ""
check_eq "the admin's deletion report: 403" "$(web_api GET /api/audit/report)" 403

# --- sign-out, idle timeout -----------------------------------------------------------------------
check_eq "DELETE /api/session without X-CSRF-Token: 403" "$(CSRF_adm1='' web_api DELETE /api/session)" 403
check_eq "DELETE /api/session: 204" "$(web_api DELETE /api/session)" 204
check "… the database connection ends" wait_for 10 backends_are adm1 0
check_eq "… and the session with it: 401" "$(web_api GET /api/readers)" 401

web_write_config 2s
kill -HUP "$WEB_PID"
check "SIGHUP applies a new session_idle" wait_for 10 grep -q "'session_idle' changed from 10m to 2s" "$T_DIR/web.log"
check "after 2 s idle the officer's database connection has ended" \
    wait_for 20 backends_are off1 0
check_eq "… and the session: 401" "$(web_api GET /api/sites '' off1)" 401

# --- rate limit ---------------------------------------------------------------------------------------
for i in 1 2 3 4 5; do signin_body '{"user": "aud1", "password": "wrong"}' >/dev/null; done
check_eq "after 5 failures the right password is not even tried: 429" \
    "$(signin_body '{"user": "aud1", "password": "aud1-pw"}')" 429

# --- nothing personal in the log ------------------------------------------------------------------------
log=$(cat "$T_DIR/web.log")
check_no_match "the log holds no role, name, password or token" "$log" "off1|aud1|adm1|Example|-pw|$CSRF_off1|emergency=|site=hq"
check_match "… but says what happened" "$log" "session started"
kill -TERM "$WEB_PID"; wait "$WEB_PID"
check_eq "SIGTERM: exit 0" "$?" 0
check_eq "… every session's connection is gone" "$(web_backends aud1)" 0
done_testing
