/*
 * test_output.c: the output against librdkafka's mock cluster, hosted
 * here on a throwaway handle, and stdout: every message comes back once,
 * with the outcome that fits, and a fatal error is reported outside
 * rd_kafka_poll().
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "msgpool.h"
#include "output.h"

#define APIKEY_PRODUCE 0 /* not in the public headers */

struct seen {
        struct output *o;
        int outcomes[OUTPUT_NO_REPORT + 1];
        int fatal, stats, down, purge_when_down, closed;
        char error[256];
};

struct fixture {
        rd_kafka_t             *host; /* hosts the mock cluster */
        rd_kafka_mock_cluster_t *mc;
        struct ev_loop         *loop;
        struct seen             seen;
};

static void delivered(void *opaque, struct msg *m, enum output_outcome how,
                      const char *error)
{
        struct seen *s = opaque;

        s->outcomes[how]++;
        if (error != NULL)
                snprintf(s->error, sizeof(s->error), "%s", error);
        free(m);
}

/* What the program did before: act at once, serving included. */
static void fatal(void *opaque, const char *why)
{
        struct seen *s = opaque;

        (void)why;
        s->fatal++;
        output_serve(s->o); /* aborts if inside rd_kafka_poll() */
}

static void closed(void *opaque)
{
        struct seen *s = opaque;

        /* before the messages come back */
        assert_int_equal(s->outcomes[OUTPUT_FAILED], 0);
        s->closed++;
}

static void rdkafka_stats(void *opaque, const char *json, size_t len)
{
        struct seen *s = opaque;

        (void)json;
        (void)len;
        s->stats++;
}

/* As the sender does: what librdkafka holds goes back to its owner. */
static void brokers_down(void *opaque)
{
        struct seen *s = opaque;

        s->down++;
        if (s->purge_when_down)
                output_purge(s->o);
}

static void log_text(void *opaque, int level, const char *text)
{
        (void)opaque;
        (void)level;
        (void)text;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char err[256];

        assert_non_null(f);
        rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
        f->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        assert_non_null(f->host);
        f->mc = rd_kafka_mock_cluster_new(f->host, 1);
        assert_non_null(f->mc);
        assert_int_equal(rd_kafka_mock_topic_create(f->mc, "t", 1, 1), 0);
        f->loop = ev_loop_new(EVFLAG_AUTO);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        ev_loop_destroy(f->loop);
        rd_kafka_mock_cluster_destroy(f->mc);
        rd_kafka_destroy(f->host);
        free(f);
        return 0;
}

static struct output *open_kafka(struct fixture *f, const struct kvlist *kv)
{
        const struct output_opts opts = {
                .mode = OUTPUT_KAFKA, .topic = "t", .props = kv,
                .brokers = rd_kafka_mock_cluster_bootstraps(f->mc),
                .rdkafka_stats = 1, .stats_interval_ms = 100,
        };
        const struct output_cb cb = {
                .delivered = delivered, .fatal = fatal,
                .rdkafka_stats = rdkafka_stats, .log = log_text,
                .brokers_down = brokers_down, .opaque = &f->seen,
        };
        char err[256];

        f->seen.o = output_open(&opts, &cb, f->loop, err, sizeof(err));
        assert_non_null(f->seen.o);
        return f->seen.o;
}

static struct msg *msg(const char *value)
{
        struct msg *m = calloc(1, sizeof(*m) + strlen(value));

        assert_non_null(m);
        m->room = strlen(value);
        m->value_len = strlen(value);
        memcpy(m->data, value, m->value_len);
        return m;
}

static void tick(struct ev_loop *loop, ev_timer *w, int revents)
{
        (void)loop;
        (void)w;
        (void)revents;
}

/* Runs the loop (the output's watcher) until *until or 10 s. */
static void run_until(struct fixture *f, const int *until, int want)
{
        ev_timer t;
        time_t end = time(NULL) + 10;

        ev_timer_init(&t, tick, 0.05, 0.05);
        ev_timer_start(f->loop, &t);
        while (*until < want && time(NULL) < end)
                ev_run(f->loop, EVRUN_ONCE);
        ev_timer_stop(f->loop, &t);
}

static void test_close_null(void **state)
{
        (void)state;
        output_close(NULL);
        output_serve(NULL);
        output_purge(NULL);
        assert_int_equal(output_in_flight(NULL), 0);
}

static void test_delivered_and_counted(void **state)
{
        struct fixture *f = *state;
        struct output *o = open_kafka(f, NULL);
        int i;

        for (i = 0; i < 10; i++)
                assert_int_equal(output_produce(o, msg("{\"a\":1}")),
                                 OUTPUT_TAKEN);
        assert_int_equal(output_in_flight(o), 10);
        assert_int_equal(output_in_flight_bytes(o),
                         10 * (int64_t)(sizeof(struct msg) + 7));
        run_until(f, &f->seen.outcomes[OUTPUT_DELIVERED], 10);
        assert_int_equal(f->seen.outcomes[OUTPUT_DELIVERED], 10);
        assert_int_equal(output_in_flight(o), 0);
        assert_int_equal(output_in_flight_bytes(o), 0);
        run_until(f, &f->seen.stats, 1);
        assert_true(f->seen.stats >= 1);
        output_close(o);
}

static void test_purged_then_no_report(void **state)
{
        struct fixture *f = *state;
        struct output *o;
        int i;

        rd_kafka_mock_broker_set_down(f->mc, 1);
        o = open_kafka(f, NULL);
        for (i = 0; i < 5; i++)
                output_produce(o, msg("x"));
        output_purge(o);
        run_until(f, &f->seen.outcomes[OUTPUT_PURGED], 5);
        assert_int_equal(f->seen.outcomes[OUTPUT_PURGED], 5);
        assert_int_equal(f->seen.outcomes[OUTPUT_FAILED], 0);
        assert_non_null(strstr(f->seen.error, "urge"));
        for (i = 0; i < 3; i++)
                output_produce(o, msg("y"));
        output_close(o);
        assert_int_equal(f->seen.outcomes[OUTPUT_NO_REPORT], 3);
}

/* The broker away past message.timeout.ms: retriable, not failed for
 * good (a spool keeps such a record for later). */
static void test_timed_out_is_retriable(void **state)
{
        struct fixture *f = *state;
        struct kv v = { (char *)"message.timeout.ms", (char *)"200" };
        const struct kvlist kv = { &v, 1 };
        struct output *o;

        rd_kafka_mock_broker_set_down(f->mc, 1);
        o = open_kafka(f, &kv);
        output_produce(o, msg("x"));
        run_until(f, &f->seen.outcomes[OUTPUT_RETRIABLE], 1);
        assert_int_equal(f->seen.outcomes[OUTPUT_RETRIABLE], 1);
        assert_int_equal(f->seen.outcomes[OUTPUT_FAILED], 0);
        assert_non_null(strstr(f->seen.error, "timed out"));
        output_close(o);
}

/*
 * No broker up: librdkafka says so, and what it holds can be purged from
 * the callback (the sender moves it to the spool): the message comes
 * back purged, long before message.timeout.ms.
 */
static void test_brokers_down_purged(void **state)
{
        struct fixture *f = *state;
        struct output *o = open_kafka(f, NULL);

        f->seen.purge_when_down = 1;
        output_produce(o, msg("up"));
        run_until(f, &f->seen.outcomes[OUTPUT_DELIVERED], 1);
        assert_int_equal(f->seen.outcomes[OUTPUT_DELIVERED], 1);
        /* the next request in flight when the broker goes */
        rd_kafka_mock_broker_push_request_error_rtts(
                f->mc, 1, APIKEY_PRODUCE, 1, RD_KAFKA_RESP_ERR_NO_ERROR,
                5000);
        output_produce(o, msg("x"));
        output_produce(o, msg("y"));
        rd_kafka_mock_broker_set_down(f->mc, 1);
        run_until(f, &f->seen.outcomes[OUTPUT_PURGED], 2);
        assert_int_equal(f->seen.down, 1);
        assert_int_equal(f->seen.outcomes[OUTPUT_PURGED], 2);
        assert_int_equal(f->seen.outcomes[OUTPUT_DELIVERED], 1);
        assert_int_equal(output_in_flight(o), 0);
        output_close(o);
}

/* A fatal error surfaces after rd_kafka_poll(): the callback may serve. */
static void test_fatal_reported_outside_poll(void **state)
{
        struct fixture *f = *state;
        struct output *o = open_kafka(f, NULL);

        /* With idempotence, a sequence desync is fatal for the producer. */
        rd_kafka_mock_push_request_errors(
                f->mc, APIKEY_PRODUCE, 3,
                RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
        output_produce(o, msg("z"));
        run_until(f, &f->seen.fatal, 1);
        assert_int_equal(f->seen.fatal, 1);
        output_serve(o);
        assert_int_equal(f->seen.fatal, 1); /* reported once */
        output_close(o);
        assert_int_equal(f->seen.outcomes[OUTPUT_DELIVERED] +
                         f->seen.outcomes[OUTPUT_FAILED] +
                         f->seen.outcomes[OUTPUT_RETRIABLE] +
                         f->seen.outcomes[OUTPUT_NO_REPORT], 1);
}

static void test_bad_property(void **state)
{
        struct fixture *f = *state;
        struct kv v = { (char *)"no.such.property", (char *)"1" };
        const struct kvlist kv = { &v, 1 };
        const struct output_opts opts = {
                .mode = OUTPUT_KAFKA, .topic = "t", .props = &kv,
        };
        const struct output_cb cb = {
                .delivered = delivered, .fatal = fatal,
                .rdkafka_stats = rdkafka_stats, .log = log_text,
                .opaque = &f->seen,
        };
        char err[256] = "";

        assert_null(output_open(&opts, &cb, f->loop, err, sizeof(err)));
        assert_non_null(strstr(err, "no.such.property"));
}

static void test_stdout(void **state)
{
        struct fixture *f = *state;
        const struct output_opts opts = { .mode = OUTPUT_STDOUT };
        const struct output_cb cb = {
                .delivered = delivered, .fatal = fatal,
                .rdkafka_stats = rdkafka_stats, .log = log_text,
                .opaque = &f->seen,
        };
        char err[256], path[] = "/tmp/test_output.XXXXXX", buf[64] = "";
        struct output *o;
        FILE *fp;
        int saved;

        close(mkstemp(path));
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        assert_non_null(freopen(path, "w", stdout));
        o = output_open(&opts, &cb, f->loop, err, sizeof(err));
        assert_non_null(o);
        output_produce(o, msg("one"));
        output_produce(o, msg("two"));
        assert_int_equal(output_in_flight(o), 2);
        output_serve(o);
        assert_int_equal(f->seen.outcomes[OUTPUT_DELIVERED], 2);
        output_close(o);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO); /* cmocka reports on stdout */
        close(saved);
        assert_non_null(fp = fopen(path, "r"));
        assert_int_equal(fread(buf, 1, sizeof(buf) - 1, fp), 8);
        assert_string_equal(buf, "one\ntwo\n");
        fclose(fp);
        unlink(path);
}

/* stdout.format: kcat's tokens, escapes and %%, per message. */
static void test_stdout_format(void **state)
{
        struct fixture *f = *state;
        struct kv hv[] = { { "a", "1" }, { "b", "x=y" } };
        const struct kvlist headers = { hv, 2 };
        const struct output_opts opts = {
                .mode = OUTPUT_STDOUT, .topic = "t",
                .format = "%t|%p|%k|%K|%s|%S|%T|%h|100%%\\t\\\\\\n%R",
                .headers = &headers,
        };
        const struct output_cb cb = {
                .delivered = delivered, .fatal = fatal,
                .rdkafka_stats = rdkafka_stats, .log = log_text,
                .opaque = &f->seen,
        };
        char err[256], path[] = "/tmp/test_output.XXXXXX", buf[256] = "";
        const char want[] = "t|-1|kk|2|vvv|3|1700000000123|a=1,b=x=y|100%"
                            "\t\\\n\0\0\0\3t|-1||-1|w|1|0|a=1,b=x=y|100%"
                            "\t\\\n\0\0\0\1";
        struct msg *m = calloc(1, sizeof(*m) + 5);
        struct output *o;
        FILE *fp;
        int saved;

        assert_non_null(m);
        memcpy(m->data, "vvvkk", 5); /* value, no raw line, key */
        m->value_len = 3;
        m->key_len = 2;
        m->room = 5;
        m->timestamp_ms = 1700000000123;
        close(mkstemp(path));
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        assert_non_null(freopen(path, "w", stdout));
        o = output_open(&opts, &cb, f->loop, err, sizeof(err));
        assert_non_null(o);
        output_produce(o, m);
        output_produce(o, msg("w"));
        output_close(o);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO); /* cmocka reports on stdout */
        close(saved);
        assert_int_equal(f->seen.outcomes[OUTPUT_DELIVERED], 2);
        assert_non_null(fp = fopen(path, "r"));
        assert_int_equal(fread(buf, 1, sizeof(buf), fp), sizeof(want) - 1);
        assert_memory_equal(buf, want, sizeof(want) - 1);
        fclose(fp);
        unlink(path);
}

static void test_format_check(void **state)
{
        static const char *const bad[] = { "%x", "%", "%s%", "\\", "\\q",
                                           "%s\\0" };
        char err[256];
        size_t i;

        (void)state;
        assert_int_equal(output_format_check("", err, sizeof(err)), 0);
        assert_int_equal(output_format_check("%t %p %k %K %s %S %T %h %R "
                                             "%% \\n\\r\\t\\\\", err,
                                             sizeof(err)), 0);
        for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                if (output_format_check(bad[i], err, sizeof(err)) != -1)
                        fail_msg("'%s' taken", bad[i]);
        assert_string_equal(err, "'\\0' is not one of \\n \\r \\t \\\\");
        output_format_check("%x", err, sizeof(err));
        assert_string_equal(err, "'%x' is not one of %t %p %k %K %s %S %T "
                            "%h %R %%");
}

/*
 * stdout's reader gone (EPIPE): cb.closed once, before the messages come
 * back failed; later ones are refused without a write; no fatal error.
 * Without cb.closed it is fatal, and nothing is written again either.
 */
static void test_stdout_closed(void **state)
{
        struct fixture *f = *state;
        const struct output_opts opts = { .mode = OUTPUT_STDOUT };
        struct output_cb cb = {
                .delivered = delivered, .fatal = fatal, .closed = closed,
                .rdkafka_stats = rdkafka_stats, .log = log_text,
                .opaque = &f->seen,
        };
        char err[256];
        struct output *o;
        int p[2], saved, pass;

        signal(SIGPIPE, SIG_IGN); /* as the program */
        for (pass = 0; pass < 2; pass++) {
                memset(&f->seen, 0, sizeof(f->seen));
                assert_int_equal(pipe(p), 0);
                close(p[0]); /* the reader is gone */
                fflush(stdout);
                saved = dup(STDOUT_FILENO);
                dup2(p[1], STDOUT_FILENO);
                close(p[1]);
                o = output_open(&opts, &cb, f->loop, err, sizeof(err));
                assert_non_null(o);
                assert_int_equal(output_produce(o, msg("one")), OUTPUT_TAKEN);
                assert_int_equal(output_produce(o, msg("two")), OUTPUT_TAKEN);
                output_serve(o);
                assert_int_equal(output_produce(o, msg("three")),
                                 OUTPUT_REFUSED);
                output_close(o);
                __fpurge(stdout); /* what was not written stays unwritten */
                clearerr(stdout);
                dup2(saved, STDOUT_FILENO); /* cmocka reports on stdout */
                close(saved);
                assert_int_equal(f->seen.outcomes[OUTPUT_FAILED], 3);
                assert_int_equal(f->seen.closed, pass == 0 ? 1 : 0);
                assert_int_equal(f->seen.fatal, pass == 0 ? 0 : 1);
                if (pass == 0)
                        assert_string_equal(f->seen.error,
                                            "stdout closed by its reader");
                cb.closed = NULL;
        }
}

/* Another write error (ENOSPC) is fatal, its messages fail with their
 * reason, and nothing is written again: the later ones are refused. */
static void test_stdout_full(void **state)
{
        struct fixture *f = *state;
        const struct output_opts opts = { .mode = OUTPUT_STDOUT };
        const struct output_cb cb = {
                .delivered = delivered, .fatal = fatal, .closed = closed,
                .rdkafka_stats = rdkafka_stats, .log = log_text,
                .opaque = &f->seen,
        };
        char err[256];
        struct output *o;
        int fd = open("/dev/full", O_WRONLY), saved;

        if (fd == -1)
                skip();
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        dup2(fd, STDOUT_FILENO);
        close(fd);
        o = output_open(&opts, &cb, f->loop, err, sizeof(err));
        assert_non_null(o);
        assert_int_equal(output_produce(o, msg("one")), OUTPUT_TAKEN);
        output_serve(o);
        assert_string_equal(f->seen.error, "No space left on device");
        assert_int_equal(output_produce(o, msg("two")), OUTPUT_REFUSED);
        assert_string_equal(f->seen.error, "cannot write to stdout");
        output_close(o);
        __fpurge(stdout);
        clearerr(stdout);
        dup2(saved, STDOUT_FILENO); /* cmocka reports on stdout */
        close(saved);
        assert_int_equal(f->seen.outcomes[OUTPUT_FAILED], 2);
        assert_int_equal(f->seen.fatal, 1);
        assert_int_equal(f->seen.closed, 0);
}

/*
 * Topics by name: the fixed one is 0, a name gets the same id again,
 * topic_max bounds them, and a second named topic (an error topic) is
 * produced to with the same reports.
 */
static void test_topics(void **state)
{
        struct fixture *f = *state;
        const struct output_opts opts = {
                .mode = OUTPUT_KAFKA, .topic = "t", .topic_max = 3,
                .brokers = rd_kafka_mock_cluster_bootstraps(f->mc),
        };
        const struct output_cb cb = {
                .delivered = delivered, .fatal = fatal,
                .rdkafka_stats = rdkafka_stats, .log = log_text,
                .opaque = &f->seen,
        };
        char err[256];
        struct output *o;
        struct msg *m;

        assert_int_equal(rd_kafka_mock_topic_create(f->mc, "u", 1, 1), 0);
        o = f->seen.o = output_open(&opts, &cb, f->loop, err, sizeof(err));
        assert_non_null(o);
        assert_int_equal(output_topic(o, "t", 1, err, sizeof(err)), 0);
        /* Names are counted, not NUL-terminated: "uv", 1 is "u". */
        assert_int_equal(output_topic(o, "uv", 1, err, sizeof(err)), 1);
        assert_int_equal(output_topic(o, "v", 1, err, sizeof(err)), 2);
        assert_int_equal(output_topic(o, "u", 1, err, sizeof(err)), 1);
        assert_string_equal(output_topic_name(o, 2), "v");
        assert_null(output_topic_name(o, 3));
        assert_int_equal(output_topic(o, "w", 1, err, sizeof(err)), -1);
        assert_string_equal(err, "topic \"w\" would be topic 4: more than "
                            "topic.max");
        assert_int_equal(output_topic(o, "t", 1, err, sizeof(err)), 0);
        m = msg("to u");
        m->topic = 1;
        assert_int_equal(output_produce(o, m), OUTPUT_TAKEN);
        assert_int_equal(output_produce(o, msg("to t")), OUTPUT_TAKEN);
        run_until(f, &f->seen.outcomes[OUTPUT_DELIVERED], 2);
        assert_int_equal(f->seen.outcomes[OUTPUT_DELIVERED], 2);
        output_close(o);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_close_null),
                cmocka_unit_test_setup_teardown(test_delivered_and_counted,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_brokers_down_purged,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_timed_out_is_retriable,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_purged_then_no_report,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_fatal_reported_outside_poll, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_property, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_stdout, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_topics, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_stdout_format, setup,
                                                teardown),
                cmocka_unit_test(test_format_check),
                cmocka_unit_test_setup_teardown(test_stdout_closed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_stdout_full, setup,
                                                teardown),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
