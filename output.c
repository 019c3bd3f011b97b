/*
 * output.c: where events go.  Kafka through librdkafka, served from the
 * event loop (its main queue wakes a pipe), or stdout with --stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafkatee-pipe.h"

/* Defaults that do not lose data; -X and kafka.* settings override them. */
static const struct {
        const char *name, *value;
} safe_defaults[] = {
        { "acks", "all" },
        { "enable.idempotence", "true" },
        { "log.queue", "true" },
        { "client.id", KTP_NAME },
};

/* Appended at the tail: what is dead-lettered in bulk keeps input order. */
static void inflight_link(struct app *a, struct msg *m)
{
        m->next = NULL;
        m->prev = a->inflight_tail;
        if (a->inflight_tail != NULL)
                a->inflight_tail->next = m;
        else
                a->inflight = m;
        a->inflight_tail = m;
        a->in_flight++;
        a->in_flight_bytes += (int64_t)(sizeof(*m) + m->room);
}

static void inflight_unlink(struct app *a, struct msg *m)
{
        if (m->prev != NULL)
                m->prev->next = m->next;
        else
                a->inflight = m->next;
        if (m->next != NULL)
                m->next->prev = m->prev;
        else
                a->inflight_tail = m->prev;
        a->in_flight--;
        a->in_flight_bytes -= (int64_t)(sizeof(*m) + m->room);
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                      void *opaque)
{
        struct app *a = opaque;
        struct msg *m = rkm->_private;
        char why[256];

        (void)rk;
        inflight_unlink(a, m);
        if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                app_delivered(a, m, 1, NULL);
                return;
        }
        /* A purged or timed-out request may still have been written. */
        snprintf(why, sizeof(why), "%s%s", rd_kafka_err2str(rkm->err),
                 rd_kafka_message_status(rkm) ==
                 RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED ?
                 " (possibly delivered)" : "");
        app_delivered(a, m, 0, why);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason,
                     void *opaque)
{
        struct app *a = opaque;
        char buf[512];

        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                rd_kafka_fatal_error(rk, buf, sizeof(buf));
                app_fatal(a, buf);
                return;
        }
        /* Brokers come back: librdkafka retries, we keep the records. */
        ktp_log(a, 1, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* librdkafka's own statistics, embedded in the stats file. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        struct app *a = opaque;
        char *copy = strndup(json, len);

        (void)rk;
        if (copy != NULL) {
                free(a->st.rdkafka_json);
                a->st.rdkafka_json = copy;
        }
        return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
        struct app *a = rd_kafka_opaque(rk);

        ktp_log(a, level <= 3 ? 1 : 2, "kafka: %s: %s", fac, buf);
}

static int set_prop(rd_kafka_conf_t *kc, const char *name, const char *value,
                    char *err, size_t errlen)
{
        char msg[512];

        if (rd_kafka_conf_set(kc, name, value, msg, sizeof(msg)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        snprintf(err, errlen, "kafka property %s: %s", name, msg);
        return -1;
}

static rd_kafka_conf_t *kafka_conf(struct app *a, char *err, size_t errlen)
{
        rd_kafka_conf_t *kc = rd_kafka_conf_new();
        size_t i;
        int r = 0;

        for (i = 0; r == 0 && i < sizeof(safe_defaults) /
                                  sizeof(*safe_defaults); i++)
                r = set_prop(kc, safe_defaults[i].name, safe_defaults[i].value,
                             err, errlen);
        if (r == 0 && a->conf.stats_rdkafka) {
                char ms[32];

                snprintf(ms, sizeof(ms), "%lld", a->conf.stats_interval_ms);
                r = set_prop(kc, "statistics.interval.ms", ms, err, errlen);
                rd_kafka_conf_set_stats_cb(kc, stats_cb);
        }
        if (r == 0 && a->conf.brokers != NULL)
                r = set_prop(kc, "bootstrap.servers", a->conf.brokers, err,
                             errlen);
        for (i = 0; r == 0 && i < a->conf.kafka.n; i++)
                r = set_prop(kc, a->conf.kafka.v[i].key,
                             a->conf.kafka.v[i].value, err, errlen);
        if (r == -1) {
                rd_kafka_conf_destroy(kc);
                return NULL;
        }
        rd_kafka_conf_set_opaque(kc, a);
        rd_kafka_conf_set_dr_msg_cb(kc, dr_msg_cb);
        rd_kafka_conf_set_error_cb(kc, error_cb);
        rd_kafka_conf_set_log_cb(kc, log_cb);
        return kc;
}

static void kafka_cb(struct ev_loop *loop, ev_io *w, int revents)
{
        struct app *a = w->data;
        char buf[256];

        (void)loop;
        (void)revents;
        while (read(a->kafka_pipe[0], buf, sizeof(buf)) > 0)
                ;
        output_serve(a);
}

/* librdkafka writes to a pipe when its main queue turns non-empty. */
static int kafka_wakeup(struct app *a, char *err, size_t errlen)
{
        rd_kafka_queue_t *q;

        if (pipe2(a->kafka_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
                snprintf(err, errlen, "pipe: %s", strerror(errno));
                return -1;
        }
        q = rd_kafka_queue_get_main(a->rk);
        rd_kafka_queue_io_event_enable(q, a->kafka_pipe[1], "1", 1);
        rd_kafka_queue_destroy(q);
        /* Logs to the main queue too, so they are printed from our thread. */
        rd_kafka_set_log_queue(a->rk, NULL);
        ev_io_init(&a->kafka_w, kafka_cb, a->kafka_pipe[0], EV_READ);
        a->kafka_w.data = a;
        ev_io_start(a->loop, &a->kafka_w);
        /* The pipe is written only when the queue turns non-empty. */
        output_serve(a);
        return 0;
}

static int kafka_open(struct app *a, char *err, size_t errlen)
{
        rd_kafka_conf_t *kc = kafka_conf(a, err, errlen);
        char msg[512];

        if (kc == NULL)
                return -1;
        if ((a->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, msg,
                                  sizeof(msg))) == NULL) {
                snprintf(err, errlen, "kafka: %s", msg);
                rd_kafka_conf_destroy(kc);
                return -1;
        }
        if ((a->rkt = rd_kafka_topic_new(a->rk, a->topic, NULL)) == NULL) {
                snprintf(err, errlen, "topic %s: %s", a->topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        return kafka_wakeup(a, err, errlen);
}

int output_open(struct app *a, char *err, size_t errlen)
{
        a->kafka_pipe[0] = a->kafka_pipe[1] = -1;
        if (a->to_stdout)
                return 0;
        return kafka_open(a, err, errlen);
}

void output_close(struct app *a)
{
        if (a->to_stdout) {
                output_serve(a);
                return;
        }
        if (a->kafka_pipe[0] != -1)
                ev_io_stop(a->loop, &a->kafka_w);
        if (a->rkt != NULL)
                rd_kafka_topic_destroy(a->rkt);
        if (a->rk != NULL)
                rd_kafka_destroy(a->rk);
        if (a->kafka_pipe[0] != -1) {
                close(a->kafka_pipe[0]);
                close(a->kafka_pipe[1]);
        }
}

/*
 * stdout: an event is delivered once fflush(3) said so; until then it
 * waits in the in-flight list like a Kafka message.
 */
static void stdout_settle(struct app *a);

static int stdout_produce(struct app *a, struct msg *m)
{
        inflight_link(a, m);
        if (fwrite(m->data, 1, m->value_len, stdout) != m->value_len ||
            putchar('\n') == EOF)
                stdout_settle(a);
        return 0;
}

static void stdout_settle(struct app *a)
{
        int ok = fflush(stdout) == 0;
        const char *why = ok ? NULL : strerror(errno);
        struct msg *m;

        while ((m = a->inflight) != NULL) {
                inflight_unlink(a, m);
                app_delivered(a, m, ok, why);
        }
        if (!ok && !a->fatal)
                app_fatal(a, "cannot write to stdout");
}

int output_produce(struct app *a, struct msg *m)
{
        rd_kafka_resp_err_t err;

        if (a->to_stdout)
                return stdout_produce(a, m);
        /* No copy: m->data lives until its delivery report frees it. */
        err = rd_kafka_producev(
                a->rk, RD_KAFKA_V_RKT(a->rkt),
                RD_KAFKA_V_VALUE(m->data, m->value_len),
                RD_KAFKA_V_KEY(m->key_len ? m->data + m->value_len +
                                                    m->raw_len : NULL,
                               m->key_len),
                RD_KAFKA_V_TIMESTAMP(m->timestamp_ms),
                RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                return 1;
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                app_delivered(a, m, 0, rd_kafka_err2str(err));
                return -1;
        }
        inflight_link(a, m);
        return 0;
}

/* Serves delivery reports, errors and logs: never blocks. */
void output_serve(struct app *a)
{
        if (a->to_stdout) {
                if (a->inflight != NULL)
                        stdout_settle(a);
                return;
        }
        if (a->rk == NULL)
                return;
        a->serve_us = mono_us();
        a->serve_ms = now_ms();
        while (rd_kafka_poll(a->rk, 0) > 0)
                ;
        a->serve_us = 0;
}

/* Gives up on what is still queued: each comes back as a failed report. */
void output_purge(struct app *a)
{
        if (a->rk == NULL)
                return;
        rd_kafka_purge(a->rk, RD_KAFKA_PURGE_F_QUEUE |
                                      RD_KAFKA_PURGE_F_INFLIGHT);
}
