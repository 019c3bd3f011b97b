/*
 * test_msgpool.c: the recycled message blocks.  malloc is wrapped
 * (-Wl,--wrap=malloc) to count what the pool allocates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msgpool.h"

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

static unsigned long mallocs;

void *__wrap_malloc(size_t n)
{
        mallocs++;
        return __real_malloc(n);
}

/* Messages in flight: each get puts back the oldest once FLIGHT are out. */
#define FLIGHT 64

struct sim {
        struct msgpool p;
        struct msg    *out[FLIGHT];
        size_t         n;
};

static void sim_init(struct sim *s)
{
        memset(s, 0, sizeof(*s));
        msgpool_init(&s->p);
}

static struct msg *sim_get(struct sim *s, size_t need)
{
        struct msg *m = msgpool_get(&s->p, need);
        size_t slot = s->n++ % FLIGHT;

        assert_non_null(m);
        assert_true(m->room >= need);
        memset(m->data, 'x', need); /* ASan: the room is really there */
        if (s->out[slot] != NULL)
                msgpool_put(&s->p, s->out[slot]);
        s->out[slot] = m;
        return m;
}

static void sim_run(struct sim *s, size_t count, size_t need)
{
        size_t i;

        for (i = 0; i < count; i++)
                sim_get(s, need);
}

static void sim_free(struct sim *s)
{
        size_t i;

        for (i = 0; i < FLIGHT; i++)
                if (s->out[i] != NULL)
                        msgpool_put(&s->p, s->out[i]);
        msgpool_free(&s->p);
}

static void test_recycled(void **state)
{
        struct msgpool p;
        struct msg *m, *again;

        (void)state;
        msgpool_init(&p);
        m = msgpool_get(&p, 800);
        assert_non_null(m);
        assert_true(p.room >= 800 && p.room < 800 + MSGPOOL_ROUND);
        msgpool_put(&p, m);
        again = msgpool_get(&p, 700);
        assert_ptr_equal(m, again);
        msgpool_put(&p, again);
        msgpool_free(&p);
}

/* Steady state: no malloc at all once the in-flight blocks exist. */
static void test_steady_state_no_malloc(void **state)
{
        struct sim s;

        (void)state;
        sim_init(&s);
        sim_run(&s, 3 * MSGPOOL_WINDOW, 900);
        mallocs = 0;
        sim_run(&s, 10 * MSGPOOL_WINDOW, 900);
        assert_int_equal(mallocs, 0);
        sim_free(&s);
}

/* The bug: one 60 KB record made every later block 60 KB. */
static void test_one_large_record_keeps_size(void **state)
{
        struct sim s;
        struct msg *big;
        size_t room;

        (void)state;
        sim_init(&s);
        sim_run(&s, 2 * MSGPOOL_WINDOW, 900);
        room = s.p.room;
        big = sim_get(&s, 60000);
        assert_int_equal(big->room, 60000);
        assert_int_equal(s.p.room, room);
        sim_run(&s, 3 * MSGPOOL_WINDOW, 900);
        assert_int_equal(s.p.room, room);
        mallocs = 0;
        sim_run(&s, MSGPOOL_WINDOW, 900);
        assert_int_equal(mallocs, 0);
        sim_free(&s);
}

/* A large first record sets the size only until the window's end. */
static void test_large_first_record_comes_down(void **state)
{
        struct sim s;

        (void)state;
        sim_init(&s);
        sim_get(&s, 60000);
        assert_true(s.p.room >= 60000);
        sim_run(&s, MSGPOOL_WINDOW, 900);
        assert_true(s.p.room >= 900 && s.p.room < 900 + MSGPOOL_ROUND);
        sim_free(&s);
}

/* Records that grow for good: the size follows, then no malloc. */
static void test_grows_for_larger_records(void **state)
{
        struct sim s;
        /* Records that fill their blocks exactly: the blocks of their
         * own made before the size follows are the new size, and are
         * kept (whatever sizeof(struct msg) is). */
        const size_t big = 6 * MSGPOOL_ROUND - sizeof(struct msg);

        (void)state;
        sim_init(&s);
        sim_run(&s, MSGPOOL_WINDOW, 900);
        sim_run(&s, MSGPOOL_WINDOW, big);
        assert_true(s.p.room >= big && s.p.room < big + MSGPOOL_ROUND);
        mallocs = 0;
        sim_run(&s, 2 * MSGPOOL_WINDOW, big);
        assert_int_equal(mallocs, 0);
        sim_free(&s);
}

/* Then smaller again: back down, to half or less. */
static void test_shrinks_when_records_shrink(void **state)
{
        struct sim s;

        (void)state;
        sim_init(&s);
        sim_run(&s, MSGPOOL_WINDOW, 8000);
        sim_run(&s, MSGPOOL_WINDOW, 900);
        assert_true(s.p.room < 900 + MSGPOOL_ROUND);
        sim_free(&s);
}

/* A slightly smaller window keeps the size: no flip at a boundary. */
static void test_no_flip_on_small_changes(void **state)
{
        struct sim s;
        size_t room;

        (void)state;
        sim_init(&s);
        sim_run(&s, MSGPOOL_WINDOW, 1400);
        room = s.p.room;
        mallocs = 0;
        sim_run(&s, MSGPOOL_WINDOW, 900);
        sim_run(&s, MSGPOOL_WINDOW, 1400);
        assert_int_equal(s.p.room, room);
        assert_int_equal(mallocs, 0);
        sim_free(&s);
}

/* A few outliers per window take their own block; more set the size. */
static void test_outliers(void **state)
{
        struct sim s;
        size_t i;

        (void)state;
        sim_init(&s);
        for (i = 0; i < MSGPOOL_WINDOW; i++)
                sim_get(&s, i % (MSGPOOL_WINDOW / MSGPOOL_OUTLIERS) == 0 ?
                        5000 : 900);
        assert_true(s.p.room < 900 + MSGPOOL_ROUND);
        for (i = 0; i < MSGPOOL_WINDOW; i++)
                sim_get(&s, i % 32 == 0 ? 5000 : 900);
        assert_true(s.p.room >= 5000);
        sim_free(&s);
}

/* Beyond the largest common size a block is always its own. */
static void test_over_block_max(void **state)
{
        struct sim s;
        struct msg *m;

        (void)state;
        sim_init(&s);
        m = sim_get(&s, 100000);
        assert_int_equal(m->room, 100000);
        assert_int_equal(s.p.room, 0);
        sim_run(&s, MSGPOOL_WINDOW, 100000);
        assert_true(s.p.room < MSGPOOL_BLOCK_MAX);
        assert_null(s.p.spare);
        sim_free(&s);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_recycled),
                cmocka_unit_test(test_steady_state_no_malloc),
                cmocka_unit_test(test_one_large_record_keeps_size),
                cmocka_unit_test(test_large_first_record_comes_down),
                cmocka_unit_test(test_grows_for_larger_records),
                cmocka_unit_test(test_shrinks_when_records_shrink),
                cmocka_unit_test(test_no_flip_on_small_changes),
                cmocka_unit_test(test_outliers),
                cmocka_unit_test(test_over_block_max),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("msgpool", tests, NULL, NULL);
}
