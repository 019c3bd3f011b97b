/*
 * transform.c: pmacct JSON line -> enveloped event, without a DOM.
 *
 * jsmn splits the line into tokens; jsmn alone is lax (it does not check
 * commas, colons, literals or UTF-8), so check_value() walks the tokens
 * and verifies the bytes between and inside them against RFC 8259.  The
 * top-level members found on the way are then copied into the envelope.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transform.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

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
        int64_t sec; /* or -1 */
        char    prefix[20]; /* "2026-11-23T08:33:20." */
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
        char           **dt_sources;
        size_t           n_dt_sources;
        char            *key_field;
        enum kt_dt_fallback dt_fallback;
        kt_local_to_utc_fn  tz_fn;
        void               *tz_arg;
        struct tz_slot      tz_cache[TZ_CACHE_SLOTS];
        struct iso_slot     iso_cache[2]; /* ingest and event times */

        /* scratch, reused from line to line */
        jsmntok_t     *tok;
        unsigned int   tok_cap;
        int            ntok;
        struct member *members;
        size_t         n_members, members_cap;
        struct name   *names;   /* output names, to catch collisions */
        size_t         n_names, names_cap;
        char          *out;
        size_t         out_len, out_cap;
        const char    *js; /* the line being worked on */

        char err[256];
};


/* --- errors ----------------------------------------------------------- */


/* Quoted excerpts are cut by bytes: mend what the cut broke. */
static void sanitize_utf8(char *msg)
{
        unsigned char *s = (unsigned char *)msg;
        unsigned char *end = s + strlen(msg);
        int n;

        while (s < end) {
                if (*s < 0x80)
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

/* --- strict checks over jsmn's tokens ----------------------------------- */

/* Offsets of a token including a string's quotes. */
static int outer_start(const jsmntok_t *k)
{
        return k->type == JSMN_STRING ? k->start - 1 : k->start;
}

static int outer_end(const jsmntok_t *k)
{
        return k->type == JSMN_STRING ? k->end + 1 : k->end;
}

/* Is js[from..to) whitespace, or whitespace, sep, whitespace? */
static int gap_ok(const char *js, int from, int to, char sep)
{
        /* pmacct writes "a": 1, "b" and nothing else: the fast path. */
        if (sep != 0 && to - from == 2 && js[from] == sep &&
            js[from + 1] == ' ')
                return 1;
        if (from == to)
                return sep == 0;
        if (from > to)
                return 0;
        while (from < to && is_ws(js[from]))
                from++;
        if (sep != 0) {
                if (from == to || js[from] != sep)
                        return 0;
                from++;
                while (from < to && is_ws(js[from]))
                        from++;
        }
        return from == to;
}

static int is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_ok(const char *s, const char *end)
{
        if (s < end && *s == '-')
                s++;
        if (s == end || !is_digit(*s))
                return 0;
        if (*s++ == '0' && s < end && is_digit(*s))
                return 0;
        while (s < end && is_digit(*s))
                s++;
        if (s < end && *s == '.') {
                if (++s == end || !is_digit(*s))
                        return 0;
                while (s < end && is_digit(*s))
                        s++;
        }
        if (s < end && (*s == 'e' || *s == 'E')) {
                s++;
                if (s < end && (*s == '+' || *s == '-'))
                        s++;
                if (s == end || !is_digit(*s))
                        return 0;
                while (s < end && is_digit(*s))
                        s++;
        }
        return s == end;
}

static int literal_is(const char *s, size_t len, const char *lit)
{
        return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int check_primitive(struct kt_transform *t, const jsmntok_t *k)
{
        const char *s = t->js + k->start;
        size_t len = (size_t)(k->end - k->start);

        if (literal_is(s, len, "true") || literal_is(s, len, "false") ||
            literal_is(s, len, "null") || number_ok(s, s + len))
                return 0;
        return fail(t, "not JSON: bad value '%.*s' at byte %d",
                    len > 32 ? 32 : (int)len, s, k->start);
}

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

/* jsmn checked the escapes; what is left is raw control bytes and UTF-8. */
static int check_string(struct kt_transform *t, const jsmntok_t *k)
{
        const unsigned char *s = (const unsigned char *)t->js + k->start;
        const unsigned char *end = (const unsigned char *)t->js + k->end;
        int n;

        while (s < end) {
                /* Most bytes are plain ASCII: skip them in a tight loop. */
                while (s < end && *s >= 0x20 && *s < 0x80 && *s != '\\')
                        s++;
                if (s == end)
                        break;
                if (*s == '\\') {
                        s += 2;
                } else if (*s < 0x20) {
                        return fail(t, "not JSON: control character 0x%02x "
                                    "in a string at byte %d", *s,
                                    (int)((const char *)s - t->js));
                } else if (*s < 0x80) {
                        s++;
                } else if ((n = kt_utf8_len(s, end)) > 0) {
                        s += n;
                } else {
                        return fail(t, "invalid UTF-8 at byte %d",
                                    (int)((const char *)s - t->js));
                }
        }
        return 0;
}

static int syntax_error(struct kt_transform *t, int at)
{
        return fail(t, "not JSON: unexpected '%c' at byte %d",
                    t->js[at] >= 0x20 && t->js[at] < 0x7f ? t->js[at] : '?',
                    at);
}

/* Bounds- and shape-checks the next token, a container member or element. */
static int next_token(struct kt_transform *t, int *i, int pos, int limit)
{
        const jsmntok_t *k;

        if (*i >= t->ntok)
                return syntax_error(t, pos);
        k = &t->tok[*i];
        if (outer_start(k) < pos || outer_end(k) > limit)
                return syntax_error(t, pos);
        return 0;
}

static int add_member(struct kt_transform *t, int key, int value)
{
        if (t->n_members == t->members_cap) {
                size_t cap = t->members_cap ? t->members_cap * 2 : 32;
                struct member *m = realloc(t->members, cap * sizeof(*m));

                if (m == NULL)
                        return fail(t, "out of memory");
                t->members = m;
                t->members_cap = cap;
        }
        t->members[t->n_members].key = key;
        t->members[t->n_members].value = value;
        t->members[t->n_members].rule = NULL;
        t->n_members++;
        return 0;
}

static int check_value(struct kt_transform *t, int *i, int depth);

/* One member of an object at *i: key, colon, value. */
static int check_member(struct kt_transform *t, int *i, int *pos, int limit,
                        int depth)
{
        const jsmntok_t *key = &t->tok[*i];
        int key_index = *i;

        if (key->type != JSMN_STRING || key->size != 1)
                return syntax_error(t, outer_start(key));
        if (check_string(t, key) == -1)
                return -1;
        *pos = outer_end(key);
        (*i)++;
        if (next_token(t, i, *pos, limit) == -1)
                return -1;
        if (!gap_ok(t->js, *pos, outer_start(&t->tok[*i]), ':'))
                return syntax_error(t, *pos);
        if (depth == 1 && add_member(t, key_index, *i) == -1)
                return -1;
        return 0;
}

static int check_container(struct kt_transform *t, int *i, int depth)
{
        const jsmntok_t *c = &t->tok[(*i)++];
        int pos = c->start + 1, limit = c->end - 1, n, v;

        for (n = 0; n < c->size; n++) {
                if (next_token(t, i, pos, limit) == -1)
                        return -1;
                if (!gap_ok(t->js, pos, outer_start(&t->tok[*i]),
                            n > 0 ? ',' : 0))
                        return syntax_error(t, pos);
                if (c->type == JSMN_OBJECT &&
                    check_member(t, i, &pos, limit, depth) == -1)
                        return -1;
                v = *i;
                if (check_value(t, i, depth + 1) == -1)
                        return -1;
                pos = outer_end(&t->tok[v]);
        }
        if (!gap_ok(t->js, pos, limit, 0))
                return syntax_error(t, pos);
        return 0;
}

/* Checks the value at token *i and everything inside it; advances *i. */
static int check_value(struct kt_transform *t, int *i, int depth)
{
        const jsmntok_t *k = &t->tok[*i];

        if (depth > KT_MAX_DEPTH)
                return fail(t, "not JSON: nesting deeper than %d at byte %d",
                            KT_MAX_DEPTH, outer_start(k));
        switch (k->type) {
        case JSMN_OBJECT:
        case JSMN_ARRAY:
                return check_container(t, i, depth);
        case JSMN_STRING:
        case JSMN_PRIMITIVE:
                if (k->size != 0)
                        return syntax_error(t, outer_end(k));
                (*i)++;
                return k->type == JSMN_STRING ? check_string(t, k)
                                              : check_primitive(t, k);
        default:
                return syntax_error(t, k->start);
        }
}

static int tokenize(struct kt_transform *t, const char *js, size_t len)
{
        jsmn_parser p;
        int r;

        jsmn_init(&p);
        for (;;) {
                r = jsmn_parse(&p, js, len, t->tok, t->tok_cap);
                if (r != JSMN_ERROR_NOMEM)
                        break;
                jsmntok_t *tok = realloc(t->tok, 2 * t->tok_cap *
                                                 sizeof(*tok));
                if (tok == NULL)
                        return fail(t, "out of memory");
                t->tok = tok;
                t->tok_cap *= 2;
        }
        if (r == JSMN_ERROR_INVAL)
                return syntax_error(t, (int)p.pos < (int)len ? (int)p.pos : 0);
        if (r == JSMN_ERROR_PART)
                return fail(t, "not JSON: unexpected end of input");
        if (r == 0)
                return fail(t, "empty line");
        t->ntok = r;
        return 0;
}

static size_t count_byte(const char *s, size_t len, char c, size_t stop)
{
        const char *end = s + len;
        size_t n = 0;

        while (n <= stop && (s = memchr(s, c, (size_t)(end - s))) != NULL) {
                n++;
                s++;
        }
        return n;
}

/*
 * jsmn closes a container by walking up its parents: deep nesting costs
 * depth squared.  Refuse it before jsmn sees it.  pmacct's records hold
 * one '{' and no '[', so the exact scan below almost never runs.
 */
static int check_nesting(struct kt_transform *t, const char *js, size_t len)
{
        size_t i;
        int depth = 0, in_string = 0;

        if (count_byte(js, len, '{', KT_MAX_DEPTH) +
            count_byte(js, len, '[', KT_MAX_DEPTH) <= KT_MAX_DEPTH)
                return 0;
        for (i = 0; i < len; i++) {
                char c = js[i];

                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = 0;
                } else if (c == '"') {
                        in_string = 1;
                } else if (c == '{' || c == '[') {
                        if (++depth > KT_MAX_DEPTH)
                                return fail(t, "not JSON: nesting deeper "
                                            "than %d at byte %zu",
                                            KT_MAX_DEPTH, i);
                } else if (c == '}' || c == ']') {
                        depth--;
                }
        }
        return 0;
}

/* Strict jsmn wants a delimiter after a primitive, even at the end. */
static int check_bare_primitive(struct kt_transform *t, int first, int len)
{
        while (len > first && is_ws(t->js[len - 1]))
                len--;
        t->tok[0].type = JSMN_PRIMITIVE;
        t->tok[0].start = first;
        t->tok[0].end = len;
        t->tok[0].size = 0;
        t->ntok = 1;
        return check_primitive(t, &t->tok[0]);
}

/* The whole of js[0..len) must be one JSON value, nothing else. */
static int check_document(struct kt_transform *t, const char *js, size_t len)
{
        int i = 0, first = 0;

        if (len > 0x7fffffff)
                return fail(t, "line longer than 2 GiB");
        if (memchr(js, '\0', len) != NULL)
                return fail(t, "NUL byte at byte %d",
                            (int)((const char *)memchr(js, '\0', len) - js));
        t->js = js;
        t->n_members = 0;
        while (first < (int)len && is_ws(js[first]))
                first++;
        if (first < (int)len && strchr("{[\"", js[first]) == NULL)
                return check_bare_primitive(t, first, (int)len);
        if (check_nesting(t, js, len) == -1 || tokenize(t, js, len) == -1)
                return -1;
        if (outer_start(&t->tok[0]) != first)
                return syntax_error(t, first);
        if (check_value(t, &i, 1) == -1)
                return -1;
        if (i != t->ntok || !gap_ok(js, outer_end(&t->tok[0]), (int)len, 0))
                return fail(t, "not JSON: trailing data after byte %d",
                            outer_end(&t->tok[0]));
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
        const jsmntok_t *v = &t->tok[m->value];
        const jsmntok_t *k = &t->tok[m->key];
        int r = -1;

        /* A dt source is often a time field too: parse it once. */
        if (m->time_state != 2) {
                *ms = m->time_ms;
                r = m->time_state;
        } else if (v->type == JSMN_STRING || v->type == JSMN_PRIMITIVE) {
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
        t->iso_cache[0].sec = t->iso_cache[1].sec = -1;
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
        for (i = 0; i < t->n_dt_sources; i++)
                free(t->dt_sources[i]);
        free(t->rules);
        free(t->consts);
        free(t->dt_sources);
        free(t->dt_hit);
        free(t->key_field);
        free(t->schema);
        free(t->stream);
        free(t->domain);
        free(t->tok);
        free(t->members);
        free(t->names);
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

static unsigned name_hash(const char *p, size_t len)
{
        uint32_t h = 2166136261u; /* FNV-1a */

        while (len-- > 0)
                h = (h ^ (unsigned char)*p++) * 16777619u;
        return h & (RULE_SLOTS - 1);
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

static int add_string(struct kt_transform *t, char ***list, size_t *n,
                      const char *s)
{
        char **l;

        if (check_name(t, s) == -1)
                return -1;
        l = realloc(*list, (*n + 1) * sizeof(*l));
        if (l == NULL)
                return fail(t, "out of memory");
        *list = l;
        if ((l[*n] = strdup(s)) == NULL)
                return fail(t, "out of memory");
        (*n)++;
        return 0;
}

int kt_transform_add_dt_source(struct kt_transform *t, const char *field)
{
        struct rule *r;
        int *hit;

        if (add_string(t, &t->dt_sources, &t->n_dt_sources, field) == -1)
                return -1;
        if ((hit = realloc(t->dt_hit, t->n_dt_sources * sizeof(*hit))) == NULL)
                return fail(t, "out of memory");
        t->dt_hit = hit;
        if ((r = rule_for(t, field)) == NULL)
                return fail(t, "out of memory or too many field rules");
        if (r->dt_rank < 0)
                r->dt_rank = (int)t->n_dt_sources - 1;
        return 0;
}

int kt_transform_set_key(struct kt_transform *t, const char *field)
{
        if (check_name(t, field) == -1)
                return -1;
        free(t->key_field);
        if ((t->key_field = strdup(field)) == NULL)
                return fail(t, "out of memory");
        for (size_t i = 0; i < t->n_rules; i++)
                t->rules[i].roles &= ~(unsigned)ROLE_KEY;
        return add_role(t, field, ROLE_KEY);
}

/* --- the line ------------------------------------------------------------ */

static int value_is(const struct kt_transform *t, const struct member *m,
                    const char *s)
{
        const jsmntok_t *v = &t->tok[m->value];

        return v->type == JSMN_STRING &&
               literal_is(t->js + v->start, (size_t)(v->end - v->start), s);
}

static int64_t value_integer(const struct kt_transform *t,
                             const struct member *m)
{
        const jsmntok_t *v = &t->tok[m->value];
        int64_t n = 0;
        int i;

        if (v->type != JSMN_PRIMITIVE || v->end - v->start > 18)
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

static int keys_equal(const struct kt_transform *t, const jsmntok_t *a,
                      const jsmntok_t *b)
{
        return a->end - a->start == b->end - b->start &&
               memcmp(t->js + a->start, t->js + b->start,
                      (size_t)(a->end - a->start)) == 0;
}

static int duplicate(struct kt_transform *t, const jsmntok_t *k)
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
                const jsmntok_t *k = &t->tok[t->members[i].key];

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

static int check_duplicates(struct kt_transform *t)
{
        size_t i, j;

        if (t->n_members > 64)
                return check_duplicates_sorted(t);
        for (i = 1; i < t->n_members; i++)
                for (j = 0; j < i; j++)
                        if (keys_equal(t, &t->tok[t->members[i].key],
                                       &t->tok[t->members[j].key]))
                                return duplicate(t, &t->tok[t->members[i].key]);
        return 0;
}

static const struct rule *find_rule(const struct kt_transform *t,
                                    const struct member *m)
{
        const jsmntok_t *k = &t->tok[m->key];
        const char *name = t->js + k->start;
        size_t len = (size_t)(k->end - k->start);
        unsigned slot = name_hash(name, len);
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

/* Times repeat within a second: format the date once per second. */
static void put_iso(struct kt_transform *t, int64_t ms, int slot)
{
        struct iso_slot *c = &t->iso_cache[slot];
        char iso[KT_ISO_LEN + 1];

        if (c->sec != ms / 1000) {
                kt_format_iso8601(ms, iso);
                memcpy(c->prefix, iso, sizeof(c->prefix));
                c->sec = ms / 1000;
        }
        put(t, c->prefix, sizeof(c->prefix));
        t->out[t->out_len++] = (char)('0' + ms % 1000 / 100);
        t->out[t->out_len++] = (char)('0' + ms % 100 / 10);
        t->out[t->out_len++] = (char)('0' + ms % 10);
        t->out[t->out_len++] = 'Z';
}

/* An integer field: "2" -> 2; numbers stay as they are. */
static int put_integer(struct kt_transform *t, const struct member *m)
{
        const jsmntok_t *v = &t->tok[m->value];
        const jsmntok_t *k = &t->tok[m->key];
        const char *s = t->js + v->start;
        int len = v->end - v->start, neg = len > 0 && s[0] == '-';
        int digits = len - neg;

        if (v->type == JSMN_PRIMITIVE && (is_digit(s[0]) || s[0] == '-')) {
                put(t, s, (size_t)len);
                return 0;
        }
        if (v->type == JSMN_STRING && digits >= 1 && digits <= 20 &&
            number_ok(s, s + len) && memchr(s, '.', (size_t)len) == NULL &&
            memchr(s, 'e', (size_t)len) == NULL &&
            memchr(s, 'E', (size_t)len) == NULL &&
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
static int claim_name(struct kt_transform *t, const char *p, size_t len)
{
        size_t i;
        struct name *n;

        if (!t->renaming)
                return 0;
        for (i = 0; i < t->n_names; i++)
                if (t->names[i].len == len && memcmp(t->names[i].p, p, len) == 0)
                        return fail(t, "two fields named \"%.*s\" after "
                                    "renames and constants", (int)len, p);
        if (t->n_names == t->names_cap) {
                size_t cap = t->names_cap ? t->names_cap * 2 : 32;

                if ((n = realloc(t->names, cap * sizeof(*n))) == NULL)
                        return fail(t, "out of memory");
                t->names = n;
                t->names_cap = cap;
        }
        t->names[t->n_names].p = p;
        t->names[t->n_names].len = len;
        t->n_names++;
        return 0;
}

static int put_member(struct kt_transform *t, struct member *m)
{
        const struct rule *r = m->rule;
        const jsmntok_t *k = &t->tok[m->key], *v = &t->tok[m->value];
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
        const jsmntok_t *v;

        ev->key = NULL;
        ev->key_len = 0;
        if (t->role_key < 0)
                return;
        m = &t->members[t->role_key];
        v = &t->tok[m->value];
        if (v->type == JSMN_PRIMITIVE && t->js[v->start] == 'n')
                return;
        ev->key = t->js + v->start;
        ev->key_len = (size_t)(v->end - v->start);
}

static int put_members(struct kt_transform *t)
{
        size_t i;
        struct member *m;

        t->n_names = 0;
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
        if (t->tok[0].type != JSMN_OBJECT) {
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
