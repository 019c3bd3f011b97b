/*
 * transform.c: pmacct JSON line -> enveloped event, without a DOM.
 *
 * One strict pass checks the line against RFC 8259 and notes where its
 * top-level members are (check_document); the members are then copied
 * byte for byte into the envelope.  jsmn was tried first: it is lax
 * (commas, colons, literals, UTF-8 unchecked) and checking its tokens
 * afterwards cost twice a single pass.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform.h"

enum tok_type { T_OBJECT = 1, T_ARRAY, T_STRING, T_PRIMITIVE };

/* A value or a key in the line; a string's inside, without its quotes. */
struct tok {
        int type;
        int start, end;
};

#define RULE_DROP    0x01
#define RULE_KEEP    0x02
#define RULE_INTEGER 0x04
#define RULE_TIME    0x08

#define TZ_CACHE_SLOTS 16

#define ROLE_EVENT_TYPE 0x01
#define ROLE_PURGED     0x02
#define ROLE_KEY        0x04

#define RULE_SLOTS 256 /* hash of rules by name: a power of two */

struct rule {
        char  *name;
        size_t name_len;
        char  *rename;   /* JSON-escaped new name, or NULL */
        size_t rename_len;
        unsigned flags;
        unsigned roles;  /* ROLE_*: fields the transform looks at */
        int      dt_rank; /* position in the dt sources, or -1 */
};

struct member {
        int                key;   /* token index */
        int                value; /* token index */
        const struct rule *rule;
        unsigned           hash;  /* name_hash of the key */
        int                time_state; /* kt_parse_time's result, or 2 */
        int64_t            time_ms;
};

struct name {
        const char *p;
        size_t      len;
};

struct constant {
        char  *name;  /* JSON-escaped */
        size_t name_len;
        char  *json;
        size_t json_len;
};

struct iso_slot {
        int64_t day; /* days since the epoch, or -1 */
        char    date[11]; /* "2026-11-23T" */
};

struct tz_slot {
        int64_t minute_key; /* yyyymmddhhmm, or -1 */
        int64_t epoch;
};

struct kt_transform {
        /* envelope pieces, JSON-escaped */
        char *schema, *stream, *domain;

        size_t           schema_len, stream_len, domain_len;
        struct rule     *rules;
        size_t           n_rules;
        size_t           renames_len;
        uint16_t         rule_slot[RULE_SLOTS]; /* rule index + 1, or 0 */
        int              role_event_type, role_purged, role_key;
        int             *dt_hit; /* member of each dt source, or -1 */
        int              keeping;  /* an allowlist is in force */
        int              renaming; /* output names may collide */
        struct constant *consts;
        size_t           n_consts;
        size_t           consts_len;
        size_t           n_dt_sources;
        enum kt_dt_fallback dt_fallback;
        kt_local_to_utc_fn  tz_fn;
        void               *tz_arg;
        struct tz_slot      tz_cache[TZ_CACHE_SLOTS];
        struct iso_slot     iso_cache[2]; /* ingest and event times */

        /* scratch, reused from line to line */
        struct tok    *tok;     /* the document, then key and value pairs */
        size_t         tok_cap;
        struct member *members;
        size_t         n_members, members_cap;
        struct name   *names;   /* output names, to catch collisions */
        size_t         n_names, names_cap;
        uint32_t      *name_slots; /* hash of names: index + 1, or 0 */
        size_t         name_slots_cap, name_mask;
        char          *out;
        size_t         out_len, out_cap;
        const char    *js; /* the line being worked on */

        char err[256];
};


/* --- errors ----------------------------------------------------------- */


/* Quoted excerpts are cut by bytes: mend what the cut broke, and keep
 * control bytes of the input out of a one-line message. */
static void sanitize_utf8(char *msg)
{
        unsigned char *s = (unsigned char *)msg;
        unsigned char *end = s + strlen(msg);
        int n;

        while (s < end) {
                if (*s < 0x20 || *s == 0x7f)
                        *s++ = '?'; /* messages reach terminals */
                else if (*s < 0x80)
                        s++;
                else if ((n = kt_utf8_len(s, end)) > 0)
                        s += n;
                else
                        *s++ = '?';
        }
}

__attribute__((format(printf, 2, 3)))
static int fail(struct kt_transform *t, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(t->err, sizeof(t->err), fmt, ap);
        va_end(ap);
        sanitize_utf8(t->err);
        return -1;
}

const char *kt_transform_error(const struct kt_transform *t)
{
        return t->err;
}

/* --- JSON text helpers -------------------------------------------------- */

static int is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Escapes s as the inside of a JSON string (no quotes).  malloc'd. */
static char *json_escape(const char *s)
{
        size_t n = strlen(s);
        char *out = malloc(n * 6 + 1), *p = out;

        if (out == NULL)
                return NULL;
        for (; *s != '\0'; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char)c;
                } else if (c < 0x20) {
                        p += sprintf(p, "\\u%04x", c);
                } else {
                        *p++ = (char)c;
                }
        }
        *p = '\0';
        return out;
}

/* "$schema", "meta", "dt": checked for every member, so no strlen. */
static int is_reserved(const char *name, size_t len)
{
        switch (len) {
        case 2:
                return memcmp(name, "dt", 2) == 0;
        case 4:
                return memcmp(name, "meta", 4) == 0;
        case 7:
                return memcmp(name, "$schema", 7) == 0;
        default:
                return 0;
        }
}

/* --- the strict scanner ------------------------------------------------- */

/*
 * One pass over the line checks it against RFC 8259 (what json-c accepts
 * in strict mode, less json-c's laxities) and records the top-level
 * members: no DOM, no token list of the whole document.  Recursion is
 * bounded by KT_MAX_DEPTH, so no input costs more than linear time.
 */

/* Offsets of a token including a string's quotes. */
static int outer_start(const struct tok *k)
{
        return k->type == T_STRING ? k->start - 1 : k->start;
}

static int outer_end(const struct tok *k)
{
        return k->type == T_STRING ? k->end + 1 : k->end;
}

static int is_digit(char c)
{
        return c >= '0' && c <= '9';
}

struct scan {
        struct kt_transform *t;
        const char          *js;  /* the line */
        const char          *p;   /* the next byte */
        const char          *end;
};

static int at(const struct scan *s)
{
        return (int)(s->p - s->js);
}

static int unexpected(struct scan *s)
{
        if (s->p == s->end)
                return fail(s->t, "not JSON: unexpected end of input");
        return fail(s->t, "not JSON: unexpected '%c' at byte %d",
                    *s->p >= 0x20 && *s->p < 0x7f ? *s->p : '?', at(s));
}

static inline void skip_ws(struct scan *s)
{
        while (s->p < s->end && is_ws(*s->p))
                s->p++;
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
static void skip_plain(struct scan *s)
{
        uint64_t m;
        unsigned char c;

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
        if (s->p == s->end)
                return unexpected(s);
        if (strchr("\"\\/bfnrt", *s->p) != NULL && *s->p != '\0') {
                s->p++;
                return 0;
        }
        if (*s->p != 'u')
                return fail(s->t, "not JSON: bad escape '\\%c' at byte %d",
                            *s->p >= 0x20 && *s->p < 0x7f ? *s->p : '?',
                            at(s) - 1);
        for (s->p++, i = 0; i < 4; i++, s->p++)
                if (s->p == s->end || !isxdigit((unsigned char)*s->p))
                        return fail(s->t, "not JSON: bad \\u escape at "
                                    "byte %d", at(s));
        return 0;
}

/* A string at s->p (its opening quote); k gets its inside. */
static int scan_string(struct scan *s, struct tok *k)
{
        unsigned char c;
        int n;

        k->type = T_STRING;
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
                        return fail(s->t, "not JSON: control character "
                                    "0x%02x in a string at byte %d", c, at(s));
                } else if ((n = kt_utf8_len((const unsigned char *)s->p,
                                            (const unsigned char *)s->end)) > 0) {
                        s->p += n;
                } else {
                        return fail(s->t, "invalid UTF-8 at byte %d", at(s));
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
static int scan_number(struct scan *s)
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

/* -?(0|[1-9][0-9]*): the integers JSON can hold, for integer fields. */
static int integer_ok(const char *p, const char *end)
{
        if (p < end && *p == '-')
                p++;
        if (p == end || !is_digit(*p) || (*p == '0' && end - p > 1))
                return 0;
        while (p < end && is_digit(*p))
                p++;
        return p == end;
}

static int literal_is(const char *s, size_t len, const char *lit)
{
        return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int scan_literal(struct scan *s, const char *lit, size_t n)
{
        if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
                return fail(s->t, "not JSON: bad value at byte %d", at(s));
        s->p += n;
        return 0;
}

static int scan_value(struct scan *s, int depth, struct tok *k);

static int push_member(struct kt_transform *t, const struct tok *key,
                       const struct tok *value);

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
static int next_item(struct scan *s, char close)
{
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
                s->p++;
                skip_ws(s);
                return 1;
        }
        return expect(s, close) == -1 ? -1 : 0;
}

/* An object's members; at depth 1 they are recorded. */
static int scan_object(struct scan *s, int depth)
{
        struct tok key, value;
        int r;

        if (open_empty(s, '}'))
                return 0;
        do {
                if (s->p == s->end || *s->p != '"')
                        return unexpected(s);
                if (scan_string(s, &key) == -1)
                        return -1;
                /* "\u0064t" is "dt": escaped names would slip past
                 * the checks on names, and pmacct never writes them. */
                if (depth == 1 && memchr(s->js + key.start, '\\',
                                         (size_t)(key.end - key.start)))
                        return fail(s->t, "field name with an escape "
                                    "sequence at byte %d", key.start);
                skip_ws(s);
                if (expect(s, ':') == -1)
                        return -1;
                skip_ws(s);
                if (scan_value(s, depth + 1, &value) == -1)
                        return -1;
                if (depth == 1 && push_member(s->t, &key, &value) == -1)
                        return -1;
        } while ((r = next_item(s, '}')) == 1);
        return r;
}

static int scan_array(struct scan *s, int depth)
{
        struct tok value;
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
static int scan_value(struct scan *s, int depth, struct tok *k)
{
        int r;

        if (depth > KT_MAX_DEPTH)
                return fail(s->t, "not JSON: nesting deeper than %d at "
                            "byte %d", KT_MAX_DEPTH, at(s));
        if (s->p == s->end)
                return unexpected(s);
        k->start = at(s);
        switch (*s->p) {
        case '"':
                return scan_string(s, k);
        case '{':
                k->type = T_OBJECT;
                r = scan_object(s, depth);
                break;
        case '[':
                k->type = T_ARRAY;
                r = scan_array(s, depth);
                break;
        case 't':
                k->type = T_PRIMITIVE;
                r = scan_literal(s, "true", 4);
                break;
        case 'f':
                k->type = T_PRIMITIVE;
                r = scan_literal(s, "false", 5);
                break;
        case 'n':
                k->type = T_PRIMITIVE;
                r = scan_literal(s, "null", 4);
                break;
        default:
                k->type = T_PRIMITIVE;
                r = scan_number(s);
                break;
        }
        k->end = at(s);
        return r;
}

static int push_member(struct kt_transform *t, const struct tok *key,
                       const struct tok *value)
{
        size_t need = 1 + 2 * (t->n_members + 1);

        if (need > t->tok_cap) {
                size_t cap = need * 2;
                struct tok *tok = realloc(t->tok, cap * sizeof(*tok));

                if (tok == NULL)
                        return fail(t, "out of memory");
                t->tok = tok;
                t->tok_cap = cap;
        }
        if (t->n_members == t->members_cap) {
                size_t cap = t->members_cap ? t->members_cap * 2 : 32;
                struct member *m = realloc(t->members, cap * sizeof(*m));

                if (m == NULL)
                        return fail(t, "out of memory");
                t->members = m;
                t->members_cap = cap;
        }
        t->tok[need - 2] = *key;
        t->tok[need - 1] = *value;
        t->members[t->n_members].key = (int)need - 2;
        t->members[t->n_members].value = (int)need - 1;
        t->members[t->n_members].rule = NULL;
        t->n_members++;
        return 0;
}

/* The whole of js[0..len) must be one JSON value, nothing else. */
static int check_document(struct kt_transform *t, const char *js, size_t len)
{
        struct scan s = { t, js, js, js + len };
        struct tok root; /* t->tok moves as members are pushed */
        const char *nul;

        if (len > 0x7fffffff)
                return fail(t, "line longer than 2 GiB");
        if ((nul = memchr(js, '\0', len)) != NULL)
                return fail(t, "NUL byte at byte %d", (int)(nul - js));
        t->js = js;
        t->n_members = 0;
        skip_ws(&s);
        if (s.p == s.end)
                return fail(t, "empty line");
        if (scan_value(&s, 1, &root) == -1)
                return -1;
        t->tok[0] = root;
        skip_ws(&s);
        if (s.p != s.end)
                return fail(t, "not JSON: trailing data at byte %d", at(&s));
        return 0;
}

int kt_json_check(struct kt_transform *t, const char *buf, size_t len)
{
        return check_document(t, buf, len);
}

/* --- time ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
        int64_t era, doe, yoe, doy, mp;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put_digits(char *p, int v, int width)
{
        int i;

        for (i = width - 1; i >= 0; i--) {
                p[i] = (char)('0' + v % 10);
                v /= 10;
        }
        return p + width;
}

#define MS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

int kt_format_iso8601(int64_t ms, char out[KT_ISO_LEN + 1])
{
        int64_t days = ms / 86400000, rem = ms % 86400000;
        int y, m, d;
        char *p = out;

        if (ms < 0 || ms > MS_MAX)
                return -1;
        civil_from_days(days, &y, &m, &d);
        p = put_digits(p, y, 4);
        *p++ = '-';
        p = put_digits(p, m, 2);
        *p++ = '-';
        p = put_digits(p, d, 2);
        *p++ = 'T';
        p = put_digits(p, (int)(rem / 3600000), 2);
        *p++ = ':';
        p = put_digits(p, (int)(rem / 60000 % 60), 2);
        *p++ = ':';
        p = put_digits(p, (int)(rem / 1000 % 60), 2);
        *p++ = '.';
        p = put_digits(p, (int)(rem % 1000), 3);
        *p++ = 'Z';
        *p = '\0';
        return 0;
}

/* Reads exactly n digits at *s; -1 if they are not all there. */
static int read_digits(const char **s, const char *end, int n)
{
        int v = 0;

        if (end - *s < n)
                return -1;
        for (; n > 0; n--, (*s)++) {
                if (!is_digit(**s))
                        return -1;
                v = v * 10 + (**s - '0');
        }
        return v;
}

/* ".731040" -> 731 ms; 1 to 9 digits, truncated to ms. */
static int read_fraction(const char **s, const char *end, int *ms)
{
        int n = 0, scale = 100;

        *ms = 0;
        if (*s == end || **s != '.')
                return 0;
        for ((*s)++; *s < end && is_digit(**s); (*s)++, n++) {
                *ms += (**s - '0') * scale;
                scale /= 10;
        }
        return n >= 1 && n <= 9 ? 0 : -1;
}

static int days_in_month(int y, int m)
{
        static const int days[] = { 31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31 };
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : days[m - 1];
}

/* "Z", "+01:00", "-05:30" -> offset in seconds; 1 if none is there. */
static int read_zone(const char **s, const char *end, int *offset)
{
        int sign, h, m;

        if (*s == end)
                return 1;
        if (**s == 'Z' && end - *s == 1) {
                (*s)++;
                *offset = 0;
                return 0;
        }
        if (**s != '+' && **s != '-')
                return -1;
        sign = **s == '-' ? -1 : 1;
        (*s)++;
        h = read_digits(s, end, 2);
        if (h < 0 || h > 23 || *s == end || *(*s)++ != ':')
                return -1;
        m = read_digits(s, end, 2);
        if (m < 0 || m > 59)
                return -1;
        *offset = sign * (h * 3600 + m * 60);
        return 0;
}

static int local_minute(struct kt_transform *t, int y, int mo, int d, int h,
                        int mi, int64_t *epoch)
{
        int64_t key = ((((int64_t)y * 100 + mo) * 100 + d) * 100 + h) * 100
                      + mi;
        struct tz_slot *slot = &t->tz_cache[key % TZ_CACHE_SLOTS];
        struct tm tm = { 0 };

        if (t->tz_fn == NULL) {
                *epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
                return 0;
        }
        if (slot->minute_key == key) {
                *epoch = slot->epoch;
                return 0;
        }
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_isdst = -1;
        if (t->tz_fn(t->tz_arg, &tm, epoch) == -1)
                return -1;
        slot->minute_key = key;
        slot->epoch = *epoch;
        return 0;
}

/* "YYYY-MM-DD HH:MM:SS[.f][Z|+hh:mm]" */
static int parse_datetime(struct kt_transform *t, const char *s,
                          const char *end, int64_t *ms)
{
        int y, mo, d, h, mi, sec, frac, offset, zone;
        int64_t epoch;

        y = read_digits(&s, end, 4);
        if (y < 0 || s == end || *s++ != '-' ||
            (mo = read_digits(&s, end, 2)) < 0 || s == end || *s++ != '-' ||
            (d = read_digits(&s, end, 2)) < 0 || s == end ||
            (*s != ' ' && *s != 'T'))
                return -1;
        s++;
        if ((h = read_digits(&s, end, 2)) < 0 || s == end || *s++ != ':' ||
            (mi = read_digits(&s, end, 2)) < 0 || s == end || *s++ != ':' ||
            (sec = read_digits(&s, end, 2)) < 0 ||
            read_fraction(&s, end, &frac) == -1 ||
            (zone = read_zone(&s, end, &offset)) == -1 || s != end)
                return -1;
        if (y == 0 && mo == 0 && d == 0)
                return 0;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
            d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
                return -1;
        if (zone == 0)
                epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 +
                        mi * 60 - offset;
        else if (local_minute(t, y, mo, d, h, mi, &epoch) == -1)
                return -1;
        *ms = (epoch + sec) * 1000 + frac;
        return *ms < 0 || *ms > MS_MAX ? -1 : 1;
}

/* "1795422833.769141" */
static int parse_epoch(const char *s, const char *end, int64_t *ms)
{
        int64_t sec = 0;
        int frac, digits = 0;

        for (; s < end && is_digit(*s); s++, digits++) {
                if (digits >= 12)
                        return -1;
                sec = sec * 10 + (*s - '0');
        }
        if (digits == 0 || read_fraction(&s, end, &frac) == -1 || s != end)
                return -1;
        *ms = sec * 1000 + frac;
        if (*ms > MS_MAX)
                return -1;
        return *ms == 0 && sec == 0 ? 0 : 1;
}

int kt_parse_time(struct kt_transform *t, const char *s, size_t len,
                  int64_t *ms)
{
        const char *end = s + len;

        if (len >= 5 && s[4] == '-')
                return parse_datetime(t, s, end, ms);
        return parse_epoch(s, end, ms);
}

/* A time member: a string or a number. */
static int member_time(struct kt_transform *t, struct member *m,
                       int64_t *ms)
{
        const struct tok *v = &t->tok[m->value];
        const struct tok *k = &t->tok[m->key];
        int r = -1;

        /* A dt source is often a time field too: parse it once. */
        if (m->time_state != 2) {
                *ms = m->time_ms;
                r = m->time_state;
        } else if (v->type == T_STRING || v->type == T_PRIMITIVE) {
                r = kt_parse_time(t, t->js + v->start,
                                  (size_t)(v->end - v->start), ms);
        }
        m->time_state = r;
        m->time_ms = *ms;
        if (r == -1)
                fail(t, "field %.*s: not a time: %.*s",
                     k->end - k->start, t->js + k->start,
                     v->end - v->start > 40 ? 40 : v->end - v->start,
                     t->js + v->start);
        return r;
}

/* --- building ------------------------------------------------------------ */

static int add_role(struct kt_transform *t, const char *field, unsigned role);

struct kt_transform *kt_transform_new(void)
{
        struct kt_transform *t = calloc(1, sizeof(*t));
        size_t i;

        if (t == NULL)
                return NULL;
        t->tok_cap = 256;
        t->tok = malloc(t->tok_cap * sizeof(*t->tok));
        if (t->tok == NULL) {
                free(t);
                return NULL;
        }
        for (i = 0; i < TZ_CACHE_SLOTS; i++)
                t->tz_cache[i].minute_key = -1;
        t->iso_cache[0].day = t->iso_cache[1].day = -1;
        if (add_role(t, "event_type", ROLE_EVENT_TYPE) == -1 ||
            add_role(t, "purged_entries", ROLE_PURGED) == -1 ||
            kt_transform_set_envelope(t, "", "", "") == -1) {
                kt_transform_free(t);
                return NULL;
        }
        return t;
}

void kt_transform_free(struct kt_transform *t)
{
        size_t i;

        if (t == NULL)
                return;
        for (i = 0; i < t->n_rules; i++) {
                free(t->rules[i].name);
                free(t->rules[i].rename);
        }
        for (i = 0; i < t->n_consts; i++) {
                free(t->consts[i].name);
                free(t->consts[i].json);
        }
        free(t->rules);
        free(t->consts);
        free(t->dt_hit);
        free(t->schema);
        free(t->stream);
        free(t->domain);
        free(t->tok);
        free(t->members);
        free(t->names);
        free(t->name_slots);
        free(t->out);
        free(t);
}

static int replace_escaped(struct kt_transform *t, char **dst, const char *s)
{
        char *e = json_escape(s);

        if (e == NULL)
                return fail(t, "out of memory");
        free(*dst);
        *dst = e;
        return 0;
}

int kt_transform_set_envelope(struct kt_transform *t, const char *schema,
                              const char *stream, const char *domain)
{
        if (replace_escaped(t, &t->schema, schema) == -1 ||
            replace_escaped(t, &t->stream, stream) == -1 ||
            replace_escaped(t, &t->domain, domain) == -1)
                return -1;
        t->schema_len = strlen(t->schema);
        t->stream_len = strlen(t->stream);
        t->domain_len = strlen(t->domain);
        return 0;
}

void kt_transform_set_timezone(struct kt_transform *t, kt_local_to_utc_fn fn,
                               void *arg)
{
        size_t i;

        t->tz_fn = fn;
        t->tz_arg = arg;
        for (i = 0; i < TZ_CACHE_SLOTS; i++)
                t->tz_cache[i].minute_key = -1;
}

void kt_transform_set_dt_fallback(struct kt_transform *t,
                                  enum kt_dt_fallback fallback)
{
        t->dt_fallback = fallback;
}

static int check_name(struct kt_transform *t, const char *name)
{
        if (name == NULL || *name == '\0')
                return fail(t, "empty field name");
        return 0;
}

/* Field names are short and differ at the ends: four bytes will do. */
static unsigned name_hash(const char *p, size_t len)
{
        uint32_t h = (uint32_t)len * 2654435761u;

        if (len > 0)
                h ^= (unsigned char)p[0] * 40503u ^
                     (unsigned char)p[len - 1] * 9973u ^
                     (unsigned char)p[len / 2] * 331u ^
                     (unsigned char)p[len / 3] * 13u;
        return (h ^ h >> 9) & (RULE_SLOTS - 1);
}

/* Rules are looked up for every member of every line: hash them. */
static void index_rules(struct kt_transform *t)
{
        size_t i;
        unsigned slot;

        memset(t->rule_slot, 0, sizeof(t->rule_slot));
        for (i = 0; i < t->n_rules; i++) {
                slot = name_hash(t->rules[i].name, t->rules[i].name_len);
                while (t->rule_slot[slot] != 0)
                        slot = (slot + 1) & (RULE_SLOTS - 1);
                t->rule_slot[slot] = (uint16_t)(i + 1);
        }
}

/* The rule for field name, created on first use. */
static struct rule *rule_for(struct kt_transform *t, const char *name)
{
        size_t i, len = strlen(name);
        struct rule *r;

        for (i = 0; i < t->n_rules; i++)
                if (t->rules[i].name_len == len &&
                    memcmp(t->rules[i].name, name, len) == 0)
                        return &t->rules[i];
        if (t->n_rules >= RULE_SLOTS / 2)
                return NULL;
        r = realloc(t->rules, (t->n_rules + 1) * sizeof(*r));
        if (r == NULL)
                return NULL;
        t->rules = r;
        r = &t->rules[t->n_rules];
        memset(r, 0, sizeof(*r));
        r->dt_rank = -1;
        r->name = strdup(name);
        if (r->name == NULL)
                return NULL;
        r->name_len = len;
        t->n_rules++;
        index_rules(t);
        return r;
}

static int add_role(struct kt_transform *t, const char *field, unsigned role)
{
        struct rule *r = rule_for(t, field);

        if (r == NULL)
                return fail(t, "out of memory or too many field rules");
        r->roles |= role;
        return 0;
}

static int add_flag(struct kt_transform *t, const char *field, unsigned flag)
{
        struct rule *r;

        if (check_name(t, field) == -1)
                return -1;
        if ((r = rule_for(t, field)) == NULL)
                return fail(t, "out of memory or too many field rules");
        r->flags |= flag;
        return 0;
}

int kt_transform_rename(struct kt_transform *t, const char *from,
                        const char *to)
{
        struct rule *r;

        if (check_name(t, from) == -1 || check_name(t, to) == -1)
                return -1;
        if (is_reserved(to, strlen(to)))
                return fail(t, "cannot rename %s to %s: a name of the "
                            "envelope", from, to);
        if ((r = rule_for(t, from)) == NULL ||
            replace_escaped(t, &r->rename, to) == -1)
                return fail(t, "out of memory");
        r->rename_len = strlen(r->rename);
        t->renames_len += r->rename_len;
        t->renaming = 1;
        return 0;
}

int kt_transform_drop(struct kt_transform *t, const char *field)
{
        return add_flag(t, field, RULE_DROP);
}

int kt_transform_keep(struct kt_transform *t, const char *field)
{
        if (add_flag(t, field, RULE_KEEP) == -1)
                return -1;
        t->keeping = 1;
        return 0;
}

int kt_transform_integer(struct kt_transform *t, const char *field)
{
        return add_flag(t, field, RULE_INTEGER);
}

int kt_transform_time(struct kt_transform *t, const char *field)
{
        return add_flag(t, field, RULE_TIME);
}

static char *quote_string(const char *s)
{
        char *e = json_escape(s), *q;

        if (e == NULL)
                return NULL;
        q = malloc(strlen(e) + 3);
        if (q != NULL)
                sprintf(q, "\"%s\"", e);
        free(e);
        return q;
}

int kt_transform_constant(struct kt_transform *t, const char *field,
                          const char *json)
{
        struct constant *c;
        char *value;

        if (check_name(t, field) == -1)
                return -1;
        if (is_reserved(field, strlen(field)))
                return fail(t, "constant %s: a name of the envelope", field);
        if (kt_json_check(t, json, strlen(json)) == 0)
                value = strdup(json);
        else
                value = quote_string(json);
        c = realloc(t->consts, (t->n_consts + 1) * sizeof(*c));
        if (value == NULL || c == NULL) {
                free(value);
                return fail(t, "out of memory");
        }
        t->consts = c;
        c = &t->consts[t->n_consts++];
        c->json = value;
        c->json_len = strlen(value);
        c->name = json_escape(field);
        if (c->name == NULL)
                return fail(t, "out of memory");
        c->name_len = strlen(c->name);
        t->consts_len += c->name_len + c->json_len + 6;
        t->renaming = 1;
        return 0;
}

/* The name lives in its rule; only the order of the sources is kept. */
int kt_transform_add_dt_source(struct kt_transform *t, const char *field)
{
        struct rule *r;
        int *hit;

        if (check_name(t, field) == -1)
                return -1;
        hit = realloc(t->dt_hit, (t->n_dt_sources + 1) * sizeof(*hit));
        if (hit == NULL)
                return fail(t, "out of memory");
        t->dt_hit = hit;
        if ((r = rule_for(t, field)) == NULL)
                return fail(t, "out of memory or too many field rules");
        if (r->dt_rank < 0)
                r->dt_rank = (int)t->n_dt_sources;
        t->n_dt_sources++;
        return 0;
}

int kt_transform_set_key(struct kt_transform *t, const char *field)
{
        size_t i;

        if (check_name(t, field) == -1)
                return -1;
        for (i = 0; i < t->n_rules; i++)
                t->rules[i].roles &= ~(unsigned)ROLE_KEY;
        return add_role(t, field, ROLE_KEY);
}

/* --- the line ------------------------------------------------------------ */

static int value_is(const struct kt_transform *t, const struct member *m,
                    const char *s)
{
        const struct tok *v = &t->tok[m->value];

        return v->type == T_STRING &&
               literal_is(t->js + v->start, (size_t)(v->end - v->start), s);
}

static int64_t value_integer(const struct kt_transform *t,
                             const struct member *m)
{
        const struct tok *v = &t->tok[m->value];
        int64_t n = 0;
        int i;

        if (v->type != T_PRIMITIVE || v->end - v->start > 18)
                return -1;
        for (i = v->start; i < v->end; i++) {
                if (!is_digit(t->js[i]))
                        return -1;
                n = n * 10 + (t->js[i] - '0');
        }
        return n;
}

/* pmacct's purge_init/purge_close frame a purge: skipped, not forwarded. */
static int is_marker(struct kt_transform *t, struct kt_event *ev)
{
        const struct member *m, *n;

        if (t->role_event_type < 0)
                return 0;
        m = &t->members[t->role_event_type];
        if (value_is(t, m, "purge_init"))
                ev->marker = KT_MARKER_PURGE_INIT;
        else if (value_is(t, m, "purge_close"))
                ev->marker = KT_MARKER_PURGE_CLOSE;
        else
                return 0;
        if (ev->marker == KT_MARKER_PURGE_CLOSE && t->role_purged >= 0) {
                n = &t->members[t->role_purged];
                ev->purged_entries = value_integer(t, n);
        }
        return 1;
}

static int keys_equal(const struct kt_transform *t, const struct tok *a,
                      const struct tok *b)
{
        return a->end - a->start == b->end - b->start &&
               memcmp(t->js + a->start, t->js + b->start,
                      (size_t)(a->end - a->start)) == 0;
}

static int duplicate(struct kt_transform *t, const struct tok *k)
{
        return fail(t, "duplicate key \"%.*s\"", k->end - k->start,
                    t->js + k->start);
}

/* qsort has no context argument: the line travels with each key. */
struct sort_key {
        const char *p;
        int         len;
};

static int compare_keys(const void *x, const void *y)
{
        const struct sort_key *a = x, *b = y;
        int r = memcmp(a->p, b->p, (size_t)(a->len < b->len ? a->len
                                                          : b->len));

        return r != 0 ? r : a->len - b->len;
}

/* Many members: sort the keys, O(n log n) instead of O(n^2). */
static int check_duplicates_sorted(struct kt_transform *t)
{
        struct sort_key *keys = malloc(t->n_members * sizeof(*keys));
        size_t i;
        int r = 0;

        if (keys == NULL)
                return fail(t, "out of memory");
        for (i = 0; i < t->n_members; i++) {
                const struct tok *k = &t->tok[t->members[i].key];

                keys[i].p = t->js + k->start;
                keys[i].len = k->end - k->start;
        }
        qsort(keys, t->n_members, sizeof(*keys), compare_keys);
        for (i = 1; i < t->n_members && r == 0; i++)
                if (compare_keys(&keys[i - 1], &keys[i]) == 0)
                        r = fail(t, "duplicate key \"%.*s\"", keys[i].len,
                                 keys[i].p);
        free(keys);
        return r;
}

/* Members are few: a small hash table, cleared per line, finds twins. */
static int check_duplicates(struct kt_transform *t)
{
        uint16_t slot[RULE_SLOTS] = { 0 };
        size_t i;
        unsigned h;
        const struct tok *k;

        if (t->n_members > RULE_SLOTS / 2)
                return check_duplicates_sorted(t);
        for (i = 0; i < t->n_members; i++) {
                k = &t->tok[t->members[i].key];
                h = t->members[i].hash; /* from assign_rules() */
                for (; slot[h] != 0; h = (h + 1) & (RULE_SLOTS - 1))
                        if (keys_equal(t, k, &t->tok[t->members[slot[h] - 1].key]))
                                return duplicate(t, k);
                slot[h] = (uint16_t)(i + 1);
        }
        return 0;
}

static const struct rule *find_rule(const struct kt_transform *t,
                                    struct member *m)
{
        const struct tok *k = &t->tok[m->key];
        const char *name = t->js + k->start;
        size_t len = (size_t)(k->end - k->start);
        unsigned slot = m->hash = name_hash(name, len);
        const struct rule *r;

        while (t->rule_slot[slot] != 0) {
                r = &t->rules[t->rule_slot[slot] - 1];
                if (r->name_len == len && memcmp(r->name, name, len) == 0)
                        return r;
                slot = (slot + 1) & (RULE_SLOTS - 1);
        }
        return NULL;
}

/* One pass: each member's rule, and where the fields of interest are. */
static void assign_rules(struct kt_transform *t)
{
        size_t i;
        struct member *m;
        const struct rule *r;

        t->role_event_type = t->role_purged = t->role_key = -1;
        for (i = 0; i < t->n_dt_sources; i++)
                t->dt_hit[i] = -1;
        for (i = 0; i < t->n_members; i++) {
                m = &t->members[i];
                m->time_state = 2;
                if ((r = m->rule = find_rule(t, m)) == NULL)
                        continue;
                if (r->roles & ROLE_EVENT_TYPE)
                        t->role_event_type = (int)i;
                if (r->roles & ROLE_PURGED)
                        t->role_purged = (int)i;
                if (r->roles & ROLE_KEY)
                        t->role_key = (int)i;
                if (r->dt_rank >= 0 && t->dt_hit[r->dt_rank] < 0)
                        t->dt_hit[r->dt_rank] = (int)i;
        }
}

/* The event time, from the first dt source holding a non-zero time. */
static int event_time(struct kt_transform *t, const struct kt_input *in,
                      int64_t *ms)
{
        size_t i;
        int r;

        for (i = 0; i < t->n_dt_sources; i++) {
                if (t->dt_hit[i] < 0)
                        continue;
                if ((r = member_time(t, &t->members[t->dt_hit[i]], ms)) == -1)
                        return -1;
                if (r == 1)
                        return 0;
        }
        if (t->dt_fallback == KT_DT_REJECT)
                return fail(t, "no event time in any of the dt fields");
        *ms = in->ingest_ms;
        return 0;
}

static int reserve(struct kt_transform *t, size_t need)
{
        char *p;
        size_t cap;

        if (need <= t->out_cap)
                return 0;
        cap = need + need / 2 + 256;
        if ((p = realloc(t->out, cap)) == NULL)
                return fail(t, "out of memory");
        t->out = p;
        t->out_cap = cap;
        return 0;
}

/* Appends without a check: kt_transform_line reserved the worst case. */
static void put(struct kt_transform *t, const char *s, size_t n)
{
        memcpy(t->out + t->out_len, s, n);
        t->out_len += n;
}

#define PUTS(t, lit) put((t), (lit), sizeof(lit) - 1)

/* The calendar is the costly part and the day rarely changes: cache it. */
static void put_iso(struct kt_transform *t, int64_t ms, int slot)
{
        struct iso_slot *c = &t->iso_cache[slot];
        char iso[KT_ISO_LEN + 1], *p;
        int64_t rem = ms % 86400000;

        if (c->day != ms / 86400000) {
                kt_format_iso8601(ms, iso);
                memcpy(c->date, iso, sizeof(c->date));
                c->day = ms / 86400000;
        }
        put(t, c->date, sizeof(c->date));
        p = t->out + t->out_len;
        p = put_digits(p, (int)(rem / 3600000), 2);
        *p++ = ':';
        p = put_digits(p, (int)(rem / 60000 % 60), 2);
        *p++ = ':';
        p = put_digits(p, (int)(rem / 1000 % 60), 2);
        *p++ = '.';
        p = put_digits(p, (int)(rem % 1000), 3);
        *p++ = 'Z';
        t->out_len = (size_t)(p - t->out);
}

/* An integer field: "2" -> 2; numbers stay as they are. */
static int put_integer(struct kt_transform *t, const struct member *m)
{
        const struct tok *v = &t->tok[m->value];
        const struct tok *k = &t->tok[m->key];
        const char *s = t->js + v->start;
        int len = v->end - v->start, neg = len > 0 && s[0] == '-';
        int digits = len - neg;

        if (v->type == T_PRIMITIVE && (is_digit(s[0]) || s[0] == '-')) {
                put(t, s, (size_t)len);
                return 0;
        }
        if (v->type == T_STRING && digits >= 1 && digits <= 20 &&
            integer_ok(s, s + len) &&
            (digits < 19 || (neg ? digits == 19 &&
                             memcmp(s + 1, "9223372036854775808", 19) <= 0
                                 : digits < 20 ||
                             memcmp(s, "18446744073709551615", 20) <= 0))) {
                put(t, s, (size_t)len);
                return 0;
        }
        return fail(t, "field %.*s: not an integer: %.*s", k->end - k->start,
                    t->js + k->start, len > 40 ? 40 : len, s);
}

/* A time field: replaced by ISO-8601 UTC, or left out when zero. */
static int put_time(struct kt_transform *t, struct member *m,
                    const char *name, size_t name_len)
{
        int64_t ms;
        int r = member_time(t, m, &ms);

        if (r <= 0)
                return r;
        PUTS(t, ", \"");
        put(t, name, name_len);
        PUTS(t, "\": \"");
        put_iso(t, ms, 1);
        PUTS(t, "\"");
        return 0;
}

/*
 * Renames and constants can make two output members share a name; input
 * duplicates were refused earlier, so only then is the list consulted.
 */
/*
 * Every byte counts here: a line may hold a million names alike in the
 * few bytes name_hash() samples, and this table grows with the line.
 */
static uint32_t fnv1a(const char *p, size_t len)
{
        uint32_t h = 2166136261u;

        while (len-- > 0)
                h = (h ^ (unsigned char)*p++) * 16777619u;
        return h;
}

/* The table of output names: twice the names a line can have, at least. */
static int reset_names(struct kt_transform *t)
{
        size_t want = 64;
        uint32_t *slots;

        t->n_names = 0;
        if (!t->renaming)
                return 0;
        while (want < 2 * (t->n_members + t->n_consts + 1))
                want *= 2;
        if (want > t->name_slots_cap) {
                if ((slots = realloc(t->name_slots, want * sizeof(*slots))) ==
                    NULL)
                        return fail(t, "out of memory");
                t->name_slots = slots;
                t->name_slots_cap = want;
        }
        t->name_mask = want - 1;
        memset(t->name_slots, 0, want * sizeof(*t->name_slots));
        return 0;
}

/*
 * Renames and constants can make two output members share a name; input
 * duplicates were refused earlier, so only then is the table consulted.
 */
static int claim_name(struct kt_transform *t, const char *p, size_t len)
{
        size_t h;
        struct name *n;

        if (!t->renaming)
                return 0;
        for (h = fnv1a(p, len) & t->name_mask;
             t->name_slots[h] != 0; h = (h + 1) & t->name_mask) {
                n = &t->names[t->name_slots[h] - 1];
                if (n->len == len && memcmp(n->p, p, len) == 0)
                        return fail(t, "two fields named \"%.*s\" after "
                                    "renames and constants", (int)len, p);
        }
        if (t->n_names == t->names_cap) {
                size_t cap = t->names_cap ? t->names_cap * 2 : 32;

                if ((n = realloc(t->names, cap * sizeof(*n))) == NULL)
                        return fail(t, "out of memory");
                t->names = n;
                t->names_cap = cap;
        }
        t->names[t->n_names].p = p;
        t->names[t->n_names].len = len;
        t->name_slots[h] = (uint32_t)++t->n_names;
        return 0;
}

static int put_member(struct kt_transform *t, struct member *m)
{
        const struct rule *r = m->rule;
        const struct tok *k = &t->tok[m->key], *v = &t->tok[m->value];
        const char *name = t->js + k->start;
        size_t name_len = (size_t)(k->end - k->start);

        if (r && ((r->roles & ROLE_EVENT_TYPE) || (r->flags & RULE_DROP)))
                return 0;
        if (t->keeping && !(r && (r->flags & RULE_KEEP)))
                return 0;
        if (r && r->rename) {
                name = r->rename;
                name_len = r->rename_len;
        }
        if (is_reserved(name, name_len))
                return fail(t, "field \"%.*s\": a name of the envelope",
                            (int)name_len, name);
        if (claim_name(t, name, name_len) == -1)
                return -1;
        if (r && (r->flags & RULE_TIME))
                return put_time(t, m, name, name_len);
        PUTS(t, ", \"");
        put(t, name, name_len);
        PUTS(t, "\": ");
        if (r && (r->flags & RULE_INTEGER))
                return put_integer(t, m);
        put(t, t->js + outer_start(v), (size_t)(outer_end(v) - outer_start(v)));
        return 0;
}

static void put_envelope(struct kt_transform *t, const struct kt_input *in,
                         int64_t dt)
{
        PUTS(t, "{\"$schema\": \"");
        put(t, t->schema, t->schema_len);
        PUTS(t, "\", \"meta\": {\"stream\": \"");
        put(t, t->stream, t->stream_len);
        PUTS(t, "\", \"id\": \"");
        put(t, in->id, KT_UUID_LEN);
        PUTS(t, "\", \"dt\": \"");
        put_iso(t, in->ingest_ms, 0);
        PUTS(t, "\", \"domain\": \"");
        put(t, t->domain, t->domain_len);
        PUTS(t, "\"}, \"dt\": \"");
        put_iso(t, dt, 1);
        PUTS(t, "\"");
}

static int put_constants(struct kt_transform *t)
{
        size_t i;
        const struct constant *c;

        for (i = 0; i < t->n_consts; i++) {
                c = &t->consts[i];
                if (claim_name(t, c->name, c->name_len) == -1)
                        return -1;
                PUTS(t, ", \"");
                put(t, c->name, c->name_len);
                PUTS(t, "\": ");
                put(t, c->json, c->json_len);
        }
        return 0;
}

static void set_key(struct kt_transform *t, struct kt_event *ev)
{
        const struct member *m;
        const struct tok *v;

        ev->key = NULL;
        ev->key_len = 0;
        if (t->role_key < 0)
                return;
        m = &t->members[t->role_key];
        v = &t->tok[m->value];
        if (v->type == T_PRIMITIVE && t->js[v->start] == 'n')
                return;
        ev->key = t->js + v->start;
        ev->key_len = (size_t)(v->end - v->start);
}

static int put_members(struct kt_transform *t)
{
        size_t i;
        struct member *m;

        if (reset_names(t) == -1)
                return -1;
        for (i = 0; i < t->n_members; i++) {
                m = &t->members[i];
                if (put_member(t, m) == -1)
                        return -1;
        }
        return 0;
}

enum kt_status kt_transform_line(struct kt_transform *t, const char *line,
                                 size_t len, const struct kt_input *in,
                                 struct kt_event *ev)
{
        int64_t dt;
        size_t worst;

        memset(ev, 0, sizeof(*ev));
        ev->purged_entries = -1;
        t->err[0] = '\0';
        if (check_document(t, line, len) == -1)
                return KT_INVALID;
        if (t->tok[0].type != T_OBJECT) {
                fail(t, "not a JSON object");
                return KT_INVALID;
        }
        assign_rules(t);
        if (is_marker(t, ev))
                return KT_SKIP;
        if (check_duplicates(t) == -1 || event_time(t, in, &dt) == -1)
                return KT_INVALID;
        /* Every member may grow by a renamed key and an ISO time. */
        worst = 256 + t->schema_len + t->stream_len + t->domain_len + len +
                t->consts_len + t->renames_len +
                t->n_members * (KT_ISO_LEN + 16);
        if (reserve(t, worst) == -1)
                return KT_INVALID;
        t->out_len = 0;
        put_envelope(t, in, dt);
        if (put_members(t) == -1 || put_constants(t) == -1)
                return KT_INVALID;
        PUTS(t, "}");
        set_key(t, ev);
        ev->value = t->out;
        ev->value_len = t->out_len;
        ev->timestamp_ms = dt;
        return KT_EVENT;
}
