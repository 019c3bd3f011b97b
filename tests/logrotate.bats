#!/usr/bin/env bats
# The package's logrotate snippet (debian/kafkatee-pipe.logrotate) on a
# dead-letter file that receives records all along: rotated five times
# while a writer keeps feeding invalid lines, every record ends in exactly
# one file, in order.  The snippet is used as shipped, but for its paths
# and names: the files under the test's directory, su and create as this
# user, and pkill -u this user aimed at this test's own process (a symlink
# of a name no other process has), never at another run's kafkatee-pipe.

load helpers
load records

setup() {
	command -v logrotate >/dev/null || skip "no logrotate (make deps)"
	command -v pkill >/dev/null || skip "no pkill (procps)"
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/bin" "$D/dl"
	NAME=ktplr$$
	ln -s "$KTP" "$D/bin/$NAME"
	me=$(id -un)
	grp=$(id -gn)
	sed -e "s#/var/lib/kafkatee-pipe/#$D/dl/#" \
	    -e "s#su kafkatee-pipe kafkatee-pipe#su $me $grp#" \
	    -e "s#create 0640 kafkatee-pipe kafkatee-pipe#create 0640 $me $grp#" \
	    -e "s#pkill -HUP -x -u kafkatee-pipe kafkatee-pipe#pkill -HUP -x -u $me $NAME#" \
	    "$ROOT/debian/kafkatee-pipe.logrotate" > "$D/lr.conf"
	# every line of the snippet that names the package was rewritten
	[ -z "$(grep -v '^#' "$D/lr.conf" | grep kafkatee-pipe)" ]
	WRITER=
	KPID=
}

teardown() {
	touch "$D/stop"
	[ -z "$WRITER" ] || wait "$WRITER" 2>/dev/null || true
	[ -z "$KPID" ] || kill "$KPID" 2>/dev/null || true
	[ -z "$KPID" ] || wait "$KPID" 2>/dev/null || true
}

# writer: invalid lines "bad N" into stdout in batches of 200, pausing
# 10 ms between batches, until $D/stop exists; then N into $D/count.
writer() {
	local i=0 j

	while [ ! -e "$D/stop" ]; do
		for ((j = 0; j < 200; j++)); do
			i=$((i + 1))
			printf 'bad %d\n' "$i"
		done
		sleep 0.01
	done
	echo "$i" > "$D/count"
}

# fresh: waits (20 s at most) for the current dead-letter file to hold
# 1000 records: after a rotation, the proof that the process reopened it,
# and the load goes on meanwhile (the writer never waits for us).
fresh() {
	local i

	for ((i = 0; i < 400; i++)); do
		[ "$(_nlines "$D/dl/netflow.dead.jsonl")" -ge 1000 ] && return 0
		sleep 0.05
	done
	_fail "no record in the new dead-letter file after rotation $1:" \
		"$(ls -l "$D/dl")" "$(cat "$D/err")"
}

@test "logrotate: five rotations under load, every dead-letter record in exactly one file, in order" {
	mkfifo "$D/in"
	"$D/bin/$NAME" --stdout -t lr --dead-letter "$D/dl/netflow.dead.jsonl" \
		< "$D/in" > /dev/null 2> "$D/err" &
	KPID=$!
	writer > "$D/in" &
	WRITER=$!
	for k in 1 2 3 4 5; do
		fresh "$((k - 1))"
		logrotate -f -s "$D/state" "$D/lr.conf"
	done
	fresh 5
	touch "$D/stop"
	wait "$WRITER"
	WRITER=
	status=0
	wait "$KPID" || status=$?
	KPID=
	n=$(cat "$D/count")
	[ "$status" -eq 3 ]
	counters "$D/err"
	[ "$invalid" -eq "$n" ]
	[ "$dead_lettered" -eq "$n" ]
	# delaycompress: the newest moved file is plain, the older ones gzip'd
	[ -s "$D/dl/netflow.dead.jsonl.1" ]
	for k in 2 3 4 5; do
		[ -s "$D/dl/netflow.dead.jsonl.$k.gz" ]
	done
	[ ! -e "$D/dl/netflow.dead.jsonl.6.gz" ]
	# oldest first: every line number once, in order, each with its line
	{
		for k in 5 4 3 2; do
			zcat "$D/dl/netflow.dead.jsonl.$k.gz"
		done
		cat "$D/dl/netflow.dead.jsonl.1" "$D/dl/netflow.dead.jsonl"
	} > "$D/all"
	[ "$(jq -r .line "$D/all" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$n") " ]
	[ "$(jq -r 'select(.raw != "bad \(.line)")' "$D/all" | wc -l)" -eq 0 ]
	[ "$(jq -r .reason "$D/all" | sort -u)" = invalid ]
}
