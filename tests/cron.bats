#!/usr/bin/env bats
# no-asan: a real pmacctd; once is enough.
# The cron recipe, examples/cron, end to end: a real pmacctd (Debian's
# pmacct 1.7.7) with the memory plugin of examples/cron/pmacctd-memory.conf
# captures HTTP requests to a python3 http.server on lo; the job
# examples/cron/pmacct-to-kafka.sh, run as cron would, reads and erases
# the table with the pmacct client and ships it through kafkatee-pipe to
# the mock cluster.  logger(1) is a stand-in that writes what would go to
# syslog into $T/syslog.  Between runs the test waits for the table to
# settle, and takes it as the truth: pmacct -s without -e, which does not
# erase.  See tests/pmacct/helpers.bash for the collector's helpers.

# shellcheck disable=SC2154 # status...: set by bats
load helpers
load records
load pmacct/helpers

JOB=
TOPIC=cron.netflow

setup() {
	pm_require capture
	command -v pmacct >/dev/null || skip "pmacct (the client) not installed"
	export TZ=UTC
	T=$BATS_TEST_TMPDIR
	JOB=$ROOT/examples/cron/pmacct-to-kafka.sh
	mkdir -p "$T/bin"
	ln -s "$KTP" "$T/bin/kafkatee-pipe"
	# shellcheck disable=SC2016 # expanded by the stand-in
	printf '#!/bin/sh\n# stand-in for logger -t TAG -p PRIORITY -- LINE\nwhile [ $# -gt 0 ]; do case $1 in -t) t=$2; shift 2 ;; -p) p=$2; shift 2 ;; --) shift; break ;; *) break ;; esac; done\necho "$p $t $*" >> "%s"\n' \
	    "$T/syslog" >"$T/bin/logger"
	chmod +x "$T/bin/logger"
	mock_start -t "$TOPIC:1"
	port=$(pm_free_port tcp)
	pm_http_start "$port"
	cron_pmacctd
}

teardown() {
	pm_stop
	mock_stop
}

# cron_pmacctd: pmacctd with examples/cron/pmacctd-memory.conf, capturing
# on lo only the TCP traffic of $port, its socket and pid file in T; in a
# session of its own, for pm_stop.  Returns once it captures.
cron_pmacctd() {
	_pm_sed "$ROOT/examples/cron/pmacctd-memory.conf" "$T/pmacctd.conf" "
		s|^pcap_interface:.*|pcap_interface: lo\\npcap_filter: tcp port $port|
		s|^imt_path\[mem\]:.*|imt_path[mem]: $T/memory.pipe|
		\$a pidfile: $T/collector.pid" \
	    '^daemonize: false$' '^pcap_interface: lo$' \
	    "^pcap_filter: tcp port $port\$" '^plugins: memory\[mem\]$' \
	    "^imt_path\[mem\]: $T/memory.pipe\$" \
	    '^imt_mem_pools_number\[mem\]: 0$' "^pidfile: $T/collector.pid\$"
	setsid pmacctd -f "$T/pmacctd.conf" </dev/null >"$T/collector.out" \
	    2>"$T/collector.err" 3>&- &
	PM_PID=$!
	PM_DIR=$T
	wait_for_line "$T/collector.err" "waiting for data on: '$T/memory.pipe'"
	wait_for_line "$T/collector.err" 'link type is'
	PM_PGID=$(ps -o pgid= -p "$(cat "$T/collector.pid")" | tr -d ' ')
}

# requests N FILE: N GET requests, their client ports appended to FILE.
requests() {
	local i

	for ((i = 0; i < $1; i++)); do
		curl -sf -o /dev/null --max-time 5 -w '%{local_port}\n' \
		    "http://127.0.0.1:$port/" >>"$2" || return
	done
}

# flows: what makes a record here, one sorted line a record: the event's
# members that came from pmacct's table, or the table's own.
flows() {
	jq -c -S '{ip_src, ip_dst, port_src, port_dst, ip_proto, packets, bytes}' |
	    sort
}

# table: the memory table now, without erasing it, as flows.
table() {
	pmacct -p "$T/memory.pipe" -s -O json -I | flows
}

# settle PORTS OUT: waits (at most 20 s) until the table holds both
# directions of every connection of PORTS (client ports, one a line) and
# has not changed for 1.5 s (pmacctd gets packets from libpcap in blocks,
# about a second apart); the table as flows in OUT.
settle() {
	local i want last=

	want=$(($(wc -l <"$1") * 2))
	for ((i = 0; i < 14; i++)); do
		table >"$2"
		if [ "$(jq -s --slurpfile p <(jq -s . "$1") \
		    '[.[] | select(.port_src as $s | .port_dst as $d
			| $p[0] | any(.[]; . == $s or . == $d))] | length' \
		    "$2")" -ge "$want" ] && [ "$(cat "$2")" = "$last" ]; then
			return 0
		fi
		last=$(cat "$2")
		sleep 1.5
	done
	_fail "settle: the table did not settle:" "$(cat "$2")"
}

# job [KAFKATEE-PIPE-OPTION...]: runs the job as cron would (no terminal,
# no stdin); its status in JOB_RC, its stderr in T/job.err.
job() {
	JOB_RC=0
	PATH="$T/bin:$PATH" "$JOB" -p "$T/memory.pipe" \
	    -c "$ROOT/examples/netflow.conf" -d "$T/state" -- \
	    -b "$BROKERS" -t "$TOPIC" -o domain=test.example "$@" \
	    </dev/null >"$T/job.out" 2>"$T/job.err" 3>&- || JOB_RC=$?
}

# envelope FILE N: FILE holds N events of one run of kafkatee-pipe, each
# in the envelope: schema, meta, dt = the ingestion time (the table has
# no times), numbered 1..N, no pmacct "event_type".
envelope() {
	[ "$(wc -l <"$1")" -eq "$2" ] || _fail "$1: not $2 events" || return
	jq -e -s --argjson n "$2" '
	    all(.["$schema"] == "/netflow/flow/1.1.0"
		and .meta.stream == "netflow" and .meta.domain == "test.example"
		and (.meta.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))
		and (.dt | test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{3}Z$"))
		and .dt == .meta.dt and (has("event_type") | not))
	    and (map(.sequence) == [range(1; $n + 1)])
	    and (map(.sequence_run) | unique | length == 1)' "$1" >/dev/null ||
	    _fail "$1: not in the envelope:" "$(head -n 2 "$1")"
}

@test "cron: two runs ship the table in the envelope, each what came since the last; one summary line each to syslog" {
	requests 3 "$T/ports1"
	settle "$T/ports1" "$T/table1"
	n1=$(wc -l <"$T/table1")
	job
	[ "$JOB_RC" -eq 0 ]
	# cron mails a job's output: a good run says nothing
	[ ! -s "$T/job.err" ]
	[ ! -s "$T/job.out" ]
	# erased: the table is empty
	[ -z "$(table)" ]
	consume_values "$TOPIC" >"$T/events1"
	envelope "$T/events1" "$n1"
	diff "$T/table1" <(flows <"$T/events1")

	requests 2 "$T/ports2"
	settle "$T/ports2" "$T/table2"
	n2=$(wc -l <"$T/table2")
	job
	[ "$JOB_RC" -eq 0 ]
	consume_values "$TOPIC" | tail -n +$((n1 + 1)) >"$T/events2"
	envelope "$T/events2" "$n2"
	diff "$T/table2" <(flows <"$T/events2")
	# only the second run's connections: none of the first's
	jq -e -s --slurpfile p <(jq -s . "$T/ports1") \
	    'all(.port_src as $s | .port_dst as $d
		| $p[0] | any(.[]; . == $s or . == $d) | not)' "$T/events2"
	[ "$(cat "$T/events1" "$T/events2" | jq -r .sequence_run | sort -u |
	    wc -l)" -eq 2 ]

	# one line a run, to syslog, at user.info
	[ "$(wc -l <"$T/syslog")" -eq 2 ]
	for n in "$n1" "$n2"; do
		grep -Eqx "user.info pmacct-to-kafka ok: $T/memory.pipe: $n records; read=$n produced=$n delivered=$n invalid=0 failed=0 skipped=0 dead_lettered=0 purge_mismatches=0 exit=0 peak_rss=[0-9]+KiB" \
		    "$T/syslog"
	done
	[ ! -s "$T/state/dead.jsonl" ]
	[ "$(ls "$T/state")" = dead.jsonl ]
}

@test "cron: Kafka down: exit 3, the events dead-lettered, the loss said on stderr and syslog; kafkatee-pipe unable to start: the table kept" {
	requests 2 "$T/ports1"
	settle "$T/ports1" "$T/table1"
	n=$(wc -l <"$T/table1")
	mock_cmd "down -1"
	job -o flush.timeout.ms=1000
	mock_cmd "up -1"
	[ "$JOB_RC" -eq 3 ]
	line="loss: $T/memory.pipe: $n records; read=$n produced=$n delivered=0 invalid=0 failed=$n skipped=0 dead_lettered=$n purge_mismatches=0 exit=3 peak_rss=[0-9]+KiB; not delivered events are in $T/state/dead.jsonl"
	grep -Eqx "user.err pmacct-to-kafka $line" "$T/syslog"
	[ "$(wc -l <"$T/syslog")" -eq 1 ]
	# stderr, which cron mails: kafkatee-pipe's messages, then the line
	tail -n 1 "$T/job.err" | grep -Eqx "pmacct-to-kafka: $line"
	grep -q '^kafkatee-pipe: flush timed out' "$T/job.err"
	# every record is in the dead-letter file, as its event
	[ "$(wc -l <"$T/state/dead.jsonl")" -eq "$n" ]
	diff "$T/table1" <(jq -c '.value | fromjson' "$T/state/dead.jsonl" | flows)
	[ "$(high_watermarks "$TOPIC")" -eq 0 ]

	# kafkatee-pipe refuses its options: nothing read, the table, erased
	# by then, kept in unread-*.jsonl
	requests 2 "$T/ports2"
	settle "$T/ports2" "$T/table2"
	n=$(wc -l <"$T/table2")
	job -o no.such.key=1
	[ "$JOB_RC" -eq 1 ]
	[ -z "$(table)" ]
	grep -Eqx "user.err pmacct-to-kafka error: $T/memory.pipe: $n records; kafkatee-pipe exit 1, no summary; $n unread records kept in $T/state/unread-[0-9TZ]+-[0-9]+\\.jsonl" \
	    "$T/syslog"
	grep -q "unknown key 'no.such.key'" "$T/job.err"
	diff "$T/table2" <(flows <"$T"/state/unread-*.jsonl)
}

@test "cron: Kafka down with spool.dir: exit 4, the events kept, said at warning; the next run, Kafka back, delivers them first" {
	requests 2 "$T/ports1"
	settle "$T/ports1" "$T/table1"
	n1=$(wc -l <"$T/table1")
	mock_cmd "down -1"
	job -o flush.timeout.ms=1000 -o spool.dir="$T/state/spool"
	mock_cmd "up -1"
	[ "$JOB_RC" -eq 4 ]
	# produced and replayed: the probes sent while Kafka was away
	grep -Eqx "user.warning pmacct-to-kafka kept: $T/memory.pipe: $n1 records; read=$n1 produced=[0-9]+ delivered=0 invalid=0 failed=0 skipped=0 dead_lettered=0 purge_mismatches=0 spooled=$n1 replayed=[0-9]+ carried=0 kept=$n1 spool_lost=0 exit=4 peak_rss=[0-9]+KiB; events kept in the spool for the next run" \
	    "$T/syslog"
	tail -n 1 "$T/job.err" | grep -q '^pmacct-to-kafka: kept: '
	[ ! -s "$T/state/dead.jsonl" ]

	requests 2 "$T/ports2"
	settle "$T/ports2" "$T/table2"
	n2=$(wc -l <"$T/table2")
	job -o spool.dir="$T/state/spool"
	[ "$JOB_RC" -eq 0 ]
	[ ! -s "$T/job.err" ]
	grep -Eqx "user.info pmacct-to-kafka ok: $T/memory.pipe: $n2 records; read=$n2 produced=[0-9]+ delivered=$((n1 + n2)) invalid=0 failed=0 skipped=0 dead_lettered=0 purge_mismatches=0 spooled=[0-9]+ replayed=[0-9]+ carried=$n1 kept=0 spool_lost=0 exit=0 peak_rss=[0-9]+KiB" \
	    "$T/syslog"
	# the kept run's events first, as they were built, then the new run's
	consume_values "$TOPIC" >"$T/events"
	diff "$T/table1" <(head -n "$n1" "$T/events" | flows)
	diff "$T/table2" <(tail -n +$((n1 + 1)) "$T/events" | flows)
	head -n "$n1" "$T/events" >"$T/events1"
	envelope "$T/events1" "$n1"
}
