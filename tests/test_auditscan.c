/*
 * tests/test_auditscan.c: what the audit reads of an event (auditscan.h):
 * the four members, escapes, the integer's bounds, and every way a line
 * is not an event; the last of twin names counts, as in json-c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "auditscan.h"

static struct audit_scan scan;

static enum audit_scan_result read_line(const char *line,
                                        struct audit_event *ev)
{
        memset(ev, 0, sizeof(*ev));
        return audit_scan_line(&scan, line, strlen(line), ev);
}

static void none(const char *line)
{
        struct audit_event ev;

        if (read_line(line, &ev) != AUDIT_SCAN_NONE)
                fail_msg("read as an event: %s", line);
}

static void test_event(void **state)
{
        struct audit_event ev;

        (void)state;
        assert_int_equal(read_line("{\"$schema\":\"/netflow/flow/1.1.0\","
                                   "\"meta\":{\"stream\":\"netflow\",\"id\":"
                                   "\"6f1c\",\"dt\":\"x\",\"domain\":"
                                   "\"edge1\"},\"dt\":\"x\",\"sequence\":42,"
                                   "\"sequence_run\":\"20261130T1Z-0a\","
                                   "\"bytes\":1}", &ev), AUDIT_SCAN_EVENT);
        assert_string_equal(ev.domain, "edge1");
        assert_string_equal(ev.id, "6f1c");
        assert_string_equal(ev.run, "20261130T1Z-0a");
        assert_int_equal(ev.seq, 42);
}

static void test_escapes_and_space(void **state)
{
        struct audit_event ev;

        (void)state;
        assert_int_equal(read_line(" { \"sequence_run\" : \"r\\t1\" , "
                                   "\"sequence\" : 7 , \"meta\" : { \"id\" "
                                   ": \"a\\u00e9\" , \"domain\" : "
                                   "\"h\\\"\\/\" } } ", &ev),
                         AUDIT_SCAN_EVENT);
        assert_string_equal(ev.domain, "h\"/");
        assert_string_equal(ev.id, "a\xc3\xa9");
        assert_string_equal(ev.run, "r\t1");
        assert_int_equal(ev.seq, 7);
}

static void test_bounds(void **state)
{
        struct audit_event ev;

        (void)state;
        assert_int_equal(read_line("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},"
                                   "\"sequence\":9223372036854775807,"
                                   "\"sequence_run\":\"r\"}", &ev),
                         AUDIT_SCAN_EVENT);
        assert_true(ev.seq == INT64_MAX);
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},"
             "\"sequence\":9223372036854775808,\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},"
             "\"sequence\":99999999999999999999,\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":0,"
             "\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":-3,"
             "\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1.0,"
             "\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1e3,"
             "\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":\"3\","
             "\"sequence_run\":\"r\"}");
}

static void test_not_events(void **state)
{
        (void)state;
        none("");
        none("garbage");
        none("[1,2]");
        none("\"meta\"");
        none("{}");
        /* each member missing, or of the wrong kind */
        none("{\"sequence\":1,\"sequence_run\":\"r\"}");
        none("{\"meta\":[],\"sequence\":1,\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"id\":\"i\"},\"sequence\":1,\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\"},\"sequence\":1,"
             "\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":1,\"id\":\"i\"},\"sequence\":1,"
             "\"sequence_run\":\"r\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1,"
             "\"sequence_run\":null}");
        /* not strict JSON: cut, trailing comma, a second value */
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1,"
             "\"sequence_run\":\"r\"");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1,"
             "\"sequence_run\":\"r\",}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1,"
             "\"sequence_run\":\"r\"} {}");
        /* a domain nested deeper is not meta's */
        none("{\"meta\":{\"x\":{\"domain\":\"h\"},\"id\":\"i\"},"
             "\"sequence\":1,\"sequence_run\":\"r\"}");
}

static void test_last_twin_counts(void **state)
{
        struct audit_event ev;

        (void)state;
        assert_int_equal(read_line("{\"sequence\":1,\"meta\":{\"domain\":"
                                   "\"a\",\"id\":\"i\",\"domain\":\"b\"},"
                                   "\"sequence_run\":\"r\",\"sequence\":2}",
                                   &ev), AUDIT_SCAN_EVENT);
        assert_string_equal(ev.domain, "b");
        assert_int_equal(ev.seq, 2);
        /* a last twin of the wrong kind spoils the member */
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"sequence\":1,"
             "\"sequence_run\":\"r\",\"sequence\":\"1\"}");
        none("{\"meta\":{\"domain\":\"h\",\"id\":\"i\"},\"meta\":{},"
             "\"sequence\":1,\"sequence_run\":\"r\"}");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_event),
                cmocka_unit_test(test_escapes_and_space),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_not_events),
                cmocka_unit_test(test_last_twin_counts),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);

        audit_scan_free(&scan);
        return r;
}
