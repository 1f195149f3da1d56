#!/usr/bin/env bash
# Settled spool records leave nothing in the file system's free blocks.  The
# reader's spool lives on a 16 MiB ext4 image mounted through a loop device;
# after events are acknowledged (or expire) and the spool is compacted, the
# raw image is searched for every credential and event id that passed
# through it: none may be found.  Pending records must still be there (the
# search does find what it looks for).
#
# This needs root and a loop device.  Without them the test fails: the
# guarantee is about blocks on a device, and nothing short of a real file
# system on a block device can show it.
source "$(dirname "$0")/../lib.sh"

img="$T_DIR/state.img" mnt="$T_DIR/state"
mounted=0
trap '[ "$mounted" = 1 ] && umount "$mnt" 2>/dev/null; t_cleanup' EXIT
mount_state() { mount -o loop "$img" "$mnt" && mounted=1; }
umount_state() { umount "$mnt" && mounted=0; }
# image_count HEX...: how many of these byte strings the raw image holds.
image_count() {
    local n=0 x
    od -An -v -tx1 "$img" | tr -d ' \n' >"$T_DIR/image.hex"
    for x in "$@"; do grep -qF "$x" "$T_DIR/image.hex" && n=$((n + 1)); done
    rm -f "$T_DIR/image.hex"
    echo "$n"
}

mkdir -p "$mnt"
truncate -s 16M "$img"
if ! mkfs.ext4 -q -F "$img" >"$T_DIR/mkfs.out" 2>&1 || ! mount_state 2>>"$T_DIR/mkfs.out"; then
    not_ok "a 16 MiB ext4 image mounted through a loop device (needs root and /dev/loop*)"
    sed 's/^/#   /' "$T_DIR/mkfs.out"
    done_testing
fi
ok "a 16 MiB ext4 image mounted through a loop device"

pg_start || exit 1
certs_make
credential_key_make "$T_DIR/credential.key"
enroll_setup hq gate-1 || exit 1
uids=(); creds=()
for i in 1 2 3 4 5; do
    uids+=("04$(openssl rand -hex 6)")
    enroll "Person $i" "${uids[-1]}" >/dev/null
    creds+=("$(credential_of "${uids[-1]}")")
done
port=$(free_port)
sim_start gate-1
reader_conf gate-1 "127.0.0.1:$port"
sed -i "s|^spool .*|spool          = $mnt/gate-1.spool|" "$T_DIR/gate-1.conf"
spool="$mnt/gate-1.spool"
ids() { grep -oE "event [0-9a-f]{32} created" "$T_DIR/gate-1.log" | awk '{print $2}'; }

# --- acknowledged events: compacted to nothing --------------------------------
controller_start ctl-1 "$port" || exit 1
reader_start gate-1
for i in 0 1 2; do tap gate-1 "${uids[$i]}"; done
check "three events acknowledged" wait_for 20 ledger_is 3
check "the spool is compacted to nothing" wait_for 10 bash -c "test ! -s '$spool'"
kill -TERM "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"
umount_state
acked_ids=$(ids)
check_eq "no acknowledged credential is left in the raw image" \
    "$(image_count "${creds[0]}" "${creds[1]}" "${creds[2]}")" 0
# shellcheck disable=SC2086
check_eq "no acknowledged event id is left in the raw image" "$(image_count $acked_ids)" 0

# --- expired events beside pending ones: compaction keeps only the pending ---
mount_state
kill -TERM "$(controller_pid ctl-1)"; wait "$(controller_pid ctl-1)"
reader_start gate-1
tap gate-1 "${uids[3]}"
tap gate-1 "${uids[4]}"
kill -TERM "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"
pending_ids=$(ids | tail -n 2)
old_ids=()
for i in 1 2 3; do
    old_ids+=("$(openssl rand -hex 16)")
    spool_record "${old_ids[-1]}" $(( ($(date +%s) - 25 * 3600) * 1000 )) "${creds[0]}" >>"$spool"
done
sync
reader_start gate-1
check "three expired events are removed unsent" \
    wait_for 20 grep -q "removed 3 spooled events older than 24 h" "$T_DIR/gate-1.log"
check "the spool keeps the two pending events" wait_for 10 bash -c "[ \$(stat -c %s '$spool') = 132 ]"
kill -TERM "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"
umount_state
check_eq "no expired event id is left in the raw image" "$(image_count "${old_ids[@]}")" 0
# shellcheck disable=SC2086
check_eq "the pending events are on the image (the search finds what is there)" \
    "$(image_count $pending_ids "${creds[3]}" "${creds[4]}")" 4

# --- and once they are delivered, nothing at all ------------------------------
mount_state
controller_start ctl-1 "$port" || exit 1
reader_start gate-1
check "the pending events are delivered" wait_for 20 ledger_is 5
check "the spool is compacted to nothing again" wait_for 10 bash -c "test ! -s '$spool'"
kill -TERM "$(reader_pid gate-1)"; wait "$(reader_pid gate-1)"
umount_state
check_eq "no credential at all is left in the raw image" "$(image_count "${creds[@]}")" 0
# shellcheck disable=SC2086
check_eq "no event id at all is left in the raw image" \
    "$(image_count $acked_ids $pending_ids "${old_ids[@]}")" 0
done_testing
