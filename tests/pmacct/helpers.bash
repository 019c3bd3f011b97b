# tests/pmacct/helpers.bash: real pmacct collectors (Debian's pmacct 1.7.7:
# nfacctd, pmacctd) piped into kafkatee-pipe, for tests/pmacct.bats.
#
# Load after helpers and records (it uses ROOT, KTP, counters):
#
#	load helpers
#	load records
#	load pmacct/helpers
#
# The collectors' configurations are derived from the shipped examples
# (examples/nfacctd.conf, examples/pmacctd.conf) by pm_conf_*: only the
# port, the interface, the refresh time, and the lock/pid files (moved into
# the test's directory) change, and each change is checked, so a reworded
# example fails the test instead of silently writing to /var/run.
#
# The pipeline runs in its own session (setsid), so that teardown can end
# everything it started, pmacct's forked writers included, by its process
# group id, and a Ctrl-C can be imitated with one kill to that group.
#
# Every wait is bounded.

PM_DIR=
PM_PID=
PM_PGID=
PM_HTTP_PID=
PM_NFGEN_PID=

# pm_require [capture]: skips the test when pmacct or its tools are
# missing, or, with "capture", when it cannot capture on lo (not root).
pm_require() {
	local t

	case :$PATH: in
	*:/usr/sbin:*) ;;
	*) PATH=$PATH:/usr/sbin ;;	# nfacctd, pmacctd, softflowd
	esac
	if [ "${1:-}" = capture ] && [ "$(id -u)" -ne 0 ]; then
		skip "pmacctd needs root (CAP_NET_RAW) to capture on lo"
	fi
	for t in nfacctd pmacctd softflowd curl jq setsid /usr/bin/python3; do
		command -v "$t" >/dev/null ||
		    skip "$t not installed (make deps: pmacct softflowd)"
	done
}

# pm_free_port tcp|udp: prints a port that is free on 127.0.0.1 now.
pm_free_port() {
	/usr/bin/python3 - "$1" <<'EOF'
import socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

# _pm_sed FILE OUT SCRIPT PATTERN...: OUT = sed SCRIPT FILE, and fails
# unless each extended regular expression PATTERN matches a line of OUT.
_pm_sed() {
	local in=$1 out=$2 script=$3 p

	shift 3
	sed -E "$script" "$in" >"$out" || return
	for p in "$@"; do
		grep -Eq -- "$p" "$out" ||
		    _fail "$out: derived from $in, has no /$p/:" "$(cat "$out")" ||
		    return
	done
}

# pm_conf_nfacctd OUT UDP_PORT [REFRESH]: examples/nfacctd.conf, listening
# on 127.0.0.1:UDP_PORT, purging every REFRESH s (default 2), lock and pid
# files in the test's directory.
pm_conf_nfacctd() {
	local out=$1 port=$2 refresh=${3:-2} d

	d=$(dirname "$out")
	_pm_sed "$ROOT/examples/nfacctd.conf" "$out" "
		s|^nfacctd_ip:.*|nfacctd_ip: 127.0.0.1|
		s|^nfacctd_port:.*|nfacctd_port: $port|
		s|^print_refresh_time\[nf\]:.*|print_refresh_time[nf]: $refresh|
		s|^print_output_lock_file\[nf\]:.*|print_output_lock_file[nf]: $d/print-nf.lock|
		\$a pidfile: $d/collector.pid" \
	    '^daemonize: false$' '^nfacctd_ip: 127\.0\.0\.1$' \
	    "^nfacctd_port: $port\$" "^print_refresh_time\[nf\]: $refresh\$" \
	    "^print_output_lock_file\[nf\]: $d/" '^print_markers\[nf\]: true$' \
	    '^print_output\[nf\]: json$' '^timestamps_since_epoch: true$' \
	    "^pidfile: $d/collector.pid\$" || return
	! grep -q '^print_output_file' "$out" ||
	    _fail "$out: print_output_file is set: nothing would reach stdout"
}

# pm_conf_pmacctd OUT TCP_PORT map|iface [REFRESH]: examples/pmacctd.conf,
# capturing on lo only the TCP traffic of TCP_PORT (pcap_filter), times in
# UTC (its "! timestamps_utc: true" uncommented), purging every REFRESH s
# (default 2), lock and pid files in the test's directory.
#   map:   the interface comes from a pcap_interfaces_map (lo), which
#          keeps pmacctd's shutdown statistics off stdout;
#   iface: "pcap_interface: lo", as in the example: at SIGINT/SIGTERM
#          pmacctd 1.7.7 then printf()s 3 "NOTICE ( default/core ): ..."
#          lines to stdout after the last purge.
pm_conf_pmacctd() {
	local out=$1 port=$2 mode=$3 refresh=${4:-2} d iface

	d=$(dirname "$out")
	case $mode in
	map)
		echo 'ifindex=1 ifname=lo' >"$d/interfaces.map"
		iface="pcap_interfaces_map: $d/interfaces.map"
		;;
	iface)
		iface='pcap_interface: lo'
		;;
	*)
		_fail "pm_conf_pmacctd: mode map or iface, not '$mode'"
		return
		;;
	esac
	_pm_sed "$ROOT/examples/pmacctd.conf" "$out" "
		s|^pcap_interface:.*|$iface\\npcap_filter: tcp port $port|
		s|^print_refresh_time\[out\]:.*|print_refresh_time[out]: $refresh|
		s|^print_output_lock_file\[out\]:.*|print_output_lock_file[out]: $d/print-out.lock|
		s|^! *timestamps_utc: true|timestamps_utc: true|
		\$a pidfile: $d/collector.pid" \
	    '^daemonize: false$' "^${iface%%:*}: " \
	    "^pcap_filter: tcp port $port\$" \
	    "^print_refresh_time\[out\]: $refresh\$" \
	    "^print_output_lock_file\[out\]: $d/" '^print_markers\[out\]: true$' \
	    '^print_output\[out\]: json$' '^timestamps_utc: true$' \
	    "^pidfile: $d/collector.pid\$" || return
	! grep -q '^print_output_file' "$out" ||
	    _fail "$out: print_output_file is set: nothing would reach stdout"
}

# pm_start COLLECTOR CONF KTP_ARGS...: in DIR=$T (the test's directory),
# runs, in a new session,
#	COLLECTOR -f CONF 2>collector.err | tee -i collector.out |
#	    $KTP KTP_ARGS 2>ktp.err
# and records the exit statuses in collector.rc and ktp.rc, the pid of
# kafkatee-pipe in ktp.pid.  Sets PM_DIR and PM_PGID; returns once the
# collector has written its pid file (collector.pid, from CONF).
# tee -i: a Ctrl-C to the group must reach only the collector and
# kafkatee-pipe, as it would with no tee at all.
pm_start() {
	local collector=$1 conf=$2 i

	shift 2
	PM_DIR=$T
	rm -f "$T"/collector.{rc,out,err,pid} "$T"/ktp.{rc,err,pid} "$T/pgid"
	# shellcheck disable=SC2016 # expanded by the inner shells
	setsid bash -c '
		c=$1 conf=$2 d=$3
		shift 3
		# the process group of this session, for teardown
		read -r _ _ _ _ pgid _ </proc/$$/stat && echo "$pgid" >"$d/pgid"
		{ "$c" -f "$conf" 2>"$d/collector.err"; echo $? >"$d/collector.rc"; } |
		    tee -i "$d/collector.out" |
		    { sh -c '\''echo $$ >"$0"; exec "$@"'\'' "$d/ktp.pid" "$@" \
			2>"$d/ktp.err"; echo $? >"$d/ktp.rc"; }
	    ' pm-pipeline "$collector" "$conf" "$T" "$KTP" "$@" \
	    </dev/null >"$T/pipeline.out" 2>"$T/pipeline.err" 3>&- &
	PM_PID=$!
	for ((i = 0; i < 200; i++)); do
		if [ -s "$T/pgid" ] && [ -s "$T/collector.pid" ] &&
		    [ -s "$T/ktp.pid" ]; then
			PM_PGID=$(cat "$T/pgid")
			return 0
		fi
		[ -e "$T/ktp.rc" ] && break
		sleep 0.05
	done
	[ -s "$T/pgid" ] && PM_PGID=$(cat "$T/pgid")
	_fail "pm_start: $collector did not start; its stderr:" \
	    "$(tail -n 20 "$T/collector.err" 2>&1)" "kafkatee-pipe:" \
	    "$(cat "$T/ktp.err" 2>&1)"
}

# pm_wait_ready nfacctd|pmacctd: waits (at most 10 s) for the print
# plugin to be ready.  nfacctd says "waiting for NetFlow/IPFIX data"
# before its plugin is up, and what arrives in between is silently lost
# (softflowd -r replays in a millisecond: all 120 flows, 3 times in 5).
pm_wait_ready() {
	wait_for_line "$PM_DIR/collector.err" \
	    'INFO \( [a-z]+/print \): JSON: setting object handlers' 10 ||
	    return
	if [ "$1" = pmacctd ]; then
		wait_for_line "$PM_DIR/collector.err" 'link type is' 10
	fi
}

# pm_collector_pid: the collector's core process (from its pid file).
pm_collector_pid() {
	cat "$PM_DIR/collector.pid"
}

# pm_wait_purges N [TIMEOUT]: waits (default 20 s) until the collector
# has printed at least N purge_close markers.
pm_wait_purges() {
	WAIT_TIMEOUT=${2:-20} wait_for _pm_has_purges "$1" ||
	    _fail "pm_wait_purges: fewer than $1 purges; collector stderr:" \
		"$(tail -n 20 "$PM_DIR/collector.err")"
}

_pm_has_purges() {
	[ "$(grep -c '"event_type": "purge_close"' "$PM_DIR/collector.out" \
	    2>/dev/null)" -ge "$1" ]
}

# pm_finish [TIMEOUT]: waits (default 30 s) for the whole pipeline to
# exit; sets PM_COLLECTOR_RC and PM_KTP_RC and PM_SECONDS, how long it
# took.
pm_finish() {
	local i n=$((${1:-30} * 20)) t0=$SECONDS

	for ((i = 0; i < n; i++)); do
		[ -s "$PM_DIR/ktp.rc" ] && [ -s "$PM_DIR/collector.rc" ] &&
		    ! _pm_group_alive && break
		sleep 0.05
	done
	# shellcheck disable=SC2034 # for the caller
	PM_SECONDS=$((SECONDS - t0))
	[ -s "$PM_DIR/ktp.rc" ] && [ -s "$PM_DIR/collector.rc" ] ||
	    _fail "pm_finish: pipeline still running after ${1:-30} s:" \
		"$(ps -o pid,stat,args -g "$PM_PGID" 2>&1)" ||
	    return
	PM_COLLECTOR_RC=$(cat "$PM_DIR/collector.rc")
	PM_KTP_RC=$(cat "$PM_DIR/ktp.rc")
	# shown by bats if the test fails
	{
		echo "collector exit $PM_COLLECTOR_RC, kafkatee-pipe exit $PM_KTP_RC"
		echo "collector stdout (last 5 of $(wc -l <"$PM_DIR/collector.out") lines):"
		tail -n 5 "$PM_DIR/collector.out" | cut -c 1-200
		echo "collector stderr (last 5):"
		tail -n 5 "$PM_DIR/collector.err"
		echo "kafkatee-pipe stderr:"
		cat "$PM_DIR/ktp.err"
	} >&2
}

# The pipeline's own process group, never ours: that would be bats itself.
_pm_pgid_ok() {
	[ -n "$PM_PGID" ] && [ "$PM_PGID" -gt 1 ] &&
	    [ "$PM_PGID" != "$(ps -o pgid= -p $$ | tr -d ' ')" ]
}

# pm_ctrl_c: SIGINT to every process of the pipeline, as a Ctrl-C in a
# shell does (tee -i ignores it; the bash wrappers, started in the
# background, too).
pm_ctrl_c() {
	_pm_pgid_ok || _fail "pm_ctrl_c: no process group" || return
	kill -INT -- "-$PM_PGID"
}

_pm_group_alive() {
	[ -n "$PM_PGID" ] && kill -0 -- "-$PM_PGID" 2>/dev/null
}

# pm_stop: for teardown.  Ends whatever is left of the pipeline's process
# group (TERM, then KILL after 5 s), the HTTP server and nfgen.py.
# Never fails.
pm_stop() {
	local i

	pm_http_stop
	if [ -n "$PM_NFGEN_PID" ]; then
		kill -TERM "$PM_NFGEN_PID" 2>/dev/null || true
		wait "$PM_NFGEN_PID" 2>/dev/null || true
	fi
	PM_NFGEN_PID=
	if _pm_pgid_ok; then
		if _pm_group_alive; then
			kill -TERM -- "-$PM_PGID" 2>/dev/null || true
			for ((i = 0; i < 100; i++)); do
				_pm_group_alive || break
				sleep 0.05
			done
			kill -KILL -- "-$PM_PGID" 2>/dev/null || true
		fi
	fi
	PM_PGID=
	# only our own children: a bare wait would wait for the mock too
	if [ -n "$PM_PID" ]; then
		kill -KILL "$PM_PID" 2>/dev/null || true
		wait "$PM_PID" 2>/dev/null || true
	fi
	PM_PID=
	return 0
}

# pm_http_start PORT: a python3 http.server on 127.0.0.1:PORT serving a
# small file; returns once it answers (at most 10 s).
pm_http_start() {
	local port=$1

	mkdir -p "$T/www" && head -c 3000 /dev/zero | tr '\0' x >"$T/www/index.html"
	/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$T/www" \
	    "$port" </dev/null >"$T/http.log" 2>&1 3>&- &
	PM_HTTP_PID=$!
	WAIT_TIMEOUT=10 wait_for curl -sf -o /dev/null --max-time 2 \
	    "http://127.0.0.1:$port/" ||
	    _fail "pm_http_start: no answer:" "$(cat "$T/http.log")"
}

pm_http_stop() {
	if [ -n "$PM_HTTP_PID" ]; then
		kill -TERM "$PM_HTTP_PID" 2>/dev/null || true
		wait "$PM_HTTP_PID" 2>/dev/null || true
	fi
	PM_HTTP_PID=
}

# pm_http_get PORT N: N GET requests (each a short TCP connection).
pm_http_get() {
	local i

	for ((i = 0; i < $2; i++)); do
		curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$1/" ||
		    return
	done
}

# pm_check_pipeline GOT: the checks every run makes, GOT being what the
# topic holds, one "TIMESTAMP TAB VALUE" per message, in production order.
#  - the collector's stdout (collector.out) holds only JSON objects, apart
#    from $PM_NONJSON invalid lines and $PM_LOGLINES pmacct log lines
#    (default 0 each) that it printed after its last purge;
#  - every purge_init has its purge_close, and purged_entries add up to the
#    purge records printed (pmacct's own completeness);
#  - kafkatee-pipe read every line, delivered every purge record, skipped
#    the markers and the log lines, counted the other non-JSON lines as
#    invalid, purge_mismatches=0;
#  - each message is what tests/envelope.jq makes of its record, in order
#    (meta.id, meta.dt and sequence_run masked; numbered 1.. in order,
#    one run's name), with the Kafka timestamp of its "dt".
# Sets PM_RECORDS, the number of purge records, and counters' variables.
# shellcheck disable=SC2154 # read, delivered...: set by counters
pm_check_pipeline() {
	local got=$1 d=$PM_DIR invalid_lines=${PM_NONJSON:-0} lines markers
	local logs=${PM_LOGLINES:-0} nonjson inits closes entries bad

	nonjson=$((invalid_lines + logs))

	lines=$(wc -l <"$d/collector.out")
	bad=$(grep -vc '^{"event_type": "purge' "$d/collector.out" || true)
	[ "$bad" -eq "$nonjson" ] ||
	    _fail "collector printed $bad non-record lines, expected $nonjson:" \
		"$(grep -v '^{"event_type": "purge' "$d/collector.out")" || return
	if [ "$nonjson" -gt 0 ]; then
		# they come after the last record
		[ "$(tail -n "$nonjson" "$d/collector.out" | grep -c '^{')" -eq 0 ] ||
		    _fail "non-JSON lines not at the end:" \
			"$(tail -n $((nonjson + 2)) "$d/collector.out")" || return
	fi
	grep '^{' "$d/collector.out" >"$d/records.jsonl"
	jq -e -s 'all(type == "object")' "$d/records.jsonl" >/dev/null ||
	    _fail "collector.out: a line is not a JSON object" || return
	PM_RECORDS=$(jq -s 'map(select(.event_type == "purge")) | length' \
	    "$d/records.jsonl")
	inits=$(jq -s 'map(select(.event_type == "purge_init")) | length' \
	    "$d/records.jsonl")
	closes=$(jq -s 'map(select(.event_type == "purge_close")) | length' \
	    "$d/records.jsonl")
	entries=$(jq -s 'map(select(.event_type == "purge_close")
	    | .purged_entries) | add // 0' "$d/records.jsonl")
	markers=$((inits + closes))
	[ "$inits" -eq "$closes" ] && [ "$entries" -eq "$PM_RECORDS" ] ||
	    _fail "collector: $inits purge_init, $closes purge_close," \
		"purged_entries add up to $entries, $PM_RECORDS records" ||
	    return
	[ "$PM_RECORDS" -gt 0 ] || _fail "collector printed no record" ||
	    return

	counters "$d/ktp.err" ||
	    _fail "summary invariant broken:" "$(cat "$d/ktp.err")" || return
	[ "$read" -eq "$lines" ] && [ "$delivered" -eq "$PM_RECORDS" ] &&
	    [ "$skipped" -eq $((markers + logs)) ] &&
	    [ "$invalid" -eq "$invalid_lines" ] &&
	    [ "$failed" -eq 0 ] && [ "$purge_mismatches" -eq 0 ] &&
	    [ "$produced" -eq "$PM_RECORDS" ] ||
	    _fail "summary: want read=$lines delivered=$PM_RECORDS" \
		"skipped=$((markers + logs)) invalid=$invalid_lines, got:" \
		"$(grep summary: "$d/ktp.err")" || return

	[ "$(wc -l <"$got")" -eq "$PM_RECORDS" ] ||
	    _fail "topic holds $(wc -l <"$got") messages, want $PM_RECORDS" ||
	    return
	jq -n -c --arg domain "$PM_DOMAIN" -f "$ROOT/tests/envelope.jq" \
	    "$d/records.jsonl" >"$d/want" || return
	cut -f 2- "$got" | jq -c -f "$ROOT/tests/mask.jq" >"$d/got" || return
	diff "$d/want" "$d/got" >&2 || _fail "events differ from the oracle" ||
	    return
	# one run: one run's name (its form checked by mask.jq)
	[ "$(cut -f 2- "$got" | jq -r .sequence_run | sort -u | wc -l)" -eq 1 ] ||
	    _fail "more than one sequence_run in one run" || return
	# meta.id: a fresh UUID v4 each; Kafka timestamp = dt in ms
	cut -f 2- "$got" | jq -r .meta.id | sort | uniq -d >"$d/dup-ids"
	[ ! -s "$d/dup-ids" ] || _fail "duplicate meta.id" || return
	cut -f 2- "$got" | jq -e -r '.meta.id | test(
	    "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")' |
	    grep -qv true && { _fail "meta.id not a UUID v4"; return; }
	jq -R -r 'split("\t") | (.[1] | fromjson | .dt
	    | capture("^(?<s>[^.]+)\\.(?<ms>[0-9]{3})Z$")
	    | (.s + "Z" | fromdateiso8601) * 1000 + (.ms | tonumber)) as $dt
	    | select((.[0] | tonumber) != $dt) | .[0] + " " + .[1]' "$got" \
	    >"$d/bad-ts"
	[ ! -s "$d/bad-ts" ] || _fail "Kafka timestamp != dt:" \
	    "$(head -n 3 "$d/bad-ts")"
}

# pm_consume_mock TOPIC OUT: the mock's messages (one partition) as
# "TIMESTAMP TAB VALUE" lines in offset order.
pm_consume_mock() {
	timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t "$1" -o beginning \
	    -e -q -f '%p\t%o\t%T\t%s\n' | sort -s -t $'\t' -k1,1n -k2,2n |
	    cut -f 3- >"$2"
}

# pm_consume_kafka TOPIC OUT: the same from the real broker.
pm_consume_kafka() {
	kafka_consume "$1" -f '%p\t%o\t%T\t%s\n' |
	    sort -s -t $'\t' -k1,1n -k2,2n | cut -f 3- >"$2"
}

# pm_nfgen_start UDP_PORT RATE: tests/pmacct/nfgen.py sends RATE distinct
# NetFlow v5 flows a second to 127.0.0.1:UDP_PORT until pm_nfgen_stop.
pm_nfgen_start() {
	/usr/bin/python3 "$ROOT/tests/pmacct/nfgen.py" 127.0.0.1 "$1" "$2" \
	    </dev/null >"$T/nfgen.out" 2>"$T/nfgen.err" 3>&- &
	PM_NFGEN_PID=$!
}

# pm_nfgen_stop: stops the sender; sets PM_FLOWS, the flows it sent, and
# PM_FLOW_PACKETS, the sum of their packet counters.
pm_nfgen_stop() {
	local line

	[ -n "$PM_NFGEN_PID" ] || _fail "pm_nfgen_stop: not started" ||
	    return
	kill -TERM "$PM_NFGEN_PID" 2>/dev/null || true
	wait "$PM_NFGEN_PID" || true
	PM_NFGEN_PID=
	line=$(grep '^flows=' "$T/nfgen.out") ||
	    _fail "nfgen: no totals:" "$(cat "$T/nfgen.err")" || return
	# shellcheck disable=SC2034 # for the caller
	PM_FLOWS=$(echo "$line" | sed -E 's/^flows=([0-9]+) .*/\1/')
	# shellcheck disable=SC2034
	PM_FLOW_PACKETS=$(echo "$line" |
	    sed -E 's/.* packets=([0-9]+) .*/\1/')
}

# pm_writers: prints how many print-plugin writers the collector has now
# (it forks one a purge; a writer blocked on the pipe stays).
pm_writers() {
	ps -o args= -g "$PM_PGID" 2>/dev/null | grep -c 'Writer' || true
}

_pm_no_writer() {
	[ "$(pm_writers)" -eq 0 ]
}

# pm_wait_idle_purge [TIMEOUT]: waits (default 20 s) for the collector to
# log an empty purge ("QN: 0/0") after the lines its log has now: every
# flow it had received by then has been purged.
pm_wait_idle_purge() {
	local from

	from=$(($(wc -l <"$PM_DIR/collector.err") + 1))
	WAIT_TIMEOUT=${1:-20} wait_for _pm_idle_purge_since "$from" ||
	    _fail "pm_wait_idle_purge: no empty purge; collector stderr:" \
		"$(tail -n 20 "$PM_DIR/collector.err")"
}

_pm_idle_purge_since() {
	tail -n "+$1" "$PM_DIR/collector.err" |
	    grep -q 'Purging cache - END (PID: [0-9]*, QN: 0/0'
}

# pm_skipped_purges: how many purges the collector skipped, writers
# being all busy ("Maximum number of writer processes reached").
pm_skipped_purges() {
	grep -c 'Maximum number of writer processes reached' \
	    "$PM_DIR/collector.err" || true
}
