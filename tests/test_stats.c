/*
 * test_stats.c: the latency summary and both renderings of a snapshot,
 * without the file system.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

static struct latency *latency_new(void)
{
        struct latency *l = calloc(1, sizeof(*l));

        assert_non_null(l);
        return l;
}

/* The rendering of s in f, as one string to free. */
static char *render(const struct stats_snapshot *s, enum stats_format f)
{
        char *text = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&text, &len);

        assert_non_null(fp);
        assert_int_equal(stats_render(s, f, fp), 0);
        assert_int_equal(fclose(fp), 0);
        assert_non_null(text);
        return text;
}

static int count_lines(const char *s)
{
        int n = 0;

        for (; (s = strchr(s, '\n')) != NULL; s++)
                n++;
        return n;
}

/* A snapshot whose every figure is known, for exact renderings. */
static void known_snapshot(struct stats_snapshot *s, struct latency *l)
{
        static const struct counters c = {
                .read = 10, .produced = 7, .delivered = 6, .failed = 1,
                .invalid = 2, .skipped = 1, .dead_lettered = 3,
                .schema_invalid = 1, .error_produced = 1,
                .error_delivered = 1,
        };
        int i;

        for (i = 0; i < 6; i++)
                latency_add(l, 2000);
        memset(s, 0, sizeof(*s));
        s->stream = "netflow";
        s->topic = "eqiad.netflow";
        s->version = "0.1.0";
        s->librdkafka = "2.0.2";
        s->up = 1;
        s->start_ms = 1795422742623; /* 90.5 s ago */
        s->now_ms = 1795422833123;
        s->uptime_us = 90500000;
        s->c = c;
        s->in_flight = 2;
        s->in_flight_bytes = 1024;
        s->backpressure = 1;
        s->backpressure_us = 2498198; /* %.17g: 2.4981979999999999 */
        s->last_delivery_ms = 1795422833000;
        s->latency = l;
        s->peak_rss_kib = 6756;
        s->rdkafka_json = "{\"type\":\"producer\"}";
}

/* Below 8 us a bucket per microsecond; above, within 1/8 of the value. */
static void test_bucket_bounds(void **state)
{
        uint64_t v, q;

        (void)state;
        for (v = 0; v < (UINT64_C(1) << 36); v = v < 64 ? v + 1 : v * 9 / 8) {
                struct latency *l = latency_new();

                latency_add(l, v);
                latency_add(l, UINT64_C(1) << 40); /* a larger maximum */
                q = latency_quantile(l, 0.5);
                if (v < LAT_SUB)
                        assert_int_equal(q, v);
                assert_true(q >= v);
                assert_true(q <= v + v / LAT_SUB);
                free(l);
        }
}

static void test_quantiles_of_a_uniform_spread(void **state)
{
        struct latency *l = latency_new();
        uint64_t v, p50, p90, p99;

        (void)state;
        for (v = 1; v <= 1000; v++)
                latency_add(l, v);
        p50 = latency_quantile(l, 0.5);
        p90 = latency_quantile(l, 0.9);
        p99 = latency_quantile(l, 0.99);
        assert_true(p50 >= 500 && p50 <= 500 + 500 / LAT_SUB);
        assert_true(p90 >= 900 && p90 <= 900 + 900 / LAT_SUB);
        assert_true(p99 >= 990 && p99 <= 1000);
        assert_int_equal(latency_quantile(l, 1.0), 1000);
        assert_int_equal(l->max_us, 1000);
        assert_int_equal(l->count, 1000);
        assert_int_equal(l->sum_us, 500500);
        free(l);
}

/* Past the last bucket: counted there, and never above the maximum. */
static void test_beyond_the_last_bucket(void **state)
{
        struct latency *l = latency_new();
        uint64_t huge = UINT64_C(1) << 50;

        (void)state;
        latency_add(l, huge);
        assert_int_equal(l->bucket[LAT_BUCKETS - 1], 1);
        assert_true(latency_quantile(l, 0.99) <= huge);
        assert_int_equal(l->sum_us, huge);
        free(l);
}

static void test_empty_latency(void **state)
{
        struct latency *l = latency_new();
        struct stats_snapshot s;
        char *text;

        (void)state;
        known_snapshot(&s, l);
        memset(l, 0, sizeof(*l));
        assert_int_equal(latency_quantile(l, 0.5), 0);
        text = render(&s, STATS_PROMETHEUS);
        assert_non_null(strstr(text,
                "kafkatee_pipe_delivery_latency_seconds{stream=\"netflow\","
                "topic=\"eqiad.netflow\",quantile=\"0.99\"} NaN\n"));
        assert_non_null(strstr(text,
                "kafkatee_pipe_delivery_latency_seconds_sum{stream="
                "\"netflow\",topic=\"eqiad.netflow\"} 0\n"));
        free(text);
        text = render(&s, STATS_JSON);
        assert_non_null(strstr(text, "\"latency_ms\":{\"count\":0,"
                "\"sum\":0.0,\"p50\":null,\"p90\":null,\"p99\":null,"
                "\"max\":null}"));
        free(text);
        free(l);
}

/* The text exposition format: \\, \" and \n inside a label value. */
static void test_label_escaping(void **state)
{
        struct latency *l = latency_new();
        struct stats_snapshot s;
        char *text;

        (void)state;
        known_snapshot(&s, l);
        s.stream = "a\"b\\c";
        s.topic = "line\nbreak";
        text = render(&s, STATS_PROMETHEUS);
        assert_non_null(strstr(text, "\nkafkatee_pipe_read_total{stream="
                "\"a\\\"b\\\\c\",topic=\"line\\nbreak\"} 10\n"));
        assert_non_null(strstr(text, "\nkafkatee_pipe_delivery_latency_"
                "seconds{stream=\"a\\\"b\\\\c\",topic=\"line\\nbreak\","
                "quantile=\"0.5\"} 0.002\n"));
        /* No raw newline left in a value: as many lines as without. */
        assert_int_equal(count_lines(text), 88);
        free(text);
        text = render(&s, STATS_JSON);
        assert_non_null(strstr(text, "\"stream\":\"a\\\"b\\\\c\","
                "\"topic\":\"line\\nbreak\""));
        free(text);
        free(l);
}

static const char expected_prometheus[] =
"# HELP kafkatee_pipe_up 1 while the pipe runs; 0 in the last write, at "
"exit.\n"
"# TYPE kafkatee_pipe_up gauge\n"
"kafkatee_pipe_up{stream=\"netflow\",topic=\"eqiad.netflow\"} 1\n"
"# HELP kafkatee_pipe_start_time_seconds When the pipe started, in seconds "
"since the epoch.\n"
"# TYPE kafkatee_pipe_start_time_seconds gauge\n"
"kafkatee_pipe_start_time_seconds{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 1795422742.623\n"
"# HELP kafkatee_pipe_build_info The versions of kafkatee-pipe and of "
"librdkafka, as labels; always 1.\n"
"# TYPE kafkatee_pipe_build_info gauge\n"
"kafkatee_pipe_build_info{stream=\"netflow\",topic=\"eqiad.netflow\","
"version=\"0.1.0\",librdkafka=\"2.0.2\"} 1\n"
"# HELP kafkatee_pipe_read_total Lines read from stdin.\n"
"# TYPE kafkatee_pipe_read_total counter\n"
"kafkatee_pipe_read_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 10\n"
"# HELP kafkatee_pipe_produced_total Events handed to the output.\n"
"# TYPE kafkatee_pipe_produced_total counter\n"
"kafkatee_pipe_produced_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 7\n"
"# HELP kafkatee_pipe_delivered_total Events acknowledged by Kafka.\n"
"# TYPE kafkatee_pipe_delivered_total counter\n"
"kafkatee_pipe_delivered_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 6\n"
"# HELP kafkatee_pipe_failed_total Events whose delivery failed.\n"
"# TYPE kafkatee_pipe_failed_total counter\n"
"kafkatee_pipe_failed_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 1\n"
"# HELP kafkatee_pipe_invalid_total Lines that were not a valid record.\n"
"# TYPE kafkatee_pipe_invalid_total counter\n"
"kafkatee_pipe_invalid_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 2\n"
"# HELP kafkatee_pipe_skipped_total Blank lines and pmacct markers.\n"
"# TYPE kafkatee_pipe_skipped_total counter\n"
"kafkatee_pipe_skipped_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 1\n"
"# HELP kafkatee_pipe_dead_lettered_total Records written to the "
"dead-letter file.\n"
"# TYPE kafkatee_pipe_dead_lettered_total counter\n"
"kafkatee_pipe_dead_lettered_total{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 3\n"
"# HELP kafkatee_pipe_purge_mismatches_total pmacct purges whose count "
"differs from what was read.\n"
"# TYPE kafkatee_pipe_purge_mismatches_total counter\n"
"kafkatee_pipe_purge_mismatches_total{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_schema_invalid_total Events the schema refused "
"(counted in invalid too).\n"
"# TYPE kafkatee_pipe_schema_invalid_total counter\n"
"kafkatee_pipe_schema_invalid_total{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 1\n"
"# HELP kafkatee_pipe_error_events_produced_total Error events handed to "
"the output (error.topic).\n"
"# TYPE kafkatee_pipe_error_events_produced_total counter\n"
"kafkatee_pipe_error_events_produced_total{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 1\n"
"# HELP kafkatee_pipe_error_events_delivered_total Error events "
"acknowledged by Kafka.\n"
"# TYPE kafkatee_pipe_error_events_delivered_total counter\n"
"kafkatee_pipe_error_events_delivered_total{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 1\n"
"# HELP kafkatee_pipe_error_events_failed_total Error events whose "
"delivery failed.\n"
"# TYPE kafkatee_pipe_error_events_failed_total counter\n"
"kafkatee_pipe_error_events_failed_total{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_spooled_total Events written to the spool.\n"
"# TYPE kafkatee_pipe_spooled_total counter\n"
"kafkatee_pipe_spooled_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_replayed_total Events sent from the spool (each once).\n"
"# TYPE kafkatee_pipe_replayed_total counter\n"
"kafkatee_pipe_replayed_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_carried_total Events an earlier run left in the spool.\n"
"# TYPE kafkatee_pipe_carried_total counter\n"
"kafkatee_pipe_carried_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_kept_total Events left in the spool for the next run.\n"
"# TYPE kafkatee_pipe_kept_total counter\n"
"kafkatee_pipe_kept_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_spool_lost_total Spool frames found cut short or spoilt.\n"
"# TYPE kafkatee_pipe_spool_lost_total counter\n"
"kafkatee_pipe_spool_lost_total{stream=\"netflow\",topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_in_flight Events produced and not yet reported.\n"
"# TYPE kafkatee_pipe_in_flight gauge\n"
"kafkatee_pipe_in_flight{stream=\"netflow\",topic=\"eqiad.netflow\"} 2\n"
"# HELP kafkatee_pipe_in_flight_bytes Bytes of the events produced and not "
"yet reported.\n"
"# TYPE kafkatee_pipe_in_flight_bytes gauge\n"
"kafkatee_pipe_in_flight_bytes{stream=\"netflow\",topic=\"eqiad.netflow\"} "
"1024\n"
"# HELP kafkatee_pipe_backpressure 1 while stdin is not read because Kafka "
"is behind.\n"
"# TYPE kafkatee_pipe_backpressure gauge\n"
"kafkatee_pipe_backpressure{stream=\"netflow\",topic=\"eqiad.netflow\"} 1\n"
"# HELP kafkatee_pipe_backpressure_seconds_total Time stdin was not read "
"because Kafka was behind.\n"
"# TYPE kafkatee_pipe_backpressure_seconds_total counter\n"
"kafkatee_pipe_backpressure_seconds_total{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 2.498198\n"
"# HELP kafkatee_pipe_last_delivery_timestamp_seconds When the last "
"delivery report arrived.\n"
"# TYPE kafkatee_pipe_last_delivery_timestamp_seconds gauge\n"
"kafkatee_pipe_last_delivery_timestamp_seconds{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 1795422833\n"
"# HELP kafkatee_pipe_stalled 1 when records wait but nothing was "
"delivered for stall.timeout.ms.\n"
"# TYPE kafkatee_pipe_stalled gauge\n"
"kafkatee_pipe_stalled{stream=\"netflow\",topic=\"eqiad.netflow\"} 0\n"
"# HELP kafkatee_pipe_delivery_latency_seconds From reading a line to its "
"delivery report.\n"
"# TYPE kafkatee_pipe_delivery_latency_seconds summary\n"
"kafkatee_pipe_delivery_latency_seconds{stream=\"netflow\","
"topic=\"eqiad.netflow\",quantile=\"0.5\"} 0.002\n"
"kafkatee_pipe_delivery_latency_seconds{stream=\"netflow\","
"topic=\"eqiad.netflow\",quantile=\"0.9\"} 0.002\n"
"kafkatee_pipe_delivery_latency_seconds{stream=\"netflow\","
"topic=\"eqiad.netflow\",quantile=\"0.99\"} 0.002\n"
"kafkatee_pipe_delivery_latency_seconds_sum{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 0.012\n"
"kafkatee_pipe_delivery_latency_seconds_count{stream=\"netflow\","
"topic=\"eqiad.netflow\"} 6\n"
"# HELP kafkatee_pipe_peak_rss_bytes The most memory the process held (its "
"peak resident set).\n"
"# TYPE kafkatee_pipe_peak_rss_bytes gauge\n"
"kafkatee_pipe_peak_rss_bytes{stream=\"netflow\",topic=\"eqiad.netflow\"} "
"6918144\n";

static void test_render_prometheus(void **state)
{
        struct latency *l = latency_new();
        struct stats_snapshot s;
        char *text;

        (void)state;
        known_snapshot(&s, l);
        text = render(&s, STATS_PROMETHEUS);
        assert_string_equal(text, expected_prometheus);
        assert_int_equal(count_lines(text), 88);
        free(text);
        free(l);
}

static const char expected_json[] =
"{\"time\":\"2026-11-23T08:33:53.123Z\",\"stream\":\"netflow\","
"\"topic\":\"eqiad.netflow\",\"version\":\"0.1.0\",\"librdkafka\":\"2.0.2\","
"\"up\":true,\"start_time\":\"2026-11-23T08:32:22.623Z\",\"uptime_s\":90.5,\"read\":10,\"produced\":7,"
"\"delivered\":6,\"failed\":1,\"invalid\":2,\"skipped\":1,"
"\"dead_lettered\":3,\"purge_mismatches\":0,\"schema_invalid\":1,"
"\"error_events_produced\":1,\"error_events_delivered\":1,"
"\"error_events_failed\":0,\"spooled\":0,\"replayed\":0,\"carried\":0,"
"\"kept\":0,\"spool_lost\":0,\"in_flight\":2,"
"\"in_flight_bytes\":1024,\"backpressure\":true,\"backpressure_s\":2.498198,"
"\"last_delivery\":\"2026-11-23T08:33:53.000Z\",\"stalled\":false,"
"\"latency_ms\":{\"count\":6,\"sum\":12.0,\"p50\":2.0,\"p90\":2.0,"
"\"p99\":2.0,\"max\":2.0},\"peak_rss_kib\":6756,"
"\"rdkafka\":{\"type\":\"producer\"}}\n";

/* With a spool: its gauges in both files (none without one). */
static void test_render_spool(void **state)
{
        struct latency *l = latency_new();
        struct stats_snapshot s;
        char *text;

        (void)state;
        known_snapshot(&s, l);
        text = render(&s, STATS_JSON);
        assert_null(strstr(text, "\"spool\""));
        free(text);
        s.spool = 1;
        s.spool_bytes = 4096;
        s.spool_events = 7;
        s.spool_oldest_age_s = 2.5;
        text = render(&s, STATS_JSON);
        assert_non_null(strstr(text, ",\"spool\":{\"bytes\":4096,"
                "\"events\":7,\"oldest_age_s\":2.5}"));
        free(text);
        text = render(&s, STATS_PROMETHEUS);
        assert_non_null(strstr(text, "\nkafkatee_pipe_spool_bytes{stream="
                "\"netflow\",topic=\"eqiad.netflow\"} 4096\n"));
        assert_non_null(strstr(text, "\nkafkatee_pipe_spool_events{stream="
                "\"netflow\",topic=\"eqiad.netflow\"} 7\n"));
        assert_non_null(strstr(text, "\nkafkatee_pipe_spool_oldest_age_"
                "seconds{stream=\"netflow\",topic=\"eqiad.netflow\"} 2.5\n"));
        free(text);
        free(l);
}

static void test_render_json(void **state)
{
        struct latency *l = latency_new();
        struct stats_snapshot s;
        char *text;

        (void)state;
        known_snapshot(&s, l);
        text = render(&s, STATS_JSON);
        assert_string_equal(text, expected_json);
        free(text);
        /* No delivery yet, no librdkafka statistics: null and absent. */
        s.last_delivery_ms = 0;
        s.rdkafka_json = NULL;
        text = render(&s, STATS_JSON);
        assert_non_null(strstr(text, "\"last_delivery\":null,"));
        assert_null(strstr(text, "\"rdkafka\""));
        free(text);
        free(l);
}

static void test_stats_line(void **state)
{
        struct latency *l = latency_new();
        struct stats_snapshot s;
        char line[512];

        (void)state;
        known_snapshot(&s, l);
        stats_line(&s.c, line, sizeof(line));
        assert_string_equal(line, "read=10 produced=7 delivered=6 invalid=2 "
                            "failed=1 skipped=1 dead_lettered=3 "
                            "purge_mismatches=0");
        free(l);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bucket_bounds),
                cmocka_unit_test(test_quantiles_of_a_uniform_spread),
                cmocka_unit_test(test_beyond_the_last_bucket),
                cmocka_unit_test(test_empty_latency),
                cmocka_unit_test(test_label_escaping),
                cmocka_unit_test(test_render_prometheus),
                cmocka_unit_test(test_render_json),
                cmocka_unit_test(test_render_spool),
                cmocka_unit_test(test_stats_line),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
