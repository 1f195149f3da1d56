# sac — build, test, demo, bench, install.
#
# Every program is the set of .c files in its folder, linked with the
# static library built from common/.  `make check` builds a second tree
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
           -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) -D_GNU_SOURCE -DSAC_VERSION='"$(VERSION)"' -DSAC_SQL_DIR='"$(PREFIX)/share/sac/sql"' \
             -Icommon $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  = $(PKG_LIBS) -lpthread

B ?= build
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
COMMON_LIB := $(B)/obj/libsaccommon.a

# program name : source folder
PROGRAMS := sac-reader:reader sac-controller:controller sac-purge:purge sacctl:ctl \
            sac-web:web pn532-sim:tests/pn532-sim
prog_dir  = $(word 2,$(subst :, ,$(1)))
prog_name = $(word 1,$(subst :, ,$(1)))
# Only programs whose folder has sources are built.
BUILT := $(foreach p,$(PROGRAMS),$(if $(wildcard $(call prog_dir,$(p))/*.c),$(B)/bin/$(call prog_name,$(p))))

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_SRC  := $(wildcard bench/*.c)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all check deps demo demo-web bench soak fuzz install uninstall clean format unit-tests
all: $(BUILT) $(BENCH_BIN)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(COMMON_LIB): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define program_rule
$(B)/bin/$(call prog_name,$(1)): $(patsubst %.c,$(B)/obj/%.o,$(wildcard $(call prog_dir,$(1))/*.c)) $(COMMON_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# sac-web answers with sacctl's own command code (the same JSON), serves
# HTTPS with libmicrohttpd and reads request bodies with jansson; its assets
# are assembled into web/assets.o.
WEB_CTL_SRC := ctl/ctl.c ctl/ctldb.c ctl/output.c ctl/timearg.c ctl/cmd_emergency.c \
               ctl/cmd_audit.c ctl/cmd_reader.c
$(B)/bin/sac-web: $(WEB_CTL_SRC:%.c=$(B)/obj/%.o)
$(B)/bin/sac-web: LDLIBS += $(COMMON_LIB) $(shell pkg-config --libs libmicrohttpd jansson 2>/dev/null)
$(B)/obj/web/assets.o: $(wildcard web/assets/*)

# Unit tests link only common/ (the archive pulls in just the modules used).
$(B)/tests/%: tests/unit/%.c $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# A unit test of one sacctl module, tests/unit/test_ctl_NAME.c, also links
# ctl/NAME.c (and nothing else of sacctl).
$(B)/tests/test_ctl_%: tests/unit/test_ctl_%.c ctl/%.c $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ictl -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# A benchmark may use the modules of the program it measures: bench/NAME.c
# links bench/NAME/*.c if that folder exists.
$(B)/bench/%: bench/%.c $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(wildcard bench/$*/*.c) $(COMMON_LIB) $(LDLIBS)

# Fuzz targets, replayed over their seed corpus by `make check` (without
# libFuzzer).  A target names the program sources it needs in its first
# comment: " * links: reader/spool.c".
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
fuzz_links = $(shell sed -n 's|^ \* links: \(.*\)$$|\1|p' $(1))
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< tests/fuzz/replay.c $(call fuzz_links,$<) $(COMMON_LIB) $(LDLIBS)

unit-tests: $(UNIT_BIN) $(FUZZ_BIN)

deps:
	@tools/ensure-deps

check: deps
	$(MAKE) B=build/san EXTRA_CFLAGS="$(SAN_FLAGS)" CFLAGS="-O1 -g" all unit-tests
	tests/run build/san

demo: deps all
	tools/demo

demo-web: deps all
	tools/demo-web

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
SYSTEMD_UNITS := $(notdir $(wildcard systemd/*.service))
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
	install -m 0644 systemd/sac.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/sac.conf
	install -m 0644 $(addprefix man/,$(MAN1)) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(addprefix man/,$(MAN8)) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(addprefix etc/,$(CONF_EXAMPLES)) $(DESTDIR)/etc/sac/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(INSTALLED_PROGRAMS)) $(DESTDIR)$(PREFIX)/sbin/sac-pki
	rm -rf $(DESTDIR)$(PREFIX)/share/sac
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/lib/systemd/system/,$(SYSTEMD_UNITS))
	rm -f $(DESTDIR)$(PREFIX)/lib/sysusers.d/sac.conf $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/sac.conf
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(MAN1))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man8/,$(MAN8))
	rm -f $(addprefix $(DESTDIR)/etc/sac/,$(CONF_EXAMPLES))

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c bench/*.c)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
