#!/usr/bin/env python3
"""sdnotify.py: systemd's side of sd_notify(3), for tests without systemd.

Usage: sdnotify.py OUT [--watchdog-usec N] [--watchdog-pid PID] -- CMD...

Binds an AF_UNIX datagram socket in a new temporary directory, runs CMD
with NOTIFY_SOCKET naming it (and WATCHDOG_USEC, WATCHDOG_PID when given:
"self" is CMD's own pid, as systemd sets it for a main process), stdin and
stderr inherited, and records every datagram the process sends in OUT:
one line per assignment, "N KEY=VALUE", N the datagram's number from 1.
Exits with CMD's status (128 + signal when killed).

CMD starts with SIGINT, SIGTERM, SIGHUP and SIGQUIT at their default
actions, as systemd starts a service (a background job of a shell has
SIGINT ignored, and a shell cannot trap what it was given ignored);
sdnotify.py itself lets them pass, so that a signal to the whole process
group (systemd's KillMode=control-group) reaches CMD and not it.
"""
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile


def parse(argv):
    if '--' not in argv or argv.index('--') < 1:
        sys.exit(__doc__)
    sep = argv.index('--')
    opts, cmd = argv[:sep], argv[sep + 1:]
    out, env = opts[0], {}
    i = 1
    while i < len(opts):
        if opts[i] == '--watchdog-usec':
            env['WATCHDOG_USEC'] = opts[i + 1]
        elif opts[i] == '--watchdog-pid':
            env['WATCHDOG_PID'] = opts[i + 1]
        else:
            sys.exit(__doc__)
        i += 2
    return out, env, cmd


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def default_signals():
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def record(sock, out, count):
    """Writes what waits on sock; returns the new count."""
    while True:
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return count
        count += 1
        for field in data.decode('utf-8', 'replace').split('\n'):
            if field:
                out.write('%d %s\n' % (count, field))
        out.flush()


def main():
    out_path, extra, cmd = parse(sys.argv[1:])
    tmp = tempfile.mkdtemp(prefix='sdnotify.')
    path = os.path.join(tmp, 'notify')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    self_pid = extra.get('WATCHDOG_PID') == 'self'
    env.update({k: v for k, v in extra.items() if not (
        k == 'WATCHDOG_PID' and self_pid)})
    if self_pid:
        # the child's pid, known once forked: a shell sets it, then execs
        cmd = ['sh', '-c', 'WATCHDOG_PID=$$; export WATCHDOG_PID; '
               'exec "$@"', 'sdnotify'] + cmd
    count = 0
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda signum, frame: None)
    with open(out_path, 'w') as out:
        child = subprocess.Popen(cmd, env=env, preexec_fn=default_signals)
        while child.poll() is None:
            select.select([sock], [], [], 0.1)
            count = record(sock, out, count)
        count = record(sock, out, count)
    sock.close()
    shutil.rmtree(tmp)
    rc = child.returncode
    sys.exit(128 - rc if rc < 0 else rc)


if __name__ == '__main__':
    main()
