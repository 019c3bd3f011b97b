/*
 * jsonscan.h: the strict one-pass JSON scanner.
 *
 * One pass over a buffer checks it to be exactly one JSON value (RFC 8259,
 * UTF-8 by RFC 3629, nesting at most KT_MAX_DEPTH; what json-c accepts in
 * strict mode, less its laxities) without building anything.  When the
 * value is an object, each of its members can be handed to a callback as
 * it is read, as offsets into the buffer: the transform writes its event
 * from them, byte for byte.  Recursion is bounded by KT_MAX_DEPTH, so no
 * input costs more than linear time.
 */
#ifndef KT_JSONSCAN_H
#define KT_JSONSCAN_H

#include <stddef.h>

/* Deepest nesting accepted (the document is depth 1, as json-c counts). */
#define KT_MAX_DEPTH 64

enum kt_tok_type { KT_TOK_OBJECT = 1, KT_TOK_ARRAY, KT_TOK_STRING,
                   KT_TOK_PRIMITIVE };

/* A value or a name in the buffer; a string's inside, without quotes. */
struct kt_tok {
        enum kt_tok_type type;
        int              start, end;
        int              natural; /* a number: plain digits, no sign,
                                   * fraction or exponent (not set for
                                   * strings) */
};

/* What the scanner calls back with each member of the top object. */
struct kt_json_cb {
        /* 0, or -1 to stop the scan (the callee says why). */
        int (*member)(void *opaque, const struct kt_tok *name,
                      const struct kt_tok *value);
        void *opaque;
};

/* kt_json_scan without a callback: 0 if buf is one strict JSON value. */
int kt_json_check(const char *buf, size_t len, char *err, size_t errlen);

/* Length of the valid UTF-8 sequence at s (1 for ASCII), 0 if invalid. */
int kt_utf8_len(const unsigned char *s, const unsigned char *end);

/*
 * The scanner's hot path is inline, below, so that the caller's callback,
 * known where it calls kt_json_scan(), is inlined into the loop over the
 * members: as a call through the pointer, one per member, it cost 8.6%
 * more instructions per record (callgrind, 50000 bench-gen records:
 * 484M; through the pointer 526M; inline 489M).
 * The cold parts (errors, escapes, nested values) are in jsonscan.c.
 */
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static inline int kt_js_is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int kt_js_is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* A scan in progress.  Internal to jsonscan.h and jsonscan.c. */
struct kt_js_scan {
        const char              *js;  /* the line */
        const char              *p;   /* the next byte */
        const char              *end;
        int                      escapes; /* escape sequences seen so far */
        char                    *err;
        size_t                   errlen;
};

__attribute__((format(printf, 2, 3)))
int kt_js_fail(struct kt_js_scan *s, const char *fmt, ...);
int kt_js_unexpected(struct kt_js_scan *s);
int kt_js_escape(struct kt_js_scan *s);
/* Any value at s->p, at depth (the document is 1). */
int kt_js_value(struct kt_js_scan *s, int depth, struct kt_tok *k);

static inline int kt_js_at(const struct kt_js_scan *s)
{
        return (int)(s->p - s->js);
}

/* Bytes above the space are never white: most tests end there. */
static inline void kt_js_skip_ws(struct kt_js_scan *s)
{
        const char *p = s->p, *end = s->end;

        while (p < end && (unsigned char)*p <= ' ' && kt_js_is_ws(*p))
                p++;
        s->p = p;
}

static inline int kt_js_expect(struct kt_js_scan *s, char c)
{
        if (s->p == s->end || *s->p != c)
                return kt_js_unexpected(s);
        s->p++;
        return 0;
}

/*
 * Eight bytes at a time: a mask of those that need a closer look (a
 * quote, a backslash, a control byte, a non-ASCII byte).  Borrows may
 * flag bytes above a flagged one, never below: the lowest bit is exact.
 */
static inline uint64_t kt_js_special8(const char *p)
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
static inline __attribute__((always_inline)) void
kt_js_skip_plain(struct kt_js_scan *s)
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
                if ((m = kt_js_special8(s->p)) != 0) {
                        s->p += __builtin_ctzll(m) >> 3;
                        return;
                }
                s->p += 8;
        }
#else
        while (s->end - s->p >= 8 && kt_js_special8(s->p) == 0)
                s->p += 8;
        (void)m;
#endif
        while (s->p < s->end && (c = (unsigned char)*s->p) >= 0x20 &&
               c < 0x80 && c != '"' && c != '\\')
                s->p++;
}

/* A string at s->p (its opening quote); k gets its inside. */
static inline __attribute__((always_inline)) int
kt_js_string(struct kt_js_scan *s, struct kt_tok *k)
{
        unsigned char c;
        int n;

        k->type = KT_TOK_STRING;
        k->start = kt_js_at(s) + 1;
        for (s->p++;;) {
                kt_js_skip_plain(s);
                if (s->p == s->end)
                        return kt_js_unexpected(s);
                c = (unsigned char)*s->p;
                if (c == '"')
                        break;
                if (c == '\\') {
                        if (kt_js_escape(s) == -1)
                                return -1;
                } else if (c < 0x20) {
                        return kt_js_fail(s, "not JSON: control character "
                                          "0x%02x in a string at byte %d", c,
                                          kt_js_at(s));
                } else if ((n = kt_utf8_len(
                                    (const unsigned char *)s->p,
                                    (const unsigned char *)s->end)) > 0) {
                        s->p += n;
                } else {
                        return kt_js_fail(s, "invalid UTF-8 at byte %d",
                                          kt_js_at(s));
                }
        }
        k->end = kt_js_at(s);
        s->p++;
        return 0;
}

static inline void kt_js_skip_digits(struct kt_js_scan *s)
{
        while (s->p < s->end && kt_js_is_digit(*s->p))
                s->p++;
}

/*
 * RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * 1 when it is a natural number in plain digits (what the validator can
 * range-check by its digits alone), 0 when not, -1 when not a number.
 */
static inline __attribute__((always_inline)) int
kt_js_number(struct kt_js_scan *s)
{
        int natural = 1;

        if (s->p < s->end && *s->p == '-') {
                s->p++;
                natural = 0;
        }
        if (s->p == s->end || !kt_js_is_digit(*s->p))
                return kt_js_unexpected(s);
        if (*s->p++ != '0')
                kt_js_skip_digits(s);
        if (s->p == s->end || (*s->p != '.' && *s->p != 'e' &&
                               *s->p != 'E'))
                return natural;
        if (s->p < s->end && *s->p == '.') {
                s->p++;
                if (s->p == s->end || !kt_js_is_digit(*s->p))
                        return kt_js_unexpected(s);
                kt_js_skip_digits(s);
        }
        if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
                s->p++;
                if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                        s->p++;
                if (s->p == s->end || !kt_js_is_digit(*s->p))
                        return kt_js_unexpected(s);
                kt_js_skip_digits(s);
        }
        return 0; /* not plain */
}

/* Past an opening bracket: 1 when the container closes at once. */
static inline int kt_js_open_empty(struct kt_js_scan *s, char close)
{
        s->p++;
        kt_js_skip_ws(s);
        if (s->p < s->end && *s->p == close) {
                s->p++;
                return 1;
        }
        return 0;
}

/* After an item: 1 when a comma announces another, 0 closed, -1 bad. */
/* c and one space, as pmacct separates: taken at once. */
static inline int kt_js_pmacct_sep(struct kt_js_scan *s, char c)
{
        if (s->end - s->p < 3 || s->p[0] != c || s->p[1] != ' ' ||
            (unsigned char)s->p[2] <= ' ')
                return 0;
        s->p += 2;
        return 1;
}

static inline int kt_js_next_item(struct kt_js_scan *s, char close)
{
        if (kt_js_pmacct_sep(s, ','))
                return 1;
        kt_js_skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
                s->p++;
                kt_js_skip_ws(s);
                return 1;
        }
        return kt_js_expect(s, close) == -1 ? -1 : 0;
}

/*
 * A member's name and its colon, up to the value.  At the top: "\u0064t"
 * is "dt", and escaped names would slip past the checks on names, so
 * they are refused (pmacct never writes them).
 */
static inline __attribute__((always_inline)) int
kt_js_name(struct kt_js_scan *s, struct kt_tok *key, int top)
{
        int escapes = s->escapes;

        if (s->p == s->end || *s->p != '"')
                return kt_js_unexpected(s);
        if (kt_js_string(s, key) == -1)
                return -1;
        if (top && s->escapes != escapes)
                return kt_js_fail(s, "field name with an escape sequence at "
                                  "byte %d", key->start);
        if (kt_js_pmacct_sep(s, ':'))
                return 0;
        kt_js_skip_ws(s);
        if (kt_js_expect(s, ':') == -1)
                return -1;
        kt_js_skip_ws(s);
        return 0;
}

/* A value of a member of the line: strings and numbers without a call. */
static inline __attribute__((always_inline)) int
kt_js_member_value(struct kt_js_scan *s, struct kt_tok *v)
{
        int r;

        if (s->p == s->end)
                return kt_js_unexpected(s);
        if (*s->p == '"')
                return kt_js_string(s, v);
        if (*s->p != '-' && !kt_js_is_digit(*s->p))
                return kt_js_value(s, 2, v);
        v->type = KT_TOK_PRIMITIVE;
        v->start = kt_js_at(s);
        r = kt_js_number(s);
        v->end = kt_js_at(s);
        v->natural = r == 1;
        return r == -1 ? -1 : 0;
}

/*
 * The line's object, at s->p: scan_object() at depth 1, each member
 * handed to the callback as it is read.
 */
/* The callback is an argument, not in *s: s reaches the cold functions,
 * cb does not, so the compiler can see through it. */
static inline __attribute__((always_inline)) int
kt_js_members(struct kt_js_scan *s, struct kt_tok *root,
              const struct kt_json_cb *cb)
{
        struct kt_tok key, value;
        int r = 0;

        root->type = KT_TOK_OBJECT;
        root->start = kt_js_at(s);
        if (!kt_js_open_empty(s, '}'))
                do {
                        if (kt_js_name(s, &key, 1) == -1 ||
                            kt_js_member_value(s, &value) == -1 ||
                            cb->member(cb->opaque, &key, &value) == -1)
                                return -1;
                } while ((r = kt_js_next_item(s, '}')) == 1);
        root->end = kt_js_at(s);
        return r;
}

/*
 * Scans js[0..len): with cb, the members of a top-level object go to
 * cb->member as they are read; a top-level name holding an escape
 * sequence is refused (checks on names would miss "\u0064t").  *root
 * gets the top value.  Returns 0, or -1 with one line in err (unless
 * the callback stopped the scan).  Lines over 2 GiB are refused.
 */
static inline __attribute__((always_inline)) int
kt_json_scan(const char *js, size_t len, const struct kt_json_cb *cb,
             struct kt_tok *root, char *err, size_t errlen)
{
        struct kt_js_scan s = { js, js, js + len, 0, err, errlen };
        const char *nul;

        if (len > 0x7fffffff)
                return kt_js_fail(&s, "line longer than 2 GiB");
        kt_js_skip_ws(&s);
        if (s.p == s.end)
                return kt_js_fail(&s, "empty line");
        if (cb != NULL && *s.p == '{' ? kt_js_members(&s, root, cb) == -1
                                      : kt_js_value(&s, 1, root) == -1)
                goto bad;
        kt_js_skip_ws(&s);
        if (s.p == s.end)
                return 0;
        kt_js_fail(&s, "not JSON: trailing data at byte %d", kt_js_at(&s));
bad:
        /* The scan stops there anyway: only then is a NUL looked for. */
        if ((nul = memchr(js, '\0', len)) != NULL)
                kt_js_fail(&s, "NUL byte at byte %d", (int)(nul - js));
        return -1;
}

#endif /* KT_JSONSCAN_H */
