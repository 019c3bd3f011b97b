/*
 * tests/test_route.c: the topic, key and header templates (route.c), fed
 * by the transform's captured fields (kt_transform_capture()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "route.h"
#include "transform.h"

static const struct route_vars vars = {
        .schema = "/netflow/flow/1.0.0", .stream = "netflow",
        .datacenter = "eqiad", .domain = "h.example",
};

/* A transform, and the templates over its captured fields. */
struct fixture {
        struct kt_transform *t;
        struct route_fields  f;
        struct route_tmpl    topic, key;
        struct kt_event      ev;
        char                *buf;
        size_t               cap;
        char                 err[256];
};

static void compile(struct fixture *x, const char *topic, const char *key)
{
        size_t i;

        memset(x, 0, sizeof(*x));
        assert_non_null(x->t = kt_transform_new());
        assert_int_equal(route_compile(&x->topic, ROUTE_TOPIC, "topic", topic,
                                       &vars, &x->f, x->err, 256), 0);
        assert_int_equal(route_compile(&x->key, ROUTE_KEY, "key", key, &vars,
                                       &x->f, x->err, 256), 0);
        for (i = 0; i < x->f.n; i++)
                assert_int_equal(kt_transform_capture(x->t, x->f.name[i]),
                                 (int)i);
}

static void line(struct fixture *x, const char *json)
{
        const struct kt_input in = {
                .id = "00000000-0000-4000-8000-000000000000",
                .ingest_ms = 1,
        };

        assert_int_equal(kt_transform_line(x->t, json, strlen(json), &in,
                                           &x->ev), KT_EVENT);
}

/* tmpl expanded for the last line; NULL when refused (err says why). */
static const char *expand(struct fixture *x, const struct route_tmpl *tmpl)
{
        long n = route_expand(tmpl, &x->f, x->ev.fields, &x->buf, &x->cap,
                              x->err, sizeof(x->err));

        if (n < 0)
                return NULL;
        assert_true((size_t)n < x->cap);
        x->buf[n] = '\0';
        return x->buf;
}

static void done(struct fixture *x)
{
        route_tmpl_free(&x->topic);
        route_tmpl_free(&x->key);
        route_fields_free(&x->f);
        kt_transform_free(x->t);
        free(x->buf);
}

static void test_fixed_placeholders(void **state)
{
        struct route_fields f = { NULL, 0 };
        struct route_tmpl t;
        char err[256], *s;

        (void)state;
        assert_int_equal(route_compile(&t, ROUTE_HEADER, "header.x",
                                       "%{schema} %{stream} %{datacenter} "
                                       "%{domain} 100% %x", &vars, &f, err,
                                       256), 0);
        assert_int_equal(t.n, 1); /* one text: expanded at compile time */
        assert_non_null(s = route_label(&t, &f));
        assert_string_equal(s, "/netflow/flow/1.0.0 netflow eqiad "
                               "h.example 100% %x");
        free(s);
        route_tmpl_free(&t);
        assert_int_equal(route_compile(&t, ROUTE_KEY, "key", "%{schema}",
                                       &vars, &f, err, 256), -1);
        assert_string_equal(err, "key: unknown placeholder %{schema}");
        route_tmpl_free(&t);
        assert_int_equal(f.n, 0);
}

/* key = %{domain}: one host's events under one key (varnishkafka's). */
static void test_key_domain(void **state)
{
        struct fixture x;

        (void)state;
        compile(&x, "nf", "%{domain}");
        assert_true(x.key.n > 0); /* the send stage keys when n > 0 */
        assert_int_equal(x.f.n, 0);
        line(&x, "{\"ip_src\": \"10.0.0.1\"}");
        assert_string_equal(expand(&x, &x.key), "h.example");
        done(&x);
        compile(&x, "nf", "%{domain}/%{field:ip_src}");
        line(&x, "{\"ip_src\": \"10.0.0.1\"}");
        assert_string_equal(expand(&x, &x.key), "h.example/10.0.0.1");
        done(&x);
}

/* The values: a string's content unescaped, a number's text, booleans. */
static void test_values(void **state)
{
        struct fixture x;

        (void)state;
        compile(&x, "nf.%{field:peer_ip_src}", "%{field:a}|%{field:b}");
        assert_int_equal(x.f.n, 3);
        line(&x, "{\"peer_ip_src\": \"10.0.0.1\", \"a\": 41640, "
                 "\"b\": true}");
        assert_string_equal(expand(&x, &x.topic), "nf.10.0.0.1");
        assert_string_equal(expand(&x, &x.key), "41640|true");
        line(&x, "{\"peer_ip_src\": \"x\", \"a\": \"\\u00e9\\\"\\n"
                 "\\ud83d\\ude00\\ud800\", \"b\": -1.5e3}");
        assert_string_equal(expand(&x, &x.key),
                            "\xc3\xa9\"\n\xf0\x9f\x98\x80\xef\xbf\xbd|-1.5e3");
        line(&x, "{\"peer_ip_src\": \"x\", \"a\": false, \"b\": \"\"}");
        assert_string_equal(expand(&x, &x.key), "false|");
        done(&x);
}

/* Fields are input names: renamed or dropped fields route too. */
static void test_input_names(void **state)
{
        struct fixture x;

        (void)state;
        compile(&x, "%{field:tag}", "%{field:ip_src}");
        assert_int_equal(kt_transform_rename(x.t, "tag", "label"), 0);
        assert_int_equal(kt_transform_drop(x.t, "ip_src"), 0);
        line(&x, "{\"tag\": 7, \"ip_src\": \"10.0.0.1\"}");
        assert_string_equal(expand(&x, &x.topic), "7");
        assert_string_equal(expand(&x, &x.key), "10.0.0.1");
        assert_null(memmem(x.ev.value, x.ev.value_len, "ip_src", 6));
        done(&x);
}

/* Absent, null, object, array: refused, naming the field. */
static void test_unusable_values(void **state)
{
        static const struct {
                const char *line, *err;
        } cases[] = {
                { "{\"a\": 1}", "topic field peer_ip_src is absent" },
                { "{\"peer_ip_src\": null}",
                  "topic field peer_ip_src is null" },
                { "{\"peer_ip_src\": {\"x\": 1}}",
                  "topic field peer_ip_src is an object" },
                { "{\"peer_ip_src\": [1]}",
                  "topic field peer_ip_src is an array" },
        };
        struct fixture x;
        size_t i;

        (void)state;
        compile(&x, "%{field:peer_ip_src}", "");
        for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                line(&x, cases[i].line);
                assert_null(expand(&x, &x.topic));
                assert_string_equal(x.err, cases[i].err);
        }
        /* A field seen in one line is absent from the next. */
        line(&x, "{\"peer_ip_src\": \"a\"}");
        assert_string_equal(expand(&x, &x.topic), "a");
        line(&x, "{\"b\": 1}");
        assert_null(expand(&x, &x.topic));
        done(&x);
}

/* A topic is a legal Kafka name, or the record is refused. */
static void test_topic_names(void **state)
{
        static const char *const bad[] = {
                "{\"t\": \"a b\"}", "{\"t\": \"a/b\"}", "{\"t\": \".\"}",
                "{\"t\": \"..\"}", "{\"t\": \"\"}", "{\"t\": \"\\u00e9\"}",
                "{\"t\": \"a\\u0000b\"}", "{\"t\": \"2001:db8::1\"}",
        };
        struct fixture x;
        char big[300];
        size_t i;

        (void)state;
        compile(&x, "%{field:t}", "");
        for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                line(&x, bad[i]);
                assert_null(expand(&x, &x.topic));
                assert_non_null(strstr(x.err, "not a Kafka topic name"));
        }
        line(&x, "{\"t\": \"A-z_0.9\"}");
        assert_string_equal(expand(&x, &x.topic), "A-z_0.9");
        snprintf(big, sizeof(big), "{\"t\": \"%0*d\"}", ROUTE_TOPIC_MAX, 0);
        line(&x, big);
        assert_int_equal(strlen(expand(&x, &x.topic)), ROUTE_TOPIC_MAX);
        snprintf(big, sizeof(big), "{\"t\": \"%0*d\"}", ROUTE_TOPIC_MAX + 1,
                 0);
        line(&x, big);
        assert_null(expand(&x, &x.topic));
        assert_non_null(strstr(x.err, "longer than 249 bytes"));
        done(&x);
}

/* A field in two templates is captured once; the label shows fields. */
static void test_shared_fields(void **state)
{
        struct fixture x;
        char *s;

        (void)state;
        compile(&x, "%{datacenter}.%{field:tag}", "%{field:tag}-%{field:x}"
                    "@%{domain}");
        assert_int_equal(x.f.n, 2);
        assert_non_null(s = route_label(&x.topic, &x.f));
        assert_string_equal(s, "eqiad.%{field:tag}");
        free(s);
        line(&x, "{\"tag\": 3, \"x\": \"y\"}");
        assert_string_equal(expand(&x, &x.topic), "eqiad.3");
        assert_string_equal(expand(&x, &x.key), "3-y@h.example");
        done(&x);
}

/* Code point cp in UTF-8 at out: the test's own encoder. */
static size_t utf8(char *out, unsigned cp)
{
        unsigned char *o = (unsigned char *)out;

        if (cp < 0x80)
                return o[0] = (unsigned char)cp, 1;
        if (cp < 0x800)
                return o[0] = (unsigned char)(0xc0 | cp >> 6),
                       o[1] = (unsigned char)(0x80 | (cp & 0x3f)), 2;
        if (cp < 0x10000)
                return o[0] = (unsigned char)(0xe0 | cp >> 12),
                       o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
                       o[2] = (unsigned char)(0x80 | (cp & 0x3f)), 3;
        o[0] = (unsigned char)(0xf0 | cp >> 18);
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (unsigned char)(0x80 | (cp & 0x3f));
        return 4;
}

/*
 * A random JSON string's inside (text, UTF-8, escapes, \u and surrogate
 * pairs) at json, and what it means at want.  Returns want's length.
 */
static size_t random_string(char *json, char *want, unsigned *seed)
{
        static const struct {
                const char *json, *want;
        } pieces[] = {
                { "a", "a" }, { ".", "." }, { " ", " " }, { "/", "/" },
                { "\xc3\xa9", "\xc3\xa9" }, { "\xf0\x9f\x98\x80",
                "\xf0\x9f\x98\x80" }, { "\\\"", "\"" }, { "\\\\", "\\" },
                { "\\/", "/" }, { "\\b", "\b" }, { "\\f", "\f" },
                { "\\n", "\n" }, { "\\r", "\r" }, { "\\t", "\t" },
        };
        const size_t n = sizeof(pieces) / sizeof(*pieces);
        size_t jl = 0, wl = 0, i, k, count = (size_t)rand_r(seed) % 12;
        unsigned cp;

        for (i = 0; i < count; i++) {
                if (rand_r(seed) % 3 != 0) {
                        k = (size_t)rand_r(seed) % n;
                        jl += (size_t)sprintf(json + jl, "%s",
                                              pieces[k].json);
                        wl += (size_t)sprintf(want + wl, "%s",
                                              pieces[k].want);
                        continue;
                }
                cp = (unsigned)rand_r(seed) % 0x10ffff + 1;
                if (cp >= 0xd800 && cp < 0xe000)
                        cp = 0xfffd; /* a lone surrogate's stand-in */
                wl += utf8(want + wl, cp);
                if (cp < 0x10000)
                        jl += (size_t)sprintf(json + jl, rand_r(seed) % 2 ?
                                              "\\u%04X" : "\\u%04x", cp);
                else
                        jl += (size_t)sprintf(json + jl, "\\u%04x\\u%04X",
                                              0xd800 + ((cp - 0x10000) >> 10),
                                              0xdc00 + ((cp - 0x10000) &
                                                        0x3ff));
        }
        json[jl] = want[wl] = '\0';
        return wl;
}

/*
 * Unescaping, on random strings.  Not json-c as the oracle: 0.16 turns
 * some valid pairs, such as \ud936\udc20 (U+5D820), into U+FFFD.
 */
static void test_unescape_random(void **state)
{
        char inner[512], want[512], json[600];
        struct fixture x;
        unsigned seed = 10;
        size_t len;
        int i;

        (void)state;
        compile(&x, "t", "%{field:a}");
        for (i = 0; i < 5000; i++) {
                len = random_string(inner, want, &seed);
                snprintf(json, sizeof(json), "{\"a\": \"%s\"}", inner);
                line(&x, json);
                assert_non_null(expand(&x, &x.key));
                assert_int_equal(strlen(x.buf), len);
                assert_memory_equal(x.buf, want, len);
        }
        done(&x);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixed_placeholders),
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_key_domain),
                cmocka_unit_test(test_input_names),
                cmocka_unit_test(test_unusable_values),
                cmocka_unit_test(test_topic_names),
                cmocka_unit_test(test_shared_fields),
                cmocka_unit_test(test_unescape_random),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
