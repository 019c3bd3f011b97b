/*
 * auditkafka.c: the Kafka source of kafkatee-pipe --audit (auditkafka.h).
 *
 * The end of each partition is its high watermark when the audit starts,
 * so a topic written meanwhile still gives a finite audit of a fixed set
 * of messages.  Every wait on the cluster is bounded by socket.timeout.ms
 * (librdkafka's, -X sets it): metadata, offsets, and a partition that
 * stops short of its end.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "auditkafka.h"
#include "clock.h"
#include "journal.h"
#include "kafkatee-pipe.h"

/* Every wait on the cluster, unless -X socket.timeout.ms says otherwise. */
#define AK_TIMEOUT_MS "10000"

struct ak_part {
        int64_t lo, hi;  /* the watermarks at start: read up to hi */
        int64_t next;    /* the next offset to read: done at hi */
        int     skip;    /* --since by hand: skip what is before it */
        int     started; /* fetching */
};

struct ak_topic {
        const char       *name;
        rd_kafka_topic_t *rkt;
        struct ak_part *parts;
        int             nparts;
};

struct ak {
        rd_kafka_t           *rk;
        rd_kafka_queue_t     *q;           /* every partition's messages */
        const struct ak_opts *o;
        struct ak_topic      *t;
        int                   timeout_ms;  /* socket.timeout.ms */
        size_t                left;        /* partitions not yet at hi */
};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

/* n digits at *s into *v: 0, or -1 when they are not there. */
static int digits(const char **s, int n, int *v)
{
        *v = 0;
        for (; n > 0; n--, (*s)++) {
                if (!isdigit((unsigned char)**s))
                        return -1;
                *v = *v * 10 + (**s - '0');
        }
        return 0;
}

static int parse_iso(const char *s, int64_t *ms)
{
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
                                     31, 30, 31 };
        int y, mo, d, h, mi, sec = 0, frac = 0, scale = 100;

        if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
            *s++ != '-' || digits(&s, 2, &d) || *s++ != 'T' ||
            digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
                return -1;
        if (*s == ':' && (s++, digits(&s, 2, &sec)))
                return -1;
        if (*s == '.') { /* milliseconds; finer digits are dropped */
                if (!isdigit((unsigned char)*++s))
                        return -1;
                for (; isdigit((unsigned char)*s); s++, scale /= 10)
                        frac += (*s - '0') * scale;
        }
        if (strcmp(s, "Z") != 0 || mo < 1 || mo > 12 || d < 1 ||
            d > mdays[mo - 1] || (mo == 2 && d == 29 && (y % 4 != 0 ||
            (y % 100 == 0 && y % 400 != 0))) || h > 23 || mi > 59 ||
            sec > 59)
                return -1;
        *ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
              sec * 1000 + frac;
        return 0;
}

int ak_parse_since(const char *s, int64_t *ms)
{
        char *end;
        long long v;

        if (strchr(s, 'T') != NULL)
                return parse_iso(s, ms);
        if (!isdigit((unsigned char)*s))
                return -1; /* no sign, no space: an epoch is not negative */
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return -1;
        *ms = v;
        return 0;
}

static int conf_put(rd_kafka_conf_t *conf, const char *key, const char *val)
{
        char errstr[256];

        if (rd_kafka_conf_set(conf, key, val, errstr, sizeof(errstr)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        journal_say(PRIO_ERR, "--audit: %s", errstr);
        return -1;
}

/*
 * librdkafka's own lines, under the journal only (elsewhere its stderr
 * logger stays, as it always was): with their syslog level as priority.
 */
static void ak_log(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        (void)rk;
        journal_say(level <= PRIO_ERR ? PRIO_ERR :
                    level >= PRIO_DEBUG ? PRIO_DEBUG : (enum log_prio)level,
                    "kafka: %s: %s", fac, buf);
}

/* The consumer's settings, then -X's: NULL after a message. */
static rd_kafka_conf_t *ak_conf(const struct ak_opts *o)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char key[256];
        const char *eq;
        size_t i;
        int err;

        /* No group: assigned partitions, no offset stored or committed. */
        err = conf_put(conf, "bootstrap.servers", o->brokers) ||
              conf_put(conf, "enable.auto.commit", "false") ||
              conf_put(conf, "enable.auto.offset.store", "false") ||
              conf_put(conf, "enable.partition.eof", "true") ||
              conf_put(conf, "auto.offset.reset", "error") ||
              conf_put(conf, "socket.timeout.ms", AK_TIMEOUT_MS);
        for (i = 0; !err && i < o->nprops; i++) {
                eq = strchr(o->props[i], '=');
                if (eq == NULL || (size_t)(eq - o->props[i]) >= sizeof(key)) {
                        journal_say(PRIO_ERR, "-X %s: not key=value",
                                o->props[i]);
                        err = 1;
                        break;
                }
                memcpy(key, o->props[i], (size_t)(eq - o->props[i]));
                key[eq - o->props[i]] = '\0';
                err = conf_put(conf, key, eq + 1);
        }
        if (err) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        if (journal_stream())
                rd_kafka_conf_set_log_cb(conf, ak_log);
        return conf;
}

static int ak_open(struct ak *k, const struct ak_opts *o)
{
        rd_kafka_conf_t *conf = ak_conf(o);
        char errstr[512], v[32];
        size_t n = sizeof(v);

        if (conf == NULL)
                return -1;
        k->timeout_ms = atoi(AK_TIMEOUT_MS);
        if (rd_kafka_conf_get(conf, "socket.timeout.ms", v, &n) ==
            RD_KAFKA_CONF_OK)
                k->timeout_ms = atoi(v);
        k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (k->rk == NULL) {
                rd_kafka_conf_destroy(conf);
                journal_say(PRIO_ERR, "--audit: %s", errstr);
                return -1;
        }
        k->q = rd_kafka_queue_new(k->rk);
        return 0;
}

/* The partitions of topic t from the cluster's metadata. */
static int ak_partitions(struct ak *k, struct ak_topic *t)
{
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t err;
        int n;

        t->rkt = rd_kafka_topic_new(k->rk, t->name, NULL);
        if (t->rkt == NULL) {
                journal_say(PRIO_ERR, "--audit: %s: %s", t->name,
                        rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        err = rd_kafka_metadata(k->rk, 0, t->rkt, &md, k->timeout_ms);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                journal_say(PRIO_ERR, "--audit: %s: no metadata from "
                        "%s within %d ms: %s", t->name, k->o->brokers,
                        k->timeout_ms, rd_kafka_err2str(err));
                return -1;
        }
        err = md->topic_cnt == 1 ? md->topics[0].err :
              RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        n = err == RD_KAFKA_RESP_ERR_NO_ERROR ?
            md->topics[0].partition_cnt : 0;
        rd_kafka_metadata_destroy(md);
        if (n == 0) {
                journal_say(PRIO_ERR, "--audit: %s: %s", t->name,
                        err ? rd_kafka_err2str(err) : "no partitions");
                return -1;
        }
        if ((t->parts = calloc((size_t)n, sizeof(*t->parts))) == NULL) {
                journal_say(PRIO_ERR, "--audit: out of memory");
                return -1;
        }
        t->nparts = n;
        return 0;
}

/* Each partition's watermarks; without --since, where retention cut. */
static int ak_watermarks(struct ak *k, struct ak_topic *t)
{
        rd_kafka_resp_err_t err;
        struct ak_part *p;
        int i;

        for (i = 0; i < t->nparts; i++) {
                p = &t->parts[i];
                err = rd_kafka_query_watermark_offsets(k->rk, t->name, i,
                                                       &p->lo, &p->hi,
                                                       k->timeout_ms);
                if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        journal_say(PRIO_ERR, "--audit: %s [%d]: no "
                                "watermarks within %d ms: %s", t->name, i,
                                k->timeout_ms, rd_kafka_err2str(err));
                        return -1;
                }
                p->next = p->lo;
                if (p->lo > 0 && p->hi > p->lo &&
                    k->o->since_ms == AK_SINCE_NONE)
                        journal_say(PRIO_WARNING, "--audit: %s [%d]: "
                                "offsets 0-%" PRId64 " are gone (retention): "
                                "reading from %" PRId64 "; their events "
                                "show as missing in runs that go on",
                                t->name, i, p->lo - 1, p->lo);
        }
        return 0;
}

/*
 * --since: the first offset at or after the time, by the broker's time
 * index.  A partition it finds none in is read from its start and its
 * messages before the time skipped here (the same rule): "none" is also
 * the answer of a broker that cannot look up times (librdkafka's mock).
 */
static int ak_since(struct ak *k, struct ak_topic *t)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_topic_partition_t *e;
        rd_kafka_resp_err_t err;
        int i;

        l = rd_kafka_topic_partition_list_new(t->nparts);
        for (i = 0; i < t->nparts; i++)
                rd_kafka_topic_partition_list_add(l, t->name, i)->offset =
                        k->o->since_ms;
        err = rd_kafka_offsets_for_times(k->rk, l, k->timeout_ms);
        for (i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < l->cnt; i++) {
                e = &l->elems[i];
                if (e->err != RD_KAFKA_RESP_ERR_NO_ERROR)
                        err = e->err;
                else if (e->offset >= 0)
                        t->parts[e->partition].next = e->offset;
                else
                        t->parts[e->partition].skip = 1;
        }
        rd_kafka_topic_partition_list_destroy(l);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
                journal_say(PRIO_ERR, "--audit: %s: no offsets for "
                        "--since within %d ms: %s", t->name, k->timeout_ms,
                        rd_kafka_err2str(err));
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

/*
 * Starts every partition with something to read, from where it starts,
 * into one queue: the simple consumer, as kcat -C without -G, which
 * needs no group and commits nothing.
 */
static int ak_start(struct ak *k)
{
        struct ak_topic *t;
        struct ak_part *p;
        size_t i;
        int j;

        for (i = 0; i < k->o->ntopics; i++) {
                t = &k->t[i];
                for (j = 0; j < t->nparts; j++) {
                        p = &t->parts[j];
                        if (p->next < p->lo)
                                p->next = p->lo;
                        if (p->next >= p->hi)
                                continue; /* empty, or nothing since */
                        if (rd_kafka_consume_start_queue(t->rkt, j, p->next,
                                                         k->q) == -1) {
                                journal_say(PRIO_ERR, "--audit: %s "
                                        "[%d]: %s", t->name, j,
                                        rd_kafka_err2str(
                                                rd_kafka_last_error()));
                                return -1;
                        }
                        p->started = 1;
                        k->left++;
                }
        }
        return 0;
}

/* Stops the partitions still fetching (after an error). */
static void ak_stop(struct ak *k)
{
        size_t i;
        int j;

        for (i = 0; i < k->o->ntopics; i++)
                for (j = 0; j < k->t[i].nparts; j++)
                        if (k->t[i].parts[j].started)
                                rd_kafka_consume_stop(k->t[i].rkt, j);
}

static struct ak_part *ak_find(struct ak *k, const rd_kafka_message_t *m)
{
        size_t i;

        for (i = 0; i < k->o->ntopics; i++)
                if (k->t[i].rkt == m->rkt)
                        return m->partition >= 0 &&
                               m->partition < k->t[i].nparts ?
                               &k->t[i].parts[m->partition] : NULL;
        return NULL;
}

/* A partition at its end: it fetches no more (the topic may grow). */
static void ak_done(struct ak *k, const rd_kafka_message_t *m,
                    struct ak_part *p)
{
        p->next = p->hi;
        p->started = 0;
        k->left--;
        rd_kafka_consume_stop(m->rkt, m->partition);
}

/* One message or event: 0, -1 after a message, -2 when fn stopped. */
static int ak_message(struct ak *k, const rd_kafka_message_t *m,
                      ak_value_fn fn, void *arg)
{
        struct ak_part *p = m->rkt != NULL ? ak_find(k, m) : NULL;
        int r = 0;

        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (p != NULL && p->next < p->hi && m->offset >= p->hi)
                        ak_done(k, m, p); /* control records at the end */
                return 0;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                journal_say(PRIO_ERR, "--audit: %s [%" PRId32 "]: %s",
                        m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
                        m->partition, rd_kafka_message_errstr(m));
                return -1;
        }
        if (p == NULL || m->offset < p->next || p->next >= p->hi)
                return 0; /* not ours, or past the end */
        /* Before --since's time until the first message at or after it. */
        if (p->skip && rd_kafka_message_timestamp(m, NULL) >= k->o->since_ms)
                p->skip = 0;
        if (!p->skip && fn(m->payload ? m->payload : "", m->len, arg) != 0)
                r = -2;
        p->next = m->offset + 1;
        if (p->next >= p->hi)
                ak_done(k, m, p);
        return r;
}

/* Where the first partition not at its end stands, for a message. */
static void ak_stalled(const struct ak *k)
{
        size_t i;
        int j;

        for (i = 0; i < k->o->ntopics; i++)
                for (j = 0; j < k->t[i].nparts; j++)
                        if (k->t[i].parts[j].next < k->t[i].parts[j].hi) {
                                journal_say(PRIO_ERR, "--audit: %s [%d]: "
                                        "nothing read for %d ms at offset %"
                                        PRId64 " of %" PRId64 "",
                                        k->t[i].name, j, k->timeout_ms,
                                        k->t[i].parts[j].next,
                                        k->t[i].parts[j].hi);
                                return;
                        }
}

static int ak_consume(struct ak *k, ak_value_fn fn, void *arg)
{
        rd_kafka_message_t *m;
        uint64_t last = mono_us();
        int r = 0;

        while (r == 0 && k->left > 0) {
                m = rd_kafka_consume_queue(k->q, 100);
                if (m == NULL) {
                        if (mono_us() - last > (uint64_t)k->timeout_ms * 1000) {
                                ak_stalled(k);
                                r = -1;
                        }
                        continue;
                }
                r = ak_message(k, m, fn, arg);
                rd_kafka_message_destroy(m);
                last = mono_us();
        }
        return r;
}

int ak_read(const struct ak_opts *o, ak_value_fn fn, void *arg)
{
        struct ak k = { .o = o };
        size_t i;
        int r;

        if ((k.t = calloc(o->ntopics, sizeof(*k.t))) == NULL)
                return -2;
        r = ak_open(&k, o);
        for (i = 0; r == 0 && i < o->ntopics; i++) {
                k.t[i].name = o->topics[i];
                r = ak_partitions(&k, &k.t[i]);
                if (r == 0)
                        r = ak_watermarks(&k, &k.t[i]);
                if (r == 0 && o->since_ms != AK_SINCE_NONE)
                        r = ak_since(&k, &k.t[i]);
        }
        if (r == 0)
                r = ak_start(&k);
        if (r == 0)
                r = ak_consume(&k, fn, arg);
        ak_stop(&k);
        for (i = 0; i < o->ntopics; i++) {
                if (k.t[i].rkt != NULL)
                        rd_kafka_topic_destroy(k.t[i].rkt);
                free(k.t[i].parts);
        }
        if (k.q != NULL)
                rd_kafka_queue_destroy(k.q);
        if (k.rk != NULL)
                rd_kafka_destroy(k.rk);
        free(k.t);
        return r;
}
