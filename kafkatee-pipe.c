/*
 * kafkatee-pipe: pmacct JSON lines on stdin -> enveloped events in Kafka.
 *
 * One libev loop.  stdin is read only while Kafka keeps up (backpressure);
 * every line read ends as delivered, failed, invalid or skipped, and what
 * is not delivered goes to the dead-letter file.  See kafkatee-pipe(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h> /* rd_kafka_version_str() */

#include "auditmain.h"
#include "cli.h"
#include "journal.h"
#include "kafkatee-pipe.h"
#include "keymem.h"

/* Timeout of the flush after a second signal. */
#define SHORT_FLUSH_MS 5000

void ktp_log(const struct app *a, int level, const char *fmt, ...)
{
        va_list ap;

        if (a != NULL && level > a->conf.verbosity)
                return;
        va_start(ap, fmt);
        journal_vsay(journal_prio(level), fmt, ap);
        va_end(ap);
}

void ktp_say(const struct app *a, int level, int prio, const char *fmt, ...)
{
        va_list ap;

        if (a != NULL && level > a->conf.verbosity)
                return;
        va_start(ap, fmt);
        journal_vsay((enum log_prio)prio, fmt, ap);
        va_end(ap);
}

/* --- outcomes ----------------------------------------------------------- */

/*
 * Records the error; the loop stops in before_block().  Never acts at
 * once: it may be called from inside librdkafka (a delivery report).
 */
static void app_fatal(struct app *a, const char *why)
{
        ktp_log(a, 0, "fatal: %s", why);
        a->fatal = 1;
}

/* The fatal and log callbacks of the modules (account, output). */
static void module_fatal(void *opaque, const char *why)
{
        app_fatal(opaque, why);
}

static void module_log(void *opaque, int level, const char *text)
{
        ktp_log(opaque, level, "%s", text);
}

/* Once stdout's reader went away, that line said why records are lost:
 * each one is not said again (but with -v). */
static void account_log(void *opaque, int level, const char *text)
{
        const struct app *a = opaque;

        if (a->out_closed && level > 0 && a->conf.verbosity < 2)
                return;
        ktp_log(a, level, "%s", text);
}

/*
 * What the dead-letter file keeps of an input line with anonymization:
 * nothing (withhold), or the line with the rules applied to its input
 * names when it is a JSON object that can be re-written; -1: withheld.
 */
static long app_raw(void *opaque, const char *line, size_t len,
                    int truncated, const char **out)
{
        struct app *a = opaque;

        if (truncated || a->conf.anon_raw == CONF_ANON_WITHHOLD)
                return -1;
        return anon_line(a->anon, line, len, out);
}

static int app_account_open(struct app *a, char *err, size_t errlen)
{
        const struct account_cb cb = {
                .log = account_log, .fatal = module_fatal,
                .raw = a->anon != NULL ? app_raw : NULL,
                .opaque = a,
        };

        if (account_open(&a->acc, a->conf.dead_letter,
                         a->conf.verbosity >= 2, &cb, err, errlen) == 0)
                return 0;
        /* "dead-letter file PATH: ...": where PATH was set */
        conf_place_key(&a->conf, "deadletter.file", err, errlen);
        return -1;
}

/*
 * A message that will not be delivered: counted, then dead-lettered with
 * its event as built (--replay produces it again).
 */
static void msg_lost(struct app *a, struct msg *m, enum loss_reason reason,
                     const char *error)
{
        const struct line l = {
                .data = m->data + m->value_len, .len = m->raw_len,
                .no = m->line_no,
        };
        const char *topic = output_topic_name(a->out, (int)m->topic);
        const struct dead_event ev = {
                .topic = topic != NULL ? topic : "",
                .topic_len = topic != NULL ? strlen(topic) : 0,
                .key = m->key_len > 0 ? l.data + l.len : NULL,
                .key_len = m->key_len,
                .value = m->data, .value_len = m->value_len,
                .timestamp_ms = m->timestamp_ms,
        };

        const char *input = account_input_name(&a->acc);

        /* its line number is of the file being read, or of another */
        if (input != NULL && m->input_gen != a->in_gen)
                account_input(&a->acc, NULL);
        if (m->kind == MSG_ERROR_EVENT)
                account_error_outcome(&a->acc, 0, m->line_no, error);
        else
                account_failed_event(&a->acc, reason, &l, &ev, error, error);
        account_input(&a->acc, input);
        msgpool_put(&a->pool, m);
}

/*
 * The output's report on m.  Only what the shutdown gave up (purged
 * after flush.timeout.ms, or never reported) is a "shutdown" loss; an
 * error of the broker stays a "delivery" failure, signal or not.
 */
static void app_delivered(void *opaque, struct msg *m,
                          enum output_outcome how, const char *error)
{
        struct app *a = opaque;

        if (how == OUTPUT_DELIVERED)
                a->brokers_down = 0; /* one is up, for systemd's status */
        if (sender_outcome(a->snd, m, how))
                return;
        if (how != OUTPUT_DELIVERED) {
                msg_lost(a, m, how == OUTPUT_FAILED ||
                         how == OUTPUT_RETRIABLE ? LOSS_DELIVERY :
                         LOSS_SHUTDOWN, error);
                return;
        }
        /* One clock reading for the reports of a loop turn. */
        if (a->serve_us == 0) {
                a->serve_us = mono_us();
                a->serve_ms = now_ms();
        }
        if (m->kind == MSG_ERROR_EVENT)
                account_error_outcome(&a->acc, 1, m->line_no, NULL);
        else
                account_delivered(&a->acc, m->read_us, a->serve_us,
                                  a->serve_ms);
        if (a->st.stalled) {
                a->st.stalled = 0;
                ktp_say(a, 1, PRIO_NOTICE, "delivering again");
        }
        msgpool_put(&a->pool, m);
}

static void app_brokers_down(void *opaque)
{
        struct app *a = opaque;

        a->brokers_down = 1;
        sender_brokers_down(a->snd);
}

static void rdkafka_stats(void *opaque, const char *json, size_t len)
{
        struct app *a = opaque;
        char *copy = strndup(json, len);

        if (copy != NULL) {
                free(a->st.rdkafka_json);
                a->st.rdkafka_json = copy;
        }
}

/* stdout's reader went away (| head): reading stops, as at a fatal
 * error but without one (EXIT STATUS in the man page). */
static void app_out_closed(void *opaque)
{
        struct app *a = opaque;

        ktp_say(a, 1, PRIO_NOTICE, "stdout closed by its reader: stopping");
        a->out_closed = 1;
}

static int app_output_open(struct app *a, char *err, size_t errlen)
{
        struct output_opts opts = {
                .mode = a->to_stdout ? OUTPUT_STDOUT : OUTPUT_KAFKA,
                .framing = a->conf.encoding == CONF_ENCODING_JSON ?
                           OUTPUT_FRAME_LINE : OUTPUT_FRAME_LENGTH,
                .format = a->conf.stdout_format,
                .topic = a->rt.topic.n_fields == 0 ? a->topic : NULL,
                .topic_max = a->conf.topic_max +
                             (a->conf.error_topic != NULL),
                .headers = &a->rt.headers,
        };
        const struct output_cb cb = {
                .delivered = app_delivered, .fatal = module_fatal,
                .closed = app_out_closed,
                .rdkafka_stats = rdkafka_stats, .log = module_log,
                .brokers_down = app_brokers_down, .opaque = a,
        };

        output_kafka_opts(&opts, &a->conf);
        a->out = output_open(&opts, &cb, a->loop, err, errlen);
        return a->out != NULL ? 0 : -1;
}

/* --- input -------------------------------------------------------------- */

static struct msg *msg_new(struct app *a, const struct kt_event *ev,
                           const struct line *l)
{
        /*
         * The line is kept for the dead-letter file only, and never with
         * anonymization: the block may go to the spool's files, and the
         * event it carries is what the dead-letter record keeps.
         */
        size_t raw_len = a->conf.dead_letter != NULL && a->anon == NULL ?
                         l->len : 0;
        struct msg *m = msgpool_get(&a->pool,
                                    ev->value_len + raw_len + ev->key_len);

        if (m == NULL)
                return NULL;
        m->line_no = l->no;
        m->read_us = 0;
        m->value_len = ev->value_len;
        m->raw_len = raw_len;
        m->key_len = ev->key_len;
        m->timestamp_ms = ev->timestamp_ms;
        m->topic = 0;
        m->kind = MSG_EVENT;
        m->spooled = 0;
        m->input_gen = a->in_gen;
        memcpy(m->data, ev->value, ev->value_len);
        memcpy(m->data + ev->value_len, l->data, raw_len);
        if (ev->key_len > 0)
                memcpy(m->data + ev->value_len + raw_len, ev->key,
                       ev->key_len);
        return m;
}

uint64_t backpressure_us(const struct app *a)
{
        return a->st.backpressure_us +
               (a->paused ? mono_us() - a->st.paused_since_us : 0);
}

static void pause_input(struct app *a)
{
        if (!a->paused) {
                ktp_log(a, 2, "backpressure: %lld messages in flight",
                        (long long)output_in_flight(a->out));
                a->st.paused_since_us = mono_us();
        }
        a->paused = 1;
        ev_io_stop(a->loop, &a->stdin_w);
}

/* Returns 0 when input goes on, 1 when it must pause. */
static int produce(struct app *a, struct msg *m)
{
        switch (sender_send(a->snd, m)) {
        case SEND_GO_ON:
                return 0;
        case SEND_HOLD: /* m waits in memory, sent first again */
                a->pending = m;
                break;
        case SEND_PAUSE:
                break;
        }
        pause_input(a);
        return 1;
}

static int is_blank(const struct line *l)
{
        size_t i;

        for (i = 0; i < l->len; i++)
                if (l->data[i] != ' ' && l->data[i] != '\t' &&
                    l->data[i] != '\r')
                        return 0;
        return 1;
}

/*
 * pmacctd prints its own log lines to stdout at shutdown, e.g.
 * "NOTICE ( default/core ): [lo,0] received_packets=60 dropped_packets=0":
 * not records, so shown on stderr and skipped rather than lost.
 * Returns the line's priority for the journal (pmacct's level; crit and
 * above as errors), or -1: not a log line.
 */
static int pmacct_log_prio(const struct line *l)
{
        static const struct { const char *word; enum log_prio prio; }
        levels[] = {
                { "DEBUG ( ", PRIO_DEBUG }, { "INFO ( ", PRIO_INFO },
                { "NOTICE ( ", PRIO_NOTICE }, { "WARN ( ", PRIO_WARNING },
                { "WARNING ( ", PRIO_WARNING }, { "ERROR ( ", PRIO_ERR },
                { "CRIT ( ", PRIO_ERR }, { "ALERT ( ", PRIO_ERR },
                { "EMERG ( ", PRIO_ERR },
        };
        size_t i, n;

        if (l->len == 0 || l->data[0] < 'A' || l->data[0] > 'W')
                return -1; /* a record, as every other line: be quick */
        for (i = 0; i < sizeof(levels) / sizeof(*levels); i++) {
                n = strlen(levels[i].word);
                if (l->len > n && memcmp(l->data, levels[i].word, n) == 0)
                        return memmem(l->data + n, l->len - n, " ): ", 4) !=
                               NULL ? (int)levels[i].prio : -1;
        }
        return -1;
}

/* A pmacct log line is skipped, and said at its own priority: 1. */
static int pmacct_log(struct app *a, const struct line *l)
{
        int prio = pmacct_log_prio(l);

        if (prio == -1)
                return 0;
        account_skipped(&a->acc);
        /* its text may name addresses: not with anonymization */
        if (a->anon != NULL)
                ktp_say(a, 1, prio, "pmacct: a log line (withheld: "
                        "anonymize)");
        else
                ktp_say(a, 1, prio, "pmacct: %.*s", (int)l->len, l->data);
        return 1;
}

/*
 * A line read that cannot go on, for want of memory or of an id: it
 * fails (so read = delivered + failed + invalid + skipped still holds),
 * is dead-lettered, and the run stops.  Returns 1: stop reading.
 */
static int line_failed(struct app *a, const struct line *l, const char *why)
{
        account_failed(&a->acc, LOSS_SHUTDOWN, l, why, NULL);
        app_fatal(a, why);
        return 1;
}

/*
 * The error event of a refused event, to error.topic (errevent.h).  Its
 * line is already counted and dead-lettered: only its own outcome is
 * left (account_error_outcome).  Returns handle_line()'s value.
 */
static int produce_error_event(struct app *a, const struct line *l,
                               const struct kt_event *refused,
                               const char *message)
{
        struct errevent_in in = {
                .event = refused->value, .event_len = refused->value_len,
                .message = message, .now_ms = now_ms(),
        };
        struct kt_event ev = { .timestamp_ms = in.now_ms };
        const struct line none = { .data = "", .no = l->no };
        struct msg *m;
        size_t len;
        char *text;

        if (uuid_pool_next(&a->ids, &in.id) == -1 ||
            (text = errevent_build(&a->errconf, &in, &len)) == NULL) {
                account_error_outcome(&a->acc, 0, l->no, "out of memory");
                return 0;
        }
        ev.value = text;
        ev.value_len = len;
        m = msg_new(a, &ev, &none);
        free(text);
        if (m == NULL) {
                account_error_outcome(&a->acc, 0, l->no, "out of memory");
                return 0;
        }
        m->topic = (uint32_t)a->error_topic;
        m->kind = MSG_ERROR_EVENT;
        m->read_us = a->pump_us;
        return produce(a, m);
}

/*
 * The anonymize stage's changes: 1, or 0 when it refuses the record
 * (invalid, with a message that names the field, never its value).
 */
static int event_anonymized(struct app *a, const struct line *l,
                            const struct kt_event *ev)
{
        const char *why = "anonymize: more changes than an event takes";

        switch (anon_stage(a->anon, ev, &a->edits)) {
        case ANON_OK:
                return 1;
        case ANON_REFUSED:
                why = anon_error(a->anon);
                break;
        case ANON_FULL:
                break;
        }
        account_invalid_reason(&a->acc, LOSS_INVALID, l, why);
        return 0;
}

/*
 * The stages after the transform, in their fixed order: enrich (it needs
 * the real addresses), then anonymize (what leaves the host).  Each adds
 * its changes to a->edits against the event as the transform wrote it;
 * they are written in one pass (evedit.h) before validation, routing and
 * the output see the event.  1 when the event may go on; else the line
 * has its outcome and *rc is handle_line()'s return.
 */
static int event_staged(struct app *a, const struct line *l,
                        struct kt_event *ev, int *rc)
{
        *rc = 0;
        ev_edits_reset(&a->edits);
        if (a->enrich != NULL &&
            enrich_event(a->enrich, ev, &a->lookup, &a->edits) == -1) {
                account_invalid(&a->acc, l, "enrich: more members added "
                                "than an event's edits hold");
                return 0;
        }
        if (a->anon != NULL && !event_anonymized(a, l, ev))
                return 0;
        if (ev_apply(&a->editor, ev, &a->edits) == 0)
                return 1;
        *rc = line_failed(a, l, "out of memory");
        return 0;
}

/*
 * The validate stage: 1 when the event may go on.  Else the line has its
 * outcome and *rc is handle_line()'s return.
 */
static int event_valid(struct app *a, const struct line *l,
                       const struct kt_event *ev, int *rc)
{
        struct kt_schema_error e;

        *rc = 0;
        switch (validator_check(a->val, ev->value, ev->value_len, &ev->index,
                                &e)) {
        case V_VALID:
                return 1;
        case V_INVALID:
                account_invalid_reason(&a->acc, LOSS_SCHEMA, l, e.message);
                account_schema_invalid(&a->acc);
                if (a->error_topic >= 0)
                        *rc = produce_error_event(a, l, ev, e.message);
                return 0;
        case V_NOMEM:
                break;
        }
        *rc = line_failed(a, l, "out of memory");
        return 0;
}

/*
 * The record's topic (id) and key from the templates with fields: a
 * field that cannot make them, or one topic more than topic.max, makes
 * the record invalid ("route").  Returns -1 then, accounted.
 */
static int route_event(struct app *a, struct kt_event *ev,
                       const struct line *l, uint32_t *topic)
{
        struct routing *r = &a->rt;
        long n;
        int id;

        *topic = 0;
        if (r->topic.n_fields > 0) {
                if ((n = route_expand(&r->topic, &r->fields, ev->fields,
                                      &r->topic_buf, &r->topic_cap, r->err,
                                      sizeof(r->err))) == -1 ||
                    (id = output_topic(a->out, r->topic_buf, (size_t)n,
                                       r->err, sizeof(r->err))) == -1)
                        goto invalid;
                *topic = (uint32_t)id;
        }
        if (r->key.n > 0) {
                if ((n = route_expand(&r->key, &r->fields, ev->fields,
                                      &r->key_buf, &r->key_cap, r->err,
                                      sizeof(r->err))) == -1)
                        goto invalid;
                ev->key = r->key_buf;
                ev->key_len = (size_t)n;
        }
        return 0;
invalid:
        account_invalid_reason(&a->acc, LOSS_ROUTE, l, r->err);
        return -1;
}

/*
 * The encode stage (encoding = pnda-avro): the event becomes PNDA's Avro
 * datum, in the encoder's buffer until the next record.  1 when it may
 * go on; else the line has its outcome and *rc is handle_line()'s return.
 */
static int event_encoded(struct app *a, const struct line *l,
                         struct kt_event *ev, int64_t ingest, int *rc)
{
        const struct avroenc_record r = {
                .event = ev->value, .event_len = ev->value_len,
                .raw = l->data, .raw_len = l->len,
                .timestamp_ms = a->conf.avro_timestamp ==
                                CONF_TIMESTAMP_INGEST ? ingest :
                                ev->timestamp_ms,
                .fields = ev->fields, .n_fields = ev->n_fields,
        };
        const unsigned char *out;
        char err[512];
        int nomem;

        *rc = 0;
        if (avroenc_encode(a->enc, &r, &out, &ev->value_len, &nomem, err,
                           sizeof(err)) == 0) {
                ev->value = (const char *)out;
                return 1;
        }
        if (nomem)
                *rc = line_failed(a, l, err);
        else
                account_invalid_reason(&a->acc, LOSS_ENCODE, l, err);
        return 0;
}

static int handle_line(struct app *a, const struct line *l, int64_t ingest)
{
        struct kt_input in = { .ingest_ms = ingest,
                               .sequence = a->sequence + 1 };
        struct kt_event ev;
        struct msg *m;
        uint32_t topic;
        int rc;

        account_read(&a->acc);
        /* Nothing to lose in a blank line: counted, not forwarded. */
        if (!l->too_long && is_blank(l)) {
                account_skipped(&a->acc);
                return 0;
        }
        if (l->too_long) {
                account_invalid(&a->acc, l, "line longer than line.max");
                return 0;
        }
        if (pmacct_log(a, l))
                return 0;
        if (uuid_pool_next(&a->ids, &in.id) == -1)
                return line_failed(a, l, "no randomness for event ids");
        switch (kt_transform_line(a->tf, l->data, l->len, &in, &ev)) {
        case KT_SKIP:
                account_skipped(&a->acc);
                account_marker(&a->acc, &ev);
                return 0;
        case KT_INVALID:
                account_invalid(&a->acc, l, kt_transform_error(a->tf));
                return 0;
        case KT_EVENT:
                break;
        }
        if (a->staged && !event_staged(a, l, &ev, &rc))
                return rc;
        if (a->val != NULL && !event_valid(a, l, &ev, &rc))
                return rc;
        if (route_event(a, &ev, l, &topic) == -1)
                return 0;
        if (a->enc != NULL && !event_encoded(a, l, &ev, ingest, &rc))
                return rc;
        if ((m = msg_new(a, &ev, l)) == NULL)
                return line_failed(a, l, "out of memory");
        a->sequence++; /* the number is taken: a gap means a loss */
        m->topic = topic;
        m->read_us = a->pump_us;
        if (a->conf.timestamp == CONF_TIMESTAMP_INGEST)
                m->timestamp_ms = ingest;
        return produce(a, m);
}

/* --- replay --------------------------------------------------------------- */

/*
 * An event of the dead-letter file, produced as it was built: its topic
 * (through the registry, as a routed one), key, timestamp and value.  It
 * takes no number: it has its own, and the replay closes its gap.
 */
static int replay_event(struct app *a, const struct line *l,
                        const struct dlr_record *r)
{
        const struct dead_event *e = &r->event;
        const struct line raw = { .data = r->raw, .len = r->raw_len,
                                  .no = l->no };
        const struct kt_event ev = {
                .value = e->value, .value_len = e->value_len,
                .key = e->key, .key_len = e->key != NULL ? e->key_len : 0,
                .timestamp_ms = e->timestamp_ms,
        };
        struct routing *rt = &a->rt;
        struct msg *m;
        int id;

        account_read(&a->acc);
        if ((id = output_topic(a->out, e->topic, e->topic_len, rt->err,
                               sizeof(rt->err))) == -1) {
                account_failed_event(&a->acc, LOSS_ROUTE, &raw, e, rt->err,
                                     NULL);
                return 0;
        }
        if ((m = msg_new(a, &ev, &raw)) == NULL) {
                account_failed_event(&a->acc, LOSS_SHUTDOWN, &raw, e,
                                     "out of memory", NULL);
                app_fatal(a, "out of memory");
                return 1;
        }
        m->topic = (uint32_t)id;
        m->read_us = a->pump_us;
        return produce(a, m);
}

/*
 * A line of the file --replay reads: an event goes as it was built, a
 * truncated line is lost again, and what is not a record is invalid: 1,
 * with handle_line()'s return in *rc.  A line that never became an event
 * is to go through handle_line() again from its raw bytes (a number of
 * this run if it becomes an event now): 0, and *l is that line.  pump()
 * stays handle_line()'s only caller, which keeps it inlined: called from
 * here too, it cost 28 instructions more a record (callgrind, 50000
 * bench-gen records: 490.95M before --replay, 492.36M, now 491.01M).
 */
static int replay_line(struct app *a, struct line *l, int *rc)
{
        struct dlr_record r;
        const char *why = "line longer than line.max";

        *rc = 0;
        if (l->too_long) {
                account_read(&a->acc);
                account_invalid(&a->acc, l, "not a dead-letter record: "
                                "longer than 8 line.max + 64 KiB");
                return 1;
        }
        switch (dlr_parse(&a->dlr, l->data, l->len, &r)) {
        case DLR_NONE:
                account_read(&a->acc);
                account_invalid_reason(&a->acc, LOSS_INVALID, l,
                                       dlr_error(&a->dlr));
                return 1;
        case DLR_EVENT:
                *rc = replay_event(a, l, &r);
                return 1;
        case DLR_TRUNCATED:
                why = "truncated in the dead-letter file (too_long): "
                      "cannot be replayed";
                l->too_long = 1;
                break;
        case DLR_LINE:
                break;
        }
        l->data = r.raw;
        l->len = r.raw_len;
        if (r.raw_len > (size_t)a->conf.line_max) { /* as the reader does */
                l->too_long = 1;
                l->len = (size_t)a->conf.line_max < LR_LONG_PREFIX ?
                         (size_t)a->conf.line_max : LR_LONG_PREFIX;
        }
        if (!l->too_long)
                return 0;
        account_read(&a->acc);
        account_invalid(&a->acc, l, why);
        return 1;
}

/*
 * --replay FILE: the file becomes standard input, read as stdin is
 * (backpressure, EOF, the flush).  This run's dead-letter file must be
 * another: what is lost again would be appended to the file being read.
 */
static int replay_open(struct app *a)
{
        const char *path = a->conf.replay;
        struct stat in, dl;
        int fd;

        if (path == NULL)
                return 0;
        if (strcmp(path, "-") != 0) {
                if ((fd = open(path, O_RDONLY)) == -1 ||
                    dup2(fd, STDIN_FILENO) == -1) {
                        ktp_log(NULL, 0, "--replay %s: %s", path,
                                strerror(errno));
                        return -1;
                }
                close(fd);
        }
        if (a->conf.dead_letter != NULL && fstat(STDIN_FILENO, &in) == 0 &&
            stat(a->conf.dead_letter, &dl) == 0 && in.st_dev == dl.st_dev &&
            in.st_ino == dl.st_ino) {
                ktp_log(NULL, 0, "--replay %s: it is this run's dead-letter "
                        "file %s: move it aside first", path,
                        a->conf.dead_letter);
                return -1;
        }
        a->replay = 1;
        return 0;
}

static void begin_flush(struct app *a, long long timeout_ms);

static void resume_input(struct app *a)
{
        if (a->paused)
                a->st.backpressure_us += mono_us() - a->st.paused_since_us;
        a->paused = 0;
        /* input.dir: stdin_w watches the file read, when there is one */
        if (a->in == NULL || a->in_state == INPUT_READING)
                ev_io_start(a->loop, &a->stdin_w);
}

/* --- the directory input (input.dir, indir.h) ---------------------------- */

/*
 * The next complete file, if there is one, is read as stdin is: the same
 * watcher (on its descriptor), reader, backpressure.  None, with
 * input.dir.once: the end of input.
 */
static void input_take(struct app *a)
{
        if (a->in_state != INPUT_NONE || a->flushing)
                return;
        switch (indir_next(a->in, now_ms())) {
        case INDIR_TAKEN:
                break;
        case INDIR_SOON: /* complete: wait for it even with once */
                return;
        case INDIR_NONE:
                if (a->conf.input_dir_once)
                        begin_flush(a, a->conf.flush_timeout_ms);
                return;
        }
        a->in_state = INPUT_READING;
        a->in_gen++;
        a->eof = 0;
        lr_reset(&a->lr, indir_first_line(a->in));
        account_input(&a->acc, indir_name(a->in));
        account_purge_reset(&a->acc);
        ev_io_stop(a->loop, &a->stdin_w);
        ev_io_set(&a->stdin_w, indir_fd(a->in), EV_READ);
        if (!a->paused)
                ev_io_start(a->loop, &a->stdin_w);
}

/* Every line of the file was handed out (pump() at its end). */
static void input_end(struct app *a)
{
        if (a->in_state != INPUT_READING)
                return;
        a->in_state = INPUT_SETTLING;
        ev_io_stop(a->loop, &a->stdin_w);
}

/*
 * The file is removed once each of its records is delivered, failed
 * (dead-lettered) or in the spool, synced: then the next is taken.
 * Waiting for the last reports costs linger.ms and a round trip a file
 * (mock cluster, 200 files of 100 records: 0.21 s with linger.ms=0,
 * 1.23 s with librdkafka's 5, 4.34 s with 20; one file of 20000: 0.04 s):
 * nothing at pmacct's one file a print_refresh_time.
 */
static void input_settle(struct app *a)
{
        if (a->pending != NULL || lr_pending(&a->lr) > 0 ||
            !output_settled(a->out) || sender_sync(a->snd) == -1)
                return;
        (void)indir_done(a->in); /* said and counted when it fails */
        account_input(&a->acc, NULL);
        a->in_state = INPUT_NONE;
        input_take(a);
}

static void scan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        (void)loop;
        (void)revents;
        input_take(w->data);
}

/*
 * At exit: a file read to its end and settled is removed (after the
 * flush, every record of it has its outcome, or is kept in the spool);
 * one stopped in the middle gets the offset file.  After a fatal error
 * neither: the file is read again (its records twice, none lost).
 */
static void input_finish(struct app *a)
{
        if (a->in == NULL)
                return;
        if (a->in_state == INPUT_SETTLING && !a->fatal)
                (void)indir_done(a->in);
        else if (a->in_state == INPUT_READING && !a->fatal)
                (void)indir_save(a->in, lr_pending(&a->lr), a->lr.line_no);
        account_input(&a->acc, NULL);
        a->in_state = INPUT_NONE; /* closed after the stats' last write */
}

/* The message the sender held back (SEND_HOLD) goes first; 0 when it
 * went. */
static int send_pending(struct app *a)
{
        struct msg *m = a->pending;

        if (m == NULL)
                return 0;
        a->pending = NULL;
        return produce(a, m);
}

/* Cuts and handles the lines read so far, until backpressure says stop. */
static void pump(struct app *a)
{
        struct line l;
        int64_t ingest = now_ms();
        int rc;

        a->pump_us = mono_us();
        if (send_pending(a) != 0)
                return;
        /* once stdout's reader is gone, the lines in hand are not
         * produced: they count as read and not produced (shutdown) */
        while (!a->flushing && !a->out_closed &&
               lr_next(&a->lr, a->eof, &l)) {
                if (a->replay && replay_line(a, &l, &rc)) {
                        if (rc != 0)
                                return;
                        continue;
                }
                if (handle_line(a, &l, ingest) != 0)
                        return;
        }
        if (a->flushing)
                return;
        if (a->eof && a->in != NULL) {
                input_end(a);
                return;
        }
        if (a->eof) {
                begin_flush(a, a->conf.flush_timeout_ms);
                return;
        }
        resume_input(a);
}

static void stdin_cb(struct ev_loop *loop, ev_io *w, int revents)
{
        struct app *a = w->data;
        char *p;
        size_t n;
        ssize_t got;

        (void)loop;
        (void)revents;
        if (lr_space(&a->lr, &p, &n) == -1) {
                app_fatal(a, "out of memory");
                return;
        }
        got = read(w->fd, p, n);
        if (got == -1 && (errno == EAGAIN || errno == EINTR))
                return;
        if (got == -1) {
                ktp_log(a, 0, "read %s: %s", a->in != NULL ?
                        indir_name(a->in) : "stdin", strerror(errno));
                a->fatal = 1;
                got = 0;
        }
        if (a->in != NULL)
                indir_read(a->in, (size_t)got);
        if (got == 0)
                a->eof = 1;
        lr_commit(&a->lr, (size_t)got);
        ev_io_stop(a->loop, &a->stdin_w);
        pump(a);
}

/* --- flush and shutdown -------------------------------------------------- */

static void check_done(struct app *a)
{
        /* the spool drained too, unless the flush was given up: then
         * what it holds is kept for the next run */
        if (a->flushing && output_in_flight(a->out) == 0 &&
            a->pending == NULL && (a->gave_up || !sender_waiting(a->snd)))
                ev_break(a->loop, EVBREAK_ALL);
}

/* The message refused with QUEUE_FULL will not be retried: it failed,
 * unless the spool keeps it for the next run. */
static void drop_pending(struct app *a, const char *why)
{
        if (a->pending == NULL)
                return;
        /* kept for the next run (the output still knows its topic) */
        if (sender_keep(a->snd, a->pending) == 0) {
                a->pending = NULL;
                return;
        }
        msg_lost(a, a->pending, LOSS_SHUTDOWN, why);
        a->pending = NULL;
}

/* Lines read but not produced when reading stops early: dead-lettered. */
static void drop_held_input(struct app *a)
{
        struct line l;
        int n = 0;

        drop_pending(a, "stopped before producing");
        while (lr_next(&a->lr, 1, &l)) {
                account_read(&a->acc);
                account_failed(&a->acc, LOSS_SHUTDOWN, &l,
                               "stopped before producing", NULL);
                n++;
        }
        if (n > 0)
                ktp_log(a, 1, "%d lines read but not produced", n);
}

/* Is there more on stdin that we will never read? */
static void check_unread(struct app *a)
{
        int avail = 0;

        if (a->eof)
                return;
        if (ioctl(STDIN_FILENO, FIONREAD, &avail) == 0 && avail > 0) {
                a->unread = 1;
                ktp_log(a, 0, "stopped with %d bytes left unread on stdin",
                        avail);
        }
}

static void flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct app *a = w->data;

        (void)loop;
        (void)revents;
        if (a->gave_up) {
                /* Reports still missing: account_leftovers() counts them. */
                ev_break(a->loop, EVBREAK_ALL);
                return;
        }
        ktp_log(a, 1, "flush timed out with %lld messages undelivered",
                (long long)output_in_flight(a->out));
        a->gave_up = 1;
        drop_pending(a, "flush timed out");
        /* The reports of purged messages arrive through the queue. */
        output_purge(a->out);
        output_serve(a->out);
        check_done(a);
        ev_timer_set(w, 5.0, 0.);
        ev_timer_start(a->loop, w);
}

static void begin_flush(struct app *a, long long timeout_ms)
{
        if (a->flushing) {
                if (a->gave_up)
                        return;
                /* A second stop: shorten the wait. */
                if (ev_timer_remaining(a->loop, &a->flush_w) * 1000 >
                    (double)timeout_ms) {
                        ev_timer_stop(a->loop, &a->flush_w);
                        ev_timer_set(&a->flush_w, timeout_ms / 1000.0, 0.);
                        ev_timer_start(a->loop, &a->flush_w);
                }
                return;
        }
        a->flushing = 1;
        notify_stopping(a->notify);
        ev_io_stop(a->loop, &a->stdin_w);
        ev_timer_stop(a->loop, &a->drain_w);
        ev_timer_stop(a->loop, &a->scan_w);
        /* input.dir: the lines the reader holds are read again from the
         * offset file; the one held back by the sender is sent during
         * the flush (before_block) */
        if (a->in == NULL) {
                check_unread(a);
                /* Held lines too at EOF, if a fatal error stopped the pump. */
                drop_held_input(a);
        }
        ev_timer_set(&a->flush_w, timeout_ms / 1000.0, 0.);
        ev_timer_start(a->loop, &a->flush_w);
        output_serve(a->out);
        check_done(a);
}

static void drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct app *a = w->data;

        (void)loop;
        (void)revents;
        ktp_log(a, 1, "stdin not closed within drain.timeout.ms: stopping");
        begin_flush(a, a->conf.flush_timeout_ms);
}

/*
 * A Ctrl-C reaches every process of a pmacct pipeline: keep reading what
 * the collector still writes, until EOF or drain.timeout.ms.  Once
 * reading has stopped (EOF, drain.timeout.ms, a fatal error) a signal
 * stops as a second one would: the flush is cut to SHORT_FLUSH_MS.
 * Any signal after that gives up on the flush.
 */
static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
        struct app *a = w->data;

        (void)loop;
        (void)revents;
        if (a->stop == STOP_NONE && !a->flushing && a->in != NULL) {
                /* a file is not drained: the next run resumes in it */
                a->stop = STOP_DRAIN;
                ktp_say(a, 1, PRIO_NOTICE, "signal %d: stopping, flushing "
                        "for up to %lld ms", w->signum,
                        a->conf.flush_timeout_ms);
                begin_flush(a, a->conf.flush_timeout_ms);
                return;
        }
        if (a->stop == STOP_NONE && !a->flushing) {
                a->stop = STOP_DRAIN;
                ktp_say(a, 1, PRIO_NOTICE, "signal %d: draining stdin for "
                        "up to %lld ms", w->signum, a->conf.drain_timeout_ms);
                ev_timer_set(&a->drain_w, a->conf.drain_timeout_ms / 1000.0,
                             0.);
                ev_timer_start(a->loop, &a->drain_w);
                return;
        }
        if (a->stop < STOP_NOW) {
                a->stop = STOP_NOW;
                ktp_say(a, 1, PRIO_NOTICE, "signal %d: stopping, flushing "
                        "for up to %d ms", w->signum, SHORT_FLUSH_MS);
                begin_flush(a, SHORT_FLUSH_MS);
                return;
        }
        a->stop = STOP_GIVE_UP;
        ktp_say(a, 1, PRIO_NOTICE, "signal %d: giving up on the flush",
                w->signum);
        begin_flush(a, 0);
}

/* salt_lend()'s keyer: the anonymizer's HMAC keyed by the salt. */
static int anon_keyer(void *arg, const unsigned char *key, size_t len,
                      const char *id)
{
        return anon_set_salt(arg, key, len, id);
}

/* The anonymizer keyed by the salt, OpenSSL's copies in keymem's arena. */
static int salt_key(struct app *a)
{
        struct keymem_stats before, after;
        int r;

        keymem_stats(&before);
        r = salt_lend(&a->salt, anon_keyer, a->anon);
        keymem_stats(&after);
        if (after.spilled > before.spilled)
                ktp_log(a, 1, "anonymize: OpenSSL's copy of the salt did "
                        "not fit in its arena: it is in the heap, where a "
                        "core dump may hold it");
        return r;
}

/*
 * A new salt for the hash rules (the file read again, or new random
 * bytes), the old one wiped.  A salt file that cannot be read keeps the
 * current salt, said; no memory for the new key is fatal (its bytes are
 * gone already).
 */
static void salt_next(struct app *a, const char *why)
{
        char err[512];

        if (a->anon == NULL || !anon_hashes(a->anon))
                return;
        if (salt_rotate(&a->salt, err, sizeof(err)) == -1) {
                ktp_log(a, 0, "%s: %s; the salt stays", why, err);
                return;
        }
        if (salt_key(a) == -1) {
                app_fatal(a, "anonymize: no memory for the new salt");
                return;
        }
        ktp_log(a, 2, "%s: salt generation %s", why, a->salt.id);
}

static void salt_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        (void)loop;
        (void)revents;
        salt_next(w->data, "anonymize.salt.rotate");
}

/*
 * logrotate moved the dead-letter file away: start a new one.  The
 * enrich stage's databases were updated: reopen them (between two
 * records: none is dropped; a file that does not open is kept).  The
 * anonymize salt is rotated (a salt file is read again).
 */
static void sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
        struct app *a = w->data;
        const struct geoip_log log = { module_log, a };

        (void)loop;
        (void)revents;
        account_reopen(&a->acc);
        if (a->geo != NULL)
                geoip_reopen(a->geo, &log);
        salt_next(a, "SIGHUP");
}

/* Records wait, yet nothing was delivered for stall.timeout.ms. */
static void check_stall(struct app *a)
{
        uint64_t now = mono_us();

        if (output_in_flight(a->out) == 0 && a->pending == NULL) {
                account_idle(&a->acc, now); /* idle is not stalled */
                return;
        }
        if (a->st.stalled || a->conf.stall_timeout_ms == 0 ||
            now - account_progress_us(&a->acc) <
            (uint64_t)a->conf.stall_timeout_ms * 1000)
                return;
        a->st.stalled = 1;
        /* tenths: the tick is a second, stall.timeout.ms any ms */
        ktp_log(a, 0, "stalled: %lld records in flight, nothing delivered "
                "for %.1f s", (long long)output_in_flight(a->out),
                (double)(now - account_progress_us(&a->acc)) / 1e6);
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct app *a = w->data;

        (void)loop;
        (void)revents;
        output_serve(a->out);
        check_stall(a);
}

/* What the stats and metrics files show, as it is now. */
static void stats_snapshot(const struct app *a, struct stats_snapshot *s)
{
        memset(s, 0, sizeof(*s));
        s->stream = a->conf.stream;
        s->topic = a->topic;
        s->version = KTP_VERSION;
        s->librdkafka = rd_kafka_version_str();
        /* teardown() closed the output before the files' last write */
        s->up = a->out != NULL;
        s->start_ms = a->st.start_ms;
        s->now_ms = now_ms();
        s->uptime_us = mono_us() - a->st.start_us;
        s->c = *account_counters(&a->acc);
        s->in_flight = output_in_flight(a->out);
        s->in_flight_bytes = output_in_flight_bytes(a->out);
        s->backpressure = a->paused;
        s->backpressure_us = backpressure_us(a);
        s->last_delivery_ms = account_last_delivery_ms(&a->acc);
        s->stalled = a->st.stalled;
        s->latency = account_latency(&a->acc);
        s->peak_rss_kib = peak_rss_kib();
        s->rdkafka_json = a->st.rdkafka_json;
        s->salt_generation = a->salt.generation;
        if ((s->geoip = a->geo != NULL)) {
                struct geoip_counts g;

                geoip_counts(a->geo, &g);
                s->geoip_hits = g.hits;
                s->geoip_misses = g.misses;
                s->geoip_not_found = g.not_found;
        }
        sender_snapshot(a->snd, s);
        if ((s->input_dir = a->in != NULL)) {
                struct indir_counts n;

                indir_counts(a->in, &n);
                s->input_files = n.files;
                s->input_stale = n.stale;
                s->input_bytes = n.bytes;
                s->input_errors = n.errors;
        }
}

/* Failing to write them is said, and is not fatal. */
static void stats_files_write(const struct app *a)
{
        struct stats_snapshot s;

        stats_snapshot(a, &s);
        if (a->conf.stats_file != NULL &&
            stats_write(&s, STATS_JSON, a->conf.stats_file) == -1)
                ktp_log(a, 0, "cannot write stats file %s: %s",
                        a->conf.stats_file, strerror(errno));
        if (a->conf.metrics_file != NULL &&
            stats_write(&s, STATS_PROMETHEUS, a->conf.metrics_file) == -1)
                ktp_log(a, 0, "cannot write metrics file %s: %s",
                        a->conf.metrics_file, strerror(errno));
}

static void stats_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct app *a = w->data;

        (void)loop;
        (void)revents;
        stats_files_write(a);
}

/* An interval of loss reports ends: what its limit left unsaid. */
static void loss_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
        struct app *a = w->data;

        (void)loop;
        (void)revents;
        account_reports_end(&a->acc);
}

static void sigusr1_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
        struct app *a = w->data;
        char line[512];

        (void)loop;
        (void)revents;
        stats_line(account_counters(&a->acc), line, sizeof(line));
        ktp_say(a, 0, PRIO_INFO, "counters: %s in_flight=%lld "
                "backpressure=%d", line,
                (long long)output_in_flight(a->out), a->paused);
}

/* Only there so that the loop does not wait: before_block() works. */
static void more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
        (void)loop;
        (void)w;
        (void)revents;
}

/*
 * Before the loop blocks, after every callback of this turn, delivery
 * reports included: stop after a fatal error (recorded wherever it
 * happened, librdkafka's callbacks included), resume input below the
 * low-water mark, or finish.
 */
static void before_block(struct ev_loop *loop, ev_prepare *w, int revents)
{
        struct app *a = w->data;

        (void)loop;
        (void)revents;
        sender_flush(a->snd); /* what was read is in the spool */
        output_serve(a->out);
        /* a slice of the spool a turn: the loop comes back at once */
        if (!a->fatal && !a->gave_up && sender_drain(a->snd))
                ev_idle_start(a->loop, &a->more_w);
        else
                ev_idle_stop(a->loop, &a->more_w);
        if ((a->fatal || a->out_closed) && !a->fatal_handled) {
                /* Stops reading, or cuts a flush under way short. */
                a->fatal_handled = 1;
                begin_flush(a, SHORT_FLUSH_MS);
        } else if (a->paused && !a->flushing && sender_has_room(a->snd)) {
                pump(a);
        } else if (a->flushing && a->pending != NULL && !a->gave_up &&
                   sender_has_room(a->snd)) {
                send_pending(a);
        }
        if (a->in_state == INPUT_SETTLING)
                input_settle(a);
        check_done(a);
        a->serve_us = 0; /* the next turn reads the clock again */
}

/* --- set-up --------------------------------------------------------------- */

/* A setter of the transform applied to each item of a list. */
struct list_apply {
        struct kt_transform *t;
        int (*fn)(struct kt_transform *t, const char *item);
};

static int add_each(void *arg, const char *item)
{
        const struct list_apply *x = arg;

        return x->fn(x->t, item);
}

static int apply_list(struct kt_transform *t, const char *list,
                      int (*fn)(struct kt_transform *, const char *))
{
        struct list_apply x = { t, fn };

        return conf_each_item(list, add_each, &x);
}

/* key = FIELD names a field; with a placeholder it is a template. */
static int is_template(const char *key)
{
        return strstr(key, "%{") != NULL;
}

/* The transform refused key's rule: its message, after the key. */
static int rule_error(const struct kt_transform *t, const char *key,
                      const char *name, char *err, size_t errlen)
{
        snprintf(err, errlen, "%s%s: %s", key, name != NULL ? name : "",
                 kt_transform_error(t));
        return -1;
}

static int build_rules(struct kt_transform *t, const struct conf *c,
                       char *err, size_t errlen)
{
        const struct {
                const char *key, *list;
                int (*fn)(struct kt_transform *, const char *);
        } lists[] = {
                { "dt.fields", c->dt_fields, kt_transform_add_dt_source },
                { "field.drop", c->drop, kt_transform_drop },
                { "field.keep", c->keep, kt_transform_keep },
                { "field.integer", c->integer, kt_transform_integer },
                { "field.time", c->time, kt_transform_time },
        };
        size_t i;

        for (i = 0; i < sizeof(lists) / sizeof(*lists); i++)
                if (apply_list(t, lists[i].list, lists[i].fn) == -1)
                        return rule_error(t, lists[i].key, NULL, err, errlen);
        for (i = 0; i < c->rename.n; i++)
                if (kt_transform_rename(t, c->rename.v[i].key,
                                        c->rename.v[i].value) == -1)
                        return rule_error(t, "field.rename.",
                                          c->rename.v[i].key, err, errlen);
        for (i = 0; i < c->constant.n; i++)
                if (kt_transform_constant(t, c->constant.v[i].key,
                                          c->constant.v[i].value) == -1)
                        return rule_error(t, "field.const.",
                                          c->constant.v[i].key, err, errlen);
        if (c->key != NULL && !is_template(c->key) &&
            kt_transform_set_key(t, c->key) == -1)
                return rule_error(t, "key", NULL, err, errlen);
        return 0;
}

/* An error at start, placed where its key was set (conf_place()). */
static int start_error(const struct app *a, char *err, size_t errlen)
{
        conf_place(&a->conf, err, errlen);
        ktp_log(NULL, 0, "%s", err);
        return -1;
}

/* The templates' fields, captured in the order of their list. */
static int capture_fields(struct app *a)
{
        size_t i;

        for (i = 0; i < a->rt.fields.n; i++) {
                if (kt_transform_capture(a->tf, a->rt.fields.name[i]) !=
                    (int)i) {
                        ktp_log(NULL, 0, "%s", kt_transform_error(a->tf));
                        return -1;
                }
        }
        return 0;
}

/*
 * The topic, the key template and the headers.  The domain's default,
 * the host name, is set first: %{domain} is the envelope's meta.domain.
 */
static int build_routing(struct app *a, char *err, size_t errlen)
{
        struct conf *c = &a->conf;
        struct route_vars v;

        if (c->domain == NULL &&
            conf_set(c, "domain", stamp_hostname(), err, errlen) == -1)
                return -1;
        conf_route_vars(c, &v);
        if ((a->topic = conf_topic(c, err, errlen)) == NULL ||
            conf_topic_compile(c, &a->rt.topic, &a->rt.fields, err,
                               errlen) == -1)
                return -1;
        if (c->key != NULL && is_template(c->key) &&
            route_compile(&a->rt.key, ROUTE_KEY, "key", c->key, &v,
                          &a->rt.fields, err, errlen) == -1)
                return -1;
        return conf_headers(c, &a->rt.headers, err, errlen);
}

static void routing_free(struct routing *r)
{
        route_tmpl_free(&r->topic);
        route_tmpl_free(&r->key);
        route_fields_free(&r->fields);
        conf_kvlist_free(&r->headers);
        free(r->topic_buf);
        free(r->key_buf);
}

/*
 * sequence: the run's name is its start in UTC, sortable, and 32 bits of
 * the DRBG (a v4 UUID's first eight digits are random) to tell apart two
 * starts in one second.
 */
static int set_sequence(struct app *a)
{
        const struct conf *c = &a->conf;
        time_t now = time(NULL);
        const char *id;
        struct tm tm;
        size_t n;

        if (c->sequence == CONF_OFF)
                return 0;
        if (uuid_pool_next(&a->ids, &id) == -1 ||
            gmtime_r(&now, &tm) == NULL ||
            (n = strftime(a->run, sizeof(a->run), "%Y%m%dT%H%M%SZ-",
                          &tm)) == 0) {
                ktp_log(NULL, 0, "sequence: no run name (randomness, "
                        "clock)");
                return -1;
        }
        snprintf(a->run + n, sizeof(a->run) - n, "%.8s", id);
        return kt_transform_set_sequence(a->tf, c->sequence_field,
                                         c->sequence_run_field, a->run);
}

/*
 * The transform's "sequence: NAME: why" after the key that set NAME, or
 * for both names, the one set.
 */
static int sequence_error(const struct app *a, char *err, size_t errlen)
{
        const char *msg = kt_transform_error(a->tf);
        char run[160];
        size_t n;

        n = (size_t)snprintf(run, sizeof(run), "sequence: %s:",
                             a->conf.sequence_run_field);
        snprintf(err, errlen, "%s: %s", strncmp(msg, run, n) == 0 ||
                 conf_where(&a->conf, "sequence.field") == NULL ?
                 "sequence.run.field" : "sequence.field", msg);
        return start_error(a, err, errlen);
}

/* dt.timezone's zone, or TZ's with local: -1 with a message in err. */
static int set_timezone(const char *zone, char *err, size_t errlen)
{
        size_t len = strlen(zone);
        const char *tz = getenv("TZ");

        if (stamp_set_timezone(zone) == 0)
                return 0;
        if (strcmp(zone, "local") == 0)
                snprintf(err, errlen, "dt.timezone = local: TZ='%s' names "
                         "no time zone (times would be read as UTC): set TZ "
                         "to a zone, or dt.timezone", tz != NULL ? tz : "");
        else if (len >= 2 && zone[0] == '"' && zone[len - 1] == '"')
                snprintf(err, errlen, "dt.timezone: unknown time zone '%s' "
                         "(values are written without quotes: %.*s)", zone,
                         (int)len - 2, zone + 1);
        else
                snprintf(err, errlen, "dt.timezone: unknown time zone '%s'",
                         zone);
        return -1;
}

static int build_transform(struct app *a)
{
        const struct conf *c = &a->conf;
        char err[512];

        if ((a->tf = kt_transform_new()) == NULL) {
                ktp_log(NULL, 0, "out of memory");
                return -1;
        }
        if (set_timezone(c->timezone, err, sizeof(err)) == -1)
                return start_error(a, err, sizeof(err));
        kt_transform_set_timezone(a->tf, stamp_local_to_utc, NULL);
        kt_transform_set_dt_fallback(a->tf, c->dt_fallback ==
                                     CONF_DT_FALLBACK_REJECT ? KT_DT_REJECT
                                                             : KT_DT_INGEST);
        if (kt_transform_set_envelope(a->tf, c->schema, c->stream,
                                      c->domain ? c->domain
                                                : stamp_hostname()) == -1) {
                ktp_log(NULL, 0, "%s", kt_transform_error(a->tf));
                return -1;
        }
        if (set_sequence(a) == -1)
                return sequence_error(a, err, sizeof(err));
        if (build_rules(a->tf, c, err, sizeof(err)) == -1)
                return start_error(a, err, sizeof(err));
        return capture_fields(a);
}

/*
 * error.topic: opened beside the topic, and what every error event
 * shares.  With --stdout the name is still checked, but nothing is
 * produced there: stdout holds the stream's events only.
 */
static int error_events_open(struct app *a, char *err, size_t errlen)
{
        struct errevent_conf *c = &a->errconf;
        char *topic;
        int id = -1;

        a->error_topic = -1;
        if (a->conf.error_topic == NULL)
                return 0;
        if ((topic = conf_error_topic(&a->conf, err, errlen)) == NULL)
                return -1;
        if (!a->to_stdout)
                id = output_topic(a->out, topic, strlen(topic), err, errlen);
        free(topic);
        if (!a->to_stdout && id == -1)
                return -1;
        if (a->conf.error_stream == NULL &&
            asprintf(&a->error_stream, "%s.error", a->conf.stream) == -1) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        c->schema = a->conf.error_schema;
        c->stream = a->conf.error_stream ? a->conf.error_stream
                                         : a->error_stream;
        c->domain = a->conf.domain ? a->conf.domain : stamp_hostname();
        c->emitter_id = KTP_NAME "/" KTP_VERSION;
        c->errored_schema_uri = a->conf.schema;
        c->errored_stream_name = a->conf.stream;
        a->error_topic = id;
        return 0;
}

/* --- the anonymize stage's set-up --------------------------------------- */

/*
 * The input names of an output name's rule, for the raw line of the
 * dead-letter file: the name itself and every name renamed to it.
 */
static int anon_inputs(struct app *a, const char *field, const char *rule,
                       char *err, size_t errlen)
{
        const struct kvlist *rn = &a->conf.rename;
        size_t i;

        if (anon_add(a->anon, ANON_INPUT, field, rule, err, errlen) == -1)
                return -1;
        for (i = 0; i < rn->n; i++) /* renamed away: its new name leaks */
                if (strcmp(rn->v[i].key, field) == 0 &&
                    strcmp(rn->v[i].value, field) != 0) {
                        snprintf(err, errlen, "anonymize.%s: %s is renamed "
                                 "to %s: a rule names the output's field",
                                 field, field, rn->v[i].value);
                        return -1;
                }
        for (i = 0; i < rn->n; i++)
                if (strcmp(rn->v[i].value, field) == 0 &&
                    anon_rule_of(a->anon, ANON_INPUT, rn->v[i].key,
                                 strlen(rn->v[i].key)) < 0 &&
                    anon_add(a->anon, ANON_INPUT, rn->v[i].key, rule, err,
                             errlen) == -1)
                        return -1;
        return 0;
}

/* Whether name is anonymized, by its input or its output name. */
static int anonymized(const struct app *a, const char *name, size_t len)
{
        return anon_rule_of(a->anon, ANON_OUTPUT, name, len) >= 0 ||
               anon_rule_of(a->anon, ANON_INPUT, name, len) >= 0;
}

/*
 * A template that reads an anonymized field would put its real value in
 * Kafka (a topic name, a key, a header): -1, said, for the first.
 */
static int anon_template(const struct app *a, const char *key,
                         const char *tmpl, char *err, size_t errlen)
{
        const char *p = tmpl, *end;

        while (p != NULL && (p = strstr(p, "%{field:")) != NULL) {
                p += 8;
                if ((end = strchr(p, '}')) == NULL)
                        break;
                if (anonymized(a, p, (size_t)(end - p))) {
                        snprintf(err, errlen, "%s: %%{field:%.*s} reads an "
                                 "anonymized field: its real value would "
                                 "reach Kafka", key, (int)(end - p), p);
                        return -1;
                }
        }
        return 0;
}

static int anon_templates(const struct app *a, char *err, size_t errlen)
{
        const struct conf *c = &a->conf;
        size_t i;

        if (c->key != NULL && !is_template(c->key) &&
            anonymized(a, c->key, strlen(c->key))) {
                snprintf(err, errlen, "key: %s is an anonymized field: its "
                         "real value would be the Kafka key", c->key);
                return -1;
        }
        if ((c->topic != NULL &&
             anon_template(a, "topic", c->topic, err, errlen) == -1) ||
            (c->key != NULL &&
             anon_template(a, "key", c->key, err, errlen) == -1))
                return -1;
        for (i = 0; i < c->avro_field.n; i++) {
                char name[300];

                snprintf(name, sizeof(name), "avro.field.%s",
                         c->avro_field.v[i].key);
                if (anon_template(a, name, c->avro_field.v[i].value, err,
                                  errlen) == -1)
                        return -1;
        }
        for (i = 0; i < c->header.n; i++) {
                char name[300];

                snprintf(name, sizeof(name), "header.%s", c->header.v[i].key);
                if (anon_template(a, name, c->header.v[i].value, err,
                                  errlen) == -1)
                        return -1;
        }
        return 0;
}

/* The first salt, lent to the anonymizer. */
static int anon_salt(struct app *a, char *err, size_t errlen)
{
        const char *notice;

        if (salt_open(&a->salt, a->conf.anon_salt_file, &notice, err,
                      errlen) == -1)
                return -1;
        if (notice != NULL)
                ktp_log(a, 1, "%s", notice);
        if ((notice = keymem_notice(keymem_state())) != NULL)
                ktp_log(a, 1, "anonymize: %s", notice);
        if (salt_key(a) == -1) {
                snprintf(err, errlen, "anonymize: out of memory (HMAC)");
                return -1;
        }
        return 0;
}

/*
 * anonymize.FIELD rules: the stage, the checks of the templates, the
 * salt.  Error messages of the transform quote no value from then on
 * (they reach the dead-letter file and stderr).
 */
static int anon_open(struct app *a)
{
        const struct conf *c = &a->conf;
        const struct anon_opts o = {
                .ipv4_prefix = (int)c->anon_ipv4_prefix,
                .ipv6_prefix = (int)c->anon_ipv6_prefix,
                .hash_len = (int)c->anon_hash_length,
                .salt_field = c->anon_salt_field,
        };
        char err[512];
        size_t i;

        if (c->anonymize.n == 0)
                return 0;
        if ((a->anon = anon_new(&o, err, sizeof(err))) == NULL)
                goto fail;
        for (i = 0; i < c->anonymize.n; i++)
                if (anon_add(a->anon, ANON_OUTPUT, c->anonymize.v[i].key,
                             c->anonymize.v[i].value, err,
                             sizeof(err)) == -1 ||
                    anon_inputs(a, c->anonymize.v[i].key,
                                c->anonymize.v[i].value, err,
                                sizeof(err)) == -1)
                        goto fail;
        if (anon_templates(a, err, sizeof(err)) == -1 ||
            (anon_hashes(a->anon) && anon_salt(a, err, sizeof(err)) == -1))
                goto fail;
        kt_transform_set_quote_values(a->tf, 0);
        a->staged = 1;
        return 0;
fail:
        return start_error(a, err, sizeof(err));
}

static int capture_cb(void *arg, const char *field)
{
        return kt_transform_capture(arg, field);
}

/*
 * The encode stage, with encoding = pnda-avro.  After anonymize: the raw
 * line as rawdata would carry the real addresses, so it is refused.
 */
static int app_encoder_open(struct app *a, char *err, size_t errlen)
{
        const struct conf *c = &a->conf;
        const struct avroenc_conf o = {
                .schema_path = c->avro_schema,
                .source = conf_avro_source(c),
                .rawdata = c->avro_rawdata == CONF_AVRO_RAWDATA_RAW ?
                           AVRO_RAWDATA_RAW : AVRO_RAWDATA_EVENT,
                .registry_id = c->avro_registry_id,
                .fields = &c->avro_field,
                .cap = { capture_cb, a->tf },
        };

        if (c->encoding == CONF_ENCODING_JSON) {
                if (c->avro_field.n > 0)
                        ktp_log(a, 1, "avro.field.%s: ignored: encoding is "
                                "json", c->avro_field.v[0].key);
                return 0;
        }
        if (a->anon != NULL && o.rawdata == AVRO_RAWDATA_RAW) {
                snprintf(err, errlen, "avro.rawdata = raw: the input line "
                         "would reach Kafka with the real values of the "
                         "anonymized fields (use event)");
                return -1;
        }
        a->enc = avroenc_open(&o, err, errlen);
        return a->enc != NULL ? 0 : -1;
}

/* The send stage, and its spool when spool.dir is set. */
static int app_sender_open(struct app *a, char *err, size_t errlen)
{
        static const enum spool_sync syncs[] = {
                [CONF_FSYNC_INTERVAL] = SPOOL_SYNC_INTERVAL,
                [CONF_FSYNC_ALWAYS] = SPOOL_SYNC_ALWAYS,
                [CONF_FSYNC_NEVER] = SPOOL_SYNC_NEVER,
        };
        const struct sender_opts o = {
                .spool = {
                        .dir = a->conf.spool_dir,
                        .max_bytes = (uint64_t)a->conf.spool_max_bytes,
                        .segment_bytes =
                                (uint64_t)a->conf.spool_segment_bytes,
                        .sync = syncs[a->conf.spool_fsync],
                },
                .mode = a->conf.spool_mode == CONF_SPOOL_ALWAYS
                                ? SENDER_WRITE_AHEAD : SENDER_OVERFLOW,
                .sync_interval_s = a->conf.spool_fsync_interval_ms / 1000.,
                .high_messages = a->conf.queue_high_messages,
                .high_bytes = a->conf.queue_high_bytes,
        };
        const struct sender_cb cb = {
                .log = module_log, .fatal = module_fatal, .opaque = a,
        };
        const struct sender_links l = {
                .out = a->out, .pool = &a->pool, .acc = &a->acc,
                .loop = a->loop,
        };

        if (a->conf.spool_dir != NULL && a->to_stdout) {
                snprintf(err, errlen, "spool.dir: not with --stdout");
                return -1;
        }
        a->snd = sender_open(&o, &cb, &l, err, errlen);
        return a->snd != NULL ? 0 : -1;
}

/*
 * The enrich stage, when an enrich.* key is set: its names checked, its
 * databases and list opened (a missing one is an error at start).
 */
static int app_enrich_open(struct app *a, char *err, size_t errlen)
{
        const struct conf *c = &a->conf;
        const struct geoip_conf g = { c->enrich_geoip_country,
                                      c->enrich_geoip_asn,
                                      c->enrich_net_file };
        const struct enrich_conf e = {
                c->enrich_fields, { c->enrich_name_country, c->enrich_name_as,
                                    c->enrich_name_as_name,
                                    c->enrich_name_net },
                c->enrich_name_ip_version, { g.country != NULL,
                                             g.asn != NULL, g.asn != NULL,
                                             g.net != NULL } };

        if (!g.country && !g.asn && !g.net && !c->enrich_fields &&
            !e.name[0] && !e.name[1] && !e.name[2] && !e.name[3] &&
            !e.ip_version)
                return 0;
        if (!g.country && !g.asn && !g.net) {
                snprintf(err, errlen, "enrich: no source: set "
                         "enrich.geoip.country, enrich.geoip.asn or "
                         "enrich.net.file");
                return -1;
        }
        if ((a->enrich = enrich_new(&e, err, errlen)) == NULL ||
            (a->geo = geoip_open(&g, err, errlen)) == NULL)
                return -1;
        a->lookup.lookup = geoip_lookup;
        a->lookup.arg = a->geo;
        a->staged = 1;
        return 0;
}

/*
 * The settings as a whole (conf_check()), and the stats and metrics
 * files: a path the writer cannot use fails now, not at every interval.
 */
static int setup_check(struct app *a, char *err, size_t errlen)
{
        char notice[512];
        const struct { const char *key, *path; } files[] = {
                { "stats.file", a->conf.stats_file },
                { "metrics.file", a->conf.metrics_file },
        };
        size_t i;

        if (conf_check(&a->conf, notice, sizeof(notice), err, errlen) == -1) {
                ktp_log(NULL, 0, "%s", err);
                return -1;
        }
        if (notice[0] != '\0')
                ktp_log(a, 1, "%s", notice);
        for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
                if (files[i].path == NULL || stats_check(files[i].path) == 0)
                        continue;
                snprintf(err, errlen, "%s: cannot write %s: %s", files[i].key,
                         files[i].path, strerror(errno));
                return start_error(a, err, errlen);
        }
        return 0;
}

static void indir_log(void *opaque, int level, const char *text)
{
        ktp_log(opaque, level, "%s", text);
}

/* input.dir: opened at start, so that its errors are said before
 * anything runs (exit 1). */
static int input_dir_open(struct app *a, char *err, size_t errlen)
{
        const struct indir_cb cb = { .log = indir_log, .opaque = a };
        char why[400];

        if (a->conf.input_dir == NULL)
                return 0;
        if (a->conf.replay != NULL) {
                snprintf(err, errlen, "input.dir: --replay reads its own "
                         "file: not with input.dir");
                return start_error(a, err, errlen);
        }
        if ((a->in = indir_open(a->conf.input_dir,
                                a->conf.input_dir_quiet_ms,
                                a->conf.input_dir_settle_ms, &cb, why,
                                sizeof(why))) == NULL) {
                snprintf(err, errlen, "input.dir: %s", why);
                return start_error(a, err, errlen);
        }
        a->eof = 1; /* no file yet: see pump() */
        return 0;
}

/* What needs the output: accounting, the output, error events, sender. */
static int setup_output(struct app *a, char *err, size_t errlen)
{
        if (app_account_open(a, err, errlen) == -1 ||
            app_output_open(a, err, errlen) == -1 ||
            error_events_open(a, err, errlen) == -1 ||
            app_sender_open(a, err, errlen) == -1)
                return start_error(a, err, errlen);
        return 0;
}

static int setup(struct app *a)
{
        char err[512];

        a->to_stdout = a->conf.output == CONF_OUTPUT_STDOUT;
        if (!a->to_stdout && !conf_has_brokers(&a->conf)) {
                ktp_log(NULL, 0, "no brokers: use -b, or brokers in the "
                        "config file (or --stdout)");
                return -1;
        }
        if (setup_check(a, err, sizeof(err)) == -1)
                return -1;
        if (build_routing(a, err, sizeof(err)) == -1)
                return start_error(a, err, sizeof(err));
        uuid_pool_init(&a->ids); /* the run's name takes a draw */
        if (build_transform(a) == -1)
                return -1;
        if (app_enrich_open(a, err, sizeof(err)) == -1)
                return start_error(a, err, sizeof(err));
        if (a->conf.schema_dir != NULL &&
            (a->val = validator_open(a->conf.schema_dir, a->conf.schema,
                                     V_MODE_FAST, err, sizeof(err))) == NULL) {
                char msg[600];

                snprintf(msg, sizeof(msg), "schema.dir: %s", err);
                return start_error(a, msg, sizeof(msg));
        }
        if (anon_open(a) == -1)
                return -1;
        if (app_encoder_open(a, err, sizeof(err)) == -1)
                return start_error(a, err, sizeof(err));
        kt_transform_set_index(a->tf, a->val != NULL || a->staged);
        if (a->conf.error_topic != NULL && a->val == NULL) {
                snprintf(err, sizeof(err), "error.topic: error events come "
                         "from validation: set schema.dir");
                return start_error(a, err, sizeof(err));
        }
        if (input_dir_open(a, err, sizeof(err)) == -1)
                return -1;
        /* a record holds the line, its event, and their base64 */
        if (replay_open(a) == -1)
                return -1;
        if (lr_init(&a->lr, a->replay ? (size_t)a->conf.line_max * 8 + 65536
                                      : (size_t)a->conf.line_max) == -1) {
                ktp_log(NULL, 0, "out of memory");
                return -1;
        }
        return setup_output(a, err, sizeof(err));
}

/* --- systemd (notify.c) ------------------------------------------------ */

/* Where the events go, for the status: "producing to BROKERS". */
static const char *app_destination(const struct app *a, char *buf,
                                   size_t len)
{
        if (a->to_stdout)
                return "writing to stdout";
        snprintf(buf, len, "producing to %s",
                 a->conf.brokers != NULL ? a->conf.brokers : "Kafka");
        return buf;
}

/* What is read, for the status: stdin, the replay, input.dir's file. */
static const char *app_input(const struct app *a, char *buf, size_t len)
{
        if (a->replay)
                return a->conf.replay;
        if (a->in == NULL)
                return "stdin";
        if (a->in_state == INPUT_NONE)
                snprintf(buf, len, "%s (waiting for a complete file)",
                         a->conf.input_dir);
        else
                snprintf(buf, len, "%s/%s", a->conf.input_dir,
                         indir_name(a->in));
        return buf;
}

/* notify's status callback: the notable state in a few words. */
static void app_status(void *opaque, char *buf, size_t len)
{
        const struct app *a = opaque;
        long long n = a->out != NULL ? output_in_flight(a->out) : 0;
        char to[200], from[300];
        const char *in = app_input(a, from, sizeof(from));

        if (a->flushing)
                snprintf(buf, len, "flushing: %lld messages in flight", n);
        else if (a->stop == STOP_DRAIN)
                snprintf(buf, len, "signalled: reading stdin until EOF or "
                         "drain.timeout.ms");
        else if (a->brokers_down && a->conf.spool_dir != NULL)
                snprintf(buf, len, "brokers down: spooling to %s",
                         a->conf.spool_dir);
        else if (a->brokers_down)
                snprintf(buf, len, "brokers down: %lld messages in flight", n);
        else if (a->paused)
                snprintf(buf, len, "backpressure: %s paused, %lld "
                         "messages in flight", in, n);
        else if (a->snd != NULL && sender_waiting(a->snd))
                snprintf(buf, len, "sending the spool, reading %s", in);
        else
                snprintf(buf, len, "%s %s, %s", a->replay ? "replaying" :
                         "reading", in, app_destination(a, to, sizeof(to)));
}

/* Under systemd (NOTIFY_SOCKET): READY=1 now, the loop about to run. */
static void app_notify_start(struct app *a)
{
        const struct notify_cb cb = {
                .status = app_status, .log = module_log, .opaque = a,
        };

        a->notify = notify_open(a->loop, &cb);
        if (a->notify == NULL)
                return;
        notify_ready(a->notify);
        if (notify_watchdog_usec(a->notify) > 0)
                ktp_say(a, 2, PRIO_INFO, "systemd: watchdog every %llu ms",
                        notify_watchdog_usec(a->notify) / 1000);
}

static void watchers_start(struct app *a)
{
        ev_io_init(&a->stdin_w, stdin_cb, STDIN_FILENO, EV_READ);
        ev_timer_init(&a->tick_w, tick_cb, 1., 1.);
        ev_timer_init(&a->drain_w, drain_cb, 0., 0.);
        ev_timer_init(&a->flush_w, flush_cb, 0., 0.);
        ev_signal_init(&a->sigint_w, signal_cb, SIGINT);
        ev_signal_init(&a->sigterm_w, signal_cb, SIGTERM);
        ev_signal_init(&a->sighup_w, sighup_cb, SIGHUP);
        ev_signal_init(&a->sigusr1_w, sigusr1_cb, SIGUSR1);
        ev_timer_init(&a->stats_w, stats_cb, a->conf.stats_interval_ms / 1000.,
                      a->conf.stats_interval_ms / 1000.);
        ev_prepare_init(&a->prepare_w, before_block);
        ev_idle_init(&a->more_w, more_cb);
        a->stdin_w.data = a->tick_w.data = a->drain_w.data = a;
        a->flush_w.data = a->sigint_w.data = a->sigterm_w.data = a;
        a->prepare_w.data = a->sighup_w.data = a->sigusr1_w.data = a;
        a->stats_w.data = a;
        if (a->in != NULL) {
                /* the first scan at once, then every input.dir.scan.ms */
                ev_timer_init(&a->scan_w, scan_cb, 0.,
                              a->conf.input_dir_scan_ms / 1000.);
                a->scan_w.data = a;
                ev_timer_start(a->loop, &a->scan_w);
        } else {
                ev_io_start(a->loop, &a->stdin_w);
        }
        ev_timer_start(a->loop, &a->tick_w);
        ev_signal_start(a->loop, &a->sigint_w);
        ev_signal_start(a->loop, &a->sigterm_w);
        ev_signal_start(a->loop, &a->sighup_w);
        ev_signal_start(a->loop, &a->sigusr1_w);
        if (a->conf.stats_file != NULL || a->conf.metrics_file != NULL)
                ev_timer_start(a->loop, &a->stats_w);
        ev_timer_init(&a->loss_w, loss_cb,
                      a->conf.loss_report_interval_ms / 1000.,
                      a->conf.loss_report_interval_ms / 1000.);
        a->loss_w.data = a;
        ev_timer_start(a->loop, &a->loss_w);
        if (a->salt.generation > 0 && a->conf.anon_salt_rotate_s > 0) {
                ev_timer_init(&a->salt_w, salt_cb,
                              (double)a->conf.anon_salt_rotate_s,
                              (double)a->conf.anon_salt_rotate_s);
                a->salt_w.data = a;
                ev_timer_start(a->loop, &a->salt_w);
        }
        a->st.start_us = mono_us();
        a->st.start_ms = now_ms();
        account_idle(&a->acc, a->st.start_us);
        ev_prepare_start(a->loop, &a->prepare_w);
        app_notify_start(a);
}

static int exit_code(const struct app *a)
{
        const struct counters *c = account_counters(&a->acc);

        if (a->fatal)
                return EXIT_FATAL;
        if (c->failed > 0 || c->invalid > 0 || a->unread ||
            c->spool_lost > 0)
                return EXIT_LOST;
        return c->kept > 0 ? EXIT_KEPT : EXIT_DELIVERED;
}

static void summary(const struct app *a, int code)
{
        char line[512];

        /* -q keeps quiet only when there is nothing to say. */
        if (a->conf.verbosity == 0 && code == 0)
                return;
        stats_line(account_counters(&a->acc), line, sizeof(line));
        /* the run's last word: a notice, or a warning of a loss */
        journal_say(code == EXIT_DELIVERED ? PRIO_NOTICE : PRIO_WARNING,
                    "summary: %s exit=%d peak_rss=%lluKiB", line, code,
                    (unsigned long long)peak_rss_kib());
}

static void teardown(struct app *a)
{
        /* kept in the spool while the output knows its topic, or lost */
        drop_pending(a, "never produced: the queue was full until exit");
        /* gives back what had no report: lost, or kept in the spool */
        output_close(a->out);
        a->out = NULL;
        if (sender_finish(a->snd) == -1)
                a->fatal = 1;
        input_finish(a); /* what was read is accounted for, or kept */
        msgpool_free(&a->pool);
        if (a->tf != NULL)
                stats_files_write(a); /* the spool's figures too */
        sender_close(a->snd);
        a->snd = NULL;
        indir_close(a->in);
        a->in = NULL;
        free(a->st.rdkafka_json);
        notify_close(a->notify);
        a->notify = NULL;
        account_reports_end(&a->acc); /* before the summary */
        account_close(&a->acc);
        lr_free(&a->lr);
        dlr_free(&a->dlr);
        ev_editor_free(&a->editor);
        enrich_free(a->enrich);
        geoip_close(a->geo);
        anon_free(a->anon); /* its HMAC key cleansed */
        avroenc_close(a->enc);
        a->anon = NULL;
        salt_close(&a->salt); /* wiped */
        kt_transform_free(a->tf);
        validator_close(a->val);
        free(a->error_stream);
        free(a->topic);
        routing_free(&a->rt);
        conf_free(&a->conf);
}

/*
 * librdkafka frees a whole batch of messages at once: glibc would hand
 * the top of the heap back to the kernel after each batch and fault it
 * in again for the next (1M records: 40k page faults, 6k with these).
 */
static void tune_malloc(void)
{
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD) && defined(M_TOP_PAD)
        mallopt(M_MMAP_THRESHOLD, 4 << 20);
        mallopt(M_TRIM_THRESHOLD, 32 << 20);
        mallopt(M_TOP_PAD, 4 << 20);
#endif
}

/*
 * Run with stdin closed, the next descriptor opened (libev's epoll fd)
 * would be taken for stdin, and libev would abort on it.  Checked before
 * anything is opened; /dev/null keeps the slot until the error is said,
 * after the arguments (--help needs no stdin).
 */
static int stdin_closed(void)
{
        int fd;

        if (fcntl(STDIN_FILENO, F_GETFD) != -1)
                return 0;
        fd = open("/dev/null", O_RDONLY); /* the lowest free: 0 */
        (void)fd;
        return 1;
}

int main(int argc, char **argv)
{
        static struct app app;
        int r, code, no_stdin;

        /* First: OpenSSL takes an allocator only before it allocates. */
        (void)keymem_init();
        if (audit_wanted(argc, argv)) /* another program: no loop, no Kafka */
                return audit_main(argc, argv);
        no_stdin = stdin_closed();
        signal(SIGPIPE, SIG_IGN);
        signal(SIGXFSZ, SIG_IGN); /* a file size limit: EFBIG, said */
        tune_malloc();
        app.loop = ev_default_loop(EVFLAG_AUTO);
        msgpool_init(&app.pool);
        r = cli_load(argc, argv, &app.conf);
        if (r == CLI_RUN && no_stdin && app.conf.input_dir == NULL &&
            (app.conf.replay == NULL || strcmp(app.conf.replay, "-") == 0)) {
                ktp_log(NULL, 0, "standard input is closed: nothing to read");
                r = CLI_ERROR;
        }
        if (r == CLI_RUN)
                r = setup(&app);
        if (r != CLI_RUN) {
                teardown(&app);
                ev_loop_destroy(app.loop);
                return r == CLI_EXIT ? EXIT_DELIVERED : EXIT_USAGE;
        }
        watchers_start(&app);
        ev_run(app.loop, 0);
        output_serve(app.out);
        teardown(&app);
        code = exit_code(&app);
        summary(&app, code);
        ev_loop_destroy(app.loop);
        return code;
}
