/*
 * test_reader.c: line framing, without any I/O.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reader.h"

/* Feeds s in chunks of size chunk, collecting lines joined by '|'. */
static char *frame(const char *s, size_t len, size_t chunk, size_t max,
                   int *too_long)
{
        struct line_reader lr;
        struct line l;
        char *out = calloc(1, len * 2 + 64), *p;
        size_t off = 0, n, take;

        assert_int_equal(lr_init(&lr, max), 0);
        *too_long = 0;
        for (;;) {
                int eof = off == len;

                while (lr_next(&lr, eof, &l)) {
                        strncat(out, l.data, l.len);
                        strcat(out, l.too_long ? "!|" : "|");
                        *too_long += l.too_long;
                }
                if (eof)
                        break;
                assert_int_equal(lr_space(&lr, &p, &n), 0);
                assert_true(n > 0);
                take = len - off < chunk ? len - off : chunk;
                take = take < n ? take : n;
                memcpy(p, s + off, take);
                lr_commit(&lr, take);
                off += take;
        }
        assert_int_equal(lr_pending(&lr), 0);
        lr_free(&lr);
        return out;
}

static void check(const char *in, size_t max, const char *want, int want_long)
{
        static const size_t chunks[] = { 1, 2, 3, 7, 64, 100000 };
        size_t i;
        int too_long;

        for (i = 0; i < sizeof(chunks) / sizeof(*chunks); i++) {
                char *got = frame(in, strlen(in), chunks[i], max, &too_long);

                assert_string_equal(got, want);
                assert_int_equal(too_long, want_long);
                free(got);
        }
}

static void test_lines(void **state)
{
        (void)state;
        check("a\nbb\nccc\n", 100, "a|bb|ccc|", 0);
}

static void test_last_line_without_newline(void **state)
{
        (void)state;
        check("a\nbb", 100, "a|bb|", 0);
}

static void test_crlf(void **state)
{
        (void)state;
        check("a\r\nb\r\n\r\n", 100, "a|b||", 0);
}

static void test_empty_lines(void **state)
{
        (void)state;
        check("\n\na\n\n", 100, "||a||", 0);
}

static void test_empty_input(void **state)
{
        (void)state;
        check("", 100, "", 0);
}

static void test_long_line_is_cut_and_rest_kept(void **state)
{
        (void)state;
        /* max 4: "abcdefgh" is too long, its prefix is handed out once. */
        check("ab\nabcdefgh\ncd\n", 4, "ab|abcd!|cd|", 1);
}

static void test_long_last_line(void **state)
{
        (void)state;
        check("ab\nabcdefgh", 4, "ab|abcd!|", 1);
}

static void test_last_line_one_over_max(void **state)
{
        (void)state;
        check("ab\nabcde", 4, "ab|abcd!|", 1);
        check("ab\nabcd\r", 4, "ab|abcd|", 0);
}

static void test_exact_max_with_cr(void **state)
{
        (void)state;
        check("abcd\r\nabcde\n", 4, "abcd|abcd!|", 1);
}

static void test_nul_bytes_kept(void **state)
{
        struct line_reader lr;
        struct line l;
        char *p;
        size_t n;

        (void)state;
        assert_int_equal(lr_init(&lr, 100), 0);
        assert_int_equal(lr_space(&lr, &p, &n), 0);
        memcpy(p, "a\0b\n", 4);
        lr_commit(&lr, 4);
        assert_int_equal(lr_next(&lr, 0, &l), 1);
        assert_int_equal(l.len, 3);
        assert_memory_equal(l.data, "a\0b", 3);
        assert_int_equal(l.no, 1);
        lr_free(&lr);
}

/* A 10 MB line with max 1 MiB: memory stays near max, not the line. */
static void test_huge_line_bounded(void **state)
{
        struct line_reader lr;
        struct line l;
        char *p;
        size_t n, fed = 0, lines = 0;

        (void)state;
        assert_int_equal(lr_init(&lr, 1 << 20), 0);
        while (fed < 10u << 20) {
                assert_int_equal(lr_space(&lr, &p, &n), 0);
                memset(p, 'x', n);
                lr_commit(&lr, n);
                fed += n;
                while (lr_next(&lr, 0, &l))
                        lines++;
        }
        assert_true(lr.cap <= 4u << 20);
        assert_int_equal(lr_space(&lr, &p, &n), 0);
        memcpy(p, "\nok\n", 4);
        lr_commit(&lr, 4);
        while (lr_next(&lr, 0, &l)) {
                lines++;
                if (!l.too_long)
                        assert_memory_equal(l.data, "ok", 2);
        }
        assert_int_equal(lines, 2);
        lr_free(&lr);
}

static void test_line_numbers(void **state)
{
        struct line_reader lr;
        struct line l;
        char *p;
        size_t n;

        (void)state;
        assert_int_equal(lr_init(&lr, 100), 0);
        assert_int_equal(lr_space(&lr, &p, &n), 0);
        memcpy(p, "a\n\nb\n", 5);
        lr_commit(&lr, 5);
        assert_int_equal(lr_next(&lr, 0, &l), 1);
        assert_int_equal(l.no, 1);
        assert_int_equal(lr_next(&lr, 0, &l), 1);
        assert_int_equal(l.no, 2);
        assert_int_equal(lr_next(&lr, 0, &l), 1);
        assert_int_equal(l.no, 3);
        assert_int_equal(lr_next(&lr, 0, &l), 0);
        lr_free(&lr);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lines),
                cmocka_unit_test(test_last_line_without_newline),
                cmocka_unit_test(test_crlf),
                cmocka_unit_test(test_empty_lines),
                cmocka_unit_test(test_empty_input),
                cmocka_unit_test(test_long_line_is_cut_and_rest_kept),
                cmocka_unit_test(test_long_last_line),
                cmocka_unit_test(test_exact_max_with_cr),
                cmocka_unit_test(test_last_line_one_over_max),
                cmocka_unit_test(test_nul_bytes_kept),
                cmocka_unit_test(test_huge_line_bounded),
                cmocka_unit_test(test_line_numbers),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
