/*
 * jsonscan.c: the strict one-pass JSON scanner (see jsonscan.h).
 *
 * jsmn was tried first: it is lax (commas, colons, literals, UTF-8
 * unchecked) and checking its tokens afterwards cost twice a single
 * pass; a token list walked again to write the event cost a third more
 * than calling back with each member as it is read.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "jsonscan.h"

static int is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * One pass over the line checks it against RFC 8259 (what json-c accepts
 * in strict mode, less json-c's laxities) and records the top-level
 * members: no DOM, no token list of the whole document.  Recursion is
 * bounded by KT_MAX_DEPTH, so no input costs more than linear time.
 */

static int is_digit(char c)
{
        return c >= '0' && c <= '9';
}

struct scan {
        const char              *js;  /* the line */
        const char              *p;   /* the next byte */
        const char              *end;
        int                      escapes; /* escape sequences seen so far */
        const struct kt_json_cb *cb;
        char                    *err;
        size_t                   errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct scan *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(s->err, s->errlen, fmt, ap);
        va_end(ap);
        return -1;
}

static int at(const struct scan *s)
{
        return (int)(s->p - s->js);
}

static int unexpected(struct scan *s)
{
        if (s->p == s->end)
                return fail(s, "not JSON: unexpected end of input");
        return fail(s, "not JSON: unexpected '%c' at byte %d",
                    *s->p >= 0x20 && *s->p < 0x7f ? *s->p : '?', at(s));
}

/* Bytes above the space are never white: most tests end there. */
static inline void skip_ws(struct scan *s)
{
        const char *p = s->p, *end = s->end;

        while (p < end && (unsigned char)*p <= ' ' && is_ws(*p))
                p++;
        s->p = p;
}

static int expect(struct scan *s, char c)
{
        if (s->p == s->end || *s->p != c)
                return unexpected(s);
        s->p++;
        return 0;
}

/* The length of the UTF-8 sequence at s (RFC 3629), 0 when invalid. */
int kt_utf8_len(const unsigned char *s, const unsigned char *end)
{
        unsigned char c = s[0], lo = 0x80, hi = 0xbf;
        int n, i;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4;
        else
                return 0;
        if (c == 0xe0)
                lo = 0xa0; /* overlong */
        else if (c == 0xed)
                hi = 0x9f; /* UTF-16 surrogates */
        else if (c == 0xf0)
                lo = 0x90; /* overlong */
        else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        if (end - s < n || s[1] < lo || s[1] > hi)
                return 0;
        for (i = 2; i < n; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return n;
}

/*
 * Eight bytes at a time: a mask of those that need a closer look (a
 * quote, a backslash, a control byte, a non-ASCII byte).  Borrows may
 * flag bytes above a flagged one, never below: the lowest bit is exact.
 */
static uint64_t special8(const char *p)
{
        const uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
        uint64_t w, q, b;

        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        return (((q - ones) & ~q) | ((b - ones) & ~b) |
                ((w - ones * 0x20) & ~w) | w) & high;
}

/* Skips plain string bytes: to the first one that needs a look. */
static inline __attribute__((always_inline)) void skip_plain(struct scan *s)
{
        uint64_t m;
        unsigned char c;

#ifdef __SSE2__
        /* Sixteen at a time where x86-64 always can: most names and
         * values of a record end within the first sixteen. */
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        const __m128i space = _mm_set1_epi8(0x20);
        __m128i x;
        unsigned mask;

        while (s->end - s->p >= 16) {
                x = _mm_loadu_si128((const __m128i *)(const void *)s->p);
                /* signed: bytes from 0x80 are below the space too */
                mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(
                        _mm_or_si128(_mm_cmpeq_epi8(x, quote),
                                     _mm_cmpeq_epi8(x, bslash)),
                        _mm_cmplt_epi8(x, space)));
                if (mask != 0) {
                        s->p += __builtin_ctz(mask);
                        return;
                }
                s->p += 16;
        }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        while (s->end - s->p >= 8) {
                if ((m = special8(s->p)) != 0) {
                        s->p += __builtin_ctzll(m) >> 3;
                        return;
                }
                s->p += 8;
        }
#else
        while (s->end - s->p >= 8 && special8(s->p) == 0)
                s->p += 8;
        (void)m;
#endif
        while (s->p < s->end && (c = (unsigned char)*s->p) >= 0x20 &&
               c < 0x80 && c != '"' && c != '\\')
                s->p++;
}

static int scan_escape(struct scan *s)
{
        int i;

        s->p++; /* the backslash */
        s->escapes++;
        if (s->p == s->end)
                return unexpected(s);
        if (strchr("\"\\/bfnrt", *s->p) != NULL && *s->p != '\0') {
                s->p++;
                return 0;
        }
        if (*s->p != 'u')
                return fail(s, "not JSON: bad escape '\\%c' at byte %d",
                            *s->p >= 0x20 && *s->p < 0x7f ? *s->p : '?',
                            at(s) - 1);
        for (s->p++, i = 0; i < 4; i++, s->p++)
                if (s->p == s->end || !isxdigit((unsigned char)*s->p))
                        return fail(s, "not JSON: bad \\u escape at "
                                    "byte %d", at(s));
        return 0;
}

/* A string at s->p (its opening quote); k gets its inside. */
static inline __attribute__((always_inline)) int
scan_string(struct scan *s, struct kt_tok *k)
{
        unsigned char c;
        int n;

        k->type = KT_TOK_STRING;
        k->start = at(s) + 1;
        for (s->p++;;) {
                skip_plain(s);
                if (s->p == s->end)
                        return unexpected(s);
                c = (unsigned char)*s->p;
                if (c == '"')
                        break;
                if (c == '\\') {
                        if (scan_escape(s) == -1)
                                return -1;
                } else if (c < 0x20) {
                        return fail(s, "not JSON: control character "
                                    "0x%02x in a string at byte %d", c, at(s));
                } else if ((n = kt_utf8_len((const unsigned char *)s->p,
                                            (const unsigned char *)s->end)) > 0) {
                        s->p += n;
                } else {
                        return fail(s, "invalid UTF-8 at byte %d", at(s));
                }
        }
        k->end = at(s);
        s->p++;
        return 0;
}

static void skip_digits(struct scan *s)
{
        while (s->p < s->end && is_digit(*s->p))
                s->p++;
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static inline __attribute__((always_inline)) int
scan_number(struct scan *s)
{
        if (s->p < s->end && *s->p == '-')
                s->p++;
        if (s->p == s->end || !is_digit(*s->p))
                return unexpected(s);
        if (*s->p++ != '0')
                skip_digits(s);
        if (s->p < s->end && *s->p == '.') {
                s->p++;
                if (s->p == s->end || !is_digit(*s->p))
                        return unexpected(s);
                skip_digits(s);
        }
        if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
                s->p++;
                if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                        s->p++;
                if (s->p == s->end || !is_digit(*s->p))
                        return unexpected(s);
                skip_digits(s);
        }
        return 0;
}

static int scan_literal(struct scan *s, const char *lit, size_t n)
{
        if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
                return fail(s, "not JSON: bad value at byte %d", at(s));
        s->p += n;
        return 0;
}

static int scan_value(struct scan *s, int depth, struct kt_tok *k);

/* Past an opening bracket: 1 when the container closes at once. */
static int open_empty(struct scan *s, char close)
{
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
                s->p++;
                return 1;
        }
        return 0;
}

/* After an item: 1 when a comma announces another, 0 closed, -1 bad. */
/* c and one space, as pmacct separates: taken at once. */
static inline int pmacct_sep(struct scan *s, char c)
{
        if (s->end - s->p < 3 || s->p[0] != c || s->p[1] != ' ' ||
            (unsigned char)s->p[2] <= ' ')
                return 0;
        s->p += 2;
        return 1;
}

static inline int next_item(struct scan *s, char close)
{
        if (pmacct_sep(s, ','))
                return 1;
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
                s->p++;
                skip_ws(s);
                return 1;
        }
        return expect(s, close) == -1 ? -1 : 0;
}

/*
 * A member's name and its colon, up to the value.  At the top: "\u0064t"
 * is "dt", and escaped names would slip past the checks on names, so
 * they are refused (pmacct never writes them).
 */
static inline __attribute__((always_inline)) int
scan_name(struct scan *s, struct kt_tok *key, int top)
{
        int escapes = s->escapes;

        if (s->p == s->end || *s->p != '"')
                return unexpected(s);
        if (scan_string(s, key) == -1)
                return -1;
        if (top && s->escapes != escapes)
                return fail(s, "field name with an escape sequence at "
                            "byte %d", key->start);
        if (pmacct_sep(s, ':'))
                return 0;
        skip_ws(s);
        if (expect(s, ':') == -1)
                return -1;
        skip_ws(s);
        return 0;
}

/* An object's members (the line's own: scan_members()). */
static int scan_object(struct scan *s, int depth)
{
        struct kt_tok key, value;
        int r;

        if (open_empty(s, '}'))
                return 0;
        do {
                if (scan_name(s, &key, depth == 1) == -1 ||
                    scan_value(s, depth + 1, &value) == -1)
                        return -1;
        } while ((r = next_item(s, '}')) == 1);
        return r;
}

static int scan_array(struct scan *s, int depth)
{
        struct kt_tok value;
        int r;

        if (open_empty(s, ']'))
                return 0;
        do {
                if (scan_value(s, depth + 1, &value) == -1)
                        return -1;
        } while ((r = next_item(s, ']')) == 1);
        return r;
}

/* The value at s->p, at depth (the document is 1, as json-c counts). */
static int scan_value(struct scan *s, int depth, struct kt_tok *k)
{
        int r;

        if (depth > KT_MAX_DEPTH)
                return fail(s, "not JSON: nesting deeper than %d at "
                            "byte %d", KT_MAX_DEPTH, at(s));
        if (s->p == s->end)
                return unexpected(s);
        k->start = at(s);
        switch (*s->p) {
        case '"':
                return scan_string(s, k);
        case '{':
                k->type = KT_TOK_OBJECT;
                r = scan_object(s, depth);
                break;
        case '[':
                k->type = KT_TOK_ARRAY;
                r = scan_array(s, depth);
                break;
        case 't':
                k->type = KT_TOK_PRIMITIVE;
                r = scan_literal(s, "true", 4);
                break;
        case 'f':
                k->type = KT_TOK_PRIMITIVE;
                r = scan_literal(s, "false", 5);
                break;
        case 'n':
                k->type = KT_TOK_PRIMITIVE;
                r = scan_literal(s, "null", 4);
                break;
        default:
                k->type = KT_TOK_PRIMITIVE;
                r = scan_number(s);
                break;
        }
        k->end = at(s);
        return r;
}

/* A value of a member of the line: strings and numbers without a call. */
static inline __attribute__((always_inline)) int
scan_member_value(struct scan *s, struct kt_tok *v)
{
        int r;

        if (s->p == s->end)
                return unexpected(s);
        if (*s->p == '"')
                return scan_string(s, v);
        if (*s->p != '-' && !is_digit(*s->p))
                return scan_value(s, 2, v);
        v->type = KT_TOK_PRIMITIVE;
        v->start = at(s);
        r = scan_number(s);
        v->end = at(s);
        return r;
}

/*
 * The line's object, at s->p: scan_object() at depth 1, each member
 * handed to the callback as it is read.
 */
static int scan_members(struct scan *s, struct kt_tok *root)
{
        struct kt_tok key, value;
        int r = 0;

        root->type = KT_TOK_OBJECT;
        root->start = at(s);
        if (!open_empty(s, '}'))
                do {
                        if (scan_name(s, &key, 1) == -1 ||
                            scan_member_value(s, &value) == -1 ||
                            s->cb->member(s->cb->opaque, &key, &value) == -1)
                                return -1;
                } while ((r = next_item(s, '}')) == 1);
        root->end = at(s);
        return r;
}

/*
 * The whole of js[0..len) must be one JSON value, nothing else; with a
 * callback, the members of an object go to it as they are read.
 */
int kt_json_scan(const char *js, size_t len, const struct kt_json_cb *cb,
                 struct kt_tok *root, char *err, size_t errlen)
{
        struct scan s = { js, js, js + len, 0, cb, err, errlen };
        const char *nul;

        if (len > 0x7fffffff)
                return fail(&s, "line longer than 2 GiB");
        skip_ws(&s);
        if (s.p == s.end)
                return fail(&s, "empty line");
        if (cb != NULL && *s.p == '{' ? scan_members(&s, root) == -1
                                      : scan_value(&s, 1, root) == -1)
                goto bad;
        skip_ws(&s);
        if (s.p == s.end)
                return 0;
        fail(&s, "not JSON: trailing data at byte %d", at(&s));
bad:
        /* The scan stops there anyway: only then is a NUL looked for. */
        if ((nul = memchr(js, '\0', len)) != NULL)
                fail(&s, "NUL byte at byte %d", (int)(nul - js));
        return -1;
}

int kt_json_check(const char *buf, size_t len, char *err, size_t errlen)
{
        struct kt_tok root;

        return kt_json_scan(buf, len, NULL, &root, err, errlen);
}
