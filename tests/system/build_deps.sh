#!/usr/bin/env bash
# The build tracks headers for every binary: `make -n -W HEADER` (as if the
# header had changed, without touching it) relinks every program, unit test,
# fuzz target and benchmark that includes it, through the per-program
# archives, and recompiles none of the objects that do not include it.
source "$(dirname "$0")/../lib.sh"

b=${T_BIN%/bin}
b=${b#"$T_REPO"/}
check "the build directory is inside the tree ($b)" test -d "$T_REPO/$b/obj"
would_build() { make -C "$T_REPO" -n -W "$1" B="$b" all unit-tests 2>&1 | grep -oE -- "-o $b/[^ ]+" | sed "s|-o $b/||"; }

out=$(would_build reader/spool.h)
for bin in bin/sac-reader tests/test_spool tests/test_watch fuzz/fuzz_spool bench/reader; do
    check_match "reader/spool.h: $bin is rebuilt" "$out" "^$bin\$"
done
check_match "reader/spool.h: reader/spool.o is recompiled" "$out" '^obj/reader/spool\.o$'
check_no_match "reader/spool.h: no controller object is recompiled" "$out" '^obj/controller/'

out=$(would_build ctl/output.h)
for bin in bin/sacctl tests/test_ctl_output fuzz/fuzz_sacctl_input; do
    check_match "ctl/output.h: $bin is rebuilt" "$out" "^$bin\$"
done
check_match "ctl/output.h: the unit test's own object is recompiled" "$out" '^obj/tests/unit/test_ctl_output\.o$'

out=$(would_build controller/admission.h)
for bin in bin/sac-controller tests/test_admission; do
    check_match "controller/admission.h: $bin is rebuilt" "$out" "^$bin\$"
done

out=$(would_build common/proto.h)
for bin in bin/sac-controller bin/sac-reader tests/test_proto fuzz/fuzz_proto bench/ingest; do
    check_match "common/proto.h: $bin is rebuilt" "$out" "^$bin\$"
done
check_match "common/proto.h: common/proto.o is recompiled" "$out" '^obj/common/proto\.o$'
done_testing
