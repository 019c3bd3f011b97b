#!/usr/bin/env bats
# systemd: the units in systemd/ (systemd-analyze verify and security in
# a temporary root), sd_notify(3) as systemd would receive it
# (tests/sdnotify.py: no systemd needed), the journal's priority prefixes
# (JOURNAL_STREAM), and the pipeline unit's shell line run for real with
# stand-ins.  A test that needs a running systemd skips without one.

load helpers

UNITS=$ROOT/systemd
SAMPLE=$ROOT/examples/samples/pmacctd-lo-json.jsonl

setup() {
	T=$BATS_TEST_TMPDIR
}

teardown() {
	local p

	mock_stop
	for p in ${KILL_PGIDS:-}; do
		kill -KILL -- "-$p" 2>/dev/null || true
	done
}

# unit_root: $T/root, a root for systemd-analyze --root: the system's
# units (sysinit.target...), ours in /etc/systemd/system, and an
# executable stand-in at each absolute path an Exec line starts with or
# runs (verify checks that the command exists, in the root).
unit_root() {
	local sysdir p

	sysdir=$(pkg-config --variable=systemdsystemunitdir systemd \
		2>/dev/null || true)
	[ -d "$sysdir" ] || sysdir=/lib/systemd/system
	mkdir -p "$T/root/etc/systemd/system" "$T/root/usr/lib/systemd"
	cp -a "$sysdir" "$T/root/usr/lib/systemd/system"
	cp "$UNITS"/*.service "$T/root/etc/systemd/system/"
	for p in $(grep -h '^Exec' "$UNITS"/*.service |
		grep -o '/[a-z/]*bin/[a-z-]*' | sort -u); do
		mkdir -p "$T/root$(dirname "$p")"
		printf '#!/bin/sh\n' > "$T/root$p"
		chmod +x "$T/root$p"
	done
}

# unit_value FILE KEY: the value of KEY= in the unit (the first).
unit_value() {
	sed -n "s/^$2=//p" "$1" | head -n 1
}

need_analyze() {
	command -v systemd-analyze >/dev/null ||
		skip "no systemd-analyze (make deps: systemd)"
}

@test "systemd: systemd-analyze verify says nothing of either unit" {
	need_analyze
	unit_root
	run systemd-analyze verify --root="$T/root" --man=no \
		kafkatee-pipe@netflow.service kafkatee-pipe-pmacctd.service
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "systemd: verify in that root does speak: a wrong key, a missing binary, a bad specifier" {
	need_analyze
	unit_root
	u=$T/root/etc/systemd/system/kafkatee-pipe@.service
	sed -i 's/^PrivateTmp=/PrivateTnp=/' "$u"
	run systemd-analyze verify --root="$T/root" --man=no \
		kafkatee-pipe@netflow.service
	[[ "$output" == *"Unknown key"*PrivateTnp* ]]
	cp "$UNITS/kafkatee-pipe@.service" "$u"
	sed -i 's|^StateDirectory=\(.*\)|StateDirectory=\1/%Q|' "$u"
	run systemd-analyze verify --root="$T/root" --man=no \
		kafkatee-pipe@netflow.service
	[[ "$output" == *"Failed to resolve unit specifiers"* ]]
	cp "$UNITS/kafkatee-pipe@.service" "$u"
	rm "$T/root/usr/bin/kafkatee-pipe"
	run systemd-analyze verify --root="$T/root" --man=no \
		kafkatee-pipe@netflow.service
	[ "$status" -ne 0 ]
	[[ "$output" == *"/usr/bin/kafkatee-pipe is not executable"* ]]
}

@test "systemd: the template's exposure (systemd-analyze security) is at most 2.0" {
	need_analyze
	unit_root
	run systemd-analyze security --offline=yes --root="$T/root" \
		kafkatee-pipe@netflow.service
	score=$(echo "$output" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# kafkatee-pipe@.service: exposure $score" >&3
	[ -n "$score" ]
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
}

# syscalls GROUP...: the system calls of the groups and names, nested
# groups expanded (systemd-analyze syscall-filter lists a group's own).
syscalls() {
	local x

	for x in "$@"; do
		case $x in
		@*) syscalls $(systemd-analyze syscall-filter "$x" |
			sed -e '1d' -e '/^ *#/d' -e 's/^ *//' -e '/^$/d') ;;
		*) echo "$x" ;;
		esac
	done | sort -u
}

@test "systemd: a run's system calls (Kafka, librdkafka's threads, spool, salt, SIGHUP) are all in the template's SystemCallFilter" {
	need_analyze
	command -v strace >/dev/null || skip "no strace (make deps)"
	u=$UNITS/kafkatee-pipe@.service
	# the filter: the allowed list less the denied one (~)
	allow=$(syscalls $(sed -n 's/^SystemCallFilter=\([^~]\)/\1/p' "$u"))
	deny=$(syscalls $(sed -n 's/^SystemCallFilter=~//p' "$u"))
	[ -n "$allow" ]
	[ -n "$deny" ]
	mock_start -t t:2
	# as under the unit: sd_notify's socket too; SIGHUP once READY=1
	{ sed -n 2,40p "$SAMPLE"; sleep 3; } |
		ASAN_OPTIONS=detect_leaks=0 python3 "$ROOT/tests/sdnotify.py" \
		"$T/notify" --watchdog-usec 400000 -- \
		strace -f -qq -o "$T/trace" -e 'signal=none' \
		"$KTP" -v -b "$BROKERS" -t t -o spool.dir="$T/spool" \
		-o deadletter.file="$T/dl" -o anonymize.ip_src=hash \
		-o stats.file="$T/stats.json" > /dev/null 2> "$T/err" &
	pid=$!
	wait_for grep -q READY=1 "$T/notify"
	pkill -HUP -x -P "$(pgrep -P "$pid" -x strace)" kafkatee-pipe
	wait "$pid"
	cat "$T/err"
	grep -q 'SIGHUP: dead-letter file reopened' "$T/err"
	grep -q ' WATCHDOG=1$' "$T/notify"
	[ "$(jq .delivered "$T/stats.json")" -eq 39 ]
	used=$(sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$T/trace" | sort -u)
	echo "# $(echo "$used" | wc -l) distinct system calls" >&3
	bad=$(comm -23 <(echo "$used") <(echo "$allow"))
	denied=$(comm -12 <(echo "$used") <(echo "$deny"))
	[ -z "$bad$denied" ] || _fail "not allowed: $bad; denied: $denied"
	# the files: nothing of /proc but a process's (ProcSubset=pid), of
	# /home or /root (ProtectHome=)
	! grep -E '^[0-9]+ +(open|openat|newfstatat|stat|access)\((AT_FDCWD, )?"/(home|root|proc/[^s0-9]|proc/s[^e])' "$T/trace"
	# and the socket families: RestrictAddressFamilies=
	families=$(sed -n 's/^[0-9]* *socket(\(AF_[A-Z0-9]*\),.*/\1/p' \
		"$T/trace" | sort -u)
	echo "# socket families: $(echo $families)" >&3
	for f in $families; do
		grep -q "^RestrictAddressFamilies=.*\b$f\b" "$u" ||
			_fail "socket($f) is refused by the unit"
	done
}

@test "systemd: the template: Type=notify, a watchdog, a user, no capability, its state and input directories" {
	u=$UNITS/kafkatee-pipe@.service
	[ "$(unit_value "$u" Type)" = notify ]
	[ "$(unit_value "$u" WatchdogSec)" = 30s ]
	[ "$(unit_value "$u" User)" = kafkatee-pipe ]
	grep -qx 'CapabilityBoundingSet=' "$u"
	grep -qx 'NoNewPrivileges=yes' "$u"
	grep -qx 'ProtectSystem=strict' "$u"
	[ "$(unit_value "$u" StateDirectory)" = "kafkatee-pipe kafkatee-pipe/%i.in" ]
	[[ "$(unit_value "$u" ExecStart)" == *" -c /etc/kafkatee-pipe/%i.conf --input-dir /var/lib/kafkatee-pipe/%i.in" ]]
	[ "$(unit_value "$u" ExecReload)" = '/bin/kill -HUP $MAINPID' ]
}

@test "systemd: TimeoutStopSec outlasts drain.timeout.ms and flush.timeout.ms" {
	for u in "$UNITS"/*.service; do
		stop=$(unit_value "$u" TimeoutStopSec)
		[[ "$stop" =~ ^[0-9]+s$ ]]
		dump=$("$KTP" --stdout -X dump < /dev/null)
		drain=$(echo "$dump" | sed -n 's/^drain.timeout.ms = //p')
		flush=$(echo "$dump" | sed -n 's/^flush.timeout.ms = //p')
		[ "${stop%s}000" -gt $((drain + flush)) ]
	done
}

@test "systemd: no FIFO .socket unit is shipped (pmacct loses what a full FIFO refuses)" {
	[ -z "$(find "$UNITS" -name '*.socket')" ]
	[ -z "$(grep -l '^ListenFIFO' "$UNITS"/* || true)" ]
}

#
# sd_notify, received by tests/sdnotify.py
#

# first N KEY: the number of the first datagram with KEY in $T/notify
first() {
	awk -v k="$1" 'index($2, k "=") == 1 { print $1; exit }' "$T/notify"
}

@test "sd_notify: READY=1 with a STATUS, WATCHDOG=1 at WATCHDOG_USEC/2, STOPPING=1 at end of file" {
	{ sed -n 2,6p "$SAMPLE"; sleep 3; } |
		python3 "$ROOT/tests/sdnotify.py" "$T/notify" \
			--watchdog-usec 1000000 --watchdog-pid self -- \
			"$KTP" --stdout > "$T/out" 2> "$T/err"
	cat "$T/notify"
	[ "$(first READY)" -eq 1 ]
	grep -qx '1 STATUS=reading stdin, writing to stdout' "$T/notify"
	# every 0.5 s for 3 s: at least 2, whatever the machine's load
	[ "$(grep -c ' WATCHDOG=1$' "$T/notify")" -ge 2 ]
	[ "$(first WATCHDOG)" -gt "$(first READY)" ]
	[ "$(first STOPPING)" -gt "$(awk '/ WATCHDOG=1$/ { n = $1 } END { print n }' "$T/notify")" ]
	grep -q ' STATUS=flushing' "$T/notify"
	[ "$(wc -l < "$T/out")" -eq 5 ]
}

@test "sd_notify: no WATCHDOG=1 without WATCHDOG_USEC, nor when WATCHDOG_PID is another process's" {
	{ head -n 2 "$SAMPLE"; sleep 2; } |
		python3 "$ROOT/tests/sdnotify.py" "$T/notify" -- \
			"$KTP" --stdout > /dev/null 2> "$T/err"
	grep -qx '1 READY=1' "$T/notify"
	! grep -q WATCHDOG "$T/notify"
	{ head -n 2 "$SAMPLE"; sleep 2; } |
		python3 "$ROOT/tests/sdnotify.py" "$T/notify" \
			--watchdog-usec 200000 --watchdog-pid 1 -- \
			"$KTP" --stdout > /dev/null 2> "$T/err"
	grep -qx '1 READY=1' "$T/notify"
	! grep -q WATCHDOG "$T/notify"
}

@test "sd_notify: STATUS says the brokers are down" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# nothing listens on port: every connection is refused
	{ sed -n 2p "$SAMPLE"; sleep 4; } |
		python3 "$ROOT/tests/sdnotify.py" "$T/notify" -- \
			"$KTP" -b "127.0.0.1:$port" -t t -o flush.timeout.ms=500 \
			> /dev/null 2> "$T/err" || true
	cat "$T/notify"
	grep -q ' STATUS=brokers down: 1 messages in flight$' "$T/notify"
}

@test "sd_notify: STATUS says where the events go while the brokers are down (spool.dir)" {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	{ sed -n 2,3p "$SAMPLE"; sleep 4; } |
		python3 "$ROOT/tests/sdnotify.py" "$T/notify" -- \
			"$KTP" -b "127.0.0.1:$port" -t t -o flush.timeout.ms=500 \
			-o spool.dir="$T/spool" > /dev/null 2> "$T/err" || true
	cat "$T/notify"
	grep -qx "[0-9]* STATUS=brokers down: spooling to $T/spool" "$T/notify"
}

@test "sd_notify: without NOTIFY_SOCKET nothing is sent: no datagram socket is opened" {
	command -v strace >/dev/null || skip "no strace (make deps)"
	sed -n 2,3p "$SAMPLE" > "$T/in"
	# LeakSanitizer cannot run under ptrace (an ASan build)
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=socket -o "$T/trace" \
		"$KTP" --stdout < "$T/in" > /dev/null 2>&1
	! grep 'AF_UNIX, SOCK_DGRAM' "$T/trace"
	: > "$T/notify"
	ASAN_OPTIONS=detect_leaks=0 python3 "$ROOT/tests/sdnotify.py" \
		"$T/notify" -- strace -f -qq -e trace=socket -o "$T/trace" \
		"$KTP" --stdout < "$T/in" > /dev/null 2>&1
	grep -q 'AF_UNIX, SOCK_DGRAM' "$T/trace"
}

#
# The journal's priorities (JOURNAL_STREAM)
#

@test "journal: with JOURNAL_STREAM naming stderr, each line has its priority" {
	: > "$T/err"
	status=0
	printf '%s\n' 'INFO ( default/core ): started' 'not json' \
		'WARN ( default/core ): late' | JOURNAL_STREAM=$(stat -c %d:%i "$T/err") \
		"$KTP" --stdout > /dev/null 2>> "$T/err" || status=$?
	cat "$T/err"
	[ "$status" -eq 3 ]
	grep -qx '<6>kafkatee-pipe: pmacct: INFO ( default/core ): started' "$T/err"
	grep -q '^<4>kafkatee-pipe: stdin:2: invalid: ' "$T/err"
	grep -qx '<4>kafkatee-pipe: pmacct: WARN ( default/core ): late' "$T/err"
	grep -q '^<4>kafkatee-pipe: summary: .* exit=3 ' "$T/err"
	[ -z "$(grep -v '^<[3-7]>kafkatee-pipe: ' "$T/err")" ]
}

@test "journal: a usage error, its usage and getopt's word: every line at <3>" {
	: > "$T/err"
	JOURNAL_STREAM=$(stat -c %d:%i "$T/err") "$KTP" --no-such-option \
		2>> "$T/err" < /dev/null && false
	: > "$T/err2"
	JOURNAL_STREAM=$(stat -c %d:%i "$T/err2") "$KTP" --audit --no-such \
		2>> "$T/err2" < /dev/null && false
	cat "$T/err" "$T/err2"
	grep -qx '<3>kafkatee-pipe: --no-such-option: unknown option, or its value is missing' "$T/err"
	grep -q '^<3>Usage: kafkatee-pipe ' "$T/err"
	[ -z "$(grep -v '^<3>' "$T/err")" ]
	grep -q '^<3>Usage: kafkatee-pipe --audit ' "$T/err2"
	[ -z "$(grep -v '^<3>' "$T/err2")" ]
}

@test "journal: JOURNAL_STREAM naming another file: stderr as without it, byte for byte" {
	: > "$T/other"
	in='INFO ( default/core ): started
not json'
	echo "$in" | "$KTP" --stdout -v > /dev/null 2> "$T/plain" || true
	echo "$in" | JOURNAL_STREAM=$(stat -c %d:%i "$T/other") \
		"$KTP" --stdout -v > /dev/null 2> "$T/other-run" || true
	"$KTP" --no-such-option 2>> "$T/plain" < /dev/null || true
	JOURNAL_STREAM=$(stat -c %d:%i "$T/other") "$KTP" --no-such-option \
		2>> "$T/other-run" < /dev/null || true
	sed -i 's/peak_rss=[0-9]*KiB/peak_rss=N/' "$T/plain" "$T/other-run"
	cmp "$T/plain" "$T/other-run"
	grep -q "unrecognized option '--no-such-option'" "$T/plain"
	[ ! -s "$T/other" ]
}

#
# The units' command lines, run here
#

# watchdogs_at_least N: $T/notify has N WATCHDOG=1 or more.
watchdogs_at_least() {
	[ "$(grep -c ' WATCHDOG=1$' "$T/notify")" -ge "$1" ]
}

# gone PID: PID has exited (a zombie of ours counts as gone).
gone() {
	! kill -0 "$1" 2>/dev/null || grep -q '^[^ ]* ([^)]*) Z' "/proc/$1/stat"
}

# shell_line UNIT KEY: the shell line of /bin/sh -c '...' in KEY=.
shell_line() {
	unit_value "$1" "$2" | sed -n "s|^/bin/sh -c '\(.*\)'\$|\1|p"
}

# standin_pmacctd FILE: prints two records at once, then, on SIGINT (a
# stop), a last purge of one record and exits 0, as pmacctd does.
# (The sample's first line is a purge_init marker: records from line 2.)
standin_pmacctd() {
	cat > "$1" <<-EOS
	#!/bin/sh
	trap 'sed -n 4p "$SAMPLE"; exit 0' INT
	sed -n 2,3p "$SAMPLE"
	while :; do sleep 0.1; done
	EOS
	chmod +x "$1"
}

@test "systemd: the pipeline unit's line: READY, watchdog from kafkatee-pipe, reload, a stop drains pmacctd's last purge" {
	u=$UNITS/kafkatee-pipe-pmacctd.service
	line=$(shell_line "$u" ExecStart)
	[ -n "$line" ]
	standin_pmacctd "$T/pmacctd"
	# the stand-ins for the installed paths; --stdout instead of Kafka
	line=${line//\/usr\/sbin\/pmacctd -f \/etc\/pmacct\/pmacctd.conf/$T/pmacctd}
	line=${line//\/usr\/bin\/kafkatee-pipe -c \/etc\/kafkatee-pipe\/netflow.conf/$KTP --stdout -v -o deadletter.file=$T/dl}
	# setpriv to this test's user and group (kept: no privilege needed)
	line=${line//--reuid=kafkatee-pipe --regid=kafkatee-pipe --init-groups/--reuid=$(id -u) --regid=$(id -g) --keep-groups}
	[[ "$line" == *"$T/pmacctd | /usr/bin/setpriv --reuid=$(id -u) --regid=$(id -g) --keep-groups $KTP --stdout"* ]]
	# the shell is the main process: WATCHDOG_PID is its pid
	setsid python3 "$ROOT/tests/sdnotify.py" "$T/notify" \
		--watchdog-usec 400000 --watchdog-pid self -- \
		/bin/sh -c "$line" > "$T/out" 2> "$T/err" 3>&- &
	pgid=$!
	KILL_PGIDS=$pgid
	wait_for_line "$T/out" '.' 10
	WAIT_TIMEOUT=10 wait_for watchdogs_at_least 2
	# systemctl reload: ExecReload with $MAINPID, the shell
	sh_pid=$(pgrep -P "$pgid" -x sh)
	reload=$(unit_value "$u" ExecReload)
	reload=${reload#+} # "+": with full privileges, as we are
	reload=${reload//\$MAINPID/$sh_pid}
	[[ "$reload" == "/usr/bin/pkill -HUP -x --parent $sh_pid kafkatee-pipe" ]]
	$reload
	wait_for_line "$T/err" 'SIGHUP: dead-letter file reopened' 10
	kill -0 "$sh_pid"
	# systemctl stop: KillSignal to every process (KillMode=control-group)
	[ "$(unit_value "$u" KillSignal)" = SIGINT ]
	[ "$(unit_value "$u" KillMode)" = control-group ]
	kill -INT -- "-$pgid"
	WAIT_TIMEOUT=30 wait_for gone "$pgid"
	status=0
	wait "$pgid" || status=$?
	cat "$T/err" "$T/notify"
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$T/out")" -eq 3 ]
	[ "$(jq -s 'map(.ip_src) | length' "$T/out")" -eq 3 ]
	grep -qx '1 READY=1' "$T/notify"
	grep -q ' STOPPING=1$' "$T/notify"
	grep -q 'signal 2: draining stdin' "$T/err"
}

@test "systemd: the template's command line, run here for the instance nfacctd: the shipped configuration takes the files of its directory" {
	u=$UNITS/kafkatee-pipe@.service
	cmd=$(unit_value "$u" ExecStart)
	mkdir -p "$T/etc/kafkatee-pipe" "$T/var/nfacctd.in"
	sed -e 's|^schema.dir = .*|schema.dir = '"$ROOT"'/examples/schemas|' \
		-e 's|/var/lib/kafkatee-pipe/|'"$T"'/var/|' \
		"$ROOT/examples/pmacct-service/kafkatee-pipe.conf" \
		> "$T/etc/kafkatee-pipe/nfacctd.conf"
	cmd=${cmd//%i/nfacctd}
	[[ "$cmd" == *" --input-dir /var/lib/kafkatee-pipe/nfacctd.in" ]]
	cmd=${cmd//\/usr\/bin\/kafkatee-pipe/$KTP}
	cmd=${cmd//\/etc\/kafkatee-pipe/$T/etc/kafkatee-pipe}
	cmd=${cmd//\/var\/lib\/kafkatee-pipe/$T/var}
	# a purge as pmacct writes it (purge_init .. purge_close), settled
	cp "$SAMPLE" "$T/var/nfacctd.in/nfacctd-20261201T100000Z.json"
	touch -d '1 minute ago' "$T/var/nfacctd.in/nfacctd-20261201T100000Z.json"
	mock_start -t eqiad.netflow:1
	status=0
	$cmd -b "$BROKERS" -o input.dir.once=true 2> "$T/err" || status=$?
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(consume_values eqiad.netflow | jq -s 'length')" -eq 60 ]
	[ -z "$(ls -A "$T/var/nfacctd.in")" ]
	[ ! -s "$T/var/nfacctd.dead.jsonl" ]
}

@test "systemd: systemd-run with Type=notify and a 2 s watchdog: ready, pinged for 5 s, exits 0 (needs systemd as PID 1)" {
	[ -d /run/systemd/system ] ||
		skip "systemd is not running here (no /run/systemd/system)"
	[ "$(id -u)" -eq 0 ] || skip "systemd-run for a system unit needs root"
	# kafkatee-pipe is the main process: its READY=1 and WATCHDOG=1 count
	# (NotifyAccess=main); without pings it would be killed after 2 s
	status=0
	{ sed -n 2,6p "$SAMPLE"; sleep 5; } |
		systemd-run --wait --pipe --quiet -p Type=notify \
		-p WatchdogSec=2s -p NoNewPrivileges=yes \
		"$KTP" --stdout > "$T/out" 2> "$T/err" || status=$?
	cat "$T/err"
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$T/out")" -eq 5 ]
}
