#!/bin/sh
# pmacct-to-kafka.sh: a cron job that ships what pmacct's memory plugin
# counted since its last run to Kafka, through kafkatee-pipe.
#
# usage: pmacct-to-kafka.sh [-p PIPE] [-c CONF] [-d DIR] [-t TAG]
#                           [-- KAFKATEE-PIPE-OPTION...]
#   -p PIPE  the memory plugin's imt_path (default /run/pmacct/memory.pipe,
#            as in pmacctd-memory.conf here)
#   -c CONF  kafkatee-pipe's configuration (default
#            /etc/kafkatee-pipe/netflow.conf)
#   -d DIR   this job's directory, writable (default
#            /var/lib/kafkatee-pipe/cron): the batch being shipped, the
#            dead-letter file dead.jsonl, unread-*.jsonl
#   -t TAG   the syslog tag (default pmacct-to-kafka)
# The options after -- go to kafkatee-pipe as they are (-b, -o KEY=VALUE).
# See crontab here for the line that runs it.
#
# One run:
#  1. pmacct -p PIPE -s -O json -I -e: the whole table, one JSON object a
#     line, then the table is erased, into DIR/batch.XXXXXX.  A file first,
#     not a pipe: the plugin sends the table while it waits for the client
#     and counts nothing meanwhile (below); a client that waits for Kafka
#     would keep it waiting.
#  2. kafkatee-pipe -c CONF --dead-letter DIR/dead.jsonl < the batch.
#  3. One summary line (below), and the batch is removed.
#
# The race between the read and the erase: there is none.  With -e the
# plugin does not fork to serve the query (pmacct 1.7.7, src/imt_plugin.c):
# in one turn of its loop it walks the table, sends every entry, then
# clears the table, before it reads the next packets from pmacctd's core.
# Packets that arrive meanwhile wait in the core-to-plugin pipe
# (plugin_pipe_size) and are counted after the clear, for the next run.
# So no record is lost between two runs, nor shipped twice.  But once the
# table is erased the records exist only in what the client printed: a
# client killed half-way loses the rest (exit 1, what it printed kept in
# DIR/unread-TIME.jsonl), and so does a full disk, which the client may
# not notice.
#
# Times: -I prints them as seconds since 1970, as nfacctd.conf's
# timestamps_since_epoch does: no time zone to agree on, and an unset time
# is "0.000000", which kafkatee-pipe leaves out.  Without -I the client
# writes RFC 3339 times and an unset one as 1970-01-01T00:00:00Z, which
# would be forwarded as a real time.  The memory table has times only if
# they are aggregated, which pmacctd-memory.conf does not do (one entry a
# packet): the events' "dt" is then the time of the read, the end of the
# interval the counters cover (dt.fallback = ingest, set here in case
# CONF says reject).  The lines carry no "event_type" and no purge
# markers: kafkatee-pipe's purge check has nothing to check; the line
# count of the batch is compared with kafkatee-pipe's read= instead.
#
# The summary: one line to syslog through logger(1) (user.info when all
# was delivered, user.warning when events wait in kafkatee-pipe's spool,
# user.err else), and to standard error when the run went wrong or
# standard error is a terminal: cron mails a job's output, so a good run
# from cron says nothing there.  It starts with the outcome:
#   ok: PIPE: N records; read=N produced=N delivered=N ... exit=0
#   loss: ...exit=3; not delivered events are in DIR/dead.jsonl
#   kept: ...exit=4; events kept in the spool for the next run
#   error: ...; M unread records kept in DIR/unread-TIME.jsonl
# With "-- -o spool.dir=DIR/spool" an outage of Kafka is no loss: the
# events wait in the spool (kept, exit 4) and the next run sends them
# first, before its own.
# After a loss, replay the dead letters once Kafka is back:
#   kafkatee-pipe -c CONF --replay DIR/dead.jsonl (move it aside first,
#   see the man page's Replaying).
# Lines kafkatee-pipe did not read (it stopped, or could not start: exit 1
# or 2) are kept in DIR/unread-TIME.jsonl, to be fed to kafkatee-pipe by
# hand; the lines it read are accounted for (delivered, dead-lettered,
# spooled), so shipping that file duplicates nothing.
#
# A signal (HUP, INT, TERM) does not cut the job short: kafkatee-pipe, if
# it got the signal too (a Ctrl-C), stops as it does and accounts for the
# lines it read; the lines it did not read are kept as above.
#
# Exit status: kafkatee-pipe's (0 delivered, 3 loss, 4 kept in the spool;
# see its EXIT STATUS), or 1: usage, pmacct could not be read, the batch
# not written; never 0 when a record was left unread.
set -eu

PIPE=/run/pmacct/memory.pipe
CONF=/etc/kafkatee-pipe/netflow.conf
DIR=/var/lib/kafkatee-pipe/cron
TAG=pmacct-to-kafka

usage() {
	echo "usage: $0 [-p PIPE] [-c CONF] [-d DIR] [-t TAG] [-- KAFKATEE-PIPE-OPTION...]" >&2
	exit 1
}

# say PRIORITY LINE [FILE]: the summary to syslog, and to stderr after a
# failure or on a terminal, with FILE (kafkatee-pipe's other messages).
# logger fails without a syslog socket: the run's outcome must not.
say() {
	logger -t "$TAG" -p "user.$1" -- "$2" 2>/dev/null || :
	if [ "$1" != info ] || [ -t 2 ]; then
		if [ -n "${3:-}" ] && [ -s "$3" ]; then
			grep -v '^kafkatee-pipe: summary: ' "$3" >&2 || :
		fi
		echo "$TAG: $2" >&2
	fi
}

# keep_unread READ: keeps the batch's lines after the first READ (those
# kafkatee-pipe never read) in KEPT, DIR/unread-TIME.jsonl.  If that
# cannot be written, the whole batch stays where it is instead.
keep_unread() {
	KEPT=$DIR/unread-$(date -u +%Y%m%dT%H%M%SZ)-$$.jsonl
	if ! tail -n "+$(($1 + 1))" "$BATCH" >"$KEPT"; then
		trap - EXIT
		KEPT=$BATCH
	fi
}

while getopts p:c:d:t: opt; do
	case $opt in
	p) PIPE=$OPTARG ;;
	c) CONF=$OPTARG ;;
	d) DIR=$OPTARG ;;
	t) TAG=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

mkdir -p "$DIR"
BATCH=$(mktemp "$DIR/batch.XXXXXX")
ERR=$BATCH.err
trap 'rm -f "$BATCH" "$ERR"' EXIT
# caught, not ignored (kafkatee-pipe must still get them): the job goes on
# to its summary once the command at hand has ended
trap : HUP INT TERM

# 1. The table, erased as it is read.  The client says its errors on
# standard output ("ERROR: Unable to connect to '...'"), exit status 1.
if ! pmacct -p "$PIPE" -s -O json -I -e >"$BATCH" 2>"$ERR"; then
	WHY=$(cat "$BATCH" "$ERR" | grep -v '^{' | tr -s '\n' ' ' | sed 's/ *$//')
	RECORDS=$(grep -c '^{' "$BATCH" || :)
	if [ "$RECORDS" -gt 0 ]; then
		KEPT=$DIR/unread-$(date -u +%Y%m%dT%H%M%SZ)-$$.jsonl
		grep '^{' "$BATCH" >"$KEPT"
		say err "error: $PIPE: the pmacct client failed after $RECORDS records, kept in $KEPT (the table may be erased): $WHY"
	else
		say err "error: $PIPE: the pmacct client failed, nothing read: $WHY"
	fi
	exit 1
fi
RECORDS=$(($(wc -l <"$BATCH")))

# 2. Into Kafka.
status=0
kafkatee-pipe -c "$CONF" -o dt.fallback=ingest \
    --dead-letter "$DIR/dead.jsonl" "$@" <"$BATCH" 2>"$ERR" || status=$?

# 3. The summary.  No summary line (kafkatee-pipe did not start, or
# died): nothing counts as read.
SUMMARY=$(sed -n 's/^kafkatee-pipe: summary: //p' "$ERR")
READ=$(echo "$SUMMARY" | sed -n 's/^read=\([0-9]*\) .*/\1/p')
UNREAD=$((RECORDS - ${READ:-0}))
LINE="$PIPE: $RECORDS records; ${SUMMARY:-kafkatee-pipe exit $status, no summary}"
if [ "$UNREAD" -gt 0 ]; then
	keep_unread "${READ:-0}"
	[ "$status" -ne 0 ] || status=1
	say err "error: $LINE; $UNREAD unread records kept in $KEPT" "$ERR"
	exit "$status"
fi
case $status in
0) say info "ok: $LINE" ;;
3) say err "loss: $LINE; not delivered events are in $DIR/dead.jsonl" "$ERR" ;;
4) say warning "kept: $LINE; events kept in the spool for the next run" "$ERR" ;;
*) say err "error: $LINE" "$ERR" ;;
esac
exit "$status"
