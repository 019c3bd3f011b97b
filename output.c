/*
 * output.c: where events go.  Kafka through librdkafka, served from the
 * event loop (its main queue wakes a pipe), or stdout.  See output.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "output.h"

/* A part of the stdout format: text, or what one of kcat's tokens shows. */
enum fmt_kind {
        FMT_TEXT, FMT_TOPIC, FMT_PARTITION, FMT_KEY, FMT_KEY_LEN, FMT_VALUE,
        FMT_VALUE_LEN, FMT_TIMESTAMP, FMT_HEADERS, FMT_LEN32,
};

struct fmt_part {
        enum fmt_kind kind;
        size_t        off, len; /* FMT_TEXT: its bytes in fmt_text */
};

/* A topic produced to, and its librdkafka handle (NULL on stdout). */
struct out_topic {
        char             *name;
        size_t            len;
        uint32_t          hash;
        rd_kafka_topic_t *rkt;
};

struct output {
        struct output_opts opts;
        struct output_cb   cb;
        struct ev_loop    *loop;

        rd_kafka_t       *rk;
        struct out_topic *topics;   /* by id: opts.topic is 0 */
        size_t            n_topics, max_topics;
        uint32_t         *slot;     /* topic id + 1 by hash, or 0 */
        size_t            n_slots;  /* a power of two, >= 2 max_topics */
        size_t            last;     /* the last topic looked up */
        rd_kafka_headers_t *headers; /* opts.headers, copied per message */
        int               wake[2];  /* librdkafka's main queue wakes us */
        ev_io             wake_w;

        struct msg *inflight;       /* produced, no report yet, in order */
        struct msg *inflight_tail;
        int64_t     in_flight, in_flight_bytes;

        struct fmt_part *fmt;       /* stdout: opts.format, or NULL */
        size_t           n_fmt;
        char            *fmt_text;  /* its text parts, unescaped */
        char            *hdr_text;  /* %h: "name=value,..." */
        int              closed;    /* stdout's reader went away */
        int              broken;    /* ... or another write error */

        int  polling;               /* inside rd_kafka_poll() */
        int  all_down;              /* ALL_BROKERS_DOWN, not yet told */
        enum { FATAL_NONE, FATAL_RECORDED, FATAL_REPORTED } fatal;
        char fatal_why[512];        /* recorded in error_cb(), reported
                                       after the poll: output_serve() */
};

/* Defaults that do not lose data; -X and kafka.* settings override them. */
static const struct {
        const char *name, *value;
} safe_defaults[] = {
        { "acks", "all" },
        { "enable.idempotence", "true" },
        { "log.queue", "true" },
};

static void say(struct output *o, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void say(struct output *o, int level, const char *fmt, ...)
{
        char text[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        o->cb.log(o->cb.opaque, level, text);
}

/* Appended at the tail: what is dead-lettered in bulk keeps input order. */
static void inflight_link(struct output *o, struct msg *m)
{
        m->next = NULL;
        m->prev = o->inflight_tail;
        if (o->inflight_tail != NULL)
                o->inflight_tail->next = m;
        else
                o->inflight = m;
        o->inflight_tail = m;
        o->in_flight++;
        o->in_flight_bytes += (int64_t)msg_size(m);
}

static void inflight_unlink(struct output *o, struct msg *m)
{
        if (m->prev != NULL)
                m->prev->next = m->next;
        else
                o->inflight = m->next;
        if (m->next != NULL)
                m->next->prev = m->prev;
        else
                o->inflight_tail = m->prev;
        o->in_flight--;
        o->in_flight_bytes -= (int64_t)msg_size(m);
}

int64_t output_in_flight(const struct output *o)
{
        return o != NULL ? o->in_flight : 0;
}

int output_settled(const struct output *o)
{
        const struct msg *m;

        if (o == NULL)
                return 1;
        for (m = o->inflight; m != NULL; m = m->next)
                if (!m->spooled && m->kind == MSG_EVENT)
                        return 0;
        return 1;
}

int64_t output_in_flight_bytes(const struct output *o)
{
        return o != NULL ? o->in_flight_bytes : 0;
}

/*
 * A delivery that failed because the broker was away or busy, not
 * because of the record or the topic: librdkafka gave up retrying
 * (message.timeout.ms), and a later try may succeed.
 */
static int retriable(rd_kafka_resp_err_t err)
{
        switch (err) {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR__RESOLVE:
        case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
                return 1;
        default:
                return 0;
        }
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                      void *opaque)
{
        struct output *o = opaque;
        struct msg *m = rkm->_private;
        enum output_outcome how = OUTPUT_FAILED;
        char why[256];

        (void)rk;
        inflight_unlink(o, m);
        if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                o->cb.delivered(o->cb.opaque, m, OUTPUT_DELIVERED, NULL);
                return;
        }
        if (rkm->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
            rkm->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
                how = OUTPUT_PURGED;
        else if (retriable(rkm->err))
                how = OUTPUT_RETRIABLE;
        /* A purged or timed-out request may still have been written. */
        snprintf(why, sizeof(why), "%s%s", rd_kafka_err2str(rkm->err),
                 rd_kafka_message_status(rkm) ==
                 RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED ?
                 " (possibly delivered)" : "");
        o->cb.delivered(o->cb.opaque, m, how, why);
}

/* Inside rd_kafka_poll(): only recorded, reported once it returned. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque)
{
        struct output *o = opaque;
        char why[sizeof(o->fatal_why) - 64];

        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                if (o->fatal != FATAL_NONE)
                        return;
                /* The underlying error's name, as the others are said
                 * (its log line, FATAL, is not: log_cb()). */
                err = rd_kafka_fatal_error(rk, why, sizeof(why));
                snprintf(o->fatal_why, sizeof(o->fatal_why), "kafka: %s: %s",
                         rd_kafka_err2name(err), why);
                o->fatal = FATAL_RECORDED;
                return;
        }
        /* Brokers come back: librdkafka retries, we keep the records. */
        say(o, 1, "kafka: %s: %s", rd_kafka_err2name(err), reason);
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                o->all_down = 1; /* told after the poll: it may purge */
}

/* librdkafka's own statistics, embedded in the stats file. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        struct output *o = opaque;

        (void)rk;
        o->cb.rdkafka_stats(o->cb.opaque, json, len);
        return 0; /* librdkafka frees json */
}

/*
 * Whether librdkafka says this log line again through error_cb().  A
 * broker's failure (rd_kafka_broker_fail(), facility FAIL) is logged and
 * sent as an error with the same text: the error is kept, for its name
 * (_TRANSPORT, _RESOLVE).  Since 2.11.1 only a failure at LOG_ERR or
 * worse is sent, the milder ones only logged.  A fatal error (FATAL) is
 * always sent (_FATAL): error_cb() records it and the loop says it.
 * Their debug lines (-vv) are not sent: kept.
 */
static int said_as_error(int level, const char *fac)
{
        if (level >= 7) /* LOG_DEBUG */
                return 0;
        if (strcmp(fac, "FATAL") == 0)
                return 1;
        return strcmp(fac, "FAIL") == 0 &&
               (level <= 3 /* LOG_ERR */ || rd_kafka_version() < 0x020b0100);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        struct output *o = rd_kafka_opaque(rk);

        if (said_as_error(level, fac))
                return;
        say(o, level <= 3 ? 1 : 2, "kafka: %s: %s", fac, buf);
}

static int set_prop(rd_kafka_conf_t *kc, const char *name, const char *value,
                    char *err, size_t errlen)
{
        char msg[512];

        if (rd_kafka_conf_set(kc, name, value, msg, sizeof(msg)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        snprintf(err, errlen, "kafka.%s: %s", name, msg);
        return -1;
}

/* Ours first, then the user's: theirs win. */
static int set_props(const struct output_opts *op, rd_kafka_conf_t *kc,
                     char *err, size_t errlen)
{
        size_t i;
        int r = 0;

        for (i = 0; r == 0 && i < sizeof(safe_defaults) /
                                  sizeof(*safe_defaults); i++)
                r = set_prop(kc, safe_defaults[i].name, safe_defaults[i].value,
                             err, errlen);
        if (r == 0 && op->client_id != NULL)
                r = set_prop(kc, "client.id", op->client_id, err, errlen);
        if (r == 0 && op->rdkafka_stats) {
                char ms[32];

                snprintf(ms, sizeof(ms), "%lld", op->stats_interval_ms);
                r = set_prop(kc, "statistics.interval.ms", ms, err, errlen);
        }
        if (r == 0 && op->brokers != NULL)
                r = set_prop(kc, "bootstrap.servers", op->brokers, err,
                             errlen);
        for (i = 0; r == 0 && op->props != NULL && i < op->props->n; i++)
                r = set_prop(kc, op->props->v[i].key, op->props->v[i].value,
                             err, errlen);
        return r;
}

rd_kafka_conf_t *output_kafka_conf(const struct output_opts *opts, char *err,
                                   size_t errlen)
{
        rd_kafka_conf_t *kc = rd_kafka_conf_new();

        if (set_props(opts, kc, err, errlen) == -1) {
                rd_kafka_conf_destroy(kc);
                return NULL;
        }
        return kc;
}

static rd_kafka_conf_t *kafka_conf(struct output *o, char *err, size_t errlen)
{
        rd_kafka_conf_t *kc = output_kafka_conf(&o->opts, err, errlen);

        if (kc == NULL)
                return NULL;
        if (o->opts.rdkafka_stats)
                rd_kafka_conf_set_stats_cb(kc, stats_cb);
        rd_kafka_conf_set_opaque(kc, o);
        rd_kafka_conf_set_dr_msg_cb(kc, dr_msg_cb);
        rd_kafka_conf_set_error_cb(kc, error_cb);
        rd_kafka_conf_set_log_cb(kc, log_cb);
        return kc;
}

static void wake_cb(struct ev_loop *loop, ev_io *w, int revents)
{
        struct output *o = w->data;
        char buf[256];

        (void)loop;
        (void)revents;
        while (read(o->wake[0], buf, sizeof(buf)) > 0)
                ;
        output_serve(o);
}

/* librdkafka writes to a pipe when its main queue turns non-empty. */
static int kafka_wakeup(struct output *o, char *err, size_t errlen)
{
        rd_kafka_queue_t *q;

        if (pipe2(o->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
                o->wake[0] = o->wake[1] = -1;
                snprintf(err, errlen, "pipe: %s", strerror(errno));
                return -1;
        }
        q = rd_kafka_queue_get_main(o->rk);
        rd_kafka_queue_io_event_enable(q, o->wake[1], "1", 1);
        rd_kafka_queue_destroy(q);
        /* Logs to the main queue too, so they are printed from our thread. */
        rd_kafka_set_log_queue(o->rk, NULL);
        ev_io_init(&o->wake_w, wake_cb, o->wake[0], EV_READ);
        o->wake_w.data = o;
        ev_io_start(o->loop, &o->wake_w);
        /* The pipe is written only when the queue turns non-empty. */
        output_serve(o);
        return 0;
}

/* FNV-1a: topic names are short, and looked up per record. */
static uint32_t topic_hash(const char *s, size_t len)
{
        uint32_t h = 2166136261u;
        size_t i;

        for (i = 0; i < len; i++)
                h = (h ^ (unsigned char)s[i]) * 16777619u;
        return h;
}

/* The table of topics, sized once: opening one never moves the others. */
static int topics_init(struct output *o, char *err, size_t errlen)
{
        o->max_topics = o->opts.topic_max > 0 ? (size_t)o->opts.topic_max : 1;
        for (o->n_slots = 4; o->n_slots < 2 * o->max_topics; o->n_slots *= 2)
                ;
        o->topics = calloc(o->max_topics, sizeof(*o->topics));
        o->slot = calloc(o->n_slots, sizeof(*o->slot));
        if (o->topics == NULL || o->slot == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

static int topic_is(const struct out_topic *t, const char *name, size_t len)
{
        return t->len == len && memcmp(t->name, name, len) == 0;
}

/* Opens topic name as the next id, its slot s. */
static int topic_add(struct output *o, const char *name, size_t len,
                     uint32_t h, size_t s, char *err, size_t errlen)
{
        struct out_topic *t = &o->topics[o->n_topics];

        if (o->n_topics == o->max_topics) {
                snprintf(err, errlen, "topic \"%.*s\" would be topic %zu: "
                         "more than topic.max", (int)(len > 64 ? 64 : len),
                         name, o->max_topics + 1);
                return -1;
        }
        if ((t->name = strndup(name, len)) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        if (o->rk != NULL &&
            (t->rkt = rd_kafka_topic_new(o->rk, t->name, NULL)) == NULL) {
                snprintf(err, errlen, "topic %s: %s", t->name,
                         rd_kafka_err2str(rd_kafka_last_error()));
                free(t->name);
                t->name = NULL;
                return -1;
        }
        t->len = len;
        t->hash = h;
        o->slot[s] = (uint32_t)++o->n_topics;
        o->last = o->n_topics - 1;
        return (int)o->last;
}

int output_topic(struct output *o, const char *name, size_t len, char *err,
                 size_t errlen)
{
        uint32_t h;
        size_t s;

        if (o->n_topics > 0 && topic_is(&o->topics[o->last], name, len))
                return (int)o->last;
        h = topic_hash(name, len);
        for (s = h & (o->n_slots - 1); o->slot[s] != 0;
             s = (s + 1) & (o->n_slots - 1)) {
                if (o->topics[o->slot[s] - 1].hash == h &&
                    topic_is(&o->topics[o->slot[s] - 1], name, len)) {
                        o->last = o->slot[s] - 1;
                        return (int)o->last;
                }
        }
        return topic_add(o, name, len, h, s, err, errlen);
}

const char *output_topic_name(const struct output *o, int id)
{
        return id >= 0 && (size_t)id < o->n_topics ? o->topics[id].name
                                                    : NULL;
}

/* The handles go before librdkafka does; the names stay for the last
 * reports (a spool keeps a record by its topic's name). */
static void topics_close(struct output *o)
{
        size_t i;

        for (i = 0; o->topics != NULL && i < o->n_topics; i++)
                if (o->topics[i].rkt != NULL) {
                        rd_kafka_topic_destroy(o->topics[i].rkt);
                        o->topics[i].rkt = NULL;
                }
}

static void topics_free(struct output *o)
{
        size_t i;

        topics_close(o);
        for (i = 0; o->topics != NULL && i < o->n_topics; i++)
                free(o->topics[i].name);
        free(o->topics);
        free(o->slot);
}

/* opts.headers, built once; each message gets a copy (librdkafka's). */
static int headers_build(struct output *o, char *err, size_t errlen)
{
        const struct kvlist *h = o->opts.headers;
        size_t i;

        if (h == NULL || h->n == 0)
                return 0;
        o->headers = rd_kafka_headers_new(h->n);
        for (i = 0; i < h->n; i++) {
                if (rd_kafka_header_add(o->headers, h->v[i].key, -1,
                                        h->v[i].value, -1) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR) {
                        snprintf(err, errlen, "header.%s: refused by "
                                 "librdkafka", h->v[i].key);
                        return -1;
                }
        }
        return 0;
}

static void quiet_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
        (void)rk;
        (void)level;
        (void)fac;
        (void)buf;
}

/*
 * The dry run (stdout): the producer a real run would make, with the
 * same properties, made and destroyed at once so that what librdkafka
 * refuses, at a property or at creation, refuses the dry run too.  Made
 * without the brokers (nor a mock cluster), so nothing connects, and
 * without logs (no brokers is a warning).
 */
static int kafka_check(struct output *o, char *err, size_t errlen)
{
        /* not const: librdkafka takes a const char ** */
        static const char *away[] = { "bootstrap.servers",
                "metadata.broker.list", "test.mock.num.brokers" };
        rd_kafka_conf_t *kc, *dry;
        rd_kafka_t *rk;
        char msg[512];

        if ((kc = output_kafka_conf(&o->opts, err, errlen)) == NULL)
                return -1;
        dry = rd_kafka_conf_dup_filter(kc, 3, away);
        rd_kafka_conf_destroy(kc);
        rd_kafka_conf_set_log_cb(dry, quiet_log_cb);
        rd_kafka_conf_set_opaque(dry, o);
        if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, dry, msg,
                               sizeof(msg))) == NULL) {
                snprintf(err, errlen, "kafka: %s", msg);
                rd_kafka_conf_destroy(dry);
                return -1;
        }
        rd_kafka_destroy(rk);
        return 0;
}

/* --- stdout ------------------------------------------------------------ */

/* kcat's -f tokens that mean something without a consumer. */
static const struct {
        char          c;
        enum fmt_kind kind;
} fmt_tokens[] = {
        { 't', FMT_TOPIC }, { 'p', FMT_PARTITION }, { 'k', FMT_KEY },
        { 'K', FMT_KEY_LEN }, { 's', FMT_VALUE }, { 'S', FMT_VALUE_LEN },
        { 'T', FMT_TIMESTAMP }, { 'h', FMT_HEADERS }, { 'R', FMT_LEN32 },
};

/* The byte that \c or %c stands for as text, or -1. */
static int fmt_literal(char intro, char c)
{
        static const char esc[] = "n\nr\rt\t\\\\";
        size_t i;

        if (intro == '%')
                return c == '%' ? '%' : -1;
        for (i = 0; esc[i] != '\0'; i += 2)
                if (esc[i] == c)
                        return esc[i + 1];
        return -1;
}

static int fmt_token(char c)
{
        size_t i;

        for (i = 0; i < sizeof(fmt_tokens) / sizeof(*fmt_tokens); i++)
                if (fmt_tokens[i].c == c)
                        return (int)fmt_tokens[i].kind;
        return -1;
}

/* Appends byte b to the text parts: a new part unless the last is text. */
static void fmt_add_text(struct fmt_part *p, size_t *n, char *text,
                         size_t *tlen, char b)
{
        if (*n == 0 || p[*n - 1].kind != FMT_TEXT) {
                p[*n].kind = FMT_TEXT;
                p[*n].off = *tlen;
                p[*n].len = 0;
                (*n)++;
        }
        text[(*tlen)++] = b;
        p[*n - 1].len++;
}

/* f into parts (room for strlen(f) of them) and text (as much). */
static int fmt_parse(const char *f, struct fmt_part *p, size_t *n,
                     char *text, char *err, size_t errlen)
{
        size_t tlen = 0;
        int b, kind;

        for (*n = 0; *f != '\0'; f++) {
                if (*f != '%' && *f != '\\') {
                        fmt_add_text(p, n, text, &tlen, *f);
                        continue;
                }
                if ((b = fmt_literal(f[0], f[1])) >= 0) {
                        fmt_add_text(p, n, text, &tlen, (char)b);
                } else if (f[0] == '%' && (kind = fmt_token(f[1])) >= 0) {
                        p[*n].kind = (enum fmt_kind)kind;
                        p[(*n)++].len = 0;
                } else {
                        snprintf(err, errlen, "'%c%.1s' is not one of %s",
                                 f[0], f[1] != '\0' ? f + 1 : "",
                                 f[0] == '%' ? "%t %p %k %K %s %S %T %h %R %%"
                                             : "\\n \\r \\t \\\\");
                        return -1;
                }
                f++;
        }
        return 0;
}

/* The compiled format, in *parts and *text to free; -1 with err. */
static int fmt_compile(const char *f, struct fmt_part **parts, size_t *n,
                       char **text, char *err, size_t errlen)
{
        size_t len = strlen(f);

        *parts = calloc(len + 1, sizeof(**parts));
        *text = malloc(len + 1);
        if (*parts == NULL || *text == NULL) {
                snprintf(err, errlen, "out of memory");
        } else if (fmt_parse(f, *parts, n, *text, err, errlen) == 0) {
                return 0;
        }
        free(*parts);
        free(*text);
        *parts = NULL;
        *text = NULL;
        return -1;
}

int output_format_check(const char *format, char *err, size_t errlen)
{
        struct fmt_part *parts;
        char *text;
        size_t n;

        if (fmt_compile(format, &parts, &n, &text, err, errlen) == -1)
                return -1;
        free(parts);
        free(text);
        return 0;
}

/* opts.format, and the headers as %h writes them (kcat's form). */
static int stdout_open(struct output *o, char *err, size_t errlen)
{
        const struct kvlist *h = o->opts.headers;
        size_t i, len = 1;
        char *p, msg[256];

        if (o->opts.format == NULL)
                return 0;
        if (fmt_compile(o->opts.format, &o->fmt, &o->n_fmt, &o->fmt_text,
                        msg, sizeof(msg)) == -1) {
                snprintf(err, errlen, "stdout.format: %s", msg);
                return -1;
        }
        for (i = 0; h != NULL && i < h->n; i++)
                len += strlen(h->v[i].key) + strlen(h->v[i].value) + 2;
        if ((o->hdr_text = p = malloc(len)) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        *p = '\0';
        for (i = 0; h != NULL && i < h->n; i++)
                p += sprintf(p, "%s%s=%s", i > 0 ? "," : "", h->v[i].key,
                             h->v[i].value);
        return 0;
}

static int kafka_open(struct output *o, char *err, size_t errlen)
{
        rd_kafka_conf_t *kc = kafka_conf(o, err, errlen);
        char msg[512];

        if (kc == NULL)
                return -1;
        if ((o->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, msg,
                                  sizeof(msg))) == NULL) {
                snprintf(err, errlen, "kafka: %s", msg);
                rd_kafka_conf_destroy(kc);
                return -1;
        }
        if (headers_build(o, err, errlen) == -1)
                return -1;
        return kafka_wakeup(o, err, errlen);
}

struct output *output_open(const struct output_opts *opts,
                           const struct output_cb *cb, struct ev_loop *loop,
                           char *err, size_t errlen)
{
        struct output *o = calloc(1, sizeof(*o));

        if (o == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        o->opts = *opts;
        o->cb = *cb;
        o->loop = loop;
        /* Never opened: output_close() must not close fd 0. */
        o->wake[0] = o->wake[1] = -1;
        if (topics_init(o, err, errlen) == -1 ||
            (opts->mode == OUTPUT_KAFKA && kafka_open(o, err, errlen) == -1) ||
            (opts->mode == OUTPUT_STDOUT && opts->props != NULL &&
             opts->props->n > 0 && kafka_check(o, err, errlen) == -1) ||
            (opts->mode == OUTPUT_STDOUT && stdout_open(o, err, errlen) == -1) ||
            (opts->topic != NULL && output_topic(o, opts->topic,
                                                 strlen(opts->topic), err,
                                                 errlen) == -1)) {
                output_close(o);
                return NULL;
        }
        o->opts.topic = NULL; /* the caller's: topics[0].name now */
        o->opts.headers = NULL;
        o->opts.format = NULL; /* compiled */
        return o;
}

/* Without a producer no report will come: each message is given back. */
static void give_back_inflight(struct output *o)
{
        struct msg *m;

        while ((m = o->inflight) != NULL) {
                inflight_unlink(o, m);
                o->cb.delivered(o->cb.opaque, m, OUTPUT_NO_REPORT,
                                "no delivery report before exit "
                                "(outcome unknown)");
        }
}

void output_close(struct output *o)
{
        if (o == NULL)
                return;
        if (o->opts.mode == OUTPUT_STDOUT)
                output_serve(o);
        if (o->wake[0] != -1)
                ev_io_stop(o->loop, &o->wake_w);
        topics_close(o);
        if (o->headers != NULL)
                rd_kafka_headers_destroy(o->headers);
        if (o->rk != NULL)
                rd_kafka_destroy(o->rk);
        if (o->wake[0] != -1) {
                close(o->wake[0]);
                close(o->wake[1]);
        }
        give_back_inflight(o);
        topics_free(o);
        free(o->fmt);
        free(o->fmt_text);
        free(o->hdr_text);
        free(o);
}

static void report_fatal(struct output *o, const char *why)
{
        if (o->fatal == FATAL_REPORTED)
                return;
        o->fatal = FATAL_REPORTED;
        o->cb.fatal(o->cb.opaque, why);
}

/* The reader went away: said once, before the messages come back. */
static void stdout_closed(struct output *o)
{
        if (o->closed)
                return;
        o->closed = 1;
        if (o->cb.closed != NULL)
                o->cb.closed(o->cb.opaque);
        else
                report_fatal(o, "cannot write to stdout: its reader went "
                             "away");
}

/*
 * stdout: an event is delivered once fflush(3) said so; until then it
 * waits in the in-flight list like a Kafka message.  error: a write's
 * errno, or 0.  EPIPE is its reader going away (| head): said once, and
 * nothing is written again.
 */
static void stdout_settle(struct output *o, int error)
{
        const char *why = NULL;
        struct msg *m;

        if (error == 0 && !o->closed && !o->broken && fflush(stdout) != 0)
                error = errno != 0 ? errno : EIO;
        if (o->closed || error == EPIPE) {
                why = "stdout closed by its reader";
                stdout_closed(o);
        } else if (o->broken) {
                why = "cannot write to stdout";
        } else if (error != 0) {
                why = strerror(error);
        }
        while ((m = o->inflight) != NULL) {
                inflight_unlink(o, m);
                o->cb.delivered(o->cb.opaque, m, why == NULL ?
                                OUTPUT_DELIVERED : OUTPUT_FAILED, why);
        }
        if (why != NULL && !o->closed) {
                o->broken = 1;
                report_fatal(o, "cannot write to stdout");
        }
}

/* The message's length before it (OUTPUT_FRAME_LENGTH): 0 or EOF. */
static int put_length(size_t len)
{
        unsigned char b[4] = { (unsigned char)(len >> 24),
                               (unsigned char)(len >> 16),
                               (unsigned char)(len >> 8),
                               (unsigned char)len };

        return fwrite(b, 1, sizeof(b), stdout) == sizeof(b) ? 0 : EOF;
}

static int put_bytes(const char *p, size_t len)
{
        return fwrite(p, 1, len, stdout) == len ? 0 : EOF;
}

/* One part of opts.format for m: 0 or EOF. */
static int put_part(const struct output *o, const struct fmt_part *p,
                    const struct msg *m)
{
        const char *topic = o->topics[m->topic].name;

        switch (p->kind) {
        case FMT_TEXT:
                return put_bytes(o->fmt_text + p->off, p->len);
        case FMT_TOPIC:
                return put_bytes(topic, o->topics[m->topic].len);
        case FMT_PARTITION: /* librdkafka's partitioner never ran */
                return fputs("-1", stdout);
        case FMT_KEY:
                return put_bytes(m->data + m->value_len + m->raw_len,
                                 m->key_len);
        case FMT_KEY_LEN:
                return printf("%lld", m->key_len > 0 ?
                              (long long)m->key_len : -1LL) < 0 ? EOF : 0;
        case FMT_VALUE:
                return put_bytes(m->data, m->value_len);
        case FMT_VALUE_LEN:
                return printf("%zu", m->value_len) < 0 ? EOF : 0;
        case FMT_TIMESTAMP:
                return printf("%lld", (long long)m->timestamp_ms) < 0 ? EOF
                                                                      : 0;
        case FMT_HEADERS:
                return fputs(o->hdr_text, stdout);
        case FMT_LEN32:
                return put_length(m->value_len);
        }
        return 0;
}

static int put_formatted(const struct output *o, const struct msg *m)
{
        size_t i;

        for (i = 0; i < o->n_fmt; i++)
                if (put_part(o, &o->fmt[i], m) == EOF)
                        return EOF;
        return 0;
}

static int put_framed(const struct output *o, const struct msg *m)
{
        int line = o->opts.framing == OUTPUT_FRAME_LINE;

        if ((!line && put_length(m->value_len) == EOF) ||
            put_bytes(m->data, m->value_len) == EOF ||
            (line && putchar('\n') == EOF))
                return EOF;
        return 0;
}

static enum output_taken stdout_produce(struct output *o, struct msg *m)
{
        if (o->closed || o->broken) { /* nothing is written again */
                o->cb.delivered(o->cb.opaque, m, OUTPUT_FAILED, o->closed ?
                                "stdout closed by its reader" :
                                "cannot write to stdout");
                return OUTPUT_REFUSED;
        }
        inflight_link(o, m);
        errno = 0;
        if ((o->fmt != NULL ? put_formatted(o, m) : put_framed(o, m)) ==
            EOF) {
                /* m comes back with the others */
                stdout_settle(o, errno != 0 ? errno : EIO);
                return OUTPUT_REFUSED;
        }
        return OUTPUT_TAKEN;
}

/*
 * No copy: m->data lives until its delivery report frees it.  The
 * headers are the message's once produced (RD_KAFKA_V_HEADERS), so each
 * gets its own copy; without headers the call is as it was.
 */
static rd_kafka_resp_err_t kafka_produce(struct output *o, struct msg *m)
{
        rd_kafka_topic_t *rkt = o->topics[m->topic].rkt;
        const char *key = m->key_len ? m->data + m->value_len + m->raw_len
                                     : NULL;
        rd_kafka_headers_t *h;
        rd_kafka_resp_err_t err;

        if (o->headers == NULL)
                return rd_kafka_producev(
                        o->rk, RD_KAFKA_V_RKT(rkt),
                        RD_KAFKA_V_VALUE(m->data, m->value_len),
                        RD_KAFKA_V_KEY(key, m->key_len),
                        RD_KAFKA_V_TIMESTAMP(m->timestamp_ms),
                        RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        h = rd_kafka_headers_copy(o->headers);
        err = rd_kafka_producev(
                o->rk, RD_KAFKA_V_RKT(rkt),
                RD_KAFKA_V_VALUE(m->data, m->value_len),
                RD_KAFKA_V_KEY(key, m->key_len),
                RD_KAFKA_V_TIMESTAMP(m->timestamp_ms),
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
                rd_kafka_headers_destroy(h);
        return err;
}

enum output_taken output_produce(struct output *o, struct msg *m)
{
        rd_kafka_resp_err_t err;

        if (o->opts.mode == OUTPUT_STDOUT)
                return stdout_produce(o, m);
        err = kafka_produce(o, m);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                return OUTPUT_QUEUE_FULL;
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                o->cb.delivered(o->cb.opaque, m, OUTPUT_FAILED,
                                rd_kafka_err2str(err));
                return OUTPUT_REFUSED;
        }
        inflight_link(o, m);
        return OUTPUT_TAKEN;
}

void output_serve(struct output *o)
{
        if (o == NULL)
                return;
        if (o->opts.mode == OUTPUT_STDOUT) {
                if (o->inflight != NULL)
                        stdout_settle(o, 0);
                return;
        }
        if (o->polling) {
                /* librdkafka does not expect its poll to be re-entered. */
                say(o, 0, "bug: output_serve() called from a librdkafka "
                    "callback");
                abort();
        }
        o->polling = 1;
        while (rd_kafka_poll(o->rk, 0) > 0)
                ;
        o->polling = 0;
        if (o->fatal == FATAL_RECORDED)
                report_fatal(o, o->fatal_why);
        /* A purge from within the poll returns nothing (librdkafka
         * 2.0.2): the callback comes after it. */
        if (o->all_down) {
                o->all_down = 0;
                if (o->cb.brokers_down != NULL)
                        o->cb.brokers_down(o->cb.opaque);
        }
}

void output_purge(struct output *o)
{
        if (o == NULL || o->rk == NULL)
                return;
        rd_kafka_purge(o->rk, RD_KAFKA_PURGE_F_QUEUE |
                                      RD_KAFKA_PURGE_F_INFLIGHT);
}
