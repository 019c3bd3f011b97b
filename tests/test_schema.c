/*
 * tests/test_schema.c: the validator (schema.h) keyword family by family,
 * its load errors, u64 exactness, $ref under a schema directory, its
 * messages, and the scalar path against the json-c path: every check
 * of a scalar here runs through both and they must agree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-c/json.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "schema.h"

#define DIR "tests/schemas/kt-test"

/* The sets the test made; the teardown frees them. */
static struct kt_schema_set *SETS[64];
static size_t N_SETS;
static struct kt_schema_error E;
static char ERR[1024];
static long MALLOCS; /* schema.o's allocations: --wrap=malloc,... */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t sz);
void *__real_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
        MALLOCS++;
        return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t sz)
{
        MALLOCS++;
        return __real_calloc(n, sz);
}

void *__wrap_realloc(void *p, size_t n)
{
        MALLOCS++;
        return __real_realloc(p, n);
}

static int teardown(void **state)
{
        (void)state;
        while (N_SETS > 0)
                kt_schema_set_free(SETS[--N_SETS]);
        return 0;
}

/* A new set on the test directory. */
static struct kt_schema_set *fresh(void)
{
        assert_true(N_SETS < sizeof(SETS) / sizeof(SETS[0]));
        SETS[N_SETS] = kt_schema_set_new(DIR);
        assert_non_null(SETS[N_SETS]);
        return SETS[N_SETS++];
}

static struct json_object *parse(const char *js)
{
        struct json_object *o = kt_schema_parse(js, strlen(js), ERR,
                                                sizeof(ERR));

        if (o == NULL && strcmp(js, "null") != 0)
                fail_msg("bad JSON %s: %s", js, ERR);
        return o;
}

/* The schema in json, compiled (in a fresh set), or NULL with ERR. */
static const struct kt_schema *try_mk(const char *json)
{
        struct json_object *doc = parse(json);
        const struct kt_schema *s;

        s = kt_schema_compile(fresh(), doc, NULL, ERR, sizeof(ERR));
        json_object_put(doc);
        return s;
}

static const struct kt_schema *mk(const char *json)
{
        const struct kt_schema *s = try_mk(json);

        if (s == NULL)
                fail_msg("%s: %s", json, ERR);
        return s;
}

/* The scalar of JSON text js as a member's parser gives it. */
static int scalar_of(const char *js, struct json_object *o,
                     struct kt_scalar *v)
{
        memset(v, 0, sizeof(*v));
        switch (json_object_get_type(o)) {
        case json_type_null:
                v->kind = KT_J_NULL;
                return 0;
        case json_type_boolean:
                v->kind = KT_J_BOOLEAN;
                v->boolean = json_object_get_boolean(o);
                return 0;
        case json_type_int:
        case json_type_double:
                v->kind = KT_J_NUMBER; /* as written */
                v->text = js;
                v->len = strlen(js);
                return 0;
        case json_type_string:
                v->kind = KT_J_STRING;
                v->text = json_object_get_string(o);
                v->len = (size_t)json_object_get_string_len(o);
                return 0;
        default:
                return -1;
        }
}

/* json-c writes number o as js was written. */
static int same_text(const char *js, struct json_object *o)
{
        return strcmp(json_object_to_json_string_ext(o,
                      JSON_C_TO_STRING_PLAIN), js) == 0;
}

/*
 * 1 when the instance js is valid; E says why not.  A scalar goes
 * through both paths, which must agree on the verdict and the error
 */
static int valid_at(const struct kt_schema *s, const char *js,
                    const char *ptr)
{
        struct json_object *o = parse(js);
        struct kt_schema_error e2;
        struct kt_scalar v;
        int dom, sc;

        memset(&E, 0, sizeof(E));
        dom = kt_schema_validate(s, o, &E) == 0;
        if (scalar_of(js, o, &v) == 0) {
                memset(&e2, 0, sizeof(e2));
                sc = kt_schema_validate_scalar(s, &v, ptr, &e2) == 0;
                assert_int_equal(sc, dom);
                assert_string_equal(e2.keyword, E.keyword);
                /* json-c writes -0 as 0, 1E+2 as 100.0: the text differs */
                if (!dom && ptr[0] == '\0' && same_text(js, o)) {
                        assert_string_equal(e2.keyword, E.keyword);
                        assert_string_equal(e2.message, E.message);
                }
                if (!dom)
                        E = e2;
        }
        json_object_put(o);
        return dom;
}

static int valid(const struct kt_schema *s, const char *js)
{
        return valid_at(s, js, "");
}

#define OK(s, js) assert_true(valid((s), (js)))
#define NO(s, js, kw)                                                       \
        do {                                                                \
                assert_false(valid((s), (js)));                             \
                assert_string_equal(E.keyword, (kw));                       \
        } while (0)

static void test_type(void **state)
{
        const struct kt_schema *s = mk("{\"type\": \"integer\"}");

        (void)state;
        OK(s, "1");
        OK(s, "1.0"); /* draft-07: no fractional part is an integer */
        OK(s, "-0");
        OK(s, "1e3");
        OK(s, "1.5e1");
        OK(s, "18446744073709551615");
        OK(s, "123456789012345678901234567890");
        NO(s, "1.5", "type");
        NO(s, "1e-3", "type");
        NO(s, "\"1\"", "type");
        NO(s, "null", "type");
        NO(s, "[1]", "type");
        assert_string_equal(E.message, "(root): an array is not of type "
                            "integer (type)");
        s = mk("{\"type\": [\"string\", \"null\"]}");
        OK(s, "null");
        OK(s, "\"x\"");
        NO(s, "true", "type");
        assert_string_equal(E.message, "(root): true is not of type null or "
                            "string (type)");
        s = mk("{\"type\": \"number\"}");
        OK(s, "1");
        OK(s, "-1.5e-300");
        NO(s, "{}", "type");
}

/* Counters past 2^53 and 2^63 compare exactly, on both paths. */
static void test_u64_exact(void **state)
{
        const struct kt_schema *s = mk("{\"maximum\": 18446744073709551615, "
                                       "\"minimum\": 0}");

        (void)state;
        OK(s, "18446744073709551615");
        OK(s, "18446744073709551615.0");
        OK(s, "1.8446744073709551615e19");
        NO(s, "18446744073709551616", "maximum");
        NO(s, "-1", "minimum");
        s = mk("{\"maximum\": 9007199254740993}"); /* 2^53 + 1 */
        OK(s, "9007199254740993");
        NO(s, "9007199254740994", "maximum"); /* the same double */
        s = mk("{\"exclusiveMaximum\": 9223372036854775808}");
        OK(s, "9223372036854775807");
        NO(s, "9223372036854775808", "exclusiveMaximum");
        s = mk("{\"minimum\": -9223372036854775808}");
        OK(s, "-9223372036854775808");
        NO(s, "-9223372036854775809", "minimum");
        s = mk("{\"minimum\": -18446744073709551615}");
        OK(s, "-18446744073709551615");
        NO(s, "-18446744073709551616", "minimum");
        s = mk("{\"const\": 18446744073709551615}");
        OK(s, "18446744073709551615");
        NO(s, "18446744073709551614", "const");
}

static void test_numbers(void **state)
{
        const struct kt_schema *s = mk("{\"exclusiveMinimum\": 0, "
                                       "\"exclusiveMaximum\": 1.5}");

        (void)state;
        OK(s, "1.4999");
        NO(s, "0", "exclusiveMinimum");
        NO(s, "1.5", "exclusiveMaximum");
        NO(s, "15e-1", "exclusiveMaximum");
        s = mk("{\"multipleOf\": 0.01}");
        OK(s, "19.99");
        OK(s, "0");
        OK(s, "-4.2");
        OK(s, "1e300");
        NO(s, "0.001", "multipleOf");
        s = mk("{\"multipleOf\": 0.123456789}");
        NO(s, "1e308", "multipleOf"); /* no overflow to infinity */
        OK(s, "1.23456789");
        s = mk("{\"multipleOf\": 3}");
        OK(s, "18446744073709551615");
        NO(s, "18446744073709551614", "multipleOf");
        OK(s, "3e999999999999"); /* an exponent past int: no crash */
        s = mk("{\"maximum\": 1e400}");
        OK(s, "1e399");
        NO(s, "1e401", "maximum");
}

static void test_strings(void **state)
{
        const struct kt_schema *s = mk("{\"minLength\": 2, \"maxLength\": 3}");

        (void)state;
        OK(s, "\"\\u00e9\\u00e9\""); /* 2 code points, 4 bytes */
        OK(s, "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"");
        NO(s, "\"\\ud83d\\ude00\"", "minLength");
        NO(s, "\"abcd\"", "maxLength");
        OK(s, "12"); /* not a string: ignored */
        s = mk("{\"pattern\": \"^\\\\d+$\"}");
        OK(s, "\"123\"");
        NO(s, "\"123\\n\"", "pattern");   /* $ is the end only */
        NO(s, "\"\\u0661\\u0662\"", "pattern"); /* \\d is ASCII */
        s = mk("{\"pattern\": \"a+\"}");
        OK(s, "\"xaay\""); /* not anchored */
        NO(s, "\"xy\"", "pattern");
        assert_string_equal(E.message,
                            "(root): \"xy\" does not match \"a+\" (pattern)");
        s = mk("{\"pattern\": \"^\\\\u00e9$\"}"); /* ECMA's \\u escape */
        OK(s, "\"\\u00e9\"");
}

/* PCRE2 itself, with the options of schema.c: the oracle of patterns. */
static int pcre_says(const char *pattern, const char *subject, size_t n)
{
        uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
                        PCRE2_MATCH_UNSET_BACKREF;
        PCRE2_SIZE off;
        int code, r;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern,
                                       PCRE2_ZERO_TERMINATED, opts, &code,
                                       &off, NULL);
        pcre2_match_data *md;

        assert_non_null(re);
        md = pcre2_match_data_create(1, NULL);
        assert_non_null(md);
        r = pcre2_match(re, (PCRE2_SPTR)subject, n, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
        return r >= 0;
}

/*
 * The patterns schema.c matches without PCRE2 (one class, repeated, the
 * whole string, maybe optional) and their near misses, which PCRE2
 * keeps: every verdict is PCRE2's.
 */
static void test_class_patterns(void **state)
{
        static const char *const patterns[] = {
                "^[0-9a-f]{8,64}$", "^[A-Z]{2}$", "^([A-Z]{2})?$",
                "^(?:[a-z0-9]{1,3})?$", "^[a-zA-Z]+$", "^[0-9]*$",
                "^[abc]{2,}$", "^[a-f]$", "^[0-9a-f]{8,64}", "[A-Z]{2}$",
                "^([A-Z]{2})$", "^[A-Z]{2}$|^x$", "^[A-z]{2}$",
                "^[A-Z]{,2}$", "^[A-Z]{2}?$", "^[^A-Z]{2}$", "^[a]{2}x$",
        };
        static const char *const subjects[] = {
                "", "a", "ab", "AB", "aB", "US", "U", "USA", "0123abcd",
                "0123abcD", "0123abc", "0123abcd\n", "_a", "a\\b", "\xc3\xa9",
                "ab\0", "0123456789abcdef0123456789abcdef"
                "0123456789abcdef0123456789abcdef",
                "0123456789abcdef0123456789abcdef"
                "0123456789abcdef0123456789abcdef0", "x", "9", "[]", "{}",
        };
        struct json_object *o;
        struct kt_schema_error e;
        char js[256];
        size_t i, j, n;
        int seen[2] = { 0, 0 }, r;

        (void)state;
        for (i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
                snprintf(js, sizeof(js), "{\"pattern\": \"%s\"}",
                         patterns[i]);
                const struct kt_schema *s = mk(js);

                for (j = 0; j < sizeof(subjects) / sizeof(*subjects); j++) {
                        n = strlen(subjects[j]) + (j == 15);
                        o = json_object_new_string_len(subjects[j], (int)n);
                        assert_non_null(o);
                        r = kt_schema_validate(s, o, &e) == 0;
                        json_object_put(o);
                        if (r != pcre_says(patterns[i], subjects[j], n))
                                fail_msg("%s on \"%s\": %d", patterns[i],
                                         subjects[j], r);
                        seen[r]++;
                }
        }
        assert_true(seen[0] > 200 && seen[1] > 40);
}

static void test_format(void **state)
{
        const struct kt_schema *s = mk("{\"format\": \"ipv4\"}");

        (void)state;
        OK(s, "\"192.0.2.1\"");
        OK(s, "7"); /* only strings */
        NO(s, "\"192.0.2.256\"", "format");
        assert_string_equal(E.message, "(root): \"192.0.2.256\" is not a "
                            "valid ipv4 (format)");
        s = mk("{\"format\": \"date-time\"}");
        OK(s, "\"2026-11-30T09:47:12Z\"");
        NO(s, "\"2026-11-30 09:47:12\"", "format");
        assert_null(try_mk("{\"format\": \"email\"}"));
        assert_string_equal(ERR, "(schema): #/format: unknown format "
                            "\"email\" (known: date-time, date, time, ipv4, "
                            "ipv6, uuid, hostname)");
}

static void test_enum_const(void **state)
{
        const struct kt_schema *s = mk("{\"enum\": [1, \"a\", null, "
                                       "{\"x\": [1, 2], \"y\": 0}]}");

        (void)state;
        OK(s, "1.0");
        OK(s, "\"a\"");
        OK(s, "null");
        OK(s, "{\"y\": 0.0, \"x\": [1, 2.0]}");
        NO(s, "{\"y\": 0, \"x\": [2, 1]}", "enum");
        NO(s, "2", "enum");
        NO(s, "false", "enum");
        NO(s, "\"a \"", "enum");
        s = mk("{\"const\": false}");
        OK(s, "false");
        NO(s, "0", "const");
        s = mk("{\"const\": 0.1, \"enum\": [0.1, 0.2]}");
        OK(s, "0.10");
        NO(s, "0.2", "const");
}

static void test_objects(void **state)
{
        const struct kt_schema *s = mk(
                "{\"required\": [\"bytes\"], \"properties\": {\"bytes\": "
                "{\"minimum\": 0}}, \"patternProperties\": {\"^ip_\": "
                "{\"type\": \"string\"}}, \"additionalProperties\": false}");

        (void)state;
        OK(s, "{\"bytes\": 1, \"ip_src\": \"a\"}");
        NO(s, "{\"bytes\": -1}", "minimum");
        assert_string_equal(E.pointer, "/bytes");
        NO(s, "{\"bytes\": 1, \"ip_src\": 1}", "type");
        NO(s, "{\"bytesytes\": 1, \"bytes\": 1}", "additionalProperties");
        assert_string_equal(E.message, "/bytesytes: the property is not "
                            "allowed (additionalProperties)");
        NO(s, "{\"ip_src\": \"a\"}", "required");
        assert_string_equal(E.message, "/bytes: the required property is "
                            "missing (required)");
        s = mk("{\"propertyNames\": {\"maxLength\": 3}, \"minProperties\": 1, "
               "\"maxProperties\": 2}");
        OK(s, "{\"abc\": 1}");
        NO(s, "{\"abcd\": 1}", "maxLength");
        NO(s, "{}", "minProperties");
        NO(s, "{\"a\": 1, \"b\": 2, \"c\": 3}", "maxProperties");
        s = mk("{\"dependencies\": {\"a\": [\"b\"], \"c\": {\"required\": "
               "[\"d\"]}}}");
        OK(s, "{\"a\": 1, \"b\": 2}");
        OK(s, "{\"b\": 2}");
        NO(s, "{\"a\": 1}", "dependencies");
        assert_string_equal(E.pointer, "/b");
        NO(s, "{\"c\": 1}", "required");
        OK(s, "{\"c\": 1, \"d\": 1}");
}

static void test_arrays(void **state)
{
        const struct kt_schema *s = mk(
                "{\"items\": [{\"type\": \"integer\"}, {\"type\": "
                "\"string\"}], \"additionalItems\": false, \"minItems\": 1}");

        (void)state;
        OK(s, "[1, \"a\"]");
        OK(s, "[1]");
        NO(s, "[]", "minItems");
        NO(s, "[1, 2]", "type");
        assert_string_equal(E.pointer, "/1");
        NO(s, "[1, \"a\", null]", "additionalItems");
        assert_string_equal(E.pointer, "/2");
        s = mk("{\"items\": {\"maximum\": 3}, \"contains\": {\"const\": 2}, "
               "\"uniqueItems\": true, \"maxItems\": 3}");
        OK(s, "[1, 2]");
        NO(s, "[1, 4, 2]", "maximum");
        NO(s, "[1, 3]", "contains");
        NO(s, "[1, 2, 1.0]", "uniqueItems");
        NO(s, "[1, 2, 3, 0]", "maxItems");
        OK(s, "{\"not\": \"an array\"}");
}

/* A combinator's failure names it, at the value's pointer. */
static void test_combinators(void **state)
{
        const struct kt_schema *s = mk(
                "{\"properties\": {\"p\": {\"anyOf\": [{\"type\": \"string\"}, "
                "{\"minimum\": 5}], \"oneOf\": [{\"type\": \"integer\"}, "
                "{\"maximum\": 10}], \"not\": {\"const\": 7}, \"allOf\": "
                "[{\"maximum\": 100}], \"if\": {\"minimum\": 50}, \"then\": "
                "{\"multipleOf\": 2}, \"else\": {\"maximum\": 6}}}}");

        (void)state;
        OK(s, "{\"p\": 52}");
        NO(s, "{\"p\": 1}", "anyOf");
        assert_string_equal(E.message, "/p: matches none of the 2 schemas "
                            "(anyOf)");
        NO(s, "{\"p\": 6}", "oneOf"); /* integer and <= 10 */
        assert_string_equal(E.message, "/p: matches both schema 0 and 1 "
                            "(oneOf)");
        NO(s, "{\"p\": 50.5}", "oneOf");
        NO(s, "{\"p\": 7.5}", "else");
        NO(s, "{\"p\": 101}", "maximum");
        NO(s, "{\"p\": 51}", "then");
        NO(s, "{\"p\": 11}", "else");
        s = mk("{\"not\": {\"const\": 7}}");
        NO(s, "7", "not");
        OK(s, "8");
        s = mk("false");
        NO(s, "1", "false");
        OK(mk("true"), "{}");
        OK(mk("{}"), "[]");
}

/* The message: pointer (RFC 6901), what, keyword; no control bytes. */
/* A format the value is known to be in is not checked again; the other
 * keywords are. */
static void test_known_formats(void **state)
{
        const struct kt_schema *s = mk("{\"type\": \"string\", \"format\": "
                                       "\"date-time\", \"maxLength\": 24}");
        struct kt_scalar v = { KT_J_STRING, 0, "not a time", 10, 0 };
        struct kt_schema_error e;

        (void)state;
        assert_int_equal(kt_schema_validate_scalar(s, &v, "", &e), 1);
        v.known = 1u << KT_FORMAT_DATE_TIME;
        assert_int_equal(kt_schema_validate_scalar(s, &v, "", &e), 0);
        v.known = 1u << KT_FORMAT_UUID;
        assert_int_equal(kt_schema_validate_scalar(s, &v, "", &e), 1);
        v.known = 1u << KT_FORMAT_DATE_TIME;
        v.text = "2026-11-23T08:33:20.731000Z";
        v.len = strlen(v.text);
        assert_int_equal(kt_schema_validate_scalar(s, &v, "", &e), 1);
        assert_string_equal(e.keyword, "maxLength");
}

static void test_messages(void **state)
{
        const struct kt_schema *s = mk("{\"maximum\": 65535}");
        struct kt_scalar v = { KT_J_NUMBER, 0, "70000", 5, 0 };

        (void)state;
        assert_int_equal(kt_schema_validate_scalar(s, &v, "/port_src", &E),
                         1);
        assert_string_equal(E.keyword, "maximum");
        assert_string_equal(E.pointer, "/port_src");
        assert_string_equal(E.message, "/port_src: 70000 is greater than the "
                            "maximum 65535 (maximum)");
        s = mk("{\"additionalProperties\": {\"type\": \"string\"}}");
        NO(s, "{\"a/b~c\\u0001\": 1}", "type");
        assert_string_equal(E.pointer, "/a~1b~0c\001");
        assert_string_equal(E.message, "/a~1b~0c\\u0001: 1 is not of type "
                            "string (type)");
        s = mk("{\"items\": {\"maxLength\": 1}}");
        NO(s, "[\"a\", \"\\t\\u001f\\u007f\"]", "maxLength");
        assert_string_equal(E.message, "/1: \"\\u0009\\u001f\\u007f\" is "
                            "longer than 1 characters (maxLength)");
}

/* A schema that fails to load, with the message expected (a prefix). */
static void refused(const char *json, const char *msg)
{
        if (try_mk(json) != NULL)
                fail_msg("loaded: %s", json);
        if (strncmp(ERR, msg, strlen(msg)) != 0)
                fail_msg("%s:\n got \"%s\"\nwant \"%s...\"", json, ERR, msg);
}

static void loaded(const char *uri, const char *msg)
{
        if (kt_schema_load(fresh(), uri, ERR, sizeof(ERR)) != NULL)
                fail_msg("loaded: %s", uri);
        if (strncmp(ERR, msg, strlen(msg)) != 0)
                fail_msg("%s:\n got \"%s\"\nwant \"%s...\"", uri, ERR, msg);
}

static void test_load_errors(void **state)
{
        (void)state;
        refused("{\"properties\": {\"a\": {\"maximun\": 3}}}",
                "(schema): #/properties/a/maximun: unknown keyword "
                "\"maximun\"");
        refused("{\"minimum\": \"3\"}", "(schema): #/minimum: minimum must "
                "be a number");
        refused("{\"minLength\": -1}", "(schema): #/minLength: minLength "
                "must be a non-negative integer");
        refused("{\"maxItems\": 1.5}", "(schema): #/maxItems: maxItems "
                "must be a non-negative integer");
        refused("{\"multipleOf\": 0}", "(schema): #/multipleOf: multipleOf "
                "must be a number greater than 0");
        refused("{\"type\": \"int\"}", "(schema): #/type: type must be a "
                "type name");
        refused("{\"required\": [1]}", "(schema): #/required: required "
                "must be an array of distinct strings");
        refused("{\"required\": [\"a\", \"b\", \"a\"]}", "(schema): "
                "#/required: required must be an array of distinct strings");
        refused("{\"items\": [{}, 3]}", "(schema): #/items: item 1 is not "
                "a schema");
        refused("{\"anyOf\": []}", "(schema): #/anyOf: anyOf must be a "
                "non-empty array");
        refused("{\"pattern\": \"a(b\"}", "(schema): #/pattern: pattern "
                "\"a(b\": missing closing parenthesis at offset 3");
        refused("{\"patternProperties\": {\"[\": {}}}",
                "(schema): #/patternProperties: patternProperties \"[\": "
                "missing terminating ] for character class at offset 1");
        refused("{\"$schema\": \"http://json-schema.org/draft-04/schema#\"}",
                "(schema): #/$schema: $schema must be draft-07's URI");
        refused("{\"$ref\": \"#/definitions/nope\"}", "(schema): #/$ref: "
                "cannot resolve \"#/definitions/nope\": ");
        refused("{\"$ref\": \"http://example.com/x.json\"}",
                "(schema): #/$ref: cannot resolve \"http://example.com/"
                "x.json\": no file for http://example.com/x.json");
        refused("{\"definitions\": {\"a\": {\"$ref\": \"#/definitions/b\"}, "
                "\"b\": {\"$ref\": \"#/definitions/a\"}}}",
                "(schema): #/definitions/");
        assert_non_null(strstr(ERR, "a loop of $refs"));
        refused("{\"properties\": 3}", "(schema): #/properties: properties "
                "must be an object of schemas");
        refused("{\"not\": 3}", "(schema): #/not: not must be a schema");
        refused("{\"$schema\": \"ftp://json-schema.org/draft-07/schema\"}",
                "(schema): #/$schema: $schema must be draft-07's URI");
        mk("{\"$schema\": \"https://json-schema.org/draft-07/schema#\"}");
        mk("{\"$schema\": \"http://json-schema.org/draft-07/schema\"}");
        /* annotations are fine */
        mk("{\"title\": \"t\", \"description\": \"d\", \"examples\": [1], "
           "\"default\": 2, \"$comment\": \"c\", \"readOnly\": true, "
           "\"writeOnly\": false, \"contentMediaType\": \"text/plain\", "
           "\"contentEncoding\": \"base64\", \"$schema\": "
           "\"http://json-schema.org/draft-07/schema#\"}");
}

static void test_load_files(void **state)
{
        (void)state;
        loaded("/nope/1.0.0", "schema /nope/1.0.0: " DIR
               "/nope/1.0.0.json: No such file or directory");
        loaded("/bad/syntax", "schema /bad/syntax: " DIR "/bad/syntax.json: ");
        assert_non_null(strstr(ERR, "unexpected character"));
        loaded("/bad/keyword", DIR "/bad/keyword.json: #/properties/a/"
               "maximun: unknown keyword \"maximun\"");
        loaded("/bad/ref", DIR "/bad/ref.json: #/properties/a/$ref: cannot "
               "resolve \"/fragment/missing/1.0.0\": " DIR "/fragment/"
               "missing/1.0.0.json: No such file or directory");
        /* a failed set stays failed: its nodes are half made */
        assert_null(kt_schema_load(SETS[N_SETS - 1], "/event/1.0.0", ERR,
                                   sizeof(ERR)));
        assert_string_equal(strstr(ERR, "bad/ref.json"), "bad/ref.json: "
                            "#/properties/a/$ref: cannot resolve \"/fragment"
                            "/missing/1.0.0\": " DIR "/fragment/missing/"
                            "1.0.0.json: No such file or directory");
}

/* $ref under the schema directory, absolute and relative. */
static void test_ref_dir(void **state)
{
        struct kt_schema_set *st = fresh();
        const struct kt_schema *s;

        (void)state;
        s = kt_schema_load(st, "/event/1.0.0", ERR, sizeof(ERR));
        if (s == NULL)
                fail_msg("%s", ERR);
        assert_ptr_equal(kt_schema_load(st, "/event/1.0.0", ERR,
                                        sizeof(ERR)), s);
        OK(s, "{\"$schema\": \"/event/1.0.0\", \"meta\": {\"stream\": \"s\"}, "
           "\"port_src\": 65535, \"bytes\": 18446744073709551615}");
        NO(s, "{\"$schema\": \"/event/1.0.0\", \"meta\": {\"stream\": \"s\"}, "
           "\"port_src\": 65536}", "maximum");
        assert_string_equal(E.pointer, "/port_src");
        NO(s, "{\"$schema\": \"/event/1.0.0\", \"meta\": {\"stream\": \"\"}}",
           "minLength");
        assert_string_equal(E.pointer, "/meta/stream");
        NO(s, "{\"$schema\": \"/event/1.0.0\", \"meta\": {\"stream\": \"s\"}, "
           "\"bytes\": -1}", "minimum");
        NO(s, "{\"meta\": {\"stream\": \"s\"}}", "required");
        /* recursion through $ref ends with the instance */
        OK(s, "{\"$schema\": \"x\", \"meta\": {\"stream\": \"s\"}, \"child\": "
           "{\"child\": {\"child\": {}}}}");
        NO(s, "{\"$schema\": \"x\", \"meta\": {\"stream\": \"s\"}, \"child\": "
           "{\"child\": {\"child\": {\"x\": 1}}}}", "additionalProperties");
        assert_string_equal(E.pointer, "/child/child/child/x");
}

/* A $ref loop through allOf ends at check time, with an error. */
static void test_ref_recursion_ends(void **state)
{
        const struct kt_schema *s = mk("{\"allOf\": [{\"$ref\": \"#\"}]}");

        (void)state;
        NO(s, "1", "$ref");
        assert_non_null(strstr(E.message, "nests over"));
        s = mk("{\"properties\": {\"a\": {\"$ref\": \"#\"}}, \"type\": "
               "\"object\"}");
        OK(s, "{\"a\": {\"a\": {\"a\": {}}}}");
        NO(s, "{\"a\": {\"a\": {\"a\": 1}}}", "type");
        assert_string_equal(E.pointer, "/a/a/a");
}

/* Scalars through both paths (valid() compares them), many shapes. */
static void test_scalar_agrees(void **state)
{
        static const char *const schemas[] = {
                "{\"type\": \"integer\", \"minimum\": 0, \"maximum\": 65535}",
                "{\"type\": [\"number\", \"null\"], \"exclusiveMinimum\": "
                "-1.5, \"multipleOf\": 0.5}",
                "{\"enum\": [1, \"1\", true, null]}",
                "{\"anyOf\": [{\"type\": \"string\", \"pattern\": "
                "\"^[a-z]+$\"}, {\"const\": 0}], \"not\": {\"maxLength\": 1}}",
                "{\"oneOf\": [{\"format\": \"ipv4\"}, {\"format\": \"ipv6\"}]}",
                "{\"if\": {\"type\": \"string\"}, \"then\": {\"minLength\": 2},"
                " \"else\": {\"type\": \"integer\"}}",
                "{\"$ref\": \"#/definitions/p\", \"definitions\": {\"p\": "
                "{\"maximum\": 18446744073709551615}}}",
                "{\"type\": \"number\", \"minimum\": -5, \"maximum\": 10.5}",
                "{\"type\": \"integer\", \"maximum\": -1}",
                "{\"type\": \"integer\", \"minimum\": 0}",
                "{\"type\": \"integer\", \"minimum\": 2, \"maximum\": "
                "18446744073709551614}",
                "{\"type\": [\"integer\", \"string\"], \"minimum\": 1, "
                "\"maxLength\": 1, \"pattern\": \"^[a-z1]\"}",
                "{\"type\": \"string\", \"format\": \"ipv6\", "
                "\"minLength\": 4}",
                "{\"type\": \"string\", \"anyOf\": [{\"format\": \"ipv4\"}, "
                "{\"$ref\": \"#/definitions/6\"}], \"definitions\": {\"6\": "
                "{\"format\": \"ipv6\"}}}",
                "{\"type\": \"string\", \"anyOf\": [{\"type\": \"integer\"}, "
                "{\"maxLength\": 1}], \"pattern\": \"^.$\"}",
                "{\"type\": [\"string\", \"null\"], \"anyOf\": "
                "[{\"type\": \"null\"}, {\"minLength\": 2}]}",
        };
        static const char *const values[] = {
                "0", "-0", "1", "1.0", "1.5", "-1", "-1.5", "-2", "65535",
                "65536", "1e2", "1E+2", "2.5e-1", "18446744073709551615",
                "18446744073709551614", "18446744073709551616",
                "99999999999999999999", "-9223372036854775809", "1e400",
                "\"\"", "\"a\"", "\"ab\"", "\"AB\"", "\"1\"",
                "\"192.0.2.1\"", "\"2001:db8::1\"", "\"::ffff:192.0.2.1\"",
                "true", "false", "null",
        };
        int seen[2] = { 0, 0 };

        (void)state;
        for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
                const struct kt_schema *s = mk(schemas[i]);

                for (size_t j = 0; j < sizeof(values) / sizeof(values[0]);
                     j++)
                        seen[valid(s, values[j])]++;
        }
        /* both verdicts came up: the comparison compared something */
        assert_true(seen[0] > 20 && seen[1] > 20);
}

/* The per-member path allocates nothing, valid or not. */
static void test_scalar_no_allocation(void **state)
{
        const struct kt_schema *s = mk(
                "{\"type\": \"string\", \"pattern\": \"^[0-9.]+$\", "
                "\"format\": \"ipv4\", \"maxLength\": 15}");
        const struct kt_schema *n = mk("{\"type\": \"integer\", \"minimum\": 0,"
                                       " \"maximum\": 65535}");
        struct kt_scalar a = { KT_J_STRING, 0, "192.0.2.1", 9, 0 };
        struct kt_scalar b = { KT_J_STRING, 0, "192.0.2.x", 9, 0 };
        struct kt_scalar p = { KT_J_NUMBER, 0, "443", 3, 0 };
        struct kt_scalar q = { KT_J_NUMBER, 0, "1.8e19", 6, 0 };
        long before;

        (void)state;
        before = MALLOCS;
        assert_int_equal(kt_schema_validate_scalar(s, &a, "/ip", &E), 0);
        assert_int_equal(kt_schema_validate_scalar(s, &b, "/ip", &E), 1);
        assert_int_equal(kt_schema_validate_scalar(n, &p, "/p", &E), 0);
        assert_int_equal(kt_schema_validate_scalar(n, &q, "/p", &E), 1);
        assert_int_equal(MALLOCS, before);
}

/* A decimal as the oracle sees it: sign, 0.D * 10^e, D trimmed. */
struct dec {
        int  neg;
        char d[64];
        int  e;
};

static void dec_of(const char *t, struct dec *x)
{
        int seen_point = 0, lead = 1, n = 0, e = 0;

        memset(x, 0, sizeof(*x));
        x->neg = *t == '-';
        t += x->neg;
        for (; *t != '\0' && *t != 'e' && *t != 'E'; t++) {
                if (*t == '.') {
                        seen_point = 1;
                        continue;
                }
                if (lead && *t == '0') {
                        if (seen_point)
                                e--; /* 0.00D */
                        continue;
                }
                lead = 0;
                x->d[n++] = *t;
                if (!seen_point)
                        e++;
        }
        if (*t != '\0')
                e += atoi(t + 1);
        while (n > 0 && x->d[n - 1] == '0')
                x->d[--n] = '\0';
        x->e = n ? e : 0;
        if (n == 0)
                x->neg = 0;
}

static int dec_cmp(const struct dec *a, const struct dec *b)
{
        int r;

        if (a->neg != b->neg)
                return a->neg ? -1 : 1;
        if (a->d[0] == '\0' || b->d[0] == '\0')
                r = (a->d[0] != '\0') - (b->d[0] != '\0');
        else if (a->e != b->e)
                r = a->e < b->e ? -1 : 1;
        else
                r = strcmp(a->d, b->d);
        r = r < 0 ? -1 : r > 0;
        return a->neg ? -r : r;
}

/* Random JSON number text, up to 38 significant digits. */
static void rand_number(unsigned *seed, char *out)
{
        int i = rand_r(seed) % 4 == 0 ? 0 : 1 + rand_r(seed) % 38;
        int f = rand_r(seed) % 2 ? 1 + rand_r(seed) % (38 - (i ? i : 1)
                                                      + 1) : 0;
        char *p = out;

        if (rand_r(seed) % 3 == 0)
                *p++ = '-';
        if (i == 0)
                *p++ = '0';
        for (int k = 0; k < i; k++)
                *p++ = (char)('0' + (k == 0 ? 1 + rand_r(seed) % 9 :
                                     rand_r(seed) % 3 ? rand_r(seed) % 10 : 0));
        if (f > 0)
                *p++ = '.';
        for (int k = 0; k < f; k++)
                *p++ = (char)('0' + (rand_r(seed) % 2 ? rand_r(seed) % 10 : 0));
        if (rand_r(seed) % 3 == 0)
                p += sprintf(p, "%s%s%d", rand_r(seed) % 2 ? "e" : "E",
                             rand_r(seed) % 2 ? "-" : rand_r(seed) % 2 ?
                             "+" : "", rand_r(seed) % 40);
        *p = '\0';
}

/* The same value written another way: 0.De<e>. */
static void respell(const struct dec *x, char *out)
{
        if (x->d[0] == '\0')
                sprintf(out, "0.0e7");
        else
                sprintf(out, "%s0.%se%d", x->neg ? "-" : "", x->d, x->e);
}

/* Numbers compare exactly, against a decimal oracle, on both paths. */
static void test_numbers_oracle(void **state)
{
        unsigned seed = 10;
        char b[96], x[96], js[160];
        struct dec db, dx;

        (void)state;
        for (int i = 0; i < 150; i++) {
                const struct kt_schema *mn, *ex, *co;

                rand_number(&seed, b);
                dec_of(b, &db);
                snprintf(js, sizeof(js), "{\"minimum\": %s}", b);
                mn = mk(js);
                snprintf(js, sizeof(js), "{\"exclusiveMaximum\": %s}", b);
                ex = mk(js);
                snprintf(js, sizeof(js), "{\"const\": %s}", b);
                co = mk(js);
                for (int j = 0; j < 40; j++) {
                        if (j == 0)
                                respell(&db, x);
                        else
                                rand_number(&seed, x);
                        dec_of(x, &dx);
                        if (valid(mn, x) != (dec_cmp(&dx, &db) >= 0) ||
                            valid(ex, x) != (dec_cmp(&dx, &db) < 0) ||
                            valid(co, x) != (dec_cmp(&dx, &db) == 0))
                                fail_msg("%s against %s: oracle says %d", x,
                                         b, dec_cmp(&dx, &db));
                }
                teardown(NULL);
        }
}

/* integer: no fractional part, by the oracle. */
static void test_integer_oracle(void **state)
{
        const struct kt_schema *s = mk("{\"type\": \"integer\"}");
        unsigned seed = 7;
        char x[96];
        struct dec d;
        int seen[2] = { 0, 0 };

        (void)state;
        for (int j = 0; j < 5000; j++) {
                int integral;

                rand_number(&seed, x);
                dec_of(x, &d);
                integral = d.d[0] == '\0' || (int)strlen(d.d) <= d.e;
                if (valid(s, x) != integral)
                        fail_msg("%s: oracle says %d", x, integral);
                seen[integral]++;
        }
        assert_true(seen[0] > 500 && seen[1] > 500);
}

/* validate.c's way: member by member, then the object's end. */
static int one_pass(const struct kt_schema *s, struct json_object *o)
{
        const struct kt_schema *subs[4];
        unsigned char seen[8] = { 0 };
        char ptr[256];
        size_t len, nreq = kt_schema_n_required(s);
        int n;

        assert_true(nreq <= sizeof(seen));
        assert_string_equal(kt_schema_required(s, 1, &len), "port_src");
        assert_int_equal(len, 8);
        json_object_object_foreach(o, k, m) {
                struct kt_scalar v;

                n = kt_schema_member(s, k, strlen(k), subs, 4, seen, &E);
                if (n < 0)
                        return 0;
                assert_true(n <= 4);
                snprintf(ptr, sizeof(ptr), "/%s", k);
                for (int i = 0; i < n; i++) {
                        if (scalar_of(json_object_to_json_string(m), m,
                                      &v) == 0 ?
                            kt_schema_validate_scalar(subs[i], &v, ptr, &E) :
                            kt_schema_validate_at(subs[i], m, ptr, &E))
                                return 0;
                }
        }
        return kt_schema_object_end(s, (size_t)json_object_object_length(o),
                                    seen, &E) == 0;
}

/* The one-pass interface agrees with kt_schema_validate(). */
static void test_one_pass(void **state)
{
        static const char *const records[] = {
                "{\"bytes\": 1, \"port_src\": 443}",
                "{\"bytes\": 1, \"port_src\": 443, \"ip_src\": \"192.0.2.1\", "
                "\"meta\": {\"stream\": \"s\"}, \"x_a\": \"b\"}",
                "{\"bytesytes\": 1, \"port_src\": 443}",
                "{\"bytes\": -1, \"port_src\": 443}",
                "{\"bytes\": 1, \"port_src\": 70000}",
                "{\"bytes\": 1}",
                "{\"bytes\": 1, \"port_src\": 1, \"meta\": {}}",
                "{\"bytes\": 1, \"port_src\": 1, \"x_a\": 1}",
                "{\"bytes\": 1, \"port_src\": 1, \"ip_src\": \"1.2.3\"}",
                "{\"bytes\": 1, \"port_src\": 1, \"x_1\": \"\", \"x_2\": \"\", "
                "\"x_3\": \"\", \"x_4\": \"\", \"x_5\": \"\"}",
        };
        const struct kt_schema *s = mk(
                "{\"type\": \"object\", \"required\": [\"bytes\", "
                "\"port_src\"], \"properties\": {\"bytes\": {\"type\": "
                "\"integer\", \"minimum\": 0}, \"port_src\": {\"type\": "
                "\"integer\", \"minimum\": 0, "
                "\"maximum\": 65535}, \"ip_src\": {\"type\": \"string\", "
                "\"format\": \"ipv4\"}, \"meta\": {\"type\": \"object\", "
                "\"required\": [\"stream\"]}}, \"patternProperties\": "
                "{\"^x_\": {\"type\": \"string\"}}, \"additionalProperties\": "
                "false, \"maxProperties\": 6}");
        int seen[2] = { 0, 0 };

        (void)state;
        assert_int_equal(kt_schema_shape(s), KT_SHAPE_OBJECT);
        assert_int_equal(kt_schema_shape(mk("{\"allOf\": [{}]}")),
                         KT_SHAPE_OTHER);
        assert_int_equal(kt_schema_shape(mk("true")), KT_SHAPE_ANY);
        assert_int_equal(kt_schema_shape(mk("false")), KT_SHAPE_NONE);
        for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
                struct json_object *o = parse(records[i]);
                struct kt_schema_error e1;
                int dom = kt_schema_validate(s, o, &e1) == 0;

                if (one_pass(s, o) != dom)
                        fail_msg("%s: one pass %d, DOM %d", records[i],
                                 !dom, dom);
                /* the same first failure */
                if (!dom)
                        assert_string_equal(E.message, e1.message);
                seen[dom]++;
                json_object_put(o);
        }
        assert_int_equal(seen[1], 2);
}

/* kt_schema_member: propertyNames refuses; more schemas than room. */
static void test_member(void **state)
{
        const struct kt_schema *s;

        (void)state;
        s = mk("{\"propertyNames\": {\"maxLength\": 3}, \"properties\": "
               "{\"ab\": {}}, \"patternProperties\": {\"a\": {}, \"b\": "
               "{}}}");
        {
                const struct kt_schema *out[1];

                assert_int_equal(kt_schema_member(s, "abcd", 4, out, 1, NULL,
                                                  &E), -1);
                assert_string_equal(E.message, "/abcd: \"abcd\" is longer "
                                    "than 3 characters (maxLength)");
                assert_int_equal(kt_schema_member(s, "ab", 2, out, 1, NULL,
                                                  &E), 3);
                assert_int_equal(kt_schema_member(s, "c", 1, out, 1, NULL,
                                                  &E), 0);
        }
}

/* --- kt_schema_rules ------------------------------------------------ */

/* Code points of a UTF-8 string. */
static size_t code_points(const char *p)
{
        size_t n = 0;

        for (; *p; p++)
                n += ((unsigned char)*p & 0xc0) != 0x80;
        return n;
}

/* The string rule's verdict on p, worked out here, apart from schema.c. */
static int str_rule_says(const struct kt_string_rule *r, const char *p)
{
        size_t cp = code_points(p), len = strlen(p);
        unsigned f;
        int any = r->any_formats == 0 && r->any_class == NULL;

        if (cp < r->min_len || cp > r->max_len ||
            (r->all_class != NULL && !kt_class_match(r->all_class, p, len)))
                return 0;
        if (r->any_class != NULL && kt_class_match(r->any_class, p, len))
                any = 1;
        for (f = 0; f < 32; f++) {
                if ((r->all_formats & 1u << f) &&
                    !kt_format_ok((enum kt_format)f, p, len))
                        return 0;
                if ((r->any_formats & 1u << f) &&
                    kt_format_ok((enum kt_format)f, p, len))
                        any = 1;
        }
        return any;
}

struct rule_case {
        const char *schema;
        int         str_simple, nat_simple;
};

static const struct rule_case rule_cases[] = {
        { "{}", 1, 1 },
        { "true", 1, 1 },
        { "false", 1, 1 },
        { "{\"type\": \"integer\", \"minimum\": 0, \"maximum\": 65535}",
          1, 1 },
        { "{\"type\": \"string\", \"minLength\": 1}", 1, 1 },
        { "{\"type\": \"string\", \"format\": \"date-time\", "
          "\"maxLength\": 128}", 1, 1 },
        /* an address */
        { "{\"type\": \"string\", \"anyOf\": [{\"format\": \"ipv4\"}, "
          "{\"format\": \"ipv6\"}]}", 1, 1 },
        /* a protocol: a name or a number */
        { "{\"anyOf\": [{\"type\": \"string\", \"minLength\": 1, "
          "\"maxLength\": 32}, {\"type\": \"integer\", \"minimum\": 0, "
          "\"maximum\": 255}]}", 1, 1 },
        /* items say nothing of a string */
        { "{\"type\": [\"string\", \"array\"], \"items\": {\"type\": "
          "\"string\"}}", 1, 1 },
        { "{\"allOf\": [{\"minLength\": 2}, {\"maxLength\": 3}, "
          "{\"minimum\": 5}, {\"maximum\": 9}]}", 1, 1 },
        { "{\"$ref\": \"#/definitions/p\", \"definitions\": {\"p\": "
          "{\"maximum\": 7, \"maxLength\": 1}}}", 1, 1 },
        { "{\"anyOf\": [{\"format\": \"ipv4\"}, {}]}", 1, 1 },
        { "{\"anyOf\": [{\"type\": \"null\"}, {\"type\": \"boolean\"}]}",
          1, 1 },
        { "{\"minimum\": -5, \"maximum\": 0}", 1, 1 },
        { "{\"minimum\": 2.5}", 1, 0 },
        { "{\"exclusiveMinimum\": 0}", 1, 0 },
        { "{\"multipleOf\": 2}", 1, 0 },
        { "{\"maximum\": 18446744073709551616}", 1, 0 },
        { "{\"pattern\": \"^a\"}", 0, 1 },
        /* an address or its hash; a country code, maybe empty */
        { "{\"type\": \"string\", \"anyOf\": [{\"format\": \"ipv4\"}, "
          "{\"format\": \"ipv6\"}, {\"pattern\": \"^[0-9a-f]{8,64}$\"}]}",
          1, 1 },
        { "{\"type\": \"string\", \"pattern\": \"^[A-Z]{2}$\"}", 1, 1 },
        { "{\"pattern\": \"^([A-Z]{2})?$\", \"maxLength\": 1}", 1, 1 },
        { "{\"anyOf\": [{\"pattern\": \"^[A-Z]{2,8}$\"}, "
          "{\"minLength\": 9}]}", 0, 1 },
        { "{\"anyOf\": [{\"pattern\": \"^[A-Z]{2,8}$\", \"minLength\": 3}, "
          "{\"format\": \"ipv4\"}]}", 0, 1 },
        { "{\"anyOf\": [{\"pattern\": \"^[A-Z]+$\"}, "
          "{\"pattern\": \"^[a-z]+$\"}]}", 0, 1 },
        { "{\"allOf\": [{\"pattern\": \"^[A-Z]+$\"}, "
          "{\"pattern\": \"^[A-Z]{2}$\"}]}", 0, 1 },
        { "{\"allOf\": [{\"pattern\": \"^[a-f0-9]+$\"}, "
          "{\"anyOf\": [{\"format\": \"ipv4\"}, {\"pattern\": "
          "\"^[0-9]{4}$\"}]}], \"minLength\": 4}", 1, 1 },
        { "{\"enum\": [\"a\", 1]}", 0, 0 },
        { "{\"oneOf\": [{\"maxLength\": 1}]}", 0, 0 },
        { "{\"not\": {\"maxLength\": 1}}", 0, 0 },
        /* two ranges, two lengths: no one bound says them */
        { "{\"anyOf\": [{\"maximum\": 1}, {\"minimum\": 5}]}", 1, 0 },
        { "{\"anyOf\": [{\"maxLength\": 1}, {\"minLength\": 5}]}", 0, 1 },
        /* one of two formats, then one of two more */
        { "{\"allOf\": [{\"anyOf\": [{\"format\": \"ipv4\"}, {\"format\": "
          "\"ipv6\"}]}, {\"anyOf\": [{\"format\": \"uuid\"}, {\"format\": "
          "\"date\"}]}]}", 0, 1 },
};

static const char *const rule_strings[] = {
        "", "a", "ab", "abcd", "10.64.39.233", "256.1.1.1", "2001:db8::1",
        "::", "2026-11-23T08:33:20.731Z", "2026-11-23",
        "b95453ad-00af-4662-b3e8-03b56e6564f0", "\xc3\xa9t\xc3\xa9", "tcp",
        "0123abcd", "0123abcdef", "US", "us", "USA", "ABCDEFGH",
};

static const char *const rule_naturals[] = {
        "0", "1", "5", "7", "9", "255", "256", "65535", "65536",
        "18446744073709551615",
};

/* Where the rules are simple, they say what the scalar check says. */
static void rules_agree(const char *schema, const struct kt_schema *s,
                        const struct kt_string_rule *str,
                        const struct kt_natural_rule *nat)
{
        struct kt_scalar sc;
        size_t i;
        int want;

        memset(&sc, 0, sizeof(sc));
        for (i = 0; str->simple && i < sizeof(rule_strings) /
                                        sizeof(rule_strings[0]); i++) {
                sc.kind = KT_J_STRING;
                sc.text = rule_strings[i];
                sc.len = strlen(rule_strings[i]);
                want = kt_schema_validate_scalar(s, &sc, "", &E) == 0;
                if (str_rule_says(str, rule_strings[i]) != want)
                        fail_msg("%s: \"%s\": the rule says %d", schema,
                                 rule_strings[i], !want);
        }
        for (i = 0; nat->simple && i < sizeof(rule_naturals) /
                                        sizeof(rule_naturals[0]); i++) {
                uint64_t n = strtoull(rule_naturals[i], NULL, 10);

                sc.kind = KT_J_NUMBER;
                sc.text = rule_naturals[i];
                sc.len = strlen(rule_naturals[i]);
                want = kt_schema_validate_scalar(s, &sc, "", &E) == 0;
                if ((n >= nat->lo && n <= nat->hi) != want)
                        fail_msg("%s: %s: the rule says %d", schema,
                                 rule_naturals[i], !want);
        }
}

/*
 * Each schema: simple or not as expected, and where simple, the rules
 * say what kt_schema_validate_scalar() says of every sample string and
 * natural number.
 */
static void test_rules(void **state)
{
        struct kt_string_rule str;
        struct kt_natural_rule nat;
        size_t c;

        (void)state;
        for (c = 0; c < sizeof(rule_cases) / sizeof(rule_cases[0]); c++) {
                const struct rule_case *rc = &rule_cases[c];
                const struct kt_schema *s = mk(rc->schema);

                kt_schema_rules_init(&str, &nat);
                kt_schema_rules(s, &str, &nat);
                if (str.simple != rc->str_simple ||
                    nat.simple != rc->nat_simple)
                        fail_msg("%s: simple %d/%d, want %d/%d", rc->schema,
                                 str.simple, nat.simple, rc->str_simple,
                                 rc->nat_simple);
                rules_agree(rc->schema, s, &str, &nat);
        }
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_type, teardown),
                cmocka_unit_test_teardown(test_u64_exact, teardown),
                cmocka_unit_test_teardown(test_numbers, teardown),
                cmocka_unit_test_teardown(test_strings, teardown),
                cmocka_unit_test_teardown(test_format, teardown),
                cmocka_unit_test_teardown(test_class_patterns, teardown),
                cmocka_unit_test_teardown(test_enum_const, teardown),
                cmocka_unit_test_teardown(test_objects, teardown),
                cmocka_unit_test_teardown(test_arrays, teardown),
                cmocka_unit_test_teardown(test_combinators, teardown),
                cmocka_unit_test_teardown(test_messages, teardown),
                cmocka_unit_test_teardown(test_known_formats, teardown),
                cmocka_unit_test_teardown(test_load_errors, teardown),
                cmocka_unit_test_teardown(test_load_files, teardown),
                cmocka_unit_test_teardown(test_ref_dir, teardown),
                cmocka_unit_test_teardown(test_ref_recursion_ends, teardown),
                cmocka_unit_test_teardown(test_scalar_agrees, teardown),
                cmocka_unit_test_teardown(test_scalar_no_allocation,
                                          teardown),
                cmocka_unit_test_teardown(test_one_pass, teardown),
                cmocka_unit_test_teardown(test_member, teardown),
                cmocka_unit_test_teardown(test_rules, teardown),
                cmocka_unit_test_teardown(test_numbers_oracle, teardown),
                cmocka_unit_test_teardown(test_integer_oracle, teardown),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
