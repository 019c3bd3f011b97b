/*
 * tests/test_isotime.c: ISO-8601 formatting and pmacct's times
 * (kt_format_iso8601 and its memo, kt_parse_time, the local-time cache).
 */
#include "ttest.h"

/* ------------------------------------------------------------------ */
/* kt_format_iso8601                                                    */
/* ------------------------------------------------------------------ */

static void check_iso(int64_t ms, const char *exp)
{
        char buf[KT_ISO_LEN + 1 + 16];
        memset(buf, 'X', sizeof buf);
        int rc = kt_format_iso8601(ms, buf);
        if (rc < 0 || memcmp(buf, exp, KT_ISO_LEN + 1) != 0) {
                print_error("kt_format_iso8601(%" PRId64 ") rc=%d: expected "
                            "\"%s\", got \"%.*s\"\n", ms, rc, exp,
                            KT_ISO_LEN + 1, buf);
                fail();
        }
        for (size_t i = KT_ISO_LEN + 1; i < sizeof buf; i++)
                assert_int_equal(buf[i], 'X'); /* no overflow */
}

static void test_iso8601_known_values(void **state)
{
        (void)state;
        assert_int_equal(strlen("2026-11-23T08:33:20.731Z"), KT_ISO_LEN);
        check_iso(0, "1970-01-01T00:00:00.000Z");
        check_iso(1, "1970-01-01T00:00:00.001Z");
        check_iso(999, "1970-01-01T00:00:00.999Z");
        check_iso(INT64_C(1795422800731), "2026-11-23T08:33:20.731Z");
        check_iso(TEST_INGEST_MS, TEST_INGEST_ISO);
        /* leap days: date -u -d '2024-02-29 12:34:56' +%s = 1709210096 */
        check_iso(INT64_C(1709210096789), "2024-02-29T12:34:56.789Z");
        check_iso(INT64_C(951782400000), "2000-02-29T00:00:00.000Z");
        check_iso(INT64_C(1835438400000), "2028-02-29T12:00:00.000Z");
        /* 2100 is not a leap year: 2100-02-28 23:59:59 = 4107542399 */
        check_iso(INT64_C(4107542399999), "2100-02-28T23:59:59.999Z");
        check_iso(INT64_C(4107542400000), "2100-03-01T00:00:00.000Z");
        check_iso(INT64_C(946684799999), "1999-12-31T23:59:59.999Z");
        check_iso(INT64_C(946684800000), "2000-01-01T00:00:00.000Z");
        /* 9999-12-31 23:59:59 = 253402300799 */
        check_iso(INT64_C(253402300799999), "9999-12-31T23:59:59.999Z");
}

static void test_iso8601_matches_gmtime(void **state)
{
        (void)state;
        uint64_t x = 88172645463325252ULL;
        const int64_t max = INT64_C(253402300799999);
        for (int i = 0; i < 20000; i++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                int64_t ms = (int64_t)(x % (uint64_t)(max + 1));
                if (i < 2000)
                        ms %= INT64_C(4102444800000); /* 1970..2100 */
                char exp[32];
                ref_iso(ms, exp);
                check_iso(ms, exp);
        }
}

static void test_iso8601_errors(void **state)
{
        (void)state;
        const int64_t bad[] = { -1, -1000, INT64_MIN,
                                INT64_C(253402300800000), /* year 10000 */
                                INT64_MAX };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char buf[KT_ISO_LEN + 1 + 16];
                memset(buf, 'X', sizeof buf);
                int rc = kt_format_iso8601(bad[i], buf);
                if (rc >= 0) {
                        print_error("kt_format_iso8601(%" PRId64 ") must fail,"
                                    " rc=%d \"%.*s\"\n", bad[i], rc,
                                    KT_ISO_LEN + 1, buf);
                        fail();
                }
                for (size_t j = KT_ISO_LEN + 1; j < sizeof buf; j++)
                        assert_int_equal(buf[j], 'X');
        }
}

/*
 * The memo gives what the formatter gives, whether the time repeats, the
 * day changes or only the clock does; times out of range are clamped.
 */
static void test_iso_memo_matches_formatter(void **state)
{
        (void)state;
        static const int64_t seq[] = {
                T0, T0, T0 + 1, T0 + 86399999, T0 + 86400000, T0,
                0, 86399999, 86400000, INT64_C(951782400000) /* 2000-02-29 */,
                KT_MS_MAX, KT_MS_MAX - 1, T0 + 3600000,
                /* within a minute, and across one */
                T0 + 1000, T0 + 59999, T0 + 60000, T0 + 60999, T0 + 59999,
                T0 + 119999, T0 + 120000,
        };
        struct kt_iso_memo m;
        char iso[KT_ISO_LEN + 1];

        kt_iso_memo_init(&m);
        for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
                assert_int_equal(kt_format_iso8601(seq[i], iso), 0);
                assert_memory_equal(kt_iso_memo_format(&m, seq[i]), iso,
                                    KT_ISO_LEN);
        }
        assert_memory_equal(kt_iso_memo_format(&m, -1),
                            "1970-01-01T00:00:00.000Z", KT_ISO_LEN);
        assert_memory_equal(kt_iso_memo_format(&m, KT_MS_MAX + 1),
                            "9999-12-31T23:59:59.999Z", KT_ISO_LEN);
}

/* ------------------------------------------------------------------ */
/* kt_parse_time                                                        */
/* ------------------------------------------------------------------ */

static void check_pt_(struct kt_zone *t, const char *s, int exp_rc,
                      int64_t exp_ms, const char *file, int line)
{
        int64_t ms = -777;
        int rc = kt_parse_time(t, s, strlen(s), &ms);
        if (rc != exp_rc || (exp_rc == 1 && ms != exp_ms)) {
                print_error("kt_parse_time(\"%s\"): expected rc=%d ms=%" PRId64
                            ", got rc=%d ms=%" PRId64 "\n", s, exp_rc, exp_ms,
                            rc, ms);
                _fail(file, line);
        }
}
#define check_pt(t, s, rc, ms) check_pt_((t), (s), (rc), (ms), __FILE__, __LINE__)


static void test_parse_time_datetime_utc(void **state)
{
        (void)state;
        struct kt_zone zone, *t = &zone; /* no fn: local times are UTC */
        kt_zone_set(t, NULL, NULL);
        check_pt(t, "2026-11-23 08:33:20.731040", 1, T0 + 731);
        check_pt(t, "2026-11-23T08:33:20.731040", 1, T0 + 731);
        check_pt(t, "2026-11-23 08:33:20", 1, T0);
        check_pt(t, "2026-11-23T08:33:20", 1, T0);
        check_pt(t, "2026-11-23 08:33:20.7", 1, T0 + 700);
        check_pt(t, "2026-11-23 08:33:20.73", 1, T0 + 730);
        check_pt(t, "2026-11-23 08:33:20.731", 1, T0 + 731);
        check_pt(t, "2026-11-23 08:33:20.123456789", 1, T0 + 123);
        check_pt(t, "2026-11-23 08:33:00", 1, ms_of("2026-11-23 08:33:00"));
        check_pt(t, "1970-01-01 00:00:01", 1, 1000);
        check_pt(t, "2024-02-29 12:34:56.789", 1, INT64_C(1709210096789));
        check_pt(t, "2000-02-29 00:00:00", 1, INT64_C(951782400000));
        check_pt(t, "9999-12-31 23:59:59.999999", 1, INT64_C(253402300799999));
}

static void test_parse_time_truncates(void **state)
{
        (void)state;
        struct kt_zone zone, *t = &zone;
        kt_zone_set(t, NULL, NULL);
        /* milliseconds are truncated, never rounded (nor computed via double) */
        check_pt(t, "2026-11-23 08:33:20.999999", 1, T0 + 999);
        check_pt(t, "2026-11-23 08:33:20.9999", 1, T0 + 999);
        check_pt(t, "2026-11-23 08:33:20.731999999", 1, T0 + 731);
        check_pt(t, "2026-11-23 08:33:20.0009", 1, T0);
        check_pt(t, "2026-11-23 08:33:20.001", 1, T0 + 1);
        check_pt(t, "2026-11-23 08:33:20.999999999", 1, T0 + 999);
        check_pt(t, "1795422800.999", 1, T0 + 999);
        check_pt(t, "1795422800.001", 1, T0 + 1);
        check_pt(t, "1795422800.999999", 1, T0 + 999);
        check_pt(t, "1795422800.000999", 1, T0);
        check_pt(t, "1795422800.731999", 1, T0 + 731);
}

static void test_parse_time_zone_suffix(void **state)
{
        (void)state;
        int calls = 0;
        struct kt_zone zone, *t = &zone;
        kt_zone_set(t, NULL, NULL);
        /* the suffix decides, the fn (which would fail) is not consulted */
        kt_zone_set(t, fail_fn, &calls);
        check_pt(t, "2026-11-23T08:33:20.731040Z", 1, T0 + 731);
        check_pt(t, "2026-11-23 08:33:20.731040Z", 1, T0 + 731);
        check_pt(t, "2026-11-23T08:33:20Z", 1, T0);
        check_pt(t, "2026-11-23T09:33:20.731+01:00", 1, T0 + 731);
        check_pt(t, "2026-11-23 09:33:20+01:00", 1, T0);
        check_pt(t, "2026-11-23T08:33:20.731+00:00", 1, T0 + 731);
        check_pt(t, "2026-11-23T08:33:20.731-00:00", 1, T0 + 731);
        check_pt(t, "2026-11-23T03:03:20.731-05:30", 1, T0 + 731);
        check_pt(t, "2026-11-23T14:03:20.5+05:30", 1, T0 + 500);
        check_pt(t, "2026-11-23T22:33:20+14:00", 1, T0);
        assert_int_equal(calls, 0);
}

static void test_parse_time_epoch(void **state)
{
        (void)state;
        struct kt_zone zone, *t = &zone;
        kt_zone_set(t, NULL, NULL);
        check_pt(t, "1795422833.769141", 1, INT64_C(1795422833769));
        check_pt(t, "1795422833", 1, INT64_C(1795422833000));
        check_pt(t, "1795422833.000000", 1, INT64_C(1795422833000));
        check_pt(t, "1", 1, 1000);
        check_pt(t, "0.001000", 1, 1);
        /* epoch times are UTC whatever the collector's zone */
        int calls = 0;
        kt_zone_set(t, fail_fn, &calls);
        check_pt(t, "1795422833.769141", 1, INT64_C(1795422833769));
        assert_int_equal(calls, 0);
}

static void test_parse_time_zero(void **state)
{
        (void)state;
        struct kt_zone zone, *t = &zone;
        kt_zone_set(t, NULL, NULL);
        check_pt(t, "0000-00-00 00:00:00.000000", 0, 0);
        check_pt(t, "0.000000", 0, 0);
        check_pt(t, "0", 0, 0);
        /* a zero local time never reaches the fn */
        int calls = 0;
        kt_zone_set(t, fail_fn, &calls);
        check_pt(t, "0000-00-00 00:00:00.000000", 0, 0);
        assert_int_equal(calls, 0);
}

static void test_parse_time_invalid(void **state)
{
        (void)state;
        struct kt_zone zone, *t = &zone;
        kt_zone_set(t, NULL, NULL);
        int failures = 0;
        for (size_t i = 0; i < N_BAD_TIMES; i++) {
                int64_t ms = -777;
                int rc = kt_parse_time(t, BAD_TIMES[i], strlen(BAD_TIMES[i]),
                                       &ms);
                if (rc != -1) {
                        print_error("kt_parse_time(\"%s\") = %d (ms %" PRId64
                                    "), expected -1\n", BAD_TIMES[i], rc, ms);
                        failures++;
                }
        }
        assert_int_equal(failures, 0);
}

static void test_parse_time_local_fn(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_zone zone, *t = &zone;
        kt_zone_set(t, NULL, NULL);
        kt_zone_set(t, fixed_fn, &z);
        check_pt(t, "2026-11-23 09:33:20.731040", 1, T0 + 731);
        assert_true(z.calls >= 1);
        /* the fn sees the local broken-down time, tm_isdst = -1 */
        assert_int_equal(z.last.tm_year, 126);
        assert_int_equal(z.last.tm_mon, 10);
        assert_int_equal(z.last.tm_mday, 23);
        assert_int_equal(z.last.tm_hour, 9);
        assert_int_equal(z.last.tm_min, 33);
        assert_int_equal(z.last.tm_isdst, -1);
        check_pt(t, "2026-11-23T09:33:20", 1, T0);
        check_pt(t, "2026-11-23 00:30:00", 1, ms_of("2026-11-22 23:30:00"));
        check_pt(t, "1970-01-01 01:00:01", 1, 1000);
        /* explicit zones ignore the fn */
        check_pt(t, "2026-11-23 08:33:20Z", 1, T0);
        check_pt(t, "2026-11-23T10:33:20+02:00", 1, T0);

        /* a fn that cannot convert: not a time */
        int calls = 0;
        kt_zone_set(t, fail_fn, &calls);
        check_pt(t, "2026-11-23 09:33:20.731040", -1, 0);
        assert_true(calls >= 1);
}

static void test_parse_time_sweep(void **state)
{
        (void)state;
        struct kt_zone zone, *t = &zone;
        kt_zone_set(t, NULL, NULL);
        uint64_t x = 0x9E3779B97F4A7C15ULL;
        int failures = 0;
        for (int i = 0; i < 5000 && failures < 10; i++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                int64_t s = 1 + (int64_t)(x % INT64_C(4102444800)); /* ..2100 */
                int us = (int)((x >> 32) % 1000000);
                time_t tt = (time_t)s;
                struct tm tm;
                gmtime_r(&tt, &tm);
                char buf[64], ep[64];
                size_t n = strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
                snprintf(buf + n, sizeof buf - n, ".%06d", us);
                snprintf(ep, sizeof ep, "%" PRId64 ".%06d", s, us);
                int64_t exp = s * 1000 + us / 1000, ms = -1;
                const char *in[2] = { buf, ep };
                for (int k = 0; k < 2; k++) {
                        int rc = kt_parse_time(t, in[k], strlen(in[k]), &ms);
                        if (rc != 1 || ms != exp) {
                                print_error("kt_parse_time(\"%s\") rc=%d ms=%"
                                            PRId64 ", expected %" PRId64 "\n",
                                            in[k], rc, ms, exp);
                                failures++;
                        }
                }
        }
        assert_int_equal(failures, 0);
}

/* The cache: at most one fn call per distinct local minute, and results
 * stay right to the second and millisecond. */
static void test_local_fn_cache(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        kt_transform_set_timezone(t, fixed_fn, &z);
        char line[128], exp[512];
        for (int sec = 0; sec < 60; sec += 3) {
                snprintf(line, sizeof line,
                         "{\"ts\": \"2026-11-23 09:33:%02d.%06d\"}", sec,
                         sec * 16661);
                char iso[32];
                ref_iso(ms_of("2026-11-23 08:33:00") + sec * 1000 +
                        (sec * 16661) / 1000, iso);
                snprintf(exp, sizeof exp, PREFIX "%s\", \"ts\": "
                         "\"2026-11-23 09:33:%02d.%06d\"}", iso, sec,
                         sec * 16661);
                expect_out(t, line, exp);
        }
        assert_true(z.calls <= 1);
        expect_out(t, "{\"ts\": \"2026-11-23 09:34:05\"}",
                   PFX("2026-11-23T08:34:05.000Z")
                   ", \"ts\": \"2026-11-23 09:34:05\"}");
        assert_true(z.calls <= 2);
        done(t);
}

/* TZ as it was (old: a copy of its value, or NULL when it was unset). */
static void tz_restore(char *old)
{
        if (old) {
                setenv("TZ", old, 1);
                tfree(old);
        } else {
                unsetenv("TZ");
        }
        tzset();
}

static void test_dst_europe_paris(void **state)
{
        (void)state;
        char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        setenv("TZ", "Europe/Paris", 1);
        tzset();
        int calls = 0;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        kt_transform_set_timezone(t, mktime_fn, &calls);
        /* TZ=Europe/Paris date -d '...' +%s; CEST ends 2026-10-25 03:00 */
        expect_out(t, "{\"ts\": \"2026-10-25 01:30:00.250\"}",
                   PFX("2026-10-24T23:30:00.250Z")
                   ", \"ts\": \"2026-10-25 01:30:00.250\"}");
        expect_out(t, "{\"ts\": \"2026-10-25 01:59:59\"}",
                   PFX("2026-10-24T23:59:59.000Z")
                   ", \"ts\": \"2026-10-25 01:59:59\"}");
        expect_out(t, "{\"ts\": \"2026-10-25 03:00:30\"}",
                   PFX("2026-10-25T02:00:30.000Z")
                   ", \"ts\": \"2026-10-25 03:00:30\"}");
        expect_out(t, "{\"ts\": \"2026-10-25 03:30:00\"}",
                   PFX("2026-10-25T02:30:00.000Z")
                   ", \"ts\": \"2026-10-25 03:30:00\"}");
        expect_out(t, "{\"ts\": \"2026-10-24 12:00:00\"}",
                   PFX("2026-10-24T10:00:00.000Z")
                   ", \"ts\": \"2026-10-24 12:00:00\"}");
        expect_out(t, "{\"ts\": \"2026-10-26 12:00:00\"}",
                   PFX("2026-10-26T11:00:00.000Z")
                   ", \"ts\": \"2026-10-26 12:00:00\"}");
        /* and the spring change, 2026-03-29 02:00 CET -> 03:00 CEST */
        expect_out(t, "{\"ts\": \"2026-03-29 01:59:00\"}",
                   PFX("2026-03-29T00:59:00.000Z")
                   ", \"ts\": \"2026-03-29 01:59:00\"}");
        expect_out(t, "{\"ts\": \"2026-03-29 03:00:00\"}",
                   PFX("2026-03-29T01:00:00.000Z")
                   ", \"ts\": \"2026-03-29 03:00:00\"}");
        /* kt_parse_time directly, too */
        struct kt_zone zone;
        kt_zone_set(&zone, mktime_fn, &calls);
        check_pt(&zone, "2026-10-25 01:30:00", 1, INT64_C(1792884600000));
        check_pt(&zone, "2026-10-25 03:30:00", 1, INT64_C(1792895400000));
        done(t);
        tz_restore(old);
}

/*
 * The minute memo (kt_parse_time_memo) gives what a full parse gives,
 * time after time: seconds of one minute, another zone on the same
 * minute, bad seconds, the other separator, zero and epoch times, in
 * UTC and through a local zone.
 */
static void test_minute_memo_agrees(void **state)
{
        static const char *const seq[] = {
                "2026-11-22 18:01:05.673440", "2026-11-22 18:01:06.1",
                "2026-11-22 18:01:59", "2026-11-22 18:01:60",
                "2026-11-22 18:01:07Z", "2026-11-22 18:01:07+02:00",
                "2026-11-22 18:01:08+02:00", "2026-11-22 18:01:08-05:30",
                "2026-11-22 18:01:09", "2026-11-22 18:01:9",
                "2026-11-22 18:01:09.", "2026-11-22 18:01:09.1234567890",
                "2026-11-22T18:01:10.5", "2026-11-22 18:01:10x",
                "0000-00-00 00:00:00.000000", "2026-11-22 18:01:11",
                "1795422833.769141", "2026-11-22 18:02:00",
                "2026-11-22 18:01:12", "2026-10-25 02:30:00",
                "2026-10-25 02:30:59.999", "2026-10-25 03:30:00",
                "2026-02-29 10:00:00", "2026-02-28 10:00:00",
                "2026-02-28 10:00:01",
        };
        char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        int calls = 0;

        (void)state;
        setenv("TZ", "Europe/Paris", 1);
        tzset();
        for (int local = 0; local < 2; local++) {
                struct kt_zone za, zb;
                struct kt_minute_memo mm;

                kt_zone_set(&za, local ? mktime_fn : NULL, &calls);
                kt_zone_set(&zb, local ? mktime_fn : NULL, &calls);
                kt_minute_memo_init(&mm);
                for (int round = 0; round < 2; round++)
                        for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]);
                             i++) {
                                int64_t a = -7, b = -7;
                                int ra = kt_parse_time(&za, seq[i],
                                                       strlen(seq[i]), &a);
                                int rb = kt_parse_time_memo(&zb, &mm, seq[i],
                                                            strlen(seq[i]),
                                                            &b);

                                if (ra != rb || (ra == KT_TIME_OK && a != b))
                                        fail_msg("%s (local %d): %d %" PRId64
                                                 ", by the minute %d %" PRId64,
                                                 seq[i], local, ra, a, rb, b);
                        }
        }
        tz_restore(old);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_iso8601_known_values, cleanup),
                cmocka_unit_test_teardown(test_iso8601_matches_gmtime, cleanup),
                cmocka_unit_test_teardown(test_iso8601_errors, cleanup),
                cmocka_unit_test_teardown(test_iso_memo_matches_formatter, cleanup),
                cmocka_unit_test_teardown(test_parse_time_datetime_utc, cleanup),
                cmocka_unit_test_teardown(test_parse_time_truncates, cleanup),
                cmocka_unit_test_teardown(test_parse_time_zone_suffix, cleanup),
                cmocka_unit_test_teardown(test_parse_time_epoch, cleanup),
                cmocka_unit_test_teardown(test_parse_time_zero, cleanup),
                cmocka_unit_test_teardown(test_parse_time_invalid, cleanup),
                cmocka_unit_test_teardown(test_parse_time_local_fn, cleanup),
                cmocka_unit_test_teardown(test_parse_time_sweep, cleanup),
                cmocka_unit_test_teardown(test_local_fn_cache, cleanup),
                cmocka_unit_test_teardown(test_dst_europe_paris, cleanup),
                cmocka_unit_test_teardown(test_minute_memo_agrees, cleanup),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
