/*
 * notify.c: sd_notify(3) from the event loop (see notify.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

#define STATUS_MAX 256

struct notify {
        struct ev_loop  *loop;
        struct notify_cb cb;
        ev_timer         status_w;   /* every second: STATUS= if new */
        ev_timer         watchdog_w; /* WATCHDOG=1 */
        uint64_t         watchdog_usec; /* half of WATCHDOG_USEC, or 0 */
        int              failed;     /* sd_notify failed: said once */
        int              stopping;
        char             status[STATUS_MAX]; /* the last sent */
};

static void send_state(struct notify *n, const char *state)
{
        char text[128];
        int r = sd_notify(0, state);

        if (r > 0 || n->failed)
                return;
        n->failed = 1; /* the socket went away: keep quiet after once */
        snprintf(text, sizeof(text), "sd_notify: %s",
                 r < 0 ? strerror(-r) : "NOTIFY_SOCKET is gone");
        if (n->cb.log != NULL)
                n->cb.log(n->cb.opaque, 1, text);
}

/* KEY=1 (or nothing) and STATUS= when the words changed or force. */
static void send_with_status(struct notify *n, const char *what, int force)
{
        char now[STATUS_MAX], msg[STATUS_MAX + 64];

        now[0] = '\0';
        n->cb.status(n->cb.opaque, now, sizeof(now));
        if (!force && strcmp(now, n->status) == 0)
                return;
        memcpy(n->status, now, sizeof(now));
        snprintf(msg, sizeof(msg), "%s%sSTATUS=%s", what,
                 what[0] != '\0' ? "\n" : "", now);
        send_state(n, msg);
}

static void status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        (void)loop;
        (void)revents;
        send_with_status(w->data, "", 0);
}

static void watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        (void)loop;
        (void)revents;
        send_state(w->data, "WATCHDOG=1");
}

struct notify *notify_open(struct ev_loop *loop, const struct notify_cb *cb)
{
        const char *sock = getenv("NOTIFY_SOCKET");
        struct notify *n;
        uint64_t usec = 0;

        if (sock == NULL || sock[0] == '\0' ||
            (n = calloc(1, sizeof(*n))) == NULL)
                return NULL;
        n->loop = loop;
        n->cb = *cb;
        /* > 0: WATCHDOG_USEC is set, and WATCHDOG_PID, if set, is ours */
        if (sd_watchdog_enabled(0, &usec) > 0)
                n->watchdog_usec = usec / 2;
        ev_timer_init(&n->status_w, status_cb, 1., 1.);
        ev_timer_init(&n->watchdog_w, watchdog_cb, n->watchdog_usec / 1e6,
                      n->watchdog_usec / 1e6);
        n->status_w.data = n->watchdog_w.data = n;
        return n;
}

void notify_ready(struct notify *n)
{
        if (n == NULL)
                return;
        send_with_status(n, "READY=1", 1);
        ev_timer_start(n->loop, &n->status_w);
        if (n->watchdog_usec > 0)
                ev_timer_start(n->loop, &n->watchdog_w);
}

void notify_stopping(struct notify *n)
{
        if (n == NULL || n->stopping)
                return;
        n->stopping = 1;
        send_with_status(n, "STOPPING=1", 1);
}

unsigned long long notify_watchdog_usec(const struct notify *n)
{
        return n != NULL ? (unsigned long long)n->watchdog_usec : 0;
}

void notify_close(struct notify *n)
{
        if (n == NULL)
                return;
        ev_timer_stop(n->loop, &n->status_w);
        ev_timer_stop(n->loop, &n->watchdog_w);
        free(n);
}
