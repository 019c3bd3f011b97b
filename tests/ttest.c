/* tests/ttest.c: the helpers of tests/ttest.h. */
#include <json-c/json.h>

#include "ttest.h"

const struct kt_input IN = { TEST_ID, TEST_INGEST_MS, 0 };
struct kt_event EV;

const char *const BAD_TIMES[] = {
        "2026-13-01 00:00:00", "2026-00-10 00:00:00", "2026-11-00 00:00:00",
        "2026-11-31 00:00:00", "2026-11-32 00:00:00", "2026-02-30 00:00:00",
        "2026-02-29 00:00:00", /* 2026 is not a leap year */
        "2100-02-29 00:00:00", /* nor is 2100 */
        "2026-04-31 12:00:00", "2026-11-23 24:00:00", "2026-11-23 08:60:00",
        "2026-11-23 08:33:61", "2026-11-23 25:00:00",
        "1969-12-31 23:59:59", "1969-12-31 23:59:59.999", "1900-01-01 00:00:00",
        "garbage", "", " ", "2026-11-23", "2026-11-23 08:33",
        "2026-11-23 08:33:20.", "2026-11-23 08:33:20.1234567890",
        "2026-11-23 08:33:20.73a", "2026-11-23 08:33:20x",
        "2026-11-23  08:33:20", "2026-11-23 8:33:20", "26-11-23 08:33:20",
        "2026/11/23 08:33:20", "2026-11-23 08:33:20 UTC",
        "2026-11-23T08:33:20ZZ", "2026-11-23T08:33:20 Z",
        "2026-11-23 08:33:20 ", " 2026-11-23 08:33:20",
        "-1", "-1795422833", "1795422833.769.1", "1e9", "0x6B0", "17954228OO",
        "99999999999999999999", "1795422833x", "abc", "1795422833 ",
        " 1795422833", "1795422833.76x",
};
const size_t N_BAD_TIMES = sizeof(BAD_TIMES) / sizeof(*BAD_TIMES);

#define LIVE_MAX 64
static struct kt_transform *live_t[LIVE_MAX];
static void *live_b[LIVE_MAX];

void *tmalloc(size_t n)
{
        void *p = malloc(n);
        for (int i = 0; p && i < LIVE_MAX; i++)
                if (live_b[i] == NULL) {
                        live_b[i] = p;
                        break;
                }
        return p;
}

void tfree(void *p)
{
        for (int i = 0; p && i < LIVE_MAX; i++)
                if (live_b[i] == p)
                        live_b[i] = NULL;
        free(p);
}

struct kt_transform *track(struct kt_transform *t)
{
        for (int i = 0; t && i < LIVE_MAX; i++)
                if (live_t[i] == NULL) {
                        live_t[i] = t;
                        break;
                }
        return t;
}

void done(struct kt_transform *t)
{
        for (int i = 0; t && i < LIVE_MAX; i++)
                if (live_t[i] == t)
                        live_t[i] = NULL;
        kt_transform_free(t);
}

int cleanup(void **state)
{
        (void)state;
        for (int i = 0; i < LIVE_MAX; i++) {
                kt_transform_free(live_t[i]);
                live_t[i] = NULL;
                free(live_b[i]);
                live_b[i] = NULL;
        }
        return 0;
}

void show_bytes(const char *p, size_t n)
{
        char buf[8192];
        size_t o = 0;
        for (size_t i = 0; i < n && o + 8 < sizeof buf; i++) {
                unsigned char c = (unsigned char)p[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        buf[o++] = (char)c;
                else
                        o += (size_t)snprintf(buf + o, sizeof buf - o,
                                              "\\x%02x", c);
        }
        if (o + 8 >= sizeof buf)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "...");
        buf[o] = '\0';
        print_error("%s", buf);
}

struct kt_transform *mk(void)
{
        struct kt_transform *t = track(kt_transform_new());
        assert_non_null(t);
        assert_int_equal(kt_transform_set_envelope(t, SCHEMA, STREAM, DOMAIN),
                         0);
        return t;
}

/* Time zone callbacks. */
int fixed_fn(void *arg, const struct tm *local, int64_t *out)
{
        struct fixed_tz *z = arg;
        struct tm c = *local;
        z->calls++;
        z->last = *local;
        time_t s = timegm(&c);
        *out = (int64_t)s - z->offset_s;
        return 0;
}

int fail_fn(void *arg, const struct tm *local, int64_t *out)
{
        int *calls = arg;
        (void)local;
        (void)out;
        if (calls)
                (*calls)++;
        return -1;
}

int mktime_fn(void *arg, const struct tm *local, int64_t *out)
{
        int *calls = arg;
        struct tm c = *local;
        if (calls)
                (*calls)++;
        c.tm_isdst = -1;
        time_t s = mktime(&c);
        if (s == (time_t)-1)
                return -1;
        *out = (int64_t)s;
        return 0;
}

/* The production configuration of the default netflow stream. */
struct kt_transform *mk_prod(kt_local_to_utc_fn fn, void *arg)
{
        struct kt_transform *t = mk();
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_start"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "timestamp_arrival"), 0);
        assert_int_equal(kt_transform_add_dt_source(t, "stamp_inserted"), 0);
        assert_int_equal(kt_transform_integer(t, "tcp_flags"), 0);
        kt_transform_set_timezone(t, fn, arg);
        return t;
}

void check_error_message(struct kt_transform *t, const char *file,
                                int line)
{
        const char *msg = kt_transform_error(t);
        if (msg == NULL || msg[0] == '\0' || strchr(msg, '\n') != NULL) {
                print_error("kt_transform_error() must be one non-empty line, "
                            "got %s%s%s\n", msg ? "\"" : "",
                            msg ? msg : "NULL", msg ? "\"" : "");
                _fail(file, line);
        }
}

enum kt_status run(struct kt_transform *t, const char *line, size_t len)
{
        memset(&EV, 0, sizeof EV);
        EV.purged_entries = 12345; /* poison */
        EV.timestamp_ms = -12345;
        return kt_transform_line(t, line, len, &IN, &EV);
}

void expect_output_(struct kt_transform *t, const char *line,
                           size_t len, const char *exp, const char *file,
                           int lineno)
{
        enum kt_status st = run(t, line, len);
        if (st != KT_EVENT) {
                print_error("status %d (%s), expected KT_EVENT for input:\n  ",
                            (int)st, st == KT_INVALID ? kt_transform_error(t)
                                                       : "skip");
                show_bytes(line, len);
                print_error("\n");
                _fail(file, lineno);
        }
        if (EV.value == NULL || EV.value_len != strlen(exp) ||
            memcmp(EV.value, exp, EV.value_len) != 0) {
                print_error("output mismatch for input:\n  ");
                show_bytes(line, len);
                print_error("\nexpected:\n  ");
                show_bytes(exp, strlen(exp));
                print_error("\ngot:\n  ");
                if (EV.value)
                        show_bytes(EV.value, EV.value_len);
                else
                        print_error("NULL");
                print_error("\n");
                _fail(file, lineno);
        }
}
void expect_invalid_(struct kt_transform *t, const char *line,
                            size_t len, const char *file, int lineno)
{
        enum kt_status st = run(t, line, len);
        if (st != KT_INVALID) {
                print_error("status %d, expected KT_INVALID for input:\n  ",
                            (int)st);
                show_bytes(line, len);
                if (st == KT_EVENT && EV.value) {
                        print_error("\ngot event:\n  ");
                        show_bytes(EV.value, EV.value_len);
                }
                print_error("\n");
                _fail(file, lineno);
        }
        check_error_message(t, file, lineno);
}

/* The reference: json-c strict, whole input consumed. */
int jsonc_accepts(const char *buf, size_t len, int depth)
{
        struct json_tokener *tok = json_tokener_new_ex(depth);
        assert_non_null(tok);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                    JSON_TOKENER_VALIDATE_UTF8);
        char *copy = tmalloc(len + 1);
        assert_non_null(copy);
        memcpy(copy, buf, len);
        copy[len] = '\0';
        struct json_object *o = json_tokener_parse_ex(tok, copy, (int)len + 1);
        int ok = json_tokener_get_error(tok) == json_tokener_success &&
                 json_tokener_get_parse_end(tok) == len;
        json_object_put(o);
        json_tokener_free(tok);
        tfree(copy);
        return ok;
}

int is_json_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int64_t ms_of(const char *utc) /* "YYYY-MM-DD HH:MM:SS" UTC */
{
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        assert_int_equal(sscanf(utc, "%d-%d-%d %d:%d:%d", &tm.tm_year,
                                &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                                &tm.tm_min, &tm.tm_sec), 6);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (int64_t)timegm(&tm) * 1000;
}

/* Independent ISO formatter (gmtime_r + strftime). */
void ref_iso(int64_t ms, char out[32])
{
        time_t s = (time_t)(ms / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&s, &tm));
        size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

