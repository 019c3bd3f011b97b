#!/usr/bin/env bats
# no-asan: the package is built by dpkg-buildpackage, not from $BUILD.
# The Debian package (debian/): built as make deb builds it, checked by
# lintian, then installed with dpkg -i, run, removed and purged.  The
# installing tests need root and dpkg (a throwaway CI container) and skip
# when kafkatee-pipe is already installed: this file never replaces or
# removes a package it did not install.
#
# KTP_DEB=path/to/kafkatee-pipe_VERSION_ARCH.deb (its .changes and the
# source's .dsc beside it) uses a package make deb built; else it is built
# here (about 10 s).

load helpers

PKG=kafkatee-pipe

setup_file() {
	command -v dpkg-buildpackage >/dev/null ||
		skip "no dpkg-buildpackage (make deps)"
	if [ -z "${KTP_DEB:-}" ]; then
		make -s -C "$ROOT" BUILD="$BATS_FILE_TMPDIR/b" deb \
			> "$BATS_FILE_TMPDIR/build.log" 2>&1 || {
			tail -n 30 "$BATS_FILE_TMPDIR/build.log" >&2
			return 1
		}
		KTP_DEB=$(echo "$BATS_FILE_TMPDIR"/b/deb/${PKG}_*.deb)
	fi
	export KTP_DEB
}

teardown_file() {
	# a test that failed half-way leaves nothing installed
	if [ -e "$BATS_FILE_TMPDIR/installed" ]; then
		dpkg -P "$PKG" > /dev/null 2>&1 || true
	fi
}

# need_install: skips unless this file may install the package here.
need_install() {
	[ "$(id -u)" -eq 0 ] || skip "installing needs root"
	command -v dpkg >/dev/null || skip "no dpkg"
	if [ ! -e "$BATS_FILE_TMPDIR/installed" ] &&
	   dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null |
		grep -q ' installed$'; then
		skip "$PKG is installed already: not replaced by a test"
	fi
}

# display NAME: the man page's display '.\" example: NAME', unescaped.
display() {
	awk -v want="$1" '
	/^\.Bd -literal/ { inside = (name == want); name = ""; next }
	/^\.Ed/ { inside = 0 }
	inside { gsub(/\\e/, "\\"); gsub(/\\-/, "-"); gsub(/\\&/, ""); print }
	{ name = "" }
	/^\.\\" example: / { name = $3 }
	' "$ROOT/man/kafkatee-pipe.1"
}

@test "deb: Build-Depends is the Makefile's build set, less build-essential" {
	want=$(make -s -C "$ROOT" print-BUILD_DEB_PKGS | tr ' ' '\n' |
		grep -vx -e gcc -e make -e '' | sort)
	got=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' "$ROOT/debian/control" |
		sed -e 's/^Build-Depends://' -e '/^[A-Z]/d' | tr ',' '\n' |
		sed -e 's/[[:space:]]//g' -e '/^$/d' -e '/^debhelper-compat/d' | sort)
	[ "$got" = "$want" ] || _fail "debian/control vs BUILD_DEB_PKGS:" \
		"$(diff <(echo "$got") <(echo "$want"))"
}

@test "deb: the package's version is the program's" {
	v=$(dpkg-deb -f "$KTP_DEB" Version)
	grep -qx "#define KTP_VERSION \"$v\"" "$ROOT/config.h"
}

@test "deb: lintian finds no error and no warning in the .deb, .changes and source" {
	command -v lintian >/dev/null || skip "no lintian (make deps)"
	changes=${KTP_DEB%.deb}.changes
	[ -f "$changes" ]
	# the source package (debian/control, copyright, rules): make deb's
	dsc=$(dirname "$KTP_DEB")/${PKG}_$(dpkg-deb -f "$KTP_DEB" Version).dsc
	[ -f "$dsc" ]
	run lintian --fail-on error,warning "$changes" "$dsc"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$(echo "$output" | grep '^[EW]: ')" ]
}

@test "deb: the systemd units are in /lib/systemd/system, and installing enables neither" {
	list=$(dpkg-deb -c "$KTP_DEB")
	[[ "$list" == *" ./lib/systemd/system/kafkatee-pipe@.service"* ]]
	[[ "$list" == *" ./lib/systemd/system/kafkatee-pipe-pmacctd.service"* ]]
	d=$BATS_TEST_TMPDIR/ctl
	dpkg-deb -e "$KTP_DEB" "$d"
	# dh_installsystemd --no-enable: enabled again on upgrade only if the
	# admin had (debian-installed); --no-start: never started
	grep -q "deb-systemd-helper debian-installed 'kafkatee-pipe-pmacctd.service'" "$d/postinst"
	! grep -q 'deb-systemd-invoke' "$d/postinst"
	! grep -q 'kafkatee-pipe@' "$d/postinst"
}

@test "deb: the binary is hardened: PIE, full RELRO, fortified, stack protector" {
	d=$BATS_TEST_TMPDIR/x
	dpkg-deb -x "$KTP_DEB" "$d"
	b=$d/usr/bin/kafkatee-pipe
	readelf -h "$b" | grep -q 'Type: *DYN'
	readelf -l "$b" | grep -q GNU_RELRO
	readelf -d "$b" | grep -q 'FLAGS.*BIND_NOW'
	readelf --dyn-syms -W "$b" | grep -q '__[a-z]*_chk'
	readelf --dyn-syms -W "$b" | grep -q __stack_chk_fail
}

@test "deb: dpkg -i installs the program, manual, conffile, examples, logrotate snippet and user" {
	need_install
	dpkg -i "$KTP_DEB"
	touch "$BATS_FILE_TMPDIR/installed"
	run /usr/bin/kafkatee-pipe -V
	[ "$status" -eq 0 ]
	[[ "$output" == "kafkatee-pipe $(dpkg-deb -f "$KTP_DEB" Version) "* ]]
	[ "$(man -w kafkatee-pipe)" = /usr/share/man/man1/kafkatee-pipe.1.gz ]
	getent passwd kafkatee-pipe
	[ "$(stat -c %U:%a /var/lib/kafkatee-pipe)" = kafkatee-pipe:750 ]
	dpkg-query -W -f='${Conffiles}\n' "$PKG" |
		grep -q '^ /etc/kafkatee-pipe/netflow.conf '
	dpkg-query -W -f='${Conffiles}\n' "$PKG" |
		grep -q '^ /etc/logrotate.d/kafkatee-pipe '
	ex=/usr/share/doc/kafkatee-pipe/examples
	for f in netflow.conf netflow-private.conf netflow-pnda.conf \
		 pmacctd.conf nfacctd.conf samples/pmacctd-lo-json.jsonl \
		 schemas/netflow/flow/1.1.0.json; do
		[ -s "$ex/$f" ]
	done
}

@test "deb: the conffile's dry run as the user kafkatee-pipe dead-letters into /var/lib/kafkatee-pipe" {
	need_install
	[ -e "$BATS_FILE_TMPDIR/installed" ] || skip "not installed"
	sample=/usr/share/doc/kafkatee-pipe/examples/samples/pmacctd-lo-json.jsonl
	# the sample's records, validated by the packaged schemas, and one
	# line that is not JSON, dead-lettered
	{ cat "$sample"; echo 'not json'; } > "$BATS_TEST_TMPDIR/in"
	chmod 644 "$BATS_TEST_TMPDIR/in"
	status=0
	runuser -u kafkatee-pipe -- /usr/bin/kafkatee-pipe \
		-c /etc/kafkatee-pipe/netflow.conf --stdout \
		< "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" \
		2> "$BATS_TEST_TMPDIR/err" || status=$?
	cat "$BATS_TEST_TMPDIR/err"
	[ "$status" -eq 3 ]
	[ "$(jq -s 'map(select(.["$schema"] == "/netflow/flow/1.1.0")) | length' "$BATS_TEST_TMPDIR/out")" -eq 60 ]
	dl=/var/lib/kafkatee-pipe/netflow.dead.jsonl
	[ "$(stat -c %U "$dl")" = kafkatee-pipe ]
	[ "$(jq -r .raw "$dl")" = 'not json' ]
}

@test "deb: the logrotate snippet passes logrotate -d" {
	need_install
	[ -e "$BATS_FILE_TMPDIR/installed" ] || skip "not installed"
	command -v logrotate >/dev/null || skip "no logrotate (make deps)"
	run logrotate -d -s "$BATS_TEST_TMPDIR/state" \
		/etc/logrotate.d/kafkatee-pipe
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *error* ]]
	[[ "$output" == *"considering log /var/lib/kafkatee-pipe/netflow.dead.jsonl"* ]]
}

@test "deb: logrotate -f with the installed snippet: a run of the user kafkatee-pipe reopens its dead-letter file" {
	need_install
	[ -e "$BATS_FILE_TMPDIR/installed" ] || skip "not installed"
	command -v logrotate >/dev/null || skip "no logrotate (make deps)"
	T=$BATS_TEST_TMPDIR
	dl=/var/lib/kafkatee-pipe/netflow.dead.jsonl
	mkfifo "$T/in"
	runuser -u kafkatee-pipe -- /usr/bin/kafkatee-pipe \
		-c /etc/kafkatee-pipe/netflow.conf --stdout \
		< "$T/in" > /dev/null 2> "$T/err" 3>&- &
	pid=$!
	exec {w}> "$T/in"
	echo "bad 1" >&$w
	i=0
	until grep -q '"raw":"bad 1"' "$dl" 2>/dev/null; do
		[ $((i++)) -lt 200 ] || _fail "no record: $(cat "$T/err")"
		sleep 0.05
	done
	logrotate -f -s "$T/state" /etc/logrotate.d/kafkatee-pipe
	[ "$(stat -c %U:%a "$dl")" = kafkatee-pipe:640 ]
	# lines until one reaches the new file: SIGHUP reopened it
	n=1
	while [ ! -s "$dl" ]; do
		[ "$n" -lt 200 ] || _fail "the new file stays empty: $(cat "$T/err")"
		n=$((n + 1))
		echo "bad $n" >&$w
		sleep 0.05
	done
	exec {w}>&-
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 3 ]
	grep -q '"raw":"bad 1"' "$dl.1"
	# every line once, in the moved file or the new one
	[ "$(cat "$dl.1" "$dl" | jq -r 'select(.raw != "not json") | .raw' |
		tr '\n' ' ')" = "$(seq -f 'bad %g' 1 "$n" | tr '\n' ' ')" ]
}

@test "deb: the man page's package example runs against the installed files" {
	need_install
	[ -e "$BATS_FILE_TMPDIR/installed" ] || skip "not installed"
	display package > "$BATS_TEST_TMPDIR/package.sh"
	[ -s "$BATS_TEST_TMPDIR/package.sh" ]
	grep -q /usr/share/doc/kafkatee-pipe/examples "$BATS_TEST_TMPDIR/package.sh"
	# /usr/bin first: the installed program, not a developer's
	(cd "$BATS_TEST_TMPDIR" && PATH=/usr/bin:/bin \
		sh "$BATS_TEST_TMPDIR/package.sh") > "$BATS_TEST_TMPDIR/out"
	[ "$(jq -s 'map(select(.dt and .ip_src)) | length' "$BATS_TEST_TMPDIR/out")" -eq 60 ]
}

@test "deb: the demo runs against the installed program" {
	need_install
	[ -e "$BATS_FILE_TMPDIR/installed" ] || skip "not installed"
	[ -x "$MOCKCLUSTER" ] || skip "no $MOCKCLUSTER (make testbin)"
	# a build dir with the mock cluster alone: the demo cannot fall back
	# on a built kafkatee-pipe
	b=$BATS_TEST_TMPDIR/b
	mkdir -p "$b"
	ln -s "$MOCKCLUSTER" "$b/mockcluster"
	run env BUILD="$b" KTP=/usr/bin/kafkatee-pipe sh "$ROOT/examples/demo.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"summary: read=62 produced=60 delivered=60 "*"exit=0"* ]]
	[[ "$output" == *"... 60 events in eqiad.netflow"* ]]
}

@test "deb: dpkg -r keeps the conffile and state, dpkg -P removes them; the user stays" {
	need_install
	[ -e "$BATS_FILE_TMPDIR/installed" ] || skip "not installed"
	dpkg -r "$PKG"
	[ ! -e /usr/bin/kafkatee-pipe ]
	[ ! -e /usr/share/man/man1/kafkatee-pipe.1.gz ]
	[ ! -e /usr/share/doc/kafkatee-pipe ]
	[ -f /etc/kafkatee-pipe/netflow.conf ]
	[ -d /var/lib/kafkatee-pipe ]
	dpkg -P "$PKG"
	rm -f "$BATS_FILE_TMPDIR/installed"
	[ ! -e /etc/kafkatee-pipe ]
	[ ! -e /etc/logrotate.d/kafkatee-pipe ]
	[ ! -e /var/lib/kafkatee-pipe ]
	[ ! -e /usr/share/kafkatee-pipe ]
	run dpkg-query -W -f='${Status}' "$PKG"
	[[ "$output" != *" installed" ]]
	# Debian leaves system users in place (files may still be theirs)
	getent passwd kafkatee-pipe
}
