#!/usr/bin/env bash
# No core dump of a sac program holds a credential or a key: with core dumps
# allowed by the shell (ulimit -c unlimited), every daemon runs with a core
# limit of 0 and non-dumpable, sacctl too; a daemon killed by SIGSEGV or
# SIGABRT right after handling an event leaves no core file.  The reader
# keeps its credential key in locked memory.
source "$(dirname "$0")/../lib.sh"

# Each daemon runs in a directory of its own, where the kernel would write
# its core ("core" in the working directory, the usual core_pattern).
cores="$T_DIR/cores"
mkdir -p "$cores"/{controller,reader,purge}
if ! { ulimit -H -c unlimited && ulimit -c unlimited; } 2>"$T_DIR/ulimit.out"; then
    not_ok "core dumps can be allowed for the test (ulimit -c unlimited, as root)"
    done_testing
fi
pattern=$(cat /proc/sys/kernel/core_pattern)
# The sanitizers must not stand between the signal and the kernel's dump.
export ASAN_OPTIONS="${ASAN_OPTIONS}:disable_coredump=0:handle_segv=0:handle_abort=0:detect_leaks=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS}:handle_segv=0:handle_abort=0"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
enroll_setup hq gate-1 || exit 1
uid=04$(openssl rand -hex 6)
enroll "Ada Lovelace" "$uid" >/dev/null
cred=$(credential_of "$uid")
port=$(free_port)
cd "$cores/controller" && controller_start ctl-1 "$port" || exit 1
sim_start gate-1
reader_conf gate-1 "127.0.0.1:$port"
cd "$cores/reader" && reader_start gate-1
tap gate-1 "$uid"
check "the event is stored" wait_for 20 ledger_is 1
# (after the event: a purge pass may remove it from the ledger at once)
make_login purger sac_purge
printf '[purge]\ndatabase = %s\n' "$(conninfo purger)" >"$T_DIR/purge.conf"
cd "$cores/purge" && spawn sac-purge -c "$T_DIR/purge.conf" 2>>"$T_DIR/purge.log"
purge_pid=$T_LAST_PID
cd "$T_DIR" || exit 1
check "sac-purge runs a pass" wait_for 30 grep -q 'purge pass' "$T_DIR/purge.log"

# core_limit PID: "soft hard" core limits of a running process.
core_limit() { awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits"; }
check_eq "the shell allows core dumps" "$(ulimit -c) $(ulimit -H -c)" "unlimited unlimited"
for d in "controller $(controller_pid ctl-1)" "reader $(reader_pid gate-1)" "purge $purge_pid"; do
    set -- $d
    check_eq "sac-$1 runs with a core limit of 0" "$(core_limit "$2")" "0 0"
done
check_match "the reader holds its key in locked memory" \
    "$(grep VmLck "/proc/$(reader_pid gate-1)/status")" 'VmLck:[[:space:]]+[1-9][0-9]* kB'

# sacctl: held up by a lock so that its limits can be read while it runs.
sites_locks() { sql -c "SELECT count(*) FROM pg_locks WHERE relation = 'sac.sites'::regclass AND granted = $1"; }
sites_locked() { [ "$(sites_locks "$1")" -ge 1 ]; }
sql -c "BEGIN; LOCK TABLE sac.sites; SELECT pg_sleep(60); COMMIT" >/dev/null 2>&1 &
locker=$!
wait_for 20 sites_locked true
sacctl site add elsewhere >/dev/null 2>&1 &
ctl=$!
check "sacctl is waiting for the lock (past its start-up)" wait_for 20 sites_locked false
check_eq "sacctl runs with a core limit of 0" "$(core_limit "$ctl" 2>/dev/null)" "0 0"
sql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$ctl" "$locker" 2>/dev/null

kill -SEGV "$(controller_pid ctl-1)"; wait "$(controller_pid ctl-1)"; rc_c=$?
kill -ABRT "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"; rc_r=$?
kill -SEGV "$purge_pid"; wait "$purge_pid"; rc_p=$?
check_eq "the daemons died of their signals (SIGSEGV, SIGABRT, SIGSEGV)" "$rc_c $rc_r $rc_p" "139 134 139"
sync
found=$(find "$cores" -name 'core*' -type f | sort | tr '\n' ' ')
if [ "${pattern:0:1}" = "|" ]; then
    echo "# core_pattern hands cores to '$pattern'; only the limits above show there is none"
fi
check_eq "no core file was written" "$found" ""
for f in $found; do
    check "no credential in $f" bash -c "! od -An -v -tx1 '$f' | tr -d ' \n' | grep -qF '$cred'"
done
done_testing
