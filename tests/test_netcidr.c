/*
 * tests/test_netcidr.c: CIDR labels (netcidr.h): the longest prefix
 * wins, IPv4 and IPv6 apart, /0, comments, and each kind of bad line
 * refused with its line number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "netcidr.h"

static struct netcidr *load(const char *text)
{
        struct netcidr *nc = netcidr_new();
        char err[256];

        assert_non_null(nc);
        if (netcidr_parse(nc, text, strlen(text), "nets", err,
                          sizeof(err)) == -1)
                fail_msg("%s", err);
        return nc;
}

/* The label of addr, or "-" for none. */
static const char *label(const struct netcidr *nc, const char *addr)
{
        static char out[NETCIDR_LABEL_MAX + 1];
        struct ip_addr a;
        const char *l;
        size_t n;

        assert_int_equal(ip_addr_parse(addr, strlen(addr), &a), 0);
        if ((l = netcidr_lookup(nc, &a, &n)) == NULL)
                return "-";
        memcpy(out, l, n);
        out[n] = '\0';
        return out;
}

static void test_longest_prefix(void **state)
{
        struct netcidr *nc = load("# site\n"
                                  "10.0.0.0/8 internal\n"
                                  "10.64.0.0/12 eqiad # a comment\n"
                                  "10.64.32.0/24 eqiad-b\n"
                                  "10.64.32.7/32 host\r\n"
                                  "\n   \t\n"
                                  "2620:0:860::/46 wmf6\n"
                                  "2620:0:861:1::/64 row-a\n");

        (void)state;
        assert_int_equal(netcidr_count(nc), 6);
        assert_string_equal(label(nc, "10.1.2.3"), "internal");
        assert_string_equal(label(nc, "10.64.1.1"), "eqiad");
        assert_string_equal(label(nc, "10.79.255.255"), "eqiad");
        assert_string_equal(label(nc, "10.80.0.0"), "internal");
        assert_string_equal(label(nc, "10.64.32.6"), "eqiad-b");
        assert_string_equal(label(nc, "10.64.32.7"), "host");
        assert_string_equal(label(nc, "11.0.0.1"), "-");
        assert_string_equal(label(nc, "2620:0:861:1::5"), "row-a");
        assert_string_equal(label(nc, "2620:0:861:2::5"), "wmf6");
        assert_string_equal(label(nc, "2620:0:864::1"), "-");
        /* the families apart: ::a00:1 holds 10.0.0.1's bits */
        assert_string_equal(label(nc, "::a00:1"), "-");
        assert_string_equal(label(nc, "::ffff:10.0.0.1"), "-");
        netcidr_free(nc);
}

static void test_zero_prefix(void **state)
{
        struct netcidr *nc = load("0.0.0.0/0 v4-world\n::/0 v6-world\n"
                                  "192.0.2.0/24 doc\n");

        (void)state;
        assert_string_equal(label(nc, "192.0.2.9"), "doc");
        assert_string_equal(label(nc, "203.0.113.1"), "v4-world");
        assert_string_equal(label(nc, "255.255.255.255"), "v4-world");
        assert_string_equal(label(nc, "2001:db8::1"), "v6-world");
        assert_string_equal(label(nc, "::"), "v6-world");
        netcidr_free(nc);
}

static void test_empty(void **state)
{
        struct netcidr *nc = load("");

        (void)state;
        assert_int_equal(netcidr_count(nc), 0);
        assert_string_equal(label(nc, "10.0.0.1"), "-");
        assert_string_equal(label(nc, "::1"), "-");
        netcidr_free(nc);
}

/* text refused, with "nets:LINE: " and why in the message. */
static void refused(const char *text, int line, const char *why)
{
        struct netcidr *nc = netcidr_new();
        char err[256], want[64];

        assert_int_equal(netcidr_parse(nc, text, strlen(text), "nets", err,
                                       sizeof(err)), -1);
        snprintf(want, sizeof(want), "nets:%d: ", line);
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, why))
                fail_msg("%s: got '%s', want '%s...%s'", text, err, want,
                         why);
        netcidr_free(nc);
}

static void test_bad_lines(void **state)
{
        (void)state;
        refused("10.0.0.0/8 a\n10.0.0.0 b\n", 2, "ADDRESS/LENGTH");
        refused("10.0.0.300/32 a\n", 1, "not an IPv4 or IPv6");
        refused("10.0.0.0/33 a\n", 1, "beyond the address");
        refused("2001:db8::/129 a\n", 1, "beyond the address");
        refused("10.0.0.0/ a\n", 1, "bad prefix length");
        refused("10.0.0.0/8x a\n", 1, "bad prefix length");
        refused("10.0.0.1/8 a\n", 1, "host bits set");
        refused("2001:db8::1/64 a\n", 1, "host bits set");
        refused("\n\n10.0.0.0/8\n", 3, "needs a label");
        refused("10.0.0.0/8 a b\n", 1, "more than CIDR LABEL");
        refused("10.0.0.0/8 a\"b\n", 1, "printable ASCII");
        refused("10.0.0.0/8 a\n# x\n10.0.0.0/8 b\n", 3, "already listed");
        refused("10.0.0.0/8 "
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaa\n", 1, "longer than 64");
}

/* Two lists into one: the later prefixes join, a repeat is refused. */
static void test_parse_twice(void **state)
{
        struct netcidr *nc = load("10.0.0.0/8 a\n");
        char err[256];

        (void)state;
        assert_int_equal(netcidr_parse(nc, "10.1.0.0/16 b", 13, "more", err,
                                       sizeof(err)), 0);
        assert_string_equal(label(nc, "10.1.0.1"), "b");
        assert_int_equal(netcidr_parse(nc, "10.1.0.0/16 c", 13, "more", err,
                                       sizeof(err)), -1);
        assert_string_equal(err, "more:1: this prefix is already listed");
        netcidr_free(nc);
}

static void test_addr_parse(void **state)
{
        struct ip_addr a;

        (void)state;
        assert_int_equal(ip_addr_parse("192.0.2.1", 9, &a), 0);
        assert_false(a.v6);
        assert_int_equal(a.b[0], 192);
        assert_int_equal(a.b[3], 1);
        assert_int_equal(ip_addr_parse("2001:db8::1", 11, &a), 0);
        assert_true(a.v6);
        assert_int_equal(a.b[15], 1);
        /* a length, not a terminator, ends the text */
        assert_int_equal(ip_addr_parse("192.0.2.12", 9, &a), 0);
        assert_int_equal(a.b[3], 1);
        assert_int_equal(ip_addr_parse("", 0, &a), -1);
        assert_int_equal(ip_addr_parse("host", 4, &a), -1);
        assert_int_equal(ip_addr_parse("1.2.3", 5, &a), -1);
        assert_int_equal(ip_addr_parse("::1 ", 4, &a), -1);
        assert_int_equal(ip_addr_parse("0000:0000:0000:0000:0000:0000:0000:"
                                       "00000", 40, &a), -1);
        /* a NUL inside is not the end (fuzz_netcidr found these) */
        assert_int_equal(ip_addr_parse("::1\0", 4, &a), -1);
        assert_int_equal(ip_addr_parse("10.0.0.0\0\0\0\0\0\0\0\0", 16,
                                       &a), -1);
}

/* The dotted-quad parser says what inet_pton says, at random. */
static void test_v4_as_inet_pton(void **state)
{
        static const char alphabet[] = "0123456789.....";
        unsigned char want[4];
        char s[16];
        struct ip_addr a;
        int i, ok;
        size_t n, j;

        (void)state;
        srand(13);
        for (i = 0; i < 300000; i++) {
                n = 1 + (size_t)rand() % 15;
                for (j = 0; j < n; j++)
                        s[j] = alphabet[rand() % (sizeof(alphabet) - 1)];
                s[n] = '\0';
                if (i % 3 == 0) /* often a quad */
                        n = (size_t)snprintf(s, sizeof(s), "%d.%d.%d.%d",
                                             rand() % 300, rand() % 300,
                                             rand() % 10, rand() % 256);
                ok = inet_pton(AF_INET, s, want) == 1;
                if ((ip_addr_parse(s, n, &a) == 0) != ok)
                        fail_msg("'%s': inet_pton %d", s, ok);
                if (ok)
                        assert_memory_equal(a.b, want, 4);
        }
}

/* A random address, its groups often zero, as inet_ntop writes it. */
static void random_v6_text(char *s)
{
        unsigned char b[16];
        int i;

        for (i = 0; i < 16; i += 2) {
                b[i] = rand() % 2 ? 0 : (unsigned char)rand();
                b[i + 1] = rand() % 2 ? 0 : (unsigned char)rand();
        }
        if (rand() % 4 == 0) { /* mapped or compatible */
                memset(b, 0, 10);
                b[10] = b[11] = rand() % 2 ? 0xff : 0;
        }
        assert_non_null(inet_ntop(AF_INET6, b, s, INET6_ADDRSTRLEN));
}

/* One change to s: a byte replaced, removed or put in. */
static void mutate(char *s)
{
        static const char alphabet[] = "0123456789aAfFgx::::....";
        size_t n = strlen(s), at = (size_t)rand() % (n + 1);
        char c = alphabet[rand() % (sizeof(alphabet) - 1)];

        switch (rand() % 3) {
        case 0:
                if (at < n)
                        s[at] = c;
                break;
        case 1:
                if (at < n)
                        memmove(s + at, s + at + 1, n - at);
                break;
        default:
                if (n < 45) {
                        memmove(s + at + 1, s + at, n - at + 1);
                        s[at] = c;
                }
        }
}

/* The IPv6 parser says what inet_pton says, at random. */
static void test_v6_as_inet_pton(void **state)
{
        unsigned char want[16];
        char s[64];
        struct ip_addr a;
        int i, k, ok;

        (void)state;
        srand(6);
        for (i = 0; i < 300000; i++) {
                random_v6_text(s);
                for (k = rand() % 4; k > 0; k--)
                        mutate(s);
                if (strchr(s, ':') == NULL)
                        continue;
                ok = inet_pton(AF_INET6, s, want) == 1;
                if ((ip_addr_parse(s, strlen(s), &a) == 0) != ok)
                        fail_msg("'%s': inet_pton %d", s, ok);
                if (ok)
                        assert_memory_equal(a.b, want, 16);
                if (ok)
                        assert_true(a.v6);
        }
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_longest_prefix),
                cmocka_unit_test(test_zero_prefix),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_bad_lines),
                cmocka_unit_test(test_parse_twice),
                cmocka_unit_test(test_addr_parse),
                cmocka_unit_test(test_v4_as_inet_pton),
                cmocka_unit_test(test_v6_as_inet_pton),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
