#!/usr/bin/env bash
# The console in a real browser (tests/web/web_browser.py drives Debian's
# chromium): real PostgreSQL with SCRAM, real sac-controller, two real
# sac-readers on pn532-sim (an entrance and a muster point), people badged
# in by real taps, and sac-web.  Screenshots at 360x740 and 1280x800 are
# kept in BUILD/artifacts/web.
source "$(dirname "$0")/../lib.sh"
source "$T_REPO/tests/web/web_lib.sh"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
web_role off1 'off1-pw' sac_officer
web_role aud1 'aud1-pw' sac_auditor
web_role adm1 'adm1-pw' sac_admin
web_role cert1 'cert1-pw' sac_certifier
# The controller and the purge service sign in without a password here.
WEB_HBA_EXTRA=$'local all ctl-1 trust\nlocal all purger trust' web_scram
sacctl site add hq >/dev/null
sacctl reader add gate-in --site hq --direction in --zone lobby >/dev/null
sacctl reader add muster-1 --site hq --direction muster --zone car-park >/dev/null
names=("Ada Example" "Bo Example" "Cy Example")
uids=()
for n in "${names[@]}"; do
    u=04$(openssl rand -hex 6)
    uids+=("$u")
    enroll "$n" "$u" >/dev/null || exit 1
done
sacctl_pw cert1 cert1-pw officer certify off1 --site hq --expires "$(date -u -d "+30 days" +%F)" >/dev/null

port=$(free_port)
# A loaded machine may need more than the harness's 20 s.
controller_start ctl-1 "$port" || wait_for 40 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" \
    || { sed 's/^/# /' "$T_DIR/ctl-1.log"; exit 1; }
for r in gate-in muster-1; do
    sim_start "$r" || exit 1
    reader_conf "$r" "127.0.0.1:$port"
    reader_start "$r"
done
check "both readers connect" wait_for 30 bash -c "grep -q 'connected to controller' '$T_DIR/gate-in.log' && grep -q 'connected to controller' '$T_DIR/muster-1.log'"
for u in "${uids[@]}"; do tap gate-in "$u"; done
check "three people badged in" wait_for 20 bash -c "[ \"\$(psql -qXAt -c 'SELECT count(*) FROM access.presence')\" = 3 ]"

# Three purge passes for the auditor's deletion report.
make_login purger sac_purge
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
for i in 1 2 3; do sac-purge -c "$T_DIR/purge.conf" --once >>"$T_DIR/purge.log" 2>&1; sleep 1; done
check_eq "three purge passes recorded" "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass'")" 3

web_start || exit 1
# The tap the browser test asks for: Bo reaches the muster point.
cat >"$T_DIR/tap-muster.sh" <<TAP
#!/usr/bin/env bash
before=\$(grep -Ec 'event [0-9a-f]{32} created' '$T_DIR/muster-1.log')
'$T_BIN/pn532-sim' --control '$T_DIR/muster-1.ctl' --send 'present ${uids[1]}' >/dev/null
for i in \$(seq 1 100); do
    [ "\$(grep -Ec 'event [0-9a-f]{32} created' '$T_DIR/muster-1.log')" -gt "\$before" ] && break
    sleep 0.1
done
'$T_BIN/pn532-sim' --control '$T_DIR/muster-1.ctl' --send 'remove' >/dev/null
TAP
cat >"$T_DIR/idle.sh" <<IDLE
#!/usr/bin/env bash
sed -i 's/^session_idle.*/session_idle = 2s/' '$T_DIR/web.conf'
kill -HUP $WEB_PID
for i in \$(seq 1 100); do grep -q "'session_idle' changed from 10m to 2s" '$T_DIR/web.log' && exit 0; sleep 0.1; done
exit 1
IDLE
chmod +x "$T_DIR/tap-muster.sh" "$T_DIR/idle.sh"
spki=$(openssl x509 -in "$T_DIR/pki/web.crt" -pubkey -noout | openssl pkey -pubin -outform der \
       | openssl dgst -sha256 -binary | base64)
artifacts="$T_BIN/../artifacts/web"
python3 "$T_REPO/tests/web/web_browser.py" --url "$WEB_URL/" --spki "$spki" --artifacts "$artifacts" \
    --officer off1:off1-pw --auditor aud1:aud1-pw --admin adm1:adm1-pw \
    --names "$(IFS=,; echo "${names[*]}")" --tapped "${names[1]}" \
    --tap "$T_DIR/tap-muster.sh" --idle "$T_DIR/idle.sh" >"$T_DIR/browser.out" 2>"$T_DIR/browser.err"
rc=$?
while IFS= read -r line; do
    case "$line" in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        "# "*) echo "$line" ;;
    esac
done <"$T_DIR/browser.out"
check_eq "the browser run completed" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T_DIR/browser.err" | tail -n 20
check_eq "the live board was audited once per minute, not per update" \
    "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'muster_board' AND outcome = 'allowed'")" 1
check "the screenshots are saved" test -s "$artifacts/web-board-360.png" -a -s "$artifacts/web-auditor-1280.png"
check_no_match "the sac-web log holds no name or role" "$(cat "$T_DIR/web.log")" "Example|off1|aud1|adm1"
done_testing
