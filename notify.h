/*
 * notify.h: telling systemd how the run goes, through sd_notify(3)
 * (libsystemd): READY=1 once set-up is done and the loop starts, STATUS=
 * a few words on the state (asked of the program at most once a
 * second, sent when they change), WATCHDOG=1 from a timer of the loop
 * at half the interval systemd expects (WatchdogSec=: a stuck loop
 * stops pinging and systemd kills it), STOPPING=1 when the flush starts.
 *
 * Owns: the two timers (status, watchdog) and the last status sent.
 * Without NOTIFY_SOCKET, notify_open() returns NULL and every call on
 * NULL does nothing: no timer, no allocation.
 *
 * Callbacks run from the loop's timers, notify_ready() and
 * notify_stopping(); cb.status only writes into its buffer.
 */
#ifndef KT_NOTIFY_H
#define KT_NOTIFY_H

#include <stddef.h>

#include <ev.h>

struct notify_cb {
        /* The state in a few words, into buf (NUL-terminated). */
        void (*status)(void *opaque, char *buf, size_t len);
        /* sd_notify(3) failed (said once): level as ktp_log's. */
        void (*log)(void *opaque, int level, const char *text);
        void  *opaque;
};

struct notify;

/* NULL when there is no NOTIFY_SOCKET (or no memory: nothing sent). */
struct notify *notify_open(struct ev_loop *loop, const struct notify_cb *cb);

/* READY=1 with the status; starts the status and watchdog timers. */
void notify_ready(struct notify *n);

/* STOPPING=1 with the status (once). */
void notify_stopping(struct notify *n);

/* The watchdog's interval in microseconds (systemd's half), 0: none. */
unsigned long long notify_watchdog_usec(const struct notify *n);

void notify_close(struct notify *n);

#endif /* KT_NOTIFY_H */
