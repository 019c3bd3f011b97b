/*
 * dlread.c: a dead-letter record read back.  The line is checked by the
 * strict scanner, then walked without a DOM (jsonwalk.h): see dlread.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlread.h"
#include "grow.h"
#include "jsonscan.h"
#include "jsonwalk.h"

/* The members read; the others (time, message, error) are not needed. */
enum dlr_member {
        M_REASON, M_LINE, M_TRUNCATED, M_RAW, M_RAW_B64, M_TOPIC, M_KEY,
        M_KEY_B64, M_TIMESTAMP, M_VALUE, M_VALUE_B64, M_COUNT
};

static const char *const member_names[M_COUNT] = {
        [M_REASON] = "reason", [M_LINE] = "line",
        [M_TRUNCATED] = "truncated", [M_RAW] = "raw",
        [M_RAW_B64] = "raw_base64", [M_TOPIC] = "topic", [M_KEY] = "key",
        [M_KEY_B64] = "key_base64", [M_TIMESTAMP] = "timestamp",
        [M_VALUE] = "value", [M_VALUE_B64] = "value_base64",
};

/* A line being read: its members, and where decoded parts go. */
struct dlr_scan {
        struct kt_wval v[M_COUNT];
        int            seen[M_COUNT];
        char          *out; /* the next free byte of the reader's buf */
};

static enum dlr_kind fail(struct dl_reader *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static enum dlr_kind fail(struct dl_reader *r, const char *fmt, ...)
{
        va_list ap;
        int n = snprintf(r->err, sizeof(r->err), "not a dead-letter "
                         "record: ");

        va_start(ap, fmt);
        vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
        va_end(ap);
        return DLR_NONE;
}

static int b64_digit(unsigned char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long dlr_base64_decode(const char *s, size_t len, char *out)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i, n = 0, pad = 0;
        int d[4], k;

        if (len % 4 != 0)
                return -1;
        if (len > 0 && p[len - 1] == '=')
                pad = len > 1 && p[len - 2] == '=' ? 2 : 1;
        for (i = 0; i < len; i += 4) {
                for (k = 0; k < 4; k++) {
                        d[k] = b64_digit(p[i + k]);
                        if (d[k] < 0 && (i + 4 < len || k < 4 - (int)pad))
                                return -1;
                }
                /* in place: byte n is written after byte i + 3 was read */
                out[n++] = (char)(d[0] << 2 | d[1] >> 4);
                if (i + 4 < len || pad < 2)
                        out[n++] = (char)((d[1] & 15) << 4 | d[2] >> 2);
                if (i + 4 < len || pad < 1)
                        out[n++] = (char)((d[2] & 3) << 6 | d[3]);
        }
        return (long)n;
}

/* The string v's bytes: in the line when it has no escape, else unescaped
 * into the buffer. */
static void text_of(struct dlr_scan *s, const struct kt_wval *v,
                    const char **p, size_t *len)
{
        if (!v->escaped) {
                *p = v->p;
                *len = v->len;
                return;
        }
        *p = s->out;
        *len = kt_json_unescape(v->p, v->len, s->out);
        s->out += *len;
}

/*
 * The bytes of a part written as text (member t) and, when they were
 * not UTF-8, as base64 (member b64), which wins.  -1 when b64 is not
 * base64.
 */
static int bytes_of(struct dlr_scan *s, enum dlr_member t,
                    enum dlr_member b64, const char **p, size_t *len)
{
        char *dst = s->out; /* escaped: unescaped there, decoded in place */
        const char *text;
        size_t n;
        long got;

        if (!s->seen[b64]) {
                text_of(s, &s->v[t], p, len);
                return 0;
        }
        text_of(s, &s->v[b64], &text, &n);
        if ((got = dlr_base64_decode(text, n, dst)) < 0)
                return -1;
        *p = dst;
        *len = (size_t)got;
        s->out = dst + got;
        return 0;
}

/* Each member read is the kind it must be. */
static int kind_ok(enum dlr_member m, const struct kt_wval *v)
{
        switch (m) {
        case M_LINE:
        case M_TIMESTAMP:
                return v->kind == KT_J_NUMBER;
        case M_TRUNCATED:
                return v->kind == KT_J_BOOLEAN;
        case M_KEY:
        case M_RAW: /* null: withheld (anonymize.raw) */
                return v->kind == KT_J_STRING || v->kind == KT_J_NULL;
        default:
                return v->kind == KT_J_STRING;
        }
}

/* The members of the object, each found once and of its kind: 0, or -1
 * (said). */
static int walk(struct dl_reader *r, struct dlr_scan *s,
                          const char *line, size_t len)
{
        struct kt_wval doc, name, value;
        struct kt_walk w;
        int m;

        kt_walk_document(line, len, &doc);
        if (doc.kind != KT_J_OBJECT) {
                fail(r, "not a JSON object");
                return -1;
        }
        kt_walk_begin(&w, &doc);
        while (kt_walk_next_member(&w, &name, &value)) {
                for (m = 0; m < M_COUNT; m++)
                        if (strlen(member_names[m]) == name.len &&
                            memcmp(member_names[m], name.p, name.len) == 0)
                                break;
                if (m == M_COUNT)
                        continue;
                if (s->seen[m] || !kind_ok(m, &value)) {
                        fail(r, "\"%s\" %s", member_names[m], s->seen[m] ?
                             "twice" : "of the wrong type");
                        return -1;
                }
                s->seen[m] = 1;
                s->v[m] = value;
        }
        return 0;
}

/* A JSON integer of 64 bits, or -1. */
static int integer_of(const struct kt_wval *v, int64_t *out)
{
        char num[24], *end;
        long long n;

        if (v->len == 0 || v->len >= sizeof(num))
                return -1;
        memcpy(num, v->p, v->len);
        num[v->len] = '\0';
        errno = 0;
        n = strtoll(num, &end, 10);
        if (errno != 0 || *end != '\0')
                return -1;
        *out = n;
        return 0;
}

/* The event members, all there: topic, key, timestamp, value. */
static enum dlr_kind event_of(struct dl_reader *r, struct dlr_scan *s,
                              struct dead_event *e)
{
        if (!s->seen[M_TOPIC] || !s->seen[M_TIMESTAMP] ||
            !(s->seen[M_KEY] || s->seen[M_KEY_B64]) ||
            !(s->seen[M_VALUE] || s->seen[M_VALUE_B64]))
                return fail(r, "an event needs topic, key, timestamp and "
                            "value");
        if (integer_of(&s->v[M_TIMESTAMP], &e->timestamp_ms) == -1)
                return fail(r, "\"timestamp\" is not an integer");
        text_of(s, &s->v[M_TOPIC], &e->topic, &e->topic_len);
        e->key = NULL;
        e->key_len = 0;
        if ((s->seen[M_KEY_B64] || s->v[M_KEY].kind == KT_J_STRING) &&
            bytes_of(s, M_KEY, M_KEY_B64, &e->key, &e->key_len) == -1)
                return fail(r, "\"key_base64\" is not base64");
        if (bytes_of(s, M_VALUE, M_VALUE_B64, &e->value,
                     &e->value_len) == -1)
                return fail(r, "\"value_base64\" is not base64");
        return DLR_EVENT;
}

/* What is common to every record: reason, line, raw, truncated. */
static enum dlr_kind common_of(struct dl_reader *r, struct dlr_scan *s,
                               struct dlr_record *out)
{
        int64_t n = 0;

        if (!s->seen[M_REASON])
                return fail(r, "no \"reason\"");
        if (!s->seen[M_RAW] && !s->seen[M_RAW_B64])
                return fail(r, "no \"raw\"");
        if (s->seen[M_LINE] && (integer_of(&s->v[M_LINE], &n) == -1 ||
                                n < 0))
                return fail(r, "\"line\" is not a line number");
        out->line_no = (uint64_t)n;
        out->reason = s->v[M_REASON].p;
        out->reason_len = s->v[M_REASON].len;
        if (s->seen[M_RAW] && !s->seen[M_RAW_B64] &&
            s->v[M_RAW].kind == KT_J_NULL)
                return DLR_LINE; /* withheld: no raw, "" */
        if (bytes_of(s, M_RAW, M_RAW_B64, &out->raw, &out->raw_len) == -1)
                return fail(r, "\"raw_base64\" is not base64");
        if (s->seen[M_TRUNCATED] && s->v[M_TRUNCATED].p[0] == 't')
                return DLR_TRUNCATED;
        return DLR_LINE;
}

enum dlr_kind dlr_parse(struct dl_reader *r, const char *line, size_t len,
                        struct dlr_record *out)
{
        struct dlr_scan s;
        char err[128];
        enum dlr_kind k;

        memset(out, 0, sizeof(*out));
        memset(&s, 0, sizeof(s));
        /* decoded parts are never longer than their text in the line */
        if (kt_grow(&r->buf, &r->cap, len + 1, 1) == -1)
                return fail(r, "out of memory");
        s.out = r->buf;
        if (kt_json_check(line, len, err, sizeof(err)) == -1)
                return fail(r, "%s", err);
        if (walk(r, &s, line, len) == -1)
                return DLR_NONE;
        if ((k = common_of(r, &s, out)) == DLR_NONE)
                return DLR_NONE;
        if (s.seen[M_TOPIC] || s.seen[M_TIMESTAMP] || s.seen[M_VALUE] ||
            s.seen[M_VALUE_B64])
                k = event_of(r, &s, &out->event);
        if (out->raw == NULL) /* an event goes on: the raw line is "" */
                out->raw = "";
        if (k == DLR_LINE && out->raw_len == 0 && s.seen[M_RAW] &&
            !s.seen[M_RAW_B64] &&
            s.v[M_RAW].kind == KT_J_NULL)
        {
                snprintf(r->err, sizeof(r->err), "withheld in the "
                         "dead-letter file (anonymize.raw): cannot be "
                         "replayed");
                return DLR_NONE;
        }
        out->kind = k;
        return k;
}

const char *dlr_error(const struct dl_reader *r)
{
        return r->err;
}

void dlr_free(struct dl_reader *r)
{
        free(r->buf);
        memset(r, 0, sizeof(*r));
}
