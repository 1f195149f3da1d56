#!/usr/bin/env bash
# The guide is the test: docs/deploy.md §1–§3 (one machine: install, first
# badge and drill, removal), run word for word on this machine with the
# packages of `make deb`.  Every command line of those sections' code blocks
# runs as the user its prompt names (root#, postgres$, alice$ …); a command
# that fails fails the test.  Where the guide shows output, the command's
# output must start the same way.
#
# What differs from a real station, and how the test stands in for it:
#   - systemd is not PID 1 here.  `systemctl enable --now UNIT…` runs each
#     installed unit's own ExecStartPre= and ExecStart= lines as its User=,
#     Group= and supplementary groups with its Environment= (a timer runs
#     its service once); `systemctl disable --now` stops them;
#     `systemctl restart postgresql` restarts the cluster.
#   - PostgreSQL: a cluster of its own (pg_createcluster 15 sacdeploy, a free
#     port given to every command as PGPORT) stands in for 15/main, which is
#     left alone.
#   - The PN532 is pn532-sim: the reader's `device` is set to its pty after
#     the guide writes the reader's configuration, and the badge tap of §2 is
#     a card presented on the emulator.
#   - apt waits for the dpkg lock and answers yes (APT_CONFIG).
#
# Packages, system users, /etc/sac, /var/lib/sac and the people's accounts
# are system-wide: one run at a time per machine (flock), nothing is done
# when any of them already exists, and everything made is removed on exit,
# also on failure.  After the guide's own removal (§3) nothing of sac may be
# left on the machine.
source "$(dirname "$0")/../lib.sh"

GUIDE="$T_REPO/docs/deploy.md"
DEB_DIR="$T_REPO/build/deb"
CLUSTER=sacdeploy
PACKAGES=(sac-controller sac-reader sac-purge sacctl sac-web)
SYS_USERS=(sac-controller sac-reader sac-purge sac-audit)
PEOPLE=(alice bruno chen dana)
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin
D_OWNED=0
D_PIDS=()
SPOOL_BYTES=
LAST_OUT=

if [ "$(id -u)" -ne 0 ]; then
    not_ok "deploy_deb needs root (it installs packages)"
    done_testing
fi

# --- one run per machine; refuse to touch anything that was there before ----

mkdir -p /run/lock
exec 9>/run/lock/sac-deploy-deb.lock
if ! flock -w 480 9; then
    not_ok "another deploy test held /run/lock/sac-deploy-deb.lock for 8 minutes"
    done_testing
fi

installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^[ihr][iFHUWtc]'; }
leftovers() {
    local p u
    for p in "${PACKAGES[@]}"; do installed "$p" && echo "package $p"; done
    for u in "${SYS_USERS[@]}"; do getent passwd "$u" >/dev/null && echo "user $u"; getent group "$u" >/dev/null && echo "group $u"; done
    for p in /etc/sac /var/lib/sac /var/lib/sacctl /usr/share/sac-reader /usr/share/sac-purge /usr/share/sacctl \
             /etc/systemd/journald@sac.conf; do
        [ -e "$p" ] && echo "$p"
    done
    find /usr/bin /usr/sbin /lib/systemd/system /usr/lib/systemd/system /usr/lib/sysusers.d /usr/lib/tmpfiles.d \
        /etc/systemd/system /usr/share/man -name 'sac-*' -o -name 'sacctl*' 2>/dev/null | grep -v '^/usr/local'
}
before=$(leftovers)
for p in "${PEOPLE[@]}"; do getent passwd "$p" >/dev/null && before+=$'\n'"user $p"; done
[ -e /root/sac-pki ] && before+=$'\n/root/sac-pki'
[ -e "/etc/postgresql/15/$CLUSTER" ] && before+=$'\n'"cluster 15/$CLUSTER"
(exec 3<>/dev/tcp/127.0.0.1/7443) 2>/dev/null && before+=$'\nsomething listens on 127.0.0.1:7443'
if [ -n "${before//$'\n'/}" ]; then
    not_ok "this machine already has parts of a station; not touching them:$(printf '%s' "$before" | tr '\n' ' ')"
    done_testing
fi
D_OWNED=1

d_stop_daemons() {
    local pid
    for pid in "${D_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${D_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    D_PIDS=()
}
d_cleanup() {
    local p
    [ "$D_OWNED" = 1 ] || return 0
    d_stop_daemons
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W "$p" >/dev/null 2>&1 && APT_CONFIG="$T_DIR/apt.conf" apt-get -qq purge "$p" >/dev/null 2>&1
    done
    # Processes of the station's users that outlived their parent (by pid).
    for p in "${SYS_USERS[@]}" "${PEOPLE[@]}"; do
        getent passwd "$p" >/dev/null && ps -o pid= -u "$p" | xargs -r kill -KILL 2>/dev/null
    done
    pg_dropcluster --stop 15 "$CLUSTER" >/dev/null 2>&1
    # The guide's link in conf.d is the operator's: pg_dropcluster leaves it.
    rm -rf "/etc/postgresql/15/$CLUSTER"
    for p in "${PEOPLE[@]}"; do
        getent passwd "$p" >/dev/null && userdel -r "$p" >/dev/null 2>&1
    done
    for p in "${SYS_USERS[@]}"; do
        getent passwd "$p" >/dev/null && userdel "$p" >/dev/null 2>&1
        getent group "$p" >/dev/null && groupdel "$p" >/dev/null 2>&1
    done
    rm -rf /root/sac-pki /etc/sac /var/lib/sac /var/lib/sacctl /etc/systemd/journald@sac.conf
}
trap 'd_cleanup; t_cleanup' EXIT

cat >"$T_DIR/apt.conf" <<'EOF'
DPkg::Lock::Timeout "600";
APT::Get::Assume-Yes "true";
quiet "1";
EOF

# --- the packages and the stand-ins --------------------------------------------

# Built once with normal flags; `make deb` rebuilds only after a change.
check "make deb: packages built, lintian clean" \
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$T_REPO" deb
for p in sac-controller sac-reader sac-purge sacctl; do
    check "build/deb has $p" compgen -G "$DEB_DIR/${p}_*.deb"
done

PORT=$(free_port)
check "a PostgreSQL cluster of the test's own (15/$CLUSTER)" \
    pg_createcluster 15 "$CLUSTER" -p "$PORT" --start
check "pn532-sim for hq-gate-1-in" sim_start hq-gate-1-in

# unit_file UNIT: the installed unit file (template for an instance).
unit_file() {
    case $1 in
    *@*.service) echo "/lib/systemd/system/${1%%@*}@.service" ;;
    *) echo "/lib/systemd/system/$1" ;;
    esac
}
# unit_values FILE KEY INSTANCE: every value of KEY=, %i replaced.
unit_values() { sed -n "s/^$2=//p" "$1" | sed "s/%i/$3/g"; }
# unit_run FILE INSTANCE COMMANDLINE [&]: as the unit's user, groups and
# environment; with "&" in the background, its pid added to D_PIDS.  The
# command line is split as systemd does for these units (quotes group words).
unit_run() {
    local f=$1 inst=$2 cmd=$3 bg=${4:-} user group env args=()
    user=$(unit_values "$f" User "$inst"); group=$(unit_values "$f" Group "$inst")
    env=$(unit_values "$f" Environment "$inst" | tr '\n' ' ')
    eval "args=($cmd)"
    # shellcheck disable=SC2086  # the unit's Environment= words
    # SAC_DEBUG=1: the tap below follows the reader's per-event lines, which
    # are debug lines (they are access data).
    set -- setpriv --reuid="${user:-root}" --regid="${group:-${user:-root}}" --init-groups \
        env -i PATH=$SYS_PATH PGPORT="$PORT" SAC_DEBUG=1 $env "${args[@]}"
    if [ "$bg" = "&" ]; then
        "$@" 2>>"$T_DIR/$D_LOG.log" &
        D_PIDS+=($!)
    else
        "$@"
    fi
}
# unit_start UNIT: what `systemctl start UNIT` would run.
unit_start() {
    local unit=$1 f inst="" name line
    if [[ $unit == *.timer ]]; then
        f=$(unit_file "${unit%.timer}.service")
        check "$unit: its service runs (${unit%.timer}.service)" \
            unit_run "$f" "" "$(unit_values "$f" ExecStart "")"
        return
    fi
    [[ $unit == *.service ]] || unit=$unit.service
    f=$(unit_file "$unit")
    [[ $unit == *@*.service ]] && { inst=${unit#*@}; inst=${inst%.service}; }
    name=${inst:-${unit%.service}}
    while IFS= read -r line; do
        check "$unit: ExecStartPre ($line)" unit_run "$f" "$inst" "$line"
    done < <(unit_values "$f" ExecStartPre "$inst")
    D_LOG=$name
    unit_run "$f" "$inst" "$(unit_values "$f" ExecStart "$inst")" "&"
    sleep 0.5
    check "$unit: running" kill -0 "${D_PIDS[-1]}"
}

# --- the guide -----------------------------------------------------------------

# The commands of §1–§3 as records USER \t COMMAND \t EXPECTED-FIRST-WORD \0.
python3 - "$GUIDE" >"$T_DIR/commands" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"^## 1\. .*?(?=^## 4\. )", text, re.S | re.M)
prompt = re.compile(r"^([a-z][a-z0-9_-]*)([#$]) (.*)$")
cmds = []
for block in re.findall(r"^```\n(.*?)^```", m.group(0) if m else "", re.S | re.M):
    lines = block.split("\n")
    i = 0
    while i < len(lines):
        p = prompt.match(lines[i])
        if not p:
            if cmds and lines[i].strip() and cmds[-1][2] is None:
                cmds[-1][2] = lines[i].split()[0]
            i += 1
            continue
        cmd = p.group(3)
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd += "\n" + lines[i]
        here = re.search(r"<<-?'?(\w+)'?", cmd)
        if here:
            while i + 1 < len(lines):
                i += 1
                cmd += "\n" + lines[i]
                if lines[i] == here.group(1):
                    break
        cmds.append([p.group(1), cmd, None])
        i += 1
for user, cmd, first in cmds:
    sys.stdout.write("%s\t%s\t%s\0" % (user, cmd, first or ""))
PY
n_commands=$(tr -cd '\0' <"$T_DIR/commands" | wc -c)
n_operator=$(python3 -c '
import sys
recs = open(sys.argv[1]).read().split("\0")[:-1]
import re
text = open(sys.argv[2]).read()
one = re.search(r"^## 1\. .*?(?=^## 2\. )", text, re.S | re.M).group(0)
print(sum(1 for r in recs if r.split("\t")[0] in ("root", "postgres") and r.split("\t")[1] in one))
' "$T_DIR/commands" "$GUIDE")
check "the guide's one-machine path has commands (§1–§3: $n_commands)" test "$n_commands" -ge 20
check "§1 needs at most 15 commands as root or postgres ($n_operator)" test "$n_operator" -le 15
check_match "§1 says how many" "$(grep '^## 1\. ' "$GUIDE")" "\\($n_operator commands\\)"

# as USER COMMAND: runs one command of the guide as USER, in USER's home (root:
# in build/deb, where the guide's .deb files are), with a clean environment.
as() {
    local user=$1 cmd=$2 home
    home=$(getent passwd "$user" | cut -d: -f6)
    if [ "$user" = root ]; then
        (cd "$DEB_DIR" && env -i PATH=$SYS_PATH HOME=/root PGPORT="$PORT" APT_CONFIG="$T_DIR/apt.conf" \
            DEBIAN_FRONTEND=noninteractive bash -c "$cmd")
    else
        runuser -u "$user" -- env -i PATH=$SYS_PATH HOME="$home" USER="$user" LOGNAME="$user" \
            PGPORT="$PORT" bash -c "cd && $cmd"
    fi
}

# The stand-ins for what a real station has.
translate() {
    local cmd=$1
    cmd=${cmd//\/etc\/postgresql\/15\/main\//\/etc\/postgresql\/15\/$CLUSTER\/}
    cmd=${cmd//systemctl restart postgresql/pg_ctlcluster 15 $CLUSTER restart}
    printf '%s' "$cmd"
}

run_guide_command() {
    local user=$1 cmd=$2 first=$3 unit out rc
    if [[ $user == root && $cmd == "systemctl enable --now "* ]]; then
        for unit in ${cmd#systemctl enable --now }; do unit_start "$unit"; done
        wait_for 20 grep -q 'ready' "$T_DIR/sac-controller.log"
        return
    fi
    if [[ $user == root && $cmd == "systemctl disable --now "* ]]; then
        d_stop_daemons
        # After the stop: a reader compacts its spool as it exits.
        SPOOL_BYTES=$(stat -c %s /var/lib/sac/reader/hq-gate-1-in.spool 2>/dev/null)
        ok "$cmd (daemons stopped)"
        return
    fi
    out=$(as "$user" "$(translate "$cmd")" 2>"$T_DIR/cmd.err"); rc=$?
    printf '%s\n' "$out" >>"$T_DIR/guide.out"
    if [ "$rc" -ne 0 ]; then
        not_ok "$user\$ $cmd (exit $rc)"
        sed 's/^/#   /' "$T_DIR/cmd.err" | tail -n 20
        printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 10
        return
    fi
    if [ -n "$first" ] && [ "$(printf '%s' "$out" | awk 'NR == 1 { print $1 }')" != "$first" ]; then
        not_ok "$user\$ $cmd (prints '$(printf '%s' "$out" | head -n 1)', the guide shows '$first…')"
        return
    fi
    ok "$user\$ ${cmd%%$'\n'*}"
    LAST_OUT=$out
    # After the step that writes a reader's configuration: the emulator is its PN532.
    if [[ $cmd =~ \>/etc/sac/reader-([A-Za-z0-9._-]+)\.conf ]] && [ "${BASH_REMATCH[1]}" = hq-gate-1-in ]; then
        chgrp dialout "$(sim_pty hq-gate-1-in)" && chmod 0660 "$(sim_pty hq-gate-1-in)"
        sed -i "s|^device *=.*|device         = pn532_uart:$(sim_pty hq-gate-1-in)|" /etc/sac/reader-hq-gate-1-in.conf
    fi
    after_command "$user" "$cmd"
}

# What the test checks between the guide's steps.
after_command() {
    local user=$1 cmd=$2 u
    case $cmd in
    "apt install "*)
        for u in sac-controller.service sac-purge.service sac-reader@.service sac-audit-verify.timer \
                 sac-wal-switch.timer; do
            check_eq "$u installed disabled" "$(systemctl is-enabled "$u" 2>&1)" disabled
        done
        check_eq "/etc/sac holds conffiles" \
            "$(dpkg-query -W -f='${Conffiles}\n' sac-controller sac-purge sacctl | awk 'NF { print $1 }' | tr '\n' ' ')" \
            "/etc/sac/sac-controller.conf /etc/sac/sac-purge.conf /etc/sac/pg_service.conf "
        check_eq "system users created" "$(for u in "${SYS_USERS[@]}"; do getent passwd "$u" | cut -d: -f1; done | tr '\n' ' ')" \
            "${SYS_USERS[*]} "
        check_match "sac-reader is in dialout" "$(id -nG sac-reader)" '\bdialout\b'
        check_eq "/var/lib/sac/reader exists before any unit ran" \
            "$(stat -c '%U %a' /var/lib/sac/reader 2>&1)" "sac-reader 700"
        check_eq "/var/lib/sac/controller too" "$(stat -c '%U %a' /var/lib/sac/controller 2>&1)" "sac-controller 700"
        check "sacctl needs no SQL file: none installed" test -z "$(dpkg -L sacctl | grep '\.sql$')"
        check_match "the installation says that sacctl db migrate is due" "$LAST_OUT" \
            'runuser -u postgres -- sacctl db migrate'
        for u in /lib/systemd/system/sac-*.service /lib/systemd/system/sac-*@.service; do
            [ -f "$u" ] || continue
            line=$(systemd-analyze security --offline=true "$u" 2>&1 | grep 'Overall exposure level')
            check_match "$(basename "$u"): exposure OK or better ($(printf '%s' "$line" | awk '{ print $(NF-2) }'))" \
                "$line" ' (OK|SAFE|PERFECT) '
        done
        ;;
    *"restart postgresql"*)
        check_eq "the server log is kept 24 hours (one file per hour, overwritten)" \
            "$(runuser -u postgres -- psql -p "$PORT" -XAtc "SELECT string_agg(current_setting(n), ' ') FROM unnest(
                '{logging_collector,log_filename,log_truncate_on_rotation,log_rotation_age,wal_recycle}'::text[]) n")" \
            "on postgresql-%H.log on 1h off"
        ;;
    "apt purge "*)
        if [ -n "$SPOOL_BYTES" ] && [ "$SPOOL_BYTES" -gt 0 ]; then
            check_match "purge says the spool it deletes may hold unsent events" "$LAST_OUT $(cat "$T_DIR/cmd.err")" \
                'reader/hq-gate-1-in.spool: it may hold events'
        fi
        ;;
    *"badge enroll"*)
        # Ana taps her badge at hq-gate-1-in.
        if wait_for 60 grep -q 'device .*: open' "$T_DIR/hq-gate-1-in.log"; then
            ok "the reader has its PN532 open"
        else
            not_ok "the reader has its PN532 open"
            { ls -l "$(sim_pty hq-gate-1-in)"; id sac-reader; tail -n 15 "$T_DIR/hq-gate-1-in.log"
              tail -n 5 "$T_DIR/hq-gate-1-in.sim.log"; } 2>&1 | sed 's/^/#   /'
        fi
        check "…and is connected to the controller" \
            wait_for 60 grep -q 'connected to controller' "$T_DIR/hq-gate-1-in.log"
        check "the badge is tapped at hq-gate-1-in" tap hq-gate-1-in 04A1B2C3D4E5F6
        check "…and the controller grants it" wait_for 30 grep -q 'GRANT' "$T_DIR/hq-gate-1-in.log"
        ;;
    *"headcount --site hq"*)
        check_match "the drill's headcount counts Ana" "$LAST_OUT" 'Ana Lima'
        ;;
    "sacctl audit verify"*)
        check_match "audit verify: compliant" "$LAST_OUT" '[Cc]ompliant'
        check "the audit timer's service: compliant now" unit_run /lib/systemd/system/sac-audit-verify.service "" \
            "$(unit_values /lib/systemd/system/sac-audit-verify.service ExecStart "")"
        check_eq "the controller logged no error" "$(grep -c '^<[0-3]>' "$T_DIR/sac-controller.log")" 0
        check_eq "the reader logged no error" "$(grep -c '^<[0-3]>' "$T_DIR/hq-gate-1-in.log")" 0
        ;;
    esac
}

while IFS=$'\t' read -r -d '' user cmd first; do
    run_guide_command "$user" "$cmd" "$first"
done <"$T_DIR/commands"

# --- nothing left behind -------------------------------------------------------

check_eq "after the guide's removal, nothing of sac is left" "$(leftovers | tr '\n' ' ')" ""
D_PIDS=()
done_testing
