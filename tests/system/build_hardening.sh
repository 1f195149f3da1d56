#!/usr/bin/env bash
# The programs are built hardened (Makefile HARDEN_CFLAGS/HARDEN_LDFLAGS):
# position-independent, relocations read-only and bound at start (full
# RELRO), stack protector and fortified libc calls compiled in.  Read from
# the ELF headers with readelf, for every program the build installs or runs.
source "$(dirname "$0")/../lib.sh"

for prog in sac-reader sac-controller sac-purge sacctl pn532-sim; do
    bin="$T_BIN/$prog"
    check "$prog: built" test -x "$bin"
    check_match "$prog: position-independent executable" "$(readelf -hW "$bin")" \
        'Type: +DYN \(Position-Independent Executable'
    check_match "$prog: GNU_RELRO segment" "$(readelf -lW "$bin")" 'GNU_RELRO'
    dyn=$(readelf -dW "$bin")
    check_match "$prog: relocations bound at start (BIND_NOW)" "$dyn" 'BIND_NOW|Flags: .*NOW'
    syms=$(readelf --dyn-syms -W "$bin")
    check_match "$prog: stack protector" "$syms" '__stack_chk_fail'
    check_match "$prog: fortified libc calls" "$syms" '__[a-z]+_chk'
done
done_testing
