#!/usr/bin/env bash
# bench/run.sh [N]: kafkatee-pipe against kcat and a jq+kcat script.
#
# In one run, on one generated input file of N pmacct-like records
# (default 1000000) and the same broker, with the same producer settings
# (acks=all, enable.idempotence=true, everything else at librdkafka's
# defaults), each measured BENCH_REPEAT (3) times against a fresh topic:
#   kcat      kcat -P raw lines, no transform (the speed to approach)
#   ktp       build/kafkatee-pipe, default netflow transform
#   ktpp      kafkatee-pipe -c examples/netflow-private.conf (enrich,
#             anonymize, validation) on the files bench/mkgeo.pl writes
#   jq+kcat   jq -c -f tests/envelope.jq | kcat -P (what a user would script)
#   spool     kafkatee-pipe with spool.dir: spool.mode=overflow, then
#             spool.mode=always with spool.fsync=never, interval, always
#             (a fresh spool directory in BUILD for each run, removed after)
# first on build/mockcluster (librdkafka's mock cluster), then on a real
# Apache Kafka broker (tests/kafka/kafka.sh) if one can be started.
# Before them, the CPU of each stage: kafkatee-pipe --stdout > /dev/null
# (no Kafka) with one stage added at a time, up to the private config.
# Then the latency at a fixed input rate (BENCH_LAT_RATE records/s for
# BENCH_LAT_SECS s): kafkatee-pipe's own read-to-delivery-report
# percentiles (stats.file) and, for kafkatee-pipe and kcat, the
# end-to-end time from the writer to a consumer (bench-lat).
# Writes bench/RESULTS.md (BENCH_OUT) and prints it.  See bench/README.md.
#
# Environment: BUILD (build), BENCH_REPEAT (3), BENCH_PARTITIONS (4),
# BENCH_SHORT (0; 1: ~337-byte lines), BENCH_SEED (1), BENCH_REAL (1; 0
# skips the real broker), BENCH_LAT_RATE (10000), BENCH_LAT_SECS (25; 0
# skips latency), BENCH_JQ_RECORDS (100000, or "all": jq+kcat runs on the
# first that many records of the same input, as jq's envelope costs about
# half a millisecond a record), BENCH_OUT (bench/RESULTS.md), BENCH_KEEP
# (0; 1 keeps the work directory), BENCH_KTP_ARGS (more arguments for
# kafkatee-pipe's measured runs, split at spaces: an A/B of a setting,
# e.g. "-o header.a=b"), BENCH_SPOOL (1; 0 skips the spool rows),
# BENCH_SPOOL_SYNC_RECORDS ("all", or a number: the spool.fsync=always
# row on the first that many records, for a slow disk), BENCH_PRIVATE (1;
# 0 skips the private config's rows and the stages' costs),
# BENCH_CLIENTS (100000: the private config and kcat also run on an input
# whose clients are a population of that many, bench-gen --clients; 0
# skips those rows), TMPDIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
N=${1:-1000000}
REPEAT=${BENCH_REPEAT:-3}
PARTS=${BENCH_PARTITIONS:-4}
SHORT=${BENCH_SHORT:-0}
SEED=${BENCH_SEED:-1}
REAL=${BENCH_REAL:-1}
LAT_RATE=${BENCH_LAT_RATE:-10000}
LAT_SECS=${BENCH_LAT_SECS:-25}
OUT=${BENCH_OUT:-$ROOT/bench/RESULTS.md}
JQ_N=${BENCH_JQ_RECORDS:-100000}
SPOOL=${BENCH_SPOOL:-1}
SYNC_N=${BENCH_SPOOL_SYNC_RECORDS:-all}
PRIVATE=${BENCH_PRIVATE:-1}
CLIENTS=${BENCH_CLIENTS:-100000}
KCAT_TIMEOUT=${KCAT_TIMEOUT:-60}
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-900} # one measured run, seconds
read -ra KTP_ARGS <<< "${BENCH_KTP_ARGS:-}"

case $N in '' | *[!0-9]* | 0) echo "usage: bench/run.sh [N]  (N > 0)" >&2; exit 2 ;; esac
case $JQ_N in all) JQ_N=$N ;; '' | *[!0-9]* | 0) echo "bench: BENCH_JQ_RECORDS: a count or all" >&2; exit 2 ;; esac
[ "$JQ_N" -le "$N" ] || JQ_N=$N
case $SYNC_N in all) SYNC_N=$N ;; '' | *[!0-9]* | 0) echo "bench: BENCH_SPOOL_SYNC_RECORDS: a count or all" >&2; exit 2 ;; esac
[ "$SYNC_N" -le "$N" ] || SYNC_N=$N
case $SPOOL in 0 | 1) ;; *) echo "bench: BENCH_SPOOL: 0 or 1" >&2; exit 2 ;; esac
case $PRIVATE in 0 | 1) ;; *) echo "bench: BENCH_PRIVATE: 0 or 1" >&2; exit 2 ;; esac
case $CLIENTS in '' | *[!0-9]*) echo "bench: BENCH_CLIENTS: a count (0: none)" >&2; exit 2 ;; esac
[ "$PRIVATE" = 1 ] || CLIENTS=0

T_START=$SECONDS
say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

KTP=$BUILD/kafkatee-pipe
MOCKCLUSTER=$BUILD/mockcluster
GEN=$BUILD/bench-gen
LAT=$BUILD/bench-lat
GEO=$BUILD/bench-geo # the enrichment files (bench/mkgeo.pl), kept
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ktp-bench.XXXXXX")
# the spool directories go on the build's disk, not TMPDIR (often a tmpfs,
# where an fsync costs nothing): one per run, removed after it
SPOOL_BASE=$BUILD/bench-spool.$$
NOTES=() # lines for the "Notes" section of RESULTS.md
[ -z "${BENCH_KTP_ARGS:-}" ] || NOTES+=("kafkatee-pipe's measured runs had BENCH_KTP_ARGS: \`$BENCH_KTP_ARGS\`")

# ---------------------------------------------------------------- cleanup

MOCK_PID='' MOCK_FD='' KAFKA_UP=0
export KAFKA_ID=bench-$$ # own broker state: never touch other brokers
cleanup() {
	set +e
	if [ -n "$MOCK_PID" ]; then
		{ printf 'quit\n' >&"$MOCK_FD"; } 2>/dev/null
		exec {MOCK_FD}>&-
		for _ in $(seq 1 100); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.05; done
		kill -TERM "$MOCK_PID" 2>/dev/null
		wait "$MOCK_PID" 2>/dev/null
		MOCK_PID=
	fi
	if [ "$KAFKA_UP" = 1 ]; then
		BUILD=$BUILD tests/kafka/kafka.sh stop >/dev/null 2>&1
		KAFKA_UP=0
	fi
	rm -rf "$SPOOL_BASE"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools

for t in kcat jq cc; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (make deps installs it)"
done
if [ ! -x /usr/bin/time ]; then
	say "/usr/bin/time (GNU time) missing: installing the Debian package 'time'"
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get install -y -qq --no-install-recommends time >/dev/null ||
		{ $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends time >/dev/null; } ||
		die "could not install 'time'"
	NOTES+=("GNU time was missing: the Debian package \`time\` was installed by this run.")
fi

# what was measured: the commit, and whether the build had local changes
SRC_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$SRC_REV" != unknown ]; then
	SRC_REV="commit $SRC_REV ($(git -C "$ROOT" log -1 --format=%cs 2>/dev/null))"
	dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null | wc -l)
	[ "$dirty" = 0 ] || SRC_REV="$SRC_REV + uncommitted changes to $dirty tracked file(s)"
fi
say "building (make -s BUILD=$BUILD all mockcluster; bench-gen, bench-lat)"
make -s BUILD="$BUILD" all "$MOCKCLUSTER" >&2
CFL=(-std=c11 -O2 -Wall -Wextra -Werror)
cc "${CFL[@]}" bench/gen.c -o "$GEN"
cc "${CFL[@]}" bench/lat.c -o "$LAT"
if ! "$KTP" -o stats.file="$WORK/probe.json" --stdout </dev/null 2>"$WORK/probe.err"; then
	HAVE_STATS=0
	NOTES+=("kafkatee-pipe has no stats.file ($(head -n 1 "$WORK/probe.err")): only the external latency is measured.")
else
	HAVE_STATS=1
fi

# The private rows' enrichment files: GeoLite2-sized databases take a
# while to write, so they stay in the build directory, written again only
# when mkgeo.pl changes (its hash in GEO/stamp); GEO/mkgeo.log has what
# mkgeo.pl said and how long it took
geo_files() {
	local key t0
	key=$(sha256sum bench/mkgeo.pl | cut -d' ' -f1)
	if [ "$(cat "$GEO/stamp" 2>/dev/null)" = "$key" ]; then
		GEO_BUILT="written by an earlier run of the same mkgeo.pl"
		return 0
	fi
	perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
		die "MaxMind::DB::Writer missing (make deps installs libmaxmind-db-writer-perl)"
	say "writing the enrichment files: bench/mkgeo.pl $GEO"
	rm -rf "$GEO"
	mkdir -p "$GEO"
	t0=$SECONDS
	perl bench/mkgeo.pl "$GEO" 2>"$GEO/mkgeo.log" ||
		die "bench/mkgeo.pl failed: $(tail -n 3 "$GEO/mkgeo.log")"
	echo "mkgeo: took $((SECONDS - t0)) s" >>"$GEO/mkgeo.log"
	echo "$key" >"$GEO/stamp"
	GEO_BUILT="written by this run"
}
GEO_BUILT=
[ "$PRIVATE" = 0 ] || geo_files

# ---------------------------------------------------------------- input

# Event times start in the past, so that the last purge is a few minutes
# ago: the records span about one minute per 1000 (900 at least), and a
# Kafka broker refuses a timestamp more than an hour ahead of its clock
# (log.message.timestamp.after.max.ms); kafkatee-pipe uses the event time
# as the message timestamp.  Only the time fields depend on the start.
MAXN=$N
[ "$((LAT_RATE * LAT_SECS))" -le "$MAXN" ] || MAXN=$((LAT_RATE * LAT_SECS))
START=$((($(date +%s) / 60 - MAXN / 900 - 10) * 60))
GEN_ARGS=(-n "$N" -s "$SEED" --start "$START")
JQ_GEN_ARGS=(-n "$JQ_N" -s "$SEED" --start "$START")
if [ "$SHORT" = 1 ]; then GEN_ARGS+=(--short); JQ_GEN_ARGS+=(--short); fi
INPUT=$WORK/input.jsonl
say "generating $N records: bench-gen ${GEN_ARGS[*]} > input.jsonl"
"$GEN" "${GEN_ARGS[@]}" >"$INPUT"
IN_LINES=$(wc -l <"$INPUT")
IN_BYTES=$(stat -c %s "$INPUT")
IN_MARKERS=$((IN_LINES - N))
AVG_LINE=$(awk -v b="$IN_BYTES" -v n="$IN_LINES" 'BEGIN { printf "%.0f", b / n }')
say "input: $IN_LINES lines ($N records + $IN_MARKERS markers), $IN_BYTES bytes, $AVG_LINE B/line"
# jq's input: the first JQ_N records of the same stream (bench-gen draws
# records in order: only the last purge_close differs)
if [ "$JQ_N" = "$N" ]; then
	JQ_INPUT=$INPUT
else
	JQ_INPUT=$WORK/input-jq.jsonl
	"$GEN" "${JQ_GEN_ARGS[@]}" >"$JQ_INPUT"
fi
JQ_BYTES=$(stat -c %s "$JQ_INPUT")
# spool.fsync=always's input: the first SYNC_N records, the same way
SYNC_GEN_ARGS=(-n "$SYNC_N" -s "$SEED" --start "$START")
if [ "$SHORT" = 1 ]; then SYNC_GEN_ARGS+=(--short); fi
if [ "$SYNC_N" = "$N" ]; then
	SYNC_INPUT=$INPUT
elif [ "$SYNC_N" = "$JQ_N" ]; then
	SYNC_INPUT=$JQ_INPUT
else
	SYNC_INPUT=$WORK/input-sync.jsonl
	"$GEN" "${SYNC_GEN_ARGS[@]}" >"$SYNC_INPUT"
fi
SYNC_BYTES=$(stat -c %s "$SYNC_INPUT")
# the clients rows' input: the same records but for the client addresses,
# drawn from a population of CLIENTS (bench-gen's Zipf): the caches of
# enrich and anonymize hit as they would on real traffic, where the main
# input (every client new) is their worst case
if [ "$CLIENTS" != 0 ]; then
	CL_GEN_ARGS=("${GEN_ARGS[@]}" --clients "$CLIENTS")
	CL_INPUT=$WORK/input-clients.jsonl
	say "generating the clients input: bench-gen ${CL_GEN_ARGS[*]} > input-clients.jsonl"
	"$GEN" "${CL_GEN_ARGS[@]}" >"$CL_INPUT"
	CL_LINES=$(wc -l <"$CL_INPUT")
	CL_BYTES=$(stat -c %s "$CL_INPUT")
	CL_DISTINCT=$(grep -o '"ip_[sd][rs][ct]": "[^"]*"' "$CL_INPUT" | sort -u | wc -l)
fi

# ---------------------------------------------------------------- brokers

KINDS=(kcat ktp ktpv ktpa ktpx)
[ "$PRIVATE" = 0 ] || KINDS+=(ktpp)
[ "$CLIENTS" = 0 ] || KINDS+=(kcatc ktppc)
KINDS+=(jq)
# kafkatee-pipe with a spool: the kind names the spool.mode and spool.fsync
[ "$SPOOL" = 0 ] || KINDS+=(sp-overflow sp-never sp-interval sp-always)
TOPICS=()
for r in $(seq 1 "$REPEAT"); do
	for k in "${KINDS[@]}"; do
		case $k in kcat) TOPICS+=("raw-r$r") ;; *) TOPICS+=("$k-r$r") ;; esac
	done
done
TOPICS+=(lat-ktp-stats lat-ktp-ext lat-kcat-ext)

mock_start() {
	local args=() t
	for t in "${TOPICS[@]}"; do args+=(-t "$t:$PARTS"); done
	mkfifo "$WORK/mock.in"
	exec {MOCK_FD}<>"$WORK/mock.in"
	"$MOCKCLUSTER" "${args[@]}" <"$WORK/mock.in" >"$WORK/mock.out" 2>"$WORK/mock.err" &
	MOCK_PID=$!
	for _ in $(seq 1 200); do
		if [ -s "$WORK/mock.out" ] && [ "$(wc -l <"$WORK/mock.out")" -ge 1 ]; then
			BROKERS=$(head -n 1 "$WORK/mock.out")
			return 0
		fi
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$WORK/mock.err" >&2
	die "mockcluster did not print its bootstrap"
}

mock_stop() {
	[ -n "$MOCK_PID" ] || return 0
	{ printf 'quit\n' >&"$MOCK_FD"; } 2>/dev/null || true
	exec {MOCK_FD}>&-
	for _ in $(seq 1 100); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.05; done
	kill -TERM "$MOCK_PID" 2>/dev/null || true
	wait "$MOCK_PID" 2>/dev/null || true
	MOCK_PID=
}

# Sum of the high watermarks of TOPIC's partitions 0..PARTS-1 (messages
# ever written: the mock's retention trims old data, not the offsets).
high_watermarks() {
	local b=$1 topic=$2 p args=()
	for ((p = 0; p < PARTS; p++)); do args+=(-t "$topic:$p:-1"); done
	timeout "$KCAT_TIMEOUT" kcat -Q -b "$b" "${args[@]}" 2>/dev/null |
		awk -v want="$PARTS" '$(NF - 1) == "offset" { n += $NF; got++ }
			END { if (got != want) { print "?"; exit 1 } print n + 0 }'
}

# ---------------------------------------------------------------- one run

KCAT_P=(kcat -P -X acks=all -X enable.idempotence=true)
TFMT='%e %U %S %M'

# ktp_args KIND: kafkatee-pipe's arguments for a row but the brokers and
# the topic, in KARGS: ktp the default transform, ktpv examples/netflow.conf
# (validation), ktpp examples/netflow-private.conf (enrich, anonymize,
# validation) on the files of mkgeo.pl; the stages' rows add one stage at
# a time: st-valid validation (the private config's schema, which allows
# the members the later stages add), st-enrich the enrich stage, then
# ktpp (the anonymize stage: the private config); ktpa the encode
# stage, PNDA's Avro envelope (the base schema), ktpx with
# examples/netflow-pnda.conf's extension fields
ktp_args() {
	local conf=$ROOT/examples/netflow.conf geo=(-o enrich.geoip.country="$GEO/country.mmdb"
		-o enrich.geoip.asn="$GEO/asn.mmdb" -o enrich.net.file="$GEO/networks.txt")
	case $1 in
	ktp) KARGS=() ;;
	ktpv) KARGS=(-c "$conf") ;;
	st-valid) KARGS=(-c "$conf" -o schema=/netflow/flow/1.2.0) ;;
	st-enrich) KARGS=(-c "$conf" -o schema=/netflow/flow/1.2.0 "${geo[@]}" -o enrich.fields=ip_src,ip_dst) ;;
	ktpp | ktppc) KARGS=(-c "$ROOT/examples/netflow-private.conf" "${geo[@]}") ;;
	ktpa) KARGS=(-o encoding=pnda-avro) ;;
	ktpx) KARGS=(-c "$ROOT/examples/netflow-pnda.conf") ;;
	*) die "ktp_args: $1?" ;;
	esac
	KARGS+=(-o dt.timezone=UTC -o domain=bench)
}

# shown KIND: ktp_args as the report shows them (paths from the checkout,
# GEO for the enrichment files)
shown() {
	local s
	ktp_args "$1"
	s="${KARGS[*]}"
	s=${s//$GEO/GEO}
	echo "${s//$ROOT\//}"
}

# time_of FILE: "wall cpu rss_mib" from /usr/bin/time -f "$TFMT" (GNU time
# prints "Command exited with non-zero status N" first when so)
time_of() {
	tail -n 1 "$1" | awk '{ printf "%s %.2f %.1f\n", $1, $2 + $3, $4 / 1024 }'
}

# ktp_check DIR WANT: kafkatee-pipe's summary (in DIR/err) to DIR/summary;
# prints why the run is invalid unless it says delivered=WANT and exit=0
ktp_check() {
	local sum
	sum=$(grep 'summary:' "$1/err" | tail -n 1 || true)
	echo "$sum" >"$1/summary"
	case " $sum " in
	*" delivered=$2 "*" exit=0 "*) ;;
	*) echo "summary: ${sum#*summary: }" ;;
	esac
}

# spool_args KIND: the spool settings of a spool row (sp-MODE or sp-FSYNC)
spool_args() {
	case $1 in
	sp-overflow) echo "-o spool.mode=overflow" ;;
	sp-*) echo "-o spool.mode=always -o spool.fsync=${1#sp-}" ;;
	esac
}

# run_spool DIR TOPIC KIND BROKERS INPUT: kafkatee-pipe with a fresh spool
# directory in the build's directory, removed after the run; lists in
# DIR/left what the run left in it besides its lock (every event was
# delivered: there should be nothing)
run_spool() {
	local d=$1 topic=$2 kind=$3 b=$4 in=$5 sd=$SPOOL_BASE/run rc=0 sa
	read -ra sa <<< "$(spool_args "$kind")"
	rm -rf "$sd"
	mkdir -p "$SPOOL_BASE"
	ktp_args ktp
	timeout "$RUN_TIMEOUT" /usr/bin/time -o "$d/time" -f "$TFMT" \
		"$KTP" -b "$b" -t "$topic" "${KARGS[@]}" \
		-o spool.dir="$sd" "${sa[@]}" "${KTP_ARGS[@]}" <"$in" 2>"$d/err" || rc=$?
	{ ls -A "$sd" 2>/dev/null || true; } | { grep -vx lock || true; } >"$d/left"
	rm -rf "$sd"
	return "$rc"
}

# input_of KIND: the input file a kcat or kafkatee-pipe row reads
input_of() {
	case $1 in kcatc | ktppc) echo "$CL_INPUT" ;; *) echo "$INPUT" ;; esac
}

# run_one CLUSTER BROKERS KIND REP: measures one run, appends a row to
# $WORK/runs.tsv: cluster kind rep wall cpu rss_mib rss_detail valid why
# spooled (the summary's spooled=, or - without a spool)
run_one() {
	local cl=$1 b=$2 kind=$3 rep=$4 topic d wall cpu rss rssd valid=1 why='' hw want rc spooled=-
	d=$WORK/run.$cl.$kind.$rep
	mkdir -p "$d"
	topic=$kind-r$rep
	case $kind in
	kcat) topic=raw-r$rep; want=$IN_LINES ;;
	kcatc) want=$CL_LINES ;;
	jq) want=$JQ_N ;;
	sp-always) want=$SYNC_N ;;
	*) want=$N ;;
	esac
	say "$cl: $kind run $rep -> topic $topic"
	rc=0
	case $kind in
	kcat | kcatc)
		timeout "$RUN_TIMEOUT" /usr/bin/time -o "$d/time" -f "$TFMT" \
			"${KCAT_P[@]}" -b "$b" -t "$topic" <"$(input_of "$kind")" 2>"$d/err" || rc=$?
		;;
	ktp*)
		ktp_args "$kind"
		timeout "$RUN_TIMEOUT" /usr/bin/time -o "$d/time" -f "$TFMT" \
			"$KTP" -b "$b" -t "$topic" "${KARGS[@]}" \
			"${KTP_ARGS[@]}" <"$(input_of "$kind")" 2>"$d/err" || rc=$?
		;;
	jq)
		set +e
		timeout "$RUN_TIMEOUT" /usr/bin/time -o "$d/time.jq" -f "$TFMT" \
			jq -n -c --arg domain bench -f tests/envelope.jq <"$JQ_INPUT" 2>"$d/err.jq" |
			timeout "$RUN_TIMEOUT" /usr/bin/time -o "$d/time" -f "$TFMT" \
				"${KCAT_P[@]}" -b "$b" -t "$topic" 2>"$d/err"
		local st=("${PIPESTATUS[@]}")
		set -e
		[ "${st[0]}" = 0 ] || { valid=0; why="jq exit ${st[0]}"; }
		rc=${st[1]}
		;;
	sp-always) rc=0; run_spool "$d" "$topic" "$kind" "$b" "$SYNC_INPUT" || rc=$? ;;
	sp-*) rc=0; run_spool "$d" "$topic" "$kind" "$b" "$INPUT" || rc=$? ;;
	esac
	[ "$rc" = 0 ] || { valid=0; why="${why:+$why; }exit $rc"; }
	read -r wall cpu rss < <(time_of "$d/time")
	rssd=$rss
	if [ "$kind" = jq ]; then
		local w2 c2 r2
		read -r w2 c2 r2 < <(time_of "$d/time.jq")
		wall=$(awk -v a="$wall" -v b="$w2" 'BEGIN { print (a > b ? a : b) }')
		cpu=$(awk -v a="$cpu" -v b="$c2" 'BEGIN { printf "%.2f", a + b }')
		rssd="jq $r2 + kcat $rss"
		rss=$(awk -v a="$rss" -v b="$r2" 'BEGIN { printf "%.1f", a + b }')
	fi
	if [ "$kind" != kcat ] && [ "$kind" != kcatc ] && [ "$kind" != jq ]; then
		local bad
		bad=$(ktp_check "$d" "$want")
		[ -z "$bad" ] || { valid=0; why="${why:+$why; }$bad"; }
		case $kind in
		sp-*)
			# the summary has the spool's figures only when it had any
			spooled=$(sed -n 's/.* spooled=\([0-9]*\) .*/\1/p' "$d/summary")
			spooled=${spooled:-0}
			[ ! -s "$d/left" ] || { valid=0; why="${why:+$why; }left in the spool: $(tr '\n' ' ' <"$d/left")"; }
			;;
		esac
	fi
	hw=$(high_watermarks "$b" "$topic") || hw="?"
	if [ "$hw" != "$want" ]; then
		valid=0
		why="${why:+$why; }high watermarks $hw, want $want"
	fi
	[ "$valid" = 1 ] || { say "  INVALID: $why"; tail -n 5 "$d/err" >&2 || true; }
	say "  wall ${wall}s cpu ${cpu}s rss ${rssd} MiB, $hw messages$([ "$spooled" = - ] || echo ", $spooled spooled")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cl" "$kind" "$rep" "$wall" "$cpu" "$rss" "$rssd" "$valid" "$why" "${spooled:--}" >>"$WORK/runs.tsv"
}

# ---------------------------------------------------------------- latency

# latency CLUSTER BROKERS: at LAT_RATE records/s for LAT_SECS s,
#   ktp-stats  kafkatee-pipe alone, its own read-to-delivery-report figures
#   ktp-ext    kafkatee-pipe again, with a consumer measuring end to end
#   kcat-ext   kcat -P, with the same consumer
# (the consumer takes CPU on a small machine: it is kept out of the first)
latency() {
	local cl=$1 b=$2 kind topic want d lat_n rc cons_pid cpu rss
	lat_n=$((LAT_RATE * LAT_SECS))
	[ "$lat_n" -gt 0 ] || return 0
	for kind in ktp-stats ktp-ext kcat-ext; do
		d=$WORK/lat.$cl.$kind
		mkdir -p "$d"
		topic=lat-$kind
		say "$cl: latency, $kind at $LAT_RATE records/s for $LAT_SECS s"
		# what reaches the topic: kcat also sends the markers
		want=$lat_n
		[ "$kind" = kcat-ext ] && want=$("$GEN" -n "$lat_n" -s "$SEED" --start "$START" --stamp | wc -l)
		cons_pid=
		if [ "$kind" != ktp-stats ]; then
			# the consumer first, from the beginning of the fresh topic
			timeout $((LAT_SECS + 60)) kcat -C -u -q -b "$b" -t "$topic" -o beginning \
				-c "$want" -X fetch.wait.max.ms=5 -X fetch.error.backoff.ms=5 \
				-f '%s\n' 2>"$d/cons.err" | "$LAT" >"$d/lat" &
			cons_pid=$!
			sleep 3 # let it connect (what it would miss meanwhile counts as late)
		fi
		set +e
		"$GEN" -n "$lat_n" -s "$SEED" --start "$START" --rate "$LAT_RATE" --stamp 2>"$d/gen.err" |
			if [ "$kind" = kcat-ext ]; then
				/usr/bin/time -o "$d/time" -f "$TFMT" "${KCAT_P[@]}" -b "$b" -t "$topic" 2>"$d/err"
			else
				/usr/bin/time -o "$d/time" -f "$TFMT" "$KTP" -b "$b" -t "$topic" \
					-o dt.timezone=UTC -o domain=bench \
					-o stats.file="$d/stats.json" -o stats.interval.ms=1000 2>"$d/err"
			fi
		rc=$?
		# kcat -C exits after -c messages (or at its timeout)
		[ -z "$cons_pid" ] || wait "$cons_pid"
		set -e
		local sum='' sp50='' sp90='' sp99='' smax='' pace ext='-' hw
		hw=$(high_watermarks "$b" "$topic") || hw="?"
		[ "$hw" = "$want" ] || say "  NOT ALL DELIVERED: high watermarks $hw, want $want"
		pace=$(sed -n 's/^bench-gen: paced //p' "$d/gen.err")
		[ -z "$cons_pid" ] || ext=$(cat "$d/lat" 2>/dev/null || true)
		if [ "$kind" != kcat-ext ]; then
			sum=$(grep 'summary:' "$d/err" | tail -n 1 || true)
			if [ "$HAVE_STATS" = 1 ] && [ -s "$d/stats.json" ]; then
				read -r sp50 sp90 sp99 smax < <(jq -r '.latency_ms | "\(.p50) \(.p90) \(.p99) \(.max)"' "$d/stats.json")
			fi
		fi
		read -r _ cpu rss < <(time_of "$d/time")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cl" "$kind" "$rc" \
			"$cpu" "$rss" \
			"${sp50:--}" "${sp90:--}" "${sp99:--}" "${smax:--}" "${ext:--}" "$pace" \
			"$([ -n "$sum" ] && echo "${sum#*summary: }" || echo -)" "$hw/$want" >>"$WORK/lat.tsv"
		say "  exit $rc; stats p50/p90/p99/max ${sp50:--}/${sp90:--}/${sp99:--}/${smax:--} ms; external: $ext"
	done
}

# ---------------------------------------------------------------- stages

# stage_costs: each stage's CPU, without Kafka: kafkatee-pipe --stdout
# > /dev/null on the input, one stage added a row (STAGES: base, then
# validation, enrich, anonymize = the private config), interleaved, each
# BENCH_REPEAT times; rows to $WORK/stages.tsv: kind rep cpu valid why
STAGES=(ktp ktpa ktpx)
[ "$PRIVATE" = 0 ] || STAGES+=(st-valid st-enrich ktpp)
stage_costs() {
	local rep kind d rc why cpu
	for rep in $(seq 1 "$REPEAT"); do
		for kind in "${STAGES[@]}"; do
			d=$WORK/stage.$kind.$rep
			mkdir -p "$d"
			ktp_args "$kind"
			say "stages: $kind run $rep, --stdout > /dev/null"
			rc=0
			timeout "$RUN_TIMEOUT" /usr/bin/time -o "$d/time" -f "$TFMT" \
				"$KTP" --stdout "${KARGS[@]}" "${KTP_ARGS[@]}" \
				<"$INPUT" >/dev/null 2>"$d/err" || rc=$?
			why=$(ktp_check "$d" "$N")
			[ "$rc" = 0 ] || why="exit $rc${why:+; $why}"
			read -r _ cpu _ < <(time_of "$d/time")
			say "  cpu ${cpu}s${why:+; INVALID: $why}"
			printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$rep" "$cpu" \
				"$([ -z "$why" ] && echo 1 || echo 0)" "$why" >>"$WORK/stages.tsv"
		done
	done
}

# ---------------------------------------------------------------- measure

: >"$WORK/runs.tsv"
: >"$WORK/lat.tsv"
: >"$WORK/stages.tsv"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CLUSTERS=()

measure_cluster() { # CLUSTER BROKERS
	local cl=$1 b=$2 rep kind
	CLUSTERS+=("$cl")
	for rep in $(seq 1 "$REPEAT"); do
		# interleaved, so that a burst of load elsewhere hits all three
		for kind in "${KINDS[@]}"; do run_one "$cl" "$b" "$kind" "$rep"; done
	done
	latency "$cl" "$b"
}

stage_costs
mock_start
say "mock cluster at $BROKERS ($PARTS partitions per topic)"
measure_cluster mock "$BROKERS"
mock_stop

REAL_NOTE=
if [ "$REAL" = 1 ]; then
	say "starting a real Kafka broker (tests/kafka/kafka.sh start)"
	rc=0
	REAL_BS=$(BUILD=$BUILD KAFKA_EXTRA_PROPS=num.partitions=$PARTS \
		tests/kafka/kafka.sh start 2>"$WORK/kafka.err") || rc=$?
	if [ "$rc" = 0 ]; then
		KAFKA_UP=1
		say "real broker at $REAL_BS; creating topics"
		for t in "${TOPICS[@]}"; do
			BUILD=$BUILD tests/kafka/kafka.sh create-topic "$t" "$PARTS" >/dev/null 2>>"$WORK/kafka.err" ||
				die "kafka.sh create-topic $t failed: $(tail -n 3 "$WORK/kafka.err")"
		done
		measure_cluster kafka "$REAL_BS"
		BUILD=$BUILD tests/kafka/kafka.sh stop >/dev/null 2>&1 || true
		KAFKA_UP=0
	else
		why=$(grep -m1 'SKIP:' "$WORK/kafka.err" | sed 's/.*SKIP: //' || true)
		[ -n "$why" ] || why="kafka.sh start exited $rc: $(tail -n 1 "$WORK/kafka.err")"
		REAL_NOTE="skipped: $why"
		say "real broker $REAL_NOTE"
	fi
else
	REAL_NOTE="skipped: BENCH_REAL=0"
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$((SECONDS - T_START))

# ---------------------------------------------------------------- report

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# col CLUSTER KIND FIELD -> the valid runs' values of FIELD (4 wall, 5 cpu, 6 rss,
# 10 spooled)
col() { awk -F '\t' -v c="$1" -v k="$2" -v f="$3" '$1 == c && $2 == k && $8 == 1 { print $f }' "$WORK/runs.tsv"; }

fmt_rate() { awk -v n="$1" -v w="$2" 'BEGIN { if (w == "-" || w <= 0) print "-"; else printf "%.0f", n / w }'; }
fmt_mbs() { awk -v b="$1" -v w="$2" 'BEGIN { if (w == "-" || w <= 0) print "-"; else printf "%.1f", b / w / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.3f", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { if (v == "-") { print "n/a"; exit }
	ok = (op == ">=") ? (v >= t) : (v < t); print ok ? "met" : "NOT met" }'; }

declare -A NAME=([kcat]="kcat -P (raw)" [ktp]="kafkatee-pipe" [ktpv]="kafkatee-pipe, examples/netflow.conf (validation on)"
	[ktpp]="kafkatee-pipe, examples/netflow-private.conf (enrich + anonymize + validation)" [jq]="jq + kcat -P"
	[ktpa]="kafkatee-pipe, encoding=pnda-avro (PNDA's Avro envelope)"
	[ktpx]="kafkatee-pipe, examples/netflow-pnda.conf (Avro, 5 extension fields)"
	[kcatc]="kcat -P (raw), clients input" [ktppc]="kafkatee-pipe, examples/netflow-private.conf, clients input"
	[sp-overflow]="kafkatee-pipe, spool.mode=overflow" [sp-never]="kafkatee-pipe, spool.mode=always, spool.fsync=never"
	[sp-interval]="kafkatee-pipe, spool.mode=always, spool.fsync=interval" [sp-always]="kafkatee-pipe, spool.mode=always, spool.fsync=always")
declare -A W R
declare -A LNAME=([ktp-stats]="kafkatee-pipe, alone" [ktp-ext]="kafkatee-pipe + consumer" [kcat-ext]="kcat -P (raw) + consumer")
# "count=N skipped=N p50_ms=X p90_ms=X p99_ms=X max_ms=X" -> "X / X / X / X (N)"
ext_ms() {
	[ "$1" != - ] || { echo "- / - / - / -"; return; }
	printf '%s\n' "$1" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s / %s / %s / %s (%s records)\n", v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"], v["count"] }'
}

# spool_table CLUSTER: the spool rows as ratios, to kcat raw (the issue's
# yardstick) and to kafkatee-pipe without a spool (the spool's own cost)
spool_table() {
	local cl=$1 k n sp
	echo
	echo "| spool (records/s) | records | / kcat raw | / kafkatee-pipe without spool | events spooled (median) |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for k in sp-overflow sp-never sp-interval sp-always; do
		n=$N
		[ "$k" = sp-always ] && n=$SYNC_N
		sp=$(col "$cl" "$k" 10 | grep -v '^-$' | median)
		echo "| ${NAME[$k]#kafkatee-pipe, } | $n | $(ratio "${W[$cl.$k]}" "${W[$cl.kcat]}") | $(ratio "${W[$cl.$k]}" "${W[$cl.ktp]}") | $sp |"
	done
}

# geo_text: what the private rows' enrichment files are
geo_text() {
	local f n
	echo "GEO is \`$GEO\`: \`bench/mkgeo.pl\`'s files, $GEO_BUILT in $(sed -n 's/^mkgeo: took //p' "$GEO/mkgeo.log"):"
	for f in country.mmdb asn.mmdb; do
		n=$(sed -n "s/^mkgeo: $f: \([0-9]*\) networks/\1/p" "$GEO/mkgeo.log")
		echo "$f: $n networks, $(stat -c %s "$GEO/$f") bytes;"
	done
	echo "networks.txt: $(grep -vc '^#' "$GEO/networks.txt") prefixes (README.md says how they are drawn)."
}

# stage_table: the stages' CPU (stage_costs) as ns a record, each row's
# difference to the one before it: that stage's own cost
# (the encode row's to the base: it is a branch of its own)
declare -A STAGE_NAME=([ktp]="base: the default transform, no configuration"
	[ktpa]="base + encode: encoding=pnda-avro (PNDA's Avro envelope, the base schema)"
	[ktpx]="base + encode: examples/netflow-pnda.conf (5 extension fields, 4 read from the record)"
	[st-valid]="base + validation: examples/netflow.conf, schema /netflow/flow/1.2.0"
	[st-enrich]="+ enrich: enrich.geoip.country, enrich.geoip.asn, enrich.net.file on GEO"
	[ktpp]="+ anonymize: = examples/netflow-private.conf")
declare -A STAGE_PREV=([ktpa]=ktp [ktpx]=ktp [st-valid]=ktp [st-enrich]=st-valid [ktpp]=st-enrich)
stage_table() {
	local kind c nv prev ns
	declare -A NS
	echo "| stage | valid runs | CPU s (user+sys) | ns per record | the stage's own, ns per record |"
	echo "| --- | --- | ---: | ---: | ---: |"
	for kind in "${STAGES[@]}"; do
		c=$(awk -F '\t' -v k="$kind" '$1 == k && $4 == 1 { print $3 }' "$WORK/stages.tsv" | median)
		nv=$(awk -F '\t' -v k="$kind" '$1 == k && $4 == 1' "$WORK/stages.tsv" | wc -l)
		ns=$(awk -v c="$c" -v n="$N" 'BEGIN { if (c == "-") print "-"; else printf "%.0f", c * 1e9 / n }')
		NS[$kind]=$ns
		prev=-
		[ -z "${STAGE_PREV[$kind]:-}" ] || prev=${NS[${STAGE_PREV[$kind]}]}
		echo "| ${STAGE_NAME[$kind]} | $nv/$REPEAT | $c | $ns | $(awk -v a="$ns" -v b="$prev" 'BEGIN {
			if (a == "-" || b == "-") print ""; else printf "%+.0f", a - b }') |"
	done
	awk -F '\t' '$4 != 1 { print "\n- INVALID: " $1 " run " $2 ": " $5 }' "$WORK/stages.tsv"
}

kversion() { sed -n 's/.*librdkafka[^0-9]*\([0-9][0-9.]*\).*/\1/p' | head -n 1; }
CPU_MODEL=$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)

{
	echo "# kafkatee-pipe benchmark results"
	echo
	echo "Generated by \`bench/run.sh $N\` on $(date -u '+%Y-%m-%d %H:%M UTC'); the whole run took ${ELAPSED} s."
	echo "Do not edit: run the script again. What the figures mean: [README.md](README.md)."
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "| --- | --- |"
	echo "| CPUs (nproc) | $(nproc) |"
	echo "| CPU model | ${CPU_MODEL:-unknown} |"
	echo "| memory | $MEM |"
	echo "| kernel | $(uname -srm) |"
	echo "| load average (1/5/15 min) | before: $LOAD_BEFORE; after: $LOAD_AFTER |"
	echo "| kafkatee-pipe | $("$KTP" -V 2>&1 | head -n 1) |"
	echo "| source | $SRC_REV |"
	echo "| librdkafka (package) | $(dpkg-query -W -f='${Version}' librdkafka1 2>/dev/null || echo '?') |"
	echo "| kcat | $(kcat -V 2>&1 | sed -n 's/^Version \([^ ]*\).*/\1/p' | head -n 1)$(dpkg-query -W -f=' (package ${Version})' kcat 2>/dev/null || true), librdkafka $(kcat -V 2>&1 | kversion) |"
	echo "| jq | $(jq --version 2>&1) |"
	echo "| compiler | $(cc --version | head -n 1) |"
	echo
	echo "The load average counts other work on the machine too (other engineers' tests"
	echo "share it): figures taken under load are lower than the machine can do."
	echo
	echo "## Input"
	echo
	echo "\`$GEN ${GEN_ARGS[*]}\`: $N records + $IN_MARKERS purge markers = $IN_LINES lines,"
	echo "$IN_BYTES bytes, $AVG_LINE bytes a line on average. Event times start at"
	echo "$(date -u -d "@$START" '+%Y-%m-%d %H:%M:%S') (read as UTC), so that the last is a few minutes ago: a Kafka broker refuses"
	echo "message timestamps more than an hour ahead of its clock (log.message.timestamp.after.max.ms)."
	echo
	echo "## Commands"
	echo
	echo "Each against a fresh topic of $PARTS partitions (no key: librdkafka's default partitioner),"
	echo "reading the input file on standard input, under \`/usr/bin/time -f '$TFMT'\`:"
	echo
	echo '```'
	echo "kcat -P -X acks=all -X enable.idempotence=true -b BROKERS -t raw-rR < input.jsonl"
	for k in ktp ktpv ktpa ktpx ktpp; do
		[ "$k" != ktpp ] || [ "$PRIVATE" = 1 ] || continue
		echo "build/kafkatee-pipe -b BROKERS -t $k-rR $(shown "$k") < input.jsonl"
	done
	if [ "$CLIENTS" != 0 ]; then
		echo "kcat -P -X acks=all -X enable.idempotence=true -b BROKERS -t kcatc-rR < input-clients.jsonl"
		echo "build/kafkatee-pipe -b BROKERS -t ktppc-rR $(shown ktppc) < input-clients.jsonl"
	fi
	echo "jq -n -c --arg domain bench -f tests/envelope.jq < input.jsonl | kcat -P -X acks=all -X enable.idempotence=true -b BROKERS -t jq-rR"
	if [ "$SPOOL" = 1 ]; then
		for k in sp-overflow sp-never sp-interval sp-always; do
			in=input.jsonl
			[ "$k" != sp-always ] || [ "$SYNC_N" = "$N" ] || in=input-sync.jsonl
			echo "build/kafkatee-pipe -b BROKERS -t $k-rR -o dt.timezone=UTC -o domain=bench -o spool.dir=SPOOL $(spool_args "$k") < $in"
		done
	fi
	echo '```'
	echo
	echo "kcat sends all $IN_LINES lines (markers included); kafkatee-pipe and jq forward the records."
	if [ "$PRIVATE" = 1 ]; then geo_text; else echo "The private config's rows were skipped (BENCH_PRIVATE=0)."; fi
	if [ "$CLIENTS" != 0 ]; then
		echo "In input.jsonl every client address is new (bench-gen's default): the worst case for the"
		echo "caches of enrich and anonymize, as in a flood of spoofed sources. The clients rows read"
		echo "input-clients.jsonl, \`bench-gen ${CL_GEN_ARGS[*]}\`: the same records but for the client"
		echo "addresses, drawn from a population of $CLIENTS whose shares fall as 1/rank (Zipf, s = 1);"
		echo "$CL_LINES lines, $CL_BYTES bytes, $CL_DISTINCT distinct addresses in ip_src and ip_dst."
		echo "kcat runs on it too, so that each input has its own kcat raw to be divided by."
	else
		echo "The clients rows were skipped (BENCH_CLIENTS=0)."
	fi
	if [ "$JQ_N" != "$N" ]; then
		echo "jq + kcat runs on the first $JQ_N records of the same stream (\`bench-gen ${JQ_GEN_ARGS[*]}\`,"
		echo "$JQ_BYTES bytes; BENCH_JQ_RECORDS=all for all $N): at its rate the full input would take"
		echo "most of an hour, and its records/s do not depend on the length of the input."
	fi
	if [ "$SPOOL" = 1 ]; then
		echo "SPOOL is a fresh directory in the build directory (\`$BUILD\`, not TMPDIR, which may be a tmpfs)"
		echo "for each run, removed after it."
		if [ "$SYNC_N" != "$N" ]; then
			echo "spool.fsync=always syncs each write to the disk: that row runs on the first $SYNC_N records"
			echo "(\`bench-gen ${SYNC_GEN_ARGS[*]}\`, $SYNC_BYTES bytes; BENCH_SPOOL_SYNC_RECORDS=all for all $N),"
			echo "so that a full run stays short; compare its records/s, not its wall time."
		fi
	else
		echo "The spool rows were skipped (BENCH_SPOOL=0)."
	fi
	echo "A run is valid when every process exited 0, the topic's high watermarks add up to what was sent"
	if [ "$SPOOL" = 1 ]; then
		echo "and, for kafkatee-pipe, its summary says \`delivered=\` the records it was given and \`exit=0\`,"
		echo "and with a spool nothing but its lock is left in the spool directory."
	else
		echo "and, for kafkatee-pipe, its summary says \`delivered=$N\` and \`exit=0\`."
	fi
	echo "Each figure is the median of the valid runs out of $REPEAT; records/s and MB/s are the records"
	echo "and bytes of the input over the median wall time. The ratios are of records/s."
	for cl in mock kafka; do
		echo
		if [ "$cl" = mock ]; then
			echo "## Throughput: librdkafka mock cluster (build/mockcluster, $PARTS partitions)"
		else
			echo "## Throughput: real Apache Kafka broker (tests/kafka/kafka.sh, KRaft, 1 node, $PARTS partitions)"
		fi
		echo
		if [ "$cl" = kafka ] && [ -n "$REAL_NOTE" ]; then
			echo "$REAL_NOTE"
			continue
		fi
		echo "| producer | records | valid runs | wall s | records/s | MB/s | CPU s (user+sys) | peak RSS MiB | each run: wall s / CPU s / RSS MiB |"
		echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |"
		for kind in "${KINDS[@]}"; do
			n=$N bytes=$IN_BYTES
			case $kind in kcatc | ktppc) bytes=$CL_BYTES ;; esac
			[ "$kind" = jq ] && n=$JQ_N bytes=$JQ_BYTES
			[ "$kind" = sp-always ] && n=$SYNC_N bytes=$SYNC_BYTES
			nv=$(col "$cl" "$kind" 4 | wc -l)
			w=$(col "$cl" "$kind" 4 | median)
			c=$(col "$cl" "$kind" 5 | median)
			r=$(col "$cl" "$kind" 6 | median)
			each=$(awk -F '\t' -v c="$cl" -v k="$kind" '$1 == c && $2 == k {
				s = s (s ? "; " : "") $4 " / " $5 " / " $7 ($8 == 1 ? "" : " **INVALID: " $9 "**") }
				END { print s }' "$WORK/runs.tsv")
			echo "| ${NAME[$kind]} | $n | $nv/$REPEAT | $w | $(fmt_rate "$n" "$w") | $(fmt_mbs "$bytes" "$w") | $c | $r | $each |"
			W[$cl.$kind]=$(fmt_rate "$n" "$w")
			R[$cl.$kind]=$r
		done
		rk=$(ratio "${W[$cl.ktp]}" "${W[$cl.kcat]}")
		rj=$(ratio "${W[$cl.ktp]}" "${W[$cl.jq]}")
		rt=${R[$cl.ktp]}
		echo
		echo "| ratio (records/s) | value | target | |"
		echo "| --- | ---: | ---: | --- |"
		rv=$(ratio "${W[$cl.ktpv]}" "${W[$cl.kcat]}")
		ra=$(ratio "${W[$cl.ktpa]}" "${W[$cl.kcat]}")
		rx=$(ratio "${W[$cl.ktpx]}" "${W[$cl.kcat]}")
		echo "| kafkatee-pipe / kcat raw | $rk | >= 0.5 | $(verdict "$rk" '>=' 0.5) |"
		echo "| kafkatee-pipe, validation on / kcat raw | $rv | >= 0.5 | $(verdict "$rv" '>=' 0.5) |"
		echo "| kafkatee-pipe, PNDA's Avro envelope / kcat raw | $ra | >= 0.5 | $(verdict "$ra" '>=' 0.5) |"
		echo "| kafkatee-pipe, examples/netflow-pnda.conf / kcat raw | $rx | | |"
		if [ "$PRIVATE" = 1 ]; then
			rp=$(ratio "${W[$cl.ktpp]}" "${W[$cl.kcat]}")
			echo "| kafkatee-pipe, private config / kcat raw | $rp | >= 0.5 | $(verdict "$rp" '>=' 0.5) |"
		fi
		if [ "$CLIENTS" != 0 ]; then
			rc=$(ratio "${W[$cl.ktppc]}" "${W[$cl.kcatc]}")
			echo "| kafkatee-pipe, private config / kcat raw, clients input | $rc | >= 0.5 | $(verdict "$rc" '>=' 0.5) |"
		fi
		echo "| kafkatee-pipe / jq + kcat | $rj | >= 10 | $(verdict "$rj" '>=' 10) |"
		echo "| kafkatee-pipe peak RSS MiB | $rt | < 64 | $(verdict "$rt" '<' 64) |"
		[ "$SPOOL" = 0 ] || spool_table "$cl"
	done
	echo
	echo "## Cost per record of each stage"
	echo
	[ "$PRIVATE" = 1 ] || echo "The private config's stages were skipped (BENCH_PRIVATE=0)."
	echo "\`build/kafkatee-pipe --stdout ARGS < input.jsonl > /dev/null\`: the same $N records, written to"
	echo "/dev/null instead of Kafka, so that Kafka's cost (librdkafka, the broker) is out and what is left is"
	echo "the stages' CPU. Each row adds one stage to the base or to the row before it (\"+\"); its last column,"
	echo "the difference, is that stage's own cost per record (validation's of the members enrich adds is enrich's). Median"
	echo "user+sys CPU of the valid runs out of $REPEAT (a run is valid when its summary says"
	echo "\`delivered=$N\` and \`exit=0\`), interleaved; ns per record = CPU s / $N."
	echo
	echo '```'
	for kind in "${STAGES[@]}"; do
		echo "# ${STAGE_NAME[$kind]%%:*}"
		echo "build/kafkatee-pipe --stdout $(shown "$kind") < input.jsonl > /dev/null"
	done
	echo '```'
	echo
	stage_table
	echo
	echo "## Latency at $LAT_RATE records/s for $LAT_SECS s"
	echo
	if [ "$((LAT_RATE * LAT_SECS))" -eq 0 ]; then
		echo "skipped (BENCH_LAT_SECS=0)"
	else
		echo "\`bench-gen -n $((LAT_RATE * LAT_SECS)) -s $SEED --start $START --rate $LAT_RATE --stamp | PRODUCER\`: one batch a millisecond,"
		echo "the send time in \"label\" (\"t=<microseconds>\"); the producers as above, kafkatee-pipe with"
		echo "\`-o stats.file=stats.json -o stats.interval.ms=1000\`; a fresh topic for each run."
		echo
		echo "- **stats**: kafkatee-pipe's own figures from its last stats file (\"latency_ms\"): from read() to the"
		echo "  delivery report, cumulative over the whole run, start-up included; each is the upper bound of a"
		echo "  histogram bucket (8 a power of two), so up to 12.5% high."
		echo "- **external**: from the writer (before write(2)) to a \`kcat -C -u\` consumer (fetch.wait.max.ms=5)"
		echo "  on the same machine, read by \`bench-lat\` (exact percentiles): adds the pipe, the broker's"
		echo "  commit and the consumer's fetch; the same yardstick for both producers."
		echo "- **alone**: no consumer running (on $(nproc) CPUs the consumer competes with the producer):"
		echo "  this is the run the stats target is judged on."
		echo
		echo "| broker | run | exit | in topic / sent | CPU s | peak RSS MiB | stats p50 / p90 / p99 / max ms | external p50 / p90 / p99 / max ms | pacing (bench-gen) | kafkatee-pipe summary |"
		echo "| --- | --- | --- | --- | ---: | ---: | --- | --- | --- | --- |"
		while IFS=$'\t' read -r cl kind rc cpu rss p50 p90 p99 mx ext pace sum hw; do
			e=$(ext_ms "$ext")
			echo "| $cl | ${LNAME[$kind]} | $rc | $hw | $cpu | $rss | $p50 / $p90 / $p99 / $mx | $e | $pace | $sum |"
		done <"$WORK/lat.tsv"
		echo
		echo "| target: kafkatee-pipe p99 < 20 ms | broker | p99 ms | |"
		echo "| --- | --- | ---: | --- |"
		while IFS=$'\t' read -r cl kind rc cpu rss p50 p90 p99 mx ext pace sum hw; do
			case $kind in
			ktp-stats)
				echo "| stats, alone (read to delivery report) | $cl | $p99 | $(verdict "$p99" '<' 20) |" ;;
			ktp-ext)
				e99=$(printf '%s\n' "$ext" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p')
				echo "| external, with consumer (upper bound) | $cl | ${e99:--} | $(verdict "${e99:--}" '<' 20) |" ;;
			esac
		done <"$WORK/lat.tsv"
	fi
	if [ -f "$ROOT/bench/AUDIT.md" ]; then
		# the audit's own bench is long (bench/audit.sh): its last
		# results, as they were written, with their commit and date
		echo
		echo "## The loss audit (\`--audit\`): memory and speed"
		echo
		echo "From [AUDIT.md](AUDIT.md), written by \`bench/audit.sh\`, not by this run:"
		sed -e '1,/^$/d' -e 's/^#/##/' "$ROOT/bench/AUDIT.md"
	fi
	if [ "${#NOTES[@]}" -gt 0 ]; then
		echo
		echo "## Notes"
		echo
		for n in "${NOTES[@]}"; do echo "- $n"; done
	fi
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
say "done in ${ELAPSED} s; results in $OUT"
