#!/usr/bin/python3
"""nfgen.py HOST PORT RATE [TOTAL]: a NetFlow v5 exporter for tests/pmacct.bats.

Sends RATE distinct flows a second to HOST:PORT (UDP), in packets of at
most 30 records, until SIGTERM or SIGINT (or, with TOTAL, once TOTAL flows
are sent), then prints on stdout

    flows=N packets=N bytes=N datagrams=N

the totals of what it sent (packets and bytes: the flows' counters, as a
collector would add them up).  Flow i comes from 10.x.y.z (i's low 24
bits) port 1024 + i % 60000 to 192.0.2.1:443 over TCP, 1 + i % 7 packets
of 100 bytes each: no two flows of a run share an aggregation key.

Standard library only.
"""

import signal
import socket
import struct
import sys
import time

V5_HEADER = struct.Struct("!HHIIIIBBH")
V5_RECORD = struct.Struct("!4s4s4sHHIIIIHHBBBBHHBBH")
MAX_RECORDS = 30
# datagrams a second: the flows of a second are spread over them
TICKS = 10

stop = False


def on_signal(signum, frame):
    global stop
    stop = True


def record(i, uptime):
    pkts = 1 + i % 7
    src = bytes((10, (i >> 16) & 255, (i >> 8) & 255, i & 255))
    return V5_RECORD.pack(
        src, bytes((192, 0, 2, 1)), bytes(4),  # src, dst, next hop
        1, 2,                                   # input, output ifindex
        pkts, pkts * 100,                       # dPkts, dOctets
        uptime - 1000, uptime - 10,             # first, last (ms)
        1024 + i % 60000, 443,                  # ports
        0, 0x18, 6, 0,                          # pad, tcp flags, proto, tos
        0, 0, 24, 24, 0)                        # AS, masks, pad


def main():
    host, port, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    total = int(sys.argv[4]) if len(sys.argv) > 4 else None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0 = time.monotonic()
    flows = pkts = octets = datagrams = seq = 0
    tick = 0
    while not stop:
        # flows due by the end of this tick, so the rate holds on average
        due = rate * (tick + 1) // TICKS
        if total is not None:
            if flows >= total:
                break
            due = min(due, total)
        uptime = 1000000 + int((time.monotonic() - t0) * 1000)
        while flows < due:
            n = min(MAX_RECORDS, due - flows)
            now = time.time()
            body = b"".join(record(flows + k, uptime) for k in range(n))
            head = V5_HEADER.pack(5, n, uptime, int(now),
                                  int((now % 1) * 1e9), seq, 0, 0, 0)
            sock.sendto(head + body, (host, port))
            for k in range(n):
                p = 1 + (flows + k) % 7
                pkts += p
                octets += p * 100
            flows += n
            seq += n
            datagrams += 1
        tick += 1
        delay = t0 + tick / TICKS - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print("flows=%d packets=%d bytes=%d datagrams=%d"
          % (flows, pkts, octets, datagrams), flush=True)


if __name__ == "__main__":
    main()
