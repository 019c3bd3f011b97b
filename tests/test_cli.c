/*
 * test_cli.c: the command line into a conf, without running anything.
 */
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

/* cli_load() on a NULL-terminated list of arguments. */
static enum cli_result load(struct conf *c, ...)
{
        char *argv[32] = { "kafkatee-pipe" };
        int argc = 1;
        va_list ap;

        va_start(ap, c);
        while ((argv[argc] = va_arg(ap, char *)) != NULL)
                argc++;
        va_end(ap);
        optind = 0; /* getopt starts over (glibc) */
        return cli_load(argc, argv, c);
}

static void test_options_set_keys(void **state)
{
        struct conf c;

        (void)state;
        assert_int_equal(load(&c, "-b", "k:9092", "--dead-letter", "/d",
                              "--stdout", "-o", "timestamp=ingest", "-q",
                              NULL), CLI_RUN);
        assert_string_equal(c.brokers, "k:9092");
        assert_string_equal(c.dead_letter, "/d");
        assert_int_equal(c.output, CONF_OUTPUT_STDOUT);
        assert_int_equal(c.timestamp, CONF_TIMESTAMP_INGEST);
        assert_int_equal(c.verbosity, 0);
        assert_null(c.replay);
        conf_free(&c);
        /* --replay is not a setting of the file: argv's string */
        assert_int_equal(load(&c, "--replay", "dead.jsonl", NULL), CLI_RUN);
        assert_string_equal(c.replay, "dead.jsonl");
        conf_free(&c);
}

/* The file first, then the options in their order, wherever -c is. */
static void test_command_line_wins(void **state)
{
        char path[] = "/tmp/ktp-cli-XXXXXX";
        int fd = mkstemp(path);
        struct conf c;

        (void)state;
        assert_true(fd >= 0);
        assert_true(write(fd, "stream = file\ntopic = t\n", 24) == 24);
        close(fd);
        assert_int_equal(load(&c, "--stream", "a", "-c", path, "-o",
                              "stream=b", NULL), CLI_RUN);
        assert_string_equal(c.stream, "b");
        assert_string_equal(c.topic, "t");
        conf_free(&c);
        unlink(path);
}

/* Bug 8: names were cut at 511 bytes without a word. */
static void test_long_names(void **state)
{
        char arg[2048], want[2048];
        struct conf c;

        (void)state;
        memset(arg, 'n', 1500);
        strcpy(arg + 1500, "=v");
        assert_int_equal(load(&c, "-X", arg, NULL), CLI_RUN);
        assert_int_equal(c.kafka.n, 1);
        memset(want, 'n', 1500);
        want[1500] = '\0';
        assert_string_equal(c.kafka.v[0].key, want);
        assert_string_equal(c.kafka.v[0].value, "v");
        conf_free(&c);
}

static void test_errors(void **state)
{
        struct conf c;

        (void)state;
        assert_int_equal(load(&c, "-X", "novalue", NULL), CLI_ERROR);
        conf_free(&c);
        assert_int_equal(load(&c, "-o", "=x", NULL), CLI_ERROR);
        conf_free(&c);
        assert_int_equal(load(&c, "-o", "timestamp=", NULL), CLI_ERROR);
        conf_free(&c);
        assert_int_equal(load(&c, "--stdout", "extra", NULL), CLI_ERROR);
        conf_free(&c);
        assert_int_equal(load(&c, "-vv", NULL), CLI_RUN);
        assert_int_equal(c.verbosity, 3);
        assert_string_equal(c.kafka.v[0].key, "debug");
        conf_free(&c);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_options_set_keys),
                cmocka_unit_test(test_command_line_wins),
                cmocka_unit_test(test_long_names),
                cmocka_unit_test(test_errors),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
