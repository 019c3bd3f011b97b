/*
 * tests/test_names.c: the tables of a line's names (names.h): the twin
 * check, small and sorted, the last line's shape and the table of output
 * names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

static void test_same_bytes(void **state)
{
        char a[40], b[40];

        (void)state;
        memset(a, 'x', sizeof(a));
        memset(b, 'x', sizeof(b));
        for (size_t n = 0; n <= sizeof(a); n++) {
                assert_true(kt_same_bytes(a, b, n));
                /* a difference at each position of n bytes is seen... */
                for (size_t i = 0; i < n; i++) {
                        b[i] = 'y';
                        assert_false(kt_same_bytes(a, b, n));
                        b[i] = 'x';
                }
                /* ...and none past n */
                if (n < sizeof(b)) {
                        b[n] = 'y';
                        assert_true(kt_same_bytes(a, b, n));
                        b[n] = 'x';
                }
        }
}

/* The names of line js, as offsets, pushed in order. */
static void push_names(struct kt_dups *d, const char *js,
                       const char *const *names, size_t n)
{
        kt_dups_reset(d, js);
        for (size_t i = 0; i < n; i++) {
                const char *p = strstr(js, names[i]);

                assert_non_null(p);
                assert_int_equal(kt_dups_push(d, (int)(p - js),
                                              (int)strlen(names[i])), 0);
        }
}

/* Few names: a twin is found when it comes, by the hash table. */
static void test_dups_small(void **state)
{
        static const char js[] = "ip_src ip_dst bytes ip_src2";
        static const char *const names[] = { "ip_src", "ip_dst", "bytes" };
        struct kt_dups d;
        size_t i;

        (void)state;
        memset(&d, 0, sizeof(d));
        push_names(&d, js, names, 3);
        for (i = 0; i < 3; i++)
                assert_int_equal(kt_dups_check(&d, i, kt_name_hash(
                        js + d.keys[i].start, (size_t)d.keys[i].len)), 0);
        /* "ip_src" again, at another offset of the line */
        assert_int_equal(kt_dups_push(&d, 20, 6), 0);
        assert_int_equal(kt_dups_check(&d, 3, kt_name_hash("ip_src", 6)), 1);
        /* a new line forgets the old one's names */
        push_names(&d, js, names, 1);
        assert_int_equal(kt_dups_check(&d, 0, kt_name_hash("ip_src", 6)), 0);
        kt_dups_free(&d);
}

/* The generation wraps: the marks of old lines must not look current. */
static void test_dups_generation_wraps(void **state)
{
        static const char js[] = "a b";
        struct kt_dups d;

        (void)state;
        memset(&d, 0, sizeof(d));
        d.gen = UINT32_MAX - 1;
        kt_dups_reset(&d, js); /* gen UINT32_MAX */
        assert_int_equal(kt_dups_push(&d, 0, 1), 0);
        assert_int_equal(kt_dups_check(&d, 0, kt_name_hash("a", 1)), 0);
        kt_dups_reset(&d, js); /* wraps to 1, the table cleared */
        assert_int_equal(d.gen, 1);
        d.slot[kt_name_hash("a", 1)].key = 5; /* would be out of bounds */
        assert_int_equal(kt_dups_push(&d, 0, 1), 0);
        assert_int_equal(kt_dups_check(&d, 0, kt_name_hash("a", 1)), 0);
        kt_dups_free(&d);
}

/* A line of n names "k0".."k<n-1>", and a twin of k<twin> at the end
 * when twin >= 0. */
static char *wide_line(struct kt_dups *d, int n, int twin)
{
        char *js = malloc((size_t)n * 12 + 16);
        size_t len = 0;

        assert_non_null(js);
        kt_dups_reset(d, js);
        for (int i = 0; i <= n; i++) {
                int k = i < n ? i : twin;
                int w;

                if (k < 0)
                        break;
                w = sprintf(js + len, "k%d ", k);
                assert_int_equal(kt_dups_push(d, (int)len, w - 1), 0);
                len += (size_t)w;
        }
        return js;
}

/* Many names: the small table stays out of it, the sort finds twins. */
static void test_dups_sorted(void **state)
{
        struct kt_dups d;
        struct kt_name_at twin = { -1, -1 };
        char *js;

        (void)state;
        memset(&d, 0, sizeof(d));
        js = wide_line(&d, 1000, -1);
        assert_int_equal(kt_dups_check(&d, 999, 0), 0);
        assert_int_equal(kt_dups_sorted(&d, &twin), 0);
        free(js);
        js = wide_line(&d, 1000, 777);
        assert_int_equal(kt_dups_sorted(&d, &twin), 1);
        assert_int_equal(twin.len, 4);
        assert_memory_equal(js + twin.start, "k777", 4);
        free(js);
        /* few names: not the sort's business */
        js = wide_line(&d, 3, 1);
        assert_int_equal(kt_dups_sorted(&d, &twin), 0);
        free(js);
        kt_dups_free(&d);
}

/* The shape: the last line's names, in order, at other offsets too. */
static void test_shape(void **state)
{
        static const char js[] = "bytes ip_src packets";
        static const char *const names[] = { "ip_src", "bytes", "packets" };
        static const char other[] = "__ip_src_bytes_packets";
        struct kt_dups d;
        struct kt_shape sh;

        (void)state;
        memset(&d, 0, sizeof(d));
        memset(&sh, 0, sizeof(sh));
        push_names(&d, js, names, 3);
        assert_int_equal(kt_shape_learn(&sh, &d), 0);
        assert_int_equal(sh.n, 3);
        assert_null(sh.name[0].value);
        assert_true(kt_shape_has(&sh, 0, other + 2, 6));
        assert_true(kt_shape_has(&sh, 1, other + 9, 5));
        assert_true(kt_shape_has(&sh, 2, other + 15, 7));
        assert_false(kt_shape_has(&sh, 0, other + 9, 5)); /* out of order */
        assert_false(kt_shape_has(&sh, 0, other + 2, 5)); /* a prefix */
        assert_false(kt_shape_has(&sh, 3, other + 2, 6)); /* past the end */
        kt_shape_free(&sh);
        kt_dups_free(&d);
}

/* Names that are all "" (a byte of text still), and too many names. */
static void test_shape_edges(void **state)
{
        struct kt_dups d;
        struct kt_shape sh;
        char *js;

        (void)state;
        memset(&d, 0, sizeof(d));
        memset(&sh, 0, sizeof(sh));
        kt_dups_reset(&d, "\"\": 1");
        assert_int_equal(kt_dups_push(&d, 1, 0), 0);
        assert_int_equal(kt_shape_learn(&sh, &d), 0);
        assert_true(kt_shape_has(&sh, 0, "x", 0));
        js = wide_line(&d, KT_NAME_SLOTS / 2 + 1, -1);
        assert_int_equal(kt_shape_learn(&sh, &d), -1);
        assert_int_equal(sh.n, 0);
        free(js);
        kt_shape_free(&sh);
        kt_dups_free(&d);
}

/* Output names: a second claim of a name is refused, through growth. */
static void test_names_claim(void **state)
{
        struct kt_names n;
        char buf[1000][8];

        (void)state;
        memset(&n, 0, sizeof(n));
        for (int i = 0; i < 1000; i++) {
                snprintf(buf[i], sizeof(buf[i]), "n%d", i);
                assert_int_equal(kt_names_claim(&n, buf[i],
                                                strlen(buf[i])), 0);
        }
        for (int i = 0; i < 1000; i += 111)
                assert_int_equal(kt_names_claim(&n, buf[i],
                                                strlen(buf[i])), 1);
        /* the same bytes elsewhere are the same name */
        assert_int_equal(kt_names_claim(&n, "n999", 4), 1);
        assert_int_equal(kt_names_claim(&n, "n1000", 5), 0);
        kt_names_reset(&n);
        assert_int_equal(kt_names_claim(&n, "n999", 4), 0);
        kt_names_free(&n);
}

/*
 * Bug 9: with renames, every line cleared a table sized by the largest
 * line ever seen.  After a line of 10000 names, a line of 3 clears what
 * it used, not the 32768 slots the big one needed.
 */
static void test_names_reset_clears_what_was_used(void **state)
{
        static char buf[10000][8];
        struct kt_names n;

        (void)state;
        memset(&n, 0, sizeof(n));
        assert_int_equal(kt_names_reset(&n), 0);
        for (int i = 0; i < 10000; i++) {
                snprintf(buf[i], sizeof(buf[i]), "n%d", i);
                assert_int_equal(kt_names_claim(&n, buf[i],
                                                strlen(buf[i])), 0);
        }
        assert_true(kt_names_reset(&n) <= 10000);
        for (int line = 0; line < 3; line++) {
                assert_int_equal(kt_names_claim(&n, "a", 1), 0);
                assert_int_equal(kt_names_claim(&n, "b", 1), 0);
                assert_int_equal(kt_names_claim(&n, "c", 1), 0);
                assert_int_equal(kt_names_claim(&n, "a", 1), 1);
                assert_int_equal(kt_names_reset(&n), 3);
        }
        /* what was cleared is free: the big line's names are claimable */
        for (int i = 0; i < 10000; i++)
                assert_int_equal(kt_names_claim(&n, buf[i],
                                                strlen(buf[i])), 0);
        kt_names_free(&n);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_same_bytes),
                cmocka_unit_test(test_dups_small),
                cmocka_unit_test(test_dups_generation_wraps),
                cmocka_unit_test(test_dups_sorted),
                cmocka_unit_test(test_shape),
                cmocka_unit_test(test_shape_edges),
                cmocka_unit_test(test_names_claim),
                cmocka_unit_test(test_names_reset_clears_what_was_used),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
