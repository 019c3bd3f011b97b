/*
 * stats.c: the stats and metrics files.  Off the hot path: json-c and
 * stdio are fine here.  Sees only the snapshot the program hands it.
 */
#include <errno.h>
#include <math.h> /* isfinite() */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "stats.h"
#include "isotime.h" /* kt_format_iso8601() */

static const double quantiles[] = { 0.5, 0.9, 0.99 };
#define N_QUANTILES (sizeof(quantiles) / sizeof(*quantiles))

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
        l->sum_us += us;
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

void stats_line(const struct counters *c, char *buf, size_t len)
{
        int n = snprintf(buf, len, "read=%llu produced=%llu delivered=%llu "
                         "invalid=%llu failed=%llu skipped=%llu "
                         "dead_lettered=%llu purge_mismatches=%llu",
                         (unsigned long long)c->read,
                         (unsigned long long)c->produced,
                         (unsigned long long)c->delivered,
                         (unsigned long long)c->invalid,
                         (unsigned long long)c->failed,
                         (unsigned long long)c->skipped,
                         (unsigned long long)c->dead_lettered,
                         (unsigned long long)c->purge_mismatches);

        if (n < 0 || (size_t)n >= len ||
            c->spooled + c->carried + c->kept + c->spool_lost == 0)
                return; /* the spool's only when it had any */
        snprintf(buf + n, len - (size_t)n, " spooled=%llu replayed=%llu "
                 "carried=%llu kept=%llu spool_lost=%llu",
                 (unsigned long long)c->spooled,
                 (unsigned long long)c->replayed,
                 (unsigned long long)c->carried,
                 (unsigned long long)c->kept,
                 (unsigned long long)c->spool_lost);
}

/* --- the JSON stats file ------------------------------------------------ */

static void add_u64(json_object *o, const char *k, uint64_t v)
{
        json_object_object_add(o, k, json_object_new_uint64(v));
}

/*
 * A figure with a fraction: six decimals (every figure here comes from
 * microseconds or milliseconds), trailing zeros cut: 2.498198, not
 * json-c's 2.4981979999999999 (%.17g), nor 6.8e-05 (%g).  A whole number
 * has no point.  Returns the length.
 */
static size_t fixed(char *buf, size_t len, double v)
{
        size_t n = (size_t)snprintf(buf, len, "%.6f", v);

        if (n >= len || strchr(buf, '.') == NULL)
                return n < len ? n : len - 1;
        while (buf[n - 1] == '0')
                buf[--n] = '\0';
        if (buf[n - 1] == '.')
                buf[--n] = '\0';
        return n;
}

/* In JSON a whole number keeps ".0": a reader that guesses types from
 * the first value still sees a fraction. */
static json_object *new_double(double v)
{
        char text[64];

        if (!isfinite(v))
                return NULL; /* JSON has no NaN: null */
        fixed(text, sizeof(text) - 2, v);
        if (strchr(text, '.') == NULL)
                strcat(text, ".0");
        return json_object_new_double_s(v, text);
}

static void add_double(json_object *o, const char *k, double v)
{
        json_object_object_add(o, k, new_double(v));
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

static void add_string(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, v != NULL ? json_object_new_string(v)
                                                : NULL);
}

/* In milliseconds; no latency yet has no quantiles: null, not 0. */
static json_object *latency_json(const struct latency *l)
{
        static const char *const names[N_QUANTILES] = { "p50", "p90", "p99" };
        json_object *o = json_object_new_object();
        size_t i;

        add_u64(o, "count", l->count);
        add_double(o, "sum", (double)l->sum_us / 1000.0);
        for (i = 0; i < N_QUANTILES; i++)
                json_object_object_add(o, names[i], l->count == 0 ? NULL :
                        new_double((double)latency_quantile(
                                l, quantiles[i]) / 1000.0));
        json_object_object_add(o, "max", l->count == 0 ? NULL :
                new_double((double)l->max_us / 1000.0));
        return o;
}

/*
 * The counters, in the order both files list them: NAME in the JSON
 * file, NAME_total in Prometheus', with its help text.
 */
static const struct {
        const char *name;
        size_t      offset;
        const char *help;
} counter_fields[] = {
#define COUNTER(n, f, h) { n, offsetof(struct counters, f), h }
        COUNTER("read", read, "Lines read from stdin."),
        COUNTER("produced", produced, "Events handed to the output."),
        COUNTER("delivered", delivered, "Events acknowledged by Kafka."),
        COUNTER("failed", failed, "Events whose delivery failed."),
        COUNTER("invalid", invalid, "Lines that were not a valid record."),
        COUNTER("skipped", skipped, "Blank lines and pmacct markers."),
        COUNTER("dead_lettered", dead_lettered,
                "Records written to the dead-letter file."),
        COUNTER("purge_mismatches", purge_mismatches,
                "pmacct purges whose count differs from what was read."),
        COUNTER("schema_invalid", schema_invalid,
                "Events the schema refused (counted in invalid too)."),
        COUNTER("error_events_produced", error_produced,
                "Error events handed to the output (error.topic)."),
        COUNTER("error_events_delivered", error_delivered,
                "Error events acknowledged by Kafka."),
        COUNTER("error_events_failed", error_failed,
                "Error events whose delivery failed."),
        COUNTER("spooled", spooled, "Events written to the spool."),
        COUNTER("replayed", replayed, "Events sent from the spool (each once)."),
        COUNTER("carried", carried,
                "Events an earlier run left in the spool."),
        COUNTER("kept", kept, "Events left in the spool for the next run."),
        COUNTER("spool_lost", spool_lost,
                "Spool frames found cut short or spoilt."),
#undef COUNTER
};

#define N_COUNTERS (sizeof(counter_fields) / sizeof(*counter_fields))

static uint64_t counter_at(const struct counters *c, size_t i)
{
        uint64_t v;

        memcpy(&v, (const char *)c + counter_fields[i].offset, sizeof(v));
        return v;
}

static void add_counters(json_object *o, const struct counters *c)
{
        size_t i;

        for (i = 0; i < N_COUNTERS; i++)
                add_u64(o, counter_fields[i].name, counter_at(c, i));
}

static json_object *spool_json(const struct stats_snapshot *s)
{
        json_object *o = json_object_new_object();

        add_u64(o, "bytes", s->spool_bytes);
        add_u64(o, "events", s->spool_events);
        add_double(o, "oldest_age_s", s->spool_oldest_age_s);
        return o;
}

static json_object *input_dir_json(const struct stats_snapshot *s)
{
        json_object *o = json_object_new_object();

        add_u64(o, "files", s->input_files);
        add_u64(o, "stale", s->input_stale);
        add_u64(o, "bytes", s->input_bytes);
        add_u64(o, "errors", s->input_errors);
        return o;
}

static json_object *stats_json(const struct stats_snapshot *s)
{
        json_object *o = json_object_new_object(), *rk;

        add_time(o, "time", s->now_ms);
        json_object_object_add(o, "stream", json_object_new_string(s->stream));
        json_object_object_add(o, "topic", json_object_new_string(s->topic));
        add_string(o, "version", s->version);
        add_string(o, "librdkafka", s->librdkafka);
        json_object_object_add(o, "up", json_object_new_boolean(s->up));
        add_time(o, "start_time", s->start_ms);
        add_double(o, "uptime_s", (double)s->uptime_us / 1e6);
        add_counters(o, &s->c);
        json_object_object_add(o, "in_flight",
                               json_object_new_int64(s->in_flight));
        json_object_object_add(o, "in_flight_bytes",
                               json_object_new_int64(s->in_flight_bytes));
        json_object_object_add(o, "backpressure",
                               json_object_new_boolean(s->backpressure));
        add_double(o, "backpressure_s", (double)s->backpressure_us / 1e6);
        add_time(o, "last_delivery", s->last_delivery_ms);
        json_object_object_add(o, "stalled",
                               json_object_new_boolean(s->stalled));
        json_object_object_add(o, "latency_ms", latency_json(s->latency));
        add_u64(o, "peak_rss_kib", s->peak_rss_kib);
        if (s->spool)
                json_object_object_add(o, "spool", spool_json(s));
        if (s->input_dir)
                json_object_object_add(o, "input_dir", input_dir_json(s));
        if (s->salt_generation > 0)
                add_u64(o, "salt_generation", s->salt_generation);
        if (s->geoip) {
                add_u64(o, "geoip_cache_hits", s->geoip_hits);
                add_u64(o, "geoip_cache_misses", s->geoip_misses);
                add_u64(o, "geoip_not_found", s->geoip_not_found);
        }
        if (s->rdkafka_json != NULL &&
            (rk = json_tokener_parse(s->rdkafka_json)) != NULL)
                json_object_object_add(o, "rdkafka", rk);
        return o;
}

static int render_json(const struct stats_snapshot *s, FILE *fp)
{
        json_object *o = stats_json(s);
        int r = fprintf(fp, "%s\n", json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

        json_object_put(o);
        return r < 0 ? -1 : 0;
}

/* --- the Prometheus text format ----------------------------------------- */

/* A label value, escaped as the text exposition format wants. */
static void put_label_value(FILE *fp, const char *v)
{
        for (; *v != '\0'; v++) {
                if (*v == '\\' || *v == '"')
                        fprintf(fp, "\\%c", *v);
                else if (*v == '\n')
                        fputs("\\n", fp);
                else
                        fputc(*v, fp);
        }
}

/* "NAME{stream="...",topic="..."": the caller closes the braces. */
static void put_series(FILE *fp, const struct stats_snapshot *s,
                       const char *name)
{
        fprintf(fp, "kafkatee_pipe_%s{stream=\"", name);
        put_label_value(fp, s->stream);
        fputs("\",topic=\"", fp);
        put_label_value(fp, s->topic);
        fputc('"', fp);
}

static void put_help(FILE *fp, const char *name, const char *type,
                     const char *help)
{
        fprintf(fp, "# HELP kafkatee_pipe_%s %s\n"
                "# TYPE kafkatee_pipe_%s %s\n", name, help, name, type);
}

/* One metric: HELP, TYPE and the sample with the instance's labels. */
static void metric(FILE *fp, const struct stats_snapshot *s, const char *name,
                   const char *type, const char *help, double v)
{
        char text[64];

        fixed(text, sizeof(text), v);
        put_help(fp, name, type, help);
        put_series(fp, s, name);
        fprintf(fp, "} %s\n", text);
}

/* A whole number, exact whatever its size (a double holds 2^53). */
static void metric_u64(FILE *fp, const struct stats_snapshot *s,
                       const char *name, const char *type, const char *help,
                       uint64_t v)
{
        put_help(fp, name, type, help);
        put_series(fp, s, name);
        fprintf(fp, "} %llu\n", (unsigned long long)v);
}

static void metric_counters(FILE *fp, const struct stats_snapshot *s)
{
        char name[64];
        size_t i;

        for (i = 0; i < N_COUNTERS; i++) {
                snprintf(name, sizeof(name), "%s_total",
                         counter_fields[i].name);
                metric_u64(fp, s, name, "counter", counter_fields[i].help,
                           counter_at(&s->c, i));
        }
}

/*
 * What is running: up (0 in the file the run leaves behind), since when
 * (as process_start_time_seconds), and which build, as an _info metric:
 * the version and librdkafka's as labels, the value 1.
 */
static void metric_process(FILE *fp, const struct stats_snapshot *s)
{
        metric(fp, s, "up", "gauge", "1 while the pipe runs; 0 in the last "
               "write, at exit.", s->up);
        metric(fp, s, "start_time_seconds", "gauge", "When the pipe "
               "started, in seconds since the epoch.",
               (double)s->start_ms / 1000.0);
        put_help(fp, "build_info", "gauge", "The versions of kafkatee-pipe "
                 "and of librdkafka, as labels; always 1.");
        put_series(fp, s, "build_info");
        fputs(",version=\"", fp);
        put_label_value(fp, s->version != NULL ? s->version : "");
        fputs("\",librdkafka=\"", fp);
        put_label_value(fp, s->librdkafka != NULL ? s->librdkafka : "");
        fputs("\"} 1\n", fp);
}

static void metric_memory(FILE *fp, const struct stats_snapshot *s)
{
        metric_u64(fp, s, "peak_rss_bytes", "gauge", "The most memory the "
                   "process held (its peak resident set).",
                   s->peak_rss_kib * 1024);
}

/*
 * A summary: quantiles, _sum and _count.  Before the first delivery the
 * quantiles are NaN (the convention), not 0, which would read as fast.
 */
static void metric_latency(FILE *fp, const struct stats_snapshot *s)
{
        static const char name[] = "delivery_latency_seconds";
        const struct latency *l = s->latency;
        char text[64];
        size_t i;

        fprintf(fp, "# HELP kafkatee_pipe_%s From reading a line to its "
                "delivery report.\n# TYPE kafkatee_pipe_%s summary\n",
                name, name);
        for (i = 0; i < N_QUANTILES; i++) {
                put_series(fp, s, name);
                fprintf(fp, ",quantile=\"%g\"}", quantiles[i]);
                if (l->count == 0)
                        fputs(" NaN\n", fp);
                else {
                        fixed(text, sizeof(text), (double)latency_quantile(
                                l, quantiles[i]) / 1e6);
                        fprintf(fp, " %s\n", text);
                }
        }
        put_series(fp, s, "delivery_latency_seconds_sum");
        fixed(text, sizeof(text), (double)l->sum_us / 1e6);
        fprintf(fp, "} %s\n", text);
        put_series(fp, s, "delivery_latency_seconds_count");
        fprintf(fp, "} %llu\n", (unsigned long long)l->count);
}

static void metric_spool(FILE *fp, const struct stats_snapshot *s)
{
        metric(fp, s, "spool_bytes", "gauge",
               "Bytes of the spool's segment files.", (double)s->spool_bytes);
        metric(fp, s, "spool_events", "gauge",
               "Events in the spool, not yet delivered.",
               (double)s->spool_events);
        metric(fp, s, "spool_oldest_age_seconds", "gauge",
               "Age of the oldest segment holding an event not yet "
               "delivered.", s->spool_oldest_age_s);
}

static void metric_geoip(FILE *fp, const struct stats_snapshot *s)
{
        metric(fp, s, "geoip_cache_hits_total", "counter",
               "Enrich lookups answered from the cache.",
               (double)s->geoip_hits);
        metric(fp, s, "geoip_cache_misses_total", "counter",
               "Enrich lookups that asked the databases and the list.",
               (double)s->geoip_misses);
        metric(fp, s, "geoip_not_found_total", "counter",
               "Enrich lookups no source knew anything of.",
               (double)s->geoip_not_found);
}

static void metric_input_dir(FILE *fp, const struct stats_snapshot *s)
{
        metric_u64(fp, s, "input_files_total", "counter",
                   "Files of input.dir taken.", s->input_files);
        metric_u64(fp, s, "input_files_stale_total", "counter",
                   "Files of input.dir taken without a purge_close, once "
                   "input.dir.quiet.ms had passed.", s->input_stale);
        metric_u64(fp, s, "input_bytes_total", "counter",
                   "Bytes read from the files of input.dir.", s->input_bytes);
        metric_u64(fp, s, "input_file_errors_total", "counter",
                   "Files of input.dir that could not be opened or removed.",
                   s->input_errors);
}

static int render_prometheus(const struct stats_snapshot *s, FILE *fp)
{
        metric_process(fp, s);
        metric_counters(fp, s);
        if (s->salt_generation > 0)
                metric(fp, s, "salt_generation", "gauge",
                       "The anonymize salt's generation: 1, then one more "
                       "a rotation.", (double)s->salt_generation);
        if (s->geoip)
                metric_geoip(fp, s);
        if (s->input_dir)
                metric_input_dir(fp, s);
        metric(fp, s, "in_flight", "gauge",
               "Events produced and not yet reported.", (double)s->in_flight);
        metric(fp, s, "in_flight_bytes", "gauge", "Bytes of the events "
               "produced and not yet reported.", (double)s->in_flight_bytes);
        metric(fp, s, "backpressure", "gauge", "1 while stdin is not read "
               "because Kafka is behind.", s->backpressure != 0);
        metric(fp, s, "backpressure_seconds_total", "counter",
               "Time stdin was not read because Kafka was behind.",
               (double)s->backpressure_us / 1e6);
        metric(fp, s, "last_delivery_timestamp_seconds", "gauge",
               "When the last delivery report arrived.",
               (double)s->last_delivery_ms / 1000.0);
        metric(fp, s, "stalled", "gauge",
               "1 when records wait but nothing was delivered for "
               "stall.timeout.ms.", s->stalled);
        metric_latency(fp, s);
        metric_memory(fp, s);
        if (s->spool)
                metric_spool(fp, s);
        return ferror(fp) ? -1 : 0;
}

/* --- the files ------------------------------------------------------------ */

int stats_render(const struct stats_snapshot *s, enum stats_format f,
                 FILE *fp)
{
        switch (f) {
        case STATS_JSON:
                return render_json(s, fp);
        case STATS_PROMETHEUS:
                return render_prometheus(s, fp);
        }
        return -1;
}

int stats_check(const char *path)
{
        char tmp[4096];
        struct stat st;
        FILE *fp;

        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
            sizeof(tmp)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                errno = EISDIR;
                return -1;
        }
        if ((fp = fopen(tmp, "w")) == NULL)
                return -1;
        fclose(fp);
        remove(tmp);
        return 0;
}

int stats_write(const struct stats_snapshot *s, enum stats_format f,
                const char *path)
{
        char tmp[4096];
        FILE *fp;
        int ok, saved;

        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >=
            sizeof(tmp)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        if ((fp = fopen(tmp, "w")) == NULL)
                return -1;
        ok = stats_render(s, f, fp) == 0;
        ok = fclose(fp) == 0 && ok;
        if (ok && rename(tmp, path) == 0)
                return 0;
        saved = errno;
        remove(tmp);
        errno = saved;
        return -1;
}
