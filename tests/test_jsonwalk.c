/*
 * tests/test_jsonwalk.c: walking valid JSON (jsonwalk.h): members and
 * items with their kinds, unescaping, and json-c documents with exact
 * numbers, checked against json-c's own parser where it is exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonwalk.h"

static void wval_of(const char *text, struct kt_wval *v)
{
        kt_walk_value(text, strlen(text), v);
}

static void test_members(void **state)
{
        const char *js = "{\"a\": 1, \"b\":\"x\\\"y\" ,\"c\":{\"d\":[1,{}]},"
                         "\"e\":true,\"f\":null,\"g\":-1.5e3,\"h\":[]}";
        static const struct {
                const char   *name, *text;
                enum kt_jkind kind;
                int           escaped;
        } want[] = {
                { "a", "1", KT_J_NUMBER, 0 },
                { "b", "x\\\"y", KT_J_STRING, 1 },
                { "c", "{\"d\":[1,{}]}", KT_J_OBJECT, 0 },
                { "e", "true", KT_J_BOOLEAN, 0 },
                { "f", "null", KT_J_NULL, 0 },
                { "g", "-1.5e3", KT_J_NUMBER, 0 },
                { "h", "[]", KT_J_ARRAY, 0 },
        };
        struct kt_wval top, name, value;
        struct kt_walk w;
        size_t i = 0;

        (void)state;
        wval_of(js, &top);
        assert_int_equal(top.kind, KT_J_OBJECT);
        assert_int_equal(top.len, strlen(js));
        kt_walk_begin(&w, &top);
        while (kt_walk_next_member(&w, &name, &value)) {
                assert_true(i < sizeof(want) / sizeof(*want));
                assert_int_equal(name.kind, KT_J_STRING);
                assert_int_equal(name.len, strlen(want[i].name));
                assert_memory_equal(name.p, want[i].name, name.len);
                assert_int_equal(value.kind, want[i].kind);
                assert_int_equal(value.len, strlen(want[i].text));
                assert_memory_equal(value.p, want[i].text, value.len);
                assert_int_equal(value.escaped, want[i].escaped);
                i++;
        }
        assert_int_equal(i, sizeof(want) / sizeof(*want));
}

static void test_items_and_space(void **state)
{
        struct kt_wval top, v;
        struct kt_walk w;
        const char *want[] = { "1", "\"]\"", "[2, [3]]", "{ }" };
        size_t i = 0;

        (void)state;
        wval_of("  [ 1 , \"]\" ,\n[2, [3]] , { } ]  ", &top);
        assert_int_equal(top.kind, KT_J_ARRAY);
        kt_walk_begin(&w, &top);
        while (kt_walk_next_item(&w, &v)) {
                char text[16];

                assert_true(i < 4);
                snprintf(text, sizeof(text), "%s%.*s%s",
                         v.kind == KT_J_STRING ? "\"" : "", (int)v.len, v.p,
                         v.kind == KT_J_STRING ? "\"" : "");
                assert_string_equal(text, want[i]);
                i++;
        }
        assert_int_equal(i, 4);
        wval_of("{}", &top);
        kt_walk_begin(&w, &top);
        assert_false(kt_walk_next_member(&w, &v, &v));
}

static void test_unescape(void **state)
{
        static const struct {
                const char *in, *out;
                size_t      out_len;
        } cases[] = {
                { "plain", "plain", 5 },
                { "a\\\"b\\\\c\\/d", "a\"b\\c/d", 7 },
                { "\\b\\f\\n\\r\\t", "\b\f\n\r\t", 5 },
                { "\\u0041\\u00e9\\u20ac", "A\xc3\xa9\xe2\x82\xac", 6 },
                { "\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4 },
                { "\\ud83dx", "\xef\xbf\xbdx", 4 },    /* lone high */
                { "\\ude00", "\xef\xbf\xbd", 3 },      /* lone low */
                { "\\ud83d\\u0041", "\xef\xbf\xbd" "A", 4 },
                { "a\\u0000b", "a\0b", 3 },
        };
        char out[64];

        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                size_t n = kt_json_unescape(cases[i].in, strlen(cases[i].in),
                                            out);

                assert_int_equal(n, cases[i].out_len);
                assert_memory_equal(out, cases[i].out, n);
                assert_true(n <= strlen(cases[i].in));
        }
}

static struct json_object *doc_of(const char *text)
{
        struct kt_wval v;
        struct json_object *o;

        wval_of(text, &v);
        assert_int_equal(kt_walk_to_json(&v, &o), 0);
        return o;
}

/* Where json-c is exact, the walk's document is json-c's own. */
static void test_to_json_equals_jsonc(void **state)
{
        static const char *const docs[] = {
                "{\"a\":1,\"b\":[true,false,null,\"s\\n\"],\"c\":{\"d\":{}}}",
                ("[-9223372036854775808, 9223372036854775807, "
                 "18446744073709551615, 0.5, -1e-3, \"\\u00e9\"]"),
                "\"top\"", "null", "42", "{\"\":[[]]}",
        };

        (void)state;
        for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
                struct json_object *mine = doc_of(docs[i]);
                struct json_object *ref = json_tokener_parse(docs[i]);

                assert_true(json_object_equal(mine, ref));
                json_object_put(mine);
                json_object_put(ref);
        }
}

/* Beyond 64 bits json-c clamps; the walk keeps the number's text. */
static void test_to_json_keeps_big_numbers(void **state)
{
        static const char *const nums[] = {
                "184467440737095516150", "-9223372036854775809",
                "123456789012345678901234567890", "1e400", "1.0",
        };

        (void)state;
        for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++) {
                struct json_object *o = doc_of(nums[i]);

                assert_string_equal(json_object_to_json_string(o), nums[i]);
                json_object_put(o);
        }
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_members),
                cmocka_unit_test(test_items_and_space),
                cmocka_unit_test(test_unescape),
                cmocka_unit_test(test_to_json_equals_jsonc),
                cmocka_unit_test(test_to_json_keeps_big_numbers),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
