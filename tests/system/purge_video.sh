#!/usr/bin/env bash
# sac-purge and the video store: files older than video_max_age are
# deleted (nested, oddly named ones too), newer ones stay, a symbolic link is
# judged by its own time and removing it leaves its target (an old file
# outside video_dir) alone; the pass's audit record counts files and bytes.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
v="$T_DIR/video" o="$T_DIR/outside"
mkdir -p "$v/cam1/2026/11" "$v/cam2" "$o"
age() { touch -h -d "@$(( $(date +%s) - $1 * 86400 ))" "$2"; }
mk() { head -c "$1" /dev/zero >"$3"; age "$2" "$3"; }
mk 1000 31 "$v/old.mp4"
mk 2000 2  "$v/new.mp4"
mk 300  45 "$v/cam1/2026/11/deep-old.mp4"
mk 300  29 "$v/cam1/2026/11/deep-new.mp4"
odd=$(printf 'cam2/line\nbreak-\377\376.mp4')
mk 77 40 "$v/$odd"
mk 10 90 "$o/victim.mp4"
ln -s ../outside/victim.mp4 "$v/fresh-link";   age 1 "$v/fresh-link"
ln -s ../outside/victim.mp4 "$v/stale-link";   age 31 "$v/stale-link"
ln -s ../outside "$v/cam2/stale-dir-link";     age 31 "$v/cam2/stale-dir-link"

printf '[purge]\ndatabase = %s\nvideo_dir = %s\nvideo_max_age = 30d\n' "$(conninfo purger)" "$v" \
    >"$T_DIR/purge.conf"
check_exit "--check-config accepts the video store" 0 sac-purge -c "$T_DIR/purge.conf" --check-config
check_exit "one pass" 0 sac-purge -c "$T_DIR/purge.conf" --once

check "an old file is deleted" test ! -e "$v/old.mp4"
check "a new file stays" test -f "$v/new.mp4"
check "an old nested file is deleted" test ! -e "$v/cam1/2026/11/deep-old.mp4"
check "a new nested file stays" test -f "$v/cam1/2026/11/deep-new.mp4"
check "an old file named with a newline and non-UTF-8 bytes is deleted" test ! -e "$v/$odd"
check "a fresh link to an old file outside stays (judged by its own time)" test -L "$v/fresh-link"
check "a stale link is removed" test ! -L "$v/stale-link"
check "a stale link to a directory outside is removed" test ! -L "$v/cam2/stale-dir-link"
check "the old file outside video_dir survives" test -f "$o/victim.mp4"
check "directories stay" test -d "$v/cam1/2026/11"

rec=$(sql -c "SELECT detail FROM audit.log WHERE action = 'purge_pass' ORDER BY id DESC LIMIT 1")
check_match "the audit record counts the files removed" "$rec" '"files_removed": 5'
check_match "and their bytes" "$rec" '"bytes_removed": 1[0-9]{3}'
check_match "and no failures" "$rec" '"failures": 0'
check_match "and the video cut-off" "$rec" '"video": \{[^}]*"cutoff": "[0-9-]{10}T'
check_no_match "never a file name" "$rec" 'mp4|cam1|outside'

check_exit "a second pass removes nothing more" 0 sac-purge -c "$T_DIR/purge.conf" --once
check_match "and says so" "$(sql -c "SELECT detail FROM audit.log ORDER BY id DESC LIMIT 1")" '"files_removed": 0'

# A shorter limit is honoured.
printf '[purge]\ndatabase = %s\nvideo_dir = %s\nvideo_max_age = 1d\n' "$(conninfo purger)" "$v" \
    >"$T_DIR/short.conf"
check_exit "a pass with video_max_age = 1d" 0 sac-purge -c "$T_DIR/short.conf" --once
check "removes the 2-day-old file" test ! -e "$v/new.mp4"

# The video directory vanishing under a running daemon is reported, and the
# database passes still run.
sql -c "SELECT FROM sac.retention_set(NULL, interval '10 seconds')" >/dev/null
printf '[purge]\ndatabase = %s\nvideo_dir = %s\n' "$(conninfo purger)" "$v" >"$T_DIR/loop.conf"
spawn sac-purge -c "$T_DIR/loop.conf" 2>"$T_DIR/loop.log"
looping() { [ "$(sql -c "SELECT count(*) FROM audit.purge_runs WHERE ok AND purge_interval = '10 seconds'")" -ge 1 ]; }
check "the daemon runs with the video store" wait_for 10 looping
mv "$v" "$T_DIR/video.moved"
unreadable_pass() {
    [ "$(sql -c "SELECT count(*) FROM audit.log WHERE action = 'purge_pass' AND outcome = 'allowed'
                 AND detail LIKE '%\"dir_readable\": false%'")" -ge 1 ]
}
check "a vanished video_dir is recorded in the pass, which still runs" wait_for 30 unreadable_pass
check "and logged" grep -q "video store $v" "$T_DIR/loop.log"

done_testing
