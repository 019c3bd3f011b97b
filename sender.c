/*
 * sender.c: the send stage, between the route and the output.  Without a
 * spool it only watches the high-water marks.  With one (spool.dir) an
 * event that cannot go now (no room in flight, librdkafka's queue full,
 * no broker up, or events already waiting) is appended to the spool
 * instead of stopping stdin, and the spool is sent oldest first when
 * there is room again.  See sender.h and the man page's SPOOL section.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sender.h"

/* Write-ahead frames written at once (and the spool's own bound). */
#define BATCH_MAX 1024
/* Events sent from the spool in one loop turn: a turn that sends a
 * whole queue.high.messages keeps stdin waiting long enough to block a
 * paced writer (450 ms at 10k records/s in bench/soak.sh). */
#define DRAIN_SLICE 1000

/* Are brokers up?  Only guessed from what librdkafka says. */
enum sender_link {
        LINK_UP,   /* sending as fast as there is room */
        LINK_DOWN, /* no broker up (ALL_BROKERS_DOWN, or a retriable
                    * failure): events go to the spool, and one at a
                    * time is sent from it, the probe that says when a
                    * broker is back */
};

struct sender {
        struct sender_opts  o;
        struct sender_cb    cb;
        struct sender_links l;
        struct spool       *spool;  /* NULL: no spool.dir */
        struct msg         *replay; /* sent from the spool, refused with
                                     * QUEUE_FULL: sent again first */
        enum sender_link    link;
        int                 full;   /* the spool refused an event */
        int                 queue_full; /* said: librdkafka's is */
        int                 broken; /* the spool failed: stop using it */
        ev_timer            sync_w; /* SPOOL_SYNC_INTERVAL */
        struct msg         *batch[BATCH_MAX]; /* sent, their frames in the
                                               * spool's buffer */
        size_t              n_batch;
};

static void say(const struct sender *s, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void say(const struct sender *s, int level, const char *fmt, ...)
{
        char text[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        s->cb.log(s->cb.opaque, level, text);
}

/* The spool failed (err says how): the run stops, the spool is left. */
static void broken(struct sender *s, const char *err, const char *why)
{
        say(s, 0, "spool: %s", err);
        s->broken = 1;
        s->cb.fatal(s->cb.opaque, why);
}

static int over_high_water(const struct sender *s)
{
        return output_in_flight(s->l.out) >= s->o.high_messages ||
               output_in_flight_bytes(s->l.out) >= s->o.high_bytes;
}

int sender_has_room(const struct sender *s)
{
        return output_in_flight(s->l.out) <= s->o.high_messages / 2 &&
               output_in_flight_bytes(s->l.out) <= s->o.high_bytes / 2;
}

int sender_waiting(const struct sender *s)
{
        return s != NULL && s->spool != NULL &&
               (s->replay != NULL || spool_pending(s->spool));
}

int sender_sync(struct sender *s)
{
        char err[256];

        if (s == NULL || s->spool == NULL || s->broken ||
            s->o.spool.sync == SPOOL_SYNC_NEVER)
                return 0;
        if (spool_sync(s->spool, err, sizeof(err)) == 0)
                return 0;
        broken(s, err, "the spool cannot be synced");
        return -1;
}

/* Nothing waits before an event, and the output can take it now. */
static int clear_to_send(const struct sender *s)
{
        return s->link == LINK_UP && !sender_waiting(s) &&
               !over_high_water(s);
}

static void count_produced(struct sender *s, const struct msg *m)
{
        if (m->kind == MSG_EVENT)
                account_produced(s->l.acc);
        else
                account_error_produced(s->l.acc);
}

/* --- the link ---------------------------------------------------------- */

static void link_up(struct sender *s)
{
        struct spool_stats st;

        if (s->link == LINK_UP)
                return;
        s->link = LINK_UP;
        spool_stats(s->spool, &st);
        say(s, 1, "kafka: delivering again: sending the spool (%llu "
            "events)", (unsigned long long)st.pending);
}

static void link_down(struct sender *s, const char *why)
{
        if (s->link == LINK_DOWN)
                return;
        s->link = LINK_DOWN;
        say(s, 1, "kafka: %s: events wait in the spool", why);
}

/*
 * Whatever librdkafka holds in memory is lost if the process dies, and
 * with no broker up it would only wait there until message.timeout.ms:
 * it is purged into the spool, where a crash does not lose it, before
 * anything read later is (the reports come through sender_outcome()).
 */
void sender_brokers_down(struct sender *s)
{
        if (s == NULL || s->spool == NULL || s->link == LINK_DOWN)
                return;
        link_down(s, "no broker up");
        output_purge(s->l.out);
        output_serve(s->l.out); /* the purged come back: spooled */
}

/* --- writing to the spool ---------------------------------------------- */

/* m as a spool record (its topic by name: ids are this run's). */
static void rec_of(const struct sender *s, const struct msg *m,
                   struct spool_rec *r)
{
        const char *topic = output_topic_name(s->l.out, (int)m->topic);

        memset(r, 0, sizeof(*r));
        r->kind = m->kind;
        r->timestamp_ms = m->timestamp_ms;
        r->line_no = m->line_no;
        r->topic = topic;
        r->topic_len = strlen(topic);
        r->value = m->data;
        r->value_len = m->value_len;
        r->raw = m->raw_len > 0 ? m->data + m->value_len : NULL;
        r->raw_len = m->raw_len;
        r->key = m->key_len > 0 ? m->data + m->value_len + m->raw_len : NULL;
        r->key_len = m->key_len;
}

/*
 * m's frame appended (taken: the caller sends m itself now, write-ahead),
 * *id where: 0.  1 when the spool cannot take it (full, or the disk
 * refuses: said once, and stdin waits).  An I/O error stops the run.
 */
static int spool_write(struct sender *s, const struct msg *m, int taken,
                       struct spool_id *id)
{
        struct spool_rec r;
        char err[256];

        if (s->broken)
                return 1;
        rec_of(s, m, &r);
        switch (spool_append(s->spool, &r, now_ms(), taken, id, err,
                             sizeof(err))) {
        case SPOOL_OK:
                account_spooled(s->l.acc);
                s->full = 0;
                return 0;
        case SPOOL_FULL:
                snprintf(err, sizeof(err), "full (spool.max.bytes)");
                /* fall through */
        case SPOOL_NOSPACE:
                if (!s->full)
                        say(s, 1, "spool: %s: stdin waits", err);
                s->full = 1;
                return 1;
        case SPOOL_ERROR:
        case SPOOL_FLUSH: /* only spool_append_later() says it */
                break;
        }
        broken(s, err, "the spool cannot be written");
        return 1;
}

/* m into the spool, then back to the pool: 0; else spool_write()'s 1. */
static int spool_msg(struct sender *s, struct msg *m)
{
        struct spool_id id;

        if (spool_write(s, m, 0, &id) != 0)
                return 1;
        msgpool_put(s->l.pool, m);
        return 0;
}

/* m can wait in the spool; when it cannot, the caller holds it. */
static enum sender_result spool_or_hold(struct sender *s, struct msg *m)
{
        return spool_msg(s, m) == 0 ? SEND_GO_ON : SEND_HOLD;
}

/* The frame at id is done (delivered, or never to be). */
static void settle(struct sender *s, struct spool_id id)
{
        char err[256];

        if (!s->broken && spool_done(s->spool, id, err, sizeof(err)) == -1)
                broken(s, err, "the spool cannot be written");
}

/* m, sent from its frame, is to be sent again: in its turn. */
static void again(struct sender *s, struct msg *m)
{
        char err[256];

        if (!s->broken &&
            spool_again(s->spool, m->sid, err, sizeof(err)) == -1)
                broken(s, err, "the spool cannot be read");
        msgpool_put(s->l.pool, m);
}

/* --- sending ------------------------------------------------------------- */

static enum sender_result send_now(struct sender *s, struct msg *m)
{
        switch (output_produce(s->l.out, m)) {
        case OUTPUT_QUEUE_FULL:
                if (s->spool != NULL && !m->spooled)
                        return spool_or_hold(s, m);
                if (!s->queue_full)
                        say(s, 2, "backpressure: librdkafka's queue is full");
                s->queue_full = 1;
                return SEND_HOLD;
        case OUTPUT_TAKEN:
                s->queue_full = 0;
                count_produced(s, m);
                break;
        case OUTPUT_REFUSED:
                break; /* reported failed already */
        }
        if (s->spool == NULL && over_high_water(s))
                return SEND_PAUSE;
        return SEND_GO_ON;
}

void sender_flush(struct sender *s)
{
        char err[256];
        enum spool_result res;
        size_t i;

        if (s == NULL || s->spool == NULL || s->broken)
                return;
        res = spool_flush(s->spool, err, sizeof(err));
        for (i = 0; i < s->n_batch; i++)
                if (res == SPOOL_OK)
                        account_spooled(s->l.acc);
                else /* sent already: it goes on without a frame */
                        s->batch[i]->spooled = 0;
        s->n_batch = 0;
        if (res == SPOOL_NOSPACE) {
                if (!s->full)
                        say(s, 1, "spool: %s: stdin waits", err);
                s->full = 1; /* the next event is written alone */
        } else if (res != SPOOL_OK)
                broken(s, err, "the spool cannot be written");
}

/*
 * m's frame into the spool's buffer, and m sent at once: the frames of
 * a loop turn are written together, before the loop waits or a report
 * of theirs is served (sender_flush()).  1 when it must be written alone.
 */
static int write_later(struct sender *s, struct msg *m,
                       enum sender_result *sent)
{
        struct spool_rec r;
        struct spool_id id;
        char err[256];
        enum spool_result res;

        rec_of(s, m, &r);
        if ((res = spool_append_later(s->spool, &r, now_ms(), &id, err,
                                      sizeof(err))) == SPOOL_FLUSH) {
                sender_flush(s);
                if (s->full || s->broken)
                        return 1;
                res = spool_append_later(s->spool, &r, now_ms(), &id, err,
                                         sizeof(err));
        }
        if (res != SPOOL_OK)
                return 1; /* said by the path that writes it alone */
        m->spooled = 1; /* counted spooled once written */
        m->sid = id;
        s->batch[s->n_batch++] = m;
        *sent = send_now(s, m);
        if (s->n_batch == BATCH_MAX)
                sender_flush(s);
        return 0;
}

/*
 * Write-ahead: every event is written to the spool before it waits in
 * memory.  When nothing waits before it, it is sent at once and its frame
 * done at its delivery report; else its frame waits its turn.
 */
static enum sender_result write_ahead(struct sender *s, struct msg *m)
{
        struct spool_id id;
        enum sender_result sent;
        int now = clear_to_send(s);

        if (now && !s->full && write_later(s, m, &sent) == 0)
                return sent;
        if (s->n_batch > 0)
                sender_flush(s); /* the frames before it first */
        if (spool_write(s, m, now, &id) != 0)
                return SEND_HOLD; /* said */
        if (!now) {
                msgpool_put(s->l.pool, m);
                return SEND_GO_ON;
        }
        m->spooled = 1;
        m->sid = id;
        return send_now(s, m);
}

enum sender_result sender_send(struct sender *s, struct msg *m)
{
        if (s->spool != NULL && !m->spooled) {
                if (s->o.mode == SENDER_WRITE_AHEAD)
                        return write_ahead(s, m);
                if (!clear_to_send(s))
                        return spool_or_hold(s, m);
        }
        return send_now(s, m);
}

/* --- sending the spool --------------------------------------------------- */

/* A frame of the spool as a message (the block's layout: msgpool.h). */
static struct msg *msg_of_rec(struct sender *s, const struct spool_rec *r,
                              struct spool_id id, char *err, size_t errlen)
{
        struct msg *m;
        int topic;

        if ((topic = output_topic(s->l.out, r->topic, r->topic_len, err,
                                  errlen)) < 0)
                return NULL;
        if ((m = msgpool_get(s->l.pool, r->value_len + r->raw_len +
                                        r->key_len)) == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        m->line_no = r->line_no;
        m->read_us = 0; /* read by another run, or long ago */
        m->input_gen = 0; /* from a file gone since, maybe */
        m->value_len = r->value_len;
        m->raw_len = r->raw_len;
        m->key_len = r->key != NULL ? r->key_len : 0;
        m->timestamp_ms = r->timestamp_ms;
        m->topic = (uint32_t)topic;
        m->kind = r->kind == MSG_ERROR_EVENT ? MSG_ERROR_EVENT : MSG_EVENT;
        m->spooled = 1;
        m->sid = id;
        m->again = r->again;
        memcpy(m->data, r->value, r->value_len);
        if (r->raw_len > 0)
                memcpy(m->data + r->value_len, r->raw, r->raw_len);
        if (m->key_len > 0)
                memcpy(m->data + r->value_len + r->raw_len, r->key,
                       m->key_len);
        return m;
}

/* A frame that can never be sent (its topic cannot be opened): lost. */
static void frame_lost(struct sender *s, const struct spool_rec *r,
                       struct spool_id id, const char *why)
{
        const struct line l = {
                .data = r->raw != NULL ? r->raw : "", .len = r->raw_len,
                .no = r->line_no,
        };
        const struct dead_event ev = {
                .topic = r->topic, .topic_len = r->topic_len,
                .key = r->key, .key_len = r->key_len,
                .value = r->value, .value_len = r->value_len,
                .timestamp_ms = r->timestamp_ms,
        };

        account_failed_event(s->l.acc, LOSS_ROUTE, &l, &ev, why, NULL);
        settle(s, id);
}

/* The next event of the spool as a message, or NULL: none, or it was
 * lost (said), or an I/O error (fatal). */
static struct msg *take(struct sender *s)
{
        struct spool_rec r;
        struct spool_id id;
        struct msg *m;
        char err[256];
        int got;

        if ((m = s->replay) != NULL) {
                s->replay = NULL;
                return m;
        }
        if ((got = spool_next(s->spool, &r, &id, err, sizeof(err))) < 0)
                broken(s, err, "the spool cannot be read");
        if (got <= 0)
                return NULL;
        if ((m = msg_of_rec(s, &r, id, err, sizeof(err))) == NULL)
                frame_lost(s, &r, id, err);
        return m;
}

/* Room to send from the spool: below the high-water marks, or, with no
 * broker up, nothing in flight (the probe). */
static int drain_room(const struct sender *s)
{
        if (s->link == LINK_DOWN)
                return output_in_flight(s->l.out) == 0;
        return !over_high_water(s);
}

int sender_drain(struct sender *s)
{
        struct msg *m;
        int n = 0;

        if (s == NULL || s->spool == NULL)
                return 0;
        /* nothing buffered: before_block() flushed, and a report flushes */
        while (!s->broken && sender_waiting(s) && drain_room(s)) {
                if (n++ == DRAIN_SLICE)
                        return 1;
                if ((m = take(s)) == NULL)
                        continue;
                switch (output_produce(s->l.out, m)) {
                case OUTPUT_QUEUE_FULL:
                        s->replay = m;
                        return 0;
                case OUTPUT_TAKEN:
                        count_produced(s, m);
                        if (!m->again) /* sent again: not another */
                                account_replayed(s->l.acc);
                        break;
                case OUTPUT_REFUSED:
                        break; /* reported through sender_outcome() */
                }
        }
        return 0;
}

/* --- outcomes ------------------------------------------------------------ */

/*
 * What the broker could not take now waits for it in the spool: a
 * retriable failure or a purge (no broker up, or the flush given up)
 * goes back to the spool, a spooled event in its turn; what had no
 * report at close keeps its frame for the next run.
 */
int sender_outcome(struct sender *s, struct msg *m,
                   enum output_outcome how)
{
        if (s == NULL || s->spool == NULL)
                return 0;
        if (s->n_batch > 0)
                sender_flush(s); /* its frame written before its mark */
        switch (how) {
        case OUTPUT_DELIVERED:
                link_up(s);
                /* fall through */
        case OUTPUT_FAILED:
                if (m->spooled)
                        settle(s, m->sid);
                m->spooled = 0;
                return 0;
        case OUTPUT_RETRIABLE:
                link_down(s, "a broker away or busy");
                /* fall through */
        case OUTPUT_PURGED:
                if (!m->spooled)
                        break;
                again(s, m);
                return 1;
        case OUTPUT_NO_REPORT:
                if (!m->spooled)
                        break;
                msgpool_put(s->l.pool, m); /* its frame stays, not done */
                return 1;
        }
        /* within librdkafka's callback: writing a file is fine */
        return spool_msg(s, m) == 0;
}

int sender_keep(struct sender *s, struct msg *m)
{
        if (s == NULL || s->spool == NULL)
                return -1;
        if (s->n_batch > 0)
                sender_flush(s);
        if (m->spooled) { /* its frame stays, not done */
                msgpool_put(s->l.pool, m);
                return 0;
        }
        return spool_msg(s, m) == 0 ? 0 : -1;
}

int sender_finish(struct sender *s)
{
        struct spool_stats st;
        char err[256];

        if (s == NULL || s->spool == NULL)
                return 0;
        sender_flush(s);
        if (s->replay != NULL) { /* its frame stays, not done */
                msgpool_put(s->l.pool, s->replay);
                s->replay = NULL;
        }
        spool_stats(s->spool, &st);
        account_kept(s->l.acc, st.frames);
        if (st.frames > 0)
                say(s, 1, "spool: %llu events kept in %s for the next run",
                    (unsigned long long)st.frames, s->o.spool.dir);
        if (spool_sync(s->spool, err, sizeof(err)) == -1) {
                say(s, 0, "spool: %s", err);
                return -1;
        }
        return 0;
}

void sender_snapshot(const struct sender *s, struct stats_snapshot *snap)
{
        struct spool_stats st;

        if (s == NULL || s->spool == NULL)
                return;
        spool_stats(s->spool, &st);
        snap->spool = 1;
        snap->spool_bytes = st.bytes;
        snap->spool_events = st.frames;
        if (st.oldest_ms > 0 && snap->now_ms > st.oldest_ms)
                snap->spool_oldest_age_s =
                        (double)(snap->now_ms - st.oldest_ms) / 1000.0;
}

/* --- opening and closing ------------------------------------------------- */

/* spool.fsync = interval: what was written reaches the disk. */
static void sync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct sender *s = w->data;
        char err[256];

        (void)loop;
        (void)revents;
        if (!s->broken && spool_sync(s->spool, err, sizeof(err)) == -1)
                broken(s, err, "the spool cannot be synced");
}

/* What an earlier run left, counted and said. */
static void carried(struct sender *s, const struct spool_found *f)
{
        account_carried(s->l.acc, f->frames, f->torn + f->corrupt);
        if (f->frames > 0)
                say(s, 1, "spool: %llu events from an earlier run (%llu "
                    "bytes), sent first", (unsigned long long)f->frames,
                    (unsigned long long)f->bytes);
        if (f->torn + f->corrupt > 0)
                say(s, 0, "spool: %llu frames cut short or spoilt (%llu "
                    "bytes): events lost in a crash",
                    (unsigned long long)(f->torn + f->corrupt),
                    (unsigned long long)f->lost_bytes);
}

struct sender *sender_open(const struct sender_opts *opts,
                           const struct sender_cb *cb,
                           const struct sender_links *links, char *err,
                           size_t errlen)
{
        struct sender *s = calloc(1, sizeof(*s));
        struct spool_found f;
        char why[400];

        if (s == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        s->o = *opts;
        s->cb = *cb;
        s->l = *links;
        s->link = LINK_UP;
        if (opts->spool.dir == NULL)
                return s;
        if ((s->spool = spool_open(&opts->spool, &f, why,
                                   sizeof(why))) == NULL) {
                snprintf(err, errlen, "spool.dir: %s", why);
                free(s);
                return NULL;
        }
        carried(s, &f);
        if (opts->spool.sync == SPOOL_SYNC_INTERVAL) {
                ev_timer_init(&s->sync_w, sync_cb, opts->sync_interval_s,
                              opts->sync_interval_s);
                s->sync_w.data = s;
                ev_timer_start(s->l.loop, &s->sync_w);
        }
        return s;
}

void sender_close(struct sender *s)
{
        if (s == NULL)
                return;
        if (s->spool != NULL && s->o.spool.sync == SPOOL_SYNC_INTERVAL)
                ev_timer_stop(s->l.loop, &s->sync_w);
        spool_close(s->spool);
        free(s);
}
