/*
 * tests/test_evedit.c: events written again with changes (evedit.h):
 * values set, members dropped (the first, the last, one with children,
 * neighbours), members added; the text is strict JSON, the index says
 * what the text says (tests/indexcheck.h), the names key takes the
 * stages' part; and at random, against a json-c model of the result.
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

#include "evedit.h"
#include "indexcheck.h"
#include "jsonscan.h"

static const char LINE[] = "{\"event_type\": \"purge\", \"ip_src\": "
        "\"10.0.0.1\", \"ip_dst\": \"2001:db8::1\", \"port_src\": 443, "
        "\"tcp_flags\": \"24\", \"nested\": [1, {\"a\": 2}], \"bytes\": 1200}";

struct fixture {
        struct kt_transform *t;
        struct kt_event      ev;
        struct ev_editor     ed;
        struct ev_edits      e;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct kt_input in = { "b95453ad-00af-4662-b3e8-03b56e6564f0",
                               1795422800123LL, 7 };

        assert_non_null(f);
        f->t = ixc_transform();
        assert_non_null(f->t);
        assert_int_equal(kt_transform_set_sequence(f->t, "sequence",
                                                   "sequence_run", "r1"), 0);
        /* twice: the second line follows the shape and has a key */
        assert_int_equal(kt_transform_line(f->t, LINE, strlen(LINE), &in,
                                           &f->ev), KT_EVENT);
        assert_int_equal(kt_transform_line(f->t, LINE, strlen(LINE), &in,
                                           &f->ev), KT_EVENT);
        assert_true(f->ev.index.names.shape != 0);
        ev_edits_reset(&f->e);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        ev_editor_free(&f->ed);
        kt_transform_free(f->t);
        free(f);
        return 0;
}

/* The top-level entry of the member named name. */
static size_t entry_of(const struct kt_event *ev, const char *name)
{
        size_t i;

        for (i = 0; i < ev->index.n;
             i += 1 + (ev->index.m[i].children > 0 ?
                       (size_t)ev->index.m[i].children : 0))
                if (ev->index.m[i].name_len == strlen(name) &&
                    memcmp(ev->index.m[i].name, name, strlen(name)) == 0)
                        return i;
        fail_msg("no member %s", name);
        return 0;
}

/* ev is strict JSON, its index true; its text is want. */
static void is_event(const struct kt_event *ev, const char *want)
{
        char why[1024];

        if (kt_json_check(ev->value, ev->value_len, why, sizeof(why)) == -1)
                fail_msg("%.*s: %s", (int)ev->value_len, ev->value, why);
        if (kt_index_check(ev->value, ev->value_len, ev->index.m,
                           ev->index.n, why, sizeof(why)) == -1)
                fail_msg("%.*s: %s", (int)ev->value_len, ev->value, why);
        if (want != NULL && (strlen(want) != ev->value_len ||
                             memcmp(want, ev->value, ev->value_len) != 0))
                fail_msg("got  %.*s\nwant %s", (int)ev->value_len, ev->value,
                         want);
}

static const char HEAD[] = "{\"$schema\": \"/netflow/flow/1.1.0\", "
        "\"meta\": {\"stream\": \"netflow\", \"id\": "
        "\"b95453ad-00af-4662-b3e8-03b56e6564f0\", \"dt\": "
        "\"2026-11-23T08:33:20.123Z\", \"domain\": \"edge1\"}, \"dt\": "
        "\"2026-11-23T08:33:20.123Z\", \"sequence\": 7, \"sequence_run\": "
        "\"r1\", ";

static void test_nothing_to_do(void **state)
{
        struct fixture *f = *state;
        const char *before = f->ev.value;

        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), 0);
        assert_ptr_equal(f->ev.value, before);
        is_event(&f->ev, NULL);
}

static void test_set_drop_add(void **state)
{
        struct fixture *f = *state;
        char want[2048];

        assert_int_equal(ev_set(&f->e, entry_of(&f->ev, "ip_src"),
                                KT_J_STRING, "10.0.0.0", 8), 0);
        assert_int_equal(ev_drop(&f->e, entry_of(&f->ev, "ip_dst")), 0);
        assert_int_equal(ev_set(&f->e, entry_of(&f->ev, "port_src"),
                                KT_J_NULL, "null", 4), 0);
        assert_int_equal(ev_add(&f->e, "country_src", 11, KT_J_STRING, "NL",
                                2), 0);
        assert_int_equal(ev_add(&f->e, "as_src", 6, KT_J_NUMBER, "1103", 4),
                         0);
        f->e.names = 5;
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), 0);
        snprintf(want, sizeof(want), "%s\"ip_src\": \"10.0.0.0\", \"port_src\": null, "
                 "\"tcp_flags\": \"24\", \"nested\": [1, {\"a\": 2}], "
                 "\"bytes\": 1200, \"country_src\": \"NL\", \"as_src\": "
                 "1103}", HEAD);
        is_event(&f->ev, want);
        assert_true(f->ev.index.names.stages == 5);
}

static void test_drop_first_last_and_children(void **state)
{
        struct fixture *f = *state;
        char want[2048];

        assert_int_equal(ev_drop(&f->e, 0), 0); /* $schema */
        assert_int_equal(ev_drop(&f->e, 1), 0); /* meta, with its four */
        assert_int_equal(ev_drop(&f->e, entry_of(&f->ev, "bytes")), 0);
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), 0);
        snprintf(want, sizeof(want), "{\"dt\": \"2026-11-23T08:33:20.123Z\", "
                 "\"sequence\": 7, \"sequence_run\": \"r1\", \"ip_src\": \"10.0.0.1\", "
                 "\"ip_dst\": "
                 "\"2001:db8::1\", \"port_src\": 443, \"tcp_flags\": \"24\", "
                 "\"nested\": [1, {\"a\": 2}]}");
        is_event(&f->ev, want);
}

static void test_everything_dropped_then_added(void **state)
{
        struct fixture *f = *state;
        struct ev_editor ed2 = { NULL, 0, NULL, 0 };
        size_t i;

        for (i = 0; i < f->ev.index.n;
             i += 1 + (f->ev.index.m[i].children > 0 ?
                       (size_t)f->ev.index.m[i].children : 0))
                assert_int_equal(ev_drop(&f->e, i), 0);
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), 0);
        is_event(&f->ev, "{}");
        assert_int_equal(f->ev.index.n, 0);
        /* another editor: an event is never written over itself */
        ev_edits_reset(&f->e);
        assert_int_equal(ev_add(&f->e, "ip_version", 10, KT_J_NUMBER, "4", 1),
                         0);
        assert_int_equal(ev_apply(&ed2, &f->ev, &f->e), 0);
        is_event(&f->ev, "{\"ip_version\": 4}");
        ev_editor_free(&ed2);
}

static void test_refused(void **state)
{
        struct fixture *f = *state;
        size_t i;

        /* out of order, twice, a child entry, full */
        assert_int_equal(ev_drop(&f->e, 5), 0);
        assert_int_equal(ev_drop(&f->e, 5), -1);
        assert_int_equal(ev_drop(&f->e, 3), -1);
        ev_edits_reset(&f->e);
        assert_int_equal(ev_drop(&f->e, 2), 0); /* meta's first child */
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), -1);
        ev_edits_reset(&f->e);
        assert_int_equal(ev_set(&f->e, 1, KT_J_NULL, "null", 4), 0); /* meta */
        assert_int_equal(ev_apply(&f->ed, &f->ev, &f->e), -1);
        ev_edits_reset(&f->e);
        for (i = 0; i < EV_EDITS_MAX; i++)
                assert_int_equal(ev_add(&f->e, "x", 1, KT_J_NULL, "null", 4),
                                 0);
        assert_int_equal(ev_add(&f->e, "x", 1, KT_J_NULL, "null", 4), -1);
}

/*
 * An event in another form than the transform's (other spaces, the same
 * length): the lengths do not place its members, so it is walked, and
 * what is kept stays as it was written.
 */
static void test_other_form(void **state)
{
        static const char text[] = "{\"a\" :1, \"b\":\"x\" , \"c\": "
                                   "{\"d\":2}}";
        struct fixture *f = *state;
        struct kt_member ix[3] = {
                { "a", text + 6, 1, 1, KT_J_NUMBER, 0, 0, 0, 0 },
                { "b", text + 14, 1, 1, KT_J_STRING, 0, 0, 0, 0 },
                { "c", text + 24, 1, 7, KT_J_OBJECT, 0, 0, 0, -1 },
        };
        struct kt_event ev = f->ev;

        ev.value = text;
        ev.value_len = strlen(text);
        ev.index.m = ix;
        ev.index.n = 3;
        assert_int_equal(ev_drop(&f->e, 0), 0);
        assert_int_equal(ev_set(&f->e, 1, KT_J_STRING, "y", 1), 0);
        assert_int_equal(ev_apply(&f->ed, &ev, &f->e), 0);
        is_event(&ev, "{\"b\":\"y\", \"c\": {\"d\":2}}");
}

static struct json_object *parse(const char *p, size_t len)
{
        struct json_tokener *tok = json_tokener_new();
        struct json_object *o;

        assert_non_null(tok);
        o = json_tokener_parse_ex(tok, p, (int)len);
        json_tokener_free(tok);
        assert_non_null(o);
        return o;
}

/* A random round's state: the edits and the json-c model of the result. */
struct round {
        struct ev_edits     e;
        struct json_object *model;
        char                val[32][16];
        unsigned long       rnd;
};

static unsigned long draw(struct round *r)
{
        r->rnd = r->rnd * 6364136223846793005UL + 1442695040888963407UL;
        return r->rnd;
}

/* Top-level member k (entry top) named name: kept, set or dropped. */
static void random_member(struct round *r, const struct kt_event *ev,
                          size_t top, size_t k, const char *name,
                          struct json_object *value)
{
        switch (draw(r) >> 61) {
        case 0:
                assert_int_equal(ev_drop(&r->e, top), 0);
                r->e.names |= 1u << k;
                return;
        case 1:
                if (ev->index.m[top].children > 0)
                        break; /* meta: kept or dropped */
                snprintf(r->val[k], sizeof(r->val[k]), "v%zu", k);
                assert_int_equal(ev_set(&r->e, top, KT_J_STRING, r->val[k],
                                        strlen(r->val[k])), 0);
                json_object_object_add(r->model, name,
                                       json_object_new_string(r->val[k]));
                return;
        }
        json_object_object_add(r->model, name, json_object_get(value));
}

/* Up to 3 members added; the stages' names say how many. */
static void random_adds(struct round *r)
{
        size_t k, n = (draw(r) >> 40) % 4;

        for (k = 0; k < n; k++) {
                snprintf(r->val[16 + k], sizeof(r->val[0]), "added%zu", k);
                assert_int_equal(ev_add(&r->e, r->val[16 + k],
                                        strlen(r->val[16 + k]), KT_J_NUMBER,
                                        "1", 1), 0);
                json_object_object_add(r->model, r->val[16 + k],
                                       json_object_new_int(1));
        }
        r->e.names |= (uint64_t)n << 32;
}

/* At random: each top-level member kept, set or dropped, and members
 * added; the result against a json-c model built from the original, and
 * the names keys against the names they stand for. */
static void test_random(void **state)
{
        struct fixture *f = *state;
        struct json_object *orig, *got;
        struct kt_key_check keys = { .n = 0 };
        struct round r = { .rnd = 12345 };
        char why[1024];
        size_t i, k, top[64], ntop = 0;

        for (i = 0; i < f->ev.index.n;
             i += 1 + (f->ev.index.m[i].children > 0 ?
                       (size_t)f->ev.index.m[i].children : 0))
                top[ntop++] = i;
        orig = parse(f->ev.value, f->ev.value_len);
        for (int round = 0; round < 2000; round++) {
                struct kt_event ev = f->ev;

                ev_edits_reset(&r.e);
                r.model = json_object_new_object();
                k = 0;
                json_object_object_foreach(orig, name, value) {
                        random_member(&r, &ev, top[k], k, name, value);
                        k++;
                }
                random_adds(&r);
                assert_int_equal(ev_apply(&f->ed, &ev, &r.e), 0);
                is_event(&ev, NULL);
                if (kt_key_check(&keys, &ev.index, why, sizeof(why)) == -1)
                        fail_msg("%s", why);
                got = parse(ev.value, ev.value_len);
                if (!json_object_equal(got, r.model))
                        fail_msg("got %.*s\nmodel %s", (int)ev.value_len,
                                 ev.value, json_object_to_json_string(r.model));
                json_object_put(got);
                json_object_put(r.model);
        }
        json_object_put(orig);
        kt_key_check_free(&keys);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_nothing_to_do, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_set_drop_add, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        test_drop_first_last_and_children, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_everything_dropped_then_added, setup, teardown),
                cmocka_unit_test_setup_teardown(test_other_form, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_random, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
