/*
 * tests/test_transform.c: kt_transform_line's output (the envelope, the
 * rules, the event time, the key, pmacct's markers), its errors and its
 * setters.
 */
#include <malloc.h>

#include "ttest.h"

/*
 * Allocation faults, for the setters' failure paths: this binary is
 * linked with -Wl,--wrap=strdup,--wrap=realloc (see the Makefile), so
 * the calls of transform.o come here first.  Unarmed, they pass through.
 */
char *__real_strdup(const char *s);
void *__real_realloc(void *p, size_t n);

static int strdup_fails;   /* the next strdup returns NULL */
static int realloc_moves;  /* realloc always moves the block */

char *__wrap_strdup(const char *s)
{
        if (strdup_fails) {
                strdup_fails = 0;
                return NULL;
        }
        return __real_strdup(s);
}

void *__wrap_realloc(void *p, size_t n)
{
        size_t old;
        void *q;

        if (!realloc_moves || p == NULL || n == 0)
                return __real_realloc(p, n);
        old = malloc_usable_size(p);
        if ((q = malloc(n)) == NULL)
                return NULL;
        memcpy(q, p, old < n ? old : n);
        free(p);
        return q;
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
        for (size_t i = 0; i < N_BAD_TIMES; i++) {
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
        assert_int_equal(EV.writer_id_len, 8);
        assert_memory_equal(EV.writer_id, "out/3245", 8);
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
        assert_null(EV.writer_id);
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

/*
 * Bug 6: when strdup failed after realloc had moved the constants, the
 * transform kept the old, freed array (ASan: heap-use-after-free, then a
 * double free).
 */
static void test_constant_out_of_memory(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_constant(t, "site", "\"eqiad\""), 0);
        realloc_moves = strdup_fails = 1;
        int rc = kt_transform_constant(t, "n", "2");
        realloc_moves = strdup_fails = 0;
        assert_int_equal(rc, -1);
        assert_string_equal(kt_transform_error(t), "out of memory");
        /* as it was: one constant, and setters work again */
        expect_out(t, "{\"a\": 1}",
                   PFX_INGEST ", \"a\": 1, \"site\": \"eqiad\"}");
        assert_int_equal(kt_transform_constant(t, "n", "2"), 0);
        expect_out(t, "{\"a\": 1}", PFX_INGEST
                   ", \"a\": 1, \"site\": \"eqiad\", \"n\": 2}");
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
/* kt_transform_set_sequence: the event's number and its run           */
/* ------------------------------------------------------------------ */

#define RUN "20261130T164423Z-3f9a1c2b"

/* Transforms line with sequence n; the status. */
static enum kt_status run_seq(struct kt_transform *t, const char *line,
                              uint64_t n)
{
        struct kt_input in = IN;

        in.sequence = n;
        return kt_transform_line(t, line, strlen(line), &in, &EV);
}

static void expect_seq(struct kt_transform *t, const char *line, uint64_t n,
                       const char *exp)
{
        assert_int_equal(run_seq(t, line, n), KT_EVENT);
        assert_int_equal(EV.value_len, strlen(exp));
        assert_memory_equal(EV.value, exp, strlen(exp));
}

/* Right after "dt", before the members; 0 and off: neither. */
static void test_sequence_members(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_set_sequence(t, "sequence",
                                                   "sequence_run", RUN), 0);
        expect_seq(t, "{\"tag\": 1, \"bytes\": 2}", 1, PFX_INGEST
                   ", \"sequence\": 1, \"sequence_run\": \"" RUN "\""
                   ", \"tag\": 1, \"bytes\": 2}");
        expect_seq(t, "{\"tag\": 1}", UINT64_MAX, PFX_INGEST
                   ", \"sequence\": 18446744073709551615, \"sequence_run\": "
                   "\"" RUN "\", \"tag\": 1}");
        expect_seq(t, "{}", 10, PFX_INGEST ", \"sequence\": 10, "
                   "\"sequence_run\": \"" RUN "\"}");
        expect_seq(t, "{\"tag\": 1}", 0, PFX_INGEST ", \"tag\": 1}");
        /* other names, escaped as any name */
        assert_int_equal(kt_transform_set_sequence(t, "seq", "r\"un", "x"),
                         0);
        expect_seq(t, "{\"tag\": 1}", 2, PFX_INGEST ", \"seq\": 2, "
                   "\"r\\\"un\": \"x\", \"tag\": 1}");
        /* off: the number is not looked at */
        assert_int_equal(kt_transform_set_sequence(t, NULL, NULL, NULL), 0);
        expect_seq(t, "{\"tag\": 1}", 3, PFX_INGEST ", \"tag\": 1}");
        /* the old names are field names again */
        expect_seq(t, "{\"seq\": 1}", 4, PFX_INGEST ", \"seq\": 1}");
        done(t);
}

/* The digits are counted on from the last number: every carry, a number
 * again (a refused event's), a jump, none, and back. */
static void test_sequence_counting(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        static const uint64_t jumps[] = { 5, 5, 7, 8, 0, 9, 10, 10, 1, 2,
                                          UINT64_MAX - 1, UINT64_MAX, 99,
                                          100 };
        char exp[256];
        uint64_t n;
        size_t i;

        assert_int_equal(kt_transform_set_sequence(t, "s", "r", "x"), 0);
        for (n = 1; n <= 10001; n++) {
                snprintf(exp, sizeof(exp), PFX_INGEST ", \"s\": %llu, "
                         "\"r\": \"x\"}", (unsigned long long)n);
                expect_seq(t, "{}", n, exp);
        }
        for (i = 0; i < sizeof(jumps) / sizeof(*jumps); i++) {
                if (jumps[i] == 0)
                        snprintf(exp, sizeof(exp), PFX_INGEST "}");
                else
                        snprintf(exp, sizeof(exp), PFX_INGEST ", \"s\": "
                                 "%llu, \"r\": \"x\"}",
                                 (unsigned long long)jumps[i]);
                expect_seq(t, "{}", jumps[i], exp);
        }
        done(t);
}

/* The names are the envelope's while on, as field.rename's targets. */
static void test_sequence_names(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_setter_fail(t, kt_transform_set_sequence(t, "dt", "r", RUN));
        expect_setter_fail(t, kt_transform_set_sequence(t, "s", "meta", RUN));
        expect_setter_fail(t, kt_transform_set_sequence(t, "$schema", "r",
                                                        RUN));
        expect_setter_fail(t, kt_transform_set_sequence(t, "s", "s", RUN));
        expect_setter_fail(t, kt_transform_set_sequence(t, "", "r", RUN));
        expect_setter_fail(t, kt_transform_set_sequence(t, "s", "r", NULL));
        assert_int_equal(kt_transform_rename(t, "a", "taken"), 0);
        expect_setter_fail(t, kt_transform_set_sequence(t, "taken", "r",
                                                        RUN));
        assert_int_equal(kt_transform_constant(t, "c", "1"), 0);
        expect_setter_fail(t, kt_transform_set_sequence(t, "s", "c", RUN));
        assert_int_equal(kt_transform_set_sequence(t, "sequence",
                                                   "sequence_run", RUN), 0);
        expect_setter_fail(t, kt_transform_rename(t, "b", "sequence"));
        expect_setter_fail(t, kt_transform_constant(t, "sequence_run", "1"));
        /* a field of the line by that name: refused, unless dropped */
        assert_int_equal(run_seq(t, "{\"sequence\": 1}", 1), KT_INVALID);
        assert_int_equal(kt_transform_drop(t, "sequence"), 0);
        expect_seq(t, "{\"sequence\": 9, \"tag\": 1}", 1, PFX_INGEST
                   ", \"sequence\": 1, \"sequence_run\": \"" RUN "\""
                   ", \"tag\": 1, \"c\": 1}");
        done(t);
}

/* The index holds the two members, and a names key one set of names. */
static void test_sequence_index(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        struct kt_names_key k;
        const struct kt_member *m;
        const char *line = "{\"tag\": 1, \"bytes\": 2}";

        kt_transform_set_index(t, 1);
        assert_int_equal(kt_transform_set_sequence(t, "sequence",
                                                   "sequence_run", RUN), 0);
        assert_int_equal(run_seq(t, line, 41), KT_EVENT);
        assert_int_equal(EV.index.n, 7 + 2 + 2);
        m = &EV.index.m[7];
        assert_int_equal(m[0].name_len, 8);
        assert_memory_equal(m[0].name, "sequence", 8);
        assert_int_equal(m[0].kind, KT_J_NUMBER);
        assert_int_equal(m[0].value_len, 2);
        assert_memory_equal(m[0].value, "41", 2);
        assert_true(m[0].value >= EV.value &&
                    m[0].value < EV.value + EV.value_len);
        assert_int_equal(m[0].natural, 1);
        assert_memory_equal(m[1].name, "sequence_run", 12);
        assert_int_equal(m[1].kind, KT_J_STRING);
        assert_int_equal(m[1].value_len, strlen(RUN));
        assert_memory_equal(m[1].value, RUN, strlen(RUN));
        assert_int_equal(m[1].escaped, 0);
        assert_memory_equal(EV.index.m[9].name, "tag", 3);
        k = EV.index.names;
        assert_int_equal(run_seq(t, line, 42), KT_EVENT);
        assert_true(k.shape != 0 && EV.index.names.shape == k.shape &&
                    EV.index.names.omitted == k.omitted);
        /* no number: other names, so no key */
        assert_int_equal(run_seq(t, line, 0), KT_EVENT);
        assert_int_equal(EV.index.n, 7 + 2);
        assert_int_equal(EV.index.names.shape, 0);
        /* other names for the members: another key */
        assert_int_equal(kt_transform_set_sequence(t, "n", "r", RUN), 0);
        assert_int_equal(run_seq(t, line, 43), KT_EVENT);
        assert_int_equal(run_seq(t, line, 44), KT_EVENT);
        assert_memory_equal(EV.index.m[7].name, "n", 1);
        assert_true(EV.index.names.shape != 0 &&
                    EV.index.names.shape != k.shape);
        done(t);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
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
                cmocka_unit_test_teardown(test_runs_of_members, cleanup),
                cmocka_unit_test_teardown(test_time_memo, cleanup),
                cmocka_unit_test_teardown(test_error_order, cleanup),
                cmocka_unit_test_teardown(test_same_shape_lines, cleanup),
                cmocka_unit_test_teardown(test_many_renames, cleanup),
                cmocka_unit_test_teardown(test_duplicate_keys, cleanup),
                cmocka_unit_test_teardown(test_reserved_keys, cleanup),
                cmocka_unit_test_teardown(test_setters_reject, cleanup),
                cmocka_unit_test_teardown(test_failed_setters_change_nothing, cleanup),
                cmocka_unit_test_teardown(test_constant_out_of_memory, cleanup),
                cmocka_unit_test_teardown(test_recovery_after_invalid, cleanup),
                cmocka_unit_test_teardown(test_large_record, cleanup),
                cmocka_unit_test_teardown(test_sequence_members, cleanup),
                cmocka_unit_test_teardown(test_sequence_counting, cleanup),
                cmocka_unit_test_teardown(test_sequence_names, cleanup),
                cmocka_unit_test_teardown(test_sequence_index, cleanup),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
