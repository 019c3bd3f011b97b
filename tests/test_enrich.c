/*
 * tests/test_enrich.c: the enrich stage (enrich.h) with answers from a
 * table instead of databases: the members added and their values,
 * misses and values that are not addresses left out, a name the event
 * has kept, the names and their errors, JSON escapes of what a database
 * says; every event strict JSON with a true index (tests/indexcheck.h),
 * and at random, equal names keys for equal names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "enrich.h"
#include "evedit.h"
#include "indexcheck.h"
#include "jsonscan.h"

/* The fake sources: what is known of a few addresses. */
static const struct known {
        const char *addr, *country, *as_name, *net;
        uint32_t    asn;
} KNOWN[] = {
        { "192.0.2.1", "FR", "Ex\xc3\xa4mple \"Quoted\" Networks",
          "internal", 64496 },
        { "2001:db8::1", "NL", "Doc Six", "doc6", 64511 },
        { "198.51.100.7", "JP", NULL, NULL, 0 }, /* country only */
        { "203.0.113.5", NULL, "Bad \x01 \xff bytes\\", "edge", 64500 },
};

static void fake_lookup(void *arg, const struct ip_addr *a,
                        struct enrich_answer *ans)
{
        struct ip_addr k;
        size_t i;

        (*(int *)arg)++;
        for (i = 0; i < sizeof(KNOWN) / sizeof(*KNOWN); i++) {
                assert_int_equal(ip_addr_parse(KNOWN[i].addr,
                                               strlen(KNOWN[i].addr), &k), 0);
                if (k.v6 != a->v6 || memcmp(k.b, a->b, 16) != 0)
                        continue;
                ans->country = KNOWN[i].country;
                ans->country_len = KNOWN[i].country ?
                                   strlen(KNOWN[i].country) : 0;
                ans->as_name = KNOWN[i].as_name;
                ans->as_name_len = KNOWN[i].as_name ?
                                   strlen(KNOWN[i].as_name) : 0;
                ans->net = KNOWN[i].net;
                ans->net_len = KNOWN[i].net ? strlen(KNOWN[i].net) : 0;
                ans->asn = KNOWN[i].asn;
                ans->has_asn = KNOWN[i].asn != 0;
        }
}

struct fixture {
        struct kt_transform *t;
        struct kt_event      ev;
        struct ev_editor     ed;
        struct ev_edits      e;
        struct enrich       *en;
        struct enrich_lookup lk;
        int                  lookups;
        struct kt_key_check  kc;
        struct json_object  *doc;
        char                 text[8192]; /* the event, a C string */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->t = ixc_transform();
        assert_non_null(f->t);
        f->lk.lookup = fake_lookup;
        f->lk.arg = &f->lookups;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        json_object_put(f->doc);
        kt_key_check_free(&f->kc);
        enrich_free(f->en);
        ev_editor_free(&f->ed);
        kt_transform_free(f->t);
        free(f);
        return 0;
}

/* The stage with fields and every source (all: NULL names). */
static void stage(struct fixture *f, const char *fields, int on_mask)
{
        struct enrich_conf c = { .fields = fields };
        char err[256];
        int k;

        for (k = 0; k < ENRICH_KINDS; k++)
                c.on[k] = on_mask >> k & 1;
        enrich_free(f->en);
        if ((f->en = enrich_new(&c, err, sizeof(err))) == NULL)
                fail_msg("%s", err);
}

/* line through the transform and the stage; f->doc is the event. */
static void run(struct fixture *f, const char *line)
{
        struct kt_input in = { "b95453ad-00af-4662-b3e8-03b56e6564f0",
                               1795422800123LL, 7 };
        char why[1024];

        assert_int_equal(kt_transform_line(f->t, line, strlen(line), &in,
                                           &f->ev), KT_EVENT);
        ev_edits_reset(&f->e);
        assert_int_equal(enrich_event(f->en, &f->ev, &f->lk, &f->e), 0);
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), 0);
        if (kt_json_check(f->ev.value, f->ev.value_len, why,
                          sizeof(why)) == -1 ||
            kt_index_check(f->ev.value, f->ev.value_len, f->ev.index.m,
                           f->ev.index.n, why, sizeof(why)) == -1 ||
            kt_key_check(&f->kc, &f->ev.index, why, sizeof(why)) == -1)
                fail_msg("%.*s: %s", (int)f->ev.value_len, f->ev.value, why);
        assert_true(f->ev.value_len < sizeof(f->text));
        memcpy(f->text, f->ev.value, f->ev.value_len);
        f->text[f->ev.value_len] = '\0';
        json_object_put(f->doc);
        f->doc = json_tokener_parse(f->text);
        assert_non_null(f->doc);
}

/* The member's value as JSON text, or "-" when it is not there. */
static const char *member(const struct fixture *f, const char *name)
{
        struct json_object *v;

        if (!json_object_object_get_ex(f->doc, name, &v))
                return "-";
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                              JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void line_of(char *buf, size_t n, const char *src, const char *dst)
{
        snprintf(buf, n, "{\"event_type\": \"purge\", \"ip_src\": %s, "
                 "\"ip_dst\": %s, \"bytes\": 1}", src, dst);
}

static void test_all_members(void **state)
{
        struct fixture *f = *state;
        char line[256];
        const char *tail;

        stage(f, NULL, 0xf);
        line_of(line, sizeof(line), "\"192.0.2.1\"", "\"2001:db8::1\"");
        run(f, line);
        tail = strstr(f->text, "\"bytes\": 1, ");
        assert_non_null(tail);
        assert_string_equal(tail, "\"bytes\": 1, \"ip_version\": 4, "
                "\"country_src\": \"FR\", \"as_src\": 64496, "
                "\"as_name_src\": \"Ex\xc3\xa4mple \\\"Quoted\\\" "
                "Networks\", \"net_cidr_src\": \"internal\", \"country_dst\": "
                "\"NL\", \"as_dst\": 64511, \"as_name_dst\": \"Doc Six\", "
                "\"net_cidr_dst\": \"doc6\"}");
        assert_string_equal(member(f, "as_name_src"),
                            "\"Ex\xc3\xa4mple \\\"Quoted\\\" Networks\"");
        assert_int_equal(f->lookups, 2);
        assert_true(f->e.names == (0xffull | 1ull << 31));
}

static void test_misses_left_out(void **state)
{
        struct fixture *f = *state;
        char line[256];

        stage(f, NULL, 0xf);
        line_of(line, sizeof(line), "\"198.51.100.7\"", "\"10.9.9.9\"");
        run(f, line);
        assert_string_equal(member(f, "ip_version"), "4");
        assert_string_equal(member(f, "country_src"), "\"JP\"");
        assert_string_equal(member(f, "as_src"), "-");
        assert_string_equal(member(f, "as_name_src"), "-");
        assert_string_equal(member(f, "net_cidr_src"), "-");
        assert_string_equal(member(f, "country_dst"), "-");
        assert_true(f->e.names == (1ull | 1ull << 31));
        assert_true(f->ev.index.names.stages == f->e.names);
}

/* What a database says is escaped: quotes, backslashes, control bytes;
 * bytes that are not UTF-8 become U+FFFD. */
static void test_escapes(void **state)
{
        struct fixture *f = *state;
        char line[256];

        stage(f, "ip_src", 0xf);
        line_of(line, sizeof(line), "\"203.0.113.5\"", "null");
        run(f, line);
        assert_non_null(strstr(f->text, "\"as_name_src\": \"Bad \\u0001 "
                                            "\\ufffd bytes\\\\\""));
        assert_string_equal(member(f, "as_name_src"),
                            "\"Bad \\u0001 \xef\xbf\xbd bytes\\\\\"");
        assert_string_equal(member(f, "country_src"), "-");
}

/* Not an address (a host name, a number, null, absent): no enrichment,
 * no lookup; ip_version is the first address's. */
static void test_not_an_address(void **state)
{
        struct fixture *f = *state;
        char line[256];

        stage(f, NULL, 0xf);
        line_of(line, sizeof(line), "\"host.example\"", "\"2001:db8::1\"");
        run(f, line);
        assert_string_equal(member(f, "ip_version"), "6");
        assert_string_equal(member(f, "country_src"), "-");
        assert_string_equal(member(f, "country_dst"), "\"NL\"");
        assert_int_equal(f->lookups, 1);
        line_of(line, sizeof(line), "17", "null");
        run(f, line);
        assert_string_equal(member(f, "ip_version"), "-");
        assert_int_equal(f->lookups, 1);
        assert_true(f->e.names == 0);
        run(f, "{\"event_type\": \"purge\", \"ip_src\": \"192.0.2\\u002e1\"}");
        assert_string_equal(member(f, "country_src"), "-");
        run(f, "{\"event_type\": \"purge\", \"bytes\": 1}");
        assert_true(f->e.names == 0);
        assert_int_equal(f->lookups, 1);
}

/* A name the event already has (pmacct's as_src) keeps its value. */
static void test_name_taken(void **state)
{
        struct fixture *f = *state;

        stage(f, NULL, 0xf);
        run(f, "{\"event_type\": \"purge\", \"ip_src\": \"192.0.2.1\", "
               "\"as_src\": 0, \"ip_version\": 9}");
        assert_string_equal(member(f, "as_src"), "0");
        assert_string_equal(member(f, "ip_version"), "9");
        assert_string_equal(member(f, "as_name_src"),
                            "\"Ex\xc3\xa4mple \\\"Quoted\\\" Networks\"");
        assert_true(f->e.names == 0xd);
}

/* Only the configured sources' members; FIELD:DIR; templates. */
static void test_sources_and_names(void **state)
{
        struct fixture *f = *state;
        struct enrich_conf c = { .fields = "peer_ip_src:peer, ip_dst",
                                 .name = { "geo_%s", NULL, NULL,
                                           "%s_net" },
                                 .ip_version = "",
                                 .on = { 1, 0, 0, 1 } };
        char err[256];

        f->en = enrich_new(&c, err, sizeof(err));
        assert_non_null(f->en);
        run(f, "{\"event_type\": \"purge\", \"peer_ip_src\": \"192.0.2.1\", "
               "\"ip_dst\": \"2001:db8::1\"}");
        assert_non_null(strstr(f->text, "\"ip_dst\": \"2001:db8::1\", "
                "\"geo_peer\": \"FR\", \"peer_net\": \"internal\", "
                "\"geo_dst\": \"NL\", \"dst_net\": \"doc6\"}"));
        assert_string_equal(member(f, "ip_version"), "-");
        assert_string_equal(member(f, "as_peer"), "-");
}

static void bad_conf(const char *fields, const char *name0,
                     const char *ipv, const char *why)
{
        struct enrich_conf c = { .fields = fields, .name = { name0 },
                                 .ip_version = ipv, .on = { 1, 1, 1, 1 } };
        char err[256] = "";

        assert_null(enrich_new(&c, err, sizeof(err)));
        if (strstr(err, why) == NULL)
                fail_msg("got '%s', want '...%s...'", err, why);
}

static void test_bad_names(void **state)
{
        (void)state;
        bad_conf("ipsrc", NULL, NULL, "'ipsrc': a field is NAME_DIR");
        bad_conf("ip_src:", NULL, NULL, "NAME:DIR");
        bad_conf("ip_dst : to", NULL, NULL, "NAME:DIR");
        bad_conf("ip_dst:t o", NULL, NULL, "'country_%s' for 't o' is not "
                 "a name (printable ASCII, no space");
        bad_conf("a_1, b_2, c_3, d_4, e_5, f_6, g_7", NULL, NULL,
                 "more than 6 fields");
        bad_conf("ip_src, peer_src", NULL, NULL, "the name 'country_src' "
                 "twice");
        bad_conf("ip_src", "country", NULL, "needs one %s");
        bad_conf("ip_src", "c_%s_%s", NULL, "needs one %s");
        bad_conf("ip_src", "c_%d%s", NULL, "needs one %s");
        bad_conf("ip_src", "c\"%s", NULL, "is not a name");
        bad_conf("ip_src", NULL, "ip\\v", "enrich.name.ip_version");
        bad_conf("ip_src", "ip_%s", NULL, "the name 'ip_src' twice");
        bad_conf(" , ", NULL, NULL, "no field");
}

static void test_json_escape(void **state)
{
        char out[64];
        size_t n;

        (void)state;
        n = enrich_json_escape("a\"b\\c\n\x1f", 7, out);
        assert_int_equal(n, 19);
        assert_memory_equal(out, "a\\\"b\\\\c\\u000a\\u001f", 19);
        /* valid sequences kept, a lone continuation, an overlong form, a
         * surrogate and a cut sequence each U+FFFD */
        n = enrich_json_escape("\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80", 9, out);
        assert_int_equal(n, 9);
        n = enrich_json_escape("\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82", 11, out);
        out[n] = '\0';
        assert_string_equal(out, "\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
                                 "\\ufffd\\ufffd");
}

static void fixed_lookup(void *arg, const struct ip_addr *a,
                         struct enrich_answer *ans)
{
        (void)a;
        *ans = *(const struct enrich_answer *)arg;
}

/* A long AS name is cut at 255 bytes, not inside a character. */
static void test_long_as_name(void **state)
{
        struct fixture *f = *state;
        static char name[601];
        struct enrich_answer ans = { .as_name = name, .as_name_len = 600 };
        const char *v;
        size_t i;

        for (i = 0; i < 600; i += 2)
                memcpy(name + i, "\xc3\xa4", 2);
        f->lk.lookup = fixed_lookup;
        f->lk.arg = &ans;
        stage(f, "ip_src", 0xf);
        run(f, "{\"event_type\": \"purge\", \"ip_src\": \"192.0.2.1\"}");
        v = member(f, "as_name_src");
        assert_int_equal(strlen(v), 254 + 2);
        assert_memory_equal(v + 1, name, 254);
}

/* A source that keeps its answers escaped (geoip.c's record cache) and
 * reuses one buffer: the last byte of the address in it. */
static void escaped_lookup(void *arg, const struct ip_addr *a,
                           struct enrich_answer *ans)
{
        static char buf[16];

        (void)arg;
        snprintf(buf, sizeof(buf), "%u\\\"", a->b[3]);
        ans->country = ans->as_name = buf;
        ans->country_len = ans->as_name_len = strlen(buf);
        ans->escaped = 1u << ENRICH_COUNTRY | 1u << ENRICH_AS_NAME;
}

/* Escaped answers are not escaped again, and copied before the next
 * lookup. */
static void test_escaped_answer(void **state)
{
        struct fixture *f = *state;

        f->lk.lookup = escaped_lookup;
        stage(f, "ip_src, ip_dst", 0xf);
        run(f, "{\"event_type\": \"purge\", \"ip_src\": \"192.0.2.1\", "
            "\"ip_dst\": \"192.0.2.2\"}");
        assert_string_equal(member(f, "country_src"), "\"1\\\"\"");
        assert_string_equal(member(f, "as_name_src"), "\"1\\\"\"");
        assert_string_equal(member(f, "country_dst"), "\"2\\\"\"");
        assert_string_equal(member(f, "as_name_dst"), "\"2\\\"\"");
}

/*
 * At random: addresses known, unknown or not addresses, a name the
 * stage would add there or not; run() checks that every event's index
 * is true and that a names key always stands for the same names.
 */
/*
 * What the pass over the index finds is kept per names key: shapes that
 * take turns and repeat, the address moving, a name taken or not.
 */
static void test_found_per_key(void **state)
{
        static const char *const lines[] = {
                "{\"ip_src\": \"192.0.2.1\", \"bytes\": 1}",
                ("{\"tag\": 1, \"ip_src\": \"192.0.2.1\", \"country_src\": "
                 "\"XX\"}"),
                ("{\"tag\": 1, \"ip_dst\": \"2001:db8::1\", \"ip_src\": "
                 "\"10.1.1.1\"}"),
        };
        static const char *const want[][2] = {
                { "\"FR\"", "-" }, { "\"XX\"", "-" }, { "-", "\"NL\"" },
        };
        struct fixture *f = *state;
        int i, k;

        stage(f, NULL, 0xf);
        for (i = 0; i < 30; i++) {
                k = i % 7 % 3; /* each shape twice in a row, in turns */
                run(f, lines[k]);
                assert_true(f->ev.index.names.shape != 0);
                assert_string_equal(member(f, "country_src"), want[k][0]);
                assert_string_equal(member(f, "country_dst"), want[k][1]);
        }
}

static void test_random_keys(void **state)
{
        static const char *const vals[] = {
                "\"192.0.2.1\"", "\"2001:db8::1\"", "\"198.51.100.7\"",
                "\"203.0.113.5\"", "\"10.1.1.1\"", "\"::1\"", "\"host\"",
                "17", "null",
        };
        const size_t nv = sizeof(vals) / sizeof(*vals);
        struct fixture *f = *state;
        char line[256];
        int i;

        srand(13);
        stage(f, "ip_src, ip_dst, peer_ip_src:peer", 0xf);
        for (i = 0; i < 3000; i++) {
                snprintf(line, sizeof(line), "{\"event_type\": \"purge\", "
                         "\"ip_src\": %s, \"ip_dst\": %s, %s\"peer_ip_src\": "
                         "%s, \"bytes\": 1}", vals[rand() % nv],
                         vals[rand() % nv], rand() % 4 == 0 ?
                         "\"as_name_dst\": \"x\", " : "", vals[rand() % nv]);
                run(f, line);
        }
        assert_true(f->kc.n > 10);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_all_members, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_misses_left_out, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_escapes, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_not_an_address, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_name_taken, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_sources_and_names,
                                                setup, teardown),
                cmocka_unit_test(test_bad_names),
                cmocka_unit_test(test_json_escape),
                cmocka_unit_test_setup_teardown(test_escaped_answer, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_long_as_name, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_found_per_key, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_random_keys, setup,
                                                teardown),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
