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
        assert_string_equal(c.schema, "/netflow/flow/1.1.0");
        assert_int_equal(c.output, CONF_OUTPUT_KAFKA);
        assert_int_equal(c.timestamp, CONF_TIMESTAMP_DT);
        assert_int_equal(c.dt_fallback, CONF_DT_FALLBACK_INGEST);
        assert_false(c.stats_rdkafka);
        assert_int_equal(c.line_max, 1048576);
        assert_null(c.brokers);
        assert_int_equal(c.sequence, CONF_ON);
        assert_string_equal(c.sequence_field, "sequence");
        assert_string_equal(c.sequence_run_field, "sequence_run");
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

/* Each choice is parsed once, into its enum. */
static void test_choices(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set(&c, "output", "stdout", err, 256), 0);
        assert_int_equal(c.output, CONF_OUTPUT_STDOUT);
        assert_int_equal(conf_set(&c, "timestamp", "ingest", err, 256), 0);
        assert_int_equal(c.timestamp, CONF_TIMESTAMP_INGEST);
        assert_int_equal(conf_set(&c, "dt.fallback", "reject", err, 256), 0);
        assert_int_equal(c.dt_fallback, CONF_DT_FALLBACK_REJECT);
        assert_int_equal(conf_set(&c, "stats.rdkafka", "true", err, 256), 0);
        assert_true(c.stats_rdkafka);
        assert_int_equal(conf_set(&c, "stats.rdkafka", "yes", err, 256), -1);
        assert_string_equal(err, "stats.rdkafka: 'yes' is not one of "
                            "false|true");
        assert_true(c.stats_rdkafka);
        assert_int_equal(conf_set(&c, "timestamp", "dt", err, 256), 0);
        assert_int_equal(c.timestamp, CONF_TIMESTAMP_DT);
        assert_int_equal(conf_set(&c, "sequence", "off", err, 256), 0);
        assert_int_equal(c.sequence, CONF_OFF);
        assert_int_equal(conf_set(&c, "sequence", "true", err, 256), -1);
        assert_string_equal(err, "sequence: 'true' is not one of off|on");
        assert_int_equal(conf_set(&c, "sequence", "on", err, 256), 0);
        assert_int_equal(c.sequence, CONF_ON);
        conf_free(&c);
}

/* The sequence's names: plain strings here, checked by the transform. */
static void test_sequence_keys(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set(&c, "sequence.field", "seq", err, 256), 0);
        assert_int_equal(conf_set(&c, "sequence.run.field", "run", err, 256),
                         0);
        assert_string_equal(c.sequence_field, "seq");
        assert_string_equal(c.sequence_run_field, "run");
        assert_int_equal(conf_set(&c, "sequence.runs", "x", err, 256), -1);
        conf_free(&c);
}

/* deadletter.file, and dead_letter, its old name, for the same setting. */
static void test_alias(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(read_conf(&c, "dead_letter = /a\n", err), 0);
        assert_string_equal(c.dead_letter, "/a");
        assert_int_equal(conf_set(&c, "deadletter.file", "/b", err, 256), 0);
        assert_string_equal(c.dead_letter, "/b");
        assert_int_equal(conf_set(&c, "dead_letter", "/c", err, 256), 0);
        assert_string_equal(c.dead_letter, "/c");
        conf_free(&c); /* one string, freed once (ASan) */
}

/* Bug 1: "" was taken for a choice (and read before the choices). */
static void test_empty_choice(void **state)
{
        static const char *const keys[] = { "output", "timestamp",
                "dt.fallback", "stats.rdkafka" };
        struct conf c;
        char err[256];
        size_t i;

        (void)state;
        conf_init(&c);
        for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
                assert_int_equal(conf_set(&c, keys[i], "", err, 256), -1);
                assert_non_null(strstr(err, keys[i]));
        }
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

/* The topic of template tmpl. */
static char *topic_of(struct conf *c, const char *tmpl, char *err)
{
        assert_int_equal(conf_set(c, "topic", tmpl, err, 256), 0);
        return conf_topic(c, err, 256);
}

static void test_topic(void **state)
{
        struct conf c;
        char err[256], *t;

        (void)state;
        conf_init(&c);
        assert_non_null(t = conf_topic(&c, err, 256));
        assert_string_equal(t, "netflow");
        free(t);
        assert_int_equal(conf_set(&c, "datacenter", "eqiad", err, 256), 0);
        assert_non_null(t = conf_topic(&c, err, 256));
        assert_string_equal(t, "eqiad.netflow");
        free(t);
        /* A % that opens no placeholder is text; an unknown one is an
         * error naming it (it was taken as text before issue 10). */
        assert_non_null(t = topic_of(&c, "%x.%{stream}%", err));
        assert_string_equal(t, "%x.netflow%");
        free(t);
        assert_null(topic_of(&c, "%{x}.%{stream}", err));
        assert_string_equal(err, "topic: unknown placeholder %{x}");
        assert_null(topic_of(&c, "", err));
        assert_string_equal(err, "topic: empty");
        assert_int_equal(conf_set(&c, "datacenter", "", err, 256), 0);
        assert_null(topic_of(&c, "%{datacenter}.x", err));
        assert_non_null(strstr(err, "without a datacenter"));
        conf_free(&c);
}

/* Bug 8: the expansion ran past its buffer; now Kafka's limit is said. */
static void test_topic_length(void **state)
{
        char err[256], limit[CONF_TOPIC_MAX + 2], big[4096], *t;
        struct conf c;

        (void)state;
        conf_init(&c);
        memset(limit, 't', sizeof(limit) - 1);
        limit[CONF_TOPIC_MAX] = '\0';
        assert_non_null(t = topic_of(&c, limit, err));
        assert_int_equal(strlen(t), CONF_TOPIC_MAX);
        free(t);
        limit[CONF_TOPIC_MAX] = 't';
        limit[CONF_TOPIC_MAX + 1] = '\0';
        assert_null(topic_of(&c, limit, err));
        assert_string_equal(err, "topic: longer than 249 characters, "
                            "Kafka's limit");
        /* A variable that ends exactly at the limit, then one past it. */
        limit[CONF_TOPIC_MAX - 2] = '\0';
        assert_int_equal(conf_set(&c, "stream", limit, err, 256), 0);
        assert_non_null(t = topic_of(&c, "x.%{stream}", err));
        assert_int_equal(strlen(t), CONF_TOPIC_MAX);
        free(t);
        assert_null(topic_of(&c, "xy.%{stream}", err));
        memset(big, 's', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(conf_set(&c, "stream", big, err, 256), 0);
        assert_null(topic_of(&c, "%{stream}.%{stream}", err));
        assert_non_null(strstr(err, "longer than"));
        conf_free(&c);
}

/* %{field:NAME}: kept in the label, its name in the fields. */
static void test_topic_fields(void **state)
{
        struct route_fields f = { NULL, 0 };
        struct route_tmpl t;
        struct conf c;
        char err[256], *s;

        (void)state;
        conf_init(&c);
        assert_non_null(s = topic_of(&c, "%{stream}.%{field:peer_ip_src}",
                                     err));
        assert_string_equal(s, "netflow.%{field:peer_ip_src}");
        free(s);
        assert_int_equal(conf_topic_compile(&c, &t, &f, err, 256), 0);
        assert_int_equal(t.n_fields, 1);
        assert_int_equal(f.n, 1);
        assert_string_equal(f.name[0], "peer_ip_src");
        route_tmpl_free(&t);
        route_fields_free(&f);
        /* Text around fields that no topic name may hold. */
        assert_null(topic_of(&c, "a b.%{field:x}", err));
        assert_string_equal(err, "topic: ' ' cannot be in a Kafka topic "
                            "name ([a-zA-Z0-9._-])");
        assert_null(topic_of(&c, "x.%{field:}", err));
        assert_string_equal(err, "topic: unknown placeholder %{field:}");
        assert_null(topic_of(&c, "x.%{field:a", err));
        assert_string_equal(err, "topic: unterminated placeholder "
                            "%{field:a");
        assert_null(topic_of(&c, "%{schema}", err));
        assert_string_equal(err, "topic: unknown placeholder %{schema}");
        conf_free(&c);
}

static void test_topic_max(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(c.topic_max, 64);
        assert_int_equal(conf_set(&c, "topic.max", "0", err, 256), -1);
        assert_int_equal(conf_set(&c, "topic.max", "4097", err, 256), -1);
        assert_int_equal(conf_set(&c, "topic.max", "2", err, 256), 0);
        assert_int_equal(c.topic_max, 2);
        conf_free(&c);
}

static void test_headers(void **state)
{
        struct kvlist h;
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(read_conf(&c, "header.content-type = "
                                   "application/json\n"
                                   "header.schema = %{schema}\n"
                                   "header.where = %{datacenter}.%{stream}"
                                   "@%{domain}\n", err), 0);
        assert_int_equal(conf_set(&c, "datacenter", "eqiad", err, 256), 0);
        assert_int_equal(conf_set(&c, "domain", "h.example", err, 256), 0);
        assert_int_equal(conf_headers(&c, &h, err, 256), 0);
        assert_int_equal(h.n, 3);
        assert_string_equal(h.v[0].key, "content-type");
        assert_string_equal(h.v[0].value, "application/json");
        assert_string_equal(h.v[1].value, "/netflow/flow/1.1.0");
        assert_string_equal(h.v[2].value, "eqiad.netflow@h.example");
        conf_kvlist_free(&h);
        assert_int_equal(conf_set(&c, "header.", "x", err, 256), -1);
        assert_string_equal(err, "header.: a name must follow 'header.'");
        assert_int_equal(conf_set(&c, "header.bad", "%{nope}", err, 256), 0);
        assert_int_equal(conf_headers(&c, &h, err, 256), -1);
        assert_string_equal(err, "header.bad: unknown placeholder %{nope}");
        assert_int_equal(conf_set(&c, "header.bad", "%{field:tag}", err,
                                  256), 0);
        assert_int_equal(conf_headers(&c, &h, err, 256), -1);
        assert_string_equal(err, "header.bad: %{field:...} in a header: "
                            "its value is fixed for the run");
        assert_int_equal(h.n, 0);
        conf_free(&c);
}

static void test_has_brokers(void **state)
{
        struct conf c;
        char err[256];

        (void)state;
        conf_init(&c);
        assert_false(conf_has_brokers(&c));
        assert_int_equal(conf_set(&c, "kafka.acks", "all", err, 256), 0);
        assert_false(conf_has_brokers(&c));
        assert_int_equal(conf_set(&c, "kafka.test.mock.num.brokers", "1",
                                  err, 256), 0);
        assert_true(conf_has_brokers(&c));
        conf_free(&c);
        conf_init(&c);
        assert_int_equal(conf_set(&c, "brokers", "k:9092", err, 256), 0);
        assert_true(conf_has_brokers(&c));
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

/* An argument runs only the tests whose names match it (* and ? work). */
/* The anonymize keys: a rule per field, checked; durations. */
static void test_anonymize_keys(void **state)
{
        static const struct { const char *v; long long s; } durations[] = {
                { "0", 0 }, { "90", 90 }, { "90s", 90 }, { "15m", 900 },
                { "24h", 86400 }, { "7d", 604800 },
        };
        static const char *const bad[] = { "", "h", "1x", "-1", "+5", "1hh",
                                           "367d", "99999999999999999d" };
        struct conf c;
        char err[256];
        size_t i;

        (void)state;
        conf_init(&c);
        assert_int_equal(c.anon_salt_rotate_s, 86400);
        assert_int_equal(c.anon_ipv4_prefix, 24);
        assert_int_equal(c.anon_ipv6_prefix, 48);
        assert_int_equal(c.anon_hash_length, 16);
        assert_string_equal(c.anon_salt_field, "anon_salt");
        assert_int_equal(c.anon_raw, CONF_ANON_WITHHOLD);
        for (i = 0; i < sizeof(durations) / sizeof(*durations); i++) {
                assert_int_equal(conf_set(&c, "anonymize.salt.rotate",
                                          durations[i].v, err, sizeof(err)),
                                 0);
                assert_int_equal(c.anon_salt_rotate_s, durations[i].s);
        }
        for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_int_equal(conf_set(&c, "anonymize.salt.rotate", bad[i],
                                          err, sizeof(err)), -1);
        assert_int_equal(conf_set(&c, "anonymize.ip_src", "hash", err,
                                  sizeof(err)), 0);
        assert_int_equal(conf_set(&c, "anonymize.ip_dst", "mask", err,
                                  sizeof(err)), -1);
        assert_non_null(strstr(err, "truncate|hash|drop"));
        assert_int_equal(conf_set(&c, "anonymize.raw", "anonymize", err,
                                  sizeof(err)), 0);
        assert_int_equal(c.anon_raw, CONF_ANON_REWRITE);
        assert_int_equal(conf_set(&c, "anonymize.ipv4.prefix", "33", err,
                                  sizeof(err)), -1);
        assert_int_equal(c.anonymize.n, 1);
        assert_string_equal(c.anonymize.v[0].key, "ip_src");
        conf_free(&c);
}

/* Where each key was set: the last setting's place, an alias's name. */
static void test_where(void **state)
{
        struct conf c;
        char err[512], want[256];

        (void)state;
        conf_init(&c);
        assert_null(conf_where(&c, "stream")); /* a default */
        assert_int_equal(read_conf(&c, "# x\ntopic = a\n\n"
                                   "dead_letter = /d\nheader.x = 1\n",
                                   err), 0);
        snprintf(want, sizeof(want), "%s:2", path);
        assert_string_equal(conf_where(&c, "topic"), want);
        snprintf(want, sizeof(want), "%s:4", path);
        assert_string_equal(conf_where(&c, "deadletter.file"), want);
        assert_string_equal(conf_where(&c, "dead_letter"), want);
        assert_int_equal(conf_set_at(&c, "-t b", "topic", "b", err,
                                     sizeof(err)), 0);
        assert_string_equal(conf_where(&c, "topic"), "-t b");
        assert_int_equal(conf_set_at(&c, "-o line.max=1", "line.max", "1",
                                     err, sizeof(err)), -1);
        assert_string_equal(err, "-o line.max=1: line.max: '1' is not a "
                            "number from 16 to 1073741824");
        assert_null(conf_where(&c, "line.max")); /* refused: not set */
        conf_free(&c);
}

/* A later message about a key gets its place; the longest key wins. */
static void test_place(void **state)
{
        struct conf c;
        char err[512];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set_at(&c, "a.conf:3", "header.x", "1", err,
                                     sizeof(err)), 0);
        assert_int_equal(conf_set_at(&c, "a.conf:4", "header.xy", "1", err,
                                     sizeof(err)), 0);
        assert_int_equal(conf_set_at(&c, "-X linger.ms=5",
                                     "kafka.linger.ms", "5", err,
                                     sizeof(err)), 0);
        strcpy(err, "header.xy: unknown placeholder %{a}");
        conf_place(&c, err, sizeof(err));
        assert_string_equal(err, "a.conf:4: header.xy: unknown placeholder "
                            "%{a}");
        strcpy(err, "header.x = 1 and so on");
        conf_place(&c, err, sizeof(err));
        assert_string_equal(err, "a.conf:3: header.x = 1 and so on");
        strcpy(err, "header.xyz: no such"); /* not a key that was set */
        conf_place(&c, err, sizeof(err));
        assert_string_equal(err, "header.xyz: no such");
        strcpy(err, "stream: a default has no place");
        conf_place(&c, err, sizeof(err));
        assert_string_equal(err, "stream: a default has no place");
        strcpy(err, "kafka: `batch.size` and `linger.ms` are at odds");
        conf_place(&c, err, sizeof(err));
        assert_string_equal(err, "-X linger.ms=5: kafka: `batch.size` and "
                            "`linger.ms` are at odds");
        /* a module's own part first, then the key */
        strcpy(err, "avro.schema (built in): header.xy: not in the schema");
        conf_place(&c, err, sizeof(err));
        assert_string_equal(err, "a.conf:4: avro.schema (built in): "
                            "header.xy: not in the schema");
        strcpy(err, "schema: x: header.xyz: y"); /* not a key set */
        conf_place(&c, err, sizeof(err));
        assert_string_equal(err, "schema: x: header.xyz: y");
        strcpy(err, "dead-letter file /d: gone");
        conf_place_key(&c, "header.x", err, sizeof(err));
        assert_string_equal(err, "a.conf:3: dead-letter file /d: gone");
        conf_free(&c);
}

/* Quotes and a '#' after a blank: refused in a file, but in JSON. */
static void test_file_pitfalls(void **state)
{
        struct conf c;
        char err[512], want[256];

        (void)state;
        conf_init(&c);
        assert_int_equal(read_conf(&c, "stream = x\ndt.timezone = \"UTC\"\n",
                                   err), -1);
        snprintf(want, sizeof(want), "%s:2: dt.timezone: values are "
                 "written without quotes: UTC, not \"UTC\"", path);
        assert_string_equal(err, want);
        assert_int_equal(read_conf(&c, "kafka.sasl.password = \"pw\"\n", err),
                         -1);
        assert_null(strstr(err, "pw"));
        assert_int_equal(read_conf(&c, "topic = x # comment\n", err), -1);
        snprintf(want, sizeof(want), "%s:1: topic: '#' after a blank in the "
                 "value: a comment takes a line of its own", path);
        assert_string_equal(err, want);
        assert_int_equal(read_conf(&c, "topic = x\t#c\n", err), -1);
        assert_int_equal(read_conf(&c, "field.const.a = x #1\n", err), -1);
        /* kept: no blank before '#', JSON, a quote inside */
        assert_int_equal(read_conf(&c, "kafka.sasl.password = a#b\n"
                                   "field.const.b = \"see #5\"\n"
                                   "avro.field.c = [\"#\", \"x #\"]\n"
                                   "header.d = say \"hi\"\n", err), 0);
        assert_string_equal(c.constant.v[0].value, "\"see #5\"");
        assert_string_equal(c.header.v[0].value, "say \"hi\"");
        /* the command line takes values as they are */
        assert_int_equal(conf_set_at(&c, "-o topic=x #y", "topic", "x #y",
                                     err, sizeof(err)), 0);
        conf_free(&c);
}

/* field.const and avro.field: text that opens JSON must be JSON. */
/* Values go into events: Latin-1 bytes would make them invalid JSON. */
static void test_utf8(void **state)
{
        struct conf c;
        char err[512];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set(&c, "field.const.site", "caf\xe9", err,
                                  sizeof(err)), -1);
        assert_string_equal(err, "field.const.site: the value must be UTF-8 "
                            "(invalid byte at offset 3)");
        assert_int_equal(conf_set(&c, "stream", "a\xc3", err, sizeof(err)),
                         -1);
        assert_int_equal(conf_set(&c, "field.const.s\xff", "x", err,
                                  sizeof(err)), -1);
        assert_string_equal(err, "a key must be UTF-8 (invalid byte at "
                            "offset 13)");
        assert_int_equal(conf_set(&c, "field.const.site", "caf\xc3\xa9", err,
                                  sizeof(err)), 0);
        assert_int_equal(conf_set(&c, "kafka.sasl.password", "p\xe9", err,
                                  sizeof(err)), 0);
        conf_free(&c);
}

static void test_const_json(void **state)
{
        static const char *const bad[] = { "{bad", "[1,", "\"unterminated",
                                            " {\"a\": }", "{} x" };
        static const char *const good[] = { "{\"a\": [1]}", "\"s\"", "42",
                                            "plain text", "1.2.3", "-",
                                            "%{field:x}", "" };
        struct conf c;
        char err[512];
        size_t i;

        (void)state;
        conf_init(&c);
        for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                assert_int_equal(conf_set(&c, "field.const.a", bad[i], err,
                                          sizeof(err)), -1);
                assert_true(strncmp(err, "field.const.a: not JSON: ", 25) ==
                            0);
                assert_int_equal(conf_set(&c, "avro.field.a", bad[i], err,
                                          sizeof(err)), -1);
        }
        assert_string_equal(strstr(err, ": a value"), ": a value that begins "
                            "with { must be JSON (other text becomes a "
                            "string)");
        for (i = 0; i < sizeof(good) / sizeof(*good); i++)
                assert_int_equal(conf_set(&c, "field.const.a", good[i], err,
                                          sizeof(err)), 0);
        assert_int_equal(c.constant.n, 1);
        /* other keys take any text */
        assert_int_equal(conf_set(&c, "header.h", "{bad", err, sizeof(err)),
                         0);
        conf_free(&c);
}

/* field.keep and field.drop name input fields, not a rename's target. */
static void test_check_rules(void **state)
{
        struct conf c;
        char err[512], notice[512];

        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set(&c, "field.rename.ip_src", "src", err,
                                  sizeof(err)), 0);
        assert_int_equal(conf_set_at(&c, "k.conf:7", "field.keep",
                                     "packets, src", err, sizeof(err)), 0);
        assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                    sizeof(err)), -1);
        assert_string_equal(err, "k.conf:7: field.keep: 'src' is the new "
                            "name of field.rename.ip_src; field.keep "
                            "matches input names: write 'ip_src'");
        /* by both names: the input's own src may be meant */
        assert_int_equal(conf_set(&c, "field.keep", "src,ip_src", err,
                                  sizeof(err)), 0);
        assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                    sizeof(err)), 0);
        assert_string_equal(notice, "");
        assert_int_equal(conf_set(&c, "field.keep", "", err, sizeof(err)), 0);
        assert_int_equal(conf_set(&c, "field.drop", " src ", err,
                                  sizeof(err)), 0);
        assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                    sizeof(err)), -1);
        assert_non_null(strstr(err, "field.drop: 'src' is the new name"));
        /* a name that only contains the target's */
        assert_int_equal(conf_set(&c, "field.drop", "srcx, xsrc", err,
                                  sizeof(err)), 0);
        assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                    sizeof(err)), 0);
        conf_free(&c);
}

/* acks other than all: idempotence off with a notice, or refused. */
static void test_check_acks(void **state)
{
        static const char *const all[] = { "all", "ALL", "-1" };
        struct conf c;
        char err[512], notice[512];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(all) / sizeof(*all); i++) {
                conf_init(&c);
                assert_int_equal(conf_set(&c, "kafka.acks", all[i], err,
                                          sizeof(err)), 0);
                assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                            sizeof(err)), 0);
                assert_string_equal(notice, "");
                assert_int_equal(c.kafka.n, 1);
                conf_free(&c);
        }
        conf_init(&c);
        assert_int_equal(conf_set_at(&c, "-X acks=1", "kafka.acks", "1", err,
                                     sizeof(err)), 0);
        assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                    sizeof(err)), 0);
        assert_true(strncmp(notice, "-X acks=1: kafka.acks = 1: kafka."
                            "enable.idempotence turned off", 60) == 0);
        assert_int_equal(c.kafka.n, 2);
        assert_string_equal(c.kafka.v[1].key, "enable.idempotence");
        assert_string_equal(c.kafka.v[1].value, "false");
        conf_free(&c);
        /* both set: said as they were set */
        conf_init(&c);
        assert_int_equal(conf_set_at(&c, "a.conf:2", "kafka.enable."
                                     "idempotence", "t", err,
                                     sizeof(err)), 0);
        assert_int_equal(conf_set_at(&c, "a.conf:5", "kafka.request."
                                     "required.acks", "0", err,
                                     sizeof(err)), 0);
        assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                    sizeof(err)), -1);
        assert_string_equal(err, "a.conf:5: kafka.request.required.acks = 0 "
                            "and kafka.enable.idempotence = t (a.conf:2): "
                            "idempotence needs acks = all; set one of them "
                            "otherwise");
        /* off, as the user says: nothing to say */
        assert_int_equal(conf_set(&c, "kafka.enable.idempotence", "false",
                                  err, sizeof(err)), 0);
        assert_int_equal(conf_check(&c, notice, sizeof(notice), err,
                                    sizeof(err)), 0);
        assert_string_equal(notice, "");
        conf_free(&c);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_file),
                cmocka_unit_test(test_later_setting_wins),
                cmocka_unit_test(test_errors_name_file_and_line),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_choices),
                cmocka_unit_test(test_sequence_keys),
                cmocka_unit_test(test_alias),
                cmocka_unit_test(test_empty_choice),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_list_items),
                cmocka_unit_test(test_topic),
                cmocka_unit_test(test_topic_length),
                cmocka_unit_test(test_topic_fields),
                cmocka_unit_test(test_topic_max),
                cmocka_unit_test(test_headers),
                cmocka_unit_test(test_has_brokers),
                cmocka_unit_test(test_anonymize_keys),
                cmocka_unit_test(test_where),
                cmocka_unit_test(test_place),
                cmocka_unit_test(test_file_pitfalls),
                cmocka_unit_test(test_const_json),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_check_rules),
                cmocka_unit_test(test_check_acks),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
