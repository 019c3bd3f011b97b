#!/usr/bin/env bats
# no-asan: real pmacct daemons and a real Kafka broker; once is enough.
# End to end with Debian's pmacct 1.7.7 (make deps: pmacct softflowd):
#   nfacctd:  softflowd replays examples/samples/loopback-http.pcap as IPFIX
#             into nfacctd -f <examples/nfacctd.conf> | tee | kafkatee-pipe
#   pmacctd:  live capture on lo of HTTP requests to a python3 http.server,
#             pmacctd -f <examples/pmacctd.conf> | tee | kafkatee-pipe
#   outage:   tests/pmacct/nfgen.py sends NetFlow v5 to nfacctd purging
#             every second while the mock cluster is down for 30 s, with
#             and without kafkatee-pipe's spool (issue 11)
# each against the mock cluster and a real Apache Kafka broker (skipped,
# with the reason, when tests/kafka/kafka.sh cannot run one).  What reached
# Kafka is compared with what the collector printed, through the jq oracle
# tests/envelope.jq.  See tests/pmacct/helpers.bash.

# shellcheck disable=SC2154 # exit, dead_lettered...: set by counters
load helpers
load records
load kafka/helpers
load pmacct/helpers

setup_file() {
	kafka_start
}

setup() {
	pm_require
	export TZ=UTC
	T=$BATS_TEST_TMPDIR
	PM_DOMAIN=test.example
}

teardown() {
	pm_stop
	mock_stop
}

teardown_file() {
	kafka_stop
}

# ktp_args BROKERS TOPIC: kafkatee-pipe's arguments for every run.
ktp_args() {
	KTP_ARGS=(-c "$ROOT/examples/netflow.conf" -b "$1" -t "$2"
		-o domain="$PM_DOMAIN" -o dt.timezone=UTC
		--dead-letter "$T/dead.jsonl")
}

# nfacctd_replay BROKERS TOPIC: runs the IPFIX scenario up to the end of
# the pipeline, SIGINT to nfacctd alone.
nfacctd_replay() {
	local port

	port=$(pm_free_port udp)
	pm_conf_nfacctd "$T/nfacctd.conf" "$port" 2
	ktp_args "$1" "$2"
	pm_start nfacctd "$T/nfacctd.conf" "${KTP_ARGS[@]}"
	wait_for_line "$T/collector.err" \
	    "waiting for NetFlow/IPFIX data on 127\.0\.0\.1:$port" 10
	pm_wait_ready nfacctd
	# softflowd -r exits when the file is replayed.  No -c: with a
	# control socket, softflowd 1.1.0 blocks in accept() before reading.
	timeout 30 softflowd -r "$ROOT/examples/samples/loopback-http.pcap" \
	    -n "127.0.0.1:$port" -v 10 </dev/null >"$T/softflowd.out" \
	    2>"$T/softflowd.err" 3>&-
	grep -q 'Flows exported: 120 (120 records)' "$T/softflowd.out"
	pm_wait_purges 1 15
	kill -INT "$(pm_collector_pid)"
	pm_finish 30
	echo "# nfacctd: SIGINT to end of pipeline ${PM_SECONDS}s" >&3
	[ "$PM_COLLECTOR_RC" -eq 0 ]
	[ "$PM_KTP_RC" -eq 0 ]
}

# The 120 flows of the capture, as softflowd exported them.
nfacctd_check_flows() {
	[ "$PM_RECORDS" -eq 120 ]
	[ "$(jq -s 'map(select(.event_type == "purge") | .packets) | add' \
	    "$T/records.jsonl")" -eq 720 ]
	[ "$(jq -s 'map(select(.event_type == "purge") | .bytes) | add' \
	    "$T/records.jsonl")" -eq 86700 ]
	[ "$exit" -eq 0 ]
	[ "$dead_lettered" -eq 0 ]
	[ ! -s "$T/dead.jsonl" ]
}

# pmacctd_capture BROKERS TOPIC [map|iface]: runs the live capture
# scenario: requests, a purge, more requests, another purge, then SIGINT to
# pmacctd alone.  Sets port, the HTTP server's.
pmacctd_capture() {
	pm_require capture
	port=$(pm_free_port tcp)
	pm_http_start "$port"
	pm_conf_pmacctd "$T/pmacctd.conf" "$port" "${3:-map}" 2
	ktp_args "$1" "$2"
	pm_start pmacctd "$T/pmacctd.conf" "${KTP_ARGS[@]}"
	pm_wait_ready pmacctd
	pm_http_get "$port" 5
	pm_wait_purges 1 15
	pm_http_get "$port" 5
	pm_wait_purges 2 15
	kill -INT "$(pm_collector_pid)"
	pm_finish 30
	echo "# pmacctd: SIGINT to end of pipeline ${PM_SECONDS}s" >&3
	[ "$PM_COLLECTOR_RC" -eq 0 ]
	[ "$PM_KTP_RC" -eq "${PM_KTP_WANT:-0}" ]
}

pmacctd_check_flows() {
	# only the test's port, all TCP, over 127.0.0.1
	jq -e -s --argjson p "$port" 'map(select(.event_type == "purge"))
	    | all(.ip_proto == "tcp" and .ip_src == "127.0.0.1"
		  and .ip_dst == "127.0.0.1"
		  and (.port_src == $p or .port_dst == $p))' \
	    "$T/records.jsonl" >/dev/null
	[ "$exit" -eq 0 ]
	[ "$dead_lettered" -eq 0 ]
	[ ! -s "$T/dead.jsonl" ]
}

@test "nfacctd: IPFIX from softflowd, SIGINT, mock cluster: events match what nfacctd printed" {
	mock_start -t nf.netflow:1
	nfacctd_replay "$BROKERS" nf.netflow
	pm_consume_mock nf.netflow "$T/topic"
	pm_check_pipeline "$T/topic"
	nfacctd_check_flows
}

@test "nfacctd: IPFIX from softflowd, SIGINT, real Kafka: events match what nfacctd printed" {
	kafka_require
	kafka_create_topic nf.netflow 1
	nfacctd_replay "$KAFKA_BROKERS" nf.netflow
	pm_consume_kafka nf.netflow "$T/topic"
	pm_check_pipeline "$T/topic"
	nfacctd_check_flows
}

@test "pmacctd: live capture on lo, SIGINT, mock cluster: events match what pmacctd printed" {
	mock_start -t pm.netflow:1
	pmacctd_capture "$BROKERS" pm.netflow
	pm_consume_mock pm.netflow "$T/topic"
	pm_check_pipeline "$T/topic"
	pmacctd_check_flows
}

@test "pmacctd: live capture on lo, SIGINT, real Kafka: events match what pmacctd printed" {
	kafka_require
	kafka_create_topic pm.netflow 1
	pmacctd_capture "$KAFKA_BROKERS" pm.netflow
	pm_consume_kafka pm.netflow "$T/topic"
	pm_check_pipeline "$T/topic"
	pmacctd_check_flows
}

# pmacctd 1.7.7 with "pcap_interface:" (as in examples/pmacctd.conf)
# printf()s its capture statistics to stdout when it stops on SIGINT or
# SIGTERM, after the last purge, whatever logfile/syslog say:
#   NOTICE ( default/core ): +++
#   NOTICE ( default/core ): [lo,0] received_packets=N dropped_packets=0
#   NOTICE ( default/core ): ---
# They are pmacct's log, not records: kafkatee-pipe shows them on stderr,
# counts them skipped, and a normal shutdown still exits 0.
@test "pmacctd: pcap_interface, SIGINT: its shutdown NOTICE lines are skipped and shown" {
	mock_start -t pm.netflow:1
	pmacctd_capture "$BROKERS" pm.netflow iface
	pm_consume_mock pm.netflow "$T/topic"
	PM_LOGLINES=3 pm_check_pipeline "$T/topic"
	tail -n 3 "$T/collector.out" | grep -c '^NOTICE ( default/core ): ' |
	    grep -qx 3
	grep -q 'received_packets=[1-9][0-9]* dropped_packets=0' \
	    "$T/collector.out"
	[ "$exit" -eq 0 ]
	[ "$dead_lettered" -eq 0 ]
	[ "$(grep -c 'kafkatee-pipe: pmacct: NOTICE ( default/core ): ' \
	    "$T/ktp.err")" -eq 3 ]
}

# A Ctrl-C reaches the whole pipeline.  pmacctd's print plugin gets the
# SIGINT too: it writes its final purge at once and exits, and pmacctd's
# core, still in its SIGINT handler's sleep(2), takes that for a crash:
# "connection lost to 'out-print'", "no more plugins active. Shutting
# down.", exit 1, no NOTICE lines.  kafkatee-pipe, signalled at the same
# moment, must read on to the end of that purge.
@test "pmacctd: Ctrl-C to the whole pipeline: the final purge is drained" {
	local port

	pm_require capture
	mock_start -t pm.netflow:1
	port=$(pm_free_port tcp)
	pm_http_start "$port"
	pm_conf_pmacctd "$T/pmacctd.conf" "$port" map 60
	ktp_args "$BROKERS" pm.netflow
	pm_start pmacctd "$T/pmacctd.conf" "${KTP_ARGS[@]}"
	pm_wait_ready pmacctd
	pm_http_get "$port" 5
	# packets reach pmacctd's core only when libpcap hands over a block
	# (about 1 s); those still in the kernel at SIGINT are never printed
	sleep 2.5
	pm_ctrl_c
	pm_finish 30
	echo "# pmacctd: Ctrl-C to end of pipeline ${PM_SECONDS}s" >&3
	[ "$PM_KTP_RC" -eq 0 ]
	[ "$PM_COLLECTOR_RC" -le 1 ]	# 1 in every run so far (see above)
	grep -q 'signal 2' "$T/ktp.err"
	pm_consume_mock pm.netflow "$T/topic"
	pm_check_pipeline "$T/topic"
	[ "$exit" -eq 0 ]
	echo "# pmacctd exit $PM_COLLECTOR_RC, $PM_RECORDS records" >&3
}

# nfacctd_outage [KTP_OPTION...]: issue 11's headline.  nfacctd purges
# every second (print_markers true, print_max_writers 10 as in the
# example) into kafkatee-pipe on the mock cluster, fed by nfgen.py at 100
# distinct NetFlow v5 flows a second (about 4000 events in the run: the
# mock keeps only ~5 MB a partition, and the topic is read back whole).
# queue.high.messages=200 (default 100000): with fewer events in flight
# than that, stdin would take the first ~17 minutes of an outage at this
# rate before stopping; 200 makes it stop within 2 s, as a busy collector
# would.  message.timeout.ms stays librdkafka's 300 s: nothing times out.
# All brokers go down for 30 s, then up; once no pmacct writer is left
# (the backlog drained), traffic stops, nfacctd purges what it holds, and
# a SIGINT ends it.  Sets the counters, PM_RECORDS (pm_check_pipeline),
# PM_FLOWS (sent), SKIPS (purges pmacct skipped).
nfacctd_outage() {
	local port t0=$SECONDS

	mock_start -t nf.outage:1
	port=$(pm_free_port udp)
	pm_conf_nfacctd "$T/nfacctd.conf" "$port" 1
	grep -qx 'print_max_writers\[nf\]: 10' "$T/nfacctd.conf"
	ktp_args "$BROKERS" nf.outage
	pm_start nfacctd "$T/nfacctd.conf" "${KTP_ARGS[@]}" \
	    -o queue.high.messages=200 -o stats.file="$T/stats.json" "$@"
	pm_wait_ready nfacctd
	pm_nfgen_start "$port" 100
	pm_wait_purges 3 15
	mock_cmd "down -1"
	sleep 30
	mock_cmd "up -1"
	WAIT_TIMEOUT=60 wait_for _pm_no_writer
	pm_nfgen_stop
	pm_wait_idle_purge 20
	kill -INT "$(pm_collector_pid)"
	pm_finish 60
	[ "$PM_COLLECTOR_RC" -eq 0 ]
	pm_consume_mock nf.outage "$T/topic"
	pm_check_pipeline "$T/topic"
	SKIPS=$(pm_skipped_purges)
	echo "# sent $PM_FLOWS flows; nfacctd printed $PM_RECORDS in" \
	    "$(grep -c '"purge_close"' "$T/records.jsonl") purges," \
	    "skipped $SKIPS; $(grep -o 'summary: .*' "$T/ktp.err")" >&3
	echo "# backpressure_s $(jq .backpressure_s "$T/stats.json");" \
	    "wall $((SECONDS - t0)) s" >&3
}

@test "nfacctd, Kafka down 30 s, no spool: stdin stops, pmacct skips whole purges (today's loss)" {
	nfacctd_outage
	[ "$PM_KTP_RC" -eq 0 ]
	[ "$dead_lettered" -eq 0 ]
	# what pmacct printed arrived; what it skipped it never printed
	[ "$SKIPS" -gt 0 ]
	[ "$PM_RECORDS" -lt "$PM_FLOWS" ]
	echo "# lost in pmacct: $((PM_FLOWS - PM_RECORDS)) of $PM_FLOWS" \
	    "flows" >&3
	jq -e '.backpressure_s > 0' "$T/stats.json"
}

@test "nfacctd, Kafka down 30 s, spool.dir: no purge skipped, every flow reaches Kafka" {
	nfacctd_outage -o spool.dir="$T/spool"
	[ "$PM_KTP_RC" -eq 0 ]
	[ "$dead_lettered" -eq 0 ]
	[ ! -s "$T/dead.jsonl" ]
	[ "$SKIPS" -eq 0 ]
	[ "$PM_RECORDS" -eq "$PM_FLOWS" ]
	[ "$(jq -s 'map(select(.event_type == "purge") | .packets) | add' \
	    "$T/records.jsonl")" -eq "$PM_FLOW_PACKETS" ]
	[ "$spooled" -gt 0 ]
	[ "$replayed" -eq "$spooled" ]
	[ "$kept" -eq 0 ]
	jq -e '.backpressure_s == 0' "$T/stats.json"
}
