/*
 * tests/test_avroenc.c: the encode stage for encoding = pnda-avro
 * (avroenc.h): the base datum against bytes written by Apache Avro's
 * Python library, Confluent's framing, extension fields from records,
 * constants and defaults read back through avro-c's reader, each type
 * mismatch refused with its reason, and every schema error at open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avro.h>

#include "avroenc.h"

#define BASE "{\"namespace\": \"pnda.entity\", \"type\": \"record\", " \
        "\"name\": \"event\", \"fields\": [" \
        "{\"name\": \"timestamp\", \"type\": \"long\"}, " \
        "{\"name\": \"source\", \"type\": \"string\"}, " \
        "{\"name\": \"rawdata\", \"type\": \"bytes\"}"

/* The extended schema of these tests: every extension type. */
static const char ext_schema[] = BASE ", "
        "{\"name\": \"host_ip\", \"type\": [\"null\", \"string\"], "
        "\"default\": null}, "
        "{\"name\": \"bytes\", \"type\": [\"null\", \"long\"], "
        "\"default\": null}, "
        "{\"name\": \"flags\", \"type\": \"int\", \"default\": 0}, "
        "{\"name\": \"ratio\", \"type\": \"double\", \"default\": 0.5}, "
        "{\"name\": \"sampled\", \"type\": \"boolean\", \"default\": false}, "
        "{\"name\": \"blob\", \"type\": [\"bytes\", \"null\"], "
        "\"default\": \"x\"}, "
        "{\"name\": \"collector\", \"type\": \"string\", "
        "\"default\": \"pmacct\"}]}";

static char path[64];

/* The schema text in a file of its own; its path in path. */
static const char *schema_file(const char *text)
{
        FILE *f;
        int fd;

        snprintf(path, sizeof(path), "/tmp/test_avroenc.XXXXXX");
        assert_true((fd = mkstemp(path)) >= 0);
        assert_non_null(f = fdopen(fd, "w"));
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
        return path;
}

/* The capture callback: slots in order of asking. */
struct slots {
        const char *name[8];
        int         n;
};

static int capture(void *arg, const char *field)
{
        struct slots *s = arg;
        int i;

        for (i = 0; i < s->n; i++)
                if (strcmp(s->name[i], field) == 0)
                        return i;
        s->name[s->n] = field;
        return s->n++;
}

static struct slots slots;

static struct avroenc *open_with(const char *text, struct kvlist *fields,
                                 long long id, char *err, size_t errlen)
{
        struct avroenc_conf c = {
                .schema_path = text != NULL ? schema_file(text) : NULL,
                .source = "netflow", .rawdata = AVRO_RAWDATA_EVENT,
                .registry_id = id, .fields = fields,
                .cap = { capture, &slots },
        };
        struct avroenc *e;

        memset(&slots, 0, sizeof(slots));
        e = avroenc_open(&c, err, errlen);
        if (text != NULL)
                unlink(path);
        return e;
}

static const unsigned char base_datum[] = { /* python3-avro 1.11.1 */
        0xd0, 0xa5, 0xd2, 0xf8, 0xc0, 0x68, 0x0e, 0x6e, 0x65, 0x74, 0x66,
        0x6c, 0x6f, 0x77, 0x0e, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d,
};

static int encode(struct avroenc *e, const struct kt_value *f, size_t n,
                  const unsigned char **out, size_t *len, char *err)
{
        const char *ev = "{\"a\":1}";
        struct avroenc_record r = {
                .event = ev, .event_len = strlen(ev), .raw = "raw line",
                .raw_len = 8, .timestamp_ms = 1795422833000LL,
                .fields = f, .n_fields = n,
        };
        int nomem;

        return avroenc_encode(e, &r, out, len, &nomem, err, 256);
}

static void test_base(void **state)
{
        const unsigned char *out;
        struct avroenc *e;
        char err[256];
        size_t len;

        (void)state;
        assert_non_null(e = open_with(NULL, NULL, -1, err, sizeof(err)));
        assert_int_equal(encode(e, NULL, 0, &out, &len, err), 0);
        assert_int_equal(len, sizeof(base_datum));
        assert_memory_equal(out, base_datum, len);
        avroenc_close(e);
}

/* The built-in schema is the shipped file, byte for byte. */
static void test_base_file(void **state)
{
        char buf[4096];
        size_t n;
        FILE *f;

        (void)state;
        assert_non_null(f = fopen("examples/schemas/pnda/entity.avsc", "r"));
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        assert_string_equal(buf, avroenc_base_schema);
}

static void test_confluent(void **state)
{
        static const unsigned char frame[] = { 0, 0x01, 0x02, 0x03, 0x04 };
        const unsigned char *out;
        struct avroenc *e;
        char err[256];
        size_t len;

        (void)state;
        assert_non_null(e = open_with(BASE "]}", NULL, 0x01020304, err,
                                      sizeof(err)));
        assert_int_equal(encode(e, NULL, 0, &out, &len, err), 0);
        assert_int_equal(len, sizeof(frame) + sizeof(base_datum));
        assert_memory_equal(out, frame, sizeof(frame));
        assert_memory_equal(out + sizeof(frame), base_datum,
                            sizeof(base_datum));
        avroenc_close(e);
}

/* The datum read back by avro-c, as Avro's JSON encoding (malloc'd). */
static char *decoded(const char *schema_text, const unsigned char *p,
                     size_t len)
{
        avro_schema_t s;
        avro_value_iface_t *cls;
        avro_value_t v;
        avro_reader_t r;
        char *json;
        size_t size;

        assert_int_equal(avro_schema_from_json_length(schema_text,
                         strlen(schema_text), &s), 0);
        assert_non_null(cls = avro_generic_class_from_schema(s));
        assert_int_equal(avro_generic_value_new(cls, &v), 0);
        assert_non_null(r = avro_reader_memory((const char *)p,
                                               (int64_t)len));
        assert_int_equal(avro_value_read(r, &v), 0);
        /* the datum is all there is: its encoding has every byte */
        assert_int_equal(avro_value_sizeof(&v, &size), 0);
        assert_int_equal(size, len);
        assert_int_equal(avro_value_to_json(&v, 1, &json), 0);
        avro_reader_free(r);
        avro_value_decref(&v);
        avro_value_iface_decref(cls);
        avro_schema_decref(s);
        return json;
}

static struct kv ext_kv[] = {
        { "host_ip", "%{field:peer_ip_src}" },
        { "bytes", "%{field:bytes}" },
        { "flags", "%{field:tcp_flags}" },
        { "sampled", "true" },
        { "collector", "nfacctd" },
        { "blob", "null" },
};

#define STR_V(s) { KT_VALUE_STRING, s, sizeof(s) - 1 }
#define NUM_V(s) { KT_VALUE_NUMBER, s, sizeof(s) - 1 }

/* Fields, constants and defaults; nulls for an absent and a null. */
static void test_extensions(void **state)
{
        struct kvlist l = { ext_kv, 6 };
        const struct kt_value full[] = {
                STR_V("192.0.2.1\\u0041"), NUM_V("12345678901"),
                STR_V("24"),
        };
        const struct kt_value none[] = {
                { KT_VALUE_NULL, "null", 4 }, { KT_VALUE_ABSENT, NULL, 0 },
                NUM_V("-7"),
        };
        const unsigned char *out;
        struct avroenc *e;
        char err[256], *j;
        size_t len;

        (void)state;
        e = open_with(ext_schema, &l, -1, err, sizeof(err));
        assert_non_null(e);
        assert_int_equal(slots.n, 3);
        assert_int_equal(encode(e, full, 3, &out, &len, err), 0);
        j = decoded(avroenc_schema_text(e), out, len);
        assert_string_equal(j, "{\"timestamp\": 1795422833000, "
                "\"source\": \"netflow\", \"rawdata\": \"{\\\"a\\\":1}\", "
                "\"host_ip\": {\"string\": \"192.0.2.1A\"}, "
                "\"bytes\": {\"long\": 12345678901}, \"flags\": 24, "
                "\"ratio\": 0.5, \"sampled\": true, "
                "\"blob\": null, \"collector\": \"nfacctd\"}");
        free(j);
        assert_int_equal(encode(e, none, 3, &out, &len, err), 0);
        j = decoded(avroenc_schema_text(e), out, len);
        assert_non_null(strstr(j, "\"host_ip\": null, \"bytes\": null, "
                               "\"flags\": -7,"));
        free(j);
        avroenc_close(e);
}

/* The integers a long field takes from text, at the edges of int64. */
static void test_integers(void **state)
{
        static const char *const ok[][2] = {
                { "-9223372036854775808", "-9223372036854775808" },
                { "9223372036854775807", "9223372036854775807" },
                { "0", "0" }, { "-0", "0" },
        };
        static const char *const bad[] = {
                "9223372036854775808", "-9223372036854775809", "-", "",
                "+1", "1e3", "12345678901234567890", "1 ", "0x10", "0027",
                "00",
        };
        struct kv kv = { "bytes", "%{field:b}" };
        struct kvlist l = { &kv, 1 };
        const unsigned char *out;
        struct kt_value v = { KT_VALUE_STRING, NULL, 0 };
        struct avroenc *e;
        char err[256], want[64], *j;
        size_t i, len;

        (void)state;
        assert_non_null(e = open_with(ext_schema, &l, -1, err, sizeof(err)));
        for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                v.p = ok[i][0];
                v.len = strlen(v.p);
                assert_int_equal(encode(e, &v, 1, &out, &len, err), 0);
                j = decoded(avroenc_schema_text(e), out, len);
                snprintf(want, sizeof(want), "\"bytes\": {\"long\": %s}",
                         ok[i][1]);
                if (strstr(j, want) == NULL)
                        fail_msg("%s: %s lacks %s", ok[i][0], j, want);
                free(j);
        }
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                v.p = bad[i];
                v.len = strlen(v.p);
                if (encode(e, &v, 1, &out, &len, err) != -1)
                        fail_msg("\"%s\" was taken as a long", bad[i]);
        }
        avroenc_close(e);
}

/* Doubles: an underflow is the nearest double, an overflow refused, a
 * number's text of any length read. */
static void test_doubles(void **state)
{
        struct kv kv = { "ratio", "%{field:r}" };
        struct kvlist l = { &kv, 1 };
        const unsigned char *out;
        struct kt_value v = { KT_VALUE_NUMBER, NULL, 0 };
        struct avroenc *e;
        char err[256], text[600], *j;
        size_t len;

        (void)state;
        assert_non_null(e = open_with(ext_schema, &l, -1, err, sizeof(err)));
        v.p = "4.9e-324";
        v.len = strlen(v.p);
        assert_int_equal(encode(e, &v, 1, &out, &len, err), 0);
        v.p = "1e400";
        v.len = strlen(v.p);
        assert_int_equal(encode(e, &v, 1, &out, &len, err), -1);
        memset(text, '0', sizeof(text));
        memcpy(text, "0.", 2);
        memcpy(text + 500, "25", 2); /* 0.000...025 */
        memcpy(text + 502, "e499", 4);
        v.p = text;
        v.len = 506;
        assert_int_equal(encode(e, &v, 1, &out, &len, err), 0);
        j = decoded(avroenc_schema_text(e), out, len);
        if (strstr(j, "\"ratio\": 2.5") == NULL)
                fail_msg("%s lacks ratio 2.5", j);
        free(j);
        avroenc_close(e);
}

/* A value that does not fit its field: -1, with the field's name. */
static void refused(const char *schema, const char *field, const char *kvv,
                    struct kt_value v, const char *want)
{
        struct kv kv = { (char *)field, (char *)kvv };
        struct kvlist l = { &kv, 1 };
        const unsigned char *out;
        struct avroenc *e;
        char err[256];
        size_t len;

        e = open_with(schema, &l, -1, err, sizeof(err));
        assert_non_null(e);
        err[0] = '\0';
        assert_int_equal(encode(e, &v, 1, &out, &len, err), -1);
        if (strstr(err, want) == NULL)
                fail_msg("error \"%s\" lacks \"%s\"", err, want);
        avroenc_close(e);
}

static void test_mismatch(void **state)
{
        (void)state;
        refused(ext_schema, "bytes", "%{field:b}", (struct kt_value)STR_V("many"),
                "avro.field.bytes: field b does not fit type null or long");
        refused(ext_schema, "bytes", "%{field:b}", (struct kt_value)NUM_V("1.5"),
                "does not fit type null or long");
        refused(ext_schema, "bytes", "%{field:b}",
                (struct kt_value)NUM_V("99999999999999999999"), "does not fit");
        refused(ext_schema, "flags", "%{field:f}", (struct kt_value)NUM_V("2147483648"),
                "field f does not fit type int");
        refused(ext_schema, "flags", "%{field:f}",
                (struct kt_value){ KT_VALUE_ABSENT, NULL, 0 },
                "field f is absent and type int is not nullable");
        refused(ext_schema, "host_ip", "%{field:h}", (struct kt_value)NUM_V("1"),
                "does not fit type null or string");
        refused(ext_schema, "sampled", "%{field:s}", (struct kt_value)STR_V("true"),
                "does not fit type boolean");
        refused(ext_schema, "ratio", "%{field:r}",
                (struct kt_value){ KT_VALUE_OBJECT, "{}", 2 },
                "does not fit type double");
}

/* A schema or a setting refused at open, with its reason. */
static void bad_open(const char *schema, const char *field, const char *v,
                     const char *want)
{
        struct kv kv = { (char *)field, (char *)v };
        struct kvlist l = { &kv, field != NULL };
        char err[512];

        err[0] = '\0';
        assert_null(open_with(schema, &l, -1, err, sizeof(err)));
        if (strstr(err, want) == NULL)
                fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void test_schema_errors(void **state)
{
        (void)state;
        bad_open("{\"type\": \"string\"}", NULL, NULL,
                 "not an Avro record schema");
        bad_open("{\"type\": \"record\", \"name\": \"e\"}", NULL, NULL,
                 "no fields array");
        bad_open("{\"type\": \"record\", \"name\": \"e\", \"fields\": ["
                 "{\"name\": \"source\", \"type\": \"string\"}]}", NULL, NULL,
                 "field 1 must be {\"name\": \"timestamp\"");
        bad_open(BASE ", {\"name\": \"f\", \"type\": \"float\", "
                 "\"default\": 1}]}", NULL, NULL,
                 "field f: type \"float\": an extension field is long");
        bad_open(BASE ", {\"name\": \"f\", \"type\": [\"null\", \"int\", "
                 "\"string\"]}]}", NULL, NULL, "field f: type");
        bad_open(BASE ", {\"name\": \"f\", \"type\": \"long\"}]}", NULL, NULL,
                 "field f has no default: set avro.field.f");
        bad_open(BASE ", {\"name\": \"f\", \"type\": [\"null\", \"long\"], "
                 "\"default\": 3}]}", NULL, NULL,
                 "field f: its default 3 does not fit type null");
        bad_open(BASE ", {\"name\": \"f\", \"type\": \"int\", "
                 "\"default\": \"x\"}]}", NULL, NULL,
                 "its default \"x\" does not fit type int");
        bad_open(ext_schema, "nope", "1",
                 "avro.field.nope: the schema has no extension field nope");
        bad_open(ext_schema, "source", "x", "no extension field source");
        bad_open(ext_schema, "flags", "many",
                 "avro.field.flags: many does not fit type int");
        bad_open(ext_schema, "sampled", "1",
                 "avro.field.sampled: 1 does not fit type boolean");
        bad_open("{not json", NULL, NULL, "avro.schema /tmp/test_avroenc.");
}

static void test_no_file(void **state)
{
        struct avroenc_conf c = {
                .schema_path = "/nonexistent/x.avsc", .source = "s",
                .registry_id = -1, .cap = { capture, &slots },
        };
        char err[512];

        (void)state;
        assert_null(avroenc_open(&c, err, sizeof(err)));
        assert_non_null(strstr(err, "avro.schema /nonexistent/x.avsc: "));
}

/* rawdata = raw: the line; the buffer grows with the records. */
static void test_raw_and_growth(void **state)
{
        struct avroenc_conf c = {
                .source = "s", .rawdata = AVRO_RAWDATA_RAW,
                .registry_id = -1, .cap = { capture, &slots },
        };
        struct avroenc_record r = { .event = "{}", .event_len = 2 };
        const unsigned char *out;
        struct avroenc *e;
        char err[256], *line, *j;
        size_t len, n;
        int nomem;

        (void)state;
        assert_non_null(e = avroenc_open(&c, err, sizeof(err)));
        assert_non_null(line = malloc(100001));
        for (n = 1; n <= 100000; n *= 10) {
                memset(line, 'a' + (int)(n % 26), n);
                r.raw = line;
                r.raw_len = n;
                assert_int_equal(avroenc_encode(e, &r, &out, &len, &nomem,
                                                err, sizeof(err)), 0);
                j = decoded(avroenc_base_schema, out, len);
                /* {"timestamp": 0, "source": "s", "rawdata": "aa..."} */
                assert_int_equal(strlen(j), n + 46);
                assert_int_equal(j[44], 'a' + (int)(n % 26));
                assert_int_equal(j[44 + n - 1], 'a' + (int)(n % 26));
                free(j);
        }
        free(line);
        avroenc_close(e);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base),
                cmocka_unit_test(test_base_file),
                cmocka_unit_test(test_confluent),
                cmocka_unit_test(test_extensions),
                cmocka_unit_test(test_integers),
                cmocka_unit_test(test_doubles),
                cmocka_unit_test(test_mismatch),
                cmocka_unit_test(test_schema_errors),
                cmocka_unit_test(test_no_file),
                cmocka_unit_test(test_raw_and_growth),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
