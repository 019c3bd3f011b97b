/*
 * test_dlread.c: the dead-letter record read back.  Records written by
 * deadletter.c (to a file, as a run writes them) and parsed by dlread.c
 * give back the event and the line byte for byte: text, escapes, bytes
 * that are not UTF-8 (the base64 forms), no key; lines that are not
 * records are refused with a reason; the base64 decoder alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deadletter.h"
#include "dlread.h"

/* r written to a dead-letter file, and its one line read back. */
static char *written(const struct dead_record *r, size_t *len)
{
        char path[] = "/tmp/test_dlread.XXXXXX", err[256], *line = NULL;
        struct deadletter dl;
        size_t cap = 0;
        ssize_t n;
        FILE *fp;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(dl_open(&dl, path, err, sizeof(err)), 0);
        assert_int_equal(dl_write(&dl, r), 0);
        dl_close(&dl);
        assert_non_null(fp = fopen(path, "r"));
        assert_true((n = getline(&line, &cap, fp)) > 1);
        assert_int_equal(line[n - 1], '\n');
        line[--n] = '\0';
        assert_int_equal(getline(&line, &cap, fp), -1); /* one line */
        fclose(fp);
        unlink(path);
        *len = (size_t)n;
        return line;
}

static void assert_bytes(const char *got, size_t got_len, const char *want,
                         size_t want_len)
{
        assert_int_equal(got_len, want_len);
        assert_memory_equal(got, want, want_len);
}

/* r through the file and back: the same event and line. */
static void round_trip(const struct dead_record *r, enum dlr_kind kind)
{
        struct dl_reader rd = { 0 };
        struct dlr_record got;
        size_t len;
        char *line = written(r, &len);

        assert_int_equal(dlr_parse(&rd, line, len, &got), kind);
        assert_bytes(got.reason, got.reason_len, r->reason,
                     strlen(r->reason));
        assert_int_equal(got.line_no, r->line_no);
        assert_bytes(got.raw, got.raw_len, r->raw, r->raw_len);
        if (r->event != NULL) {
                const struct dead_event *e = r->event;

                assert_bytes(got.event.topic, got.event.topic_len, e->topic,
                             e->topic_len);
                assert_int_equal(got.event.key == NULL, e->key == NULL);
                if (e->key != NULL)
                        assert_bytes(got.event.key, got.event.key_len, e->key,
                                     e->key_len);
                assert_int_equal(got.event.timestamp_ms, e->timestamp_ms);
                assert_bytes(got.event.value, got.event.value_len, e->value,
                             e->value_len);
        }
        free(line);
        dlr_free(&rd);
}

static void test_event_text(void **state)
{
        /* quotes, a backslash, a slash, a control byte, U+00E9, U+1F600 */
        static const char value[] = "{\"meta\":{\"id\":\"a/b\"},\"s\":"
                "\"q\\\"\\\\\\u0001 \xc3\xa9 \xf0\x9f\x98\x80\",\"n\":1}";
        const struct dead_event e = {
                .topic = "eqiad.netflow", .topic_len = 13,
                .key = "10.0.0.1:\"x\"", .key_len = 12,
                .value = value, .value_len = sizeof(value) - 1,
                .timestamp_ms = 1795000000123,
        };
        const struct dead_record r = {
                .reason = "delivery", .message = "Local: Message timed out",
                .error = "Local: Message timed out", .line_no = 42,
                .raw = "{\"s\":\"q\\\"\"}", .raw_len = 11, .event = &e,
        };

        (void)state;
        round_trip(&r, DLR_EVENT);
}

static void test_event_no_key(void **state)
{
        const struct dead_event e = {
                .topic = "t", .topic_len = 1, .value = "{}", .value_len = 2,
        };
        const struct dead_record r = {
                .reason = "shutdown", .message = "purged", .line_no = 1,
                .raw = "{}", .raw_len = 2, .event = &e,
        };

        (void)state;
        round_trip(&r, DLR_EVENT);
}

/* Bytes that are not UTF-8, a NUL among them: the base64 forms win. */
static void test_event_binary(void **state)
{
        static const char value[] = "\x00\x01\xff\xfe{\"a\":\"\xc3\"}\x80";
        static const char key[] = "k\xff";
        static const char raw[] = "{\"a\":\"\xe9\"}";
        const struct dead_event e = {
                .topic = "t", .topic_len = 1, .key = key, .key_len = 2,
                .value = value, .value_len = sizeof(value) - 1,
                .timestamp_ms = 5,
        };
        const struct dead_record r = {
                .reason = "delivery", .message = "m", .line_no = 3,
                .raw = raw, .raw_len = sizeof(raw) - 1, .event = &e,
        };
        size_t len;
        char *line = written(&r, &len);

        (void)state;
        /* the text forms are there for people, with U+FFFD */
        assert_non_null(strstr(line, "\"value_base64\":\""));
        assert_non_null(strstr(line, "\"key_base64\":\"a/8=\""));
        assert_non_null(strstr(line, "\"raw_base64\":\""));
        free(line);
        round_trip(&r, DLR_EVENT);
}

static void test_line_records(void **state)
{
        const struct dead_record invalid = {
                .reason = "invalid", .message = "duplicate key \"a\"",
                .line_no = 5, .raw = "{\"a\":1,\"a\":2}", .raw_len = 13,
        };
        const struct dead_record too_long = {
                .reason = "too_long", .message = "line longer than line.max",
                .line_no = 6, .raw = "{\"a\":\"aaaa", .raw_len = 10,
                .truncated = 1,
        };
        const struct dead_record binary = {
                .reason = "invalid", .message = "not UTF-8",
                .line_no = 7, .raw = "\xff\xfe", .raw_len = 2,
        };

        (void)state;
        round_trip(&invalid, DLR_LINE);
        round_trip(&too_long, DLR_TRUNCATED);
        round_trip(&binary, DLR_LINE);
}

static void assert_none(const char *line, const char *why)
{
        struct dl_reader rd = { 0 };
        struct dlr_record got;

        assert_int_equal(dlr_parse(&rd, line, strlen(line), &got), DLR_NONE);
        if (strstr(dlr_error(&rd), why) == NULL)
                fail_msg("%s: \"%s\" does not say \"%s\"", line,
                         dlr_error(&rd), why);
        assert_non_null(strstr(dlr_error(&rd), "not a dead-letter record"));
        dlr_free(&rd);
}

static void test_not_records(void **state)
{
        (void)state;
        assert_none("", "");
        assert_none("{\"reason\":\"invalid\"", "");
        assert_none("[1,2]", "not a JSON object");
        assert_none("{\"raw\":\"x\"}", "no \"reason\"");
        assert_none("{\"reason\":\"invalid\"}", "no \"raw\"");
        assert_none("{\"reason\":1,\"raw\":\"x\"}", "\"reason\" of the wrong");
        assert_none("{\"reason\":\"a\",\"reason\":\"b\",\"raw\":\"x\"}",
                    "\"reason\" twice");
        assert_none("{\"reason\":\"a\",\"raw\":\"x\",\"raw_base64\":\"x\"}",
                    "\"raw_base64\" is not base64");
        assert_none("{\"reason\":\"a\",\"raw\":\"x\",\"line\":-1}",
                    "\"line\" is not");
        assert_none("{\"reason\":\"a\",\"raw\":\"x\",\"value\":\"{}\"}",
                    "an event needs topic, key, timestamp and value");
        assert_none("{\"reason\":\"a\",\"raw\":\"x\",\"value\":\"{}\","
                    "\"topic\":\"t\",\"key\":null,\"timestamp\":1.5}",
                    "\"timestamp\" is not an integer");
        assert_none("{\"reason\":\"a\",\"raw\":\"x\",\"value\":\"{}\","
                    "\"topic\":\"t\",\"key\":null,\"timestamp\":1,"
                    "\"value_base64\":\"@@@@\"}",
                    "\"value_base64\" is not base64");
}

/*
 * A raw line withheld (anonymize.raw): written as null with
 * "raw_withheld"; an event still replays, a line says it cannot be.
 */
static void test_withheld(void **state)
{
        const struct dead_event e = {
                .topic = "t", .topic_len = 1, .value = "{}", .value_len = 2,
        };
        const struct dead_record ev = {
                .reason = "delivery", .message = "m", .line_no = 3,
                .raw = NULL, .raw_len = 0, .withheld = "anonymize.raw",
                .event = &e,
        }, line = {
                .reason = "invalid", .message = "m", .line_no = 4,
                .raw = NULL, .withheld = "anonymize.raw",
        };
        struct dl_reader rd = { 0 };
        struct dlr_record got;
        size_t len;
        char *text = written(&line, &len);

        (void)state;
        assert_non_null(strstr(text, "\"raw\":null,\"raw_withheld\":"
                               "\"anonymize.raw\""));
        assert_int_equal(dlr_parse(&rd, text, len, &got), DLR_NONE);
        assert_string_equal(dlr_error(&rd), "withheld in the dead-letter "
                            "file (anonymize.raw): cannot be replayed");
        free(text);
        text = written(&ev, &len);
        assert_int_equal(dlr_parse(&rd, text, len, &got), DLR_EVENT);
        assert_int_equal(got.raw_len, 0);
        assert_non_null(got.raw);
        assert_bytes(got.event.value, got.event.value_len, "{}", 2);
        free(text);
        dlr_free(&rd);
}

/* Another writer may escape the slash of base64: still the same bytes. */
static void test_escaped_base64(void **state)
{
        static const char line[] = "{\"reason\":\"invalid\",\"raw\":\"?\","
                "\"raw_base64\":\"\\/\\/8=\"}";
        struct dl_reader rd = { 0 };
        struct dlr_record got;

        (void)state;
        assert_int_equal(dlr_parse(&rd, line, sizeof(line) - 1, &got),
                         DLR_LINE);
        assert_bytes(got.raw, got.raw_len, "\xff\xff", 2);
        dlr_free(&rd);
}

static void test_base64(void **state)
{
        char out[16];

        (void)state;
        assert_int_equal(dlr_base64_decode("", 0, out), 0);
        assert_int_equal(dlr_base64_decode("Zg==", 4, out), 1);
        assert_memory_equal(out, "f", 1);
        assert_int_equal(dlr_base64_decode("Zm8=", 4, out), 2);
        assert_memory_equal(out, "fo", 2);
        assert_int_equal(dlr_base64_decode("Zm9vYmFy", 8, out), 6);
        assert_memory_equal(out, "foobar", 6);
        assert_int_equal(dlr_base64_decode("Zm9", 3, out), -1);
        assert_int_equal(dlr_base64_decode("Zm=v", 4, out), -1);
        assert_int_equal(dlr_base64_decode("Zg==Zg==", 8, out), -1);
        assert_int_equal(dlr_base64_decode("Z!==", 4, out), -1);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_event_text),
                cmocka_unit_test(test_event_no_key),
                cmocka_unit_test(test_event_binary),
                cmocka_unit_test(test_line_records),
                cmocka_unit_test(test_not_records),
                cmocka_unit_test(test_escaped_base64),
                cmocka_unit_test(test_withheld),
                cmocka_unit_test(test_base64),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
