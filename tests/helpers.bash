# helpers.bash: shared helpers for the end-to-end bats tests.
#
# Load from a tests/*.bats file with `load helpers`.  A typical test:
#
#	setup()    { mock_start -t events:3; }
#	teardown() { proc_stop_all; mock_stop; }
#
#	@test "forwards every record" {
#		printf '%s\n' "$REC1" "$REC2" | "$KTP" -b "$BROKERS" -t events
#		[ "$(high_watermarks events)" -eq 2 ]
#	}
#
# Start the mock in setup(), not setup_file(): its stdin is held by the
# test's shell, so the cluster also goes away on its own if a test dies
# without running teardown.
#
# Paths: the repository root is found from $BATS_TEST_DIRNAME/..; binaries
# come from $BUILD (default <root>/build; relative values are taken from
# the root), so `BUILD=build-asan bats tests` tests a sanitizer build.
# Exported: ROOT, BUILD, KTP, MOCKCLUSTER; after mock_start, BROKERS.
#
# Every wait is bounded so that a broken build fails instead of hanging.

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$ROOT/$BUILD ;;
esac
KTP=$BUILD/kafkatee-pipe
MOCKCLUSTER=$BUILD/mockcluster
export ROOT BUILD KTP MOCKCLUSTER

# How long kcat may take for one consume or query.
: "${KCAT_TIMEOUT:=60}"

# Scratch directory for this test: bats cleans it up.
_tmpdir() {
	if [ -z "${_HELPERS_TMP:-}" ]; then
		_HELPERS_TMP=${BATS_TEST_TMPDIR:-$(mktemp -d)}
	fi
	printf '%s\n' "$_HELPERS_TMP"
}

# Say why on stderr (bats shows it when the test fails) and fail.
_fail() {
	printf '%s\n' "$*" >&2
	return 1
}

# For a child's subshell: closes the write ends of the FIFOs that the
# helpers hold, lest the child keep a FIFO from ever reaching EOF.
_close_helper_fds() {
	local name fdvar fd

	if [ -n "${MOCK_FD:-}" ]; then
		exec {MOCK_FD}>&-
	fi
	for name in ${_PROC_NAMES:-}; do
		fdvar=_PROC_FD_$name
		fd=${!fdvar:-}
		if [ -n "$fd" ]; then
			exec {fd}>&-
		fi
	done
}

# Number of lines in FILE (0 when it does not exist yet).
_nlines() {
	if [ -f "$1" ]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

#
# Mock cluster
#

# mock_start [mockcluster args]
#	Starts $MOCKCLUSTER with the given arguments (-b BROKERS,
#	-t TOPIC:PARTITIONS...), waits up to 10 s for its bootstrap line
#	and exports BROKERS.  Its stdout/stderr are in $MOCK_DIR/mock.out
#	and mock.err.
mock_start() {
	local dir i

	[ -z "${MOCK_PID:-}" ] || _fail "mock_start: already running" || return
	[ -x "$MOCKCLUSTER" ] || _fail "mock_start: no $MOCKCLUSTER; build it" \
	    "with: cc -std=c11 -D_POSIX_C_SOURCE=200809L tests/mockcluster.c" \
	    "\$(pkg-config --cflags --libs rdkafka) -o $MOCKCLUSTER" || return
	dir=$(_tmpdir)/mock.$$
	mkdir -p "$dir" && rm -f "$dir/in" "$dir/sent" && mkfifo "$dir/in" ||
	    return
	MOCK_DIR=$dir
	# Read-write: opening never blocks, and writes never raise SIGPIPE
	# in the test even if the mock has died.
	exec {MOCK_FD}<>"$dir/in"
	# The mock gets its own read-only descriptor and none of ours, or
	# it would hold a writer on its own stdin and never see EOF.
	# fd 3 is bats' output: a child keeping it open stalls bats.
	(
		_close_helper_fds
		exec "$MOCKCLUSTER" "$@"
	) <"$dir/in" >"$dir/mock.out" 2>"$dir/mock.err" 3>&- &
	MOCK_PID=$!
	for ((i = 0; i < 200; i++)); do
		if [ "$(_nlines "$dir/mock.out")" -ge 1 ]; then
			BROKERS=$(head -n 1 "$dir/mock.out")
			export BROKERS MOCK_PID MOCK_DIR
			return 0
		fi
		kill -0 "$MOCK_PID" 2>/dev/null || break
		sleep 0.05
	done
	_fail "mock_start: no bootstrap line; stderr:" "$(cat "$dir/mock.err")"
	mock_stop
	return 1
}

# Sends one command and sets MOCK_REPLY to the reply line.
# Replies follow the bootstrap line, one per command, so the reply to
# command N is line N + 1.  N is kept in a file rather than a variable:
# mock_try may well run in a pipeline's subshell.
_mock_send() {
	local out sent i

	[ -n "${MOCK_PID:-}" ] || _fail "mock: not started" || return
	out=$MOCK_DIR/mock.out
	sent=$(($(cat "$MOCK_DIR/sent" 2>/dev/null || echo 0) + 1))
	echo "$sent" >"$MOCK_DIR/sent"
	printf '%s\n' "$*" >&"$MOCK_FD"
	for ((i = 0; i < 200; i++)); do
		if [ "$(_nlines "$out")" -gt "$sent" ]; then
			MOCK_REPLY=$(sed -n "$((sent + 1))p" "$out")
			return 0
		fi
		kill -0 "$MOCK_PID" 2>/dev/null ||
		    _fail "mock '$*': mock exited:" \
			"$(cat "$MOCK_DIR/mock.err")" || return
		sleep 0.05
	done
	_fail "mock '$*': no reply within 10 s"
}

# mock_try COMMAND
#	Sends one command and prints the reply line ("ok" or "error: ...").
#	Fails only if no reply comes within 10 s.  Also sets MOCK_REPLY.
mock_try() {
	_mock_send "$@" && printf '%s\n' "$MOCK_REPLY"
}

# mock_cmd COMMAND
#	Sends one command (down ID, up ID, rtt ID MS, errors COUNT ERR,
#	clear_errors, topic NAME PARTITIONS, topic_error NAME ERR; ID -1
#	is all brokers) and fails unless the mock answers "ok" within 10 s.
mock_cmd() {
	_mock_send "$@" || return
	[ "$MOCK_REPLY" = ok ] || _fail "mock_cmd '$*': $MOCK_REPLY"
}

# mock_stop
#	Stops the mock: quit, then SIGTERM after 5 s, SIGKILL after 10 s.
#	Safe to call when not started or already stopped; never fails.
mock_stop() {
	local i

	[ -n "${MOCK_PID:-}" ] || return 0
	# bats runs with set -e: nothing here may fail.
	{ printf 'quit\n' >&"$MOCK_FD"; } 2>/dev/null || true
	exec {MOCK_FD}>&-
	for ((i = 0; i < 200; i++)); do
		kill -0 "$MOCK_PID" 2>/dev/null || break
		if [ "$i" -eq 100 ]; then
			kill -TERM "$MOCK_PID" 2>/dev/null || true
		fi
		sleep 0.05
	done
	kill -KILL "$MOCK_PID" 2>/dev/null || true
	wait "$MOCK_PID" 2>/dev/null || true
	unset MOCK_PID MOCK_FD BROKERS
	return 0
}

#
# Reading back what was produced
#

# consume TOPIC [COUNT]
#	Prints TOPIC's messages from the beginning to the current end, or
#	the first COUNT of them, one per line:
#	partition TAB offset TAB key TAB timestamp(ms) TAB value
#	Partitions interleave; values or keys with newlines or tabs break
#	the format.  Note that the mock auto-creates (4 partitions) a topic
#	that is consumed before it exists.
consume() {
	local topic=$1 count=${2:-}

	timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t "$topic" \
	    -o beginning -e -q ${count:+-c "$count"} \
	    -f '%p\t%o\t%k\t%T\t%s\n'
}

# consume_values TOPIC
#	Prints just the values, partition by partition in offset order.
consume_values() {
	local out

	out=$(timeout "$KCAT_TIMEOUT" kcat -C -b "$BROKERS" -t "$1" \
	    -o beginning -e -q -f '%p\t%o\t%s\n') || return
	[ -z "$out" ] && return 0
	printf '%s\n' "$out" | sort -s -t $'\t' -k1,1n -k2,2n |
	    cut -f 3-
}

# partitions TOPIC
#	Prints the topic's partition ids, one per line.
partitions() {
	timeout "$KCAT_TIMEOUT" kcat -L -b "$BROKERS" -t "$1" |
	    awk '$1 == "partition" { sub(",", "", $2); print $2 }'
}

# watermarks TOPIC
#	Prints "partition TAB high watermark" for each partition of TOPIC,
#	in partition order; fails unless every partition answered.
watermarks() {
	local p args=()

	for p in $(partitions "$1"); do
		args+=(-t "$1:$p:-1")	# timestamp -1: the end offset
	done
	[ "${#args[@]}" -gt 0 ] || _fail "watermarks: no partitions" \
	    "for $1" || return
	timeout "$KCAT_TIMEOUT" kcat -Q -b "$BROKERS" "${args[@]}" |
	    awk -v want=$((${#args[@]} / 2)) '
		# "TOPIC [P] offset N"
		$(NF - 1) == "offset" {
			p = $(NF - 2); gsub(/[][]/, "", p)
			print p "\t" $NF; got++
		}
		END { exit got != want }' | sort -n
	[ "${PIPESTATUS[1]}" -eq 0 ] || _fail "watermarks: $1: offset query failed"
}

# high_watermarks TOPIC
#	Prints the number of messages ever written to TOPIC: the sum of its
#	partitions' high watermarks (so it still counts once the mock's
#	~5 MB per partition retention has dropped old messages).
high_watermarks() {
	local out

	out=$(watermarks "$1") || return
	printf '%s\n' "$out" | awk -F '\t' '{ n += $2 } END { print n + 0 }'
}

# produce TOPIC [kcat args]
#	Produces stdin, one message per line, with an idempotent acks=all
#	producer; fails if any message is not delivered.
produce() {
	local topic=$1

	shift
	timeout "$KCAT_TIMEOUT" kcat -P -b "$BROKERS" -t "$topic" \
	    -X enable.idempotence=true -X acks=all "$@"
}

#
# Waiting
#

# wait_for COMMAND... (with WAIT_TIMEOUT, default 10 s)
#	Runs COMMAND every 0.1 s until it succeeds; fails on timeout.
wait_for() {
	local i n=$((${WAIT_TIMEOUT:-10} * 10))

	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	_fail "wait_for: timed out after ${WAIT_TIMEOUT:-10} s: $*"
}

# wait_for_line FILE PATTERN [TIMEOUT]
#	Waits (default 10 s) until a line of FILE matches the extended
#	regular expression PATTERN.
wait_for_line() {
	WAIT_TIMEOUT=${3:-10} wait_for grep -Eq -- "$2" "$1" 2>/dev/null ||
	    _fail "wait_for_line: no /$2/ in $1:" "$(tail -n 20 "$1" 2>&1)"
}

# wait_for_count TOPIC N [TIMEOUT]
#	Waits (default 30 s) until TOPIC holds at least N messages.
wait_for_count() {
	WAIT_TIMEOUT=${3:-30} wait_for _count_at_least "$1" "$2"
}

_count_at_least() {
	local n

	n=$(high_watermarks "$1" 2>/dev/null) && [ "$n" -ge "$2" ]
}

#
# Background processes (the program under test, fed through a FIFO)
#

# proc_start NAME COMMAND [ARGS...]
#	Runs COMMAND in the background with stdin on a FIFO, stdout and
#	stderr in $(proc_file NAME out|err).  Sets NAME_PID (NAME must be a
#	valid variable name).
proc_start() {
	local name=$1 dir fd pidvar="${1}_PID"

	shift
	[ -z "${!pidvar:-}" ] || _fail "proc_start: $name already running" ||
	    return
	dir=$(_tmpdir)/proc.$name
	mkdir -p "$dir" && rm -f "$dir/in" && mkfifo "$dir/in" || return
	exec {fd}<>"$dir/in"
	(
		_close_helper_fds
		exec {fd}>&-
		exec "$@"
	) <"$dir/in" >"$dir/out" 2>"$dir/err" 3>&- &
	printf -v "${name}_PID" '%s' "$!"
	printf -v "_PROC_FD_$name" '%s' "$fd"
	case " ${_PROC_NAMES:-} " in
	*" $name "*) ;;
	*) _PROC_NAMES+=" $name" ;;
	esac
}

# proc_file NAME out|err
#	Prints the path of the process's stdout or stderr file.
proc_file() {
	printf '%s/proc.%s/%s\n' "$(_tmpdir)" "$1" "$2"
}

# proc_send NAME [LINE...]
#	Writes each LINE to the process's stdin; with no LINE, copies stdin.
proc_send() {
	local name=$1 fdvar="_PROC_FD_$1"

	shift
	[ -n "${!fdvar:-}" ] || _fail "proc_send: $name has no open stdin" ||
	    return
	if [ "$#" -eq 0 ]; then
		cat >&"${!fdvar}"
	else
		printf '%s\n' "$@" >&"${!fdvar}"
	fi
}

# proc_eof NAME
#	Closes the process's stdin.
proc_eof() {
	local fdvar="_PROC_FD_$1" fd

	fd=${!fdvar:-}
	[ -n "$fd" ] || return 0
	exec {fd}>&-
	unset "$fdvar"
}

# proc_wait NAME [TIMEOUT]
#	Waits (default 30 s) for the process to exit and sets PROC_STATUS
#	to its exit status (128+N if killed by signal N).  Fails on
#	timeout, leaving the process running.
proc_wait() {
	local pidvar="${1}_PID" i n=$((${2:-30} * 20))

	[ -n "${!pidvar:-}" ] || _fail "proc_wait: $1 not started" || return
	for ((i = 0; i < n; i++)); do
		kill -0 "${!pidvar}" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "${!pidvar}" 2>/dev/null; then
		_fail "proc_wait: $1 still running after ${2:-30} s"
		return
	fi
	# shellcheck disable=SC2034 # for the caller
	{
		PROC_STATUS=0
		wait "${!pidvar}" || PROC_STATUS=$?
	}
	unset "$pidvar"
}

# proc_finish NAME [TIMEOUT]
#	proc_eof then proc_wait: the usual end of a pipeline's input.
proc_finish() {
	proc_eof "$1"
	proc_wait "$@"
}

# proc_signal NAME SIGNAL
proc_signal() {
	local pidvar="${1}_PID"

	[ -n "${!pidvar:-}" ] || _fail "proc_signal: $1 not running" || return
	kill -s "$2" "${!pidvar}"
}

# proc_stop_all
#	For teardown: closes every stdin, gives the processes 5 s to exit,
#	then kills them.  Never fails.
proc_stop_all() {
	local name pidvar i

	for name in ${_PROC_NAMES:-}; do
		proc_eof "$name"
	done
	for name in ${_PROC_NAMES:-}; do
		pidvar="${name}_PID"
		[ -n "${!pidvar:-}" ] || continue
		for ((i = 0; i < 100; i++)); do
			kill -0 "${!pidvar}" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "${!pidvar}" 2>/dev/null || true
		wait "${!pidvar}" 2>/dev/null || true
		unset "$pidvar"
	done
	_PROC_NAMES=
	return 0
}
