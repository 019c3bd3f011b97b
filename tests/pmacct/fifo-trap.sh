#!/bin/bash
# fifo-trap.sh [FLOWS]: measures what pmacct 1.7.7's print plugin loses
# when print_output_file is a FIFO (man kafkatee-pipe, "pmacct as its own
# service").  Real nfacctd, fed by nfgen.py with FLOWS distinct NetFlow v5
# flows (default 100000) in each phase, purging every 2 s into a FIFO read
# by fiforead.py:
#
#   reading   the reader reads all along (the case that works);
#   stopped   the reader is stopped (SIGSTOP) through the purge, as a slow
#             or busy reader is, then goes on;
#   stopped+  the same with the pipe raised to /proc/sys/fs/pipe-max-size
#             (F_SETPIPE_SZ) by the reader;
#   absent    no reader at all through the purge (a reader restart), then
#             a new one, pipe raised as above.
#
# For each phase it prints the flows nfacctd purged (the QN of its
# "Purging cache - END" log lines, which it writes whatever happened to
# the data), the records the reader got, the purge_close markers it got,
# and the lines cut short.  Why: pmacct opens a FIFO O_RDWR|O_NONBLOCK
# (src/util.c, open_output_file), so a full pipe fails its write with
# EAGAIN instead of waiting, and what is left of the purge is dropped; and
# a FIFO no process holds open keeps no data once pmacct closes it.
#
# Needs nfacctd (Debian's pmacct) and python3; runs as any user.  About
# 12 s a phase.  Exits 0 whatever it measured; 1 if it could not measure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
flows=${1:-100000}
PATH=$PATH:/usr/sbin
command -v nfacctd >/dev/null || { echo "fifo-trap: no nfacctd" >&2; exit 1; }
d=$(mktemp -d "${TMPDIR:-/tmp}/fifo-trap.XXXXXX") || exit 1
nf_pid= rd_pid=

cleanup() {
	[ -n "$rd_pid" ] && kill -CONT "$rd_pid" 2>/dev/null
	[ -n "$rd_pid" ] && kill -TERM "$rd_pid" 2>/dev/null
	[ -n "$nf_pid" ] && kill -INT "$nf_pid" 2>/dev/null
	wait
	rm -rf "$d"
}
trap cleanup EXIT

port=$(/usr/bin/python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkfifo "$d/fifo" || exit 1
cat >"$d/nfacctd.conf" <<EOF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
aggregate: src_host, dst_host, src_port, dst_port, proto
plugins: print[nf]
print_output[nf]: json
print_output_file[nf]: $d/fifo
print_refresh_time[nf]: 2
print_markers[nf]: true
pidfile: $d/nfacctd.pid
EOF
nfacctd -f "$d/nfacctd.conf" >"$d/nfacctd.out" 2>"$d/nfacctd.err" &
nf_pid=$!

# wait_log PATTERN [FROM_LINE]: waits (at most 20 s) for nfacctd to log
# PATTERN (an extended regular expression) after line FROM_LINE.
wait_log() {
	local i

	for ((i = 0; i < 400; i++)); do
		tail -n "+${2:-1}" "$d/nfacctd.err" | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	echo "fifo-trap: nfacctd did not log /$1/:" >&2
	tail -n 5 "$d/nfacctd.err" >&2
	exit 1
}

# reader_start [PIPE_SIZE]
reader_start() {
	rm -f "$d/reader.out"
	/usr/bin/python3 "$here/fiforead.py" "$d/fifo" "$d/got" "$@" \
	    >"$d/reader.out" 2>"$d/reader.err" &
	rd_pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$d/reader.out" ] && return 0
		sleep 0.05
	done
	echo "fifo-trap: reader did not start:" "$(cat "$d/reader.err")" >&2
	exit 1
}

reader_stop() {
	kill -CONT "$rd_pid" 2>/dev/null
	kill -TERM "$rd_pid" && wait "$rd_pid"
	rd_pid=
}

# phase NAME BEFORE AFTER: sends the flows, waits for nfacctd to have
# purged them all (an empty purge after the sender is done), runs the
# shell commands BEFORE (ahead of sending) and AFTER (once purged), lets
# the reader read for 2 s, and prints the phase's line.
phase() {
	local name=$1 from purged got closes cut pipe

	: >"$d/got"
	from=$(($(wc -l <"$d/nfacctd.err") + 1))
	eval "$2"
	/usr/bin/python3 "$here/nfgen.py" 127.0.0.1 "$port" 20000 "$flows" \
	    >"$d/nfgen.out" 2>&1 || exit 1
	wait_log 'Purging cache - END \(PID: [0-9]+, QN: [1-9]' "$from"
	local idle=$(($(wc -l <"$d/nfacctd.err") + 1))
	wait_log 'Purging cache - END \(PID: [0-9]+, QN: 0/0' "$idle"
	eval "$3"
	sleep 2
	purged=$(tail -n "+$from" "$d/nfacctd.err" |
	    sed -nE 's/.*Purging cache - END \(PID: [0-9]+, QN: ([0-9]+)\/.*/\1/p' |
	    awk '{ s += $1 } END { print s + 0 }')
	got=$(grep -c '^{"event_type": "purge", ' "$d/got")
	closes=$(grep -c '"purge_close"' "$d/got")
	cut=$(grep -cv '^{.*}$' "$d/got")
	pipe=$(sed -n 's/^pipe_size=//p' "$d/reader.out" 2>/dev/null)
	printf '%-9s pipe=%-7s sent=%-6s purged=%-6s received=%-6s lost=%-6s purge_close=%s lines_cut=%s\n' \
	    "$name" "${pipe:-none}" "$(sed -n 's/^flows=\([0-9]*\) .*/\1/p' "$d/nfgen.out")" \
	    "$purged" "$got" "$((purged - got))" "$closes" "$cut"
}

wait_log 'JSON: setting object handlers'
reader_start
phase reading : :
phase stopped 'kill -STOP $rd_pid' 'kill -CONT $rd_pid'
reader_stop
max=$(cat /proc/sys/fs/pipe-max-size)
reader_start "$max"
phase stopped+ 'kill -STOP $rd_pid' 'kill -CONT $rd_pid'
reader_stop
rm -f "$d/reader.out"
phase absent : 'reader_start $max'
reader_stop
grep -E 'WARN|ERROR' "$d/nfacctd.err" | sort | uniq -c | sed 's/^/nfacctd: /'
exit 0
