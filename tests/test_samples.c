/*
 * tests/test_samples.c: the real pmacct captures in examples/samples
 * ($KT_SAMPLES_DIR overrides), checked field by field against an
 * independent reading.  Run from the project root.
 */
#include <json-c/json.h>

#include "ttest.h"

/* ------------------------------------------------------------------ */
/* The real pmacct captures                                            */
/* ------------------------------------------------------------------ */

struct member {
        const char *k; /* with quotes */
        size_t kl;
        const char *v; /* raw */
        size_t vl;
};

/* Scans a flat pmacct record (no nested values). */
static int scan_flat(const char *s, size_t n, struct member *m, int max)
{
        size_t i = 0;
        int count = 0;
        while (i < n && is_json_ws(s[i]))
                i++;
        assert_true(i < n && s[i] == '{');
        i++;
        for (;;) {
                while (i < n && is_json_ws(s[i]))
                        i++;
                if (s[i] == '}')
                        break;
                assert_true(s[i] == '"');
                assert_true(count < max);
                size_t k0 = i++;
                while (s[i] != '"')
                        i += s[i] == '\\' ? 2 : 1;
                i++;
                m[count].k = s + k0;
                m[count].kl = i - k0;
                while (is_json_ws(s[i]))
                        i++;
                assert_true(s[i] == ':');
                i++;
                while (is_json_ws(s[i]))
                        i++;
                size_t v0 = i;
                if (s[i] == '"') {
                        i++;
                        while (s[i] != '"')
                                i += s[i] == '\\' ? 2 : 1;
                        i++;
                } else {
                        while (s[i] != ',' && s[i] != '}' && !is_json_ws(s[i]))
                                i++;
                }
                m[count].v = s + v0;
                m[count].vl = i - v0;
                count++;
                while (is_json_ws(s[i]))
                        i++;
                if (s[i] == ',') {
                        i++;
                        continue;
                }
                assert_true(s[i] == '}');
                break;
        }
        return count;
}

static const struct member *find(const struct member *m, int n,
                                 const char *key)
{
        size_t kl = strlen(key);
        for (int i = 0; i < n; i++)
                if (m[i].kl == kl + 2 && memcmp(m[i].k + 1, key, kl) == 0)
                        return &m[i];
        return NULL;
}

static int is_zero_time(const char *v, size_t n)
{
        return (n == 28 && memcmp(v, "\"0000-00-00 00:00:00.000000\"", n) == 0) ||
               (n == 10 && memcmp(v, "\"0.000000\"", n) == 0) ||
               (n == 3 && memcmp(v, "\"0\"", n) == 0) ||
               (n == 1 && v[0] == '0');
}

/* Independent: "YYYY-MM-DD HH:MM:SS[.ffffff]" local (UTC + offset) or epoch. */
static int64_t ref_time_ms(const struct member *v, int64_t offset_s)
{
        char buf[64];
        size_t n = v->vl;
        const char *p = v->v;
        if (p[0] == '"') {
                p++;
                n -= 2;
        }
        assert_true(n < sizeof buf);
        memcpy(buf, p, n);
        buf[n] = '\0';
        int frac_ms = 0;
        char *dot = strchr(buf, '.');
        if (dot) {
                char f[4] = "000";
                for (int i = 0; i < 3 && dot[1 + i]; i++)
                        f[i] = dot[1 + i];
                frac_ms = atoi(f);
        }
        if (strchr(buf, '-')) /* ms_of() reads up to the seconds */
                return ms_of(buf) - offset_s * 1000 + frac_ms;
        long long s = 0;
        assert_int_equal(sscanf(buf, "%lld", &s), 1);
        return (int64_t)s * 1000 + frac_ms;
}

/* The project's own captures: examples/samples, or $KT_SAMPLES_DIR. */
static FILE *open_sample(const char *name)
{
        const char *dir = getenv("KT_SAMPLES_DIR");
        char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir ? dir : "examples/samples",
                 name);
        if ((f = fopen(path, "rb")) == NULL) {
                print_error("sample %s: %s (run from the project root)\n",
                            path, strerror(errno));
                fail();
        }
        return f;
}

struct sample_run {
        const char *file;
        const char *const *dt_sources; /* NULL-terminated */
        const char *const *time_fields;
        int64_t offset_s;
        int expect_events, expect_markers;
        int64_t expect_purged;
};

/* One line of a capture, scanned independently of the transform. */
struct sample_line {
        const struct sample_run *r;
        int lineno;
        struct member m[64];
        int nm;
        const struct member *et; /* event_type */
};

/* The event as the transform should write it, built from the input. */
struct expected {
        char s[8192];
        size_t len;
        int fwd; /* members forwarded: the input's minus those dropped */
};

/* A marker (purge_init, purge_close) is skipped, but its counts kept. */
static void check_marker(const struct sample_line *l, enum kt_status st)
{
        if (st != KT_SKIP) {
                print_error("%s:%d: status %d, expected SKIP\n", l->r->file,
                            l->lineno, (int)st);
                fail();
        }
        if (memcmp(l->et->v, "\"purge_init\"", 12) == 0) {
                assert_int_equal(EV.marker, KT_MARKER_PURGE_INIT);
                assert_int_equal(EV.purged_entries, -1);
        } else {
                assert_int_equal(EV.marker, KT_MARKER_PURGE_CLOSE);
                assert_int_equal(EV.purged_entries, l->r->expect_purged);
        }
}

/* The event time, computed independently: the first dt source set. */
static int64_t expected_dt_ms(const struct sample_line *l)
{
        const char *const *s;
        const struct member *v;

        for (s = l->r->dt_sources; *s; s++) {
                v = find(l->m, l->nm, *s);
                if (v && !is_zero_time(v->v, v->vl))
                        return ref_time_ms(v, l->r->offset_s);
        }
        return TEST_INGEST_MS;
}

static int is_time_field(const struct sample_run *r, const struct member *m)
{
        const char *const *tf;

        for (tf = r->time_fields; tf && *tf; tf++)
                if (m->kl == strlen(*tf) + 2 &&
                    memcmp(m->k + 1, *tf, strlen(*tf)) == 0)
                        return 1;
        return 0;
}

/*
 * Appends one member as it should be forwarded: tcp_flags as a bare
 * integer, a time field in ISO 8601, or nothing when that time is zero.
 */
static void append_member(struct expected *x, const struct sample_run *r,
                          const struct member *m)
{
        const char *v = m->v;
        size_t vl = m->vl;
        char tbuf[32], iso[32];

        if (m->kl == 11 && memcmp(m->k, "\"tcp_flags\"", 11) == 0) {
                v++; /* integer field: bare integer */
                vl -= 2;
        }
        if (is_time_field(r, m)) {
                if (is_zero_time(m->v, m->vl))
                        return;
                ref_iso(ref_time_ms(m, r->offset_s), iso);
                vl = (size_t)snprintf(tbuf, sizeof tbuf, "\"%s\"", iso);
                v = tbuf;
        }
        x->len += (size_t)snprintf(x->s + x->len, sizeof x->s - x->len,
                                   ", %.*s: %.*s", (int)m->kl, m->k, (int)vl,
                                   v);
        x->fwd++;
}

/* The envelope with dt = ms, then every member but event_type, in order. */
static void build_expected(struct expected *x, const struct sample_line *l,
                           int64_t ms)
{
        char iso[32];
        int i;

        ref_iso(ms, iso);
        x->len = (size_t)snprintf(x->s, sizeof x->s, "%s%s\"", PREFIX, iso);
        x->fwd = 0;
        for (i = 0; i < l->nm; i++)
                if (&l->m[i] != l->et)
                        append_member(x, l->r, &l->m[i]);
        x->len += (size_t)snprintf(x->s + x->len, sizeof x->s - x->len, "}");
}

/* Byte for byte, showing both on a mismatch. */
static void check_output(const struct sample_line *l,
                         const struct expected *x)
{
        if (EV.value_len == x->len && memcmp(EV.value, x->s, x->len) == 0)
                return;
        print_error("%s:%d: output mismatch\nexpected:\n  %s\n"
                    "got:\n  ", l->r->file, l->lineno, x->s);
        show_bytes(EV.value, EV.value_len);
        print_error("\n");
        fail();
}

static const char *meta_string(struct json_object *meta, const char *key)
{
        return json_object_get_string(json_object_object_get(meta, key));
}

/*
 * A second opinion from json-c: valid JSON, exactly the input's members
 * minus event_type plus the envelope, in order.
 */
static void check_envelope(int fwd)
{
        struct json_object *o, *meta;
        char *copy;
        int idx = 0;

        assert_true(jsonc_accepts(EV.value, EV.value_len, KT_MAX_DEPTH));
        copy = strndup(EV.value, EV.value_len);
        assert_non_null(copy);
        o = json_tokener_parse(copy);
        assert_non_null(o);
        assert_true(json_object_is_type(o, json_type_object));
        json_object_object_foreach(o, key, val) {
                (void)val;
                if (idx == 0)
                        assert_string_equal(key, "$schema");
                else if (idx == 1)
                        assert_string_equal(key, "meta");
                else if (idx == 2)
                        assert_string_equal(key, "dt");
                idx++;
        }
        assert_int_equal(idx, 3 + fwd);
        meta = json_object_object_get(o, "meta");
        assert_non_null(meta);
        assert_string_equal(meta_string(meta, "stream"), STREAM);
        assert_string_equal(meta_string(meta, "id"), TEST_ID);
        assert_string_equal(meta_string(meta, "dt"), TEST_INGEST_ISO);
        assert_string_equal(meta_string(meta, "domain"), DOMAIN);
        json_object_put(o);
        tfree(copy);
}

/* The counters, textually: no rounding through a double on the way. */
static void check_counters(const struct sample_line *l)
{
        static const char *const ctr[] = { "packets", "bytes" };
        const struct member *v;
        char pat[64];
        int c, pl;

        for (c = 0; c < 2; c++) {
                v = find(l->m, l->nm, ctr[c]);
                assert_non_null(v);
                pl = snprintf(pat, sizeof pat, ", \"%s\": %.*s", ctr[c],
                              (int)v->vl, v->v);
                assert_non_null(memmem(EV.value, EV.value_len, pat,
                                       (size_t)pl));
        }
}

static void check_event(struct kt_transform *t, const struct sample_line *l,
                        enum kt_status st)
{
        struct expected x;
        int64_t ms;

        if (st != KT_EVENT) {
                print_error("%s:%d: status %d (%s), expected EVENT\n",
                            l->r->file, l->lineno, (int)st,
                            kt_transform_error(t));
                fail();
        }
        ms = expected_dt_ms(l);
        assert_int_equal(EV.timestamp_ms, ms);
        build_expected(&x, l, ms);
        check_output(l, &x);
        check_envelope(x.fwd);
        check_counters(l);
}

/* Every line of r->file through t, each checked against its own reading. */
static void check_sample(struct kt_transform *t, const struct sample_run *r)
{
        FILE *f = open_sample(r->file);
        struct sample_line l;
        char *line = NULL;
        size_t cap = 0, n;
        ssize_t got;
        int events = 0, markers = 0;
        enum kt_status st;

        l.r = r;
        l.lineno = 0;
        while ((got = getline(&line, &cap, f)) > 0) {
                l.lineno++;
                n = (size_t)got;
                if (n && line[n - 1] == '\n')
                        n--;
                l.nm = scan_flat(line, n, l.m,
                                 (int)(sizeof l.m / sizeof l.m[0]));
                l.et = find(l.m, l.nm, "event_type");
                assert_non_null(l.et);
                st = run(t, line, n);
                if (l.et->vl != 7) { /* not "purge": a marker */
                        markers++;
                        check_marker(&l, st);
                        continue;
                }
                check_event(t, &l, st);
                events++;
        }
        tfree(line);
        fclose(f);
        assert_int_equal(events, r->expect_events);
        assert_int_equal(markers, r->expect_markers);
}

static const char *const PROD_SOURCES[] = { "timestamp_start",
                                            "timestamp_arrival",
                                            "stamp_inserted", NULL };

static void test_sample_pmacctd_utc_plus_1(void **state)
{
        (void)state;
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        struct sample_run r = { "pmacctd-lo-json.jsonl", PROD_SOURCES, NULL,
                                3600, 60, 2, 60 };
        check_sample(t, &r);
        /* one line checked by hand: 2026-11-23 08:33:20.731040 at UTC+1 */
        expect_out(t, "{\"event_type\": \"purge\", \"tag\": 7, \"label\": \"\", "
                      "\"ip_src\": \"127.0.0.1\", \"ip_dst\": \"127.0.0.1\", "
                      "\"port_src\": 41640, \"port_dst\": 18080, \"tcp_flags\": "
                      "\"2\", \"ip_proto\": \"tcp\", \"tos\": 0, "
                      "\"timestamp_start\": \"2026-11-23 08:33:20.731040\", "
                      "\"timestamp_end\": \"0000-00-00 00:00:00.000000\", "
                      "\"export_proto_version\": 0, \"stamp_inserted\": "
                      "\"2026-11-23 08:33:00\", \"stamp_updated\": "
                      "\"2026-11-23 08:33:25\", \"packets\": 1, \"bytes\": 60}",
                   PFX("2026-11-23T07:33:20.731Z")
                   ", \"tag\": 7, \"label\": \"\", \"ip_src\": \"127.0.0.1\", "
                   "\"ip_dst\": \"127.0.0.1\", \"port_src\": 41640, "
                   "\"port_dst\": 18080, \"tcp_flags\": 2, \"ip_proto\": "
                   "\"tcp\", \"tos\": 0, \"timestamp_start\": "
                   "\"2026-11-23 08:33:20.731040\", \"timestamp_end\": "
                   "\"0000-00-00 00:00:00.000000\", \"export_proto_version\": "
                   "0, \"stamp_inserted\": \"2026-11-23 08:33:00\", "
                   "\"stamp_updated\": \"2026-11-23 08:33:25\", \"packets\": 1, "
                   "\"bytes\": 60}");
        assert_int_equal(EV.timestamp_ms, INT64_C(1795419200731));
        done(t);
}

static void test_sample_pmacctd_utc(void **state)
{
        (void)state;
        struct kt_transform *t = mk_prod(NULL, NULL);
        struct sample_run r = { "pmacctd-lo-json.jsonl", PROD_SOURCES, NULL,
                                0, 60, 2, 60 };
        check_sample(t, &r);
        done(t);
}

static void test_sample_pmacctd_time_fields(void **state)
{
        (void)state;
        static const char *const tf[] = { "timestamp_end", "stamp_updated",
                                          NULL };
        struct fixed_tz z = { 3600, 0, { 0 } };
        struct kt_transform *t = mk_prod(fixed_fn, &z);
        assert_int_equal(kt_transform_time(t, "timestamp_end"), 0);
        assert_int_equal(kt_transform_time(t, "stamp_updated"), 0);
        struct sample_run r = { "pmacctd-lo-json.jsonl", PROD_SOURCES, tf,
                                3600, 60, 2, 60 };
        check_sample(t, &r);
        done(t);
}

static void test_sample_nfacctd(void **state)
{
        (void)state;
        /* epoch times: the collector's zone does not matter, not even a
         * failing fn */
        int calls = 0;
        struct kt_transform *t = mk_prod(fail_fn, &calls);
        struct sample_run r = { "nfacctd-ipfix-epoch.jsonl", PROD_SOURCES,
                                NULL, 0, 120, 2, 120 };
        check_sample(t, &r);
        assert_int_equal(calls, 0);
        /* a line by hand: timestamp_start 1795422833.000000 */
        expect_out(t, "{\"event_type\": \"purge\", \"peer_ip_src\": "
                      "\"127.0.0.1\", \"tcp_flags\": \"27\", \"timestamp_start\":"
                      " \"1795422833.000000\", \"timestamp_end\": \"0.000000\", "
                      "\"timestamp_arrival\": \"1795422833.769141\", "
                      "\"packets\": 6, \"bytes\": 399}",
                   PFX("2026-11-23T08:33:53.000Z")
                   ", \"peer_ip_src\": \"127.0.0.1\", \"tcp_flags\": 27, "
                   "\"timestamp_start\": \"1795422833.000000\", "
                   "\"timestamp_end\": \"0.000000\", \"timestamp_arrival\": "
                   "\"1795422833.769141\", \"packets\": 6, \"bytes\": 399}");
        done(t);
}

static void test_sample_nfacctd_arrival(void **state)
{
        (void)state;
        /* timestamp_end is always zero there: dt comes from the arrival */
        static const char *const src[] = { "timestamp_end", "timestamp_arrival",
                                           NULL };
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_end"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_arrival"), 0);
        assert_int_equal(kt_transform_integer(t, "tcp_flags"), 0);
        struct sample_run r = { "nfacctd-ipfix-epoch.jsonl", src, NULL, 0, 120,
                                2, 120 };
        check_sample(t, &r);
        expect_out(t, "{\"timestamp_end\": \"0.000000\", \"timestamp_arrival\": "
                      "\"1795422833.769141\"}",
                   PFX("2026-11-23T08:33:53.769Z")
                   ", \"timestamp_end\": \"0.000000\", \"timestamp_arrival\": "
                   "\"1795422833.769141\"}");
        done(t);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_sample_pmacctd_utc_plus_1, cleanup),
                cmocka_unit_test_teardown(test_sample_pmacctd_utc, cleanup),
                cmocka_unit_test_teardown(test_sample_pmacctd_time_fields, cleanup),
                cmocka_unit_test_teardown(test_sample_nfacctd, cleanup),
                cmocka_unit_test_teardown(test_sample_nfacctd_arrival, cleanup),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
