/*
 * tests/test_audit.c: the loss audit's accounting (audit.h): intervals
 * filled in order, in reverse and at random against a bitmap, a run that
 * lost its start, runs and producers, the ranges' text and the window of
 * ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t xorshift(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void add(struct audit *a, const char *run, uint64_t seq)
{
        char id[32];

        snprintf(id, sizeof(id), "id-%llu", (unsigned long long)seq);
        assert_int_not_equal(audit_add(a, "h1", run, seq, id), AUDIT_ERROR);
}

static void test_in_order(void **state)
{
        struct audit a;
        uint64_t i;

        (void)state;
        audit_init(&a, 0);
        for (i = 1; i <= 10000; i++)
                add(&a, "r", i);
        assert_int_equal(a.nruns, 1);
        assert_int_equal(a.runs[0]->niv, 1);
        assert_int_equal(audit_first(a.runs[0]), 1);
        assert_int_equal(audit_last(a.runs[0]), 10000);
        assert_int_equal(audit_missing(a.runs[0]), 0);
        assert_int_equal(audit_ngaps(a.runs[0]), 0);
        assert_int_equal(audit_duplicates(a.runs[0]), 0);
        audit_free(&a);
}

static void test_reverse(void **state)
{
        struct audit a;
        uint64_t i;

        (void)state;
        audit_init(&a, 0);
        for (i = 10000; i >= 1; i--)
                add(&a, "r", i);
        assert_int_equal(a.runs[0]->niv, 1);
        assert_int_equal(audit_missing(a.runs[0]), 0);
        assert_int_equal(a.runs[0]->events, 10000);
        audit_free(&a);
}

struct expect {
        const unsigned char *seen; /* the numbers seen, as a bitmap */
        uint64_t             next; /* where the next gap is looked for */
        size_t               gaps;
        uint64_t             missing;
};

/* Each gap reported: the next run of numbers not seen, whole. */
static void expect_gap(uint64_t lo, uint64_t hi, void *arg)
{
        struct expect *e = arg;
        uint64_t n;

        while (e->seen[e->next])
                e->next++;
        assert_int_equal(lo, e->next);
        for (n = lo; n <= hi; n++)
                assert_false(e->seen[n]);
        assert_true(e->seen[hi + 1]);
        e->next = hi + 1;
        e->gaps++;
        e->missing += hi - lo + 1;
}

/* The gaps of r, against the numbers seen (bitmap), 1..last. */
static void check_gaps(const struct audit_run *r, const unsigned char *seen,
                       uint64_t last)
{
        struct expect e = { seen, 1, 0, 0 };
        uint64_t n, missing = 0;

        audit_gaps(r, expect_gap, &e);
        for (n = 1; n <= last; n++)
                missing += !seen[n];
        assert_int_equal(e.gaps, audit_ngaps(r));
        assert_int_equal(e.missing, missing);
        assert_int_equal(missing, audit_missing(r));
}

static void test_random_with_duplicates(void **state)
{
        enum { N = 50000 };
        static uint64_t order[N];
        static unsigned char seen[N + 1];
        struct audit a;
        uint64_t i, dups = 0, last = 0;

        (void)state;
        for (i = 0; i < N; i++)
                order[i] = i + 1;
        for (i = N - 1; i > 0; i--) { /* Fisher-Yates */
                uint64_t j = xorshift() % (i + 1), t = order[i];

                order[i] = order[j];
                order[j] = t;
        }
        audit_init(&a, 0);
        for (i = 0; i < N; i++) {
                if (i % 5 == 0)
                        continue; /* a fifth lost */
                add(&a, "r", order[i]);
                seen[order[i]] = 1;
                last = order[i] > last ? order[i] : last;
                if (i % 7 == 0) { /* and some delivered twice */
                        add(&a, "r", order[i]);
                        dups++;
                }
        }
        assert_int_equal(audit_duplicates(a.runs[0]), dups);
        assert_int_equal(audit_distinct(a.runs[0]), N - N / 5);
        assert_int_equal(audit_last(a.runs[0]), last);
        check_gaps(a.runs[0], seen, last);
        audit_free(&a);
}

/*
 * A run that lost its start misses 1..first-1; an audit from a time
 * (--since, from_first) judges it from its first number.
 */
static void test_gap_at_start(void **state)
{
        static const char *want[] = { "1-4, 12-13", "12-13" };
        struct audit a;
        char *s;
        uint64_t i;
        int from_first;

        (void)state;
        for (from_first = 0; from_first <= 1; from_first++) {
                audit_init(&a, 0);
                a.from_first = from_first;
                for (i = 20; i >= 5; i--)
                        if (i != 12 && i != 13)
                                add(&a, "r", i);
                assert_int_equal(audit_first(a.runs[0]), 5);
                assert_int_equal(audit_missing(a.runs[0]),
                                 from_first ? 2 : 6);
                assert_int_equal(audit_ngaps(a.runs[0]), 2 - from_first);
                s = audit_ranges(a.runs[0]);
                assert_string_equal(s, want[from_first]);
                free(s);
                audit_free(&a);
        }
}

static void test_ranges_text(void **state)
{
        static const uint64_t nums[] = { 12, 1, 9, 2, 7, 5, 8 };
        struct audit a;
        char *s;
        size_t i;

        (void)state;
        audit_init(&a, 0);
        for (i = 0; i < sizeof(nums) / sizeof(*nums); i++)
                add(&a, "r", nums[i]);
        s = audit_ranges(a.runs[0]);
        assert_string_equal(s, "3-4, 6, 10-11");
        free(s);
        assert_int_equal(audit_missing(a.runs[0]), 5);
        audit_free(&a);
        audit_init(&a, 0);
        add(&a, "r", 1);
        s = audit_ranges(a.runs[0]);
        assert_string_equal(s, "");
        free(s);
        audit_free(&a);
}

static void test_runs_and_producers(void **state)
{
        static const char *hosts[] = { "c.example", "a.example", "b.example" };
        static const char *runs[] = { "20261130T1", "20261130T0", "20261201" };
        static const char *sorted[] = { "a.example", "b.example", "c.example" };
        struct audit a;
        size_t h, r, i;

        (void)state;
        audit_init(&a, 0);
        for (i = 1; i <= 100; i++) /* interleaved, as partitions are */
                for (h = 0; h < 3; h++)
                        for (r = 0; r < 3; r++)
                                /* a.example's 20261201 loses 50 */
                                if (i != 50 || h != 1 || r != 2)
                                        audit_add(&a, hosts[h], runs[r], i,
                                                  "x");
        assert_int_equal(a.nruns, 9);
        assert_int_equal(audit_producers(&a), 3);
        for (i = 0; i < a.nruns; i++) { /* sorted: by host, then run */
                assert_string_equal(a.runs[i]->domain, sorted[i / 3]);
                assert_int_equal(a.runs[i]->events, i == 2 ? 99 : 100);
                assert_int_equal(audit_missing(a.runs[i]), i == 2 ? 1 : 0);
        }
        assert_string_equal(a.runs[0]->run, "20261130T0");
        assert_string_equal(a.runs[2]->run, "20261201");
        audit_free(&a);
}

static void test_id_window(void **state)
{
        struct audit a;
        uint64_t i;

        (void)state;
        audit_init(&a, 1024);
        for (i = 1; i <= 5000; i++)
                add(&a, "r", i);
        assert_int_equal(a.runs[0]->nwin, 1024); /* grew, and stopped */
        assert_int_equal(audit_add(&a, "h1", "r", 5000, "id-5000"),
                         AUDIT_DUP_SAME);
        assert_int_equal(audit_add(&a, "h1", "r", 4000, "other"),
                         AUDIT_DUP_OTHER);
        assert_int_equal(audit_add(&a, "h1", "r", 3977, "id-3977"),
                         AUDIT_DUP_SAME); /* the window's oldest */
        assert_int_equal(audit_add(&a, "h1", "r", 3976, "id-3976"),
                         AUDIT_DUP_UNKNOWN); /* out of it */
        assert_int_equal(audit_add(&a, "h1", "r", 7, NULL),
                         AUDIT_DUP_UNKNOWN);
        assert_int_equal(a.runs[0]->dup[0], 2);
        assert_int_equal(a.runs[0]->dup[1], 1);
        assert_int_equal(a.runs[0]->dup[2], 2);
        assert_int_equal(audit_duplicates(a.runs[0]), 5);
        assert_int_equal(audit_missing(a.runs[0]), 0);
        audit_free(&a);
}

/* The duplicates' classes, with the events in order or scattered. */
static void classes(int scattered, uint64_t dup[3])
{
        struct audit a;
        char id[32];
        uint64_t i, seq;

        audit_init(&a, 0);
        for (i = 0; i < 3000; i++) {
                /* scattered: 4 partitions of 750 read one after another */
                seq = scattered ? (i % 750) * 4 + i / 750 + 1 : i + 1;
                snprintf(id, sizeof(id), "id-%llu", (unsigned long long)seq);
                assert_int_equal(audit_add(&a, "h1", "r", seq, id),
                                 AUDIT_NEW);
        }
        assert_int_equal(audit_add(&a, "h1", "r", 5, "id-5"), AUDIT_DUP_SAME);
        assert_int_equal(audit_add(&a, "h1", "r", 2999, "x"), AUDIT_DUP_OTHER);
        memcpy(dup, a.runs[0]->dup, sizeof(a.runs[0]->dup));
        audit_free(&a);
}

/* Below the window, the order of the events changes no class. */
static void test_id_order(void **state)
{
        uint64_t in_order[3], scattered[3];

        (void)state;
        classes(0, in_order);
        classes(1, scattered);
        assert_memory_equal(in_order, scattered, sizeof(in_order));
        assert_int_equal(scattered[2], 0);
}

/*
 * Past the window too: each slot keeps its latest number whatever the
 * order, so a copy of one of the window's numbers is compared, and one
 * of an older number is not, read in order or backwards.
 */
static void test_id_order_past_window(void **state)
{
        struct audit a;
        char id[32];
        uint64_t i, seq;
        int backwards;

        (void)state;
        for (backwards = 0; backwards < 2; backwards++) {
                audit_init(&a, 1024);
                for (i = 0; i < 3000; i++) {
                        seq = backwards ? 3000 - i : i + 1;
                        snprintf(id, sizeof(id), "id-%llu",
                                 (unsigned long long)seq);
                        assert_int_equal(audit_add(&a, "h1", "r", seq, id),
                                         AUDIT_NEW);
                }
                assert_int_equal(audit_add(&a, "h1", "r", 2500, "id-2500"),
                                 AUDIT_DUP_SAME);
                assert_int_equal(audit_add(&a, "h1", "r", 1977, "id-1977"),
                                 AUDIT_DUP_SAME);
                assert_int_equal(audit_add(&a, "h1", "r", 1976, "id-1976"),
                                 AUDIT_DUP_UNKNOWN);
                audit_free(&a);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_in_order),
                cmocka_unit_test(test_reverse),
                cmocka_unit_test(test_random_with_duplicates),
                cmocka_unit_test(test_gap_at_start),
                cmocka_unit_test(test_ranges_text),
                cmocka_unit_test(test_runs_and_producers),
                cmocka_unit_test(test_id_window),
                cmocka_unit_test(test_id_order),
                cmocka_unit_test(test_id_order_past_window),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
