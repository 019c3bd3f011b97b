/*
 * test_config.c: the "key = value" syntax and its errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char path[64];

static void write_file(const char *text)
{
        FILE *fp;
        int fd;

        strcpy(path, "/tmp/ktp-conf-XXXXXX");
        fd = mkstemp(path);
        assert_true(fd >= 0);
        fp = fdopen(fd, "w");
        fputs(text, fp);
        fclose(fp);
}

static int read_conf(struct conf *c, const char *text, char *err)
{
        int r;

        write_file(text);
        r = conf_read_file(c, path, err, 256);
        unlink(path);
        return r;
}

static void test_defaults(void **state)
{
        struct conf c;

        (void)state;
        conf_init(&c);
        assert_string_equal(c.stream, "netflow");
        assert_string_equal(c.schema, "/netflow/flow/1.0.0");
        assert_string_equal(c.output, "kafka");
        assert_int_equal(c.line_max, 1048576);
        assert_null(c.brokers);
        conf_free(&c);
}

static void test_file(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(read_conf(&c,
                "# comment\n"
                "\n"
                "  brokers = k1:9092,k2:9092  \n"
                "stream=netflow\n"
                "kafka.compression.codec = zstd\n"
                "kafka.sasl.password = a=b#c\n"
                "field.rename.ip_src = src\n"
                "field.const.site = eqiad\n"
                "line.max = 4096\r\n", err), 0);
        assert_string_equal(c.brokers, "k1:9092,k2:9092");
        assert_int_equal(c.kafka.n, 2);
        assert_string_equal(c.kafka.v[0].key, "compression.codec");
        assert_string_equal(c.kafka.v[0].value, "zstd");
        assert_string_equal(c.kafka.v[1].value, "a=b#c");
        assert_string_equal(c.rename.v[0].key, "ip_src");
        assert_string_equal(c.rename.v[0].value, "src");
        assert_string_equal(c.constant.v[0].key, "site");
        assert_int_equal(c.line_max, 4096);
        conf_free(&c);
}

static void test_later_setting_wins(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set(&c, "kafka.acks", "1", err, 256), 0);
        assert_int_equal(conf_set(&c, "kafka.acks", "all", err, 256), 0);
        assert_int_equal(c.kafka.n, 1);
        assert_string_equal(c.kafka.v[0].value, "all");
        assert_int_equal(conf_set(&c, "topic", "a", err, 256), 0);
        assert_int_equal(conf_set(&c, "topic", "b", err, 256), 0);
        assert_string_equal(c.topic, "b");
        conf_free(&c);
}

static void test_errors_name_file_and_line(void **state)
{
        struct conf c;
        char err[256], want[128];

        (void)state;
        conf_init(&c);
        assert_int_equal(read_conf(&c, "stream = x\nnope = 1\n", err), -1);
        snprintf(want, sizeof(want), "%s:2: unknown key 'nope'", path);
        assert_string_equal(err, want);
        assert_int_equal(read_conf(&c, "just words\n", err), -1);
        assert_non_null(strstr(err, ":1: expected 'key = value'"));
        conf_free(&c);
}

static void test_bad_values(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set(&c, "line.max", "12abc", err, 256), -1);
        assert_non_null(strstr(err, "line.max"));
        assert_int_equal(conf_set(&c, "line.max", "1", err, 256), -1);
        assert_int_equal(conf_set(&c, "line.max", "", err, 256), -1);
        assert_int_equal(conf_set(&c, "output", "file", err, 256), -1);
        assert_non_null(strstr(err, "kafka|stdout"));
        assert_int_equal(conf_set(&c, "output", "std", err, 256), -1);
        assert_int_equal(conf_set(&c, "output", "stdout", err, 256), 0);
        assert_int_equal(conf_set(&c, "kafka.", "x", err, 256), -1);
        assert_int_equal(conf_set(&c, "dt.fallback", "reject", err, 256), 0);
        conf_free(&c);
}

static void test_missing_file(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_read_file(&c, "/nonexistent/x.conf", err, 256),
                         -1);
        assert_non_null(strstr(err, "No such file"));
        conf_free(&c);
}

static int collect(void *arg, const char *item)
{
        strcat(arg, item);
        strcat(arg, "|");
        return 0;
}

static void test_list_items(void **state)
{
        char out[128] = "";

        (void)state;
        assert_int_equal(conf_each_item(" a, b ,,c ,", collect, out), 0);
        assert_string_equal(out, "a|b|c|");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_file),
                cmocka_unit_test(test_later_setting_wins),
                cmocka_unit_test(test_errors_name_file_and_line),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_list_items),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
