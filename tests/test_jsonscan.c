/*
 * tests/test_jsonscan.c: the strict scanner (RFC 8259, UTF-8, depth),
 * alone (kt_json_check) and through kt_transform_line, against json-c.
 * KT_TEST_VERBOSE=1 lists every input on which json-c disagrees with
 * RFC 8259.  See tests/ttest.h for the reference and its quirks.
 */
#include "ttest.h"

/* kt_json_check()'s message. */
static char jerr[256];

/* ------------------------------------------------------------------ */
/* Invalid input                                                       */
/* ------------------------------------------------------------------ */

static void test_invalid_not_json(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_invalid(t, L(""));
        expect_invalid(t, L(" "));
        expect_invalid(t, L("\r\n"));
        expect_inv(t, "hello");
        expect_inv(t, "{\"a\": 1");
        expect_inv(t, "{\"a\": }");
        expect_inv(t, "{\"a\" 1}");
        expect_inv(t, "{\"a\": 1,}");
        expect_inv(t, "{'a': 1}");
        expect_inv(t, "pmacctd: shutting down");
        expect_inv(t, "{\"event_type\": \"purge\", \"ip_src\": \"127.0.0.1\", "
                      "\"ip_dst\": \"127.0.0.1\", \"port_src\": 4{\"event_type\"");
        expect_inv(t, "{\"a\": 1}{\"b\": 2}");
        done(t);
}

static void test_invalid_not_object(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *v[] = { "[1, 2]", "[]", "[{\"a\": 1}]", "\"x\"", "5",
                            "-1.5", "null", "true", "false", " [1] " };
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
                expect_inv(t, v[i]);
        done(t);
}

static void test_invalid_trailing_garbage(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_inv(t, "{\"a\": 1} x");
        expect_inv(t, "{\"a\": 1}}");
        expect_inv(t, "{\"a\": 1}]");
        expect_inv(t, "{\"a\": 1},");
        expect_inv(t, "{\"a\": 1} {}");
        expect_inv(t, "{\"a\": 1}\x0b");
        expect_inv(t, "{\"a\": 1}\x0c");
        expect_inv(t, "{\"a\": 1}\xc2\xa0");
        expect_inv(t, "{\"a\": 1}\x1f");
        expect_inv(t, "{\"a\": 1}//");
        done(t);
}

static void test_invalid_nul_byte(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        expect_invalid(t, L("{\"a\": \"x\0y\"}"));
        expect_invalid(t, L("{\"a\": 1}\0"));
        expect_invalid(t, L("{\"a\": 1}\0 "));
        expect_invalid(t, L("\0{\"a\": 1}"));
        expect_invalid(t, L("{\"a\"\0: 1}"));
        expect_invalid(t, L("{\"a\0\": 1}"));
        expect_invalid(t, L("{\"a\": 1\0}"));
        expect_invalid(t, L("{\"a\": [1,\0 2]}"));
        expect_invalid(t, L("\0"));
        /* the length is authoritative: a NUL right after it is not read */
        expect_output(t, "{\"a\": 1}\0garbage", 8, PFX_INGEST ", \"a\": 1}");
        expect_output(t, "{\"a\": 1}}}}", 8, PFX_INGEST ", \"a\": 1}");
        done(t);
}

static void test_invalid_utf8(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        static const char *const bad[] = {
                "\xc0\x80", "\xc0\xaf", "\xc1\xbf",     /* overlong 2 */
                "\xe0\x80\x80", "\xe0\x9f\xbf",         /* overlong 3 */
                "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", /* overlong 4 */
                "\xed\xa0\x80", "\xed\xbf\xbf",         /* surrogates */
                "\xed\xa0\xbd\xed\xb8\x80",             /* a UTF-8 pair */
                "\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf", /* > U+10FFFF */
                "\xf5\x80\x80\x80",
                "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80",
                "\xfe", "\xff",
                "\xc3", "\xe2\x82", "\xf0\x9f\x98",     /* truncated */
                "\xc3" "a", "\xe2\x82" "a", "\xf0\x9f" "a",
                "\x80", "\xbf", "a\x80", "\xc3\xa9\xa9", /* stray cont. */
                "\xe2\x28\xa1",
        };
        char line[128];
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(line, sizeof line, "{\"a\": \"%s\"}", bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": \"x%sy\", \"b\": 1}",
                         bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"k%s\": 1}", bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": [\"%s\"]}", bad[i]);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": {\"%s\": 1}}", bad[i]);
                expect_inv(t, line);
        }
        /* outside strings, any non-ASCII byte is an error */
        expect_inv(t, "\xef\xbb\xbf{\"a\": 1}"); /* BOM */
        expect_inv(t, "\xc2\xa0{\"a\": 1}");     /* NBSP */
        expect_inv(t, "{\"a\":\xc2\xa0" "1}");
        expect_inv(t, "\xe2\x80\xa8{\"a\": 1}");
        done(t);
}

static void test_invalid_control_chars(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        char line[64];
        for (int c = 1; c < 0x20; c++) {
                snprintf(line, sizeof line, "{\"a\": \"x%cy\"}", c);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"k%c\": 1}", c);
                expect_inv(t, line);
                snprintf(line, sizeof line, "{\"a\": [\"%c\"]}", c);
                expect_inv(t, line);
        }
        /* DEL and escaped controls are fine */
        expect_out(t, "{\"a\": \"x\x7fy\\u0001\\u001f\\t\"}",
                   PFX_INGEST ", \"a\": \"x\x7fy\\u0001\\u001f\\t\"}");
        done(t);
}

static void test_whitespace_around_object(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        const char *exp = PFX_INGEST ", \"a\": 1}";
        expect_out(t, " {\"a\": 1}", exp);
        expect_out(t, "{\"a\": 1} ", exp);
        expect_out(t, "\t\r\n {\"a\": 1}\r\n\t ", exp);
        expect_out(t, "{\"a\": 1}\r", exp);
        expect_out(t, "{\"a\": 1}\n", exp);
        expect_inv(t, "\x0b{\"a\": 1}");
        expect_inv(t, "\x0c{\"a\": 1}");
        expect_inv(t, "{\"a\":\x0b" "1}");
        expect_inv(t, "{\"a\":\x0c" "1}");
        expect_inv(t, "{\x0c\"a\": 1}");
        done(t);
}

/* ------------------------------------------------------------------ */
/* Depth                                                               */
/* ------------------------------------------------------------------ */

/* {"a": [[...[ <inner> ]...]]} with `arrays` brackets around inner */
static char *nested(int arrays, const char *inner, size_t *len)
{
        size_t n = 6 + 2 * (size_t)arrays + strlen(inner) + 1;
        char *s = tmalloc(n + 1);
        assert_non_null(s);
        size_t o = 0;
        memcpy(s, "{\"a\": ", 6);
        o = 6;
        memset(s + o, '[', (size_t)arrays);
        o += (size_t)arrays;
        memcpy(s + o, inner, strlen(inner));
        o += strlen(inner);
        memset(s + o, ']', (size_t)arrays);
        o += (size_t)arrays;
        s[o++] = '}';
        s[o] = '\0';
        *len = o;
        return s;
}

static char *arrays_only(int n, const char *inner, size_t *len)
{
        size_t l = 2 * (size_t)n + strlen(inner);
        char *s = tmalloc(l + 1);
        assert_non_null(s);
        memset(s, '[', (size_t)n);
        memcpy(s + n, inner, strlen(inner));
        memset(s + n + strlen(inner), ']', (size_t)n);
        s[l] = '\0';
        *len = l;
        return s;
}

struct depth_case {
        int arrays;        /* brackets between the top object and inner */
        const char *inner;
        int accept;
};

static void run_depth_cases(const struct depth_case *c, size_t n)
{
        int failures = 0;
        for (size_t i = 0; i < n; i++) {
                size_t len;
                char *s = nested(c[i].arrays, c[i].inner, &len);
                int jc = jsonc_accepts(s, len, KT_MAX_DEPTH);
                struct kt_transform *t = mk();
                int ck = kt_json_check(s, len, jerr, sizeof jerr) == 0;
                enum kt_status st = run(t, s, len);
                if (jc != c[i].accept) {
                        print_error("depth case %zu: json-c new_ex(%d) says %d, "
                                    "test expects %d\n", i, KT_MAX_DEPTH, jc,
                                    c[i].accept);
                        failures++;
                }
                if (ck != c[i].accept ||
                    st != (c[i].accept ? KT_EVENT : KT_INVALID)) {
                        print_error("depth: {\"a\": %d x '[' %s }: expected %s, "
                                    "kt_json_check %s, kt_transform_line %d\n",
                                    c[i].arrays, c[i].inner,
                                    c[i].accept ? "accept" : "reject",
                                    ck ? "accepts" : "rejects", (int)st);
                        failures++;
                }
                done(t);
                tfree(s);
        }
        assert_int_equal(failures, 0);
}

/* Cases where every reading of "depth 64" agrees. */
static void test_depth_limits(void **state)
{
        (void)state;
        /* containers: 1 (top object) + arrays + 1 (inner container) */
        static const struct depth_case cases[] = {
                { 0, "[1]", 1 },
                { 61, "[1]", 1 },            /* 63 containers, scalar at 64 */
                { 61, "{\"b\": \"s\"}", 1 },  /* idem, in an object */
                { 62, "[]", 1 },             /* 64 containers, innermost empty */
                { 62, "{}", 1 },
                { 63, "[]", 0 },             /* 65 containers */
                { 63, "{}", 0 },
                { 63, "[1]", 0 },
                { 64, "[]", 0 },
                { 200, "1", 0 },
        };
        run_depth_cases(cases, sizeof cases / sizeof cases[0]);

        /* the same limits for a top-level value in kt_json_check */
        struct kt_transform *t = mk();
        size_t len;
        char *s;
        s = arrays_only(64, "", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 1);
        assert_int_equal(kt_json_check(s, len, jerr, sizeof jerr), 0);
        tfree(s);
        s = arrays_only(63, "1", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 1);
        assert_int_equal(kt_json_check(s, len, jerr, sizeof jerr), 0);
        tfree(s);
        s = arrays_only(65, "", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 0);
        assert_int_equal(kt_json_check(s, len, jerr, sizeof jerr), -1);
        tfree(s);
        s = arrays_only(65, "1", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 0);
        assert_int_equal(kt_json_check(s, len, jerr, sizeof jerr), -1);
        tfree(s);
        done(t);
}

/*
 * The boundary the spec leaves to the json-c reference: a scalar inside the
 * 64th nested container is a value at depth 65 (json-c new_ex(64) rejects
 * it).  An implementation that counts containers only would accept it.
 */
static void test_depth_boundary_value_depth(void **state)
{
        (void)state;
        static const struct depth_case cases[] = {
                { 62, "[1]", 0 },         /* 64 containers + scalar at 65 */
                { 62, "{\"b\": 1}", 0 },
                { 62, "[[]]", 0 },        /* 65 containers */
        };
        run_depth_cases(cases, sizeof cases / sizeof cases[0]);
        struct kt_transform *t = mk();
        size_t len;
        char *s = arrays_only(64, "1", &len);
        assert_int_equal(jsonc_accepts(s, len, KT_MAX_DEPTH), 0);
        assert_int_equal(kt_json_check(s, len, jerr, sizeof jerr), -1);
        tfree(s);
        done(t);
}

/*
 * Pathological nesting must be rejected without a crash: recursion is
 * bounded by KT_MAX_DEPTH, not by the input.  (The wall-clock bound that
 * was here is gone: no test asserts a timing.  The fuzz run's big seeds,
 * under -timeout, are what catches a pass that stops being linear.)
 */
#define DEEP_N 100000

static void check_deep_(struct kt_transform *t, const char *s, size_t len,
                        const char *file, int line)
{
        expect_invalid_(t, s, len, file, line);
        assert_int_equal(kt_json_check(s, len, jerr, sizeof jerr), -1);
}
#define check_deep(t, s, len) check_deep_((t), (s), (len), __FILE__, __LINE__)

static void test_deep_nesting_no_crash(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        size_t n = DEEP_N, len;
        char *s = nested((int)n, "1", &len);
        /* unbalanced: only opening brackets */
        check_deep(t, s, n / 2);
        check_deep(t, s, len);
        tfree(s);
        char *o = tmalloc(6 * n + 16);
        assert_non_null(o);
        size_t l = 0;
        for (size_t i = 0; i < n; i++) {
                memcpy(o + l, "{\"a\":", 5);
                l += 5;
        }
        memcpy(o + l, "1", 1);
        l += 1;
        memset(o + l, '}', n);
        l += n;
        check_deep(t, o, l);
        tfree(o);
        done(t);
}

/*
 * Many members (past the small table of the duplicate check): a line of
 * 60000 members is taken, and a twin at its end is found.
 */
#define WIDE_N 60000

static void test_wide_record(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        assert_int_equal(kt_transform_drop(t, "k7"), 0);
        char *s = tmalloc((size_t)WIDE_N * 24 + 64);
        assert_non_null(s);
        size_t l = 0;
        s[l++] = '{';
        for (size_t i = 0; i < WIDE_N; i++)
                l += (size_t)sprintf(s + l, "%s\"k%zu\": %zu", i ? ", " : "",
                                     i, i);
        s[l++] = '}';
        assert_int_equal(run(t, s, l), KT_EVENT);
        /* the same with a duplicate of the first key at the end */
        l--;
        l += (size_t)sprintf(s + l, ", \"k0\": 1}");
        assert_int_equal(run(t, s, l), KT_INVALID);
        assert_non_null(strstr(kt_transform_error(t), "duplicate key \"k0\""));
        tfree(s);
        done(t);
}

/* Strict UTF-8 (RFC 3629). */
static int utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                unsigned char c = s[i];
                int len;
                unsigned lo = 0x80, hi = 0xbf;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        if (c == 0xe0) lo = 0xa0;
                        if (c == 0xed) hi = 0x9f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        if (c == 0xf0) lo = 0x90;
                        if (c == 0xf4) hi = 0x8f;
                } else {
                        return 0;
                }
                if (i + (size_t)len > n || s[i + 1] < lo || s[i + 1] > hi)
                        return 0;
                for (int k = 2; k < len; k++)
                        if ((s[i + (size_t)k] & 0xc0) != 0x80)
                                return 0;
                i += (size_t)len;
        }
        return 1;
}

/*
 * kt_transform_error() ends up in the "message" of an error event (JSON):
 * it must be one line of valid UTF-8 text without control characters, even
 * when it quotes (and cuts) multi-byte input.
 */
static void test_error_message_is_clean_text(void **state)
{
        (void)state;
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "ts"), 0);
        assert_int_equal(kt_transform_integer(t, "n"), 0);
        char e[64 * 2 + 1] = "";
        for (int i = 0; i < 64; i++)
                strcat(e, "\xc3\xa9");
        char lines[8][1024];
        snprintf(lines[0], 1024, "{\"ts\": \"a%s\"}", e);
        snprintf(lines[1], 1024, "{\"ts\": \"%s\"}", e);
        snprintf(lines[2], 1024, "{\"n\": \"a%s\"}", e);
        snprintf(lines[3], 1024, "{\"n\": \"%s\"}", e);
        snprintf(lines[4], 1024, "{\"a%s%s\": 1, \"a%s%s\": 2}", e, e, e, e);
        snprintf(lines[5], 1024, "{\"%s%s\": 1, \"%s%s\": 2}", e, e, e, e);
        snprintf(lines[6], 1024, "{\"ts\": \"\xe6\x97\xa5%s\"}", e);
        snprintf(lines[7], 1024, "{\"n\": \"\xf0\x9f\x98\x80%s\"}", e);
        int failures = 0;
        for (int i = 0; i < 8; i++) {
                expect_inv(t, lines[i]);
                const char *m = kt_transform_error(t);
                size_t n = strlen(m);
                int ctl = 0;
                for (size_t k = 0; k < n; k++)
                        if ((unsigned char)m[k] < 0x20 || m[k] == 0x7f)
                                ctl = 1;
                if (!utf8_valid((const unsigned char *)m, n) || ctl) {
                        print_error("message for %.40s... is not clean UTF-8 "
                                    "text:\n  ", lines[i]);
                        show_bytes(m, n);
                        print_error("\n");
                        failures++;
                }
        }
        done(t);
        assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */
/* Differential test against json-c                                    */
/* ------------------------------------------------------------------ */

struct jcase {
        const char *s;
        size_t n;
        int rfc;   /* valid per RFC 8259 (strict UTF-8, no NaN/Infinity) */
        int jsonc; /* json-c 0.16 strict verdict, as observed */
        const char *lit;
};
#define E(s, r, j) { s, sizeof(s) - 1, r, j, #s }

/* Generated, then reviewed by hand: rfc from Python's json (strict UTF-8
 * decoding, NaN/Infinity refused), jsonc from json-c 0.16 as described at the
 * top of this file.  Every entry is used as a whole value and as the value
 * of a member {"x": <v>}. */
static const struct jcase CORPUS[] = {
        E("0", 1, 1),
        E("-0", 1, 1),
        E("1", 1, 1),
        E("-1", 1, 1),
        E("01", 0, 0),
        E("-01", 0, 1),
        E("00", 0, 1),
        E("-00", 0, 1),
        E("007", 0, 0),
        E("1.", 0, 1),
        E("-1.", 0, 1),
        E(".5", 0, 0),
        E("-.5", 0, 1),
        E("1.5", 1, 1),
        E("0.5", 1, 1),
        E("-0.0", 1, 1),
        E("1e5", 1, 1),
        E("1E5", 1, 1),
        E("1e+5", 1, 1),
        E("1E+5", 1, 1),
        E("1e-5", 1, 1),
        E("1.5e-5", 1, 1),
        E("1.e5", 0, 1),
        E("1e", 0, 0),
        E("1e+", 0, 0),
        E("1e-", 0, 0),
        E("1E+-5", 0, 0),
        E("1e5.5", 0, 0),
        E("1.5.5", 0, 0),
        E("--1", 0, 0),
        E("-", 0, 0),
        E("+", 0, 0),
        E("+1", 0, 0),
        E("+0", 0, 0),
        E("1e999", 1, 1),
        E("-1e-999", 1, 1),
        E("1e999999999", 1, 1),
        E("1.0e3", 1, 1),
        E("18446744073709551615", 1, 1),
        E("18446744073709551616", 1, 1),
        E("-9223372036854775808", 1, 1),
        E("-9223372036854775809", 1, 1),
        E("1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111", 1, 1),
        E("-9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999", 1, 1),
        E("0.1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111", 1, 1),
        E("1111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111e-400", 1, 1),
        E("NaN", 0, 1),
        E("nan", 0, 0),
        E("-NaN", 0, 0),
        E("Infinity", 0, 1),
        E("-Infinity", 0, 1),
        E("infinity", 0, 0),
        E("INF", 0, 0),
        E("inf", 0, 0),
        E("0x10", 0, 0),
        E("0X1F", 0, 0),
        E("1_000", 0, 0),
        E("1,5", 0, 0),
        E("0e0", 1, 1),
        E("0E-0", 1, 1),
        E("-0e+0", 1, 1),
        E("2.", 0, 1),
        E("1..2", 0, 0),
        E("1e5e5", 0, 0),
        E("1ee5", 0, 0),
        E("0123.5", 0, 1),
        E("0.5e", 0, 0),
        E("e5", 0, 0),
        E("E5", 0, 0),
        E("1 2", 0, 0),
        E("- 1", 0, 0),
        E("1-", 0, 0),
        E("12a", 0, 0),
        E("true", 1, 1),
        E("false", 1, 1),
        E("null", 1, 1),
        E("tru", 0, 0),
        E("nul", 0, 0),
        E("fals", 0, 0),
        E("True", 0, 0),
        E("TRUE", 0, 0),
        E("False", 0, 0),
        E("Null", 0, 0),
        E("NULL", 0, 0),
        E("truex", 0, 0),
        E("nullnull", 0, 0),
        E("true false", 0, 0),
        E("t", 0, 0),
        E("n", 0, 0),
        E("f", 0, 0),
        E("undefined", 0, 0),
        E("none", 0, 0),
        E("truE", 0, 0),
        E("nulL", 0, 0),
        E("\"\"", 1, 1),
        E("\"a\"", 1, 1),
        E("\"\\\"\"", 1, 1),
        E("\"\\\\\"", 1, 1),
        E("\"\\/\"", 1, 1),
        E("\"\\b\"", 1, 1),
        E("\"\\f\"", 1, 1),
        E("\"\\n\"", 1, 1),
        E("\"\\r\"", 1, 1),
        E("\"\\t\"", 1, 1),
        E("\"\\u0000\"", 1, 1),
        E("\"\\u00e9\"", 1, 1),
        E("\"\\u00E9\"", 1, 1),
        E("\"\\uFFFF\"", 1, 1),
        E("\"\\ud83d\\ude00\"", 1, 1),
        E("\"\\uD83D\\uDE00\"", 1, 1),
        E("\"\\ud800\"", 1, 1),
        E("\"\\udc00\"", 1, 1),
        E("\"\\ud800\\u0041\"", 1, 1),
        E("\"\\udc00\\ud800\"", 1, 1),
        E("\"\\ud800x\"", 1, 1),
        E("\"\\x41\"", 0, 0),
        E("\"\\a\"", 0, 0),
        E("\"\\v\"", 0, 0),
        E("\"\\0\"", 0, 0),
        E("\"\\'\"", 0, 0),
        E("\"\\u12\"", 0, 0),
        E("\"\\u\"", 0, 0),
        E("\"\\u123\"", 0, 0),
        E("\"\\uZZZZ\"", 0, 0),
        E("\"\\u00g0\"", 0, 0),
        E("\"\\U00e9\"", 0, 0),
        E("\"\\ \"", 0, 0),
        E("\"\\\"", 0, 0),
        E("\"abc", 0, 0),
        E("\"abc\\\"", 0, 0),
        E("'a'", 0, 0),
        E("\"a\"b\"", 0, 0),
        E("\"a\"\"b\"", 0, 0),
        E("\"a\011b\"", 0, 1),
        E("\"a\012b\"", 0, 1),
        E("\"a\015b\"", 0, 1),
        E("\"\000\"", 0, 0),
        E("\"a\001b\"", 0, 1),
        E("\"\037\"", 0, 1),
        E("\"\177\"", 1, 1),
        E("\"a\000b\"", 0, 0),
        E("\"\010\"", 0, 1),
        E("\"\014\"", 0, 1),
        E("\"\033\"", 0, 1),
        E("\"\303\251\"", 1, 1),
        E("\"\342\202\254\"", 1, 1),
        E("\"\360\237\230\200\"", 1, 1),
        E("\"\364\217\277\277\"", 1, 1),
        E("\"\357\277\277\"", 1, 1),
        E("\"\355\237\277\"", 1, 1),
        E("\"\356\200\200\"", 1, 1),
        E("\"\302\200\"", 1, 1),
        E("\"\337\277\"", 1, 1),
        E("\"\340\240\200\"", 1, 1),
        E("\"\360\220\200\200\"", 1, 1),
        E("\"\300\200\"", 0, 1),
        E("\"\300\257\"", 0, 1),
        E("\"\301\277\"", 0, 1),
        E("\"\340\200\200\"", 0, 1),
        E("\"\340\237\277\"", 0, 1),
        E("\"\360\200\200\200\"", 0, 1),
        E("\"\360\217\277\277\"", 0, 1),
        E("\"\355\240\200\"", 0, 1),
        E("\"\355\277\277\"", 0, 1),
        E("\"\355\240\275\355\270\200\"", 0, 1),
        E("\"\364\220\200\200\"", 0, 1),
        E("\"\367\277\277\277\"", 0, 1),
        E("\"\370\210\200\200\200\"", 0, 0),
        E("\"\374\204\200\200\200\200\"", 0, 0),
        E("\"\376\"", 0, 0),
        E("\"\377\"", 0, 0),
        E("\"\200\"", 0, 0),
        E("\"\277\"", 0, 0),
        E("\"a\200b\"", 0, 0),
        E("\"\303\"", 0, 0),
        E("\"\303a\"", 0, 0),
        E("\"\342\202\"", 0, 0),
        E("\"\342\202a\"", 0, 0),
        E("\"\360\237\230\"", 0, 0),
        E("\"\360\237\"", 0, 0),
        E("\"\303\251\251\"", 0, 0),
        E("\"\342(\241\"", 0, 0),
        E("\"\302\240\"", 1, 1),
        E("{\"\303\251\": 1}", 1, 1),
        E("{\"\300\200\": 1}", 0, 1),
        E("{\"\355\240\200\": 1}", 0, 1),
        E("{\"\377\": 1}", 0, 0),
        E("{\"a\011b\": 1}", 0, 1),
        E("{\"a\000\": 1}", 0, 0),
        E("\357\273\277{\"a\": 1}", 0, 0),
        E("\302\240{\"a\": 1}", 0, 0),
        E("{\"a\": 1}\302\240", 0, 0),
        E("{\"a\":\302\2401}", 0, 0),
        E("\351", 0, 0),
        E("{}", 1, 1),
        E("[]", 1, 1),
        E("{\"a\": 1}", 1, 1),
        E("{\"a\":1,\"b\":2}", 1, 1),
        E("[1,2]", 1, 1),
        E("[1, [2, [3, {\"a\": [null]}]]]", 1, 1),
        E("{\"a\": {\"b\": {\"c\": {}}}}", 1, 1),
        E("{\"a\": []}", 1, 1),
        E("{\"a\": [{}]}", 1, 1),
        E("{\"a\" 1}", 0, 0),
        E("{\"a\":1,}", 0, 0),
        E("{,}", 0, 0),
        E("[1,,2]", 0, 0),
        E("[,1]", 0, 0),
        E("[1,]", 0, 0),
        E("[1 2]", 0, 0),
        E("{\"a\":1 \"b\":2}", 0, 0),
        E("{\"a\"}", 0, 0),
        E("{1:2}", 0, 0),
        E("{a:1}", 0, 0),
        E("{'a':1}", 0, 1),
        E("{'a':'b'}", 0, 0),
        E("{\"a\":'b'}", 0, 0),
        E("{\"a\":1}}", 0, 0),
        E("{\"a\":[}", 0, 0),
        E("{\"a\":[1}", 0, 0),
        E("{\"a\":{]}", 0, 0),
        E("{\"a\":1", 0, 0),
        E("{\"a\":", 0, 0),
        E("{\"a\"", 0, 0),
        E("{\"", 0, 0),
        E("{", 0, 0),
        E("}", 0, 0),
        E("[", 0, 0),
        E("]", 0, 0),
        E("]]", 0, 0),
        E("[[]", 0, 0),
        E("[]]", 0, 0),
        E("{\"a\":1}]", 0, 0),
        E("{\"a\":1}{\"b\":2}", 0, 0),
        E("{\"a\":1},", 0, 0),
        E("{\"a\":1} x", 0, 0),
        E("{\"a\":1}/", 0, 0),
        E("{\"a\":1}//c", 0, 0),
        E("{\"a\":1}/*c*/", 0, 0),
        E("/*c*/{\"a\":1}", 0, 0),
        E("{\"a\":/*c*/1}", 0, 0),
        E("{\"a\":1,\"b\"}", 0, 0),
        E("{\"a\"::1}", 0, 0),
        E("{:1}", 0, 0),
        E("{\"a\":1;\"b\":2}", 0, 0),
        E("{\"a\"=1}", 0, 0),
        E("[1;2]", 0, 0),
        E("{\"a\":1,,\"b\":2}", 0, 0),
        E("{\"a\":}", 0, 0),
        E("{\"a\": ,\"b\":1}", 0, 0),
        E("{\"a\":1 , }", 0, 0),
        E("{\"a\":-}", 0, 0),
        E("{\"a\":1.}", 0, 1),
        E("{\"a\":01}", 0, 0),
        E("{\"a\":00}", 0, 1),
        E("{\"a\":-01}", 0, 1),
        E("{\"a\":.5}", 0, 0),
        E("{\"a\":NaN}", 0, 1),
        E("{\"a\":Infinity}", 0, 1),
        E("{\"a\":-Infinity}", 0, 1),
        E("{\"a\":1.e5}", 0, 1),
        E("{\"a\":0x1}", 0, 0),
        E("{\"a\":+1}", 0, 0),
        E("{\"a\":true,\"b\":false,\"c\":null}", 1, 1),
        E("{\"a\":tru}", 0, 0),
        E("{\"a\":truex}", 0, 0),
        E("{\"a\":nul}", 0, 0),
        E("[true false]", 0, 0),
        E("[null,]", 0, 0),
        E("{\"a\":[1,2,3,]}", 0, 0),
        E("{\"a\":{\"b\":1,}}", 0, 0),
        E("{\"a\":\"b\" \"c\"}", 0, 0),
        E("{\"a\":\"b\"c}", 0, 0),
        E("{\"a\":1}\012{\"b\":2}", 0, 0),
        E("{\"a\":[1,2] ]}", 0, 0),
        E("{\"\":1}", 1, 1),
        E("{\"\":\"\"}", 1, 1),
        E("{\" \":1}", 1, 1),
        E("[[[[[[[[[[]]]]]]]]]]", 1, 1),
        E(" {\"a\": 1}", 1, 1),
        E("{\"a\": 1} ", 1, 1),
        E("\011{\"a\": 1}\011", 1, 1),
        E("\015\012{\"a\": 1}\015\012", 1, 1),
        E("{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }", 1, 1),
        E("{\011\"a\"\011:\0111\011}", 1, 1),
        E("{\012\"a\"\012:\0121\012}", 1, 1),
        E("{\015\"a\"\015:\0151\015}", 1, 1),
        E("\013{\"a\": 1}", 0, 0),
        E("{\"a\": 1}\013", 0, 0),
        E("{\"a\":\0131}", 0, 0),
        E("\014{\"a\": 1}", 0, 0),
        E("{\"a\":\0141}", 0, 0),
        E("{\"a\": 1}\014", 0, 0),
        E("\000{\"a\": 1}", 0, 0),
        E("{\"a\": 1}\000", 0, 0),
        E("{\"a\":\0001}", 0, 0),
        E("{\"a\": 1}\000 ", 0, 0),
        E("\034{\"a\":1}", 0, 0),
        E("{\"a\":1}\037", 0, 0),
        E("\205{\"a\":1}", 0, 0),
        E("\342\200\250{\"a\":1}", 0, 0),
        E("\343\200\200{\"a\":1}", 0, 0),
        E(" ", 0, 0),
        E("", 0, 0),
        E("\011", 0, 0),
        E("\012", 0, 0),
        E("\015\012", 0, 0),
        E("  1  ", 1, 1),
        E(" \"a\" ", 1, 1),
        E("\013", 0, 0),
        E("\000", 0, 0),
};

static int expected_verdict(const struct jcase *c)
{
        return KT_TEST_FOLLOW_JSONC ? c->jsonc : c->rfc;
}

static size_t wrap(const struct jcase *c, char *buf, size_t cap)
{
        size_t n = 0;
        assert_true(c->n + 8 < cap);
        memcpy(buf, "{\"x\": ", 6);
        n = 6;
        memcpy(buf + n, c->s, c->n);
        n += c->n;
        buf[n++] = '}';
        return n;
}

static void test_json_check_differential(void **state)
{
        (void)state;
        size_t count = sizeof CORPUS / sizeof CORPUS[0];
        int failures = 0, envfail = 0, disagree = 0;
        const char *verbose = getenv("KT_TEST_VERBOSE");
        struct kt_transform *t = mk();
        char w[2048];
        assert_true(count >= 150);
        for (size_t i = 0; i < count; i++) {
                const struct jcase *c = &CORPUS[i];
                size_t wn = wrap(c, w, sizeof w);
                int jv = jsonc_accepts(c->s, c->n, KT_MAX_DEPTH);
                int jw = jsonc_accepts(w, wn, KT_MAX_DEPTH);
                if (jv != c->jsonc || jw != c->jsonc) {
                        print_error("json-c changed: %s value=%d wrapped=%d, "
                                    "recorded %d\n", c->lit, jv, jw, c->jsonc);
                        envfail++;
                }
                if (c->rfc != c->jsonc) {
                        disagree++;
                        if (verbose)
                                print_message("json-c %s, RFC 8259 %s: %s\n",
                                              c->jsonc ? "accepts" : "rejects",
                                              c->rfc ? "accepts" : "rejects",
                                              c->lit);
                }
                int exp = expected_verdict(c);
                int kv = kt_json_check(c->s, c->n, jerr, sizeof jerr) == 0;
                if (kv != exp) {
                        print_error("kt_json_check(%s) %s, expected %s%s\n",
                                    c->lit, kv ? "accepts" : "rejects",
                                    exp ? "accept" : "reject",
                                    c->rfc != c->jsonc ? " (json-c quirk)" : "");
                        failures++;
                } else if (!kv) {
                        const char *m = jerr;
                        if (!m || !m[0]) {
                                print_error("kt_json_check(%s): no message\n",
                                            c->lit);
                                failures++;
                        }
                }
                int kw = kt_json_check(w, wn, jerr, sizeof jerr) == 0;
                if (kw != exp) {
                        print_error("kt_json_check({\"x\": %s}) %s, expected "
                                    "%s%s\n", c->lit,
                                    kw ? "accepts" : "rejects",
                                    exp ? "accept" : "reject",
                                    c->rfc != c->jsonc ? " (json-c quirk)" : "");
                        failures++;
                }
        }
        done(t);
        print_message("differential: %zu inputs (x2 forms); json-c 0.16 "
                      "disagrees with RFC 8259 on %d of them (expected verdict:"
                      " %s)%s\n", count, disagree,
                      KT_TEST_FOLLOW_JSONC ? "json-c" : "RFC 8259",
                      verbose ? "" : "; KT_TEST_VERBOSE=1 lists them");
        assert_int_equal(envfail, 0);
        assert_int_equal(failures, 0);
}

static size_t trim_ws(const char *s, size_t n, const char **out)
{
        size_t a = 0, b = n;
        while (a < b && is_json_ws(s[a]))
                a++;
        while (b > a && is_json_ws(s[b - 1]))
                b--;
        *out = s + a;
        return b - a;
}

/* An accepted value must come out verbatim, only trimmed of white space. */
static int member_output_differs(const struct jcase *c)
{
        static const char pfx[] = PFX_INGEST ", \"x\": ";
        char exp[4096];
        const char *v;
        size_t vn, pl = sizeof pfx - 1, el;

        vn = trim_ws(c->s, c->n, &v);
        memcpy(exp, pfx, pl);
        memcpy(exp + pl, v, vn);
        exp[pl + vn] = '}';
        el = pl + vn + 1;
        if (EV.value_len == el && memcmp(EV.value, exp, el) == 0)
                return 0;
        print_error("output for {\"x\": %s}:\n  ", c->lit);
        show_bytes(EV.value, EV.value_len);
        print_error("\nexpected:\n  ");
        show_bytes(exp, el);
        print_error("\n");
        return 1;
}

/*
 * The case as the value of a member: an event with the value copied, or
 * invalid with a message.  Returns 1 on a failure (reported), else 0.
 */
static int differs_as_member(struct kt_transform *t, const struct jcase *c)
{
        char w[2048];
        size_t wn = wrap(c, w, sizeof w);
        int ok = expected_verdict(c);
        enum kt_status st = run(t, w, wn);
        const char *m;

        if (st != (ok ? KT_EVENT : KT_INVALID)) {
                print_error("kt_transform_line({\"x\": %s}) = %d, "
                            "expected %s%s\n", c->lit, (int)st,
                            ok ? "KT_EVENT" : "KT_INVALID",
                            c->rfc != c->jsonc ? " (json-c quirk)" : "");
                return 1;
        }
        if (ok)
                return member_output_differs(c);
        m = kt_transform_error(t);
        if (!m || !m[0]) {
                print_error("no message for {\"x\": %s}\n", c->lit);
                return 1;
        }
        return 0;
}

/*
 * The case as a whole line: only a valid object is an event, and then
 * valid JSON behind the envelope.  Returns 1 on a failure, else 0.
 */
static int differs_as_line(struct kt_transform *t, const struct jcase *c)
{
        const char *v;
        size_t vn = trim_ws(c->s, c->n, &v), pl = strlen(PFX_INGEST);
        int is_obj = expected_verdict(c) && vn > 0 && v[0] == '{';
        enum kt_status st = run(t, c->s, c->n);

        if (st != (is_obj ? KT_EVENT : KT_INVALID)) {
                print_error("kt_transform_line(%s) = %d, expected %s\n",
                            c->lit, (int)st,
                            is_obj ? "KT_EVENT" : "KT_INVALID");
                return 1;
        }
        if (is_obj &&
            (!jsonc_accepts(EV.value, EV.value_len, KT_MAX_DEPTH) ||
             EV.value_len < pl || memcmp(EV.value, PFX_INGEST, pl) != 0)) {
                print_error("bad output for %s:\n  ", c->lit);
                show_bytes(EV.value, EV.value_len);
                print_error("\n");
                return 1;
        }
        return 0;
}

static void test_transform_line_differential(void **state)
{
        size_t count = sizeof CORPUS / sizeof CORPUS[0], i;
        struct kt_transform *t = mk();
        int failures = 0;

        (void)state;
        /* up to 50 failures: one bug tends to fail most of the corpus */
        for (i = 0; i < count && failures < 50; i++) {
                failures += differs_as_member(t, &CORPUS[i]);
                failures += differs_as_line(t, &CORPUS[i]);
        }
        done(t);
        assert_int_equal(failures, 0);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_invalid_not_json, cleanup),
                cmocka_unit_test_teardown(test_invalid_not_object, cleanup),
                cmocka_unit_test_teardown(test_invalid_trailing_garbage, cleanup),
                cmocka_unit_test_teardown(test_invalid_nul_byte, cleanup),
                cmocka_unit_test_teardown(test_invalid_utf8, cleanup),
                cmocka_unit_test_teardown(test_invalid_control_chars, cleanup),
                cmocka_unit_test_teardown(test_whitespace_around_object, cleanup),
                cmocka_unit_test_teardown(test_depth_limits, cleanup),
                cmocka_unit_test_teardown(test_depth_boundary_value_depth, cleanup),
                cmocka_unit_test_teardown(test_deep_nesting_no_crash, cleanup),
                cmocka_unit_test_teardown(test_wide_record, cleanup),
                cmocka_unit_test_teardown(test_error_message_is_clean_text, cleanup),
                cmocka_unit_test_teardown(test_json_check_differential, cleanup),
                cmocka_unit_test_teardown(test_transform_line_differential, cleanup),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
