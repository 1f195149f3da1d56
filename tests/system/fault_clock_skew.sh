#!/usr/bin/env bash
# Reader and controller clocks disagree (libfaketime on the reader): a
# reader 10 minutes ahead has its events clamped to the controller's clock
# (SPEC §3: a time in the future beyond a small skew is clamped); a reader
# 10 minutes behind has its own times stored as they are; a reader 25 hours
# behind gets EXPIRED and nothing stored.  Each reader warns about the skew.
# Every event is accounted for by id.
source "$(dirname "$0")/../lib.sh"
FT=$(ls /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 2>/dev/null)
if [ -z "$FT" ]; then echo "# libfaketime not installed (tools/ensure-deps installs faketime)"; not_ok "libfaketime"; done_testing; fi

fault_setup ahead behind ancient || exit 1
# The readers check the controller's certificate against their own clocks:
# a controller CA and certificate valid from 26 h ago for 3 days (made under
# libfaketime), so that a reader 25 h behind can still connect and be told
# EXPIRED.  (With certificates issued "now", a reader whose clock is behind
# refuses the controller: "certificate is not yet valid", events spooled.)
d="$T_DIR/pki"
LD_PRELOAD="$FT" FAKETIME="-26h" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 3 -subj "/CN=sac test controller CA" -keyout "$d/controller-ca.key" -out "$d/controller-ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$d/controller.key" -out "$d/controller.csr" 2>/dev/null
LD_PRELOAD="$FT" FAKETIME="-26h" openssl x509 -req -in "$d/controller.csr" -CA "$d/controller-ca.crt" \
    -CAkey "$d/controller-ca.key" -CAcreateserial -days 3 -out "$d/controller.crt" \
    -extfile <(echo "subjectAltName=DNS:localhost,IP:127.0.0.1") 2>/dev/null
check "a controller certificate valid since 26 h ago" bash -c \
    "openssl x509 -in '$d/controller.crt' -noout -checkend 86400 && LD_PRELOAD='$FT' FAKETIME='-25h' openssl verify -CAfile '$d/controller-ca.crt' '$d/controller.crt'"
port=$(free_port)
controller_start ctl-1 "$port" || exit 1
# skewed NAME OFFSET: the reader with its clock moved by OFFSET (libfaketime)
skewed() {
    sim_start "$1" || return 1
    reader_conf "$1" "127.0.0.1:$port"
    # ASan must come first among the libraries; libfaketime preloads before it.
    LD_PRELOAD="$FT" FAKETIME="$2" FAKETIME_DONT_FAKE_MONOTONIC=1 \
        ASAN_OPTIONS="${ASAN_OPTIONS}:verify_asan_link_order=0" reader_start "$1"
}
skewed ahead "+10m"; skewed behind "-10m"; skewed ancient "-25h"
for r in ahead behind ancient; do
    check "$r: connected" wait_for 30 grep -q 'connected to controller' "$T_DIR/$r.log"
    check "$r: warns about the clock" grep -q 'clock: the controller.s time differs' "$T_DIR/$r.log"
    tap "$r" "$F_UID_A"; tap "$r" "$F_UID_X"
done
account ahead behind
check "ancient: both taps answered EXPIRED" wait_for 30 bash -c \
    "[ \$(grep -c ': EXPIRED' '$T_DIR/ancient.log') = 2 ]"
check_eq "ancient: nothing stored" "$(ledger_reader_count ancient)" 0
check_eq "ahead: every event clamped to the controller's arrival time" \
    "$(sql -c "SELECT count(*) FROM access.events WHERE reader_id = 'ahead' AND occurred_at <= received_at + interval '5 s' AND occurred_at > received_at - interval '1 minute'")" 2
check_eq "behind: the reader's own times, about 10 minutes before arrival" \
    "$(sql -c "SELECT count(*) FROM access.events WHERE reader_id = 'behind' AND received_at - occurred_at BETWEEN interval '9 minutes' AND interval '11 minutes'")" 2
done_testing
