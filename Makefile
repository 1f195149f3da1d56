# sac — build, test, demo, bench, install.
#
# Every program is the set of .c files in its folder, linked with the
# static library built from common/; tests, fuzz targets and benchmarks link
# the same objects through per-program archives.  `make check` builds a second tree
# under build/san with AddressSanitizer and UndefinedBehaviorSanitizer
# and runs the unit and system tests against it.

PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0

CC      ?= cc
PKGS    := libnfc libpq libssl libcrypto inih libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Werror
CFLAGS  ?= -O2 -g
# Hardening: stack protector, fortified libc calls (they need an optimising
# build), position-independent executables, read-only relocations bound at
# start.  tests/system/build_hardening.sh checks the result with readelf.
HARDEN_CFLAGS  := -fstack-protector-strong -fPIE \
                  $(if $(filter -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),-D_FORTIFY_SOURCE=2)
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
# Only the libraries a program calls are loaded when it starts (sacctl, run
# once per command, does not load libsystemd and its dependencies).
LINK_LDFLAGS := -Wl,--as-needed
# -I.: tests, fuzz targets and benchmarks include a program's header by its
# path in the tree ("reader/spool.h"), the name the dependency files record.
ALL_CFLAGS = -std=gnu11 $(CPPFLAGS) $(CFLAGS) $(HARDEN_CFLAGS) $(WARN) -D_GNU_SOURCE \
             -DSAC_VERSION='"$(VERSION)"' \
             -Icommon -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
ALL_LDFLAGS = $(CFLAGS) $(HARDEN_LDFLAGS) $(LINK_LDFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS)
LDLIBS  = $(PKG_LIBS) -lpthread

B ?= build
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# Every object, whatever it belongs to, is compiled by one rule that records
# the headers it includes (-MMD): touching a header rebuilds every object,
# archive and binary that depends on it.
obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

COMMON_SRC := $(wildcard common/*.c)
COMMON_LIB := $(B)/obj/libsaccommon.a

# program name : source folder.  A program is the .c files of its folder:
# the one defining main() plus the others, which also form the program's
# archive $(B)/obj/lib<name>.a.  Unit tests, fuzz targets and benchmarks
# link those archives, so they run exactly the code the programs run.
PROGRAMS := sac-reader:reader sac-controller:controller sac-purge:purge sacctl:ctl \
            sac-web:web pn532-sim:tests/pn532-sim
prog_dir  = $(word 2,$(subst :, ,$(1)))
prog_name = $(word 1,$(subst :, ,$(1)))
prog_main = $(shell grep -lw '^int main' $(wildcard $(call prog_dir,$(1))/*.c) /dev/null)
prog_lib  = $(B)/obj/lib$(call prog_name,$(1)).a
# Only programs whose folder has sources are built.
PRESENT  := $(foreach p,$(PROGRAMS),$(if $(wildcard $(call prog_dir,$(p))/*.c),$(p)))
BUILT    := $(foreach p,$(PRESENT),$(B)/bin/$(call prog_name,$(p)))
PROG_LIBS := $(foreach p,$(PRESENT),$(call prog_lib,$(p)))
# What a test, fuzz target or benchmark links: the program archives first,
# then common/ (which they use); the linker takes only the members needed.
TEST_LIBS := $(PROG_LIBS) $(COMMON_LIB)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_SRC  := $(wildcard bench/*.c)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
# Fuzz targets are replayed over their corpus by tests/fuzz/replay.c; with
# FUZZ_ENGINE=libfuzzer (tests/fuzz/run) libFuzzer drives them instead.
FUZZ_ENGINE ?= replay
FUZZ_DRIVER := $(if $(filter libfuzzer,$(FUZZ_ENGINE)),-fsanitize=fuzzer,$(call obj,tests/fuzz/replay.c))

ALL_SRC := $(COMMON_SRC) $(foreach p,$(PRESENT),$(wildcard $(call prog_dir,$(p))/*.c)) \
           $(UNIT_SRC) $(BENCH_SRC) $(FUZZ_SRC) tests/fuzz/replay.c

.PHONY: all check deps demo demo-web ha-demo bench soak fuzz install uninstall clean format lint unit-tests \
        fuzz-targets break-builds deb
all: $(BUILT) $(BENCH_BIN)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define program_rule
$(call prog_lib,$(1)): $(call obj,$(filter-out $(call prog_main,$(1)),$(wildcard $(call prog_dir,$(1))/*.c)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^ $$(if $$^,,--)

$(B)/bin/$(call prog_name,$(1)): $(call obj,$(call prog_main,$(1))) $(call prog_lib,$(1)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PRESENT),$(eval $(call program_rule,$(p))))

# sac-web answers with sacctl's own command code (the same JSON), serves
# HTTPS with libmicrohttpd and reads request bodies with jansson; its assets
# are assembled into web/assets.o.
$(B)/bin/sac-web: $(B)/obj/libsacctl.a
$(B)/bin/sac-web: LDLIBS += $(COMMON_LIB) $(shell pkg-config --libs libmicrohttpd jansson 2>/dev/null)
$(B)/obj/web/assets.o: $(wildcard web/assets/*)

# sacctl carries the migrations sql/*.sql compiled in (ctl/sqlfiles.h), in
# its archive.  tools/embed-sql runs at every make and rewrites the
# generated file only when sql/ changed (an edit, a new or a removed file).
$(B)/gen/sqlfiles.c: FORCE
	@mkdir -p $(dir $@)
	@tools/embed-sql $@ sql
$(B)/obj/gen/sqlfiles.o: $(B)/gen/sqlfiles.c ctl/sqlfiles.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ictl -c $< -o $@
$(B)/obj/libsacctl.a: $(B)/obj/gen/sqlfiles.o
FORCE:

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

$(B)/bench/%: $(B)/obj/bench/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/fuzz/%: $(B)/obj/tests/fuzz/%.o $(filter %.o,$(FUZZ_DRIVER)) $(TEST_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(FUZZ_DRIVER) $(TEST_LIBS) $(LDLIBS)

unit-tests: $(UNIT_BIN) $(FUZZ_BIN)

# Builds that each break one guarantee (common/testbreak.h), name:program.
# tests/run runs the fault test meant to catch each and requires it to fail.
TEST_BREAKS := ack_before_commit:sac-controller spool_no_fsync:sac-reader \
               redelivery_twice:sac-controller
break-builds:
	@$(foreach b,$(TEST_BREAKS),$(MAKE) -s B=$(B)/break/$(call prog_name,$(b)) \
	    EXTRA_CFLAGS="$(EXTRA_CFLAGS) -DSAC_TEST_BREAK=$(call prog_name,$(b))" \
	    $(B)/break/$(call prog_name,$(b))/bin/$(call prog_dir,$(b)) &&) true
fuzz-targets: $(FUZZ_BIN)

deps:
	@tools/ensure-deps

check: deps lint
	$(MAKE) B=build/san EXTRA_CFLAGS="$(SAN_FLAGS)" CFLAGS="-O1 -g" all unit-tests break-builds
	tests/run build/san

demo: deps all
	tools/demo

demo-web: deps all
	tools/demo-web

ha-demo: deps all
	tools/ha-demo

bench: deps all
	bench/run

soak: deps all
	tests/soak/run

fuzz: deps
	tests/fuzz/run

# Installs the programs (and sbin/sac-pki, the station PKI script), SQL,
# units, sysusers/tmpfiles snippets, man pages
# and commented example configurations.  The units name $(PREFIX)/bin.
# Example configurations go to $(DESTDIR)/etc/sac: /etc is not under PREFIX.
SYSTEMD_UNITS := $(notdir $(wildcard systemd/*.service systemd/*.timer))
MAN1 := $(notdir $(wildcard man/*.1))
MAN8 := $(notdir $(wildcard man/*.8))
CONF_EXAMPLES := $(notdir $(wildcard etc/*.conf.example))
INSTALLED_PROGRAMS := sac-reader sac-controller sac-purge sac-web sacctl

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/sac/sql \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d \
	    $(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)/etc/sac
	install -m 0755 $(addprefix $(B)/bin/,$(INSTALLED_PROGRAMS)) $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 tools/sac-pki $(DESTDIR)$(PREFIX)/sbin/sac-pki
	install -m 0644 sql/*.sql $(DESTDIR)$(PREFIX)/share/sac/sql/
	for u in $(SYSTEMD_UNITS); do \
	    sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' systemd/$$u >$(DESTDIR)$(PREFIX)/lib/systemd/system/$$u && \
	    chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$u || exit 1; \
	done
	install -m 0644 systemd/sac.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/sac.conf
	# journald reads a namespace's main file from /etc/systemd only; its
	# drop-ins also from $(PREFIX)/lib/systemd.
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/journald@sac.conf.d
	install -m 0644 systemd/journald@sac.conf $(DESTDIR)$(PREFIX)/lib/systemd/journald@sac.conf.d/sac.conf
	install -m 0644 systemd/sac.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/sac.conf
	install -m 0644 $(addprefix man/,$(MAN1)) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(addprefix man/,$(MAN8)) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(addprefix etc/,$(CONF_EXAMPLES)) $(DESTDIR)/etc/sac/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(INSTALLED_PROGRAMS)) $(DESTDIR)$(PREFIX)/sbin/sac-pki
	rm -rf $(DESTDIR)$(PREFIX)/share/sac
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/lib/systemd/system/,$(SYSTEMD_UNITS))
	rm -f $(DESTDIR)$(PREFIX)/lib/systemd/journald@sac.conf.d/sac.conf
	rm -f $(DESTDIR)$(PREFIX)/lib/sysusers.d/sac.conf $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/sac.conf
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(MAN1))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man8/,$(MAN8))
	rm -f $(addprefix $(DESTDIR)/etc/sac/,$(CONF_EXAMPLES))

# Debian packages (debian/, SPEC §8) into build/deb/, built from a copy of
# the sources with Debian's build flags and checked with lintian.  Rebuilt
# only when a source file is newer than the last build.  sac-web is built
# when web/ has sources.
DEB_DIR := build/deb
DEB_SRC := $(filter-out build/% run/%,$(shell find Makefile common reader controller purge ctl web sql \
             systemd debian man etc tools -type f 2>/dev/null))
DEB_PROFILES := $(if $(wildcard web/*.c),,-Ppkg.sac.noweb)

deb: $(DEB_DIR)/stamp
$(DEB_DIR)/stamp: $(DEB_SRC)
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src/sac-$(VERSION)
	@tar -cf - $(DEB_SRC) | tar -C $(DEB_DIR)/src/sac-$(VERSION) -xf -
	cd $(DEB_DIR)/src/sac-$(VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    DEB_BUILD_OPTIONS="noautodbgsym parallel=$$(nproc)" dpkg-buildpackage -b -us -uc $(DEB_PROFILES) \
	    >../build.log 2>&1 || { tail -n 40 ../build.log; exit 1; }
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/
	rm -rf $(DEB_DIR)/src/sac-$(VERSION)
	lintian --fail-on error,warning $(DEB_DIR)/*.deb
	touch $@

# Every C file of the tree: `make format` rewrites them in the style of
# .clang-format, `make lint` (run by `make check`) fails on any file not in
# that style and on anything cppcheck finds.
LINT_SRC := $(foreach d,common $(foreach p,$(PRESENT),$(call prog_dir,$(p))) tests/unit tests/fuzz bench, \
              $(wildcard $(d)/*.c $(d)/*.h))
CPPCHECK_FLAGS := --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
                  --inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE -Icommon -I. \
                  --template='{file}:{line}: {severity} ({id}): {message}'

format:
	clang-format -i $(LINT_SRC)

lint:
	@echo "clang-format --dry-run -Werror (C files of the tree)"
	@clang-format --dry-run -Werror $(LINT_SRC)
	@echo "cppcheck (C files of the tree)"
	@cppcheck $(CPPCHECK_FLAGS) -j2 $(LINT_SRC)

clean:
	rm -rf build

-include $(patsubst %.c,$(B)/obj/%.d,$(ALL_SRC))
