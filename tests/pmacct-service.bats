#!/usr/bin/env bats
# Runs under ASan too (1 min 45 s there, as without): real nfacctd, 100000 flows a purge.
# pmacct as its own service (issue 16): Debian's nfacctd 1.7.7 with
# examples/pmacct-service/nfacctd.conf writes a file a purge, kafkatee-pipe
# with examples/pmacct-service/kafkatee-pipe.conf (--input-dir) takes them,
# into the mock cluster.  tests/pmacct/nfgen.py sends 20000 distinct NetFlow
# v5 flows a second, nfacctd purges every 5 s: 100000 flows a purge.  Either
# side is stopped and started again while the other runs:
#   kafkatee-pipe stopped (SIGTERM), or killed (SIGKILL), and restarted;
#   nfacctd stopped (SIGTERM) and restarted.
# Proof: every flow nfacctd purged (the QN of its "Purging cache - END"
# lines) is in Kafka, once (the message key is the flow's ip_src, unique
# to each flow), or at least once after a SIGKILL.  The topic is read by a
# consumer running all along: the mock keeps only ~5 MB a partition.
# No timing is asserted; the figures go to the TAP output.

# shellcheck disable=SC2154 # exit, delivered...: set by counters
load helpers
load records
load pmacct/helpers

RATE=20000
REFRESH=5
TOPIC=pm.service

setup() {
	pm_require
	command -v kcat >/dev/null || skip "kcat not installed"
	export TZ=UTC
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/in"
	PORT=$(pm_free_port udp)
	svc_conf_nfacctd "$T/nfacctd.conf"
	NF_RUNS=0 KTP_RUNS=0
}

teardown() {
	pm_stop
	proc_stop_all
	mock_stop
}

# svc_conf_nfacctd OUT: examples/pmacct-service/nfacctd.conf, in the
# foreground logging to stderr, on 127.0.0.1:$PORT, purging every
# $REFRESH s into $T/in, group and pid file left to the test.
svc_conf_nfacctd() {
	_pm_sed "$ROOT/examples/pmacct-service/nfacctd.conf" "$1" "
		s|^daemonize:.*|daemonize: false|
		/^syslog:/d
		/^files_gid:/d
		s|^nfacctd_ip:.*|nfacctd_ip: 127.0.0.1|
		s|^nfacctd_port:.*|nfacctd_port: $PORT|
		s|^print_refresh_time\[nf\]:.*|print_refresh_time[nf]: $REFRESH|
		s|^(print_output_file\[nf\]: )/var/lib/kafkatee-pipe/nfacctd.in/|\1$T/in/|
		\$a pidfile: $T/nfacctd.pid" \
	    '^daemonize: false$' "^nfacctd_port: $PORT\$" \
	    "^print_refresh_time\[nf\]: $REFRESH\$" \
	    "^print_output_file\[nf\]: $T/in/nfacctd-%Y%m%dT%H%M%SZ\.json\$" \
	    '^print_output_file_append\[nf\]: true$' \
	    '^print_markers\[nf\]: true$' '^print_output\[nf\]: json$' \
	    '^timestamps_utc: true$' '^files_umask: 027$' || return
	! grep -Eq '^(syslog|files_gid|print_history|print_latest_file)' "$1" ||
	    _fail "$1: a key the test cannot have"
}

# nf_start: a new nfacctd (NF1, NF2...), once its print plugin is ready.
nf_start() {
	NF_RUNS=$((NF_RUNS + 1))
	NF=NF$NF_RUNS
	proc_start "$NF" nfacctd -f "$T/nfacctd.conf"
	wait_for_line "$(proc_file "$NF" err)" 'JSON: setting object handlers' 10
}

# nf_stop SIGNAL: stops nfacctd.  nfacctd 1.7.7 blocks SIGTERM while it
# waits for a datagram (src/nfacctd.c): with traffic flowing it acts on
# it at once; it writes its last purge, then exits.
nf_stop() {
	proc_signal "$NF" "$1"
	proc_wait "$NF" 30
	[ "$PROC_STATUS" -eq 0 ] ||
	    _fail "nfacctd exited $PROC_STATUS:" "$(tail -n 5 "$(proc_file "$NF" err)")"
}

# ktp_start: a new kafkatee-pipe (KTP1, KTP2...) on $T/in with the
# shipped configuration, the state in $T, the flow's source as key.
ktp_start() {
	KTP_RUNS=$((KTP_RUNS + 1))
	KTPN=KTP$KTP_RUNS
	proc_start "$KTPN" "$KTP" -c "$ROOT/examples/pmacct-service/kafkatee-pipe.conf" \
	    -b "$BROKERS" -t "$TOPIC" -o schema.dir="$ROOT/examples/schemas" \
	    -o input.dir="$T/in" -o spool.dir="$T/spool" \
	    -o deadletter.file="$T/dead.jsonl" -o domain=test.example \
	    -o dt.timezone=UTC -o key=ip_src -o input.dir.scan.ms=200 \
	    -X compression.codec=zstd
}

# ktp_stop SIGNAL: stops kafkatee-pipe; sets KTP_RC.
ktp_stop() {
	proc_signal "$KTPN" "$1"
	proc_wait "$KTPN" 60
	KTP_RC=$PROC_STATUS
}

# purges: the purges every nfacctd run logged with records (QN > 0).
purges() {
	cat "$T"/proc.NF*/err 2>/dev/null |
	    grep -Ec 'Purging cache - END \(PID: [0-9]+, QN: [1-9]' || true
}

_purges_at_least() {
	[ "$(purges)" -ge "$1" ]
}

# wait_purges N: until N purges more than now are logged (at most 60 s).
wait_purges() {
	local want=$(($(purges) + $1))

	WAIT_TIMEOUT=60 wait_for _purges_at_least "$want"
}

# purged: every record every nfacctd run wrote (the sum of QN).
purged() {
	cat "$T"/proc.NF*/err | sed -nE \
	    's/.*Purging cache - END \(PID: [0-9]+, QN: ([0-9]+)\/.*/\1/p' |
	    awk '{ s += $1 } END { print s + 0 }'
}

# biggest: the most records a purge had.
biggest() {
	cat "$T"/proc.NF*/err | sed -nE \
	    's/.*Purging cache - END \(PID: [0-9]+, QN: ([0-9]+)\/.*/\1/p' |
	    sort -n | tail -n 1
}

_in_empty() {
	[ -z "$(find "$T/in" -maxdepth 1 -type f ! -name '.*' | head -n 1)" ]
}

# _keys_at_least N: the consumer has N distinct keys.
_keys_at_least() {
	[ "$(sort -u "$(proc_file KC out)" | wc -l)" -ge "$1" ]
}

# service_start: the mock (16 partitions of ~5 MB each, zstd batches: the
# consumer may lag by some 500000 messages), the consumer,
# nfacctd, kafkatee-pipe, the exporter.
service_start() {
	mock_start -t "$TOPIC:16"
	proc_start KC kcat -C -b "$BROKERS" -t "$TOPIC" -o beginning -u -q \
	    -f '%k\n'
	nf_start
	ktp_start
	pm_nfgen_start "$PORT" "$RATE"
}

# service_end: the exporter stops, nfacctd purges the rest (an empty purge
# after), kafkatee-pipe empties the directory and is stopped, nfacctd too;
# then the consumer is given up to 60 s to have every flow purged.  Sets
# PURGED, KEYS (messages), DISTINCT (distinct keys), DELIVERED and
# MISMATCHES (the sums of delivered and purge_mismatches over the runs of
# kafkatee-pipe that ended with a summary).
service_end() {
	local e n

	pm_nfgen_stop
	e=$(($(wc -l <"$(proc_file "$NF" err)") + 1))
	WAIT_TIMEOUT=30 wait_for _nf_idle_since "$e"
	WAIT_TIMEOUT=60 wait_for _in_empty
	ktp_stop TERM
	[ "$KTP_RC" -eq 0 ]
	nf_stop INT
	PURGED=$(purged)
	DELIVERED=0 MISMATCHES=0
	for e in "$T"/proc.KTP*/err; do
		counters "$e" || _fail "summary invariant broken: $e" || return
		DELIVERED=$((DELIVERED + delivered))
		MISMATCHES=$((MISMATCHES + purge_mismatches))
	done
	WAIT_TIMEOUT=60 wait_for _keys_at_least "$PURGED" || true
	sleep 1	# duplicates after the last new key, if any
	n=$(proc_file KC out)
	KEYS=$(wc -l <"$n")
	DISTINCT=$(sort -u "$n" | wc -l)
	echo "# sent $PM_FLOWS flows, nfacctd purged $PURGED in $(purges)" \
	    "purges; kafkatee-pipe delivered $DELIVERED in $KTP_RUNS runs;" \
	    "Kafka: $KEYS messages, $DISTINCT distinct keys;" \
	    "purge_mismatches $MISMATCHES; the biggest purge $(biggest)" >&3
	grep -h 'summary:' "$T"/proc.KTP*/err | sed 's/^/# /' >&3
}

# _nf_idle_since LINE: an empty purge in the current nfacctd's log after
# LINE: all it had received before is written.
_nf_idle_since() {
	tail -n "+$1" "$(proc_file "$NF" err)" |
	    grep -q 'Purging cache - END (PID: [0-9]*, QN: 0/0'
}

@test "pmacct service: kafkatee-pipe stopped (SIGTERM) and restarted while nfacctd purges 100000 flows every 5 s: each flow in Kafka once" {
	service_start
	wait_purges 2
	ktp_stop TERM
	[ "$KTP_RC" -eq 0 ]
	wait_purges 1
	ktp_start
	wait_purges 1
	service_end
	[ "$PURGED" -ge 300000 ]
	[ "$KEYS" -eq "$PURGED" ]
	[ "$DISTINCT" -eq "$PURGED" ]
	[ "$DELIVERED" -eq "$PURGED" ]
	[ ! -s "$T/dead.jsonl" ]
	# a restart between two pieces of one purge (see account.h) does
	# not know the first: at most one
	[ "$MISMATCHES" -le 1 ]
}

@test "pmacct service: kafkatee-pipe killed (SIGKILL) and restarted while nfacctd purges: each flow in Kafka at least once, the duplicates counted" {
	service_start
	wait_purges 2
	ktp_stop KILL
	[ "$KTP_RC" -eq 137 ]
	wait_purges 1
	ktp_start
	wait_purges 1
	service_end
	[ "$PURGED" -ge 300000 ]
	[ "$DISTINCT" -eq "$PURGED" ]
	[ "$KEYS" -ge "$PURGED" ]
	echo "# duplicates after SIGKILL: $((KEYS - DISTINCT))" >&3
	[ ! -s "$T/dead.jsonl" ]
}

@test "pmacct service: nfacctd stopped (SIGTERM) and restarted while kafkatee-pipe runs: each flow nfacctd purged in Kafka once" {
	service_start
	wait_purges 2
	nf_stop TERM
	nf_start
	wait_purges 2
	service_end
	[ "$NF_RUNS" -eq 2 ]
	[ "$PURGED" -ge 200000 ]
	[ "$KEYS" -eq "$PURGED" ]
	[ "$DISTINCT" -eq "$PURGED" ]
	[ "$DELIVERED" -eq "$PURGED" ]
	[ ! -s "$T/dead.jsonl" ]
	# the pieces of a purge split across seconds are one purge
	[ "$MISMATCHES" -eq 0 ]
	echo "# flows sent while nfacctd was down: $((PM_FLOWS - PURGED))" >&3
}
