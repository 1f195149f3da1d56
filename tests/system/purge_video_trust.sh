#!/usr/bin/env bash
# Video files whose age cannot be trusted, and names that change under the
# purge: a file with a modification time in the future is neither removed
# nor taken as new; it is counted in the pass's audit record and is a
# violation for `sacctl audit verify --video-dir`.  Only the file whose age
# was judged is ever removed: a fresh file renamed over an expired one's
# name just before the removal (the racing renamer, tests/tools/rename_race.c)
# survives.
source "$(dirname "$0")/../lib.sh"

pg_start || exit 1
make_login purger sac_purge
make_login auditor sac_auditor
v="$T_DIR/video"
mkdir -p "$v/cam1"
age() { touch -h -d "@$(( $(date +%s) - $1 * 86400 ))" "$2"; }
echo old >"$v/cam1/old.mp4"; age 40 "$v/cam1/old.mp4"
echo new >"$v/cam1/new.mp4"; age 1 "$v/cam1/new.mp4"
echo liar >"$v/cam1/liar.mp4"; touch -d 2030-01-01 "$v/cam1/liar.mp4"
echo skew >"$v/cam1/skew.mp4"; touch -d "@$(( $(date +%s) + 60 ))" "$v/cam1/skew.mp4"
printf '[purge]\ndatabase = %s\nvideo_dir = %s\n' "$(conninfo purger)" "$v" >"$T_DIR/purge.conf"

verify() { sacctl_as auditor --format json audit verify --video-dir "$v"; }
out=$(verify); rc=$?
check_eq "audit verify: a file from 2030 makes the store not compliant" "$rc" 1
check_match "... as a video_future_mtime violation" "$out" '"rule": "video_future_mtime"'
check_match "... counted" "$out" '"video_files_in_future": 1'

pass() { sac-purge -c "$T_DIR/purge.conf" --once 2>>"$T_DIR/purge.log"; }
check_exit "a purge pass" 0 pass
check "the expired file is removed" test ! -e "$v/cam1/old.mp4"
check "the file from 2030 is not removed (its age is unknown)" test -f "$v/cam1/liar.mp4"
check "a minute ahead is clock skew: kept as new" test -f "$v/cam1/skew.mp4"
rec=$(sql -c "SELECT detail FROM audit.log WHERE action = 'purge_pass' ORDER BY id DESC LIMIT 1")
check_match "the pass record counts the file in the future" "$rec" '"files_future": 1'
check_match "... and the one removed" "$rec" '"files_removed": 1'
check "the purge log says so" grep -q "modification time in the future" "$T_DIR/purge.log"
rm "$v/cam1/liar.mp4"
check_exit "without it, audit verify is compliant again" 0 verify

# --- the racing renamer ------------------------------------------------------
shim="$T_DIR/rename_race.so"
check "the racing renamer builds" cc -shared -fPIC -o "$shim" "$T_REPO/tests/tools/rename_race.c" -ldl
echo expired >"$v/cam1/clip.mp4"; age 40 "$v/cam1/clip.mp4"
echo "recorded just now" >"$v/cam1/.clip.mp4.part"
ASAN_OPTIONS="${ASAN_OPTIONS}:verify_asan_link_order=0" LD_PRELOAD="$shim" \
    RACE_VICTIM=clip.mp4 RACE_FRESH="$v/cam1/.clip.mp4.part" \
    sac-purge -c "$T_DIR/purge.conf" --once 2>>"$T_DIR/race.log"
check "the renamer ran (the fresh file moved over the expired one's name)" \
    test ! -e "$v/cam1/.clip.mp4.part"
check_eq "the fresh file that took the name survives" "$(cat "$v/cam1/clip.mp4" 2>&1)" "recorded just now"
check_eq "no private name is left behind" "$(find "$v" -name '.sac-purge-*' | wc -l)" 0
rec=$(sql -c "SELECT detail FROM audit.log WHERE action = 'purge_pass' ORDER BY id DESC LIMIT 1")
check_match "the pass record counts it as replaced, not removed" "$rec" '"files_replaced": 1'
check_exit "the next pass judges the fresh file by its own age: kept" 0 \
    sac-purge -c "$T_DIR/purge.conf" --once
check_eq "... still there" "$(cat "$v/cam1/clip.mp4" 2>&1)" "recorded just now"
done_testing
