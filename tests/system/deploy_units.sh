#!/usr/bin/env bash
# make install / make uninstall into a temporary DESTDIR, and what it puts
# there: units that systemd-analyze verifies cleanly and rates "OK" or better
# for exposure, sysusers and tmpfiles snippets systemd accepts, man pages
# that render without a warning, example configurations the daemons accept.
source "$(dirname "$0")/../lib.sh"

dest="$T_DIR/dest"
prefix=/usr/local
build=$(dirname "$T_BIN")
# Install what the tests run (build/san under make check) without rebuilding.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$T_REPO" -o all B="$build" "$@"; }

check "make install into DESTDIR" mk install PREFIX=$prefix DESTDIR="$dest"

# mode_of FILE: octal permission bits, or "missing".
mode_of() { stat -c %a "$1" 2>/dev/null || echo missing; }

for p in sac-reader sac-controller sac-purge sac-web sacctl; do
    check_eq "bin/$p installed 0755" "$(mode_of "$dest$prefix/bin/$p")" 755
done
check_eq "sbin/sac-pki installed 0755" "$(mode_of "$dest$prefix/sbin/sac-pki")" 755
for f in share/sac/sql/001_foundation.sql \
         lib/systemd/system/sac-controller.service lib/systemd/system/sac-reader@.service \
         lib/systemd/system/sac-purge.service lib/sysusers.d/sac.conf lib/tmpfiles.d/sac.conf \
         share/man/man1/sacctl.1 share/man/man8/sac-reader.8 share/man/man8/sac-controller.8 \
         share/man/man8/sac-purge.8; do
    check_eq "$f installed 0644" "$(mode_of "$dest$prefix/$f")" 644
done
for f in controller reader purge; do
    check_eq "/etc/sac/$f.conf.example installed 0644" "$(mode_of "$dest/etc/sac/$f.conf.example")" 644
done
check_eq "every SQL file installed" \
    "$(cd "$T_REPO/sql" && ls ./*.sql | wc -l)" "$(ls "$dest$prefix/share/sac/sql"/*.sql | wc -l)"

units="$dest$prefix/lib/systemd/system"
check_eq "units start the installed programs" \
    "$(grep -h '^ExecStart=' "$units"/*.service | sed 's/ .*//' | sort -u | tr '\n' ' ')" \
    "ExecStart=/usr/bin/journalctl ExecStart=/usr/bin/psql ExecStart=$prefix/bin/sac-controller ExecStart=$prefix/bin/sac-purge ExecStart=$prefix/bin/sac-reader ExecStart=$prefix/bin/sac-web ExecStart=$prefix/bin/sacctl "

# --- units ------------------------------------------------------------------

# A unit's own settings, not inherited: checked in the file so that a
# hardening line that goes missing fails here, whatever the rating says.
for u in sac-controller.service sac-reader@.service sac-purge.service sac-web.service; do
    text=$(cat "$units/$u")
    for want in '^Type=notify$' '^WatchdogSec=[1-9]' '^Restart=on-failure$' \
        '^ExecReload=/bin/kill -HUP \$MAINPID$' '^User=sac-' '^NoNewPrivileges=yes$' \
        '^ProtectSystem=strict$' '^ProtectHome=yes$' '^PrivateTmp=yes$' '^CapabilityBoundingSet=$' \
        '^RestrictAddressFamilies=' '^SystemCallFilter=@system-service$' \
        '^MemoryDenyWriteExecute=yes$' '^ProtectKernelTunables=yes$' '^ProtectKernelModules=yes$' \
        '^ProtectKernelLogs=yes$' '^LockPersonality=yes$' '^RestrictNamespaces=yes$' \
        '^LimitCORE=0$' '^LogNamespace=sac$'; do
        check_match "$u: $want" "$text" "$want"
    done
done
# Logs are access data: their own journald namespace keeps them < 24 h.
jconf="$dest$prefix/lib/systemd/journald@sac.conf.d/sac.conf"
check_eq "journald@sac.conf installed 0644 as the namespace's drop-in" "$(mode_of "$jconf")" 644
check_match "journald@sac.conf: entries deleted after 23 h" "$(cat "$jconf")" '^MaxRetentionSec=23h$'
check_match "journald@sac.conf: files closed every hour" "$(cat "$jconf")" '^MaxFileSec=1h$'
check_match "the vacuum timer runs hourly" "$(cat "$units/sac-journal-vacuum.timer")" '^OnCalendar=hourly$'
check_match "... and vacuums the namespace at 23 h" "$(cat "$units/sac-journal-vacuum.service")" \
    '^ExecStart=/usr/bin/journalctl --namespace=sac --rotate --vacuum-time=23h$'
check_match "controller: PrivateDevices" "$(cat "$units/sac-controller.service")" '^PrivateDevices=yes$'
check_match "purge: PrivateDevices" "$(cat "$units/sac-purge.service")" '^PrivateDevices=yes$'
reader_unit=$(cat "$units/sac-reader@.service")
check_match "reader: its own configuration" "$reader_unit" '-c /etc/sac/reader-%i\.conf$'
check_match "reader: serial devices only" "$reader_unit" '^DevicePolicy=closed$'
check_match "reader: DeviceAllow ttyUSB" "$reader_unit" '^DeviceAllow=char-ttyUSB rw$'
check_match "reader: group dialout" "$reader_unit" '^SupplementaryGroups=dialout$'

if command -v systemd-analyze >/dev/null; then
    # verify needs the ExecStart programs: a copy of the units pointing into
    # DESTDIR, and man pages found through MANPATH (Documentation=man:…).
    vdir="$T_DIR/verify"
    mkdir -p "$vdir"
    for u in "$units"/*.service "$units"/*.timer; do
        sed "s|$prefix/bin/|$dest$prefix/bin/|g" "$u" >"$vdir/$(basename "$u")"
    done
    for u in sac-controller.service sac-purge.service sac-web.service sac-reader@hq-gate-1-in.service \
        sac-audit-verify.service sac-audit-verify.timer sac-wal-switch.service sac-wal-switch.timer \
        sac-journal-vacuum.service sac-journal-vacuum.timer; do
        out=$(cd "$vdir" && MANPATH="$dest$prefix/share/man" systemd-analyze verify "./$u" 2>&1)
        rc=$?
        check_eq "systemd-analyze verify $u: clean" "$rc:$out" "0:"
    done
    # Exposure 0.0 (best) .. 10.0; systemd calls up to 4.9 "OK".
    for u in sac-controller.service sac-purge.service sac-web.service sac-reader@.service \
        sac-audit-verify.service sac-wal-switch.service; do
        line=$(systemd-analyze security --offline=yes "$units/$u" 2>&1 | grep 'Overall exposure level')
        score=$(printf '%s' "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
        check_match "$u exposure rated OK or better ($score)" "$line" ' (OK|SAFE|PERFECT) '
        check "$u exposure ≤ 2.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
    done
else
    echo "# systemd-analyze not installed: unit verification skipped"
fi

if command -v systemd-sysusers >/dev/null; then
    out=$(systemd-sysusers --root="$T_DIR/sysroot" --dry-run "$dest$prefix/lib/sysusers.d/sac.conf" 2>&1)
    for user in sac-controller sac-reader sac-purge sac-web; do
        check_match "sysusers creates $user" "$out" "Creating user '$user'"
    done
    check_no_match "sysusers: no warning" "$out" 'ignoring|[Ff]ailed|[Ii]nvalid'
fi
if command -v systemd-tmpfiles >/dev/null; then
    check "tmpfiles: applies" systemd-tmpfiles --root="$T_DIR/tmproot" --create \
        "$dest$prefix/lib/tmpfiles.d/sac.conf"
    check_eq "tmpfiles: /etc/sac 0755 root" "$(stat -c '%a %U' "$T_DIR/tmproot/etc/sac" 2>&1)" \
        "755 $(id -un)"
fi

# --- man pages --------------------------------------------------------------

for m in "$dest$prefix"/share/man/man1/sacctl.1 "$dest$prefix"/share/man/man8/sac-*.8; do
    name=$(basename "$m")
    check_eq "$name: groff -ww finds nothing" "$(groff -man -ww -z "$m" 2>&1)" ""
    err=$(MANWIDTH=80 man -l -Tutf8 "$m" 2>&1 >/dev/null)
    check_eq "$name: man -l renders without warnings" "$err" ""
    check_match "$name: NAME line for whatis" "$(lexgrog "$m" 2>&1)" ": \"${name%.*} - "
done

# --- example configurations --------------------------------------------------

# With the file names pointed at real test certificates, every example is a
# configuration its daemon accepts.
certs_make
cert_issue reader-ca hq-gate-1-in hq-gate-1-in "extendedKeyUsage=clientAuth"
credential_key_make "$T_DIR/pki/credential.key"
cert_issue controller-ca web localhost
mkdir -p "$T_DIR/spool"
for f in controller reader purge web; do
    sed -e "s|/etc/sac/hq-gate-1-in\.|$T_DIR/pki/hq-gate-1-in.|" \
        -e "s|/etc/sac/|$T_DIR/pki/|" \
        -e "s|/var/lib/sac/reader/|$T_DIR/spool/|" \
        "$dest/etc/sac/$f.conf.example" >"$T_DIR/$f.conf"
done
check_exit "controller accepts its example configuration" 0 \
    "$T_BIN/sac-controller" --check-config -c "$T_DIR/controller.conf"
check_exit "reader accepts its example configuration" 0 \
    "$T_BIN/sac-reader" --check-config -c "$T_DIR/reader.conf"
check_exit "purge accepts its example configuration" 0 \
    "$T_BIN/sac-purge" --check-config -c "$T_DIR/purge.conf"
check_exit "web accepts its example configuration" 0 \
    "$T_BIN/sac-web" --check-config -c "$T_DIR/web.conf"

# --- uninstall --------------------------------------------------------------

check "make uninstall" mk uninstall PREFIX=$prefix DESTDIR="$dest"
check_eq "uninstall leaves nothing but directories" "$(find "$dest" ! -type d)" ""

done_testing
