# kafkatee-pipe: `make demo` and `make check` are all a newcomer needs;
# `make test` is the quick loop while editing.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BUILD   ?= build
CC      ?= cc
PKGS     = rdkafka json-c uuid libcrypto libpcre2-8 zlib $(ENRICH_PKGS) \
	$(AVRO_PKGS) $(SYSTEMD_PKGS)
# The enrich stage (enrich.c, geoip.c): the MaxMind DB reader.
ENRICH_PKGS = libmaxminddb
# The encode stage for encoding = pnda-avro (avroenc.c): avro-c.
AVRO_PKGS = avro-c
# Under systemd (notify.c): sd_notify(3) for Type=notify and the watchdog.
SYSTEMD_PKGS = libsystemd
# -Werror only where the compiler is known (check, CI): a newer compiler's
# new warning must not stop a user's build.
CWARN   ?= -Wall -Wextra
WERROR   = -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(CWARN) $(CPPFLAGS) $(CFLAGS) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lm

SRCS = kafkatee-pipe.c cli.c transform.c jsonscan.c isotime.c names.c \
	reader.c config.c stamp.c deadletter.c output.c stats.c clock.c \
	msgpool.c account.c route.c indir.c validate.c jsonwalk.c schema.c \
	formats.c errevent.c spool.c sender.c audit.c auditmain.c dlread.c \
	auditscan.c auditkafka.c evedit.c anonymize.c salt.c keymem.c avroenc.c \
	journal.c notify.c \
	$(ENRICH_SRCS)
ENRICH_SRCS = enrich.c netcidr.c geoip.c
OBJS = $(SRCS:%.c=$(BUILD)/%.o)
HDRS = $(wildcard *.h)
# Each tests/test_*.c is a unit test: tests/run.sh runs them all.
UNIT = $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))

# Debian packages: to build; for the demo (the build, kcat and jq); for
# every test (make check).  make demo installs only the first two sets.
BUILD_DEB_PKGS = gcc make pkg-config librdkafka-dev libjson-c-dev \
	libev-dev uuid-dev libssl-dev libpcre2-dev zlib1g-dev \
	libmaxminddb-dev libavro-dev libsystemd-dev
DEMO_DEB_PKGS = $(BUILD_DEB_PKGS) kcat jq
DEB_PKGS = $(DEMO_DEB_PKGS) libcmocka-dev bats mandoc clang valgrind \
	openjdk-17-jdk-headless maven time libclang-rt-14-dev \
	pmacct softflowd curl python3 \
	procps strace json-schema-test-suite python3-jsonschema \
	python3-rfc3339 $(ENRICH_DEB_PKGS) $(AVRO_DEB_PKGS) \
	$(PACKAGE_DEB_PKGS) lintian adduser logrotate man-db \
	$(SYSTEMD_DEB_PKGS)
# The enrich stage's tests: the MaxMind DB writer (tests/mmdb/mkmmdb.pl
# builds their databases); gdb for gcore (privacy.bats looks for the salt
# in a core of the process).
ENRICH_DEB_PKGS = libmaxmind-db-writer-perl gdb
# encoding = pnda-avro: Apache Avro's Python library to decode in the
# tests (Java's comes from Maven Central, tests/avro/).
AVRO_DEB_PKGS = python3-avro
# The units' tests (tests/systemd.bats): systemd-analyze verify and
# security, systemd-run where systemd runs.
SYSTEMD_DEB_PKGS = systemd
# make deb: dpkg-buildpackage and dh (Rules-Requires-Root: no, so no
# fakeroot).  Its tests (tests/deb.bats, tests/logrotate.bats) add lintian,
# what the package's scripts run (adduser, logrotate) and man-db (man -w).
PACKAGE_DEB_PKGS = debhelper dpkg-dev
# What deps installs: every set, unless told (make demo).
DEPS_PKGS = $(DEB_PKGS)
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

all: $(BUILD)/kafkatee-pipe

$(BUILD)/%.o: %.c $(HDRS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/kafkatee-pipe: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(OBJS) $(LIBS) -o $@

TRANSFORM_TESTS = test_jsonscan test_isotime test_transform test_samples
TRANSFORM_OBJS = $(BUILD)/transform.o $(BUILD)/jsonscan.o $(BUILD)/names.o \
	$(BUILD)/isotime.o

$(BUILD)/ttest.o: tests/ttest.c tests/ttest.h $(HDRS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -I. -c $< -o $@

# test_transform fails allocations on demand: its calls pass through it.
$(BUILD)/test_transform: TEST_LDFLAGS = -Wl,--wrap=strdup,--wrap=realloc

$(TRANSFORM_TESTS:%=$(BUILD)/%): $(BUILD)/%: tests/%.c tests/ttest.h \
		$(BUILD)/ttest.o $(TRANSFORM_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $< $(BUILD)/ttest.o $(TRANSFORM_OBJS) \
	  $(LDFLAGS) $(TEST_LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_route: tests/test_route.c $(BUILD)/route.o $(BUILD)/jsonwalk.o \
		$(TRANSFORM_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_names: tests/test_names.c $(BUILD)/names.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -o $@

$(BUILD)/test_jsonwalk: tests/test_jsonwalk.c $(BUILD)/jsonwalk.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_avroenc: tests/test_avroenc.c $(BUILD)/avroenc.o \
		$(BUILD)/jsonwalk.o $(BUILD)/jsonscan.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -lavro -ljson-c -o $@

$(BUILD)/test_errevent: tests/test_errevent.c $(BUILD)/errevent.o \
		$(BUILD)/isotime.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_validate: tests/test_validate.c tests/indexcheck.h \
		$(BUILD)/validate.o $(BUILD)/jsonwalk.o $(BUILD)/schema.o \
		$(BUILD)/formats.o $(TRANSFORM_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $(filter %.c %.o,$^) $(LDFLAGS) $(LIBS) \
	  -lcmocka -o $@

$(BUILD)/test_spool: tests/test_spool.c $(BUILD)/spool.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -lz -o $@

$(BUILD)/test_audit: tests/test_audit.c $(BUILD)/audit.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -o $@

$(BUILD)/test_evedit: tests/test_evedit.c tests/indexcheck.h \
		$(BUILD)/evedit.o $(BUILD)/jsonwalk.o $(BUILD)/formats.o \
		$(TRANSFORM_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $(filter %.c %.o,$^) $(LDFLAGS) $(LIBS) \
	  -lcmocka -o $@

# The enrich stage: netcidr and enrich are pure, geoip reads the
# databases tests/mmdb/mkmmdb.pl writes.
$(BUILD)/test_netcidr: tests/test_netcidr.c $(BUILD)/netcidr.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -o $@

$(BUILD)/test_enrich: tests/test_enrich.c tests/indexcheck.h \
		$(BUILD)/enrich.o $(BUILD)/netcidr.o $(BUILD)/config.o \
		$(BUILD)/route.o $(BUILD)/evedit.o $(BUILD)/jsonwalk.o \
		$(BUILD)/formats.o $(TRANSFORM_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $(filter %.c %.o,$^) $(LDFLAGS) $(LIBS) \
	  -lcmocka -o $@

$(BUILD)/test_geoip: tests/test_geoip.c $(BUILD)/geoip.o $(BUILD)/netcidr.o \
		$(BUILD)/enrich.o $(BUILD)/config.o $(BUILD)/route.o \
		$(BUILD)/evedit.o $(BUILD)/jsonwalk.o $(BUILD)/formats.o \
		$(TRANSFORM_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $(filter %.c %.o,$^) $(LDFLAGS) $(LIBS) \
	  -lcmocka -o $@

# The anonymize stage and the salt (issue 13).
$(BUILD)/test_anonymize: tests/test_anonymize.c tests/indexcheck.h \
		$(BUILD)/anonymize.o $(BUILD)/netcidr.o $(BUILD)/evedit.o \
		$(BUILD)/jsonwalk.o $(BUILD)/formats.o $(TRANSFORM_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $(filter %.c %.o,$^) $(LDFLAGS) $(LIBS) \
	  -lcmocka -o $@

$(BUILD)/test_salt: tests/test_salt.c $(BUILD)/salt.o $(BUILD)/keymem.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) $(LIBS) -lcmocka -o $@

$(BUILD)/test_keymem: tests/test_keymem.c $(BUILD)/keymem.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) $(LIBS) -lcmocka -o $@

$(BUILD)/test_auditscan: tests/test_auditscan.c $(BUILD)/auditscan.o \
		$(BUILD)/jsonscan.o $(BUILD)/jsonwalk.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_auditkafka: tests/test_auditkafka.c $(BUILD)/auditkafka.o \
		$(BUILD)/clock.o $(BUILD)/journal.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka $(LIBS) -o $@

$(BUILD)/test_reader: tests/test_reader.c $(BUILD)/reader.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -o $@

$(BUILD)/test_indir: tests/test_indir.c $(BUILD)/indir.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -o $@

$(BUILD)/test_config: tests/test_config.c $(BUILD)/config.o $(BUILD)/route.o \
		$(BUILD)/jsonwalk.o $(BUILD)/jsonscan.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_cli: tests/test_cli.c $(BUILD)/cli.o $(BUILD)/config.o \
		$(BUILD)/route.o $(BUILD)/jsonwalk.o $(BUILD)/jsonscan.o \
		$(BUILD)/output.o $(BUILD)/msgpool.o $(BUILD)/journal.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka $(LIBS) -o $@

$(BUILD)/test_stats: tests/test_stats.c $(BUILD)/stats.o $(BUILD)/isotime.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_msgpool: tests/test_msgpool.c $(BUILD)/msgpool.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -Wl,--wrap=malloc -lcmocka -o $@

$(BUILD)/test_account: tests/test_account.c $(BUILD)/account.o \
		$(BUILD)/deadletter.o $(BUILD)/stats.o $(BUILD)/isotime.o \
		$(BUILD)/clock.o $(BUILD)/jsonscan.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) $(LIBS) -lcmocka -o $@

$(BUILD)/test_dlread: tests/test_dlread.c $(BUILD)/dlread.o \
		$(BUILD)/deadletter.o $(BUILD)/jsonwalk.o $(BUILD)/jsonscan.o \
		$(BUILD)/isotime.o $(BUILD)/clock.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) $(LIBS) -lcmocka -o $@

# Not in SRCS yet: validate.c will bring it into the program.
$(BUILD)/test_formats: tests/test_formats.c $(BUILD)/formats.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) -lcmocka -ljson-c -o $@

$(BUILD)/test_output: tests/test_output.c $(BUILD)/output.o $(BUILD)/msgpool.o
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) $(LIBS) -lcmocka -o $@

# The validator: not in SRCS yet (validate.c brings it into the program).
SCHEMA_OBJS = $(BUILD)/schema.o $(BUILD)/formats.o
$(BUILD)/test_schema $(BUILD)/test_schema_suite: $(BUILD)/%: tests/%.c \
		$(SCHEMA_OBJS)
	$(CC) $(ALL_CFLAGS) -I. $^ $(LDFLAGS) $(TEST_LDFLAGS) -lcmocka $(LIBS) \
	  -lm -o $@
# test_schema counts the validator's allocations.
$(BUILD)/test_schema: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

# Fault injection for the bats tests (LD_PRELOAD): see the file.
$(BUILD)/failshim.so: tests/failshim.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -fPIC -shared $< -o $@ -ldl

$(BUILD)/mockcluster: tests/mockcluster.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) $< $(LDFLAGS) $(LIBS) -o $@

# The paced writer of tests/spool.bats (and of bench/, which builds its own).
$(BUILD)/bench-gen: bench/gen.c | $(BUILD)
	$(CC) -std=c11 -O2 $(CWARN) $< -o $@

$(BUILD):
	mkdir -p $(BUILD)

# Installs what is missing; silent when everything is there.
deps:
	@missing=; for p in $(DEPS_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null; \
	fi

testbin: all $(UNIT) $(BUILD)/mockcluster $(BUILD)/failshim.so \
	$(BUILD)/bench-gen

demo:
	@$(MAKE) -s deps DEPS_PKGS="$(DEMO_DEB_PKGS)"
	@$(MAKE) -s all $(BUILD)/mockcluster
	@BUILD=$(BUILD) sh examples/demo.sh

# The edit-compile-test loop: the unit tests and tests/cli.bats on the
# normal build, in seconds, without root, packages or network.  Ends with
# the line "N passed, N failed, N skipped", as check does.
TEST_TOOLS = bats jq python3
test:
	@for t in $(TEST_TOOLS); do command -v $$t >/dev/null || { \
	  echo "make test needs $$t: apt-get install $$t (or make deps)"; \
	  exit 1; }; done
	@pkg-config --exists cmocka $(PKGS) && echo '#include <ev.h>' | \
	  $(CC) -E - >/dev/null 2>&1 || { echo "make test needs the headers \
	of cmocka, libev and $(PKGS): make deps installs them"; exit 1; }
	@$(MAKE) -s all $(UNIT) $(BUILD)/failshim.so
	@BUILD=$(BUILD) sh tests/run.sh quick

# Every test: unit, bats end to end (mock cluster, faults, real Kafka),
# again under ASan+UBSan, the clang build and the man page lint; each
# build warning-free (-Werror).
check: deps
	@$(MAKE) -s CWARN="$(CWARN) $(WERROR)" testbin
	@$(MAKE) -s BUILD=build-asan CC=clang CWARN="$(CWARN) $(WERROR)" \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" testbin
	@$(MAKE) -s BUILD=build-clang CC=clang CWARN="$(CWARN) $(WERROR)" all
	@sh tests/run.sh

# The man page, and no function over 60 lines (HACKING.md).
lint:
	sh tests/manlint.sh
	sh tests/funclen.sh

# libFuzzer (clang, ASan+UBSan) on the transform and the line reader, the
# validator, netcidr's parsers and the stages (enrich, anonymize, ev_apply).
FUZZ_SECONDS ?= 300
fuzz: deps
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# kcat -P, kafkatee-pipe and jq | kcat on the same input: bench/RESULTS.md.
bench: deps
	@$(MAKE) -s all $(BUILD)/mockcluster
	@BUILD=$(BUILD) bash bench/run.sh

# A paced writer, the broker down for 60 s, with and without the spool:
# bench/SOAK.md (about 5 minutes; not part of check).
soak: deps
	@$(MAKE) -s all $(BUILD)/mockcluster
	@BUILD=$(BUILD) bash bench/soak.sh

# The Debian package (debian/), built from a copy of the tree in
# $(BUILD)/deb/src, since dpkg-buildpackage writes to the parent directory:
# $(BUILD)/deb/kafkatee-pipe_VERSION_ARCH.deb, its .changes and .buildinfo,
# and the source package (.dsc, .tar.xz), made first from the clean copy,
# for lintian's checks of debian/ (tests/deb.bats).
deb:
	@$(MAKE) -s deps DEPS_PKGS="$(BUILD_DEB_PKGS) $(PACKAGE_DEB_PKGS)"
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/src
	tar -cf - --exclude=./.git --exclude='./build*' --exclude='./$(BUILD)' \
	  . | tar -xf - -C $(BUILD)/deb/src
	cd $(BUILD)/deb && dpkg-source -b src
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BUILD)/kafkatee-pipe $(DESTDIR)$(BINDIR)/
	install -m 0644 man/kafkatee-pipe.1 $(DESTDIR)$(MANDIR)/man1/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kafkatee-pipe \
	  $(DESTDIR)$(MANDIR)/man1/kafkatee-pipe.1

clean:
	rm -rf $(BUILD) build-asan build-clang

# make print-VAR: a variable's value (tests/deps.bats reads the package
# sets).
print-%:
	@echo $($*)

.PHONY: all deps testbin demo test check lint fuzz bench soak deb install uninstall clean
