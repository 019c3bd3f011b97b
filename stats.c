/*
 * stats.c: the stats and metrics files.  Off the hot path: json-c and
 * stdio are fine here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <json-c/json.h>

#include "kafkatee-pipe.h"

uint64_t mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int bucket_of(uint64_t us)
{
        int exp = 0, b;

        if (us < LAT_SUB)
                return (int)us;
        while ((us >> exp) >= 2 * LAT_SUB)
                exp++;
        /* us >> exp is in [LAT_SUB, 2 * LAT_SUB): the sub-bucket. */
        b = (exp + 1) * LAT_SUB + (int)((us >> exp) - LAT_SUB);
        return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

static uint64_t bucket_top(int b)
{
        int exp = b / LAT_SUB - 1;

        if (b < LAT_SUB)
                return (uint64_t)b;
        return ((uint64_t)(b % LAT_SUB + LAT_SUB + 1) << exp) - 1;
}

void latency_add(struct latency *l, uint64_t us)
{
        l->bucket[bucket_of(us)]++;
        l->count++;
        if (us > l->max_us)
                l->max_us = us;
}

uint64_t latency_quantile(const struct latency *l, double q)
{
        uint64_t want = (uint64_t)(q * (double)l->count + 0.5), seen = 0;
        int b;

        if (l->count == 0)
                return 0;
        if (want < 1)
                want = 1;
        for (b = 0; b < LAT_BUCKETS; b++) {
                seen += l->bucket[b];
                if (seen >= want)
                        return bucket_top(b) < l->max_us ? bucket_top(b)
                                                         : l->max_us;
        }
        return l->max_us;
}

uint64_t peak_rss_kib(void)
{
        struct rusage ru;

        if (getrusage(RUSAGE_SELF, &ru) == -1)
                return 0;
        return (uint64_t)ru.ru_maxrss; /* KiB on Linux */
}

void stats_line(const struct app *a, char *buf, size_t len)
{
        const struct counters *c = &a->c;

        snprintf(buf, len, "read=%llu produced=%llu delivered=%llu "
                 "invalid=%llu failed=%llu skipped=%llu dead_lettered=%llu "
                 "purge_mismatches=%llu",
                 (unsigned long long)c->read, (unsigned long long)c->produced,
                 (unsigned long long)c->delivered,
                 (unsigned long long)c->invalid,
                 (unsigned long long)c->failed,
                 (unsigned long long)c->skipped,
                 (unsigned long long)c->dead_lettered,
                 (unsigned long long)c->purge_mismatches);
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
        json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_time(json_object *o, const char *k, int64_t ms)
{
        char iso[KT_ISO_LEN + 1];

        if (ms <= 0 || kt_format_iso8601(ms, iso) == -1) {
                json_object_object_add(o, k, NULL);
                return;
        }
        json_object_object_add(o, k, json_object_new_string(iso));
}

static json_object *latency_json(const struct latency *l)
{
        json_object *o = json_object_new_object();

        add_u64(o, "count", l->count);
        json_object_object_add(o, "p50", json_object_new_double(
                                   latency_quantile(l, 0.50) / 1000.0));
        json_object_object_add(o, "p90", json_object_new_double(
                                   latency_quantile(l, 0.90) / 1000.0));
        json_object_object_add(o, "p99", json_object_new_double(
                                   latency_quantile(l, 0.99) / 1000.0));
        json_object_object_add(o, "max", json_object_new_double(
                                   l->max_us / 1000.0));
        return o;
}

static void add_counters(json_object *o, const struct counters *c)
{
        add_u64(o, "read", c->read);
        add_u64(o, "produced", c->produced);
        add_u64(o, "delivered", c->delivered);
        add_u64(o, "failed", c->failed);
        add_u64(o, "invalid", c->invalid);
        add_u64(o, "skipped", c->skipped);
        add_u64(o, "dead_lettered", c->dead_lettered);
        add_u64(o, "purge_mismatches", c->purge_mismatches);
}

static json_object *stats_json(const struct app *a)
{
        json_object *o = json_object_new_object(), *rk;
        const struct stats_state *s = &a->st;

        add_time(o, "time", now_ms());
        json_object_object_add(o, "stream",
                               json_object_new_string(a->conf.stream));
        json_object_object_add(o, "topic", json_object_new_string(a->topic));
        json_object_object_add(o, "uptime_s", json_object_new_double(
                (double)(mono_us() - s->start_us) / 1e6));
        add_counters(o, &a->c);
        json_object_object_add(o, "in_flight",
                               json_object_new_int64(output_in_flight(a->out)));
        json_object_object_add(o, "in_flight_bytes",
                               json_object_new_int64(
                                       output_in_flight_bytes(a->out)));
        json_object_object_add(o, "backpressure",
                               json_object_new_boolean(a->paused));
        json_object_object_add(o, "backpressure_s", json_object_new_double(
                (double)backpressure_us(a) / 1e6));
        add_time(o, "last_delivery", s->last_delivery_ms);
        json_object_object_add(o, "stalled",
                               json_object_new_boolean(s->stalled));
        json_object_object_add(o, "latency_ms", latency_json(&s->latency));
        add_u64(o, "peak_rss_kib", peak_rss_kib());
        if (s->rdkafka_json != NULL &&
            (rk = json_tokener_parse(s->rdkafka_json)) != NULL)
                json_object_object_add(o, "rdkafka", rk);
        return o;
}

/* Writes text to path through a temporary file and rename(2). */
static int write_atomic(const char *path, const char *text)
{
        char tmp[4096];
        FILE *fp;
        int ok;

        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
                return -1;
        if ((fp = fopen(tmp, "w")) == NULL)
                return -1;
        ok = fputs(text, fp) != EOF;
        ok = fclose(fp) == 0 && ok;
        if (!ok || rename(tmp, path) == -1) {
                remove(tmp);
                return -1;
        }
        return 0;
}

static int write_stats(const struct app *a)
{
        json_object *o = stats_json(a);
        char *text;
        int r = -1;
        const char *s = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

        if ((text = malloc(strlen(s) + 2)) != NULL) {
                sprintf(text, "%s\n", s);
                r = write_atomic(a->conf.stats_file, text);
                free(text);
        }
        json_object_put(o);
        return r;
}

/* One metric: HELP, TYPE and the sample with the instance's labels. */
static void metric(FILE *fp, const struct app *a, const char *name,
                   const char *type, const char *help, double v)
{
        fprintf(fp, "# HELP kafkatee_pipe_%s %s\n# TYPE kafkatee_pipe_%s %s\n"
                "kafkatee_pipe_%s{stream=\"%s\",topic=\"%s\"} %.17g\n", name,
                help, name, type, name, a->conf.stream, a->topic, v);
}

static void metric_counters(FILE *fp, const struct app *a)
{
        const struct counters *c = &a->c;

        metric(fp, a, "read_total", "counter", "Lines read from stdin.",
               (double)c->read);
        metric(fp, a, "produced_total", "counter",
               "Events handed to the output.", (double)c->produced);
        metric(fp, a, "delivered_total", "counter",
               "Events acknowledged by Kafka.", (double)c->delivered);
        metric(fp, a, "failed_total", "counter",
               "Events whose delivery failed.", (double)c->failed);
        metric(fp, a, "invalid_total", "counter",
               "Lines that were not a valid record.", (double)c->invalid);
        metric(fp, a, "skipped_total", "counter",
               "Blank lines and pmacct markers.", (double)c->skipped);
        metric(fp, a, "dead_lettered_total", "counter",
               "Records written to the dead-letter file.",
               (double)c->dead_lettered);
        metric(fp, a, "purge_mismatches_total", "counter",
               "pmacct purges whose count differs from what was read.",
               (double)c->purge_mismatches);
}

static void metric_latency(FILE *fp, const struct app *a)
{
        static const double qs[] = { 0.5, 0.9, 0.99 };
        const struct latency *l = &a->st.latency;
        size_t i;

        fprintf(fp, "# HELP kafkatee_pipe_delivery_latency_seconds From "
                "reading a line to its delivery report.\n"
                "# TYPE kafkatee_pipe_delivery_latency_seconds summary\n");
        for (i = 0; i < sizeof(qs) / sizeof(*qs); i++)
                fprintf(fp, "kafkatee_pipe_delivery_latency_seconds{stream="
                        "\"%s\",topic=\"%s\",quantile=\"%g\"} %.6f\n",
                        a->conf.stream, a->topic, qs[i],
                        latency_quantile(l, qs[i]) / 1e6);
        fprintf(fp, "kafkatee_pipe_delivery_latency_seconds_count{stream="
                "\"%s\",topic=\"%s\"} %llu\n", a->conf.stream, a->topic,
                (unsigned long long)l->count);
}

static int write_metrics(const struct app *a)
{
        char *text = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&text, &len);
        int r;

        if (fp == NULL)
                return -1;
        metric_counters(fp, a);
        metric(fp, a, "in_flight", "gauge",
               "Events produced and not yet reported.", 
               (double)output_in_flight(a->out));
        metric(fp, a, "backpressure_seconds_total", "counter",
               "Time stdin was not read because Kafka was behind.",
               (double)backpressure_us(a) / 1e6);
        metric(fp, a, "last_delivery_timestamp_seconds", "gauge",
               "When the last delivery report arrived.",
               (double)a->st.last_delivery_ms / 1000.0);
        metric(fp, a, "stalled", "gauge",
               "1 when records wait but nothing was delivered for "
               "stall.timeout.ms.", a->st.stalled);
        metric_latency(fp, a);
        fclose(fp);
        r = text == NULL ? -1 : write_atomic(a->conf.metrics_file, text);
        free(text);
        return r;
}

int stats_write(struct app *a)
{
        int r = 0;

        if (a->conf.stats_file != NULL && write_stats(a) == -1) {
                ktp_log(a, 0, "cannot write stats file %s: %s",
                        a->conf.stats_file, strerror(errno));
                r = -1;
        }
        if (a->conf.metrics_file != NULL && write_metrics(a) == -1) {
                ktp_log(a, 0, "cannot write metrics file %s: %s",
                        a->conf.metrics_file, strerror(errno));
                r = -1;
        }
        return r;
}
