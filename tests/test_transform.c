/*
 * tests/test_transform.c: unit tests for transform.c, against the contract
 * in transform.h and the kt_transform_line specification.
 *
 * Build (from the project root):
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. tests/test_transform.c \
 *      transform.c $(pkg-config --cflags --libs cmocka json-c) -o build/test_transform
 * Run from the project root (the pmacct captures are looked up in
 * $KT_SAMPLES_DIR, tests/data, ../shared/samples, /work/shared/samples).
 * KT_TEST_VERBOSE=1 lists every input on which json-c disagrees with RFC 8259.
 *
 * The reference JSON parser is json-c in strict mode:
 *   json_tokener_new_ex(KT_MAX_DEPTH) with
 *   JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8,
 * fed the input plus its terminating NUL (json-c 0.16 cannot tell that a
 * top-level number or literal has ended without it), accepting only when it
 * succeeds AND json_tokener_get_parse_end() == length (the whole input was
 * consumed; json-c stops at the first NUL byte, so an embedded NUL fails).
 *
 * Depth.  json-c counts every value (scalars included) as one level: the
 * top-level value is at its internal depth 0 and a value can be opened at
 * internal depth d only when d < max_depth.  Counting the top-level object as
 * depth 1 (the spec's convention), new_ex(64) therefore accepts any value
 * whose own depth is <= 64 and rejects one at depth 65: no off-by-one
 * adjustment is needed, json_tokener_new_ex(KT_MAX_DEPTH) is the reference.
 * Consequence (see test_depth_boundary_value_depth): 64 nested containers are
 * accepted only while the innermost one is empty; a scalar inside the 64th
 * container sits at depth 65 and is rejected.  (json-c with new_ex(65) would
 * accept 65 nested empty containers, so no json-c setting implements a
 * "count containers only" rule.)
 *
 * Where json-c 0.16 is laxer than RFC 8259 the tests follow RFC 8259 and the
 * transform spec (which explicitly requires rejecting control characters,
 * overlong UTF-8, UTF-8-encoded surrogates and code points > U+10FFFF).
 * Observed json-c 0.16 strict-mode quirks (each is in the corpus below with
 * its json-c verdict, and the test checks json-c still behaves so):
 *   1. leading zeros: only a non-zero unsigned integer starting with 0 is
 *      rejected; "00", "-00", "-01", "0123.5" are accepted;
 *   2. empty fraction: "1.", "-1.", "2.", "1.e5" are accepted;
 *   3. "-.5" is accepted (".5" is not);
 *   4. NaN, Infinity, -Infinity are accepted (case-sensitive in strict mode);
 *   5. raw control characters U+0001..U+001F inside strings are accepted;
 *   6. JSON_TOKENER_VALIDATE_UTF8 only checks lead/continuation structure:
 *      overlong forms (C0 80, C1 BF, E0 80 80, F0 80 80 80), UTF-8-encoded
 *      surrogates (ED A0 80..ED BF BF) and code points above U+10FFFF
 *      (F4 90 80 80, F7 BF BF BF) are accepted;
 *   7. single-quoted object keys are accepted: {'a':1} (single-quoted values
 *      are rejected).
 * Define KT_TEST_FOLLOW_JSONC=1 to expect json-c's verdicts instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "transform.h"

#ifndef KT_TEST_FOLLOW_JSONC
#define KT_TEST_FOLLOW_JSONC 0
#endif

/* ------------------------------------------------------------------ */
/* Fixtures and helpers                                                */
/* ------------------------------------------------------------------ */

#define TEST_ID "123e4567-e89b-12d3-a456-426614174000"
#define TEST_INGEST_MS INT64_C(1795422900123)
#define TEST_INGEST_ISO "2026-11-23T08:35:00.123Z" /* date -u -d @1795422900 */
#define SCHEMA "/netflow/flow/1.0.0"
#define STREAM "netflow"
#define DOMAIN "test.example"

/* Everything before the event time's value. */
#define PREFIX                                                              \
        "{\"$schema\": \"" SCHEMA "\", \"meta\": {\"stream\": \"" STREAM    \
        "\", \"id\": \"" TEST_ID "\", \"dt\": \"" TEST_INGEST_ISO           \
        "\", \"domain\": \"" DOMAIN "\"}, \"dt\": \""
/* The envelope when dt falls back to the ingestion time. */
#define PFX_INGEST PREFIX TEST_INGEST_ISO "\""
/* The envelope for a given event ISO time. */
#define PFX(iso) PREFIX iso "\""

/* A string literal that may hold NUL bytes, as (pointer, length). */
#define L(s) (s), (sizeof(s) - 1)

static const struct kt_input IN = { TEST_ID, TEST_INGEST_MS };

/*
 * Everything a test allocates is registered, so that a failing assertion
 * (which longjmps out of the test) does not leak under the sanitizers: the
 * teardown frees what is left.
 */
#define LIVE_MAX 64
static struct kt_transform *live_t[LIVE_MAX];
static void *live_b[LIVE_MAX];

static void *tmalloc(size_t n)
{
        void *p = malloc(n);
        for (int i = 0; p && i < LIVE_MAX; i++)
                if (live_b[i] == NULL) {
                        live_b[i] = p;
                        break;
                }
        return p;
}

static void tfree(void *p)
{
        for (int i = 0; p && i < LIVE_MAX; i++)
                if (live_b[i] == p)
                        live_b[i] = NULL;
        free(p);
}

static struct kt_transform *track(struct kt_transform *t)
{
        for (int i = 0; t && i < LIVE_MAX; i++)
                if (live_t[i] == NULL) {
                        live_t[i] = t;
                        break;
                }
        return t;
}

static void done(struct kt_transform *t)
{
        for (int i = 0; t && i < LIVE_MAX; i++)
                if (live_t[i] == t)
                        live_t[i] = NULL;
        kt_transform_free(t);
}

static int cleanup(void **state)
{
        (void)state;
        for (int i = 0; i < LIVE_MAX; i++) {
                kt_transform_free(live_t[i]);
                live_t[i] = NULL;
                free(live_b[i]);
                live_b[i] = NULL;
        }
        return 0;
}

static void show_bytes(const char *p, size_t n)
{
        char buf[8192];
        size_t o = 0;
        for (size_t i = 0; i < n && o + 8 < sizeof buf; i++) {
                unsigned char c = (unsigned char)p[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        buf[o++] = (char)c;
                else
                        o += (size_t)snprintf(buf + o, sizeof buf - o,
                                              "\\x%02x", c);
        }
        if (o + 8 >= sizeof buf)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "...");
        buf[o] = '\0';
        print_error("%s", buf);
}

static struct kt_transform *mk(void)
{
        struct kt_transform *t = track(kt_transform_new());
        assert_non_null(t);
        assert_int_equal(kt_transform_set_envelope(t, SCHEMA, STREAM, DOMAIN),
                         0);
        return t;
}

/* Time zone callbacks. */
struct fixed_tz {
        int64_t offset_s; /* local = UTC + offset_s */
        int calls;
        struct tm last;
};

static int fixed_fn(void *arg, const struct tm *local, int64_t *out)
{
        struct fixed_tz *z = arg;
        struct tm c = *local;
        z->calls++;
        z->last = *local;
        time_t s = timegm(&c);
        *out = (int64_t)s - z->offset_s;
        return 0;
}

static int fail_fn(void *arg, const struct tm *local, int64_t *out)
{
        int *calls = arg;
        (void)local;
        (void)out;
        if (calls)
                (*calls)++;
        return -1;
}

static int mktime_fn(void *arg, const struct tm *local, int64_t *out)
{
        int *calls = arg;
        struct tm c = *local;
        if (calls)
                (*calls)++;
        c.tm_isdst = -1;
        time_t s = mktime(&c);
        if (s == (time_t)-1)
                return -1;
        *out = (int64_t)s;
        return 0;
}

/* The production configuration of the default netflow stream. */
static struct kt_transform *mk_prod(kt_local_to_utc_fn fn, void *arg)
{
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_start"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_arrival"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "stamp_inserted"), 0);
        assert_int_equal(kt_transform_integer(t, "tcp_flags"), 0);
        kt_transform_set_timezone(t, fn, arg);
        return t;
}

static void check_error_message(struct kt_transform *t, const char *file,
                                int line)
{
        const char *msg = kt_transform_error(t);
        if (msg == NULL || msg[0] == '\0' || strchr(msg, '\n') != NULL) {
                print_error("kt_transform_error() must be one non-empty line, "
                            "got %s%s%s\n", msg ? "\"" : "",
                            msg ? msg : "NULL", msg ? "\"" : "");
                _fail(file, line);
        }
}

static struct kt_event EV;

static enum kt_status run(struct kt_transform *t, const char *line, size_t len)
{
        memset(&EV, 0, sizeof EV);
        EV.purged_entries = 12345; /* poison */
        EV.timestamp_ms = -12345;
        return kt_transform_line(t, line, len, &IN, &EV);
}

static void expect_output_(struct kt_transform *t, const char *line,
                           size_t len, const char *exp, const char *file,
                           int lineno)
{
        enum kt_status st = run(t, line, len);
        if (st != KT_EVENT) {
                print_error("status %d (%s), expected KT_EVENT for input:\n  ",
                            (int)st, st == KT_INVALID ? kt_transform_error(t)
                                                       : "skip");
                show_bytes(line, len);
                print_error("\n");
                _fail(file, lineno);
        }
        if (EV.value == NULL || EV.value_len != strlen(exp) ||
            memcmp(EV.value, exp, EV.value_len) != 0) {
                print_error("output mismatch for input:\n  ");
                show_bytes(line, len);
                print_error("\nexpected:\n  ");
                show_bytes(exp, strlen(exp));
                print_error("\ngot:\n  ");
                if (EV.value)
                        show_bytes(EV.value, EV.value_len);
                else
                        print_error("NULL");
                print_error("\n");
                _fail(file, lineno);
        }
}
/* expect_output(t, line, len, exp); line, len may come from L() */
#define expect_output(t, ...)                                              \
        expect_output_((t), __VA_ARGS__, __FILE__, __LINE__)
/* For NUL-free string literals / C strings. */
#define expect_out(t, line, exp) expect_output((t), (line), strlen(line), (exp))

static void expect_invalid_(struct kt_transform *t, const char *line,
                            size_t len, const char *file, int lineno)
{
        enum kt_status st = run(t, line, len);
        if (st != KT_INVALID) {
                print_error("status %d, expected KT_INVALID for input:\n  ",
                            (int)st);
                show_bytes(line, len);
                if (st == KT_EVENT && EV.value) {
                        print_error("\ngot event:\n  ");
                        show_bytes(EV.value, EV.value_len);
                }
                print_error("\n");
                _fail(file, lineno);
        }
        check_error_message(t, file, lineno);
}
/* expect_invalid(t, line, len); line, len may come from L() */
#define expect_invalid(t, ...)                                             \
        expect_invalid_((t), __VA_ARGS__, __FILE__, __LINE__)
#define expect_inv(t, line) expect_invalid((t), (line), strlen(line))

/* The reference: json-c strict, whole input consumed. */
static int jsonc_accepts(const char *buf, size_t len, int depth)
{
        struct json_tokener *tok = json_tokener_new_ex(depth);
        assert_non_null(tok);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                    JSON_TOKENER_VALIDATE_UTF8);
        char *copy = tmalloc(len + 1);
        assert_non_null(copy);
        memcpy(copy, buf, len);
        copy[len] = '\0';
        struct json_object *o = json_tokener_parse_ex(tok, copy, (int)len + 1);
        int ok = json_tokener_get_error(tok) == json_tokener_success &&
                 json_tokener_get_parse_end(tok) == len;
        json_object_put(o);
        json_tokener_free(tok);
        tfree(copy);
        return ok;
}

static int is_json_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int64_t ms_of(const char *utc) /* "YYYY-MM-DD HH:MM:SS" UTC */
{
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        assert_int_equal(sscanf(utc, "%d-%d-%d %d:%d:%d", &tm.tm_year,
                                &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                                &tm.tm_min, &tm.tm_sec), 6);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (int64_t)timegm(&tm) * 1000;
}

/* Independent ISO formatter (gmtime_r + strftime). */
static void ref_iso(int64_t ms, char out[32])
{
        time_t s = (time_t)(ms / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&s, &tm));
        size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

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

/* ------------------------------------------------------------------ */
/* kt_parse_time                                                        */
/* ------------------------------------------------------------------ */

static void check_pt_(struct kt_transform *t, const char *s, int exp_rc,
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

#define T0 INT64_C(1795422800000) /* 2026-11-23 08:33:20 UTC */

static void test_parse_time_datetime_utc(void **state)
{
        (void)state;
        struct kt_transform *t = mk(); /* no fn: local times are UTC */
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
        done(t);
}

static void test_parse_time_truncates(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
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
        done(t);
}

static void test_parse_time_zone_suffix(void **state)
{
        (void)state;
        int calls = 0;
        struct kt_transform *t = mk();
        /* the suffix decides, the fn (which would fail) is not consulted */
        kt_transform_set_timezone(t, fail_fn, &calls);
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
        done(t);
}

static void test_parse_time_epoch(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        check_pt(t, "1795422833.769141", 1, INT64_C(1795422833769));
        check_pt(t, "1795422833", 1, INT64_C(1795422833000));
        check_pt(t, "1795422833.000000", 1, INT64_C(1795422833000));
        check_pt(t, "1", 1, 1000);
        check_pt(t, "0.001000", 1, 1);
        done(t);
        /* epoch times are UTC whatever the collector's zone */
        int calls = 0;
        t = mk();
        kt_transform_set_timezone(t, fail_fn, &calls);
        check_pt(t, "1795422833.769141", 1, INT64_C(1795422833769));
        assert_int_equal(calls, 0);
        done(t);
}

static void test_parse_time_zero(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        check_pt(t, "0000-00-00 00:00:00.000000", 0, 0);
        check_pt(t, "0.000000", 0, 0);
        check_pt(t, "0", 0, 0);
        done(t);
        /* a zero local time never reaches the fn */
        int calls = 0;
        t = mk();
        kt_transform_set_timezone(t, fail_fn, &calls);
        check_pt(t, "0000-00-00 00:00:00.000000", 0, 0);
        assert_int_equal(calls, 0);
        done(t);
}

static const char *const BAD_TIMES[] = {
        "2026-13-01 00:00:00", "2026-00-10 00:00:00", "2026-11-00 00:00:00",
        "2026-11-31 00:00:00", "2026-11-32 00:00:00", "2026-02-30 00:00:00",
        "2026-02-29 00:00:00", /* 2026 is not a leap year */
        "2100-02-29 00:00:00", /* nor is 2100 */
        "2026-04-31 12:00:00", "2026-11-23 24:00:00", "2026-11-23 08:60:00",
        "2026-11-23 08:33:61", "2026-11-23 25:00:00",
        "1969-12-31 23:59:59", "1969-12-31 23:59:59.999", "1900-01-01 00:00:00",
        "garbage", "", " ", "2026-11-23", "2026-11-23 08:33",
        "2026-11-23 08:33:20.", "2026-11-23 08:33:20.1234567890",
        "2026-11-23 08:33:20.73a", "2026-11-23 08:33:20x",
        "2026-11-23  08:33:20", "2026-11-23 8:33:20", "26-11-23 08:33:20",
        "2026/11/23 08:33:20", "2026-11-23 08:33:20 UTC",
        "2026-11-23T08:33:20ZZ", "2026-11-23T08:33:20 Z",
        "2026-11-23 08:33:20 ", " 2026-11-23 08:33:20",
        "-1", "-1795422833", "1795422833.769.1", "1e9", "0x6B0", "17954228OO",
        "99999999999999999999", "1795422833x", "abc", "1795422833 ",
        " 1795422833", "1795422833.76x",
};

static void test_parse_time_invalid(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        int failures = 0;
        for (size_t i = 0; i < sizeof BAD_TIMES / sizeof BAD_TIMES[0]; i++) {
                int64_t ms = -777;
                int rc = kt_parse_time(t, BAD_TIMES[i], strlen(BAD_TIMES[i]),
                                       &ms);
                if (rc != -1) {
                        print_error("kt_parse_time(\"%s\") = %d (ms %" PRId64
                                    "), expected -1\n", BAD_TIMES[i], rc, ms);
                        failures++;
                }
        }
        done(t);
        assert_int_equal(failures, 0);
}

static void test_parse_time_local_fn(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk();
        kt_transform_set_timezone(t, fixed_fn, &z);
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
        done(t);

        /* a fn that cannot convert: not a time */
        int calls = 0;
        t = mk();
        kt_transform_set_timezone(t, fail_fn, &calls);
        check_pt(t, "2026-11-23 09:33:20.731040", -1, 0);
        assert_true(calls >= 1);
        done(t);
}

static void test_parse_time_sweep(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
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
        done(t);
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
        check_pt(t, "2026-10-25 01:30:00", 1, INT64_C(1792884600000));
        check_pt(t, "2026-10-25 03:30:00", 1, INT64_C(1792895400000));
        done(t);
        if (old) {
                setenv("TZ", old, 1);
                tfree(old);
        } else {
                unsetenv("TZ");
        }
        tzset();
}

/* ------------------------------------------------------------------ */
/* kt_transform_line: the output format                                 */
/* ------------------------------------------------------------------ */

static void test_readme_example_exact(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        const char *in =
            "{\"event_type\": \"purge\", \"tag\": 7, \"ip_src\": \"10.0.0.1\", "
            "\"ip_dst\": \"10.0.0.2\", \"port_src\": 41640, \"port_dst\": 443, "
            "\"tcp_flags\": \"2\", \"ip_proto\": \"tcp\", \"timestamp_start\": "
            "\"2026-11-23 09:33:20.731040\", \"stamp_inserted\": "
            "\"2026-11-23 09:33:00\", \"packets\": 1, \"bytes\": 60}";
        const char *exp =
            PFX("2026-11-23T08:33:20.731Z")
            ", \"tag\": 7, \"ip_src\": \"10.0.0.1\", \"ip_dst\": \"10.0.0.2\", "
            "\"port_src\": 41640, \"port_dst\": 443, \"tcp_flags\": 2, "
            "\"ip_proto\": \"tcp\", \"timestamp_start\": "
            "\"2026-11-23 09:33:20.731040\", \"stamp_inserted\": "
            "\"2026-11-23 09:33:00\", \"packets\": 1, \"bytes\": 60}";
        expect_out(t, in, exp);
        assert_int_equal(EV.timestamp_ms, INT64_C(1795422800731));
        assert_null(EV.key);
        assert_true(jsonc_accepts(EV.value, EV.value_len, KT_MAX_DEPTH));
        done(t);
}

static void test_separators_normalized(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *exp = PFX_INGEST ", \"a\": 1, \"b\": \"x\", \"c\": [1,2]}";
        expect_out(t, "{\"a\":1,\"b\":\"x\",\"c\":[1,2]}", exp);
        assert_int_equal(EV.timestamp_ms, TEST_INGEST_MS);
        expect_out(t, "{ \"a\" :\t1 ,\r\n\"b\"\n:\"x\"  ,  \"c\" : [1,2] }",
                   exp);
        expect_out(t, "{\"a\": 1, \"b\": \"x\", \"c\": [1,2]}", exp);
        /* an empty object: just the envelope */
        expect_out(t, "{}", PFX_INGEST "}");
        expect_out(t, "{\"event_type\": \"purge\"}", PFX_INGEST "}");
        done(t);
}

static void test_values_copied_byte_for_byte(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *in =
            "{\"event_type\": \"purge\", \"a\": 7, \"b\": 1.0e3, "
            "\"c\": 18446744073709551615, \"c2\": 123456789012345678901234567890,"
            " \"d\": \"x\\\"y\\\\\\u00e9\\n\\/\\t\\b\\f\\r\\uD83D\\uDE00\", "
            "\"e\": { \"x\" :[1 ,  2, {\"y\":null} ] }, \"f\": [ ], \"g\": true,"
            " \"h\": false, \"i\": null, \"j\": -0.5E-3, \"k\": -0, "
            "\"l\": 1E+2, \"m\": \"\", \"n\": {}, \"o\": 0.1e-7, "
            "\"p\": -9223372036854775808, \"key\": \"esc\\u0065\"}";
        const char *exp =
            PFX_INGEST ", \"a\": 7, \"b\": 1.0e3, "
            "\"c\": 18446744073709551615, \"c2\": 123456789012345678901234567890,"
            " \"d\": \"x\\\"y\\\\\\u00e9\\n\\/\\t\\b\\f\\r\\uD83D\\uDE00\", "
            "\"e\": { \"x\" :[1 ,  2, {\"y\":null} ] }, \"f\": [ ], \"g\": true,"
            " \"h\": false, \"i\": null, \"j\": -0.5E-3, \"k\": -0, "
            "\"l\": 1E+2, \"m\": \"\", \"n\": {}, \"o\": 0.1e-7, "
            "\"p\": -9223372036854775808, \"key\": \"esc\\u0065\"}";
        expect_out(t, in, exp);
        assert_true(jsonc_accepts(EV.value, EV.value_len, KT_MAX_DEPTH));
        done(t);
}

/* "\u0064t" decodes to "dt": a top-level name with escapes is refused. */
static void test_escaped_field_names_refused(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        struct kt_input in = { .id = "00000000-0000-4000-8000-000000000000",
                               .ingest_ms = 0 };
        struct kt_event ev;
        static const char *const lines[] = {
                "{\"k\\u0065y\": 1}",
                "{\"\\u0064t\": \"2000-01-01 00:00:00\"}",
                "{\"event\\u005ftype\": \"purge_init\"}",
                "{\"a\": 1, \"\\u0061\": 2}",
        };
        size_t i;

        for (i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
                assert_int_equal(kt_transform_line(t, lines[i],
                                                   strlen(lines[i]), &in,
                                                   &ev), KT_INVALID);
                assert_non_null(strstr(kt_transform_error(t), "escape"));
        }
        /* Inside values and nested objects, escapes stay as they are. */
        const char *nested = "{\"a\": {\"\\u0061\": 1}}";

        assert_int_equal(kt_transform_line(t, nested, strlen(nested), &in,
                                           &ev), KT_EVENT);
        done(t);
}

static void test_valid_utf8_copied(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *in = "{\"\xc3\xa9t\xc3\xa9\": \"\xe6\x97\xa5\xe6\x9c\xac "
                         "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf "
                         "\xc2\xa0\x7f\", \"z\": \"\xed\x9f\xbf\xee\x80\x80\"}";
        const char *exp = PFX_INGEST ", \"\xc3\xa9t\xc3\xa9\": \"\xe6\x97\xa5"
                          "\xe6\x9c\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf "
                          "\xef\xbf\xbf \xc2\xa0\x7f\", \"z\": "
                          "\"\xed\x9f\xbf\xee\x80\x80\"}";
        expect_out(t, in, exp);
        done(t);
}

static void test_event_type_never_forwarded(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_out(t, "{\"event_type\": \"purge\", \"a\": 1}",
                   PFX_INGEST ", \"a\": 1}");
        expect_out(t, "{\"a\": 1, \"event_type\": \"purge\"}",
                   PFX_INGEST ", \"a\": 1}");
        expect_out(t, "{\"a\": 1, \"event_type\": \"purge\", \"b\": 2}",
                   PFX_INGEST ", \"a\": 1, \"b\": 2}");
        /* other event types are normal records, event_type still removed */
        expect_out(t, "{\"event_type\": \"purge_initx\", \"a\": 1}",
                   PFX_INGEST ", \"a\": 1}");
        expect_out(t, "{\"event_type\": \"PURGE_INIT\", \"a\": 1}",
                   PFX_INGEST ", \"a\": 1}");
        expect_out(t, "{\"event_type\": \"trigger\", \"a\": 1}",
                   PFX_INGEST ", \"a\": 1}");
        /* no event_type at all: a normal record */
        expect_out(t, "{\"a\": 1}", PFX_INGEST ", \"a\": 1}");
        done(t);
}

static void test_drop(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_drop(t, "b"), 0);
        assert_int_equal(kt_transform_drop(t, "d"), 0);
        assert_int_equal(kt_transform_drop(t, "absent"), 0);
        expect_out(t, "{\"event_type\": \"purge\", \"a\": 1, \"b\": 2, "
                      "\"c\": 3, \"d\": {\"x\": [1]}, \"e\": 5}",
                   PFX_INGEST ", \"a\": 1, \"c\": 3, \"e\": 5}");
        expect_out(t, "{\"b\": 2}", PFX_INGEST "}");
        /* names are matched exactly */
        expect_out(t, "{\"bb\": 1, \"B\": 2, \"b \": 3}",
                   PFX_INGEST ", \"bb\": 1, \"B\": 2, \"b \": 3}");
        done(t);
}

static void test_keep(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        /* kept in the order of the input, not of the calls */
        assert_int_equal(kt_transform_keep(t, "c"), 0);
        assert_int_equal(kt_transform_keep(t, "a"), 0);
        assert_int_equal(kt_transform_keep(t, "event_type"), 0);
        assert_int_equal(kt_transform_keep(t, "absent"), 0);
        expect_out(t, "{\"event_type\": \"purge\", \"a\": 1, \"b\": 2, "
                      "\"c\": 3, \"d\": 4}",
                   PFX_INGEST ", \"a\": 1, \"c\": 3}");
        expect_out(t, "{\"b\": 2, \"d\": 4}", PFX_INGEST "}");
        done(t);
}

static void test_keep_with_constants(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_keep(t, "a"), 0);
        assert_int_equal(kt_transform_constant(t, "site", "\"eqiad\""), 0);
        expect_out(t, "{\"a\": 1, \"b\": 2}",
                   PFX_INGEST ", \"a\": 1, \"site\": \"eqiad\"}");
        done(t);
}

static void test_rename_keeps_position(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_rename(t, "ip_src", "src"), 0);
        assert_int_equal(kt_transform_rename(t, "bytes", "octets"), 0);
        expect_out(t, "{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", "
                      "\"ip_dst\": \"10.0.0.2\", \"bytes\": 60, \"x\": 1}",
                   PFX_INGEST ", \"src\": \"10.0.0.1\", \"ip_dst\": "
                   "\"10.0.0.2\", \"octets\": 60, \"x\": 1}");
        done(t);
}

static void test_integer_fields(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *f[] = { "a", "b", "c", "d", "e", "g", "h" };
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
                assert_int_equal(kt_transform_integer(t, f[i]), 0);
        expect_out(t, "{\"event_type\": \"purge\", \"a\": \"2\", \"b\": \"-5\", "
                      "\"c\": \"18446744073709551615\", \"d\": 27, \"x\": \"7\","
                      " \"e\": \"0\", \"g\": -3, \"h\": 1.5}",
                   PFX_INGEST ", \"a\": 2, \"b\": -5, "
                   "\"c\": 18446744073709551615, \"d\": 27, \"x\": \"7\", "
                   "\"e\": 0, \"g\": -3, \"h\": 1.5}");
        /* an integer field that is absent is just absent */
        expect_out(t, "{\"x\": 1}", PFX_INGEST ", \"x\": 1}");
        done(t);
}

static void test_integer_fields_invalid(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_integer(t, "tcp_flags"), 0);
        const char *bad[] = {
                "{\"tcp_flags\": \"2x\"}",  "{\"tcp_flags\": \"\"}",
                "{\"tcp_flags\": \"1.5\"}", "{\"tcp_flags\": \" 2\"}",
                "{\"tcp_flags\": \"2 \"}",  "{\"tcp_flags\": \"x\"}",
                "{\"tcp_flags\": \"-\"}",   "{\"tcp_flags\": \"--1\"}",
                "{\"tcp_flags\": \"0x10\"}", "{\"tcp_flags\": \"1e3\"}",
                "{\"tcp_flags\": \"2\\n\"}", "{\"tcp_flags\": \"tcp\"}",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                expect_inv(t, bad[i]);
        done(t);
}

/* Whatever an implementation does with "007" or "+2", it must never emit
 * invalid JSON such as `"f": 007`. */
static void test_integer_fields_output_is_json(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_integer(t, "f"), 0);
        const char *in[] = { "{\"f\": \"007\"}", "{\"f\": \"+2\"}",
                             "{\"f\": \"-0\"}", "{\"f\": \"00\"}",
                             "{\"f\": \"-007\"}" };
        for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
                enum kt_status st = run(t, in[i], strlen(in[i]));
                if (st == KT_EVENT &&
                    !jsonc_accepts(EV.value, EV.value_len, KT_MAX_DEPTH)) {
                        print_error("invalid JSON output for %s:\n  ", in[i]);
                        show_bytes(EV.value, EV.value_len);
                        print_error("\n");
                        fail();
                }
                if (st == KT_EVENT && strcmp(in[i], "{\"f\": \"007\"}") == 0) {
                        const char *exp = PFX_INGEST ", \"f\": 7}";
                        assert_int_equal(EV.value_len, strlen(exp));
                        assert_memory_equal(EV.value, exp, strlen(exp));
                }
                if (st == KT_INVALID)
                        check_error_message(t, __FILE__, __LINE__);
                else
                        assert_int_equal(st, KT_EVENT);
        }
        done(t);
}

static void test_time_fields(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk();
        kt_transform_set_timezone(t, fixed_fn, &z);
        const char *tf[] = { "timestamp_start", "timestamp_end",
                             "stamp_updated", "e1", "e2", "e3", "z1", "z2",
                             "z3", "u" };
        for (size_t i = 0; i < sizeof tf / sizeof tf[0]; i++)
                assert_int_equal(kt_transform_time(t, tf[i]), 0);
        expect_out(t,
                   "{\"event_type\": \"purge\", \"a\": 1, \"timestamp_start\": "
                   "\"2026-11-23 09:33:20.731040\", \"timestamp_end\": "
                   "\"0000-00-00 00:00:00.000000\", \"b\": 2, \"stamp_updated\":"
                   " \"2026-11-23 09:33:25\", \"e1\": \"1795422800.731040\", "
                   "\"e2\": 1795422800.999, \"e3\": 1795422800, \"z1\": "
                   "\"0.000000\", \"z2\": \"0\", \"z3\": 0, \"u\": "
                   "\"2026-11-23T08:33:20.5Z\", \"c\": 3}",
                   PFX_INGEST ", \"a\": 1, \"timestamp_start\": "
                   "\"2026-11-23T08:33:20.731Z\", \"b\": 2, \"stamp_updated\": "
                   "\"2026-11-23T08:33:25.000Z\", \"e1\": "
                   "\"2026-11-23T08:33:20.731Z\", \"e2\": "
                   "\"2026-11-23T08:33:20.999Z\", \"e3\": "
                   "\"2026-11-23T08:33:20.000Z\", \"u\": "
                   "\"2026-11-23T08:33:20.500Z\", \"c\": 3}");
        /* a time field that is the last member and zero: no dangling comma */
        expect_out(t, "{\"a\": 1, \"timestamp_end\": \"0.000000\"}",
                   PFX_INGEST ", \"a\": 1}");
        expect_out(t, "{\"timestamp_end\": \"0.000000\", \"a\": 1}",
                   PFX_INGEST ", \"a\": 1}");
        expect_out(t, "{\"timestamp_end\": \"0.000000\"}", PFX_INGEST "}");
        done(t);
}

static void test_time_field_and_dt_source(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        assert_int_equal(kt_transform_time(t, "timestamp_start"), 0);
        expect_out(t, "{\"timestamp_start\": \"2026-11-23 09:33:20.731040\", "
                      "\"tcp_flags\": \"24\"}",
                   PFX("2026-11-23T08:33:20.731Z")
                   ", \"timestamp_start\": \"2026-11-23T08:33:20.731Z\", "
                   "\"tcp_flags\": 24}");
        done(t);
}

static void test_constants(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_constant(t, "source", "\"pmacct\""), 0);
        assert_int_equal(kt_transform_constant(t, "n", "5"), 0);
        assert_int_equal(kt_transform_constant(t, "o", "{\"a\": [1, true]}"), 0);
        assert_int_equal(kt_transform_constant(t, "site", "eqiad"), 0);
        assert_int_equal(kt_transform_constant(t, "nil", "null"), 0);
        assert_int_equal(kt_transform_constant(t, "f", "-1.5"), 0);
        assert_int_equal(kt_transform_constant(t, "host", "foo.bar-1"), 0);
        const char *tail = ", \"source\": \"pmacct\", \"n\": 5, \"o\": "
                           "{\"a\": [1, true]}, \"site\": \"eqiad\", "
                           "\"nil\": null, \"f\": -1.5, \"host\": \"foo.bar-1\"}";
        char exp[1024];
        snprintf(exp, sizeof exp, "%s, \"a\": 1, \"b\": \"x\"%s", PFX_INGEST,
                 tail);
        expect_out(t, "{\"event_type\": \"purge\", \"a\": 1, \"b\": \"x\"}", exp);
        assert_true(jsonc_accepts(EV.value, EV.value_len, KT_MAX_DEPTH));
        snprintf(exp, sizeof exp, "%s%s", PFX_INGEST, tail);
        expect_out(t, "{}", exp);
        done(t);
}

/* ------------------------------------------------------------------ */
/* Event time                                                          */
/* ------------------------------------------------------------------ */

static void test_dt_source_order(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "s1"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "s2"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "s3"), 0);
        /* the order of the sources, not of the input */
        expect_out(t, "{\"s3\": \"2026-11-23 08:33:03\", \"s2\": "
                      "\"2026-11-23 08:33:02\", \"s1\": \"2026-11-23 08:33:01\"}",
                   PFX("2026-11-23T08:33:01.000Z")
                   ", \"s3\": \"2026-11-23 08:33:03\", \"s2\": "
                   "\"2026-11-23 08:33:02\", \"s1\": \"2026-11-23 08:33:01\"}");
        assert_int_equal(EV.timestamp_ms, ms_of("2026-11-23 08:33:01"));
        /* the first is absent */
        expect_out(t, "{\"s3\": \"2026-11-23 08:33:03\", \"s2\": "
                      "\"2026-11-23 08:33:02\"}",
                   PFX("2026-11-23T08:33:02.000Z")
                   ", \"s3\": \"2026-11-23 08:33:03\", \"s2\": "
                   "\"2026-11-23 08:33:02\"}");
        /* the first ones are zero times */
        expect_out(t, "{\"s1\": \"0000-00-00 00:00:00.000000\", \"s2\": "
                      "\"0.000000\", \"s3\": \"2026-11-23 08:33:03.5\"}",
                   PFX("2026-11-23T08:33:03.500Z")
                   ", \"s1\": \"0000-00-00 00:00:00.000000\", \"s2\": "
                   "\"0.000000\", \"s3\": \"2026-11-23 08:33:03.5\"}");
        assert_int_equal(EV.timestamp_ms, ms_of("2026-11-23 08:33:03") + 500);
        expect_out(t, "{\"s1\": 0, \"s2\": \"0\", \"s3\": 1795422800}",
                   PFX("2026-11-23T08:33:20.000Z")
                   ", \"s1\": 0, \"s2\": \"0\", \"s3\": 1795422800}");
        /* none has a time: the ingestion time */
        expect_out(t, "{\"s1\": \"0000-00-00 00:00:00.000000\", \"x\": 1}",
                   PFX_INGEST ", \"s1\": \"0000-00-00 00:00:00.000000\", "
                   "\"x\": 1}");
        assert_int_equal(EV.timestamp_ms, TEST_INGEST_MS);
        expect_out(t, "{\"x\": 1}", PFX_INGEST ", \"x\": 1}");
        assert_int_equal(EV.timestamp_ms, TEST_INGEST_MS);
        done(t);
}

struct dt_case {
        const char *value; /* the raw JSON value of the source field */
        const char *iso;
        int64_t ms;
};

static void test_dt_formats(void **state)
{
        (void)state;
        static const struct dt_case cases[] = {
                { "\"2026-11-23 08:33:20.731040\"", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "\"2026-11-23T08:33:20.731040\"", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "\"2026-11-23 08:33:20\"", "2026-11-23T08:33:20.000Z", T0 },
                { "\"2026-11-23 08:33:20.7\"", "2026-11-23T08:33:20.700Z", T0 + 700 },
                { "\"2026-11-23 08:33:20.731999999\"", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "\"2026-11-23 08:33:20.999999\"", "2026-11-23T08:33:20.999Z", T0 + 999 },
                { "\"2026-11-23 08:33:20.001\"", "2026-11-23T08:33:20.001Z", T0 + 1 },
                { "\"2026-11-23T08:33:20.731Z\"", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "\"2026-11-23T09:33:20.731+01:00\"", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "\"2026-11-23T03:03:20.731-05:30\"", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "\"1795422800.731040\"", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "\"1795422800\"", "2026-11-23T08:33:20.000Z", T0 },
                { "\"1795422800.999\"", "2026-11-23T08:33:20.999Z", T0 + 999 },
                { "1795422800.731040", "2026-11-23T08:33:20.731Z", T0 + 731 },
                { "1795422800", "2026-11-23T08:33:20.000Z", T0 },
                { "1795422800.001", "2026-11-23T08:33:20.001Z", T0 + 1 },
                { "\"2024-02-29 23:59:59.999\"", "2024-02-29T23:59:59.999Z", INT64_C(1709251199999) },
                { "\"9999-12-31 23:59:59.999999\"", "9999-12-31T23:59:59.999Z", INT64_C(253402300799999) },
        };
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char in[256], exp[512];
                snprintf(in, sizeof in, "{\"ts\": %s, \"a\": 1}",
                         cases[i].value);
                snprintf(exp, sizeof exp, PREFIX "%s\", \"ts\": %s, \"a\": 1}",
                         cases[i].iso, cases[i].value);
                expect_out(t, in, exp);
                assert_int_equal(EV.timestamp_ms, cases[i].ms);
        }
        done(t);
}

static void test_dt_invalid(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "s1"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "s2"), 0);
        char in[256];
        for (size_t i = 0; i < sizeof BAD_TIMES / sizeof BAD_TIMES[0]; i++) {
                /* even when a later source would be valid */
                snprintf(in, sizeof in, "{\"s1\": \"%s\", \"s2\": "
                         "\"2026-11-23 08:33:20\"}", BAD_TIMES[i]);
                expect_inv(t, in);
        }
        /* after a zero first source, the second is invalid */
        expect_inv(t, "{\"s1\": \"0.000000\", \"s2\": \"2026-02-30 00:00:00\"}");
        /* numbers */
        expect_inv(t, "{\"s1\": -1}");
        expect_inv(t, "{\"s1\": -1795422800}");
        expect_inv(t, "{\"s1\": 99999999999999999999}");
        /* not a time at all */
        expect_inv(t, "{\"s1\": \"tcp\"}");
        expect_inv(t, "{\"s1\": [1795422800]}");
        expect_inv(t, "{\"s1\": {\"t\": 1795422800}}");
        expect_inv(t, "{\"s1\": true}");
        done(t);
}

static void test_dt_local_fn(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        kt_transform_set_timezone(t, fixed_fn, &z);
        expect_out(t, "{\"ts\": \"2026-11-23 09:33:20.731040\"}",
                   PFX("2026-11-23T08:33:20.731Z")
                   ", \"ts\": \"2026-11-23 09:33:20.731040\"}");
        assert_int_equal(EV.timestamp_ms, T0 + 731);
        assert_true(z.calls >= 1);
        /* explicit zones and epochs do not use the fn */
        expect_out(t, "{\"ts\": \"2026-11-23 08:33:20.731Z\"}",
                   PFX("2026-11-23T08:33:20.731Z")
                   ", \"ts\": \"2026-11-23 08:33:20.731Z\"}");
        expect_out(t, "{\"ts\": \"1795422800.731\"}",
                   PFX("2026-11-23T08:33:20.731Z")
                   ", \"ts\": \"1795422800.731\"}");
        done(t);

        /* without a fn, local times are UTC */
        t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        expect_out(t, "{\"ts\": \"2026-11-23 09:33:20.731040\"}",
                   PFX("2026-11-23T09:33:20.731Z")
                   ", \"ts\": \"2026-11-23 09:33:20.731040\"}");
        /* set_timezone(NULL) restores that */
        kt_transform_set_timezone(t, fixed_fn, &z);
        kt_transform_set_timezone(t, NULL, NULL);
        expect_out(t, "{\"ts\": \"2026-11-23 10:33:20\"}",
                   PFX("2026-11-23T10:33:20.000Z")
                   ", \"ts\": \"2026-11-23 10:33:20\"}");
        done(t);

        /* a fn that fails: the record is invalid */
        int calls = 0;
        t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        kt_transform_set_timezone(t, fail_fn, &calls);
        expect_inv(t, "{\"ts\": \"2026-11-23 09:33:20.731040\"}");
        assert_true(calls >= 1);
        /* but not when the suffix decides */
        expect_out(t, "{\"ts\": \"2026-11-23T09:33:20+01:00\"}",
                   PFX("2026-11-23T08:33:20.000Z")
                   ", \"ts\": \"2026-11-23T09:33:20+01:00\"}");
        done(t);
}

static void test_dt_reject_fallback(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        kt_transform_set_dt_fallback(t, KT_DT_REJECT);
        expect_inv(t, "{\"a\": 1}");
        expect_inv(t, "{\"ts\": \"0000-00-00 00:00:00.000000\"}");
        expect_inv(t, "{\"ts\": 0}");
        expect_out(t, "{\"ts\": \"2026-11-23 08:33:20\"}",
                   PFX("2026-11-23T08:33:20.000Z")
                   ", \"ts\": \"2026-11-23 08:33:20\"}");
        /* markers are still skipped, not rejected */
        assert_int_equal(run(t, L("{\"event_type\": \"purge_init\", "
                                  "\"writer_id\": \"out/1\"}")), KT_SKIP);
        assert_int_equal(EV.marker, KT_MARKER_PURGE_INIT);
        kt_transform_set_dt_fallback(t, KT_DT_INGEST);
        expect_out(t, "{\"a\": 1}", PFX_INGEST ", \"a\": 1}");
        done(t);
        /* no dt source at all + reject: every record is invalid */
        t = mk();
        kt_transform_set_dt_fallback(t, KT_DT_REJECT);
        expect_inv(t, "{\"a\": 1}");
        done(t);
}

/* The event time comes from the input record, even when the source field
 * itself is not forwarded. */
static void test_dt_from_dropped_source(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        assert_int_equal(kt_transform_drop(t, "ts"), 0);
        expect_out(t, "{\"ts\": \"2026-11-23 08:33:20.5\", \"a\": 1}",
                   PFX("2026-11-23T08:33:20.500Z") ", \"a\": 1}");
        done(t);
}

/* ------------------------------------------------------------------ */
/* Key                                                                 */
/* ------------------------------------------------------------------ */

static void expect_key_(struct kt_transform *t, const char *line,
                        const char *key, const char *file, int lineno)
{
        enum kt_status st = run(t, line, strlen(line));
        if (st != KT_EVENT) {
                print_error("status %d for %s\n", (int)st, line);
                _fail(file, lineno);
        }
        if (key == NULL) {
                if (EV.key != NULL) {
                        print_error("key for %s: expected NULL, got \"%.*s\"\n",
                                    line, (int)EV.key_len, EV.key);
                        _fail(file, lineno);
                }
                return;
        }
        if (EV.key == NULL || EV.key_len != strlen(key) ||
            memcmp(EV.key, key, EV.key_len) != 0) {
                print_error("key for %s: expected \"%s\", got %s%.*s%s\n", line,
                            key, EV.key ? "\"" : "NULL",
                            EV.key ? (int)EV.key_len : 0, EV.key ? EV.key : "",
                            EV.key ? "\"" : "");
                _fail(file, lineno);
        }
}
#define expect_key(t, line, key) expect_key_((t), (line), (key), __FILE__, __LINE__)

static void test_key(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        /* no key configured */
        expect_key(t, "{\"ip_src\": \"10.0.0.1\"}", NULL);
        assert_int_equal(kt_transform_set_key(t, "k"), 0);
        expect_key(t, "{\"a\": 1, \"k\": \"10.0.0.1\"}", "10.0.0.1");
        expect_key(t, "{\"k\": \"\"}", "");
        expect_key(t, "{\"k\": 41640}", "41640");
        expect_key(t, "{\"k\": -1.5e3}", "-1.5e3");
        expect_key(t, "{\"k\": 18446744073709551615}", "18446744073709551615");
        expect_key(t, "{\"k\": true}", "true");
        expect_key(t, "{\"k\": false}", "false");
        expect_key(t, "{\"k\": null}", NULL);
        expect_key(t, "{\"a\": 1}", NULL);
        expect_key(t, "{\"kk\": \"x\", \"K\": \"y\"}", NULL);
        done(t);
}

static void test_key_is_an_input_field(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_rename(t, "ip_src", "src"), 0);
        assert_int_equal(kt_transform_set_key(t, "ip_src"), 0);
        expect_key(t, "{\"ip_src\": \"10.0.0.1\"}", "10.0.0.1");
        done(t);
        t = mk();
        assert_int_equal(kt_transform_drop(t, "ip_src"), 0);
        assert_int_equal(kt_transform_set_key(t, "ip_src"), 0);
        expect_key(t, "{\"ip_src\": \"10.0.0.1\", \"a\": 1}", "10.0.0.1");
        assert_int_equal(EV.value_len, strlen(PFX_INGEST ", \"a\": 1}"));
        done(t);
}

/* ------------------------------------------------------------------ */
/* Markers                                                             */
/* ------------------------------------------------------------------ */

static void test_markers(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        assert_int_equal(run(t, L("{\"event_type\": \"purge_init\", "
                                  "\"writer_id\": \"out/3245\"}")), KT_SKIP);
        assert_int_equal(EV.marker, KT_MARKER_PURGE_INIT);
        assert_int_equal(EV.purged_entries, -1);
        assert_int_equal(run(t, L("{\"event_type\": \"purge_close\", "
                                  "\"writer_id\": \"out/3245\", "
                                  "\"purged_entries\": 60, \"total_entries\": "
                                  "60, \"duration\": 0}")), KT_SKIP);
        assert_int_equal(EV.marker, KT_MARKER_PURGE_CLOSE);
        assert_int_equal(EV.purged_entries, 60);
        assert_int_equal(run(t, L("{\"event_type\": \"purge_close\", "
                                  "\"writer_id\": \"out/3245\"}")), KT_SKIP);
        assert_int_equal(EV.marker, KT_MARKER_PURGE_CLOSE);
        assert_int_equal(EV.purged_entries, -1);
        assert_int_equal(run(t, L("{\"event_type\": \"purge_close\", "
                                  "\"purged_entries\": 0}")), KT_SKIP);
        assert_int_equal(EV.purged_entries, 0);
        assert_int_equal(run(t, L("{\"event_type\": \"purge_close\", "
                                  "\"purged_entries\": 1234567890123}")),
                         KT_SKIP);
        assert_int_equal(EV.purged_entries, INT64_C(1234567890123));
        /* event_type need not come first */
        assert_int_equal(run(t, L("{\"writer_id\": \"nf/1\", \"purged_entries\":"
                                  " 120, \"event_type\": \"purge_close\"}")),
                         KT_SKIP);
        assert_int_equal(EV.marker, KT_MARKER_PURGE_CLOSE);
        assert_int_equal(EV.purged_entries, 120);
        assert_int_equal(run(t, L("{\"writer_id\": \"nf/1\", "
                                  "\"event_type\": \"purge_init\"}")), KT_SKIP);
        assert_int_equal(EV.marker, KT_MARKER_PURGE_INIT);
        assert_int_equal(EV.purged_entries, -1);
        /* a normal record after markers */
        expect_out(t, "{\"event_type\": \"purge\", \"tcp_flags\": \"2\"}",
                   PFX_INGEST ", \"tcp_flags\": 2}");
        /* broken markers are invalid lines, not markers */
        expect_inv(t, "{\"event_type\": \"purge_init\", \"writer_id\": }");
        expect_inv(t, "{\"event_type\": \"purge_init\"} x");
        done(t);
}

/*
 * Members already in the output's form are copied in runs: whatever
 * breaks a run (other spacing, a dropped, renamed, integer or time
 * field) must leave the same output as a member-by-member copy.
 */
static void test_runs_of_members(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_drop(t, "d"), 0);
        assert_int_equal(kt_transform_rename(t, "r", "renamed"), 0);
        assert_int_equal(kt_transform_integer(t, "i"), 0);
        assert_int_equal(kt_transform_time(t, "tm"), 0);
        expect_out(t, "{\"a\": 1, \"b\": \"x\", \"d\": 0, \"c\": [1, 2], "
                      "\"r\": true, \"e\": {\"k\": 1}, \"i\": \"3\", "
                      "\"f\": null, \"tm\": \"2026-11-23 08:33:20\", "
                      "\"g\": 2,\"h\": 3 , \"j\":4, \"k\" : 5, \"l\": 6}",
                   PFX_INGEST ", \"a\": 1, \"b\": \"x\", \"c\": [1, 2], "
                   "\"renamed\": true, \"e\": {\"k\": 1}, \"i\": 3, "
                   "\"f\": null, \"tm\": \"2026-11-23T08:33:20.000Z\", "
                   "\"g\": 2, \"h\": 3, \"j\": 4, \"k\": 5, \"l\": 6}");
        /* the dropped member first, and last */
        expect_inv(t, "{\"d\": 1, \"a\": 1, \"b\": 2, \"d2\": 3, \"d\": 4}");
        assert_string_equal(kt_transform_error(t), "duplicate key \"d\"");
        expect_out(t, "{\"d\": 1, \"a\": 1, \"b\": 2}",
                   PFX_INGEST ", \"a\": 1, \"b\": 2}");
        expect_out(t, "{\"a\": 1, \"b\": 2, \"d\": 1}",
                   PFX_INGEST ", \"a\": 1, \"b\": 2}");
        /* a comma that is not followed by one space ends a run */
        expect_out(t, "{\"a\": 1,  \"b\": 2, \"c\": 3}",
                   PFX_INGEST ", \"a\": 1, \"b\": 2, \"c\": 3}");
        done(t);
}

/*
 * A time field's last value is remembered: the same text must still
 * give the same time, follow a change of time zone, and a bad value
 * must be refused every time.
 */
static void test_time_memo(void **state)
{
        (void)state;
        struct fixed_tz z1 = { 3600, 0, { 0 } }, z2 = { -7200, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z1);
        assert_int_equal(kt_transform_time(t, "timestamp_start"), 0);
        assert_int_equal(kt_transform_time(t, "stamp_inserted"), 0);
        const char *line = "{\"timestamp_start\": \"2026-11-23 08:33:20.5\", "
                           "\"stamp_inserted\": \"2026-11-23 08:33:00\"}";
        const char *exp1 = PFX("2026-11-23T07:33:20.500Z")
                ", \"timestamp_start\": \"2026-11-23T07:33:20.500Z\", "
                "\"stamp_inserted\": \"2026-11-23T07:33:00.000Z\"}";
        const char *exp2 = PFX("2026-11-23T10:33:20.500Z")
                ", \"timestamp_start\": \"2026-11-23T10:33:20.500Z\", "
                "\"stamp_inserted\": \"2026-11-23T10:33:00.000Z\"}";
        expect_out(t, line, exp1);
        expect_out(t, line, exp1);
        kt_transform_set_timezone(t, fixed_fn, &z2);
        expect_out(t, line, exp2);
        expect_out(t, line, exp2);
        for (int i = 0; i < 2; i++) {
                expect_inv(t, "{\"timestamp_start\": \"2026-13-23 08:33:20\"}");
                assert_non_null(strstr(kt_transform_error(t), "not a time"));
        }
        /* zero: left out, the event time from the next source */
        for (int i = 0; i < 2; i++)
                expect_out(t, "{\"timestamp_start\": \"0000-00-00 00:00:00\", "
                              "\"stamp_inserted\": \"2026-11-23 08:33:00\"}",
                           PFX("2026-11-23T10:33:00.000Z")
                           ", \"stamp_inserted\": \"2026-11-23T10:33:00.000Z\"}");
        done(t);
}

/*
 * One pass finds every kind of error, in any order of the members; the
 * one reported is what the line's first problem in this order is:
 * syntax, then duplicates, then the event time, then the output.
 */
static void test_error_order(void **state)
{
        (void)state;
        struct fixed_tz z = { 0, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        assert_int_equal(kt_transform_time(t, "timestamp_start"), 0);
        kt_transform_set_dt_fallback(t, KT_DT_REJECT);
        expect_inv(t, "{\"tcp_flags\": \"x\", \"a\": 1, \"a\": 2, "
                      "\"timestamp_start\": \"2026-11-23 08:33:20\"}");
        assert_string_equal(kt_transform_error(t), "duplicate key \"a\"");
        expect_inv(t, "{\"tcp_flags\": \"x\", \"a\": 1}");
        assert_string_equal(kt_transform_error(t),
                            "no event time in any of the dt fields");
        expect_inv(t, "{\"tcp_flags\": \"x\", \"dt\": 1, "
                      "\"timestamp_start\": \"2026-11-23 08:33:20\"}");
        assert_string_equal(kt_transform_error(t),
                            "field tcp_flags: not an integer: x");
        expect_inv(t, "{\"dt\": 1, \"tcp_flags\": \"x\", "
                      "\"timestamp_start\": \"2026-11-23 08:33:20\"}");
        assert_string_equal(kt_transform_error(t),
                            "field \"dt\": a name of the envelope");
        expect_inv(t, "{\"a\": 1, \"a\": 2, \"tcp_flags\": \"x\", \"b\": }");
        assert_non_null(strstr(kt_transform_error(t), "not JSON"));
        /* a marker is skipped whatever else is wrong with it */
        assert_int_equal(run(t, L("{\"tcp_flags\": \"x\", \"a\": 1, \"a\": 2, "
                                  "\"event_type\": \"purge_init\"}")), KT_SKIP);
        expect_out(t, "{\"timestamp_start\": \"2026-11-23 08:33:20\"}",
                   PFX("2026-11-23T08:33:20.000Z")
                   ", \"timestamp_start\": \"2026-11-23T08:33:20.000Z\"}");
        done(t);
}

/*
 * Lines of the same names in the same order skip the rule lookup and
 * the twin check: a twin after, or within, the remembered names must
 * still be refused, and rules set later must still apply.
 */
static void test_same_shape_lines(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *abc = "{\"a\": 1, \"b\": 2, \"c\": 3}";
        /* names of no bytes at all (the fuzzer's find) */
        expect_out(t, "{\"\": 1}", PFX_INGEST ", \"\": 1}");
        expect_out(t, "{\"\": 1}", PFX_INGEST ", \"\": 1}");
        expect_out(t, abc, PFX_INGEST ", \"a\": 1, \"b\": 2, \"c\": 3}");
        expect_out(t, abc, PFX_INGEST ", \"a\": 1, \"b\": 2, \"c\": 3}");
        expect_inv(t, "{\"a\": 1, \"b\": 2, \"c\": 3, \"a\": 4}");
        assert_string_equal(kt_transform_error(t), "duplicate key \"a\"");
        expect_inv(t, "{\"a\": 1, \"b\": 2, \"a\": 3}");
        assert_string_equal(kt_transform_error(t), "duplicate key \"a\"");
        expect_inv(t, "{\"a\": 1, \"b\": 2, \"c\": 3, \"c\": 4}");
        expect_out(t, "{\"a\": 1, \"b\": 2}", PFX_INGEST ", \"a\": 1, \"b\": 2}");
        expect_out(t, abc, PFX_INGEST ", \"a\": 1, \"b\": 2, \"c\": 3}");
        /* names alike but for their length or last byte */
        expect_out(t, "{\"a\": 1, \"bb\": 2, \"d\": 3}",
                   PFX_INGEST ", \"a\": 1, \"bb\": 2, \"d\": 3}");
        expect_out(t, abc, PFX_INGEST ", \"a\": 1, \"b\": 2, \"c\": 3}");
        /* rules set after the shape was learnt */
        assert_int_equal(kt_transform_rename(t, "b", "B"), 0);
        assert_int_equal(kt_transform_drop(t, "c"), 0);
        expect_out(t, abc, PFX_INGEST ", \"a\": 1, \"B\": 2}");
        assert_int_equal(kt_transform_integer(t, "zz"), 0); /* a new rule */
        expect_out(t, abc, PFX_INGEST ", \"a\": 1, \"B\": 2}");
        done(t);
}

/* Many renames and constants: the table of output names grows. */
static void test_many_renames(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        char from[16], to[16], *line, *exp, *p, *q;
        const int n = 100;
        line = malloc((size_t)n * 32 + 64);
        exp = malloc((size_t)n * 32 + 512);
        assert_non_null(line);
        assert_non_null(exp);
        for (int i = 0; i < n; i++) {
                snprintf(from, sizeof from, "a%d", i);
                snprintf(to, sizeof to, "b%d", i);
                assert_int_equal(kt_transform_rename(t, from, to), 0);
        }
        assert_int_equal(kt_transform_constant(t, "c", "1"), 0);
        p = line + sprintf(line, "{\"x\": 0");
        q = exp + sprintf(exp, "%s, \"x\": 0", PFX_INGEST);
        for (int i = 0; i < n; i++) {
                p += sprintf(p, ", \"a%d\": %d", i, i);
                q += sprintf(q, ", \"b%d\": %d", i, i);
        }
        sprintf(q, ", \"c\": 1}");
        strcpy(p, "}");
        expect_out(t, line, exp);
        /* the last renamed name meets an input name */
        strcpy(p, ", \"b99\": 7}");
        expect_inv(t, line);
        assert_string_equal(kt_transform_error(t), "two fields named \"b99\" "
                            "after renames and constants");
        /* ... or the constant */
        strcpy(p, ", \"c\": 7}");
        expect_inv(t, line);
        assert_string_equal(kt_transform_error(t), "two fields named \"c\" "
                            "after renames and constants");
        free(line);
        free(exp);
        done(t);
}

/* ------------------------------------------------------------------ */
/* Invalid input                                                       */
/* ------------------------------------------------------------------ */

static void test_error_message_initially(void **state)
{
        (void)state;
        struct kt_transform *t = kt_transform_new();
        assert_non_null(t);
        assert_non_null(kt_transform_error(t));
        done(t);
}

static void test_invalid_not_json(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_invalid(t, L(""));
        expect_invalid(t, L(" "));
        expect_invalid(t, L("\r\n"));
        expect_inv(t, "hello");
        expect_inv(t, "{\"a\": 1");
        expect_inv(t, "{\"a\": }");
        expect_inv(t, "{\"a\" 1}");
        expect_inv(t, "{\"a\": 1,}");
        expect_inv(t, "{'a': 1}");
        expect_inv(t, "pmacctd: shutting down");
        expect_inv(t, "{\"event_type\": \"purge\", \"ip_src\": \"127.0.0.1\", "
                      "\"ip_dst\": \"127.0.0.1\", \"port_src\": 4{\"event_type\"");
        expect_inv(t, "{\"a\": 1}{\"b\": 2}");
        done(t);
}

static void test_invalid_not_object(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *v[] = { "[1, 2]", "[]", "[{\"a\": 1}]", "\"x\"", "5",
                            "-1.5", "null", "true", "false", " [1] " };
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
                expect_inv(t, v[i]);
        done(t);
}

static void test_invalid_trailing_garbage(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_inv(t, "{\"a\": 1} x");
        expect_inv(t, "{\"a\": 1}}");
        expect_inv(t, "{\"a\": 1}]");
        expect_inv(t, "{\"a\": 1},");
        expect_inv(t, "{\"a\": 1} {}");
        expect_inv(t, "{\"a\": 1}\x0b");
        expect_inv(t, "{\"a\": 1}\x0c");
        expect_inv(t, "{\"a\": 1}\xc2\xa0");
        expect_inv(t, "{\"a\": 1}\x1f");
        expect_inv(t, "{\"a\": 1}//");
        done(t);
}

static void test_invalid_nul_byte(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_invalid(t, L("{\"a\": \"x\0y\"}"));
        expect_invalid(t, L("{\"a\": 1}\0"));
        expect_invalid(t, L("{\"a\": 1}\0 "));
        expect_invalid(t, L("\0{\"a\": 1}"));
        expect_invalid(t, L("{\"a\"\0: 1}"));
        expect_invalid(t, L("{\"a\0\": 1}"));
        expect_invalid(t, L("{\"a\": 1\0}"));
        expect_invalid(t, L("{\"a\": [1,\0 2]}"));
        expect_invalid(t, L("\0"));
        /* the length is authoritative: a NUL right after it is not read */
        expect_output(t, "{\"a\": 1}\0garbage", 8, PFX_INGEST ", \"a\": 1}");
        expect_output(t, "{\"a\": 1}}}}", 8, PFX_INGEST ", \"a\": 1}");
        done(t);
}

static void test_invalid_utf8(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        static const char *const bad[] = {
                "\xc0\x80", "\xc0\xaf", "\xc1\xbf",     /* overlong 2 */
                "\xe0\x80\x80", "\xe0\x9f\xbf",         /* overlong 3 */
                "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", /* overlong 4 */
                "\xed\xa0\x80", "\xed\xbf\xbf",         /* surrogates */
                "\xed\xa0\xbd\xed\xb8\x80",             /* a UTF-8 pair */
                "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf", /* > U+10FFFF */
                "\xf5\x80\x80\x80",
                "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80",
                "\xfe", "\xff",
                "\xc3", "\xe2\x82", "\xf0\x9f\x98",     /* truncated */
                "\xc3" "a", "\xe2\x82" "a", "\xf0\x9f" "a",
                "\x80", "\xbf", "a\x80", "\xc3\xa9\xa9", /* stray cont. */
                "\xe2\x28\xa1",
        };
        char line[128];
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(line, sizeof line, "{\"a\": \"%s\"}", bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": \"x%sy\", \"b\": 1}",
                         bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"k%s\": 1}", bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": [\"%s\"]}", bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": {\"%s\": 1}}", bad[i]);
                expect_inv(t, line);
        }
        /* outside strings, any non-ASCII byte is an error */
        expect_inv(t, "\xef\xbb\xbf{\"a\": 1}"); /* BOM */
        expect_inv(t, "\xc2\xa0{\"a\": 1}");     /* NBSP */
        expect_inv(t, "{\"a\":\xc2\xa0" "1}");
        expect_inv(t, "\xe2\x80\xa8{\"a\": 1}");
        done(t);
}

static void test_invalid_control_chars(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        char line[64];
        for (int c = 1; c < 0x20; c++) {
                snprintf(line, sizeof line, "{\"a\": \"x%cy\"}", c);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"k%c\": 1}", c);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": [\"%c\"]}", c);
                expect_inv(t, line);
        }
        /* DEL and escaped controls are fine */
        expect_out(t, "{\"a\": \"x\x7fy\\u0001\\u001f\\t\"}",
                   PFX_INGEST ", \"a\": \"x\x7fy\\u0001\\u001f\\t\"}");
        done(t);
}

static void test_whitespace_around_object(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *exp = PFX_INGEST ", \"a\": 1}";
        expect_out(t, " {\"a\": 1}", exp);
        expect_out(t, "{\"a\": 1} ", exp);
        expect_out(t, "\t\r\n {\"a\": 1}\r\n\t ", exp);
        expect_out(t, "{\"a\": 1}\r", exp);
        expect_out(t, "{\"a\": 1}\n", exp);
        expect_inv(t, "\x0b{\"a\": 1}");
        expect_inv(t, "\x0c{\"a\": 1}");
        expect_inv(t, "{\"a\":\x0b" "1}");
        expect_inv(t, "{\"a\":\x0c" "1}");
        expect_inv(t, "{\x0c\"a\": 1}");
        done(t);
}

static void test_duplicate_keys(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_inv(t, "{\"a\": 1, \"a\": 1}");
        expect_inv(t, "{\"a\": 1, \"b\": 2, \"a\": 3}");
        expect_inv(t, "{\"event_type\": \"purge\", \"event_type\": \"purge\"}");
        expect_inv(t, "{\"x\": {\"y\": 1}, \"b\": [1], \"x\": 2}");
        expect_inv(t, "{\"\": 1, \"\": 2}");
        /* the same name nested is not a top-level duplicate */
        expect_out(t, "{\"a\": {\"a\": 1}, \"b\": [{\"a\": 2}]}",
                   PFX_INGEST ", \"a\": {\"a\": 1}, \"b\": [{\"a\": 2}]}");
        /* prefixes are different keys */
        expect_out(t, "{\"a\": 1, \"ab\": 2, \"abc\": 3}",
                   PFX_INGEST ", \"a\": 1, \"ab\": 2, \"abc\": 3}");
        done(t);
        /* duplicates are invalid whatever the configuration */
        t = mk_prod(NULL, NULL);
        expect_inv(t, "{\"event_type\": \"purge\", \"tcp_flags\": \"2\", "
                      "\"tcp_flags\": \"2\"}");
        expect_inv(t, "{\"timestamp_start\": \"2026-11-23 08:33:20\", "
                      "\"timestamp_start\": \"2026-11-23 08:33:21\"}");
        done(t);
}

static void test_reserved_keys(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_inv(t, "{\"dt\": \"2026-11-23 08:33:20\"}");
        expect_inv(t, "{\"a\": 1, \"meta\": {}}");
        expect_inv(t, "{\"$schema\": \"/x/1.0.0\", \"a\": 1}");
        /* near misses are ordinary keys */
        expect_out(t, "{\"DT\": 1, \"dt \": 2, \"metas\": 3, \"schema\": 4}",
                   PFX_INGEST ", \"DT\": 1, \"dt \": 2, \"metas\": 3, "
                   "\"schema\": 4}");
        done(t);

        t = mk();
        assert_int_equal(kt_transform_drop(t, "dt"), 0);
        assert_int_equal(kt_transform_drop(t, "$schema"), 0);
        assert_int_equal(kt_transform_rename(t, "meta", "pmacct_meta"), 0);
        expect_out(t, "{\"a\": 1, \"dt\": \"x\", \"meta\": {\"b\": 2}, "
                      "\"$schema\": \"s\", \"c\": 3}",
                   PFX_INGEST ", \"a\": 1, \"pmacct_meta\": {\"b\": 2}, "
                   "\"c\": 3}");
        done(t);

        t = mk();
        assert_int_equal(kt_transform_rename(t, "dt", "event_dt"), 0);
        expect_out(t, "{\"a\": 1, \"dt\": \"2026-11-23 08:33:20\"}",
                   PFX_INGEST ", \"a\": 1, \"event_dt\": "
                   "\"2026-11-23 08:33:20\"}");
        expect_inv(t, "{\"meta\": 1}");
        done(t);
}

/* ------------------------------------------------------------------ */
/* Depth                                                               */
/* ------------------------------------------------------------------ */

/* {"a": [[...[ <inner> ]...]]} with `arrays` brackets around inner */
static char *nested(int arrays, const char *inner, size_t *len)
{
        size_t n = 6 + 2 * (size_t)arrays + strlen(inner) + 1;
        char *s = tmalloc(n + 1);
        assert_non_null(s);
        size_t o = 0;
        memcpy(s, "{\"a\": ", 6);
        o = 6;
        memset(s + o, '[', (size_t)arrays);
        o += (size_t)arrays;
        memcpy(s + o, inner, strlen(inner));
        o += strlen(inner);
        memset(s + o, ']', (size_t)arrays);
        o += (size_t)arrays;
        s[o++] = '}';
        s[o] = '\0';
        *len = o;
        return s;
}

static char *arrays_only(int n, const char *inner, size_t *len)
{
        size_t l = 2 * (size_t)n + strlen(inner);
        char *s = tmalloc(l + 1);
        assert_non_null(s);
        memset(s, '[', (size_t)n);
        memcpy(s + n, inner, strlen(inner));
        memset(s + n + strlen(inner), ']', (size_t)n);
        s[l] = '\0';
        *len = l;
        return s;
}

struct depth_case {
        int arrays;        /* brackets between the top object and inner */
        const char *inner;
        int accept;
};

static void run_depth_cases(const struct depth_case *c, size_t n)
{
        int failures = 0;
        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *s = nested(c[i].arrays, c[i].inner, &len);
                int jc = jsonc_accepts(s, len, KT_MAX_DEPTH);
                struct kt_transform *t = mk();
                int ck = kt_json_check(t, s, len) == 0;
                enum kt_status st = run(t, s, len);
                if (jc != c[i].accept) {
                        print_error("depth case %zu: json-c new_ex(%d) says %d, "
                                    "test expects %d\n", i, KT_MAX_DEPTH, jc,
                                    c[i].accept);
                        failures++;
                }
                if (ck != c[i].accept ||
                    st != (c[i].accept ? KT_EVENT : KT_INVALID)) {
                        print_error("depth: {\"a\": %d x '[' %s }: expected %s, "
                                    "kt_json_check %s, kt_transform_line %d\n",
                                    c[i].arrays, c[i].inner,
                                    c[i].accept ? "accept" : "reject",
                                    ck ? "accepts" : "rejects", (int)st);
                        failures++;
                }
                done(t);
                tfree(s);
        }
        assert_int_equal(failures, 0);
}

/* Cases where every reading of "depth 64" agrees. */
static void test_depth_limits(void **state)
{
        (void)state;
        /* containers: 1 (top object) + arrays + 1 (inner container) */
        static const struct depth_case cases[] = {
                { 0, "[1]", 1 },
                { 61, "[1]", 1 },            /* 63 containers, scalar at 64 */
                { 61, "{\"b\": \"s\"}", 1 },  /* idem, in an object */
                { 62, "[]", 1 },             /* 64 containers, innermost empty */
                { 62, "{}", 1 },
                { 63, "[]", 0 },             /* 65 containers */
                { 63, "{}", 0 },
                { 63, "[1]", 0 },
                { 64, "[]", 0 },
                { 200, "1", 0 },
        };
        run_depth_cases(cases, sizeof cases / sizeof cases[0]);

        /* the same limits for a top-level value in kt_json_check */
        struct kt_transform *t = mk();
        size_t len;
        char *s;
        s = arrays_only(64, "", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 1);
        assert_int_equal(kt_json_check(t, s, len), 0);
        tfree(s);
        s = arrays_only(63, "1", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 1);
        assert_int_equal(kt_json_check(t, s, len), 0);
        tfree(s);
        s = arrays_only(65, "", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 0);
        assert_int_equal(kt_json_check(t, s, len), -1);
        tfree(s);
        s = arrays_only(65, "1", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 0);
        assert_int_equal(kt_json_check(t, s, len), -1);
        tfree(s);
        done(t);
}

/*
 * The boundary the spec leaves to the json-c reference: a scalar inside the
 * 64th nested container is a value at depth 65 (json-c new_ex(64) rejects
 * it).  An implementation that counts containers only would accept it.
 */
static void test_depth_boundary_value_depth(void **state)
{
        (void)state;
        static const struct depth_case cases[] = {
                { 62, "[1]", 0 },         /* 64 containers + scalar at 65 */
                { 62, "{\"b\": 1}", 0 },
                { 62, "[[]]", 0 },        /* 65 containers */
        };
        run_depth_cases(cases, sizeof cases / sizeof cases[0]);
        struct kt_transform *t = mk();
        size_t len;
        char *s = arrays_only(64, "1", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 0);
        assert_int_equal(kt_json_check(t, s, len), -1);
        tfree(s);
        done(t);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Pathological nesting must be rejected without a crash (no recursion
 * proportional to the input) and in time linear in the line: a 200 kB line
 * of brackets must not stall the pipeline.  The bound is generous (a linear
 * check takes well under 10 ms here, sanitizers included).
 */
#ifndef DEEP_N
#define DEEP_N 100000
#endif
#define DEEP_MAX_S 1.0

static void check_deep_(struct kt_transform *t, const char *s, size_t len,
                        const char *what, const char *file, int line)
{
        double t0 = now_s();
        expect_invalid_(t, s, len, file, line);
        double dt = now_s() - t0;
        if (dt > DEEP_MAX_S) {
                print_error("%s (%zu bytes) took %.2f s to reject\n", what,
                            len, dt);
                _fail(file, line);
        }
        t0 = now_s();
        assert_int_equal(kt_json_check(t, s, len), -1);
        dt = now_s() - t0;
        if (dt > DEEP_MAX_S) {
                print_error("kt_json_check: %s took %.2f s\n", what, dt);
                _fail(file, line);
        }
}
#define check_deep(t, s, len, what) \
        check_deep_((t), (s), (len), (what), __FILE__, __LINE__)

static void test_deep_nesting_no_crash(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        size_t n = DEEP_N, len;
        char *s = nested((int)n, "1", &len);
        /* unbalanced: only opening brackets */
        check_deep(t, s, n / 2, "100k '[' unclosed");
        check_deep(t, s, len, "100k nested arrays");
        tfree(s);
        char *o = tmalloc(6 * n + 16);
        assert_non_null(o);
        size_t l = 0;
        for (size_t i = 0; i < n; i++) {
                memcpy(o + l, "{\"a\":", 5);
                l += 5;
        }
        memcpy(o + l, "1", 1);
        l += 1;
        memset(o + l, '}', n);
        l += n;
        check_deep(t, o, l, "100k nested objects");
        tfree(o);
        done(t);
}

/*
 * Many members: duplicate detection and rule lookup must not be quadratic
 * in the number of members.  A 1 MiB line (the default line.max) must not
 * stall the pipeline: 60000 members (~780 kB) well under a second.
 */
#ifndef WIDE_N
#define WIDE_N 60000
#endif

static void test_wide_record_linear(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        assert_int_equal(kt_transform_drop(t, "k7"), 0);
        char *s = tmalloc((size_t)WIDE_N * 24 + 64);
        assert_non_null(s);
        size_t l = 0;
        s[l++] = '{';
        for (size_t i = 0; i < WIDE_N; i++)
                l += (size_t)sprintf(s + l, "%s\"k%zu\": %zu", i ? ", " : "",
                                     i, i);
        s[l++] = '}';
        double t0 = now_s();
        enum kt_status st = run(t, s, l);
        double dt = now_s() - t0;
        assert_int_equal(st, KT_EVENT);
        if (dt > DEEP_MAX_S) {
                print_error("%d members (%zu bytes) took %.2f s\n", WIDE_N, l,
                            dt);
                fail();
        }
        /* the same with a duplicate of the first key at the end */
        l--;
        l += (size_t)sprintf(s + l, ", \"k0\": 1}");
        t0 = now_s();
        st = run(t, s, l);
        dt = now_s() - t0;
        assert_int_equal(st, KT_INVALID);
        if (dt > DEEP_MAX_S) {
                print_error("%d members + duplicate took %.2f s\n", WIDE_N, dt);
                fail();
        }
        tfree(s);
        done(t);
}

/* Strict UTF-8 (RFC 3629). */
static int utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                unsigned char c = s[i];
                int len;
                unsigned lo = 0x80, hi = 0xbf;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        if (c == 0xe0) lo = 0xa0;
                        if (c == 0xed) hi = 0x9f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        if (c == 0xf0) lo = 0x90;
                        if (c == 0xf4) hi = 0x8f;
                } else {
                        return 0;
                }
                if (i + (size_t)len > n || s[i + 1] < lo || s[i + 1] > hi)
                        return 0;
                for (int k = 2; k < len; k++)
                        if ((s[i + (size_t)k] & 0xc0) != 0x80)
                                return 0;
                i += (size_t)len;
        }
        return 1;
}

/*
 * kt_transform_error() ends up in the "message" of an error event (JSON):
 * it must be one line of valid UTF-8 text without control characters, even
 * when it quotes (and cuts) multi-byte input.
 */
static void test_error_message_is_clean_text(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        assert_int_equal(kt_transform_integer(t, "n"), 0);
        char e[64 * 2 + 1] = "";
        for (int i = 0; i < 64; i++)
                strcat(e, "\xc3\xa9");
        char lines[8][1024];
        snprintf(lines[0], 1024, "{\"ts\": \"a%s\"}", e);
        snprintf(lines[1], 1024, "{\"ts\": \"%s\"}", e);
        snprintf(lines[2], 1024, "{\"n\": \"a%s\"}", e);
        snprintf(lines[3], 1024, "{\"n\": \"%s\"}", e);
        snprintf(lines[4], 1024, "{\"a%s%s\": 1, \"a%s%s\": 2}", e, e, e, e);
        snprintf(lines[5], 1024, "{\"%s%s\": 1, \"%s%s\": 2}", e, e, e, e);
        snprintf(lines[6], 1024, "{\"ts\": \"\xe6\x97\xa5%s\"}", e);
        snprintf(lines[7], 1024, "{\"n\": \"\xf0\x9f\x98\x80%s\"}", e);
        int failures = 0;
        for (int i = 0; i < 8; i++) {
                expect_inv(t, lines[i]);
                const char *m = kt_transform_error(t);
                size_t n = strlen(m);
                int ctl = 0;
                for (size_t k = 0; k < n; k++)
                        if ((unsigned char)m[k] < 0x20 || m[k] == 0x7f)
                                ctl = 1;
                if (!utf8_valid((const unsigned char *)m, n) || ctl) {
                        print_error("message for %.40s... is not clean UTF-8 "
                                    "text:\n  ", lines[i]);
                        show_bytes(m, n);
                        print_error("\n");
                        failures++;
                }
        }
        done(t);
        assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */
/* Differential test against json-c                                    */
/* ------------------------------------------------------------------ */

struct jcase {
        const char *s;
        size_t n;
        int rfc;   /* valid per RFC 8259 (strict UTF-8, no NaN/Infinity) */
        int jsonc; /* json-c 0.16 strict verdict, as observed */
        const char *lit;
};
#define E(s, r, j) { s, sizeof(s) - 1, r, j, #s }

/* Generated, then reviewed by hand: rfc from Python's json (strict UTF-8
 * decoding, NaN/Infinity refused), jsonc from json-c 0.16 as described at the
 * top of this file.  Every entry is used as a whole value and as the value
 * of a member {"x": <v>}. */
static const struct jcase CORPUS[] = {
        E("0", 1, 1),
        E("-0", 1, 1),
        E("1", 1, 1),
        E("-1", 1, 1),
        E("01", 0, 0),
        E("-01", 0, 1),
        E("00", 0, 1),
        E("-00", 0, 1),
        E("007", 0, 0),
        E("1.", 0, 1),
        E("-1.", 0, 1),
        E(".5", 0, 0),
        E("-.5", 0, 1),
        E("1.5", 1, 1),
        E("0.5", 1, 1),
        E("-0.0", 1, 1),
        E("1e5", 1, 1),
        E("1E5", 1, 1),
        E("1e+5", 1, 1),
        E("1E+5", 1, 1),
        E("1e-5", 1, 1),
        E("1.5e-5", 1, 1),
        E("1.e5", 0, 1),
        E("1e", 0, 0),
        E("1e+", 0, 0),
        E("1e-", 0, 0),
        E("1E+-5", 0, 0),
        E("1e5.5", 0, 0),
        E("1.5.5", 0, 0),
        E("--1", 0, 0),
        E("-", 0, 0),
        E("+", 0, 0),
        E("+1", 0, 0),
        E("+0", 0, 0),
        E("1e999", 1, 1),
        E("-1e-999", 1, 1),
        E("1e999999999", 1, 1),
        E("1.0e3", 1, 1),
        E("18446744073709551615", 1, 1),
        E("18446744073709551616", 1, 1),
        E("-9223372036854775808", 1, 1),
        E("-9223372036854775809", 1, 1),
        E("1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111", 1, 1),
        E("-9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999", 1, 1),
        E("0.1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111", 1, 1),
        E("1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111e-400", 1, 1),
        E("NaN", 0, 1),
        E("nan", 0, 0),
        E("-NaN", 0, 0),
        E("Infinity", 0, 1),
        E("-Infinity", 0, 1),
        E("infinity", 0, 0),
        E("INF", 0, 0),
        E("inf", 0, 0),
        E("0x10", 0, 0),
        E("0X1F", 0, 0),
        E("1_000", 0, 0),
        E("1,5", 0, 0),
        E("0e0", 1, 1),
        E("0E-0", 1, 1),
        E("-0e+0", 1, 1),
        E("2.", 0, 1),
        E("1..2", 0, 0),
        E("1e5e5", 0, 0),
        E("1ee5", 0, 0),
        E("0123.5", 0, 1),
        E("0.5e", 0, 0),
        E("e5", 0, 0),
        E("E5", 0, 0),
        E("1 2", 0, 0),
        E("- 1", 0, 0),
        E("1-", 0, 0),
        E("12a", 0, 0),
        E("true", 1, 1),
        E("false", 1, 1),
        E("null", 1, 1),
        E("tru", 0, 0),
        E("nul", 0, 0),
        E("fals", 0, 0),
        E("True", 0, 0),
        E("TRUE", 0, 0),
        E("False", 0, 0),
        E("Null", 0, 0),
        E("NULL", 0, 0),
        E("truex", 0, 0),
        E("nullnull", 0, 0),
        E("true false", 0, 0),
        E("t", 0, 0),
        E("n", 0, 0),
        E("f", 0, 0),
        E("undefined", 0, 0),
        E("none", 0, 0),
        E("truE", 0, 0),
        E("nulL", 0, 0),
        E("\"\"", 1, 1),
        E("\"a\"", 1, 1),
        E("\"\\\"\"", 1, 1),
        E("\"\\\\\"", 1, 1),
        E("\"\\/\"", 1, 1),
        E("\"\\b\"", 1, 1),
        E("\"\\f\"", 1, 1),
        E("\"\\n\"", 1, 1),
        E("\"\\r\"", 1, 1),
        E("\"\\t\"", 1, 1),
        E("\"\\u0000\"", 1, 1),
        E("\"\\u00e9\"", 1, 1),
        E("\"\\u00E9\"", 1, 1),
        E("\"\\uFFFF\"", 1, 1),
        E("\"\\ud83d\\ude00\"", 1, 1),
        E("\"\\uD83D\\uDE00\"", 1, 1),
        E("\"\\ud800\"", 1, 1),
        E("\"\\udc00\"", 1, 1),
        E("\"\\ud800\\u0041\"", 1, 1),
        E("\"\\udc00\\ud800\"", 1, 1),
        E("\"\\ud800x\"", 1, 1),
        E("\"\\x41\"", 0, 0),
        E("\"\\a\"", 0, 0),
        E("\"\\v\"", 0, 0),
        E("\"\\0\"", 0, 0),
        E("\"\\'\"", 0, 0),
        E("\"\\u12\"", 0, 0),
        E("\"\\u\"", 0, 0),
        E("\"\\u123\"", 0, 0),
        E("\"\\uZZZZ\"", 0, 0),
        E("\"\\u00g0\"", 0, 0),
        E("\"\\U00e9\"", 0, 0),
        E("\"\\ \"", 0, 0),
        E("\"\\\"", 0, 0),
        E("\"abc", 0, 0),
        E("\"abc\\\"", 0, 0),
        E("'a'", 0, 0),
        E("\"a\"b\"", 0, 0),
        E("\"a\"\"b\"", 0, 0),
        E("\"a\011b\"", 0, 1),
        E("\"a\012b\"", 0, 1),
        E("\"a\015b\"", 0, 1),
        E("\"\000\"", 0, 0),
        E("\"a\001b\"", 0, 1),
        E("\"\037\"", 0, 1),
        E("\"\177\"", 1, 1),
        E("\"a\000b\"", 0, 0),
        E("\"\010\"", 0, 1),
        E("\"\014\"", 0, 1),
        E("\"\033\"", 0, 1),
        E("\"\303\251\"", 1, 1),
        E("\"\342\202\254\"", 1, 1),
        E("\"\360\237\230\200\"", 1, 1),
        E("\"\364\217\277\277\"", 1, 1),
        E("\"\357\277\277\"", 1, 1),
        E("\"\355\237\277\"", 1, 1),
        E("\"\356\200\200\"", 1, 1),
        E("\"\302\200\"", 1, 1),
        E("\"\337\277\"", 1, 1),
        E("\"\340\240\200\"", 1, 1),
        E("\"\360\220\200\200\"", 1, 1),
        E("\"\300\200\"", 0, 1),
        E("\"\300\257\"", 0, 1),
        E("\"\301\277\"", 0, 1),
        E("\"\340\200\200\"", 0, 1),
        E("\"\340\237\277\"", 0, 1),
        E("\"\360\200\200\200\"", 0, 1),
        E("\"\360\217\277\277\"", 0, 1),
        E("\"\355\240\200\"", 0, 1),
        E("\"\355\277\277\"", 0, 1),
        E("\"\355\240\275\355\270\200\"", 0, 1),
        E("\"\364\220\200\200\"", 0, 1),
        E("\"\367\277\277\277\"", 0, 1),
        E("\"\370\210\200\200\200\"", 0, 0),
        E("\"\374\204\200\200\200\200\"", 0, 0),
        E("\"\376\"", 0, 0),
        E("\"\377\"", 0, 0),
        E("\"\200\"", 0, 0),
        E("\"\277\"", 0, 0),
        E("\"a\200b\"", 0, 0),
        E("\"\303\"", 0, 0),
        E("\"\303a\"", 0, 0),
        E("\"\342\202\"", 0, 0),
        E("\"\342\202a\"", 0, 0),
        E("\"\360\237\230\"", 0, 0),
        E("\"\360\237\"", 0, 0),
        E("\"\303\251\251\"", 0, 0),
        E("\"\342(\241\"", 0, 0),
        E("\"\302\240\"", 1, 1),
        E("{\"\303\251\": 1}", 1, 1),
        E("{\"\300\200\": 1}", 0, 1),
        E("{\"\355\240\200\": 1}", 0, 1),
        E("{\"\377\": 1}", 0, 0),
        E("{\"a\011b\": 1}", 0, 1),
        E("{\"a\000\": 1}", 0, 0),
        E("\357\273\277{\"a\": 1}", 0, 0),
        E("\302\240{\"a\": 1}", 0, 0),
        E("{\"a\": 1}\302\240", 0, 0),
        E("{\"a\":\302\2401}", 0, 0),
        E("\351", 0, 0),
        E("{}", 1, 1),
        E("[]", 1, 1),
        E("{\"a\": 1}", 1, 1),
        E("{\"a\":1,\"b\":2}", 1, 1),
        E("[1,2]", 1, 1),
        E("[1, [2, [3, {\"a\": [null]}]]]", 1, 1),
        E("{\"a\": {\"b\": {\"c\": {}}}}", 1, 1),
        E("{\"a\": []}", 1, 1),
        E("{\"a\": [{}]}", 1, 1),
        E("{\"a\" 1}", 0, 0),
        E("{\"a\":1,}", 0, 0),
        E("{,}", 0, 0),
        E("[1,,2]", 0, 0),
        E("[,1]", 0, 0),
        E("[1,]", 0, 0),
        E("[1 2]", 0, 0),
        E("{\"a\":1 \"b\":2}", 0, 0),
        E("{\"a\"}", 0, 0),
        E("{1:2}", 0, 0),
        E("{a:1}", 0, 0),
        E("{'a':1}", 0, 1),
        E("{'a':'b'}", 0, 0),
        E("{\"a\":'b'}", 0, 0),
        E("{\"a\":1}}", 0, 0),
        E("{\"a\":[}", 0, 0),
        E("{\"a\":[1}", 0, 0),
        E("{\"a\":{]}", 0, 0),
        E("{\"a\":1", 0, 0),
        E("{\"a\":", 0, 0),
        E("{\"a\"", 0, 0),
        E("{\"", 0, 0),
        E("{", 0, 0),
        E("}", 0, 0),
        E("[", 0, 0),
        E("]", 0, 0),
        E("]]", 0, 0),
        E("[[]", 0, 0),
        E("[]]", 0, 0),
        E("{\"a\":1}]", 0, 0),
        E("{\"a\":1}{\"b\":2}", 0, 0),
        E("{\"a\":1},", 0, 0),
        E("{\"a\":1} x", 0, 0),
        E("{\"a\":1}/", 0, 0),
        E("{\"a\":1}//c", 0, 0),
        E("{\"a\":1}/*c*/", 0, 0),
        E("/*c*/{\"a\":1}", 0, 0),
        E("{\"a\":/*c*/1}", 0, 0),
        E("{\"a\":1,\"b\"}", 0, 0),
        E("{\"a\"::1}", 0, 0),
        E("{:1}", 0, 0),
        E("{\"a\":1;\"b\":2}", 0, 0),
        E("{\"a\"=1}", 0, 0),
        E("[1;2]", 0, 0),
        E("{\"a\":1,,\"b\":2}", 0, 0),
        E("{\"a\":}", 0, 0),
        E("{\"a\": ,\"b\":1}", 0, 0),
        E("{\"a\":1 , }", 0, 0),
        E("{\"a\":-}", 0, 0),
        E("{\"a\":1.}", 0, 1),
        E("{\"a\":01}", 0, 0),
        E("{\"a\":00}", 0, 1),
        E("{\"a\":-01}", 0, 1),
        E("{\"a\":.5}", 0, 0),
        E("{\"a\":NaN}", 0, 1),
        E("{\"a\":Infinity}", 0, 1),
        E("{\"a\":-Infinity}", 0, 1),
        E("{\"a\":1.e5}", 0, 1),
        E("{\"a\":0x1}", 0, 0),
        E("{\"a\":+1}", 0, 0),
        E("{\"a\":true,\"b\":false,\"c\":null}", 1, 1),
        E("{\"a\":tru}", 0, 0),
        E("{\"a\":truex}", 0, 0),
        E("{\"a\":nul}", 0, 0),
        E("[true false]", 0, 0),
        E("[null,]", 0, 0),
        E("{\"a\":[1,2,3,]}", 0, 0),
        E("{\"a\":{\"b\":1,}}", 0, 0),
        E("{\"a\":\"b\" \"c\"}", 0, 0),
        E("{\"a\":\"b\"c}", 0, 0),
        E("{\"a\":1}\012{\"b\":2}", 0, 0),
        E("{\"a\":[1,2] ]}", 0, 0),
        E("{\"\":1}", 1, 1),
        E("{\"\":\"\"}", 1, 1),
        E("{\" \":1}", 1, 1),
        E("[[[[[[[[[[]]]]]]]]]]", 1, 1),
        E(" {\"a\": 1}", 1, 1),
        E("{\"a\": 1} ", 1, 1),
        E("\011{\"a\": 1}\011", 1, 1),
        E("\015\012{\"a\": 1}\015\012", 1, 1),
        E("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }", 1, 1),
        E("{\011\"a\"\011:\0111\011}", 1, 1),
        E("{\012\"a\"\012:\0121\012}", 1, 1),
        E("{\015\"a\"\015:\0151\015}", 1, 1),
        E("\013{\"a\": 1}", 0, 0),
        E("{\"a\": 1}\013", 0, 0),
        E("{\"a\":\0131}", 0, 0),
        E("\014{\"a\": 1}", 0, 0),
        E("{\"a\":\0141}", 0, 0),
        E("{\"a\": 1}\014", 0, 0),
        E("\000{\"a\": 1}", 0, 0),
        E("{\"a\": 1}\000", 0, 0),
        E("{\"a\":\0001}", 0, 0),
        E("{\"a\": 1}\000 ", 0, 0),
        E("\034{\"a\":1}", 0, 0),
        E("{\"a\":1}\037", 0, 0),
        E("\205{\"a\":1}", 0, 0),
        E("\342\200\250{\"a\":1}", 0, 0),
        E("\343\200\200{\"a\":1}", 0, 0),
        E(" ", 0, 0),
        E("", 0, 0),
        E("\011", 0, 0),
        E("\012", 0, 0),
        E("\015\012", 0, 0),
        E("  1  ", 1, 1),
        E(" \"a\" ", 1, 1),
        E("\013", 0, 0),
        E("\000", 0, 0),
};

static int expected_verdict(const struct jcase *c)
{
        return KT_TEST_FOLLOW_JSONC ? c->jsonc : c->rfc;
}

static size_t wrap(const struct jcase *c, char *buf, size_t cap)
{
        size_t n = 0;
        assert_true(c->n + 8 < cap);
        memcpy(buf, "{\"x\": ", 6);
        n = 6;
        memcpy(buf + n, c->s, c->n);
        n += c->n;
        buf[n++] = '}';
        return n;
}

static void test_json_check_differential(void **state)
{
        (void)state;
        size_t count = sizeof CORPUS / sizeof CORPUS[0];
        int failures = 0, envfail = 0, disagree = 0;
        const char *verbose = getenv("KT_TEST_VERBOSE");
        struct kt_transform *t = mk();
        char w[2048];
        assert_true(count >= 150);
        for (size_t i = 0; i < count; i++) {
                const struct jcase *c = &CORPUS[i];
                size_t wn = wrap(c, w, sizeof w);
                int jv = jsonc_accepts(c->s, c->n, KT_MAX_DEPTH);
                int jw = jsonc_accepts(w, wn, KT_MAX_DEPTH);
                if (jv != c->jsonc || jw != c->jsonc) {
                        print_error("json-c changed: %s value=%d wrapped=%d, "
                                    "recorded %d\n", c->lit, jv, jw, c->jsonc);
                        envfail++;
                }
                if (c->rfc != c->jsonc) {
                        disagree++;
                        if (verbose)
                                print_message("json-c %s, RFC 8259 %s: %s\n",
                                              c->jsonc ? "accepts" : "rejects",
                                              c->rfc ? "accepts" : "rejects",
                                              c->lit);
                }
                int exp = expected_verdict(c);
                int kv = kt_json_check(t, c->s, c->n) == 0;
                if (kv != exp) {
                        print_error("kt_json_check(%s) %s, expected %s%s\n",
                                    c->lit, kv ? "accepts" : "rejects",
                                    exp ? "accept" : "reject",
                                    c->rfc != c->jsonc ? " (json-c quirk)" : "");
                        failures++;
                } else if (!kv) {
                        const char *m = kt_transform_error(t);
                        if (!m || !m[0]) {
                                print_error("kt_json_check(%s): no message\n",
                                            c->lit);
                                failures++;
                        }
                }
                int kw = kt_json_check(t, w, wn) == 0;
                if (kw != exp) {
                        print_error("kt_json_check({\"x\": %s}) %s, expected "
                                    "%s%s\n", c->lit,
                                    kw ? "accepts" : "rejects",
                                    exp ? "accept" : "reject",
                                    c->rfc != c->jsonc ? " (json-c quirk)" : "");
                        failures++;
                }
        }
        done(t);
        print_message("differential: %zu inputs (x2 forms); json-c 0.16 "
                      "disagrees with RFC 8259 on %d of them (expected verdict:"
                      " %s)%s\n", count, disagree,
                      KT_TEST_FOLLOW_JSONC ? "json-c" : "RFC 8259",
                      verbose ? "" : "; KT_TEST_VERBOSE=1 lists them");
        assert_int_equal(envfail, 0);
        assert_int_equal(failures, 0);
}

static size_t trim_ws(const char *s, size_t n, const char **out)
{
        size_t a = 0, b = n;
        while (a < b && is_json_ws(s[a]))
                a++;
        while (b > a && is_json_ws(s[b - 1]))
                b--;
        *out = s + a;
        return b - a;
}

static void test_transform_line_differential(void **state)
{
        (void)state;
        size_t count = sizeof CORPUS / sizeof CORPUS[0];
        int failures = 0;
        struct kt_transform *t = mk();
        char w[2048], exp[4096];
        for (size_t i = 0; i < count && failures < 50; i++) {
                const struct jcase *c = &CORPUS[i];
                int ok = expected_verdict(c);
                /* as the value of a member */
                size_t wn = wrap(c, w, sizeof w);
                enum kt_status st = run(t, w, wn);
                if (st != (ok ? KT_EVENT : KT_INVALID)) {
                        print_error("kt_transform_line({\"x\": %s}) = %d, "
                                    "expected %s%s\n", c->lit, (int)st,
                                    ok ? "KT_EVENT" : "KT_INVALID",
                                    c->rfc != c->jsonc ? " (json-c quirk)" : "");
                        failures++;
                } else if (ok) {
                        const char *v;
                        size_t vn = trim_ws(c->s, c->n, &v);
                        size_t pl = strlen(PFX_INGEST ", \"x\": ");
                        memcpy(exp, PFX_INGEST ", \"x\": ", pl);
                        memcpy(exp + pl, v, vn);
                        exp[pl + vn] = '}';
                        size_t el = pl + vn + 1;
                        if (EV.value_len != el ||
                            memcmp(EV.value, exp, el) != 0) {
                                print_error("output for {\"x\": %s}:\n  ",
                                            c->lit);
                                show_bytes(EV.value, EV.value_len);
                                print_error("\nexpected:\n  ");
                                show_bytes(exp, el);
                                print_error("\n");
                                failures++;
                        }
                } else {
                        const char *m = kt_transform_error(t);
                        if (!m || !m[0]) {
                                print_error("no message for {\"x\": %s}\n",
                                            c->lit);
                                failures++;
                        }
                }
                /* as a whole line */
                const char *v;
                size_t vn = trim_ws(c->s, c->n, &v);
                int is_obj = ok && vn > 0 && v[0] == '{';
                st = run(t, c->s, c->n);
                if (st != (is_obj ? KT_EVENT : KT_INVALID)) {
                        print_error("kt_transform_line(%s) = %d, expected %s\n",
                                    c->lit, (int)st,
                                    is_obj ? "KT_EVENT" : "KT_INVALID");
                        failures++;
                } else if (is_obj &&
                           (!jsonc_accepts(EV.value, EV.value_len,
                                           KT_MAX_DEPTH) ||
                            EV.value_len < strlen(PFX_INGEST) ||
                            memcmp(EV.value, PFX_INGEST,
                                   strlen(PFX_INGEST)) != 0)) {
                        print_error("bad output for %s:\n  ", c->lit);
                        show_bytes(EV.value, EV.value_len);
                        print_error("\n");
                        failures++;
                }
        }
        done(t);
        assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */
/* Setters                                                             */
/* ------------------------------------------------------------------ */

static void expect_setter_fail_(struct kt_transform *t, int rc,
                                const char *what, const char *file, int line)
{
        if (rc != -1) {
                print_error("%s returned %d, expected -1\n", what, rc);
                _fail(file, line);
        }
        check_error_message(t, file, line);
}
#define expect_setter_fail(t, call) \
        expect_setter_fail_((t), (call), #call, __FILE__, __LINE__)

static void test_setters_reject(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_setter_fail(t, kt_transform_rename(t, "a", "dt"));
        expect_setter_fail(t, kt_transform_rename(t, "a", "meta"));
        expect_setter_fail(t, kt_transform_rename(t, "a", "$schema"));
        expect_setter_fail(t, kt_transform_rename(t, "", "b"));
        expect_setter_fail(t, kt_transform_rename(t, "a", ""));
        expect_setter_fail(t, kt_transform_add_dt_source(t, ""));
        expect_setter_fail(t, kt_transform_drop(t, ""));
        expect_setter_fail(t, kt_transform_keep(t, ""));
        expect_setter_fail(t, kt_transform_integer(t, ""));
        expect_setter_fail(t, kt_transform_time(t, ""));
        expect_setter_fail(t, kt_transform_constant(t, "", "1"));
        expect_setter_fail(t, kt_transform_set_key(t, ""));
        /* renaming reserved input names away is fine */
        assert_int_equal(kt_transform_rename(t, "dt", "event_dt"), 0);
        assert_int_equal(kt_transform_drop(t, "meta"), 0);
        done(t);
}

/* A setter that fails leaves the transform as it was. */
static void test_failed_setters_change_nothing(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_rename(t, "a", "dt"), -1);
        assert_int_equal(kt_transform_rename(t, "a", ""), -1);
        assert_int_equal(kt_transform_add_dt_source(t, ""), -1);
        assert_int_equal(kt_transform_drop(t, ""), -1);
        assert_int_equal(kt_transform_integer(t, ""), -1);
        assert_int_equal(kt_transform_time(t, ""), -1);
        assert_int_equal(kt_transform_constant(t, "", "1"), -1);
        assert_int_equal(kt_transform_set_key(t, ""), -1);
        expect_out(t, "{\"a\": 1, \"c\": 2}", PFX_INGEST ", \"a\": 1, \"c\": 2}");
        assert_null(EV.key);
        /* in particular a failed keep does not turn the allowlist on */
        assert_int_equal(kt_transform_keep(t, ""), -1);
        expect_out(t, "{\"a\": 1, \"c\": 2}", PFX_INGEST ", \"a\": 1, \"c\": 2}");
        done(t);
}

static void test_recovery_after_invalid(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        const char *good = "{\"event_type\": \"purge\", \"tcp_flags\": \"2\", "
                           "\"timestamp_start\": \"2026-11-23 09:33:20.731\"}";
        const char *exp = PFX("2026-11-23T08:33:20.731Z")
                          ", \"tcp_flags\": 2, \"timestamp_start\": "
                          "\"2026-11-23 09:33:20.731\"}";
        const char *bad[] = {
                "{\"tcp_flags\": \"2x\"}", "{\"a\": [[[[", "{\"a\": \"\xc0\x80\"}",
                "{\"a\": 1, \"a\": 2}",
                "{\"timestamp_start\": \"2026-02-30 00:00:00\"}",
                "{\"dt\": 1}", "[1]",
        };
        expect_out(t, good, exp);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                expect_inv(t, bad[i]);
                expect_out(t, good, exp);
                assert_int_equal(EV.timestamp_ms, T0 + 731);
        }
        done(t);
}

static void test_large_record(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        size_t members = 3000, big = 200000;
        char *in = tmalloc(members * 32 + big + 64);
        char *exp = tmalloc(members * 32 + big + 1024);
        assert_non_null(in);
        assert_non_null(exp);
        size_t i_n = 0, e_n = 0;
        i_n += (size_t)sprintf(in + i_n, "{\"event_type\": \"purge\"");
        e_n += (size_t)sprintf(exp + e_n, "%s", PFX_INGEST);
        for (size_t i = 0; i < members; i++) {
                char m[64];
                int ml = snprintf(m, sizeof m, ", \"f%zu\": %zu", i, i * 7919);
                memcpy(in + i_n, m, (size_t)ml);
                i_n += (size_t)ml;
                memcpy(exp + e_n, m, (size_t)ml);
                e_n += (size_t)ml;
        }
        const char *k = ", \"big\": \"";
        memcpy(in + i_n, k, strlen(k));
        i_n += strlen(k);
        memcpy(exp + e_n, k, strlen(k));
        e_n += strlen(k);
        memset(in + i_n, 'x', big);
        memset(exp + e_n, 'x', big);
        i_n += big;
        e_n += big;
        memcpy(in + i_n, "\"}", 3);
        memcpy(exp + e_n, "\"}", 3);
        i_n += 2;
        expect_output(t, in, i_n, exp);
        tfree(in);
        tfree(exp);
        done(t);
}

/* ------------------------------------------------------------------ */
/* The real pmacct captures                                            */
/* ------------------------------------------------------------------ */

struct member {
        const char *k; /* with quotes */
        size_t kl;
        const char *v; /* raw */
        size_t vl;
};

/* Scans a flat pmacct record (no nested values). */
static int scan_flat(const char *s, size_t n, struct member *m, int max)
{
        size_t i = 0;
        int count = 0;
        while (i < n && is_json_ws(s[i]))
                i++;
        assert_true(i < n && s[i] == '{');
        i++;
        for (;;) {
                while (i < n && is_json_ws(s[i]))
                        i++;
                if (s[i] == '}')
                        break;
                assert_true(s[i] == '"');
                assert_true(count < max);
                size_t k0 = i++;
                while (s[i] != '"')
                        i += s[i] == '\\' ? 2 : 1;
                i++;
                m[count].k = s + k0;
                m[count].kl = i - k0;
                while (is_json_ws(s[i]))
                        i++;
                assert_true(s[i] == ':');
                i++;
                while (is_json_ws(s[i]))
                        i++;
                size_t v0 = i;
                if (s[i] == '"') {
                        i++;
                        while (s[i] != '"')
                                i += s[i] == '\\' ? 2 : 1;
                        i++;
                } else {
                        while (s[i] != ',' && s[i] != '}' && !is_json_ws(s[i]))
                                i++;
                }
                m[count].v = s + v0;
                m[count].vl = i - v0;
                count++;
                while (is_json_ws(s[i]))
                        i++;
                if (s[i] == ',') {
                        i++;
                        continue;
                }
                assert_true(s[i] == '}');
                break;
        }
        return count;
}

static const struct member *find(const struct member *m, int n,
                                 const char *key)
{
        size_t kl = strlen(key);
        for (int i = 0; i < n; i++)
                if (m[i].kl == kl + 2 && memcmp(m[i].k + 1, key, kl) == 0)
                        return &m[i];
        return NULL;
}

static int is_zero_time(const char *v, size_t n)
{
        return (n == 28 && memcmp(v, "\"0000-00-00 00:00:00.000000\"", n) == 0) ||
               (n == 10 && memcmp(v, "\"0.000000\"", n) == 0) ||
               (n == 3 && memcmp(v, "\"0\"", n) == 0) ||
               (n == 1 && v[0] == '0');
}

/* Independent: "YYYY-MM-DD HH:MM:SS[.ffffff]" local (UTC + offset) or epoch. */
static int64_t ref_time_ms(const struct member *v, int64_t offset_s)
{
        char buf[64];
        size_t n = v->vl;
        const char *p = v->v;
        if (p[0] == '"') {
                p++;
                n -= 2;
        }
        assert_true(n < sizeof buf);
        memcpy(buf, p, n);
        buf[n] = '\0';
        int frac_ms = 0;
        char *dot = strchr(buf, '.');
        if (dot) {
                char f[4] = "000";
                for (int i = 0; i < 3 && dot[1 + i]; i++)
                        f[i] = dot[1 + i];
                frac_ms = atoi(f);
        }
        if (strchr(buf, '-')) {
                struct tm tm;
                memset(&tm, 0, sizeof tm);
                assert_int_equal(sscanf(buf, "%d-%d-%d %d:%d:%d", &tm.tm_year,
                                        &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                                        &tm.tm_min, &tm.tm_sec), 6);
                tm.tm_year -= 1900;
                tm.tm_mon -= 1;
                return ((int64_t)timegm(&tm) - offset_s) * 1000 + frac_ms;
        }
        long long s = 0;
        assert_int_equal(sscanf(buf, "%lld", &s), 1);
        return (int64_t)s * 1000 + frac_ms;
}

static FILE *open_sample(const char *name)
{
        const char *dirs[] = { getenv("KT_SAMPLES_DIR"), "tests/data",
                               "../shared/samples", "/work/shared/samples" };
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
                if (!dirs[i])
                        continue;
                char path[512];
                snprintf(path, sizeof path, "%s/%s", dirs[i], name);
                FILE *f = fopen(path, "rb");
                if (f)
                        return f;
        }
        print_error("sample %s not found\n", name);
        fail();
        return NULL;
}

struct sample_run {
        const char *file;
        const char *const *dt_sources; /* NULL-terminated */
        const char *const *time_fields;
        int64_t offset_s;
        int expect_events, expect_markers;
        int64_t expect_purged;
};

static void check_sample(struct kt_transform *t, const struct sample_run *r)
{
        FILE *f = open_sample(r->file);
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        int events = 0, markers = 0, lineno = 0;
        while ((got = getline(&line, &cap, f)) > 0) {
                lineno++;
                size_t n = (size_t)got;
                if (n && line[n - 1] == '\n')
                        n--;
                struct member m[64];
                int nm = scan_flat(line, n, m, 64);
                const struct member *et = find(m, nm, "event_type");
                assert_non_null(et);
                enum kt_status st = run(t, line, n);
                if (et->vl != 7) { /* not "purge": a marker */
                        markers++;
                        if (st != KT_SKIP) {
                                print_error("%s:%d: status %d, expected SKIP\n",
                                            r->file, lineno, (int)st);
                                fail();
                        }
                        if (memcmp(et->v, "\"purge_init\"", 12) == 0) {
                                assert_int_equal(EV.marker,
                                                 KT_MARKER_PURGE_INIT);
                                assert_int_equal(EV.purged_entries, -1);
                        } else {
                                assert_int_equal(EV.marker,
                                                 KT_MARKER_PURGE_CLOSE);
                                assert_int_equal(EV.purged_entries,
                                                 r->expect_purged);
                        }
                        continue;
                }
                if (st != KT_EVENT) {
                        print_error("%s:%d: status %d (%s), expected EVENT\n",
                                    r->file, lineno, (int)st,
                                    kt_transform_error(t));
                        fail();
                }
                events++;
                /* the event time, computed independently */
                int64_t ms = TEST_INGEST_MS;
                for (const char *const *s = r->dt_sources; *s; s++) {
                        const struct member *v = find(m, nm, *s);
                        if (v && !is_zero_time(v->v, v->vl)) {
                                ms = ref_time_ms(v, r->offset_s);
                                break;
                        }
                }
                assert_int_equal(EV.timestamp_ms, ms);
                char iso[32];
                ref_iso(ms, iso);
                /* the whole expected event */
                char exp[8192];
                size_t e = (size_t)snprintf(exp, sizeof exp, "%s%s\"", PREFIX,
                                            iso);
                int fwd = 0;
                for (int i = 0; i < nm; i++) {
                        if (&m[i] == et)
                                continue;
                        const char *v = m[i].v;
                        size_t vl = m[i].vl;
                        char tbuf[32];
                        if (m[i].kl == 11 &&
                            memcmp(m[i].k, "\"tcp_flags\"", 11) == 0) {
                                v++; /* integer field: bare integer */
                                vl -= 2;
                        }
                        int is_time = 0;
                        for (const char *const *tf = r->time_fields;
                             tf && *tf; tf++)
                                if (m[i].kl == strlen(*tf) + 2 &&
                                    memcmp(m[i].k + 1, *tf, strlen(*tf)) == 0)
                                        is_time = 1;
                        if (is_time) {
                                if (is_zero_time(m[i].v, m[i].vl))
                                        continue;
                                ref_iso(ref_time_ms(&m[i], r->offset_s), iso);
                                vl = (size_t)snprintf(tbuf, sizeof tbuf,
                                                      "\"%s\"", iso);
                                v = tbuf;
                        }
                        e += (size_t)snprintf(exp + e, sizeof exp - e,
                                              ", %.*s: %.*s", (int)m[i].kl,
                                              m[i].k, (int)vl, v);
                        fwd++;
                }
                e += (size_t)snprintf(exp + e, sizeof exp - e, "}");
                if (EV.value_len != e || memcmp(EV.value, exp, e) != 0) {
                        print_error("%s:%d: output mismatch\nexpected:\n  %s\n"
                                    "got:\n  ", r->file, lineno, exp);
                        show_bytes(EV.value, EV.value_len);
                        print_error("\n");
                        fail();
                }
                /* valid JSON, exactly the input's members minus event_type
                 * plus the envelope, in order */
                assert_true(jsonc_accepts(EV.value, EV.value_len,
                                          KT_MAX_DEPTH));
                char *copy = strndup(EV.value, EV.value_len);
                struct json_object *o = json_tokener_parse(copy);
                assert_non_null(o);
                assert_true(json_object_is_type(o, json_type_object));
                int idx = 0;
                json_object_object_foreach(o, key, val) {
                        (void)val;
                        if (idx == 0)
                                assert_string_equal(key, "$schema");
                        else if (idx == 1)
                                assert_string_equal(key, "meta");
                        else if (idx == 2)
                                assert_string_equal(key, "dt");
                        idx++;
                }
                assert_int_equal(idx, 3 + fwd);
                struct json_object *meta = json_object_object_get(o, "meta");
                assert_non_null(meta);
                assert_string_equal(json_object_get_string(
                                        json_object_object_get(meta, "stream")),
                                    STREAM);
                assert_string_equal(json_object_get_string(
                                        json_object_object_get(meta, "id")),
                                    TEST_ID);
                assert_string_equal(json_object_get_string(
                                        json_object_object_get(meta, "dt")),
                                    TEST_INGEST_ISO);
                assert_string_equal(json_object_get_string(
                                        json_object_object_get(meta, "domain")),
                                    DOMAIN);
                json_object_put(o);
                tfree(copy);
                /* the counters, textually */
                const char *ctr[] = { "packets", "bytes" };
                for (int c = 0; c < 2; c++) {
                        const struct member *v = find(m, nm, ctr[c]);
                        assert_non_null(v);
                        char pat[64];
                        int pl = snprintf(pat, sizeof pat, ", \"%s\": %.*s",
                                          ctr[c], (int)v->vl, v->v);
                        assert_non_null(memmem(EV.value, EV.value_len, pat,
                                               (size_t)pl));
                }
        }
        tfree(line);
        fclose(f);
        assert_int_equal(events, r->expect_events);
        assert_int_equal(markers, r->expect_markers);
}

static const char *const PROD_SOURCES[] = { "timestamp_start",
                                            "timestamp_arrival",
                                            "stamp_inserted", NULL };

static void test_sample_pmacctd_utc_plus_1(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        struct sample_run r = { "pmacctd-lo-json.jsonl", PROD_SOURCES, NULL,
                                3600, 60, 2, 60 };
        check_sample(t, &r);
        /* one line checked by hand: 2026-11-23 08:33:20.731040 at UTC+1 */
        expect_out(t, "{\"event_type\": \"purge\", \"tag\": 7, \"label\": \"\", "
                      "\"ip_src\": \"127.0.0.1\", \"ip_dst\": \"127.0.0.1\", "
                      "\"port_src\": 41640, \"port_dst\": 18080, \"tcp_flags\": "
                      "\"2\", \"ip_proto\": \"tcp\", \"tos\": 0, "
                      "\"timestamp_start\": \"2026-11-23 08:33:20.731040\", "
                      "\"timestamp_end\": \"0000-00-00 00:00:00.000000\", "
                      "\"export_proto_version\": 0, \"stamp_inserted\": "
                      "\"2026-11-23 08:33:00\", \"stamp_updated\": "
                      "\"2026-11-23 08:33:25\", \"packets\": 1, \"bytes\": 60}",
                   PFX("2026-11-23T07:33:20.731Z")
                   ", \"tag\": 7, \"label\": \"\", \"ip_src\": \"127.0.0.1\", "
                   "\"ip_dst\": \"127.0.0.1\", \"port_src\": 41640, "
                   "\"port_dst\": 18080, \"tcp_flags\": 2, \"ip_proto\": "
                   "\"tcp\", \"tos\": 0, \"timestamp_start\": "
                   "\"2026-11-23 08:33:20.731040\", \"timestamp_end\": "
                   "\"0000-00-00 00:00:00.000000\", \"export_proto_version\": "
                   "0, \"stamp_inserted\": \"2026-11-23 08:33:00\", "
                   "\"stamp_updated\": \"2026-11-23 08:33:25\", \"packets\": 1, "
                   "\"bytes\": 60}");
        assert_int_equal(EV.timestamp_ms, INT64_C(1795419200731));
        done(t);
}

static void test_sample_pmacctd_utc(void **state)
{
        (void)state;
        struct kt_transform *t = mk_prod(NULL, NULL);
        struct sample_run r = { "pmacctd-lo-json.jsonl", PROD_SOURCES, NULL,
                                0, 60, 2, 60 };
        check_sample(t, &r);
        done(t);
}

static void test_sample_pmacctd_time_fields(void **state)
{
        (void)state;
        static const char *const tf[] = { "timestamp_end", "stamp_updated",
                                          NULL };
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        assert_int_equal(kt_transform_time(t, "timestamp_end"), 0);
        assert_int_equal(kt_transform_time(t, "stamp_updated"), 0);
        struct sample_run r = { "pmacctd-lo-json.jsonl", PROD_SOURCES, tf,
                                3600, 60, 2, 60 };
        check_sample(t, &r);
        done(t);
}

static void test_sample_nfacctd(void **state)
{
        (void)state;
        /* epoch times: the collector's zone does not matter, not even a
         * failing fn */
        int calls = 0;
        struct kt_transform *t = mk_prod(fail_fn, &calls);
        struct sample_run r = { "nfacctd-ipfix-epoch.jsonl", PROD_SOURCES,
                                NULL, 0, 120, 2, 120 };
        check_sample(t, &r);
        assert_int_equal(calls, 0);
        /* a line by hand: timestamp_start 1795422833.000000 */
        expect_out(t, "{\"event_type\": \"purge\", \"peer_ip_src\": "
                      "\"127.0.0.1\", \"tcp_flags\": \"27\", \"timestamp_start\":"
                      " \"1795422833.000000\", \"timestamp_end\": \"0.000000\", "
                      "\"timestamp_arrival\": \"1795422833.769141\", "
                      "\"packets\": 6, \"bytes\": 399}",
                   PFX("2026-11-23T08:33:53.000Z")
                   ", \"peer_ip_src\": \"127.0.0.1\", \"tcp_flags\": 27, "
                   "\"timestamp_start\": \"1795422833.000000\", "
                   "\"timestamp_end\": \"0.000000\", \"timestamp_arrival\": "
                   "\"1795422833.769141\", \"packets\": 6, \"bytes\": 399}");
        done(t);
}

static void test_sample_nfacctd_arrival(void **state)
{
        (void)state;
        /* timestamp_end is always zero there: dt comes from the arrival */
        static const char *const src[] = { "timestamp_end", "timestamp_arrival",
                                           NULL };
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_end"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_arrival"), 0);
        assert_int_equal(kt_transform_integer(t, "tcp_flags"), 0);
        struct sample_run r = { "nfacctd-ipfix-epoch.jsonl", src, NULL, 0, 120,
                                2, 120 };
        check_sample(t, &r);
        expect_out(t, "{\"timestamp_end\": \"0.000000\", \"timestamp_arrival\": "
                      "\"1795422833.769141\"}",
                   PFX("2026-11-23T08:33:53.769Z")
                   ", \"timestamp_end\": \"0.000000\", \"timestamp_arrival\": "
                   "\"1795422833.769141\"}");
        done(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_iso8601_known_values, cleanup),
                cmocka_unit_test_teardown(test_iso8601_matches_gmtime, cleanup),
                cmocka_unit_test_teardown(test_iso8601_errors, cleanup),
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
                cmocka_unit_test_teardown(test_readme_example_exact, cleanup),
                cmocka_unit_test_teardown(test_separators_normalized, cleanup),
                cmocka_unit_test_teardown(test_values_copied_byte_for_byte, cleanup),
                cmocka_unit_test_teardown(test_escaped_field_names_refused, cleanup),
                cmocka_unit_test_teardown(test_valid_utf8_copied, cleanup),
                cmocka_unit_test_teardown(test_event_type_never_forwarded, cleanup),
                cmocka_unit_test_teardown(test_drop, cleanup),
                cmocka_unit_test_teardown(test_keep, cleanup),
                cmocka_unit_test_teardown(test_keep_with_constants, cleanup),
                cmocka_unit_test_teardown(test_rename_keeps_position, cleanup),
                cmocka_unit_test_teardown(test_integer_fields, cleanup),
                cmocka_unit_test_teardown(test_integer_fields_invalid, cleanup),
                cmocka_unit_test_teardown(test_integer_fields_output_is_json, cleanup),
                cmocka_unit_test_teardown(test_time_fields, cleanup),
                cmocka_unit_test_teardown(test_time_field_and_dt_source, cleanup),
                cmocka_unit_test_teardown(test_constants, cleanup),
                cmocka_unit_test_teardown(test_dt_source_order, cleanup),
                cmocka_unit_test_teardown(test_dt_formats, cleanup),
                cmocka_unit_test_teardown(test_dt_invalid, cleanup),
                cmocka_unit_test_teardown(test_dt_local_fn, cleanup),
                cmocka_unit_test_teardown(test_dt_reject_fallback, cleanup),
                cmocka_unit_test_teardown(test_dt_from_dropped_source, cleanup),
                cmocka_unit_test_teardown(test_key, cleanup),
                cmocka_unit_test_teardown(test_key_is_an_input_field, cleanup),
                cmocka_unit_test_teardown(test_markers, cleanup),
                cmocka_unit_test_teardown(test_error_message_initially, cleanup),
                cmocka_unit_test_teardown(test_invalid_not_json, cleanup),
                cmocka_unit_test_teardown(test_invalid_not_object, cleanup),
                cmocka_unit_test_teardown(test_invalid_trailing_garbage, cleanup),
                cmocka_unit_test_teardown(test_invalid_nul_byte, cleanup),
                cmocka_unit_test_teardown(test_invalid_utf8, cleanup),
                cmocka_unit_test_teardown(test_invalid_control_chars, cleanup),
                cmocka_unit_test_teardown(test_whitespace_around_object, cleanup),
                cmocka_unit_test_teardown(test_duplicate_keys, cleanup),
                cmocka_unit_test_teardown(test_reserved_keys, cleanup),
                cmocka_unit_test_teardown(test_depth_limits, cleanup),
                cmocka_unit_test_teardown(test_depth_boundary_value_depth, cleanup),
                cmocka_unit_test_teardown(test_deep_nesting_no_crash, cleanup),
                cmocka_unit_test_teardown(test_wide_record_linear, cleanup),
                cmocka_unit_test_teardown(test_error_message_is_clean_text, cleanup),
                cmocka_unit_test_teardown(test_json_check_differential, cleanup),
                cmocka_unit_test_teardown(test_transform_line_differential, cleanup),
                cmocka_unit_test_teardown(test_setters_reject, cleanup),
                cmocka_unit_test_teardown(test_failed_setters_change_nothing, cleanup),
                cmocka_unit_test_teardown(test_recovery_after_invalid, cleanup),
                cmocka_unit_test_teardown(test_large_record, cleanup),
                cmocka_unit_test_teardown(test_sample_pmacctd_utc_plus_1, cleanup),
                cmocka_unit_test_teardown(test_sample_pmacctd_utc, cleanup),
                cmocka_unit_test_teardown(test_sample_pmacctd_time_fields, cleanup),
                cmocka_unit_test_teardown(test_sample_nfacctd, cleanup),
                cmocka_unit_test_teardown(test_sample_nfacctd_arrival, cleanup),
                cmocka_unit_test_teardown(test_runs_of_members, cleanup),
                cmocka_unit_test_teardown(test_time_memo, cleanup),
                cmocka_unit_test_teardown(test_error_order, cleanup),
                cmocka_unit_test_teardown(test_many_renames, cleanup),
                cmocka_unit_test_teardown(test_same_shape_lines, cleanup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
