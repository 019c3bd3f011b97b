/*
 * tests/test_errevent.c: error events (errevent.h): every field of
 * EventGate's error shape, the refused event kept byte for byte as a
 * string, and text that needs escaping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "errevent.h"

static const struct errevent_conf conf = {
        .schema = "/error/1.0.0",
        .stream = "kafkatee-pipe.error.validation",
        .domain = "flow1001.eqiad.wmnet",
        .emitter_id = "kafkatee-pipe",
        .errored_schema_uri = "/netflow/flow/1.0.0",
        .errored_stream_name = "netflow",
};

static const char *field(struct json_object *o, const char *key)
{
        struct json_object *v;

        assert_true(json_object_object_get_ex(o, key, &v));
        assert_true(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

static void test_fields(void **state)
{
        const char *ev = "{\"bytes\": -1, \"q\": \"a\\\"b\\\\c\\n\", "
                         "\"u\": \"\xc3\xa9\"}";
        struct errevent_in in = {
                .event = ev, .event_len = strlen(ev),
                .message = "/bytes: -1 is less than the minimum 0 (minimum)",
                .id = "b95453ad-00af-4662-b3e8-03b56e6564f0",
                .now_ms = 1795422800123LL,
        };
        struct json_object *o, *meta;
        size_t len;
        char *text = errevent_build(&conf, &in, &len);

        (void)state;
        assert_non_null(text);
        assert_int_equal(len, strlen(text));
        assert_null(strchr(text, '\n'));
        assert_non_null(o = json_tokener_parse(text));
        assert_string_equal(field(o, "$schema"), "/error/1.0.0");
        assert_string_equal(field(o, "dt"), "2026-11-23T08:33:20.123Z");
        assert_string_equal(field(o, "emitter_id"), "kafkatee-pipe");
        assert_string_equal(field(o, "raw_event"), ev);
        assert_string_equal(field(o, "message"), in.message);
        assert_string_equal(field(o, "error_type"), "validation");
        assert_string_equal(field(o, "errored_schema_uri"),
                            "/netflow/flow/1.0.0");
        assert_string_equal(field(o, "errored_stream_name"), "netflow");
        assert_true(json_object_object_get_ex(o, "meta", &meta));
        assert_string_equal(field(meta, "stream"),
                            "kafkatee-pipe.error.validation");
        assert_string_equal(field(meta, "id"), in.id);
        assert_string_equal(field(meta, "dt"), "2026-11-23T08:33:20.123Z");
        assert_string_equal(field(meta, "domain"), "flow1001.eqiad.wmnet");
        assert_int_equal(json_object_object_length(o), 9);
        json_object_put(o);
        free(text);
}

/* An event holding NUL (from "\u0000") keeps it: raw_event has a length. */
static void test_raw_event_with_nul(void **state)
{
        static const char ev[] = "{\"a\": \"x\0y\"}";
        struct errevent_in in = {
                .event = ev, .event_len = sizeof(ev) - 1, .message = "m",
                .id = "b95453ad-00af-4662-b3e8-03b56e6564f0", .now_ms = 0,
        };
        struct json_object *o, *raw;
        size_t len;
        char *text = errevent_build(&conf, &in, &len);

        (void)state;
        assert_non_null(text);
        assert_non_null(strstr(text, "\\u0000"));
        assert_non_null(o = json_tokener_parse(text));
        assert_true(json_object_object_get_ex(o, "raw_event", &raw));
        assert_int_equal(json_object_get_string_len(raw), sizeof(ev) - 1);
        assert_memory_equal(json_object_get_string(raw), ev, sizeof(ev) - 1);
        json_object_put(o);
        free(text);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fields),
                cmocka_unit_test(test_raw_event_with_nul),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
