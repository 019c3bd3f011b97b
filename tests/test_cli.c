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

/* kcat's -z, -H and --stdout-format: settings of the file. */
static void test_kcat_options(void **state)
{
        struct conf c;

        (void)state;
        assert_int_equal(load(&c, "-z", "zstd", "-H", "a=b=c", "--header",
                              "e=", "--stdout-format", "%t %k\\n", NULL),
                         CLI_RUN);
        assert_string_equal(c.kafka.v[0].key, "compression.codec");
        assert_string_equal(c.kafka.v[0].value, "zstd");
        assert_int_equal(c.header.n, 2);
        assert_string_equal(c.header.v[0].key, "a");
        assert_string_equal(c.header.v[0].value, "b=c");
        assert_string_equal(c.header.v[1].value, "");
        assert_int_equal(c.output, CONF_OUTPUT_STDOUT);
        assert_string_equal(c.stdout_format, "%t %k\\n");
        conf_free(&c);
        assert_int_equal(load(&c, "--compression", "lz4", NULL), CLI_RUN);
        assert_string_equal(c.kafka.v[0].value, "lz4");
        conf_free(&c);
        assert_int_equal(load(&c, "-z", "inherit", NULL), CLI_ERROR);
        conf_free(&c);
        assert_int_equal(load(&c, "-H", "novalue", NULL), CLI_ERROR);
        conf_free(&c);
        assert_int_equal(load(&c, "-H", "=v", NULL), CLI_ERROR);
        conf_free(&c);
        assert_int_equal(load(&c, "--stdout-format", "%s%", NULL), CLI_ERROR);
        conf_free(&c);
}

/* The rule of -X dump's masks, as the man page gives it. */
static void test_secret_names(void **state)
{
        static const char *const secret[] = {
                "sasl.password", "kafka.ssl.key.password", "ssl.key.pem",
                "ssl_key", "ssl.keystore.password", "ssl.key.location",
                "sasl.oauthbearer.client.secret", "sasl.kerberos.keytab",
                "sasl.oauthbearer.config", "kafka.sasl.oauthbearer.extensions",
                "header.X-Api-Key", "header.Authorization",
                "field.const.auth_token", "header.aws-credentials",
        };
        static const char *const plain[] = {
                "key", "sasl.username", "sasl.mechanisms", "topic",
                "kafka.compression.codec", "anonymize.salt.file",
                "header.content-type", "sasl.oauthbearer.client.id",
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(secret) / sizeof(*secret); i++)
                if (!cli_is_secret(secret[i]))
                        fail_msg("%s: not masked", secret[i]);
        for (i = 0; i < sizeof(plain) / sizeof(*plain); i++)
                if (cli_is_secret(plain[i]))
                        fail_msg("%s: masked", plain[i]);
}

/* cli_load() with stdout in a file: what it printed, to free. */
static char *load_printing(enum cli_result *r, const char *a1,
                           const char *a2, const char *a3, const char *a4)
{
        char path[] = "/tmp/ktp-cli-XXXXXX", *text;
        int fd = mkstemp(path), saved;
        struct conf c;
        FILE *fp;
        long n;

        assert_true(fd >= 0);
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        dup2(fd, STDOUT_FILENO);
        *r = load(&c, a1, a2, a3, a4, NULL);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO); /* cmocka reports on stdout */
        close(saved);
        close(fd);
        conf_free(&c);
        assert_non_null(fp = fopen(path, "r"));
        fseek(fp, 0, SEEK_END);
        n = ftell(fp);
        rewind(fp);
        assert_non_null(text = calloc(1, (size_t)n + 1));
        assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
        fclose(fp);
        unlink(path);
        return text;
}

static void test_x_dump_and_list(void **state)
{
        enum cli_result r;
        char *out;

        (void)state;
        out = load_printing(&r, "-X", "sasl.password=Hunter2", "-X", "dump");
        assert_int_equal(r, CLI_EXIT);
        assert_null(strstr(out, "Hunter2"));
        assert_non_null(strstr(out, "\nkafka.sasl.password = [redacted]\n"));
        assert_non_null(strstr(out, "\nsasl.password = [redacted]\n"));
        assert_non_null(strstr(out, "\nenable.idempotence = true\n"));
        assert_non_null(strstr(out, "\nrequest.required.acks = -1\n"));
        assert_non_null(strstr(out, "\nstream = netflow\n"));
        assert_null(strstr(out, " = 0x"));
        free(out);
        /* set empty: shown empty, not masked (nothing to hide) */
        out = load_printing(&r, "-X", "ssl.key.password=", "-X", "dump");
        assert_non_null(strstr(out, "\nkafka.ssl.key.password = \n"));
        free(out);
        out = load_printing(&r, "-X", "list", "-X", "dump");
        assert_int_equal(r, CLI_EXIT);
        assert_non_null(strstr(out, "enable.idempotence"));
        assert_null(strstr(out, "# kafkatee-pipe settings"));
        free(out);
        out = load_printing(&r, "-X", "dump", "-X", "no.such=1");
        assert_int_equal(r, CLI_ERROR);
        assert_string_equal(out, "");
        free(out);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_options_set_keys),
                cmocka_unit_test(test_command_line_wins),
                cmocka_unit_test(test_long_names),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_kcat_options),
                cmocka_unit_test(test_secret_names),
                cmocka_unit_test(test_x_dump_and_list),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
