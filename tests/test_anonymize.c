/*
 * tests/test_anonymize.c: the anonymize stage (anonymize.h): truncate at
 * several prefixes and the canonical text it writes, values that are not
 * addresses, HMAC-SHA256 against vectors computed apart from OpenSSL,
 * stable in a generation and changed across one, the hash's length,
 * drop, null and absent members; every event written by ev_apply() is
 * strict JSON with a true index and names key (tests/indexcheck.h); the
 * raw line re-written for the dead-letter file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymize.h"
#include "evedit.h"
#include "indexcheck.h"
#include "jsonscan.h"

/*
 * The salt of the vectors: 32 times 'k'.  Each vector is
 * python3 -c 'import hmac; print(hmac.new(b"k" * 32, MSG,
 * "sha256").hexdigest())' with MSG b"\x04\x0a\x00\x00\x01" (10.0.0.1),
 * b"\x06" + bytes.fromhex("20010db8" + "0" * 22 + "1") (2001:db8::1),
 * b"\x00not-an-ip" (text).
 */
static const unsigned char SALT[33] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
static const char H_V4[] = "deecd072e1b08595b5d79896d8dc750a"
                           "5e518465f9fcabdc84c787ad42966242";
static const char H_V6[] = "0791726777ed870a1c20c9efe2c6d904"
                           "4ecdf56b7948a9ab74b79ac7ade782f7";
static const char H_TEXT[] = "8b82bacee075153d3ead897f55c3bfce"
                             "39cdf0e8af829c1fc5f93a069f0d2b1e";

struct fixture {
        struct kt_transform *t;
        struct anonymizer   *a;
        struct kt_event      ev;
        struct ev_editor     ed;
        struct ev_edits      e;
        struct kt_key_check  kc;
};

static struct anonymizer *new_anon(int hash_len)
{
        const struct anon_opts o = { 24, 48, hash_len, "anon_salt" };
        char err[256];
        struct anonymizer *a = anon_new(&o, err, sizeof(err));

        assert_non_null(a);
        return a;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->t = ixc_transform();
        assert_non_null(f->t);
        f->a = new_anon(16);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        kt_key_check_free(&f->kc);
        ev_editor_free(&f->ed);
        anon_free(f->a);
        kt_transform_free(f->t);
        free(f);
        return 0;
}

static void rule(struct fixture *f, const char *field, const char *r)
{
        char err[256];

        assert_int_equal(anon_add(f->a, ANON_OUTPUT, field, r, err,
                                  sizeof(err)), 0);
}

/* line through the transform and the stage: its result; the event is
 * written, strict JSON, its index and names key true. */
static enum anon_result run(struct fixture *f, const char *line)
{
        struct kt_input in = { "b95453ad-00af-4662-b3e8-03b56e6564f0",
                               1795422800123LL, 1 };
        enum anon_result r;
        char why[1024];

        assert_int_equal(kt_transform_line(f->t, line, strlen(line), &in,
                                           &f->ev), KT_EVENT);
        ev_edits_reset(&f->e);
        if ((r = anon_stage(f->a, &f->ev, &f->e)) != ANON_OK)
                return r;
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), 0);
        if (kt_json_check(f->ev.value, f->ev.value_len, why,
                          sizeof(why)) == -1 ||
            kt_index_check(f->ev.value, f->ev.value_len, f->ev.index.m,
                           f->ev.index.n, why, sizeof(why)) == -1 ||
            kt_key_check(&f->kc, &f->ev.index, why, sizeof(why)) == -1)
                fail_msg("%.*s: %s", (int)f->ev.value_len, f->ev.value, why);
        return r;
}

/* The event's member name holds want ("\"...\"" or a bare value), or is
 * absent (want NULL). */
static void member_is(const struct fixture *f, const char *name,
                      const char *want)
{
        char pat[128];
        const char *p;

        snprintf(pat, sizeof(pat), "\"%s\": ", name);
        p = memmem(f->ev.value, f->ev.value_len, pat, strlen(pat));
        if (want == NULL) {
                if (p != NULL)
                        fail_msg("%s present: %.*s", name,
                                 (int)f->ev.value_len, f->ev.value);
                return;
        }
        if (p == NULL || strncmp(p + strlen(pat), want, strlen(want)) != 0)
                fail_msg("%s is not %s: %.*s", name, want,
                         (int)f->ev.value_len, f->ev.value);
}

static void truncates(const char *in, int v4, int v6, const char *want)
{
        char out[64];
        int n = anon_truncate(in, strlen(in), v4, v6, out);

        if (want == NULL) {
                assert_int_equal(n, -1);
                return;
        }
        assert_int_equal(n, (int)strlen(want));
        assert_string_equal(out, want);
}

static void test_truncate_v4(void **state)
{
        (void)state;
        truncates("192.168.201.77", 24, 48, "192.168.201.0");
        truncates("192.168.201.77", 16, 48, "192.168.0.0");
        truncates("192.168.201.77", 20, 48, "192.168.192.0");
        truncates("192.168.201.77", 31, 48, "192.168.201.76");
        truncates("192.168.201.77", 32, 48, "192.168.201.77");
        truncates("192.168.201.77", 0, 48, "0.0.0.0");
        truncates("255.255.255.255", 1, 48, "128.0.0.0");
}

static void test_truncate_v6(void **state)
{
        (void)state;
        truncates("2001:db8:abcd:12:1:2:3:4", 24, 48, "2001:db8:abcd::");
        truncates("2001:DB8:ABCD:0012:0000:0000:0000:0004", 24, 64,
                  "2001:db8:abcd:12::");
        truncates("2001:db8:abcd:12:1:2:3:4", 24, 128,
                  "2001:db8:abcd:12:1:2:3:4");
        truncates("2001:db8:abcd:12:1:2:3:4", 24, 0, "::");
        truncates("2001:db8:abcd:12:1:2:3:4", 24, 28, "2001:db0::");
        truncates("2001:db8:abcd:12:1:2:3:4", 24, 20, "2001::");
        truncates("::1", 24, 48, "::");
        /* IPv4-mapped: the IPv4 prefix, on the last 32 bits */
        truncates("::ffff:10.1.2.3", 24, 48, "::ffff:10.1.2.0");
        truncates("::FFFF:10.1.2.3", 8, 0, "::ffff:10.0.0.0");
}

static void test_truncate_not_an_address(void **state)
{
        static const char *const bad[] = {
                "", "10.0.0", "10.0.0.256", "1.2.3.4 ", " 1.2.3.4",
                "fe80::1%eth0", "2001:db8::1::1", "10.0.0.1/24", "-1",
                "0x0a000001", "::ffff:1.2.3", "localhost",
                ("1234567890123456789012345678901234567890123456789012345678"
                 "901234567890"),
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                truncates(bad[i], 24, 48, NULL);
}

/* Random addresses, their groups often zero (mapped, compatible, runs
 * of every length), written in full: as inet_ntop writes them. */
static void test_truncate_v6_as_inet_ntop(void **state)
{
        unsigned char b[16];
        char in[64], want[INET6_ADDRSTRLEN], out[64];
        int i, j, n;

        (void)state;
        srand(5952);
        for (i = 0; i < 200000; i++) {
                for (j = 0; j < 16; j++)
                        b[j] = rand() % 3 ? 0 : (unsigned char)rand();
                if (rand() % 4 == 0) {
                        memset(b, 0, 10);
                        b[10] = b[11] = rand() % 2 ? 0xff : 0;
                }
                for (n = 0, j = 0; j < 16; j += 2)
                        n += snprintf(in + n, sizeof(in) - (size_t)n, "%s%x",
                                      j ? ":" : "", b[j] << 8 | b[j + 1]);
                assert_non_null(inet_ntop(AF_INET6, b, want, sizeof(want)));
                n = anon_truncate(in, strlen(in), 32, 128, out);
                assert_int_equal(n, (int)strlen(want));
                assert_string_equal(out, want);
        }
}

static const char LINE[] = "{\"event_type\": \"purge\", \"ip_src\": "
        "\"10.0.0.1\", \"ip_dst\": \"2001:db8::1\", \"peer_ip_src\": "
        "\"::ffff:10.0.0.1\", \"host\": \"not-an-ip\", \"nested\": "
        "[1, {\"a\": 2}], \"bytes\": 1200}";

static void test_hash_known_answers(void **state)
{
        struct fixture *f = *state;
        char want[80];

        rule(f, "ip_src", "hash");
        rule(f, "ip_dst", "hash");
        rule(f, "peer_ip_src", "hash");
        rule(f, "host", "hash");
        rule(f, "bytes", "hash");
        assert_int_equal(anon_set_salt(f->a, SALT, 32, "0badc0de-1"), 0);
        assert_int_equal(run(f, LINE), ANON_OK);
        snprintf(want, sizeof(want), "\"%.16s\"", H_V4);
        member_is(f, "ip_src", want);
        member_is(f, "peer_ip_src", want); /* mapped: the same address */
        snprintf(want, sizeof(want), "\"%.16s\"", H_V6);
        member_is(f, "ip_dst", want);
        snprintf(want, sizeof(want), "\"%.16s\"", H_TEXT);
        member_is(f, "host", want);
        member_is(f, "bytes", "\""); /* a number: hashed as its text */
        member_is(f, "nested", "[1, {\"a\": 2}]");
        member_is(f, "anon_salt", "\"0badc0de-1\"}");
        /* the line again follows its shape: a names key, the stage's bits */
        assert_int_equal(run(f, LINE), ANON_OK);
        assert_true(f->ev.index.names.shape != 0);
        assert_true(f->ev.index.names.stages >> ANON_NAMES_FIRST_BIT != 0);
        snprintf(want, sizeof(want), "\"%.16s\"", H_V4); /* remembered */
        member_is(f, "ip_src", want);
        member_is(f, "peer_ip_src", want);
        snprintf(want, sizeof(want), "\"%.16s\"", H_V6);
        member_is(f, "ip_dst", want);
}

static void test_hash_length(void **state)
{
        struct fixture *f = *state;
        const struct anon_opts odd = { 24, 48, 15, "s" }, big = { 24, 48, 66,
                                                                "s" },
                               v4 = { 33, 48, 16, "s" }, name = { 24, 48, 16,
                                                                "a\"b" };
        char err[256], want[80];

        anon_free(f->a);
        f->a = new_anon(64);
        rule(f, "ip_src", "hash");
        assert_int_equal(anon_set_salt(f->a, SALT, 32, "g"), 0);
        assert_int_equal(run(f, LINE), ANON_OK);
        snprintf(want, sizeof(want), "\"%s\"", H_V4);
        member_is(f, "ip_src", want);
        anon_free(f->a);
        f->a = new_anon(8);
        rule(f, "ip_src", "hash");
        assert_int_equal(anon_set_salt(f->a, SALT, 32, "g"), 0);
        assert_int_equal(run(f, LINE), ANON_OK);
        snprintf(want, sizeof(want), "\"%.8s\"", H_V4);
        member_is(f, "ip_src", want);
        assert_null(anon_new(&odd, err, sizeof(err)));
        assert_null(anon_new(&big, err, sizeof(err)));
        assert_null(anon_new(&v4, err, sizeof(err)));
        assert_null(anon_new(&name, err, sizeof(err)));
}

/* The hash of ip_src in f's event now, as a string. */
static void ip_src_of(const struct fixture *f, char *out)
{
        const char *p = memmem(f->ev.value, f->ev.value_len,
                               "\"ip_src\": \"", 11);

        assert_non_null(p);
        memcpy(out, p + 11, 16);
        out[16] = '\0';
}

static void test_generations(void **state)
{
        struct fixture *f = *state;
        unsigned char other[32];
        char h1[17], h2[17], h3[17];

        memset(other, 'j', sizeof(other));
        rule(f, "ip_src", "hash");
        assert_int_equal(anon_set_salt(f->a, SALT, 32, "aa-1"), 0);
        assert_int_equal(run(f, LINE), ANON_OK);
        ip_src_of(f, h1);
        assert_int_equal(run(f, LINE), ANON_OK);
        ip_src_of(f, h2);
        assert_string_equal(h1, h2); /* stable within a generation */
        assert_int_equal(anon_set_salt(f->a, other, 32, "bb-2"), 0);
        assert_int_equal(run(f, LINE), ANON_OK);
        ip_src_of(f, h3);
        assert_string_not_equal(h1, h3);
        member_is(f, "anon_salt", "\"bb-2\"");
}

static void test_truncate_drop_null_absent(void **state)
{
        struct fixture *f = *state;

        rule(f, "ip_src", "truncate");
        rule(f, "ip_dst", "truncate");
        rule(f, "peer_ip_src", "drop");
        rule(f, "post_nat_ip_src", "truncate"); /* absent: nothing */
        assert_int_equal(run(f, LINE), ANON_OK);
        member_is(f, "ip_src", "\"10.0.0.0\"");
        member_is(f, "ip_dst", "\"2001:db8::\"");
        member_is(f, "peer_ip_src", NULL);
        member_is(f, "anon_salt", NULL); /* no hash rule: no salt */
        assert_int_equal(run(f, "{\"ip_src\": null, \"ip_dst\": "
                             "\"10.\\u0030.0.9\", \"bytes\": 1}"), ANON_OK);
        member_is(f, "ip_src", "null");
        member_is(f, "ip_dst", "\"10.0.0.0\""); /* read unescaped */
        /* the key check sees these shapes again, mixed */
        assert_int_equal(run(f, LINE), ANON_OK);
        /* one shape, twice (a key), then with a null to drop: the same
         * names for the same key */
        assert_int_equal(run(f, "{\"ip_src\": \"1.2.3.4\", \"peer_ip_src\": "
                             "\"1.1.1.1\", \"bytes\": 1}"), ANON_OK);
        assert_int_equal(run(f, "{\"ip_src\": \"1.2.3.4\", \"peer_ip_src\": "
                             "\"1.1.1.1\", \"bytes\": 1}"), ANON_OK);
        assert_int_equal(run(f, "{\"ip_src\": \"1.2.3.4\", \"peer_ip_src\": "
                             "null, \"bytes\": 1}"), ANON_OK);
        member_is(f, "peer_ip_src", NULL);
        assert_int_equal(run(f, "{\"ip_src\": \"1.2.3.4\", \"bytes\": 1}"),
                         ANON_OK);
        assert_int_equal(run(f, LINE), ANON_OK);
}

/*
 * The members a rule names are found once per names key: shapes that
 * take turns (new keys), one that comes back, a rule added later, each
 * event anonymized.
 */
static void test_rules_per_key(void **state)
{
        static const char *const lines[] = {
                "{\"ip_src\": \"1.2.3.4\", \"bytes\": 1}",
                ("{\"tag\": 1, \"ip_src\": \"1.2.3.4\", \"ip_dst\": "
                 "\"5.6.7.8\"}"),
                "{\"ip_dst\": \"5.6.7.8\", \"ip_src\": \"1.2.3.4\"}",
        };
        struct fixture *f = *state;
        int i;

        rule(f, "ip_src", "truncate");
        for (i = 0; i < 11; i++) { /* the last: lines[1], kept on */
                assert_int_equal(run(f, lines[i % 3 == 2 ? 0 : i % 3]),
                                 ANON_OK);
                assert_true(f->ev.index.names.shape != 0);
                member_is(f, "ip_src", "\"1.2.3.0\"");
        }
        rule(f, "ip_dst", "truncate");
        for (i = 0; i < 6; i++) {
                assert_int_equal(run(f, lines[1 + i % 2]), ANON_OK);
                member_is(f, "ip_src", "\"1.2.3.0\"");
                member_is(f, "ip_dst", "\"5.6.7.0\"");
        }
}

/* An address the enrich stage read (ev_addr_put) is not read again:
 * the stage takes it by the value's place, not its text. */
static void test_address_from_enrich(void **state)
{
        struct kt_input in = { "b95453ad-00af-4662-b3e8-03b56e6564f0",
                               1795422800123LL, 1 };
        static const char line[] = "{\"ip_src\": \"10.0.0.1\", "
                                   "\"ip_dst\": \"10.0.0.1\"}";
        struct fixture *f = *state;
        struct ip_addr told;
        size_t i;

        rule(f, "ip_src", "truncate");
        rule(f, "ip_dst", "truncate");
        assert_int_equal(kt_transform_line(f->t, line, strlen(line), &in,
                                           &f->ev), KT_EVENT);
        ev_edits_reset(&f->e);
        assert_int_equal(ip_addr_parse("10.9.9.9", 8, &told), 0);
        for (i = 0; i < f->ev.index.n; i++)
                if (f->ev.index.m[i].name_len == 6 &&
                    memcmp(f->ev.index.m[i].name, "ip_src", 6) == 0)
                        ev_addr_put(&f->e, f->ev.index.m[i].value,
                                    f->ev.index.m[i].value_len, &told);
        assert_int_equal(anon_stage(f->a, &f->ev, &f->e), ANON_OK);
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), 0);
        member_is(f, "ip_src", "\"10.9.9.0\"");
        member_is(f, "ip_dst", "\"10.0.0.0\""); /* the same text, read */
}

static void test_refused(void **state)
{
        struct fixture *f = *state;

        rule(f, "ip_src", "truncate");
        rule(f, "ip_dst", "hash");
        assert_int_equal(run(f, "{\"ip_src\": \"secret-host.example\"}"),
                         ANON_REFUSED);
        assert_non_null(strstr(anon_error(f->a), "anonymize.ip_src"));
        assert_null(strstr(anon_error(f->a), "secret-host"));
        assert_int_equal(run(f, "{\"ip_src\": 167772161}"), ANON_REFUSED);
        assert_null(strstr(anon_error(f->a), "167772161"));
        /* no salt yet: a hash cannot be made */
        assert_int_equal(run(f, "{\"ip_dst\": \"10.0.0.1\"}"), ANON_REFUSED);
        assert_int_equal(anon_set_salt(f->a, SALT, 32, "g"), 0);
        assert_int_equal(run(f, "{\"ip_dst\": {\"v\": \"10.0.0.1\"}}"),
                         ANON_REFUSED);
        assert_null(strstr(anon_error(f->a), "10.0.0.1"));
        assert_int_equal(run(f, "{\"ip_dst\": \"10.0.0.1\"}"), ANON_OK);
}

static void test_rules_refused(void **state)
{
        struct fixture *f = *state;
        char err[256], name[16];
        int i;

        assert_int_equal(anon_add(f->a, ANON_OUTPUT, "ip_src", "mask", err,
                                  sizeof(err)), -1);
        assert_non_null(strstr(err, "truncate|hash|drop"));
        rule(f, "ip_src", "drop");
        assert_int_equal(anon_add(f->a, ANON_OUTPUT, "ip_src", "hash", err,
                                  sizeof(err)), -1);
        for (i = 1; i < ANON_RULES_MAX; i++) {
                snprintf(name, sizeof(name), "f%d", i);
                rule(f, name, "truncate");
        }
        assert_int_equal(anon_add(f->a, ANON_OUTPUT, "one_more", "hash", err,
                                  sizeof(err)), -1);
        assert_int_equal(anon_rule_of(f->a, ANON_OUTPUT, "f3", 2), 3);
        assert_int_equal(anon_rule_of(f->a, ANON_INPUT, "f3", 2), -1);
}

static void line_is(struct anonymizer *a, const char *in, const char *want)
{
        const char *out = NULL;
        long n = anon_line(a, in, strlen(in), &out);

        if (want == NULL) {
                assert_int_equal(n, -1);
                return;
        }
        assert_true(n >= 0);
        if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0)
                fail_msg("got  %.*s\nwant %s", (int)n, out, want);
}

static void test_raw_line(void **state)
{
        struct fixture *f = *state;
        char err[256], want[256];

        assert_int_equal(anon_add(f->a, ANON_INPUT, "src_host", "truncate",
                                  err, sizeof(err)), 0);
        assert_int_equal(anon_add(f->a, ANON_INPUT, "dst_host", "hash", err,
                                  sizeof(err)), 0);
        assert_int_equal(anon_add(f->a, ANON_INPUT, "peer", "drop", err,
                                  sizeof(err)), 0);
        assert_int_equal(anon_set_salt(f->a, SALT, 32, "g"), 0);
        snprintf(want, sizeof(want), "{\"src_host\": \"10.0.0.0\", "
                 "\"dst_host\": \"%.16s\", \"bytes\": 1, \"s\": \"x\\\"\"}",
                 H_V4);
        line_is(f->a, "{\"src_host\":\"10.0.0.7\",\"peer\":\"1.1.1.1\","
                "\"dst_host\": \"10.0.0.1\", \"bytes\": 1, \"s\": \"x\\\"\"}",
                want);
        /* not an address under truncate: null, never the value */
        line_is(f->a, "{\"src_host\": \"secret\"}", "{\"src_host\": null}");
        line_is(f->a, "{\"src_host\": \"10.0.0.7\" broken", NULL);
        line_is(f->a, "[\"10.0.0.7\"]", NULL);
        line_is(f->a, "{\"src\\u005fhost\": \"10.0.0.7\"}", NULL);
        line_is(f->a, "", NULL);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_truncate_v4),
                cmocka_unit_test(test_truncate_v6),
                cmocka_unit_test(test_truncate_not_an_address),
                cmocka_unit_test(test_truncate_v6_as_inet_ntop),
                cmocka_unit_test_setup_teardown(test_hash_known_answers,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_hash_length, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_generations, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        test_truncate_drop_null_absent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rules_per_key, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_address_from_enrich,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_rules_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_raw_line, setup,
                                                teardown),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
