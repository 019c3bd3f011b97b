/*
 * tests/test_auditkafka.c: the pure part of the audit's Kafka source:
 * --since's TIME, ISO 8601 UTC or milliseconds since the epoch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "auditkafka.h"

static int64_t since(const char *s)
{
        int64_t ms = -42;

        assert_int_equal(ak_parse_since(s, &ms), 0);
        return ms;
}

static void test_iso(void **state)
{
        (void)state;
        assert_int_equal(since("1970-01-01T00:00:00Z"), 0);
        /* date -u -d 2026-11-30T12:00:00Z +%s */
        assert_int_equal(since("2026-11-30T12:00:00Z"), 1796040000000LL);
        assert_int_equal(since("2026-11-30T12:00Z"), 1796040000000LL);
        assert_int_equal(since("2026-11-30T12:00:00.5Z"), 1796040000500LL);
        assert_int_equal(since("2026-11-30T12:00:00.123456Z"),
                         1796040000123LL);
        /* a leap day, the end of a year, before 1970 */
        assert_int_equal(since("2024-02-29T00:00:00Z"), 1709164800000LL);
        assert_int_equal(since("2026-12-31T23:59:59Z"), 1798761599000LL);
        assert_int_equal(since("1969-12-31T23:59:59Z"), -1000);
}

static void test_epoch_ms(void **state)
{
        (void)state;
        assert_int_equal(since("0"), 0);
        assert_int_equal(since("1796040000000"), 1796040000000LL);
}

static void test_refused(void **state)
{
        static const char *bad[] = {
                "", "now", "-5", "+5", " 5", "5 ", "12ab",
                "99999999999999999999", "2026-11-30", "2026-11-30T12:00:00",
                "2026-11-30T12:00:00+01:00", "2026-11-30 12:00:00Z",
                "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                "2026-11-30T24:00:00Z", "2026-11-30T12:60:00Z",
                "2026-11-30T12:00:60Z", "2026-11-30T12:00:00.Z",
                "2026-11-30T12:00:00ZZ", "26-11-30T12:00:00Z",
        };
        size_t i;
        int64_t ms = 7;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (ak_parse_since(bad[i], &ms) != -1)
                        fail_msg("accepted '%s'", bad[i]);
                assert_int_equal(ms, 7);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_iso),
                cmocka_unit_test(test_epoch_ms),
                cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
