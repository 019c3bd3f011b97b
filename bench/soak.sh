#!/usr/bin/env bash
# bench/soak.sh: issue 11's outage, measured: a paced writer, the broker
# down for a minute, with and without the disk spool.
#
# bench-gen --rate SOAK_RATE (10000 records/s) writes for SOAK_BEFORE_SECS
# + SOAK_DOWN_SECS + SOAK_AFTER_SECS (15 + 60 + 15 s) into kafkatee-pipe,
# which produces to build/mockcluster with message.timeout.ms of
# SOAK_TIMEOUT_MS (5000); every broker goes down SOAK_BEFORE_SECS after the
# start and comes back SOAK_DOWN_SECS later.  Two runs, each on a fresh
# topic: with spool.dir (a fresh directory in the build directory), then
# the same without it (SOAK_NOSPOOL=0 skips that one).  For each: records
# written, the writer's worst lag behind schedule (how long its write()
# blocked), kafkatee-pipe's summary and exit status, what its dead-letter
# file got, the peak spool size and age from its stats file (sampled each
# second), the topic's high watermarks, and the meta.id of every message
# consumed back (by a kcat -C that reads the topic from the start while it
# is produced): total and unique.  Writes bench/SOAK.md (SOAK_OUT) and
# prints it.
#
# Exits 1 when the spooled run misses a record (fewer unique meta.id than
# records written), dead-lettered one, did not exit 0 or left something in
# its spool directory, or when not every message could be read back; the
# lags are reported, never judged (the machine is shared), and the run
# without the spool is expected to lose records.
#
# The mock cluster keeps about 5 MiB a partition (its retention trims the
# oldest messages, not the offsets), so the messages are read back while
# they are produced (by a consumer niced not to take the CPU from the
# writer), the topic has SOAK_PARTITIONS (128) partitions (room for about
# 800,000 messages while the consumer catches up with the spool's
# replay), and kafkatee-pipe spreads them evenly
# (sticky.partitioning.linger.ms=0).  A run whose messages were trimmed
# before they could be read says so and fails.
#
# Environment: BUILD (build), SOAK_RATE, SOAK_BEFORE_SECS, SOAK_DOWN_SECS,
# SOAK_AFTER_SECS, SOAK_TIMEOUT_MS, SOAK_PARTITIONS, SOAK_STALL_MS (100:
# bench-gen --stalls, the writer's stalls reported), SOAK_KTP_ARGS (more
# arguments for kafkatee-pipe, split at spaces: e.g. "-o
# spool.fsync=never"), SOAK_NOSPOOL (1),
# SOAK_SEED (1), SOAK_OUT (bench/SOAK.md), SOAK_KEEP (0; 1 keeps the work
# directory), TMPDIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RATE=${SOAK_RATE:-10000}
BEFORE=${SOAK_BEFORE_SECS:-15}
DOWN=${SOAK_DOWN_SECS:-60}
AFTER=${SOAK_AFTER_SECS:-15}
TIMEOUT_MS=${SOAK_TIMEOUT_MS:-5000}
NOSPOOL=${SOAK_NOSPOOL:-1}
SEED=${SOAK_SEED:-1}
OUT=${SOAK_OUT:-$ROOT/bench/SOAK.md}
STALL_MS=${SOAK_STALL_MS:-100}
read -ra KTP_ARGS <<< "${SOAK_KTP_ARGS:-}"
for v in RATE BEFORE DOWN AFTER TIMEOUT_MS SEED STALL_MS; do
	case ${!v} in '' | *[!0-9]*) echo "soak: $v: a number" >&2; exit 2 ;; esac
done
[ "$RATE" -gt 0 ] || { echo "soak: SOAK_RATE: > 0" >&2; exit 2; }
N=$((RATE * (BEFORE + DOWN + AFTER)))
[ "$N" -gt 0 ] || { echo "soak: nothing to write" >&2; exit 2; }
PARTS=${SOAK_PARTITIONS:-128}
case $PARTS in '' | *[!0-9]* | 0) echo "soak: SOAK_PARTITIONS: > 0" >&2; exit 2 ;; esac
# how long a run may take past its schedule before it is stopped
GRACE=180

say() { printf 'soak: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ktp-soak.XXXXXX")
# on the build's disk, not TMPDIR (which may be a tmpfs)
SPOOL_BASE=$BUILD/soak-spool.$$
GEN=$BUILD/bench-gen
# tests/helpers.bash: mock_start, mock_cmd, mock_stop, high_watermarks
BATS_TEST_DIRNAME=$ROOT/tests
BATS_TEST_TMPDIR=$WORK
# shellcheck source=../tests/helpers.bash
. "$ROOT/tests/helpers.bash"

GEN_PID='' KTP_PID='' CONS_PID='' IDS_PID=''
cleanup() {
	set +e
	local p
	for p in "$GEN_PID" "$KTP_PID" "$CONS_PID" "$IDS_PID"; do
		[ -z "$p" ] || kill -TERM "$p" 2>/dev/null
	done
	mock_stop
	rm -rf "$SPOOL_BASE"
	if [ "${SOAK_KEEP:-0}" = 1 ]; then say "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in kcat jq cc; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (make deps installs it)"
done
say "building (make -s BUILD=$BUILD all mockcluster; bench-gen)"
make -s BUILD="$BUILD" all "$MOCKCLUSTER" >&2
cc -std=c11 -O2 -Wall -Wextra -Werror bench/gen.c -o "$GEN"

# event times: the last purge a few minutes ago, as bench/run.sh does
START=$((($(date +%s) / 60 - N / 900 - 10) * 60))
GEN_ARGS=(-n "$N" -s "$SEED" --start "$START" --rate "$RATE" --stalls "$STALL_MS")

now() { echo "${EPOCHREALTIME/[.,]/}"; } # microseconds
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# sample DIR T0: the spool's figures in the stats file (a line a second):
# seconds since T0, spool bytes, spool events, oldest event's age
sample() {
	local t
	[ -s "$1/stats.json" ] || return 0
	t=$(secs_since "$2")
	jq -r --arg t "$t" '[$t, (.spool.bytes // "-"), (.spool.events // "-"),
		(.spool.oldest_age_s // "-")] | @tsv' "$1/stats.json" \
		2>/dev/null >>"$1/samples" || true
}

# outage DIR T0: down at BEFORE, up at BEFORE + DOWN, sampling meanwhile;
# returns once kafkatee-pipe has exited (or its time is up)
outage() {
	local d=$1 t0=$2 el state=up end=$((BEFORE + DOWN + AFTER + GRACE))
	while kill -0 "$KTP_PID" 2>/dev/null; do
		el=$((($(now) - t0) / 1000000))
		if [ "$state" = up ] && [ "$el" -ge "$BEFORE" ] && [ "$el" -lt "$((BEFORE + DOWN))" ]; then
			mock_cmd "down -1"
			state=down
			echo "down $(secs_since "$t0")" >>"$d/events"
			say "  t=$(secs_since "$t0") s: every broker down"
		elif [ "$state" = down ] && [ "$el" -ge "$((BEFORE + DOWN))" ]; then
			mock_cmd "up -1"
			state=back
			echo "up $(secs_since "$t0")" >>"$d/events"
			say "  t=$(secs_since "$t0") s: every broker up"
		elif [ "$el" -ge "$end" ]; then
			say "  t=$(secs_since "$t0") s: still running: stopping it"
			echo "stopped $(secs_since "$t0")" >>"$d/events"
			kill -TERM "$GEN_PID" "$KTP_PID" 2>/dev/null || true
			break
		fi
		sample "$d" "$t0"
		sleep 1
	done
	# a run shorter than the schedule: the broker must not stay down
	[ "$state" != down ] || { mock_cmd "up -1"; echo "up $(secs_since "$t0")" >>"$d/events"; }
	return 0
}

# run_soak NAME SPOOL(0|1): one run to topic soak-NAME; leaves its
# figures in $WORK/NAME/
run_soak() {
	local name=$1 spool=$2 d=$WORK/$1 topic=soak-$1 t0 args
	mkdir -p "$d"
	mock_cmd "topic $topic $PARTS"
	# sticky.partitioning.linger.ms=0: each message to a random partition;
	# librdkafka's default sends what comes within 10 ms to one, and the
	# spool's replay (16 MiB at once) would overflow one of the mock's
	# partitions before it could be read back
	args=(-b "$BROKERS" -t "$topic" -o dt.timezone=UTC -o domain=soak
		-X message.timeout.ms="$TIMEOUT_MS"
		-X sticky.partitioning.linger.ms=0 --dead-letter "$d/dead"
		-o stats.file="$d/stats.json" -o stats.interval.ms=1000
		"${KTP_ARGS[@]}")
	if [ "$spool" = 1 ]; then
		rm -rf "$SPOOL_BASE"
		mkdir -p "$SPOOL_BASE"
		args+=(-o spool.dir="$SPOOL_BASE/spool")
	fi
	echo "${args[*]}" | sed "s|$BROKERS|BROKERS|; s|$d/||g; s|$SPOOL_BASE/||" >"$d/args"
	say "$name: bench-gen ${GEN_ARGS[*]} | kafkatee-pipe $(cat "$d/args")"
	mkfifo "$d/pipe"
	consumer "$d" "$topic"
	t0=$(now)
	"$KTP" "${args[@]}" <"$d/pipe" >/dev/null 2>"$d/err" &
	KTP_PID=$!
	"$GEN" "${GEN_ARGS[@]}" >"$d/pipe" 2>"$d/gen.err" &
	GEN_PID=$!
	outage "$d" "$t0"
	local rc=0 grc=0
	wait "$KTP_PID" || rc=$?
	wait "$GEN_PID" || grc=$?
	KTP_PID='' GEN_PID=''
	sample "$d" "$t0" # the last stats file, written at the exit
	echo "end $(secs_since "$t0")" >>"$d/events"
	echo "$rc" >"$d/rc"
	echo "$grc" >"$d/gen.rc"
	say "  kafkatee-pipe exited $rc after $(secs_since "$t0") s; bench-gen exited $grc"
	readback "$d" "$topic"
	[ "$spool" = 0 ] || ls -A "$SPOOL_BASE/spool" 2>/dev/null | grep -vx lock >"$d/left" || true
	rm -rf "$SPOOL_BASE"
}

# consumer DIR TOPIC: reads TOPIC from the start as it is produced, each
# message's meta.id (the envelope's only "id") a line of DIR/ids
consumer() {
	local d=$1 topic=$2
	mkfifo "$d/values"
	nice -n 19 grep -o '"id": *"[^"]*"' <"$d/values" >"$d/ids" &
	IDS_PID=$!
	# niced: the writer, kafkatee-pipe and the mock first (the partitions
	# hold what it has not read yet); -E: on through the outage (kcat
	# stops when every broker is down); back within 100 ms of the
	# brokers, and fetching into memory (up to 2 GB) however slow its
	# output: the replay comes fast, the mock trims it soon; a fetch past
	# the trimmed start goes back to it
	nice -n 19 kcat -C -E -u -q -b "$BROKERS" -t "$topic" -o beginning \
		-X reconnect.backoff.ms=10 -X reconnect.backoff.max.ms=100 \
		-X fetch.error.backoff.ms=10 -X auto.offset.reset=earliest \
		-X queued.max.messages.kbytes=2097151 \
		-X queued.min.messages=10000000 -f '%s\n' \
		>"$d/values" 2>"$d/consume.err" &
	CONS_PID=$!
}

# readback DIR TOPIC: the high watermarks; waits until the consumer has
# read that many messages, or has read nothing more for 30 s
readback() {
	local d=$1 topic=$2 hw n last=-1 still=0
	hw=$(high_watermarks "$topic") || hw='?'
	echo "$hw" >"$d/hw"
	say "  high watermarks: $hw; waiting for the consumer"
	while [ "$still" -lt 30 ]; do
		n=$(_nlines "$d/ids")
		[ "$hw" = '?' ] || [ "$n" -lt "$hw" ] || break
		if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0; fi
		last=$n
		sleep 1
	done
	kill -TERM "$CONS_PID" 2>/dev/null || true
	wait "$CONS_PID" 2>/dev/null || true
	wait "$IDS_PID" 2>/dev/null || true
	CONS_PID='' IDS_PID=''
	_nlines "$d/ids" >"$d/consumed"
	sort -u "$d/ids" | wc -l | tr -d ' ' >"$d/unique"
	rm -f "$d/ids"
}

mock_start || die "the mock cluster did not start"
say "mock cluster at $BROKERS; $N records at $RATE/s, down at ${BEFORE} s for ${DOWN} s; $PARTS partitions"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$SECONDS
run_soak spool 1
[ "$NOSPOOL" = 0 ] || run_soak nospool 0
mock_stop
ELAPSED=$((SECONDS - T_START))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report

# field NAME SUMMARY: NAME=value of a summary line (0 when absent: the
# spool's figures are there only when it had any)
field() { printf '%s\n' "$2" | sed -n "s/.* $1=\([0-9]*\).*/\1/p" | grep . || echo 0; }
# peak COLUMN DIR: the largest value of a samples column
peak() { awk -F '\t' -v c="$1" '$c != "-" && $c > m { m = $c } END { print m + 0 }' "$2/samples" 2>/dev/null || echo -; }
# event WHAT DIR: seconds since the start of the run
event() { awk -v w="$1" '$1 == w { print $2; exit }' "$2/events"; }

# stalls DIR: bench-gen's stalls, "N: at s: ms; ..." (the first 24)
stalls() {
	sed -n 's/^bench-gen: stalled at \([0-9.]*\) s: up to \([0-9.]*\) ms.*/\1 \2/p' "$1/gen.err" |
		awk '{ n++; if (n <= 24) s = s (s ? "; " : "") sprintf("%.1f s: %.0f ms", $1, $2) }
			END { if (!n) print "none"; else print n ": " s (n > 24 ? "; ..." : "") }'
}

# drained DIR: seconds from the broker's return to an empty spool
drained() {
	local up
	up=$(event up "$1")
	[ -n "$up" ] || { echo -; return; }
	awk -F '\t' -v up="$up" '$1 > up && $3 == 0 { printf "%.0f", $1 - up; f = 1; exit }
		END { if (!f) print "-" }' "$1/samples" 2>/dev/null || echo -
}

# figures NAME: one line per row of the table, "label<TAB>value", and
# the verdict in $WORK/NAME/verdict
figures() {
	local d=$WORK/$1 sum pace lag rc dl dlf hw con uni miss dup bp st bad=()
	sum=$(grep 'summary:' "$d/err" | tail -n 1 || true)
	pace=$(sed -n 's/^bench-gen: paced //p' "$d/gen.err")
	lag=$(printf '%s\n' "$pace" | sed -n 's/.*worst lag behind schedule \([0-9.]*\) ms.*/\1/p')
	rc=$(cat "$d/rc")
	dl=$(field dead_lettered "$sum")
	dlf=$(_nlines "$d/dead")
	hw=$(cat "$d/hw") con=$(cat "$d/consumed") uni=$(cat "$d/unique")
	miss=$((N - uni)) dup=$((con - uni))
	[ "$con" = "$hw" ] || miss="? (not all read back)"
	bp=$(jq -r '.backpressure_s // "-"' "$d/stats.json" 2>/dev/null || echo -)
	st=$(event stopped "$d")
	[ -z "$st" ] || st=" (stopped at $st s)"
	printf '%s\t%s\n' \
		"records written (bench-gen)" "$(printf '%s\n' "$pace" | sed 's/ records in.*//') of $N" \
		"writer's worst lag behind schedule (its longest blocked write)" "**${lag:-?} ms**" \
		"writer's stalls of $STALL_MS ms or more: when (s after its start): worst lag" "$(stalls "$d")" \
		"writer's pacing (bench-gen)" "${pace:--}" \
		"broker down / up / kafkatee-pipe exited, s after the start" "$(event down "$d") / $(event up "$d") / $(event end "$d")$st" \
		"kafkatee-pipe exit status" "$rc" \
		"read / delivered / failed" "$(field read "$sum") / $(field delivered "$sum") / $(field failed "$sum")" \
		"spooled / replayed / kept" "$(field spooled "$sum") / $(field replayed "$sum") / $(field kept "$sum")" \
		"dead-lettered (summary / lines in the dead-letter file)" "$dl / $dlf" \
		"stdin stopped (stats backpressure_s)" "$bp" \
		"peak spool bytes / events / oldest age s (stats file, each second)" "$(peak 2 "$d") / $(peak 3 "$d") / $(peak 4 "$d")" \
		"spool empty again, s after the broker came back" "$(drained "$d")" \
		"high watermarks (sum of $PARTS partitions)" "$hw" \
		"messages read back / unique meta.id" "$con / $uni" \
		"records missing (written - unique meta.id)" "$miss" \
		"duplicates (read back - unique)" "$dup"
	[ "$con" = "$hw" ] || bad+=("only $con of $hw messages read back (the mock's retention: raise SOAK_PARTITIONS)")
	[ "$miss" = 0 ] || [ "$con" != "$hw" ] || bad+=("$miss records missing")
	[ "$dl" = 0 ] && [ "$dlf" = 0 ] || bad+=("$dl dead-lettered")
	[ "$rc" = 0 ] || bad+=("exit status $rc")
	[ ! -s "$d/left" ] || bad+=("left in the spool: $(tr '\n' ' ' <"$d/left")")
	if [ "${#bad[@]}" = 0 ]; then echo ok; else (IFS=';'; echo "NO: ${bad[*]}" | sed 's/;/; /g'); fi >"$d/verdict"
	echo "$sum" >"$d/summary"
}

RUNS=(spool)
[ "$NOSPOOL" = 0 ] || RUNS+=(nospool)
for r in "${RUNS[@]}"; do figures "$r" >"$WORK/$r/figures"; done

{
	echo "# kafkatee-pipe soak: a broker outage under a paced writer"
	echo
	echo "Generated by \`bench/soak.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); it took ${ELAPSED} s."
	echo "Do not edit: run \`make soak\` again. What the figures mean: [README.md](README.md#soak-a-broker-outage)."
	echo
	echo "| | |"
	echo "| --- | --- |"
	echo "| CPUs (nproc) | $(nproc) |"
	echo "| load average (1/5/15 min) | before: $LOAD_BEFORE; after: $LOAD_AFTER |"
	echo "| kafkatee-pipe | $("$KTP" -V 2>&1 | head -n 1) |"
	echo "| source | $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':!bench' 2>/dev/null | grep -q . && echo ' + uncommitted changes') |"
	echo
	echo "## Scenario"
	echo
	echo "The issue's test: a writer paced at $RATE records/s for $((BEFORE + DOWN + AFTER)) s into kafkatee-pipe,"
	echo "producing to build/mockcluster (a fresh topic of $PARTS partitions each run); $BEFORE s after"
	echo "the start every broker goes down (\`down -1\`), $DOWN s later it comes back (\`up -1\`);"
	echo "message.timeout.ms is $TIMEOUT_MS ms, far shorter than the outage. sticky.partitioning.linger.ms=0"
	echo "sends each message to a random partition, so that the spool's replay does not overflow one"
	echo "partition of the mock (about 5 MiB each) before it can be read back."
	[ "${#KTP_ARGS[@]}" = 0 ] || echo "SOAK_KTP_ARGS: \`${KTP_ARGS[*]}\`."
	echo
	echo '```'
	for r in "${RUNS[@]}"; do
		echo "bench-gen ${GEN_ARGS[*]} | kafkatee-pipe $(cat "$WORK/$r/args")"
	done
	echo '```'
	echo
	echo "SPOOL is a fresh directory in the build directory, removed after the run. A \`kcat -C -u\`"
	echo "(under \`nice -n 19\`) reads the topic from the start while it is produced (the mock cluster"
	echo "keeps only about 5 MiB a partition) and the envelope's \`\"id\"\` (meta.id) of each message"
	echo "is counted."
	echo
	printf '| |'; for r in "${RUNS[@]}"; do printf ' %s |' "$([ "$r" = spool ] && echo 'with spool.dir' || echo 'without a spool')"; done; echo
	printf '| --- |'; for r in "${RUNS[@]}"; do printf ' --- |'; done; echo
	paste "$WORK/spool/figures" $([ "$NOSPOOL" = 0 ] || echo "$WORK/nospool/figures") |
		awk -F '\t' '{ printf "| %s |", $1; for (i = 2; i <= NF; i += 2) printf " %s |", $i; print "" }'
	printf '| every record delivered once, none dead-lettered |'
	for r in "${RUNS[@]}"; do printf ' %s |' "$(cat "$WORK/$r/verdict")"; done; echo
	echo
	echo "kafkatee-pipe's summaries:"
	echo
	echo '```'
	for r in "${RUNS[@]}"; do echo "$r: $(sed 's/.*summary: //' "$WORK/$r/summary")"; done
	echo '```'
	echo
	echo "soak.sh fails when the run with the spool misses a record, dead-letters one, does not exit 0 or"
	echo "leaves something in its spool directory, or when not every message could be read back. The"
	echo "writer's lag is reported, not judged (the issue's bound: under 100 ms with the spool): on a"
	echo "shared 2-core machine a stall can be another process's doing."
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
V=$(cat "$WORK/spool/verdict")
say "done in ${ELAPSED} s; results in $OUT"
[ "$V" = ok ] || die "FAILED with the spool: $V"
