/*
 * tests/test_validate.c: the validate stage (validate.h).  The fast,
 * per-member path and the general one must give the same verdict on
 * every event, whatever the order of the names, the nesting or the
 * escapes; the fast path must decide flat records alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "indexcheck.h"
#include "transform.h"
#include "validate.h"

#ifndef SCHEMA_DIR
#define SCHEMA_DIR "tests/schemas"
#endif

#define META "\"meta\": {\"id\": \"b95453ad-00af-4662-b3e8-03b56e6564f0\", " \
             "\"dt\": \"2026-11-23T08:33:20.731Z\"}"

struct pair {
        struct validator *fast, *general;
};

static struct pair open_file(void)
{
        struct pair p;
        char err[512];

        p.fast = validator_open(SCHEMA_DIR, "/test/flat/1.0.0", V_MODE_FAST,
                                err, sizeof(err));
        if (p.fast == NULL)
                fail_msg("%s", err);
        p.general = validator_open(SCHEMA_DIR, "/test/flat/1.0.0",
                                   V_MODE_GENERAL, err, sizeof(err));
        assert_non_null(p.general);
        return p;
}

static struct pair open_text(const char *schema)
{
        struct json_object *doc = json_tokener_parse(schema);
        struct pair p;
        char err[512];

        assert_non_null(doc);
        p.fast = validator_open_doc(doc, V_MODE_FAST, err, sizeof(err));
        if (p.fast == NULL)
                fail_msg("%s", err);
        p.general = validator_open_doc(doc, V_MODE_GENERAL, err, sizeof(err));
        assert_non_null(p.general);
        json_object_put(doc);
        return p;
}

static void close_pair(struct pair *p)
{
        validator_close(p->fast);
        validator_close(p->general);
}

/* Both paths agree on event; returns the verdict; *e from the fast one. */
static enum v_verdict check(struct pair *p, const char *event,
                            struct kt_schema_error *e)
{
        struct kt_schema_error eg;
        enum v_verdict rf = validator_check(p->fast, event, strlen(event),
                                            NULL, e);
        enum v_verdict rg = validator_check(p->general, event, strlen(event),
                                            NULL, &eg);

        if (rf != rg)
                fail_msg("paths disagree on %s: fast %d, general %d", event,
                         rf, rg);
        if (rf == V_INVALID)
                assert_string_equal(e->message, eg.message);
        return rf;
}

static void expect(struct pair *p, const char *event, enum v_verdict want,
                   const char *pointer)
{
        struct kt_schema_error e;

        assert_int_equal(check(p, event, &e), want);
        if (want == V_INVALID && pointer != NULL)
                assert_string_equal(e.pointer, pointer);
}

static void test_missing_schema(void **state)
{
        char err[512];

        (void)state;
        assert_null(validator_open(SCHEMA_DIR, "/test/none/1.0.0",
                                   V_MODE_FAST, err, sizeof(err)));
        assert_non_null(strstr(err, "test/none/1.0.0"));
}

static void test_flat_records(void **state)
{
        struct pair p = open_file();
        unsigned long long general;

        (void)state;
        expect(&p, "{" META ", \"port_src\": 443, \"bytes\": 60}", V_VALID,
               NULL);
        /* the same names again: the remembered shape */
        expect(&p, "{" META ", \"port_src\": 80, \"bytes\": 1}", V_VALID,
               NULL);
        general = validator_general_count(p.fast);
        assert_int_equal(general, 0);
        expect(&p, "{" META ", \"port_src\": 65536, \"bytes\": 60}",
               V_INVALID, "/port_src");
        expect(&p, "{" META ", \"port_src\": 80, \"bytes\": -1}", V_INVALID,
               "/bytes");
        expect(&p, "{" META ", \"port_src\": 80, \"bytesytes\": 60}",
               V_INVALID, NULL);
        expect(&p, "{" META ", \"port_src\": 80}", V_INVALID, NULL);
        expect(&p, "{\"meta\": {\"id\": \"x\", \"dt\": "
               "\"2026-11-23T08:33:20.731Z\"}, \"bytes\": 1}", V_INVALID,
               "/meta/id");
        expect(&p, "{" META ", \"ip_src\": \"::1\", \"bytes\": 1}", V_VALID,
               NULL);
        expect(&p, "{" META ", \"ip_src\": \"10.0.0.256\", \"bytes\": 1}",
               V_INVALID, "/ip_src");
        /* invalid events take the general path for their message only */
        assert_int_equal(validator_general_count(p.fast), general + 6);
        close_pair(&p);
}

/* u64 counters: exact at 2^64 - 1, beyond json-c's clamping. */
static void test_big_numbers(void **state)
{
        struct pair p = open_file();

        (void)state;
        expect(&p, "{" META ", \"bytes\": 18446744073709551615}", V_VALID,
               NULL);
        expect(&p, "{" META ", \"bytes\": 18446744073709551616}", V_INVALID,
               "/bytes");
        expect(&p, "{" META ", \"bytes\": 184467440737095516150}",
               V_INVALID, "/bytes");
        expect(&p, "{" META ", \"bytes\": 1.0}", V_VALID, NULL);
        expect(&p, "{" META ", \"bytes\": 1.5}", V_INVALID, "/bytes");
        close_pair(&p);
}

/* Names in another order, fewer, more: the shape is learnt again. */
static void test_shapes_change(void **state)
{
        static const struct {
                const char    *event;
                enum v_verdict want;
        } seq[] = {
                { "{" META ", \"bytes\": 1, \"port_src\": 2}", V_VALID },
                { "{\"bytes\": 1, " META ", \"port_src\": 2}", V_VALID },
                { "{\"bytes\": 1, " META "}", V_VALID },
                { "{\"bytes\": 1}", V_INVALID },
                { "{\"bytes\": 1, " META ", \"port_src\": 2, \"x\": 1}",
                  V_INVALID },
                { "{\"bytes\": 1, " META ", \"port_src\": 2}", V_VALID },
                { "{}", V_INVALID },
                { "{\"bytes\": 1, " META ", \"port_src\": -2}", V_INVALID },
                { "{\"bytes\": 1, " META ", \"port_src\": 2}", V_VALID },
        };
        struct pair p = open_file();

        (void)state;
        for (int round = 0; round < 2; round++)
                for (size_t i = 0; i < sizeof(seq) / sizeof(*seq); i++)
                        expect(&p, seq[i].event, seq[i].want, NULL);
        close_pair(&p);
}

/* Strings are checked unescaped: length in code points, the pattern. */
static void test_escapes(void **state)
{
        struct pair p = open_file();

        (void)state;
        expect(&p, "{" META ", \"bytes\": 1, \"label\": \"\\u0061bc\"}",
               V_VALID, NULL);
        expect(&p, "{" META ", \"bytes\": 1, \"label\": \"ab\\u0041\"}",
               V_INVALID, "/label");
        expect(&p, "{" META ", \"bytes\": 1, \"label\": \"abcd\"}",
               V_INVALID, "/label");
        close_pair(&p);
}

/*
 * The compiled checks read strings as written: an escape fails a format
 * and leaves the string to the subschemas, which unescape it; a length
 * in bytes only bounds one in code points.
 */
static void test_escaped_rules(void **state)
{
        struct pair p = open_text(
                "{\"properties\": {\"ip\": {\"type\": \"string\", \"anyOf\": "
                "[{\"format\": \"ipv4\"}, {\"format\": \"ipv6\"}]}, \"n\": "
                "{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}}}");

        (void)state;
        expect(&p, "{\"ip\": \"10.0.0.1\"}", V_VALID, NULL);
        expect(&p, "{\"ip\": \"\\u0031.2.3.4\"}", V_VALID, NULL);
        expect(&p, "{\"ip\": \"\\u003a:1\"}", V_VALID, NULL);
        expect(&p, "{\"ip\": \"1.2.3.4\\u0000\"}", V_INVALID, "/ip");
        expect(&p, "{\"ip\": \"1.2.3.04\"}", V_INVALID, "/ip");
        expect(&p, "{\"n\": \"\\u00e9\\u00e9\"}", V_VALID, NULL);
        expect(&p, "{\"n\": \"\\ud83d\\ude00\\ud83d\\ude00\"}", V_VALID,
               NULL);
        expect(&p, "{\"n\": \"\\u00e9\"}", V_INVALID, "/n");
        expect(&p, "{\"n\": \"\xc3\xa9\xc3\xa9\xc3\xa9\"}", V_VALID, NULL);
        expect(&p, "{\"n\": \"ab\\\\\"}", V_VALID, NULL);
        expect(&p, "{\"n\": \"abcd\"}", V_INVALID, "/n");
        close_pair(&p);
}

/* What the fast path cannot decide alone, the general path does. */
static void test_undecided(void **state)
{
        struct pair p = open_text(
                "{\"properties\": {\"a\": {\"type\": \"array\", \"items\": "
                "{\"type\": \"integer\"}}, \"o\": {\"properties\": {\"x\": "
                "{\"type\": \"integer\"}}, \"not\": {\"required\": "
                "[\"y\"]}}}}");

        (void)state;
        expect(&p, "{\"a\": [1, 2], \"o\": {\"x\": 1}}", V_VALID, NULL);
        expect(&p, "{\"a\": [1, \"2\"], \"o\": {\"x\": 1}}", V_INVALID,
               "/a/1");
        expect(&p, "{\"a\": [], \"o\": {\"x\": 1, \"y\": 2}}", V_INVALID,
               "/o");
        /* twins in a nested object: json-c keeps the last one */
        expect(&p, "{\"o\": {\"x\": \"s\", \"x\": 1}}", V_VALID, NULL);
        expect(&p, "{\"o\": {\"x\": 1, \"x\": \"s\"}}", V_INVALID, NULL);
        close_pair(&p);
}

/* Many names (past names.h's table, to its sorted check): twins found
 * anywhere, and the last one counts, as in json-c. */
static void test_many_names(void **state)
{
        struct pair p = open_text(
                "{\"properties\": {\"o\": {\"properties\": {\"x\": "
                "{\"type\": \"integer\"}}}}}");
        char event[8192], *q;

        (void)state;
        for (int twin = 0; twin < 2; twin++)
                for (int last = 0; last < 2; last++) {
                        q = event + sprintf(event, "{\"o\": {\"x\": %s",
                                            last ? "1" : "\"s\"");
                        for (int i = 0; i < 300; i++)
                                q += sprintf(q, ", \"n%d\": %d", i, i);
                        if (twin)
                                q += sprintf(q, ", \"x\": %s",
                                             last ? "\"s\"" : "1");
                        strcpy(q, "}}");
                        /* valid when x, the last of its name, is 1 */
                        expect(&p, event, (twin ? !last : last) ? V_VALID
                                                                : V_INVALID,
                               NULL);
                }
        close_pair(&p);
        /* counted twice, the twin would meet minProperties: it must not */
        p = open_text("{\"properties\": {\"o\": {\"minProperties\": 302}}}");
        q = event + sprintf(event, "{\"o\": {\"x\": 1");
        for (int i = 0; i < 300; i++)
                q += sprintf(q, ", \"n%d\": %d", i, i);
        strcpy(q, ", \"x\": 2}}");
        expect(&p, event, V_INVALID, "/o");
        close_pair(&p);
}

/* Objects nested deeper than the fast path keeps shapes for. */
static void test_deep_nesting(void **state)
{
        struct pair p = open_text(
                "{\"definitions\": {\"n\": {\"type\": \"object\", "
                "\"properties\": {\"n\": {\"$ref\": \"#/definitions/n\"}, "
                "\"v\": {\"type\": \"integer\"}}}}, \"$ref\": "
                "\"#/definitions/n\"}");
        char event[4096], *q = event;
        int depth;

        (void)state;
        for (depth = 0; depth < 20; depth++)
                q += sprintf(q, "{\"v\": %d, \"n\": ", depth);
        q += sprintf(q, "{\"v\": 1}");
        for (depth = 0; depth < 20; depth++)
                *q++ = '}';
        *q = '\0';
        expect(&p, event, V_VALID, NULL);
        strcpy(strstr(event, "{\"v\": 1}"), "{\"v\": \"x\"}");
        for (depth = 0; depth < 20; depth++)
                strcat(event, "}");
        expect(&p, event, V_INVALID, NULL);
        close_pair(&p);
}

/* A transform as examples/netflow.conf makes it, indexing its events. */
static struct kt_transform *netflow_transform(void)
{
        static const char *const times[] = {
                "timestamp_start", "timestamp_end", "timestamp_arrival",
                "stamp_inserted", "stamp_updated",
        };
        struct kt_transform *t = kt_transform_new();

        assert_non_null(t);
        assert_int_equal(kt_transform_set_envelope(t, "/netflow/flow/1.0.0",
                                                   "netflow", "test.example"),
                         0);
        for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++)
                assert_int_equal(kt_transform_time(t, times[i]), 0);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(kt_transform_add_dt_source(t, times[i * 2]),
                                 0);
        assert_int_equal(kt_transform_integer(t, "tcp_flags"), 0);
        kt_transform_set_index(t, 1);
        return t;
}

/* What the index test needs: the transform, both validators. */
struct through {
        struct kt_transform *t;
        struct validator    *v[2]; /* fast, general */
        unsigned long long   seen[2]; /* events valid, invalid */
        struct kt_key_check  keys;    /* what the names keys stood for */
        unsigned long long   keyed;   /* events with a key */
};

static const char *const breaks[][2] = {
        { "\"bytes\"", "\"bytesytes\"" },
        { "\"port_dst\": ", "\"port_dst\": 9" },
        { "\"tag\": ", "\"tag\": -" },
        { "\"ip_dst\": \"", "\"ip_dst\": \"x" },
};

/* line with break b (0: none) into copy; 0 when it does not apply. */
static int broken(const char *line, size_t b, char *copy, size_t size)
{
        const char *from;
        char *at;

        snprintf(copy, size, "%s", line);
        if (b == 0)
                return 1;
        if ((at = strstr(copy, breaks[b - 1][0])) == NULL)
                return 0;
        from = strstr(line, breaks[b - 1][0]) + strlen(breaks[b - 1][0]);
        snprintf(at, size - (size_t)(at - copy), "%s%s", breaks[b - 1][1],
                 from);
        return 1;
}

/* One line through the transform; its event through the three ways. */
static void one_line(struct through *th, const char *line, int want_valid)
{
        struct kt_input in = { "b95453ad-00af-4662-b3e8-03b56e6564f0",
                               1795422800123LL, 0 };
        struct kt_event ev;
        struct kt_schema_error e[3];
        enum v_verdict r[3];
        char why[1024];

        if (kt_transform_line(th->t, line, strlen(line), &in, &ev) !=
            KT_EVENT)
                return;
        if (kt_index_check(ev.value, ev.value_len, ev.index.m, ev.index.n,
                           why, sizeof(why)) == -1 ||
            kt_key_check(&th->keys, &ev.index, why, sizeof(why)) == -1)
                fail_msg("%s: %s", line, why);
        th->keyed += ev.index.names.shape != 0;
        r[0] = validator_check(th->v[0], ev.value, ev.value_len, &ev.index,
                               &e[0]);
        r[1] = validator_check(th->v[0], ev.value, ev.value_len, NULL, &e[1]);
        r[2] = validator_check(th->v[1], ev.value, ev.value_len, NULL, &e[2]);
        assert_int_equal(r[0], r[2]);
        assert_int_equal(r[1], r[2]);
        if (r[0] != (want_valid ? V_VALID : V_INVALID))
                fail_msg("%s: %s", line, r[0] == V_INVALID ? e[0].message
                                                           : "valid");
        th->seen[!want_valid]++;
}

/*
 * The shipped samples, and records broken from them, through the
 * transform and the shipped schema: the index says what the event says,
 * and the index, a walk and the general path give one verdict.
 */
static void test_index_of_samples(void **state)
{
        static const char *const files[] = {
                "examples/samples/pmacctd-lo-json.jsonl",
                "examples/samples/nfacctd-ipfix-epoch.jsonl",
        };
        struct through th;
        char err[512], line[4096], copy[4096];

        (void)state;
        memset(&th, 0, sizeof(th));
        th.t = netflow_transform();
        th.v[0] = validator_open("examples/schemas", "/netflow/flow/1.0.0",
                                 V_MODE_FAST, err, sizeof(err));
        th.v[1] = validator_open("examples/schemas", "/netflow/flow/1.0.0",
                                 V_MODE_GENERAL, err, sizeof(err));
        assert_non_null(th.v[0]);
        assert_non_null(th.v[1]);
        for (size_t f = 0; f < 2; f++) {
                FILE *fp = fopen(files[f], "r");

                assert_non_null(fp);
                while (fgets(line, sizeof(line), fp) != NULL) {
                        line[strcspn(line, "\n")] = '\0';
                        for (size_t b = 0; b <= 4; b++)
                                if (broken(line, b, copy, sizeof(copy)))
                                        one_line(&th, copy, b == 0);
                }
                fclose(fp);
        }
        /* both files' 180 records, each broken three or four ways (the
         * nfacctd sample has no tag) */
        assert_true(th.seen[0] == 180);
        assert_true(th.seen[1] >= 3 * 180);
        /* the transform numbers its sets of names: most events come with
         * a key (a broken name is a set of its own, a line after it
         * learns anew) */
        assert_true(th.keyed >= 180);
        /* the fast path decides every valid event, by key and by walk;
         * only the invalid ones (twice each) take the general path for
         * their message */
        assert_int_equal(validator_general_count(th.v[0]), 2 * th.seen[1]);
        kt_key_check_free(&th.keys);
        validator_close(th.v[0]);
        validator_close(th.v[1]);
        kt_transform_free(th.t);
}

/*
 * Rules with a class (the hash of an address, a country code): decided
 * on the text as written, escapes and near misses left to the schema.
 */
static void test_class_rules(void **state)
{
        static const char *const values[][2] = {
                { "\"0123abcd\"", "\"US\"" },
                { "\"10.0.0.0\"", "\"\\u0055S\"" },
                { "\"0123abcD\"", "\"us\"" },
                { "\"0123abc\"", "\"USA\"" },
                { "\"\\u0030123abcd\"", "\"U\"" },
                { "\"2001:db8::\"", "\"\"" },
                { "\"0123abcd \"", "\"U1\"" },
        };
        static const int valid[][2] = {
                { 1, 1 }, { 1, 1 }, { 0, 0 }, { 0, 0 }, { 1, 0 }, { 1, 0 },
                { 0, 0 },
        };
        struct pair p = open_text("{\"type\": \"object\", \"properties\": "
                "{\"ip\": {\"type\": \"string\", \"anyOf\": [{\"format\": "
                "\"ipv4\"}, {\"format\": \"ipv6\"}, {\"pattern\": "
                "\"^[0-9a-f]{8,64}$\"}]}, \"cc\": {\"type\": \"string\", "
                "\"pattern\": \"^[A-Z]{2}$\"}}}");
        char event[128];
        size_t i, k;

        (void)state;
        for (i = 0; i < sizeof(values) / sizeof(*values); i++)
                for (k = 0; k < 2; k++) {
                        snprintf(event, sizeof(event),
                                 "{\"ip\": %s, \"cc\": \"US\"}",
                                 values[i][0]);
                        if (k == 1)
                                snprintf(event, sizeof(event),
                                         "{\"ip\": \"::\", \"cc\": %s}",
                                         values[i][1]);
                        expect(&p, event, valid[i][k] ? V_VALID : V_INVALID,
                               k ? "/cc" : "/ip");
                }
        /* one shape, decided by the fast path but for the invalid */
        assert_int_equal(validator_general_count(p.fast), 8);
        close_pair(&p);
}

/* Values an enum let pass are remembered by their text and their kind:
 * the string "4" is not the number 4. */
static void test_seen_kinds(void **state)
{
        struct pair p = open_text("{\"type\": \"object\", \"properties\": "
                                  "{\"v\": {\"enum\": [4, 6, \"x\"]}}}");

        (void)state;
        for (int round = 0; round < 2; round++) {
                expect(&p, "{\"v\": 4}", V_VALID, NULL);
                expect(&p, "{\"v\": \"4\"}", V_INVALID, "/v");
                expect(&p, "{\"v\": 6}", V_VALID, NULL);
                expect(&p, "{\"v\": 5}", V_INVALID, "/v");
                expect(&p, "{\"v\": \"x\"}", V_VALID, NULL);
                expect(&p, "{\"v\": \"6\"}", V_INVALID, "/v");
        }
        close_pair(&p);
}

/*
 * Set i of the names of test_many_shapes(): {"a<i>": 1, "a<i+1>": 2},
 * or, when i % 3 == 0, a name the schema refuses first.
 */
static void shape_event(size_t i, char *buf, size_t size,
                        struct kt_member m[2])
{
        int first = snprintf(buf, size, "{\"%s%zu\": 1, ",
                             i % 3 == 0 ? "x" : "a", i);

        snprintf(buf + first, size - (size_t)first, "\"a%zu\": 2}", i + 1);
        memset(m, 0, 2 * sizeof(*m));
        m[0].name = buf + 2;
        m[0].name_len = (uint32_t)(strchr(buf + 2, '"') - (buf + 2));
        m[0].value = buf + first - 3;
        m[1].name = buf + first + 1;
        m[1].name_len = (uint32_t)(strchr(m[1].name, '"') - m[1].name);
        m[1].value = buf + strlen(buf) - 2;
        m[0].value_len = m[1].value_len = 1;
        m[0].kind = m[1].kind = KT_J_NUMBER;
        m[0].natural = m[1].natural = 1;
}

/*
 * More sets of names than the validator keeps, each with a key of its
 * own, seen twice: a set seen again among the last 64 is not learnt
 * again, and a key whose shape was learnt anew with other names (an
 * invalid set evicted by a valid one) does not find it.
 */
static void test_many_shapes(void **state)
{
        struct pair p = open_text("{\"type\": \"object\", "
                                  "\"additionalProperties\": false, "
                                  "\"patternProperties\": {\"^a[0-9]+$\": "
                                  "{\"type\": \"integer\"}}}");
        struct kt_schema_error e;
        struct kt_member m[2];
        struct kt_index ix;
        char buf[64];
        size_t i, round, n;
        enum v_verdict want;

        (void)state;
        for (n = 40; n <= 80; n += 40) {
                for (round = 0; round < 2; round++) {
                        for (i = 0; i < n; i++) {
                                shape_event(i, buf, sizeof(buf), m);
                                ix.m = m;
                                ix.n = 2;
                                ix.names.shape = 1000 * n + i;
                                ix.names.omitted = ix.names.stages = 0;
                                want = i % 3 == 0 ? V_INVALID : V_VALID;
                                assert_int_equal(validator_check(p.fast, buf,
                                        strlen(buf), &ix, &e), want);
                                assert_int_equal(check(&p, buf, &e), want);
                        }
                }
                if (n == 40) /* all kept: 40 sets learnt once */
                        assert_int_equal(validator_learnt_count(p.fast), 40);
        }
        close_pair(&p);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_missing_schema),
                cmocka_unit_test(test_flat_records),
                cmocka_unit_test(test_big_numbers),
                cmocka_unit_test(test_shapes_change),
                cmocka_unit_test(test_escapes),
                cmocka_unit_test(test_escaped_rules),
                cmocka_unit_test(test_undecided),
                cmocka_unit_test(test_deep_nesting),
                cmocka_unit_test(test_many_names),
                cmocka_unit_test(test_index_of_samples),
                cmocka_unit_test(test_many_shapes),
                cmocka_unit_test(test_seen_kinds),
                cmocka_unit_test(test_class_rules),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
