#!/usr/bin/python3
"""fiforead.py FIFO OUT [PIPE_SIZE]: a reader of a FIFO, for fifo-trap.sh.

Opens FIFO for reading without waiting for a writer (O_NONBLOCK), sets
the pipe's buffer to PIPE_SIZE bytes (F_SETPIPE_SZ) if given, writes
"pipe_size=N" on stdout, then appends whatever it reads to OUT until
SIGTERM or SIGINT.  End of file (no writer at the moment) is not an end:
a collector opens the FIFO again at its next purge.  Stop it with
SIGSTOP to play a reader that is slow, or not reading at all, for a while.

Standard library only.
"""

import fcntl
import os
import select
import signal
import sys

F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)
stop = False


def on_signal(signum, frame):
    global stop
    stop = True


def main():
    fifo, out = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    if len(sys.argv) > 3:
        fcntl.fcntl(fd, F_SETPIPE_SZ, int(sys.argv[3]))
    print("pipe_size=%d" % fcntl.fcntl(fd, F_GETPIPE_SZ), flush=True)
    with open(out, "ab", buffering=0) as f:
        while not stop:
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
            except InterruptedError:
                continue
            if not ready:
                continue
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if data:
                f.write(data)
            else:
                # no writer now: select() would return at once again
                select.select([], [], [], 0.05)


if __name__ == "__main__":
    main()
