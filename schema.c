/*
 * schema.c: JSON Schema draft-07, compiled once, checked per event.
 *
 * Loading reads a document (json-c), indexes its "$id"s, and compiles
 * each schema object into a node (struct kt_schema) the first time it is
 * reached, keyed by the json_object, so a $ref cycle ends on the node
 * being compiled.  Every keyword's value is checked at load; a keyword
 * not in the table is refused unless a $ref points into it (the suite's
 * "escaped pointer ref" keeps schemas under arbitrary member names).
 *
 * Checking walks the nodes with one struct val for every kind of value:
 * a json-c value (kt_schema_validate) or a scalar as JSON text
 * (kt_schema_validate_scalar), so both ways share the keyword code.
 * The scalar path allocates nothing: numbers are parsed from their text
 * without strtod when they are plain integers, regexes have their match
 * data from load, and an error is formatted only when it is reported.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <json-c/json.h>
#include <pcre2.h>

#include "formats.h"
#include "names.h" /* kt_same_bytes */
#include "schema.h"
#include "schemanum.h"

/* Numbers. */

/*
 * A plain integer that fits 64 bits: the common case, no strtod.  Up to
 * 19 digits cannot overflow, so their loop has no check (about 1 ns).
 */
static inline int num_plain(const char *s, size_t n, struct kt_num *x)
{
        size_t i = n > 0 && s[0] == '-';
        uint64_t v = 0;

        if (i == n || n - i > 20)
                return -1;
        x->neg = (unsigned char)i;
        if (n - i <= 19) {
                for (; i < n; i++) {
                        unsigned d = (unsigned char)s[i] - '0';

                        if (d > 9)
                                return -1;
                        v = v * 10 + d;
                }
        } else {
                for (; i < n; i++) {
                        unsigned d = (unsigned char)s[i] - '0';

                        if (d > 9 || __builtin_mul_overflow(v, 10, &v) ||
                            __builtin_add_overflow(v, d, &v))
                                return -1;
                }
        }
        x->integral = x->exact = x->dec = 1;
        x->mag = x->sig = v;
        x->exp10 = 0;
        return 0;
}

__extension__ typedef unsigned __int128 u128;

#define SIG_DIGITS 38 /* 10^38 < 2^128: what dec_cmp() can scale */

/* The digits of s[*i..n) into x->sig while they fit; counts them. */
struct digits {
        long     total;   /* digits seen */
        long     last_nz; /* index of the last non-zero digit, or -1 */
        long     nsig;    /* digits in sig (leading zeros aside) */
        long     dropped; /* digits after sig was full */
};

static void num_digits(const char *s, size_t n, size_t *i, struct kt_num *x,
                       struct digits *d)
{
        for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
                unsigned v = (unsigned)(s[*i] - '0');

                if (v != 0)
                        d->last_nz = d->total;
                d->total++;
                if (d->dropped == 0 && d->nsig < SIG_DIGITS) {
                        x->sig = x->sig * 10 + v;
                        d->nsig += x->sig != 0;
                        continue;
                }
                if (v != 0)
                        x->dec = 0;
                d->dropped++;
        }
}

static long num_exponent(const char *s, size_t n, size_t *i)
{
        int neg = 0;
        long e = 0;

        if (*i < n && (s[*i] == '+' || s[*i] == '-'))
                neg = s[(*i)++] == '-';
        if (*i == n)
                return LONG_MIN;
        for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
                if (e < 100000000)
                        e = e * 10 + (s[*i] - '0');
        return neg ? -e : e;
}

/* From the decimal form: is it an integer below 2^64, and which. */
static void num_exact(struct kt_num *x)
{
        u128 m = x->sig;
        int e = x->exp10;

        x->exact = 0;
        if (!x->dec || !x->integral)
                return;
        while (e < 0 && m % 10 == 0 && m != 0) {
                m /= 10;
                e++;
        }
        if (m == 0)
                e = 0;
        for (; e > 0 && m <= UINT64_MAX; e--)
                m *= 10;
        if (e != 0 || m > UINT64_MAX)
                return;
        x->mag = (uint64_t)m;
        x->exact = 1;
}

static void num_strtold(const char *s, size_t n, struct kt_num *x)
{
        char buf[128], *p = buf;

        if (n == 0) {
                x->ld = NAN; /* no number: in no range */
                return;
        }
        if (n >= sizeof(buf) && (p = malloc(n + 1)) == NULL) {
                x->ld = x->neg ? -HUGE_VALL : HUGE_VALL;
                return;
        }
        memcpy(p, s, n);
        p[n] = '\0';
        x->ld = strtold(p, NULL);
        if (p != buf)
                free(p);
}

/* RFC 8259 number text; 0, or -1 when it is not that grammar. */
static int num_general(const char *s, size_t n, struct kt_num *x)
{
        struct digits d = { 0, -1, 0, 0 };
        size_t i = n > 0 && s[0] == '-';
        long nint, nfrac = 0, e = 0;

        memset(x, 0, sizeof(*x));
        x->neg = (unsigned char)i;
        x->dec = 1;
        num_digits(s, n, &i, x, &d);
        nint = d.total;
        if (nint == 0)
                return -1;
        if (i < n && s[i] == '.') {
                i++;
                num_digits(s, n, &i, x, &d);
                nfrac = d.total - nint;
                if (nfrac == 0)
                        return -1;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if ((e = num_exponent(s, n, &i)) == LONG_MIN)
                        return -1;
        }
        if (i != n)
                return -1;
        x->integral = d.last_nz < 0 || d.last_nz < nint + e;
        if (e - nfrac + d.dropped > INT32_MAX / 2 ||
            e - nfrac + d.dropped < INT32_MIN / 2)
                x->dec = 0;
        else
                x->exp10 = (int)(e - nfrac + d.dropped);
        num_exact(x);
        if (!x->exact)
                num_strtold(s, n, x);
        return 0;
}

void kt_num_parse(const char *s, size_t n, struct kt_num *x)
{
        if (num_plain(s, n, x) == 0 || num_general(s, n, x) == 0)
                return;
        /* not JSON (json-c takes NaN, Infinity): what strtold makes */
        memset(x, 0, sizeof(*x));
        num_strtold(s, n, x);
        x->neg = signbit(x->ld) != 0;
        x->integral = isfinite(x->ld) && x->ld == truncl(x->ld);
}

static long double num_ld(const struct kt_num *x)
{
        if (!x->exact)
                return x->ld;
        return x->neg ? -(long double)x->mag : (long double)x->mag;
}

static int ndigits(u128 v)
{
        int n = 1;

        for (; v >= 10; v /= 10)
                n++;
        return n;
}

/* |a| against |b|, two non-zero decimals: exact. */
static int dec_cmp(const struct kt_num *a, const struct kt_num *b)
{
        int da = ndigits(a->sig), db = ndigits(b->sig);
        long oa = da + (long)a->exp10, ob = db + (long)b->exp10;
        u128 x = a->sig, y = b->sig;

        if (oa != ob) /* orders of magnitude */
                return oa < ob ? -1 : 1;
        for (; da < db; da++)
                x *= 10;
        for (; db < da; db++)
                y *= 10;
        return (x > y) - (x < y);
}

/* Exact when both have at most 38 significant digits. */
int kt_num_cmp(const struct kt_num *a, const struct kt_num *b)
{
        if (a->dec && b->dec) {
                int az = a->sig == 0, bz = b->sig == 0;
                int an = a->neg && !az, bn = b->neg && !bz, r;

                if (an != bn)
                        return an ? -1 : 1;
                if (az || bz)
                        return az && bz ? 0 : az ? (bn ? 1 : -1) :
                               (an ? -1 : 1);
                r = dec_cmp(a, b);
                return an ? -r : r;
        }
        long double x = num_ld(a), y = num_ld(b);

        if (x < y)
                return -1;
        if (x > y)
                return 1;
        return x == y ? 0 : 2;
}

/* 10^k mod m, m > 0. */
static uint64_t pow10_mod(long k, uint64_t m)
{
        uint64_t r = 1 % m, b = 10 % m;

        for (; k > 0; k >>= 1) {
                if (k & 1)
                        r = (uint64_t)((u128)r * b % m);
                b = (uint64_t)((u128)b * b % m);
        }
        return r;
}

/* A * 10^ea a multiple of B * 10^eb, exactly. */
static int dec_multiple(uint64_t A, long ea, uint64_t B, long eb)
{
        long d = ea - eb;
        uint64_t m = B;

        if (A == 0)
                return 1;
        if (B == 0)
                return 0;
        if (d >= 0)
                return (u128)(A % B) * pow10_mod(d, B) % B == 0;
        for (; d < 0; d++) {
                if (m > UINT64_MAX / 10)
                        return 0; /* B * 10^-d > A */
                m *= 10;
        }
        return A % m == 0;
}

int kt_num_multiple(const struct kt_num *a, const struct kt_num *b)
{
        if (a->exact && b->exact)
                return b->mag != 0 && a->mag % b->mag == 0;
        if (a->dec && b->dec && a->sig <= UINT64_MAX && b->sig <= UINT64_MAX)
                return dec_multiple((uint64_t)a->sig, a->exp10,
                                    (uint64_t)b->sig, b->exp10);
        /* over 19 significant digits: the nearest long doubles */
        long double q = num_ld(a) / num_ld(b);

        return isfinite(q) && q == truncl(q);
}

/* Values, nodes. */

/* Any value being checked, from json-c or from JSON text. */
struct val {
        enum kt_jkind       kind;
        int                 boolean;
        struct kt_num       num;
        const char         *text; /* a number's text, or NULL */
        size_t              tlen;
        const char         *str;  /* a string's content */
        size_t              len;
        struct json_object *obj;  /* an array, an object */
};

/* ^[set]{lo,hi}$, or ^([set]{lo,hi})?$ (opt): matched without PCRE2. */
struct kt_class {
        int      opt;
        size_t   lo, hi;
        uint64_t set[2]; /* ASCII bytes, a bit each */
};

struct regex {
        pcre2_code       *code;
        pcre2_match_data *md; /* made at load: no allocation per check */
        char             *src;
        int               simple; /* cls says it: class_parse() */
        struct kt_class   cls;
};

struct subs {
        struct kt_schema **v;
        size_t             n;
};

struct name {
        char  *s;
        size_t len;
};

struct prop {
        struct name       name;
        struct kt_schema *s;
};

struct pprop {
        struct regex      re;
        struct kt_schema *s;
};

/* dependencies: a schema, or the names the member requires. */
struct dep {
        struct name       name;
        struct kt_schema *s;
        struct name      *req;
        size_t            n_req;
};

struct bound {
        struct kt_num n;
        char         *text;
};

/* A member name the object keywords know: its schema, its required. */
struct nslot {
        const struct name      *name; /* NULL: an empty slot */
        uint32_t                hash;
        const struct kt_schema *s;    /* properties' entry, or NULL */
        long                    req;  /* index in required, or -1 */
};

/* The keywords present, so that a check skips what is absent. */
enum has {
        HAS_FALSE = 1u << 0,  HAS_TYPE = 1u << 1,    HAS_MIN = 1u << 2,
        HAS_MAX = 1u << 3,    HAS_EXMIN = 1u << 4,   HAS_EXMAX = 1u << 5,
        HAS_MULT = 1u << 6,   HAS_MINLEN = 1u << 7,  HAS_MAXLEN = 1u << 8,
        HAS_PATTERN = 1u << 9, HAS_FORMAT = 1u << 10, HAS_ENUM = 1u << 11,
        HAS_CONST = 1u << 12, HAS_COMB = 1u << 13,   HAS_ARRAY = 1u << 14,
        HAS_OBJECT = 1u << 15
};
#define HAS_NUMBER (HAS_MIN | HAS_MAX | HAS_EXMIN | HAS_EXMAX | HAS_MULT)
#define HAS_STRING (HAS_MINLEN | HAS_MAXLEN | HAS_PATTERN | HAS_FORMAT)

#define T_INTEGER (1u << 6) /* beside 1 << enum kt_jkind */
#define NO_LIMIT SIZE_MAX

struct kt_schema {
        unsigned                has;   /* enum has */
        int                     nat;   /* nat_lo..nat_hi alone are valid */
        int                     str;   /* string keywords alone */
        uint64_t                nat_lo, nat_hi;
        unsigned                types; /* 1 << enum kt_jkind, T_INTEGER */
        const struct kt_schema *ref;   /* $ref: the rest is ignored */
        struct bound            min, max, exmin, exmax, mult;
        size_t                  min_len, max_len;
        struct regex            pattern;
        enum kt_format          format;
        struct val             *lits;  /* enum's values */
        size_t                  n_lits;
        struct val              konst; /* const's */
        /* arrays */
        struct kt_schema       *items;  /* items as one schema */
        struct subs             tuple;  /* items as an array */
        struct kt_schema       *add_items, *contains;
        size_t                  min_items, max_items;
        int                     unique;
        /* objects */
        struct prop            *props;
        size_t                  n_props;
        struct pprop           *pprops;
        size_t                  n_pprops;
        struct kt_schema       *add_props, *prop_names;
        struct name            *req;
        size_t                  n_req;
        struct dep             *deps;
        size_t                  n_deps;
        struct nslot           *names;  /* properties and required, hashed */
        size_t                  n_names; /* a power of 2, or 0 */
        size_t                  min_props, max_props;
        /* combinators */
        struct subs             all_of, any_of, one_of;
        struct kt_schema       *not_, *if_, *then_, *else_;
        struct kt_schema       *next;  /* the set's list, to free */
};

static void val_of_json(struct json_object *o, struct val *v)
{
        v->text = NULL;
        v->obj = o;
        switch (json_object_get_type(o)) {
        case json_type_null:
                v->kind = KT_J_NULL;
                break;
        case json_type_boolean:
                v->kind = KT_J_BOOLEAN;
                v->boolean = json_object_get_boolean(o);
                break;
        case json_type_int: {
                int64_t i = json_object_get_int64(o);

                v->kind = KT_J_NUMBER;
                memset(&v->num, 0, sizeof(v->num));
                v->num.integral = v->num.exact = v->num.dec = 1;
                v->num.neg = i < 0;
                v->num.mag = i == INT64_MAX ? json_object_get_uint64(o) :
                             i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
                v->num.sig = v->num.mag;
                break;
        }
        case json_type_double:
                v->kind = KT_J_NUMBER;
                v->text = json_object_to_json_string_ext(o,
                        JSON_C_TO_STRING_PLAIN);
                v->tlen = strlen(v->text);
                kt_num_parse(v->text, v->tlen, &v->num);
                break;
        case json_type_string:
                v->kind = KT_J_STRING;
                v->str = json_object_get_string(o);
                v->len = (size_t)json_object_get_string_len(o);
                break;
        case json_type_array:
                v->kind = KT_J_ARRAY;
                break;
        case json_type_object:
                v->kind = KT_J_OBJECT;
                break;
        }
}

static int json_equal(struct json_object *a, struct json_object *b);

/* JSON equality: 1 == 1.0, key order does not matter. */
static int val_equal(const struct val *a, const struct val *b)
{
        if (a->kind != b->kind)
                return 0;
        switch (a->kind) {
        case KT_J_NULL:
                return 1;
        case KT_J_BOOLEAN:
                return !a->boolean == !b->boolean;
        case KT_J_NUMBER:
                return kt_num_cmp(&a->num, &b->num) == 0;
        case KT_J_STRING:
                return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
        default:
                return json_equal(a->obj, b->obj);
        }
}

static int array_equal(struct json_object *a, struct json_object *b)
{
        size_t n = json_object_array_length(a);

        if (n != json_object_array_length(b))
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!json_equal(json_object_array_get_idx(a, i),
                                json_object_array_get_idx(b, i)))
                        return 0;
        return 1;
}

static int object_equal(struct json_object *a, struct json_object *b)
{
        struct json_object *bv;

        if (json_object_object_length(a) != json_object_object_length(b))
                return 0;
        json_object_object_foreach(a, k, av) {
                if (!json_object_object_get_ex(b, k, &bv) ||
                    !json_equal(av, bv))
                        return 0;
        }
        return 1;
}

static int json_equal(struct json_object *a, struct json_object *b)
{
        struct val x, y;

        val_of_json(a, &x);
        val_of_json(b, &y);
        if (x.kind != y.kind)
                return 0;
        if (x.kind == KT_J_ARRAY)
                return array_equal(a, b);
        if (x.kind == KT_J_OBJECT)
                return object_equal(a, b);
        return val_equal(&x, &y);
}

/* Checking. */

#define MAX_SEGS 128  /* the instance pointer's segments kept */
#define MAX_DEPTH 512 /* nested checks: a backstop against $ref loops */

struct seg {
        const char *key; /* NULL: an array index */
        size_t      len;
        size_t      idx;
};

struct ctx {
        struct kt_schema_error *e;    /* NULL: quiet (anyOf, not, ...) */
        const char             *base; /* the pointer of the checked value */
        size_t                  nsegs;
        unsigned                depth;
        struct seg              segs[MAX_SEGS];
};

static void push_key(struct ctx *c, const char *key, size_t len)
{
        if (c->nsegs < MAX_SEGS) {
                c->segs[c->nsegs].key = key;
                c->segs[c->nsegs].len = len;
        }
        c->nsegs++;
}

static void push_idx(struct ctx *c, size_t i)
{
        if (c->nsegs < MAX_SEGS) {
                c->segs[c->nsegs].key = NULL;
                c->segs[c->nsegs].idx = i;
        }
        c->nsegs++;
}

/* Appends s[0..n) to out (size sz, at *at), as RFC 6901 escapes it. */
static void ptr_append(char *out, size_t sz, size_t *at, const char *s,
                       size_t n)
{
        for (size_t i = 0; i < n && *at + 3 < sz; i++) {
                if (s[i] == '~' || s[i] == '/') {
                        out[(*at)++] = '~';
                        out[(*at)++] = s[i] == '~' ? '0' : '1';
                } else {
                        out[(*at)++] = s[i];
                }
        }
        out[*at] = '\0';
}

static void render_pointer(const struct ctx *c, char *out, size_t sz)
{
        size_t at = (size_t)snprintf(out, sz, "%s", c->base);
        char num[24];

        if (at >= sz)
                at = sz - 1;
        for (size_t i = 0; i < c->nsegs && i < MAX_SEGS; i++) {
                const struct seg *g = &c->segs[i];

                if (at + 2 < sz) {
                        out[at++] = '/';
                        out[at] = '\0';
                }
                if (g->key != NULL) {
                        ptr_append(out, sz, &at, g->key, g->len);
                } else {
                        snprintf(num, sizeof(num), "%zu", g->idx);
                        ptr_append(out, sz, &at, num, strlen(num));
                }
        }
}

/* src into dst as one line: control bytes become \u00XX. */
static void esc_line(char *dst, size_t sz, const char *src)
{
        static const char hex[] = "0123456789abcdef";
        size_t at = 0;

        for (; *src != '\0' && at + 7 < sz; src++) {
                unsigned char b = (unsigned char)*src;

                if (b >= 0x20 && b != 0x7f) {
                        dst[at++] = (char)b;
                        continue;
                }
                memcpy(dst + at, "\\u00", 4);
                dst[at + 4] = hex[b >> 4];
                dst[at + 5] = hex[b & 15];
                at += 6;
        }
        dst[at] = '\0';
}

/* Always 1: the check failed; says why when the context reports. */
__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *c, const char *kw, const char *fmt, ...)
{
        struct kt_schema_error *e = c->e;
        char raw[1024];
        va_list ap;
        int n;

        if (e == NULL)
                return 1;
        snprintf(e->keyword, sizeof(e->keyword), "%s", kw);
        render_pointer(c, e->pointer, sizeof(e->pointer));
        n = snprintf(raw, sizeof(raw), "%s: ",
                     e->pointer[0] ? e->pointer : "(root)");
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof(raw))
                n += vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
        va_end(ap);
        if (n > 0 && (size_t)n < sizeof(raw))
                snprintf(raw + n, sizeof(raw) - (size_t)n, " (%s)", kw);
        esc_line(e->message, sizeof(e->message), raw);
        return 1;
}

/* Up to n bytes of s, cut at a UTF-8 boundary. */
static int utf8_cut(const char *s, size_t len, size_t n)
{
        if (len <= n)
                return (int)len;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;
        return (int)n;
}

/* The value in a message: a number as written, a string quoted. */
static const char *describe(const struct val *v, char *buf, size_t sz)
{
        switch (v->kind) {
        case KT_J_NULL:
                return "null";
        case KT_J_BOOLEAN:
                return v->boolean ? "true" : "false";
        case KT_J_NUMBER:
                if (v->text != NULL)
                        snprintf(buf, sz, "%.*s",
                                 utf8_cut(v->text, v->tlen, 40), v->text);
                else
                        snprintf(buf, sz, "%s%" PRIu64,
                                 v->num.neg ? "-" : "", v->num.mag);
                return buf;
        case KT_J_STRING:
                snprintf(buf, sz, "\"%.*s\"%s", utf8_cut(v->str, v->len, 60),
                         v->str, v->len > 60 ? "..." : "");
                return buf;
        case KT_J_ARRAY:
                return "an array";
        default:
                return "an object";
        }
}

static const char *const KIND_NAMES[] = {
        "null", "boolean", "number", "string", "array", "object", "integer"
};

static void type_names(unsigned types, char *buf, size_t sz)
{
        size_t at = 0;

        buf[0] = '\0';
        for (unsigned k = 0; k < 7; k++) {
                if (!(types & (1u << k)) || at >= sz)
                        continue;
                at += (size_t)snprintf(buf + at, sz - at, "%s%s",
                                       at ? " or " : "", KIND_NAMES[k]);
        }
}

static int check(const struct kt_schema *s, const struct val *v,
                 struct ctx *c);

static int check_json(const struct kt_schema *s, struct json_object *o,
                      struct ctx *c)
{
        struct val v;

        val_of_json(o, &v);
        return check(s, &v, c);
}

/* check() without a report: for anyOf, oneOf, not, if, contains. */
static int quiet(const struct kt_schema *s, const struct val *v,
                 struct ctx *c)
{
        struct kt_schema_error *e = c->e;
        int r;

        c->e = NULL;
        r = check(s, v, c);
        c->e = e;
        return r;
}

static int quiet_json(const struct kt_schema *s, struct json_object *o,
                      struct ctx *c)
{
        struct val v;

        val_of_json(o, &v);
        return quiet(s, &v, c);
}

static int check_type(const struct kt_schema *s, const struct val *v,
                      struct ctx *c)
{
        char d[80], t[80];

        if (s->types & (1u << v->kind))
                return 0;
        if (v->kind == KT_J_NUMBER && (s->types & T_INTEGER) &&
            v->num.integral)
                return 0;
        type_names(s->types, t, sizeof(t));
        return fail(c, "type", "%s is not of type %s",
                    describe(v, d, sizeof(d)), t);
}

/* kt_num_cmp(), with the common case (two naturals below 2^64) inline. */
static inline int num_cmp(const struct kt_num *a, const struct kt_num *b)
{
        if (a->exact & b->exact & !a->neg & !b->neg)
                return (a->mag > b->mag) - (a->mag < b->mag);
        return kt_num_cmp(a, b);
}

/* From kt_num_cmp(): NaN (2) is neither in range nor equal. */
static int below(int r)
{
        return r == -1 || r == 2;
}

static int above(int r)
{
        return r == 1 || r == 2;
}

static int check_number(const struct kt_schema *s, const struct val *v,
                        struct ctx *c)
{
        unsigned has = s->has;
        char d[80];

        if ((has & HAS_MIN) && below(num_cmp(&v->num, &s->min.n)))
                return fail(c, "minimum", "%s is less than the minimum %s",
                            describe(v, d, sizeof(d)), s->min.text);
        if ((has & HAS_MAX) && above(num_cmp(&v->num, &s->max.n)))
                return fail(c, "maximum",
                            "%s is greater than the maximum %s",
                            describe(v, d, sizeof(d)), s->max.text);
        if ((has & HAS_EXMIN) && num_cmp(&v->num, &s->exmin.n) != 1)
                return fail(c, "exclusiveMinimum",
                            "%s is not greater than %s",
                            describe(v, d, sizeof(d)), s->exmin.text);
        if ((has & HAS_EXMAX) && num_cmp(&v->num, &s->exmax.n) != -1)
                return fail(c, "exclusiveMaximum", "%s is not less than %s",
                            describe(v, d, sizeof(d)), s->exmax.text);
        if ((has & HAS_MULT) && !kt_num_multiple(&v->num, &s->mult.n))
                return fail(c, "multipleOf", "%s is not a multiple of %s",
                            describe(v, d, sizeof(d)), s->mult.text);
        return 0;
}

static size_t utf8_count(const char *s, size_t n)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                k += ((unsigned char)s[i] & 0xC0) != 0x80;
        return k;
}

/* A string of ASCII bytes of re's set alone, lo..hi of them (or none
 * when opt): a hashed address, a country code. */
int kt_class_match(const struct kt_class *re, const char *s, size_t n)
{
        size_t i;

        if (n == 0 && re->opt)
                return 1;
        if (n < re->lo || n > re->hi)
                return 0;
        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c >= 128 || !(re->set[c >> 6] >> (c & 63) & 1))
                        return 0;
        }
        return 1;
}

static int regex_match(const struct regex *re, const char *s, size_t n)
{
        if (re->simple)
                return kt_class_match(&re->cls, s, n);
        return pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, re->md,
                           NULL) >= 0;
}

static int check_string(const struct kt_schema *s, const struct val *v,
                        struct ctx *c)
{
        unsigned has = s->has;
        size_t cp = v->len; /* code points <= bytes <= 4 code points */
        char d[80];

        if (((has & HAS_MAXLEN) && v->len > s->max_len) ||
            ((has & HAS_MINLEN) && v->len / 4 < s->min_len))
                cp = utf8_count(v->str, v->len);
        if ((has & HAS_MINLEN) && cp < s->min_len)
                return fail(c, "minLength",
                            "%s is shorter than %zu characters",
                            describe(v, d, sizeof(d)), s->min_len);
        if ((has & HAS_MAXLEN) && cp > s->max_len)
                return fail(c, "maxLength",
                            "%s is longer than %zu characters",
                            describe(v, d, sizeof(d)), s->max_len);
        if ((has & HAS_PATTERN) && !regex_match(&s->pattern, v->str, v->len))
                return fail(c, "pattern", "%s does not match \"%s\"",
                            describe(v, d, sizeof(d)), s->pattern.src);
        if ((has & HAS_FORMAT) && !kt_format_ok(s->format, v->str, v->len))
                return fail(c, "format", "%s is not a valid %s",
                            describe(v, d, sizeof(d)),
                            kt_format_name(s->format));
        return 0;
}

static int check_lits(const struct kt_schema *s, const struct val *v,
                      struct ctx *c)
{
        char d[80];
        size_t i;

        if ((s->has & HAS_CONST) && !val_equal(v, &s->konst))
                return fail(c, "const", "%s is not the constant",
                            describe(v, d, sizeof(d)));
        if (!(s->has & HAS_ENUM))
                return 0;
        for (i = 0; i < s->n_lits; i++)
                if (val_equal(v, &s->lits[i]))
                        return 0;
        return fail(c, "enum", "%s is not one of the enum's %zu values",
                    describe(v, d, sizeof(d)), s->n_lits);
}

/* The schema of item i, or NULL. */
static const struct kt_schema *item_schema(const struct kt_schema *s,
                                           size_t i)
{
        if (s->tuple.v == NULL)
                return s->items;
        return i < s->tuple.n ? s->tuple.v[i] : s->add_items;
}

static int check_unique(struct json_object *a, size_t n, struct ctx *c)
{
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (json_equal(json_object_array_get_idx(a, i),
                                       json_object_array_get_idx(a, j)))
                                return fail(c, "uniqueItems",
                                            "items %zu and %zu are equal",
                                            i, j);
        return 0;
}

static int check_items(const struct kt_schema *s, struct json_object *a,
                       size_t n, struct ctx *c)
{
        for (size_t i = 0; i < n; i++) {
                const struct kt_schema *is = item_schema(s, i);
                int r;

                if (is == NULL)
                        return 0;
                push_idx(c, i);
                if (is == s->add_items && (is->has & HAS_FALSE))
                        r = fail(c, "additionalItems",
                                 "no item is allowed past the first %zu",
                                 s->tuple.n);
                else
                        r = check_json(is, json_object_array_get_idx(a, i), c);
                c->nsegs--;
                if (r)
                        return 1;
        }
        return 0;
}

static int check_array(const struct kt_schema *s, const struct val *v,
                       struct ctx *c)
{
        size_t n = json_object_array_length(v->obj);

        if (n < s->min_items)
                return fail(c, "minItems", "%zu items, fewer than %zu", n,
                            s->min_items);
        if (n > s->max_items)
                return fail(c, "maxItems", "%zu items, more than %zu", n,
                            s->max_items);
        if (s->unique && check_unique(v->obj, n, c))
                return 1;
        if (check_items(s, v->obj, n, c))
                return 1;
        if (s->contains == NULL)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!quiet_json(s->contains,
                                json_object_array_get_idx(v->obj, i), c))
                        return 0;
        return fail(c, "contains", "no item matches the schema of contains");
}

/* Names are short and differ at their ends: a few bytes will do (as
 * names.h's kt_name_hash; FNV over every byte was a quarter of a
 * member's check). */
static uint32_t name_hash(const char *k, size_t n)
{
        uint32_t h = kt_name_hash32(k, n);

        h ^= h >> 15; /* the low bits index: mix the high ones in */
        h *= 0x85ebca6bu;
        return h ^ h >> 13;
}

/* The slot of name k in s->names, or NULL. */
static const struct nslot *name_find(const struct kt_schema *s,
                                     const char *k, size_t n)
{
        uint32_t h = name_hash(k, n);
        size_t mask = s->n_names - 1;

        if (s->n_names == 0)
                return NULL;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
                const struct nslot *e = &s->names[i];

                if (e->name == NULL)
                        return NULL;
                if (e->hash == h && e->name->len == n &&
                    kt_same_bytes(e->name->s, k, n))
                        return e;
        }
}

static const struct kt_schema *prop_find(const struct kt_schema *s,
                                         const char *k, size_t n)
{
        const struct nslot *e = name_find(s, k, n);

        return e != NULL ? e->s : NULL;
}

/* One member against properties, patternProperties and the rest. */
static int check_member(const struct kt_schema *s, const char *k, size_t n,
                        struct json_object *m, struct ctx *c)
{
        const struct kt_schema *ps = prop_find(s, k, n);
        int matched = ps != NULL;
        struct val kv;

        if (ps != NULL && check_json(ps, m, c))
                return 1;
        for (size_t i = 0; i < s->n_pprops; i++) {
                if (!regex_match(&s->pprops[i].re, k, n))
                        continue;
                matched = 1;
                if (check_json(s->pprops[i].s, m, c))
                        return 1;
        }
        if (!matched && s->add_props != NULL) {
                if (s->add_props->has & HAS_FALSE)
                        return fail(c, "additionalProperties",
                                    "the property is not allowed");
                if (check_json(s->add_props, m, c))
                        return 1;
        }
        if (s->prop_names == NULL)
                return 0;
        memset(&kv, 0, sizeof(kv));
        kv.kind = KT_J_STRING;
        kv.str = k;
        kv.len = n;
        return check(s->prop_names, &kv, c);
}

static int check_required(struct json_object *o, const struct name *req,
                          size_t n, struct ctx *c, const char *why)
{
        for (size_t i = 0; i < n; i++) {
                if (json_object_object_get_ex(o, req[i].s, NULL))
                        continue;
                push_key(c, req[i].s, req[i].len);
                fail(c, why, "the required property is missing");
                c->nsegs--;
                return 1;
        }
        return 0;
}

static int check_deps(const struct kt_schema *s, const struct val *v,
                      struct ctx *c)
{
        for (size_t i = 0; i < s->n_deps; i++) {
                const struct dep *d = &s->deps[i];

                if (!json_object_object_get_ex(v->obj, d->name.s, NULL))
                        continue;
                if (d->s != NULL ? check(d->s, v, c) :
                    check_required(v->obj, d->req, d->n_req, c,
                                   "dependencies"))
                        return 1;
        }
        return 0;
}

/* Members first, then the counts and required names, the order of
 * validate.c's one pass (kt_schema_object_end), so both report alike. */
static int check_object(const struct kt_schema *s, const struct val *v,
                        struct ctx *c)
{
        size_t n = (size_t)json_object_object_length(v->obj);

        json_object_object_foreach(v->obj, k, m) {
                size_t kl = strlen(k);
                int r;

                push_key(c, k, kl);
                r = check_member(s, k, kl, m, c);
                c->nsegs--;
                if (r)
                        return 1;
        }
        if (n < s->min_props)
                return fail(c, "minProperties",
                            "%zu properties, fewer than %zu", n, s->min_props);
        if (n > s->max_props)
                return fail(c, "maxProperties",
                            "%zu properties, more than %zu", n, s->max_props);
        return check_required(v->obj, s->req, s->n_req, c, "required") ||
               check_deps(s, v, c);
}

static int check_comb(const struct kt_schema *s, const struct val *v,
                      struct ctx *c)
{
        size_t i, ok = 0, first = 0;

        for (i = 0; i < s->all_of.n; i++)
                if (check(s->all_of.v[i], v, c))
                        return 1;
        for (i = 0; i < s->any_of.n; i++)
                if (!quiet(s->any_of.v[i], v, c))
                        break;
        if (s->any_of.n > 0 && i == s->any_of.n)
                return fail(c, "anyOf", "matches none of the %zu schemas",
                            s->any_of.n);
        for (i = 0; i < s->one_of.n && ok < 2; i++)
                if (!quiet(s->one_of.v[i], v, c) && ok++ == 0)
                        first = i;
        if (s->one_of.n > 0 && ok == 0)
                return fail(c, "oneOf", "matches none of the %zu schemas",
                            s->one_of.n);
        if (ok > 1)
                return fail(c, "oneOf", "matches both schema %zu and %zu",
                            first, i - 1);
        if (s->not_ != NULL && !quiet(s->not_, v, c))
                return fail(c, "not", "matches the schema of not");
        if (s->if_ == NULL)
                return 0;
        if (!quiet(s->if_, v, c))
                return s->then_ != NULL && quiet(s->then_, v, c) ?
                       fail(c, "then", "matches if but not then") : 0;
        return s->else_ != NULL && quiet(s->else_, v, c) ?
               fail(c, "else", "matches neither if nor else") : 0;
}

static int check_kinds(const struct kt_schema *s, const struct val *v,
                       struct ctx *c)
{
        unsigned has = s->has;

        if ((has & HAS_TYPE) && check_type(s, v, c))
                return 1;
        switch (v->kind) {
        case KT_J_NUMBER:
                if ((has & HAS_NUMBER) && check_number(s, v, c))
                        return 1;
                break;
        case KT_J_STRING:
                if ((has & HAS_STRING) && check_string(s, v, c))
                        return 1;
                break;
        case KT_J_ARRAY:
                if ((has & HAS_ARRAY) && check_array(s, v, c))
                        return 1;
                break;
        case KT_J_OBJECT:
                if ((has & HAS_OBJECT) && check_object(s, v, c))
                        return 1;
                break;
        default:
                break;
        }
        if ((has & (HAS_ENUM | HAS_CONST)) && check_lits(s, v, c))
                return 1;
        return 0;
}

static int check(const struct kt_schema *s, const struct val *v,
                 struct ctx *c)
{
        int r;

        while (s->ref != NULL) /* a loop of $refs is refused at load */
                s = s->ref;
        if (s->has == 0)
                return 0;
        if (s->has & HAS_FALSE)
                return fail(c, "false", "no value is valid here");
        if (c->depth >= MAX_DEPTH)
                return fail(c, "$ref", "the schema nests over %d deep",
                            MAX_DEPTH);
        c->depth++;
        r = check_kinds(s, v, c);
        if (r == 0 && (s->has & HAS_COMB))
                r = check_comb(s, v, c);
        c->depth--;
        return r;
}

int kt_schema_validate(const struct kt_schema *s,
                       struct json_object *instance,
                       struct kt_schema_error *e)
{
        return kt_schema_validate_at(s, instance, "", e);
}

int kt_schema_validate_at(const struct kt_schema *s,
                          struct json_object *instance, const char *pointer,
                          struct kt_schema_error *e)
{
        struct ctx c;
        struct val v;

        c.e = e;
        c.base = pointer != NULL ? pointer : "";
        c.nsegs = 0;
        c.depth = 0;
        val_of_json(instance, &v);
        return check(s, &v, &c);
}

/*
 * check() of a string without a report, for the fast path: its type, its
 * string keywords, and anyOf of such schemas (an address: ipv4 or ipv6).
 */
static int string_ok(const struct kt_schema *s, const char *p, size_t n,
                     unsigned known)
{
        unsigned has = s->has;

        if ((has & HAS_TYPE) && !(s->types & 1u << KT_J_STRING))
                return 0;
        for (size_t i = 0; i < s->any_of.n; i++) {
                if (string_ok(kt_schema_deref(s->any_of.v[i]), p, n,
                              known))
                        break;
                if (i + 1 == s->any_of.n)
                        return 0;
        }
        /* n bytes hold n / 4 to n code points: most strings are
         * decided without counting them (a time against maxLength) */
        if ((has & (HAS_MINLEN | HAS_MAXLEN)) &&
            !(n <= s->max_len && (n + 3) / 4 >= s->min_len)) {
                size_t cp = utf8_count(p, n);

                if (cp < s->min_len || cp > s->max_len)
                        return 0;
        }
        if ((has & HAS_FORMAT) && !(known & 1u << s->format) &&
            !kt_format_ok(s->format, p, n))
                return 0;
        return !(has & HAS_PATTERN) || regex_match(&s->pattern, p, n);
}

/* A natural number written as plain digits, into *v; else -1. */
static inline int natural(const char *s, size_t n, uint64_t *v)
{
        uint64_t x = 0;

        unsigned d;

        if (n == 0 || n > 20)
                return -1;
        for (size_t i = 0; i < n && i < 19; i++) {
                if ((d = (unsigned char)s[i] - '0') > 9)
                        return -1;
                x = x * 10 + d;
        }
        if (n == 20 && ((d = (unsigned char)s[19] - '0') > 9 ||
                        __builtin_mul_overflow(x, 10, &x) ||
                        __builtin_add_overflow(x, d, &x)))
                return -1; /* past 2^64 - 1 */
        *v = x;
        return 0;
}

/* The general walk of kt_schema_validate_scalar(), out of line: its
 * frame (struct ctx) costs a stack protector that the fast paths need
 * not pay (callgrind: 20 instructions a call). */
static __attribute__((noinline)) int
scalar_walk(const struct kt_schema *s, const struct kt_scalar *sv,
            const char *pointer, struct kt_schema_error *e)
{
        struct ctx c;
        struct val v;

        c.e = e;
        c.base = pointer != NULL ? pointer : "";
        c.nsegs = 0;
        c.depth = 0;
        v.kind = sv->kind;
        v.text = NULL;
        switch (sv->kind) {
        case KT_J_BOOLEAN:
                v.boolean = sv->boolean;
                break;
        case KT_J_NUMBER:
                v.text = sv->text;
                v.tlen = sv->len;
                if (num_plain(sv->text, sv->len, &v.num) != 0)
                        kt_num_parse(sv->text, sv->len, &v.num);
                break;
        case KT_J_STRING:
                v.str = sv->text;
                v.len = sv->len;
                break;
        case KT_J_NULL:
                break;
        default:
                return fail(&c, "type", "not a scalar");
        }
        return check(s, &v, &c);
}

int kt_schema_validate_scalar(const struct kt_schema *s,
                              const struct kt_scalar *sv, const char *pointer,
                              struct kt_schema_error *e)
{
        uint64_t n;

        while (s->ref != NULL)
                s = s->ref;
        if (s->has == 0)
                return 0;
        /* ports, counters: an integer type with a range, about 3 ns */
        if (s->nat && sv->kind == KT_J_NUMBER &&
            natural(sv->text, sv->len, &n) == 0 && n >= s->nat_lo &&
            n <= s->nat_hi)
                return 0;
        /* addresses, times: a string with formats (the walk reports) */
        if (s->str && sv->kind == KT_J_STRING &&
            string_ok(s, sv->text, sv->len, sv->known))
                return 0;
        return scalar_walk(s, sv, pointer, e);
}

/* The set: documents, their $ids, the compiled nodes. */

struct doc {
        char               *uri;  /* without fragment */
        char               *path; /* the file, or NULL */
        struct json_object *root;
        struct doc         *next;
};

/* Where a URI leads: an object, its document, the base around it. */
struct where {
        struct json_object *obj;
        struct doc         *doc;
        char               *base; /* the base URI of obj's parent */
};

struct idx {
        char        *uri;
        struct where w;
};

struct map {
        char *prefix;
        char *dir;
};

/* A member of a schema object that is no keyword: refused at the end
 * of the load unless a $ref pointed into it. */
struct unknown {
        struct doc         *doc;
        struct json_object *schema;
        const char         *key;
        struct json_object *val;
};

struct slot {
        const struct json_object *obj;
        struct kt_schema         *s;
};

struct kt_schema_set {
        char              *dir;
        struct map        *maps;
        size_t             n_maps;
        struct doc        *docs;
        struct idx        *ids;
        size_t             n_ids;
        struct slot       *slots; /* json_object -> node, open addressing */
        size_t             n_slots, used;
        struct kt_schema  *nodes;
        struct unknown    *unknowns;
        size_t             n_unknowns;
        struct json_object **passed; /* what $ref pointers went through */
        size_t             n_passed;
        char              *broken;   /* an earlier load's error */
        char              *err;      /* the current load's */
        size_t             errlen;
        int                failed;
};

/* Grows *v (of *n items of size sz) by one; the new item, zeroed. */
static void *grow(void *pv, size_t *n, size_t sz)
{
        void **v = pv;
        char *p = realloc(*v, (*n + 1) * sz);

        if (p == NULL)
                return NULL;
        *v = p;
        memset(p + *n * sz, 0, sz);
        return p + (*n)++ * sz;
}

static size_t slot_hash(const void *p, size_t n)
{
        uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);

        return (size_t)(h >> 20) & (n - 1);
}

static struct kt_schema *node_get(const struct kt_schema_set *set,
                                  const struct json_object *o)
{
        if (set->n_slots == 0)
                return NULL;
        for (size_t i = slot_hash(o, set->n_slots);; i = (i + 1) &
             (set->n_slots - 1)) {
                if (set->slots[i].obj == o)
                        return set->slots[i].s;
                if (set->slots[i].obj == NULL)
                        return NULL;
        }
}

static void slot_put(struct slot *t, size_t n, const struct json_object *o,
                     struct kt_schema *s)
{
        size_t i = slot_hash(o, n);

        while (t[i].obj != NULL)
                i = (i + 1) & (n - 1);
        t[i].obj = o;
        t[i].s = s;
}

static int node_put(struct kt_schema_set *set, const struct json_object *o,
                    struct kt_schema *s)
{
        if ((set->used + 1) * 2 > set->n_slots) {
                size_t n = set->n_slots ? set->n_slots * 2 : 64;
                struct slot *t = calloc(n, sizeof(*t));

                if (t == NULL)
                        return -1;
                for (size_t i = 0; i < set->n_slots; i++)
                        if (set->slots[i].obj != NULL)
                                slot_put(t, n, set->slots[i].obj,
                                         set->slots[i].s);
                free(set->slots);
                set->slots = t;
                set->n_slots = n;
        }
        slot_put(set->slots, set->n_slots, o, s);
        set->used++;
        return 0;
}

struct kt_schema_set *kt_schema_set_new(const char *dir)
{
        struct kt_schema_set *set = calloc(1, sizeof(*set));

        if (set == NULL)
                return NULL;
        if (dir != NULL && (set->dir = strdup(dir)) == NULL) {
                free(set);
                return NULL;
        }
        return set;
}

int kt_schema_set_map(struct kt_schema_set *set, const char *prefix,
                      const char *dir)
{
        struct map *m = grow(&set->maps, &set->n_maps, sizeof(*m));

        if (m == NULL)
                return -1;
        m->prefix = strdup(prefix);
        m->dir = strdup(dir);
        if (m->prefix == NULL || m->dir == NULL)
                return -1;
        return 0;
}

static void regex_free(struct regex *re)
{
        pcre2_match_data_free(re->md);
        pcre2_code_free(re->code);
        free(re->src);
}

static void names_free(struct name *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].s);
        free(v);
}

static void node_free(struct kt_schema *s)
{
        size_t i;

        free(s->min.text);
        free(s->max.text);
        free(s->exmin.text);
        free(s->exmax.text);
        free(s->mult.text);
        regex_free(&s->pattern);
        free(s->lits);
        free(s->tuple.v);
        for (i = 0; i < s->n_props; i++)
                free(s->props[i].name.s);
        free(s->props);
        for (i = 0; i < s->n_pprops; i++)
                regex_free(&s->pprops[i].re);
        free(s->pprops);
        names_free(s->req, s->n_req);
        for (i = 0; i < s->n_deps; i++) {
                free(s->deps[i].name.s);
                names_free(s->deps[i].req, s->deps[i].n_req);
        }
        free(s->deps);
        free(s->names);
        free(s->all_of.v);
        free(s->any_of.v);
        free(s->one_of.v);
        free(s);
}

void kt_schema_set_free(struct kt_schema_set *set)
{
        if (set == NULL)
                return;
        while (set->nodes != NULL) {
                struct kt_schema *s = set->nodes;

                set->nodes = s->next;
                node_free(s);
        }
        while (set->docs != NULL) {
                struct doc *d = set->docs;

                set->docs = d->next;
                json_object_put(d->root);
                free(d->uri);
                free(d->path);
                free(d);
        }
        for (size_t i = 0; i < set->n_ids; i++) {
                free(set->ids[i].uri);
                free(set->ids[i].w.base);
        }
        for (size_t i = 0; i < set->n_maps; i++) {
                free(set->maps[i].prefix);
                free(set->maps[i].dir);
        }
        free(set->ids);
        free(set->maps);
        free(set->slots);
        free(set->unknowns);
        free(set->passed);
        free(set->broken);
        free(set->dir);
        free(set);
}

/* Load errors. */

/* The RFC 6901 pointer of target inside o, into out; 1 when found. */
static int find_pointer(struct json_object *o, struct json_object *target,
                        char *out, size_t sz, size_t at)
{
        char num[24];

        if (o == target)
                return 1;
        if (json_object_is_type(o, json_type_object)) {
                json_object_object_foreach(o, k, v) {
                        size_t a = at;

                        if (at + 2 >= sz)
                                return 0;
                        out[a++] = '/';
                        ptr_append(out, sz, &a, k, strlen(k));
                        if (find_pointer(v, target, out, sz, a))
                                return 1;
                        out[at] = '\0';
                }
        } else if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        size_t a = at;

                        if (at + 2 >= sz)
                                return 0;
                        out[a++] = '/';
                        snprintf(num, sizeof(num), "%zu", i);
                        ptr_append(out, sz, &a, num, strlen(num));
                        if (find_pointer(json_object_array_get_idx(o, i),
                                         target, out, sz, a))
                                return 1;
                        out[at] = '\0';
                }
        }
        return 0;
}

/*
 * "FILE: POINTER/KEY: message" into the load's error; NULL.  obj NULL:
 * "FILE: message".
 */
__attribute__((format(printf, 5, 6)))
static void *load_error(struct kt_schema_set *set, struct doc *doc,
                        struct json_object *obj, const char *key,
                        const char *fmt, ...)
{
        char ptr[512] = "", msg[1024], raw[2048];
        size_t at;
        va_list ap;

        if (set->failed)
                return NULL;
        set->failed = 1;
        if (obj != NULL && doc != NULL)
                find_pointer(doc->root, obj, ptr, sizeof(ptr), 0);
        at = strlen(ptr);
        if (key != NULL && at + 2 < sizeof(ptr)) {
                ptr[at++] = '/';
                ptr_append(ptr, sizeof(ptr), &at, key, strlen(key));
        }
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(raw, sizeof(raw), "%s%s%s%s%s%s",
                 doc == NULL ? "" : doc->path ? doc->path :
                 doc->uri[0] ? doc->uri : "(schema)",
                 doc == NULL ? "" : ": ", obj != NULL ? "#" : "",
                 obj != NULL ? ptr : "", obj != NULL ? ": " : "", msg);
        if (set->err != NULL && set->errlen > 0)
                esc_line(set->err, set->errlen, raw);
        return NULL;
}

/* URIs (RFC 3986 reference resolution, what $id and $ref need). */

static size_t scheme_len(const char *u)
{
        size_t i = 0;

        if (!((u[0] | 0x20) >= 'a' && (u[0] | 0x20) <= 'z'))
                return 0;
        while (u[i] != '\0' && strchr("/?#:", u[i]) == NULL)
                i++;
        return u[i] == ':' ? i + 1 : 0;
}

/* Where the path begins: after "scheme:" and "//authority". */
static size_t path_start(const char *u)
{
        size_t i = scheme_len(u);

        if (u[i] == '/' && u[i + 1] == '/')
                i += 2 + strcspn(u + i + 2, "/?#");
        return i;
}

/* Removes "." and ".." segments of the path at p, in place. */
static void remove_dots(char *p)
{
        char *out = p, *in = p;
        size_t end = strcspn(p, "?#");
        char *stop = p + end;

        while (in < stop) {
                size_t n = strcspn(in + 1, "/?#") + 1; /* "/seg" */

                if (in[0] == '/' && n == 2 && in[1] == '.') {
                        in += 2;
                        if (in >= stop)
                                *out++ = '/';
                        continue;
                }
                if (in[0] == '/' && n == 3 && in[1] == '.' && in[2] == '.') {
                        while (out > p && *--out != '/')
                                ;
                        in += 3;
                        if (in >= stop)
                                *out++ = '/';
                        continue;
                }
                memmove(out, in, n);
                out += n;
                in += n;
        }
        memmove(out, stop, strlen(stop) + 1);
}

static char *cat3(const char *a, size_t an, const char *b, const char *c)
{
        size_t bn = strlen(b), cn = strlen(c);
        char *u = malloc(an + bn + cn + 1);

        if (u == NULL)
                return NULL;
        memcpy(u, a, an);
        memcpy(u + an, b, bn);
        memcpy(u + an + bn, c, cn + 1);
        return u;
}

/* ref resolved against base: a new string, or NULL (out of memory). */
static char *uri_resolve(const char *base, const char *ref)
{
        size_t blen = strcspn(base, "#"), ps = path_start(base);
        const char *slash;
        char *u;

        if (scheme_len(ref) > 0)
                u = strdup(ref);
        else if (ref[0] == '#' || ref[0] == '\0')
                u = cat3(base, blen, ref, "");
        else if (ref[0] == '/' && ref[1] == '/')
                u = cat3(base, scheme_len(base), ref, "");
        else if (ref[0] == '/')
                u = cat3(base, ps, ref, "");
        else {
                slash = memrchr(base + ps, '/', strcspn(base + ps, "?#"));
                if (slash == NULL && ps > 0 && base[ps - 1] != ':')
                        u = cat3(base, ps, "/", ref); /* authority only */
                else
                        u = cat3(base, slash ? (size_t)(slash - base) + 1 :
                                 ps, ref, "");
        }
        if (u != NULL)
                remove_dots(u + path_start(u));
        return u;
}

/* Documents and their $ids. */

static int id_add(struct kt_schema_set *set, const char *uri,
                  const struct where *w)
{
        struct idx *x = grow(&set->ids, &set->n_ids, sizeof(*x));

        if (x == NULL)
                return -1;
        x->uri = strdup(uri);
        x->w = *w;
        x->w.base = strdup(w->base);
        if (x->uri == NULL || x->w.base == NULL)
                return -1;
        /* "http://x/y#" is "http://x/y" */
        if (x->uri[0] != '\0' && x->uri[strlen(x->uri) - 1] == '#')
                x->uri[strlen(x->uri) - 1] = '\0';
        return 0;
}

static const char *const SUB_ONE[] = {
        "additionalItems", "additionalProperties", "contains", "else", "if",
        "items", "not", "propertyNames", "then", NULL
};
static const char *const SUB_MANY[] = {
        "allOf", "anyOf", "items", "oneOf", NULL
};
static const char *const SUB_MAP[] = {
        "definitions", "dependencies", "patternProperties", "properties",
        NULL
};

static int in_list(const char *const *l, const char *k)
{
        for (; *l != NULL; l++)
                if (strcmp(*l, k) == 0)
                        return 1;
        return 0;
}

static int index_ids(struct kt_schema_set *set, struct doc *doc,
                     struct json_object *o, const char *base);

/* The schemas under member k of a schema object, at base. */
static int index_member(struct kt_schema_set *set, struct doc *doc,
                        const char *k, struct json_object *v,
                        const char *base)
{
        if (json_object_is_type(v, json_type_array) &&
            in_list(SUB_MANY, k)) {
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        if (index_ids(set, doc, json_object_array_get_idx(
                                        v, i), base))
                                return -1;
        } else if (json_object_is_type(v, json_type_object) &&
                   in_list(SUB_MAP, k)) {
                json_object_object_foreach(v, k2, v2) {
                        (void)k2;
                        if (index_ids(set, doc, v2, base))
                                return -1;
                }
        }
        if (in_list(SUB_ONE, k))
                return index_ids(set, doc, v, base);
        return 0;
}

/* Every "$id" of the schema o (parent's base: base) into set->ids. */
static int index_ids(struct kt_schema_set *set, struct doc *doc,
                     struct json_object *o, const char *base)
{
        struct json_object *id;
        char *mine = NULL;
        int r = 0;

        if (!json_object_is_type(o, json_type_object))
                return 0;
        if (json_object_object_get_ex(o, "$id", &id) &&
            json_object_is_type(id, json_type_string)) {
                struct where w = { o, doc, (char *)base };

                mine = uri_resolve(base, json_object_get_string(id));
                if (mine == NULL || id_add(set, mine, &w))
                        r = -1;
        }
        json_object_object_foreach(o, k, v) {
                if (r == 0)
                        r = index_member(set, doc, k, v, mine ? mine : base);
        }
        free(mine);
        return r;
}

/* Registers root as the document at uri (path: its file, or NULL). */
static struct doc *doc_add(struct kt_schema_set *set, const char *uri,
                           const char *path, struct json_object *root)
{
        struct doc *d = calloc(1, sizeof(*d));
        struct where w = { root, d, (char *)uri };

        if (d == NULL)
                return NULL;
        d->uri = strdup(uri);
        d->path = path ? strdup(path) : NULL;
        d->root = json_object_get(root);
        d->next = set->docs;
        set->docs = d;
        if (d->uri == NULL || (path && d->path == NULL))
                return NULL;
        w.base = d->uri;
        d->uri[strcspn(d->uri, "#")] = '\0';
        if (id_add(set, d->uri, &w) || index_ids(set, d, root, d->uri))
                return NULL;
        return d;
}

static int find_uri(const struct kt_schema_set *set, const char *uri,
                    struct where *w)
{
        for (size_t i = set->n_ids; i-- > 0;) {
                if (strcmp(set->ids[i].uri, uri) == 0) {
                        *w = set->ids[i].w;
                        return 0;
                }
        }
        return -1;
}

static int is_file(const char *p)
{
        struct stat st;

        return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The file of uri: under a mapped prefix or schema.dir; NULL if none. */
static char *file_for(const struct kt_schema_set *set, const char *uri)
{
        for (size_t i = 0; i < set->n_maps; i++) {
                const struct map *m = &set->maps[i];
                size_t n = strlen(m->prefix);

                if (strncmp(uri, m->prefix, n) == 0)
                        return cat3(m->dir, strlen(m->dir), "/", uri + n);
        }
        if (set->dir != NULL && uri[0] == '/' && uri[1] != '/')
                return cat3(set->dir, strlen(set->dir), "", uri);
        return NULL;
}

static char *slurp(const char *path, size_t *n)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL, *p;
        size_t cap = 0, got;

        *n = 0;
        if (f == NULL)
                return NULL;
        do {
                if (*n + 4096 + 1 > cap) {
                        cap = (cap + 4096) * 2;
                        if ((p = realloc(buf, cap)) == NULL)
                                break;
                        buf = p;
                }
                got = fread(buf + *n, 1, cap - *n - 1, f);
                *n += got;
        } while (got > 0);
        if (ferror(f) || buf == NULL || *n + 1 > cap) {
                free(buf);
                buf = NULL;
        } else {
                buf[*n] = '\0';
        }
        fclose(f);
        return buf;
}

/* Where byte off of buf is, as "line L, column C" into out. */
static void line_col(const char *buf, size_t off, char *out, size_t sz)
{
        size_t line = 1, col = 1;

        for (size_t i = 0; i < off; i++, col++)
                if (buf[i] == '\n') {
                        line++;
                        col = 0;
                }
        snprintf(out, sz, "line %zu, column %zu", line, col);
}

/* 1 when the integer literal s[0..n) (sign, digits) fits 64 bits. */
static int int_fits(const char *s, size_t n)
{
        int neg = s[0] == '-';
        const char *lim = neg ? "9223372036854775808" :
                          "18446744073709551615";
        size_t d = n - (size_t)neg;

        if (d != strlen(lim))
                return d < strlen(lim);
        return memcmp(s + neg, lim, d) <= 0;
}

/*
 * json-c 0.16 saturates an integer beyond int64/uint64 (ERANGE is
 * ignored); with ".0" it keeps the literal as a double with its text,
 * which the validator reads exactly.  s[0..n) copied so; NULL: no memory.
 */
static char *widen_ints(const char *s, size_t n, size_t *outn)
{
        char *o = malloc(n + n / 10 + 2), *p = o;
        int in_str = 0;

        for (size_t i = 0; o != NULL && i < n;) {
                size_t j = i;

                if (in_str || (s[i] != '-' && (s[i] < '0' || s[i] > '9'))) {
                        if (s[i] == '"')
                                in_str = !in_str;
                        else if (in_str && s[i] == '\\' && i + 1 < n)
                                *p++ = s[i++];
                        *p++ = s[i++];
                        continue;
                }
                for (j = i + 1; j < n && s[j] >= '0' && s[j] <= '9'; j++)
                        ;
                memcpy(p, s + i, j - i);
                p += j - i;
                if ((j == n || strchr(".eE", s[j]) == NULL) &&
                    !int_fits(s + i, j - i)) {
                        memcpy(p, ".0", 2);
                        p += 2;
                }
                for (i = j; i < n && strchr(".eE+-0123456789", s[i]); i++)
                        *p++ = s[i];
        }
        if (o != NULL)
                *p = '\0';
        *outn = (size_t)(p - o);
        return o;
}

struct json_object *kt_schema_parse(const char *text, size_t len, char *err,
                                    size_t errlen)
{
        struct json_tokener *tok = json_tokener_new_ex(64);
        struct json_object *o = NULL;
        size_t n, end;
        char *buf = widen_ints(text, len, &n), at[64];

        if (buf == NULL || tok == NULL || n > INT32_MAX - 1) {
                snprintf(err, errlen, "out of memory");
                goto out;
        }
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        /* with its NUL: json-c sees a top-level number end */
        o = json_tokener_parse_ex(tok, buf, (int)n + 1);
        end = json_tokener_get_parse_end(tok);
        while (o != NULL && end < n && strchr(" \t\r\n", buf[end]))
                end++;
        if (o == NULL || end < n) {
                line_col(buf, end, at, sizeof(at));
                snprintf(err, errlen, "%s: %s", at, o == NULL ?
                         json_tokener_error_desc(json_tokener_get_error(tok))
                         : "more after the JSON value");
                json_object_put(o);
                o = NULL;
        }
out:
        json_tokener_free(tok);
        free(buf);
        return o;
}

/* A schema file, parsed strictly (RFC 8259: no trailing comma...). */
static struct json_object *read_json(const char *path, char *why,
                                     size_t wl)
{
        struct json_object *o;
        char msg[512];
        size_t n;
        char *buf = slurp(path, &n);

        if (buf == NULL) {
                snprintf(why, wl, "%s: %s", path, strerror(errno ? errno :
                                                           ENOMEM));
                return NULL;
        }
        if ((o = kt_schema_parse(buf, n, msg, sizeof(msg))) == NULL)
                snprintf(why, wl, "%s: %s", path, msg);
        free(buf);
        return o;
}

/* Reads the document at uri (no fragment); 0, or -1 with why. */
static int doc_load(struct kt_schema_set *set, const char *uri,
                    struct where *w, char *why, size_t wl)
{
        char *path = file_for(set, uri), *pj = NULL;
        struct json_object *root;
        struct doc *d;

        if (path == NULL) {
                snprintf(why, wl, "no file for %s%s", uri,
                         set->dir ? "" : " (no schema.dir)");
                return -1;
        }
        pj = cat3(path, strlen(path), ".json", "");
        if (pj != NULL && is_file(pj)) {
                free(path);
                path = pj;
                pj = NULL;
        }
        if (!is_file(path)) {
                /* the layout says DIR/a/b/1.0.0.json: name that file */
                snprintf(why, wl, "%s: %s", pj != NULL ? pj : path,
                         strerror(ENOENT));
                free(pj);
                free(path);
                return -1;
        }
        free(pj);
        if ((root = read_json(path, why, wl)) == NULL) {
                free(path);
                return -1;
        }
        d = doc_add(set, uri, path, root);
        json_object_put(root);
        free(path);
        if (d == NULL) {
                snprintf(why, wl, "out of memory");
                return -1;
        }
        return find_uri(set, d->uri, w);
}

static int hexval(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        ch = (char)(ch | 0x20);
        return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A URI fragment's %XX escapes decoded, in place. */
static void pct_decode(char *s)
{
        char *o = s;

        for (; *s != '\0'; s++) {
                if (s[0] == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
                        *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
                        s += 2;
                } else {
                        *o++ = *s;
                }
        }
        *o = '\0';
}

/* One reference token, unescaped (~1 is /, ~0 is ~), into tok. */
static const char *ptr_token(const char *p, char *tok, size_t sz)
{
        size_t n = 0;

        for (; *p != '\0' && *p != '/'; p++) {
                char ch = *p;

                if (ch == '~' && (p[1] == '0' || p[1] == '1'))
                        ch = *++p == '0' ? '~' : '/';
                if (n + 1 < sz)
                        tok[n++] = ch;
        }
        tok[n] = '\0';
        return p;
}

static struct json_object *ptr_step(struct json_object *o, const char *tok)
{
        struct json_object *v = NULL;
        char *end;
        unsigned long i;

        if (json_object_is_type(o, json_type_object)) {
                json_object_object_get_ex(o, tok, &v);
                return v;
        }
        if (!json_object_is_type(o, json_type_array) || tok[0] < '0' ||
            tok[0] > '9')
                return NULL;
        i = strtoul(tok, &end, 10);
        if (*end != '\0' || i >= json_object_array_length(o))
                return NULL;
        return json_object_array_get_idx(o, i);
}

/*
 * Follows the JSON pointer p from w->obj; w->base becomes a new string
 * (the base around the target, as the $ids on the way make it).
 */
static int ptr_walk(struct kt_schema_set *set, struct where *w,
                    const char *p)
{
        char tok[512], *base = strdup(w->base), *b2;
        struct json_object *id;

        for (; base != NULL && *p == '/';) {
                if (json_object_object_get_ex(w->obj, "$id", &id) &&
                    json_object_is_type(id, json_type_string)) {
                        b2 = uri_resolve(base, json_object_get_string(id));
                        free(base);
                        base = b2;
                }
                p = ptr_token(p + 1, tok, sizeof(tok));
                if ((w->obj = ptr_step(w->obj, tok)) == NULL)
                        break;
                if (grow(&set->passed, &set->n_passed, sizeof(w->obj)))
                        set->passed[set->n_passed - 1] = w->obj;
        }
        w->base = base;
        if (base == NULL || w->obj == NULL || *p != '\0') {
                free(base);
                w->base = NULL;
                return -1;
        }
        return 0;
}

/*
 * Where uri (absolute, with its fragment) leads; w->base is a new
 * string.  0, or -1 with why.
 */
static int uri_where(struct kt_schema_set *set, char *uri, struct where *w,
                     char *why, size_t wl)
{
        char *hash = strchr(uri, '#'), *frag = hash ? hash + 1 : (char *)"";

        if (frag[0] != '\0' && frag[0] != '/') { /* a plain name */
                if (find_uri(set, uri, w) != 0) {
                        snprintf(why, wl, "no $id \"%s\"", uri);
                        return -1;
                }
                return (w->base = strdup(w->base)) ? 0 : -1;
        }
        if (hash != NULL)
                *hash = '\0';
        if (find_uri(set, uri, w) != 0 &&
            doc_load(set, uri, w, why, wl) != 0)
                return -1;
        if (hash != NULL)
                pct_decode(frag);
        if (ptr_walk(set, w, frag) != 0) {
                snprintf(why, wl, "%s has nothing at #%s", uri, frag);
                return -1;
        }
        return 0;
}

/* Compiling. */

/* What a keyword's compiler needs: the schema object and its node. */
struct cc {
        struct kt_schema_set *set;
        struct doc           *doc;
        struct json_object   *obj;
        char                 *base; /* after obj's own $id */
        struct kt_schema     *s;
};

struct keyword {
        const char *name;
        int       (*fn)(struct cc *c, const struct keyword *kw,
                        struct json_object *v);
        size_t      off; /* of the node's field it fills */
        unsigned    has; /* enum has */
};

static struct kt_schema *compile(struct kt_schema_set *set, struct doc *doc,
                                 struct json_object *o, const char *base);

static int bad(struct cc *c, const struct keyword *kw, const char *what)
{
        load_error(c->set, c->doc, c->obj, kw->name, "%s must be %s",
                   kw->name, what);
        return -1;
}

static int oom(struct cc *c)
{
        load_error(c->set, c->doc, NULL, NULL, "out of memory");
        return -1;
}

static void *field(struct cc *c, const struct keyword *kw)
{
        return (char *)c->s + kw->off;
}

static int is_schema(struct json_object *v)
{
        return json_object_is_type(v, json_type_object) ||
               json_object_is_type(v, json_type_boolean);
}

static struct kt_schema *sub(struct cc *c, struct json_object *v)
{
        return compile(c->set, c->doc, v, c->base);
}

static int kw_annotation(struct cc *c, const struct keyword *kw,
                         struct json_object *v)
{
        const char *u;

        if (strcmp(kw->name, "$schema") != 0)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return bad(c, kw, "a string");
        /* http or https (Wikimedia's), with or without the empty "#" */
        u = json_object_get_string(v);
        if (strncmp(u, "https:", 6) == 0)
                u += 6;
        else if (strncmp(u, "http:", 5) == 0)
                u += 5;
        else
                return bad(c, kw, "draft-07's URI (or absent)");
        if (strcmp(u, "//json-schema.org/draft-07/schema#") != 0 &&
            strcmp(u, "//json-schema.org/draft-07/schema") != 0)
                return bad(c, kw, "draft-07's URI (or absent)");
        return 0;
}

static int kw_one(struct cc *c, const struct keyword *kw,
                  struct json_object *v)
{
        struct kt_schema **f = field(c, kw);

        if (!is_schema(v))
                return bad(c, kw, "a schema");
        if ((*f = sub(c, v)) == NULL)
                return -1;
        c->s->has |= kw->has;
        return 0;
}

static int subs_of(struct cc *c, struct subs *ss, struct json_object *v)
{
        size_t n = json_object_array_length(v);

        if ((ss->v = calloc(n ? n : 1, sizeof(*ss->v))) == NULL)
                return oom(c);
        for (ss->n = 0; ss->n < n; ss->n++) {
                struct json_object *e = json_object_array_get_idx(v, ss->n);

                if (!is_schema(e))
                        return load_error(c->set, c->doc, v, NULL,
                                          "item %zu is not a schema",
                                          ss->n), -1;
                if ((ss->v[ss->n] = sub(c, e)) == NULL)
                        return -1;
        }
        return 0;
}

static int kw_many(struct cc *c, const struct keyword *kw,
                   struct json_object *v)
{
        if (!json_object_is_type(v, json_type_array) ||
            json_object_array_length(v) == 0)
                return bad(c, kw, "a non-empty array of schemas");
        c->s->has |= kw->has;
        return subs_of(c, field(c, kw), v);
}

static int kw_items(struct cc *c, const struct keyword *kw,
                    struct json_object *v)
{
        c->s->has |= HAS_ARRAY;
        if (json_object_is_type(v, json_type_array))
                return subs_of(c, &c->s->tuple, v);
        return kw_one(c, kw, v);
}

static int kw_defs(struct cc *c, const struct keyword *kw,
                   struct json_object *v)
{
        if (!json_object_is_type(v, json_type_object))
                return bad(c, kw, "an object of schemas");
        json_object_object_foreach(v, k, d) {
                if (!is_schema(d))
                        return load_error(c->set, c->doc, v, k,
                                          "not a schema"), -1;
                if (sub(c, d) == NULL)
                        return -1;
        }
        return 0;
}

static int kw_bound(struct cc *c, const struct keyword *kw,
                    struct json_object *v)
{
        struct bound *b = field(c, kw);
        struct val x;
        char buf[48];

        if (!json_object_is_type(v, json_type_int) &&
            !json_object_is_type(v, json_type_double))
                return bad(c, kw, "a number");
        val_of_json(v, &x);
        b->n = x.num;
        if (kw->has == HAS_MULT && (x.num.neg || (x.num.exact &&
                                    x.num.mag == 0) || !(x.num.ld > 0 ||
                                    x.num.exact)))
                return bad(c, kw, "a number greater than 0");
        b->text = strdup(x.text ? x.text : describe(&x, buf, sizeof(buf)));
        if (b->text == NULL)
                return oom(c);
        c->s->has |= kw->has;
        return 0;
}

/* The count keywords: minLength, maxItems, ... */
static int kw_count(struct cc *c, const struct keyword *kw,
                    struct json_object *v)
{
        struct val x;

        if (!json_object_is_type(v, json_type_int) &&
            !json_object_is_type(v, json_type_double))
                return bad(c, kw, "a non-negative integer");
        val_of_json(v, &x);
        if (!x.num.integral || (x.num.neg && !(x.num.exact &&
                                               x.num.mag == 0)))
                return bad(c, kw, "a non-negative integer");
        *(size_t *)field(c, kw) = x.num.exact && x.num.mag < SIZE_MAX ?
                                  (size_t)x.num.mag : SIZE_MAX;
        c->s->has |= kw->has;
        return 0;
}

static int type_bit(const char *name, unsigned *bits)
{
        for (unsigned k = 0; k < 7; k++) {
                if (strcmp(name, KIND_NAMES[k]) != 0)
                        continue;
                if (*bits & (1u << k))
                        return -1; /* twice */
                *bits |= 1u << k;
                return 0;
        }
        return -1;
}

static int kw_type(struct cc *c, const struct keyword *kw,
                   struct json_object *v)
{
        static const char what[] = "a type name or an array of "
                "distinct type names (null, boolean, object, array, "
                "number, string, integer)";
        unsigned bits = 0;

        if (json_object_is_type(v, json_type_string)) {
                if (type_bit(json_object_get_string(v), &bits))
                        return bad(c, kw, what);
        } else if (json_object_is_type(v, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        struct json_object *t =
                                json_object_array_get_idx(v, i);

                        if (!json_object_is_type(t, json_type_string) ||
                            type_bit(json_object_get_string(t), &bits))
                                return bad(c, kw, what);
                }
        } else {
                return bad(c, kw, what);
        }
        c->s->types = bits;
        c->s->has |= HAS_TYPE;
        return 0;
}

/* enum: the values, read once. */
static int kw_enum(struct cc *c, const struct keyword *kw,
                   struct json_object *v)
{
        struct kt_schema *s = c->s;
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return bad(c, kw, "an array");
        n = json_object_array_length(v);
        if ((s->lits = calloc(n ? n : 1, sizeof(*s->lits))) == NULL)
                return oom(c);
        s->n_lits = n;
        for (size_t i = 0; i < n; i++)
                val_of_json(json_object_array_get_idx(v, i), &s->lits[i]);
        s->has |= HAS_ENUM;
        return 0;
}

static int kw_const(struct cc *c, const struct keyword *kw,
                    struct json_object *v)
{
        (void)kw;
        val_of_json(v, &c->s->konst);
        c->s->has |= HAS_CONST;
        return 0;
}

/*
 * The patterns class_match() decides as PCRE2 does (with the options of
 * regex_compile(): $ only at the end): one bracket of letters, digits
 * and ranges of them, repeated {n}, {lo,hi}, {lo,}, + or * (or once),
 * the whole string, maybe in an optional group.  The hashed address of
 * schema 1.2.0, ^[0-9a-f]{8,64}$: 650 Ir in pcre2_match, 60 here.
 */
static int class_alnum(unsigned char ch)
{
        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
               (ch >= 'A' && ch <= 'Z');
}

static const char *class_set(const char *p, struct kt_class *re)
{
        unsigned char a, b;

        if (*p++ != '[' || *p == ']')
                return NULL;
        while (*p != ']') {
                a = b = (unsigned char)*p;
                if (!class_alnum(a))
                        return NULL;
                if (p[1] == '-' && p[2] != ']') {
                        b = (unsigned char)p[2];
                        if (!class_alnum(b) || b < a ||
                            (class_alnum(a) && ((a <= '9') != (b <= '9') ||
                                                (a >= 'a') != (b >= 'a'))))
                                return NULL;
                        p += 2;
                }
                for (; a <= b; a++)
                        re->set[a >> 6] |= 1ull << (a & 63);
                p++;
        }
        return p + 1;
}

static const char *class_count(const char *p, size_t *n)
{
        if (*p < '0' || *p > '9')
                return NULL;
        for (*n = 0; *p >= '0' && *p <= '9'; p++)
                if ((*n = *n * 10 + (size_t)(*p - '0')) > 100000)
                        return NULL;
        return p;
}

static const char *class_repeat(const char *p, struct kt_class *re)
{
        re->lo = re->hi = 1;
        if (*p == '+' || *p == '*') {
                re->lo = *p == '+';
                re->hi = SIZE_MAX;
                return p + 1;
        }
        if (*p != '{')
                return p;
        if ((p = class_count(p + 1, &re->lo)) == NULL)
                return NULL;
        re->hi = re->lo;
        if (*p == ',' && p[1] == '}')
                re->hi = SIZE_MAX;
        else if (*p == ',' && (p = class_count(p + 1, &re->hi)) == NULL)
                return NULL;
        if (*p == ',')
                p++;
        return *p == '}' && re->lo <= re->hi ? p + 1 : NULL;
}

static int class_parse(const char *src, size_t len, struct kt_class *re)
{
        const char *p = src;

        re->opt = 0;
        re->set[0] = re->set[1] = 0;
        if (strlen(src) != len || *p++ != '^')
                return 0;
        if (*p == '(') {
                re->opt = 1;
                p += p[1] == '?' && p[2] == ':' ? 3 : 1;
        }
        if ((p = class_set(p, re)) == NULL ||
            (p = class_repeat(p, re)) == NULL)
                return 0;
        if (re->opt && (p[0] != ')' || p[1] != '?' || (p += 2, 0)))
                return 0;
        return strcmp(p, "$") == 0;
}

static int regex_compile(struct cc *c, const char *kw, const char *key,
                         const char *src, size_t len, struct regex *re)
{
        /* Close to ECMA-262: \d \w ASCII only (no UCP), $ only at the
         * end, \u escapes, an unset back reference matches empty. */
        uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
                        PCRE2_MATCH_UNSET_BACKREF;
        PCRE2_SIZE off;
        PCRE2_UCHAR msg[256];
        int code;

        re->code = pcre2_compile((PCRE2_SPTR)src, len, opts, &code, &off,
                                 NULL);
        if (re->code == NULL) {
                pcre2_get_error_message(code, msg, sizeof(msg));
                load_error(c->set, c->doc, c->obj, key,
                           "%s \"%s\": %s at offset %zu", kw, src,
                           (char *)msg, (size_t)off);
                return -1;
        }
        (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* or not */
        re->simple = class_parse(src, len, &re->cls);
        re->md = pcre2_match_data_create(1, NULL);
        re->src = strdup(src);
        if (re->md == NULL || re->src == NULL)
                return oom(c);
        return 0;
}

static int kw_pattern(struct cc *c, const struct keyword *kw,
                      struct json_object *v)
{
        if (!json_object_is_type(v, json_type_string))
                return bad(c, kw, "a string");
        c->s->has |= HAS_PATTERN;
        return regex_compile(c, "pattern", kw->name,
                             json_object_get_string(v),
                             (size_t)json_object_get_string_len(v),
                             &c->s->pattern);
}

static int kw_format(struct cc *c, const struct keyword *kw,
                     struct json_object *v)
{
        if (!json_object_is_type(v, json_type_string))
                return bad(c, kw, "a string");
        c->s->format = kt_format_lookup(json_object_get_string(v));
        if (c->s->format == KT_FORMAT_NONE) {
                load_error(c->set, c->doc, c->obj, kw->name,
                           "unknown format \"%s\" (known: date-time, date, "
                           "time, ipv4, ipv6, uuid, hostname)",
                           json_object_get_string(v));
                return -1;
        }
        c->s->has |= HAS_FORMAT;
        return 0;
}

static int name_dup(struct name *n, const char *s)
{
        n->len = strlen(s);
        n->s = strdup(s);
        return n->s == NULL ? -1 : 0;
}

static int kw_props(struct cc *c, const struct keyword *kw,
                    struct json_object *v)
{
        struct kt_schema *s = c->s;
        size_t n;

        if (!json_object_is_type(v, json_type_object))
                return bad(c, kw, "an object of schemas");
        n = (size_t)json_object_object_length(v);
        if ((s->props = calloc(n ? n : 1, sizeof(*s->props))) == NULL)
                return oom(c);
        s->has |= HAS_OBJECT;
        json_object_object_foreach(v, k, ps) {
                struct prop *p = &s->props[s->n_props];

                if (!is_schema(ps))
                        return load_error(c->set, c->doc, v, k,
                                          "not a schema"), -1;
                if (name_dup(&p->name, k))
                        return oom(c);
                s->n_props++;
                if ((p->s = sub(c, ps)) == NULL)
                        return -1;
        }
        return 0;
}

static int kw_pprops(struct cc *c, const struct keyword *kw,
                     struct json_object *v)
{
        struct kt_schema *s = c->s;
        size_t n;

        if (!json_object_is_type(v, json_type_object))
                return bad(c, kw, "an object of schemas");
        n = (size_t)json_object_object_length(v);
        if ((s->pprops = calloc(n ? n : 1, sizeof(*s->pprops))) == NULL)
                return oom(c);
        s->has |= HAS_OBJECT;
        json_object_object_foreach(v, k, ps) {
                struct pprop *p = &s->pprops[s->n_pprops];

                if (!is_schema(ps))
                        return load_error(c->set, c->doc, v, k,
                                          "not a schema"), -1;
                s->n_pprops++;
                if (regex_compile(c, "patternProperties", kw->name, k,
                                  strlen(k), &p->re) ||
                    (p->s = sub(c, ps)) == NULL)
                        return -1;
        }
        return 0;
}

/* An array of strings into names; -1 (no error set) when it is not. */
static int names_of(struct json_object *v, struct name **out, size_t *n)
{
        size_t len;

        if (!json_object_is_type(v, json_type_array))
                return -1;
        len = json_object_array_length(v);
        if ((*out = calloc(len ? len : 1, sizeof(**out))) == NULL)
                return -2;
        for (*n = 0; *n < len; (*n)++) {
                struct json_object *e = json_object_array_get_idx(v, *n);

                if (!json_object_is_type(e, json_type_string))
                        return -1;
                if (name_dup(&(*out)[*n], json_object_get_string(e)))
                        return -2;
        }
        return 0;
}

static int kw_required(struct cc *c, const struct keyword *kw,
                       struct json_object *v)
{
        int r = names_of(v, &c->s->req, &c->s->n_req);
        const struct name *q = c->s->req;

        c->s->has |= HAS_OBJECT;
        if (r == -2)
                return oom(c);
        for (size_t i = 0; r == 0 && i < c->s->n_req; i++)
                for (size_t j = 0; j < i; j++)
                        if (q[i].len == q[j].len &&
                            memcmp(q[i].s, q[j].s, q[i].len) == 0)
                                r = -1;
        return r ? bad(c, kw, "an array of distinct strings") : 0;
}

static int kw_deps(struct cc *c, const struct keyword *kw,
                   struct json_object *v)
{
        struct kt_schema *s = c->s;
        size_t n;
        int r;

        if (!json_object_is_type(v, json_type_object))
                return bad(c, kw, "an object");
        n = (size_t)json_object_object_length(v);
        if ((s->deps = calloc(n ? n : 1, sizeof(*s->deps))) == NULL)
                return oom(c);
        s->has |= HAS_OBJECT;
        json_object_object_foreach(v, k, dv) {
                struct dep *d = &s->deps[s->n_deps++];

                if (name_dup(&d->name, k))
                        return oom(c);
                if (is_schema(dv)) {
                        if ((d->s = sub(c, dv)) == NULL)
                                return -1;
                        continue;
                }
                if ((r = names_of(dv, &d->req, &d->n_req)) == -2)
                        return oom(c);
                if (r != 0)
                        return load_error(c->set, c->doc, v, k, "must be "
                                          "a schema or an array of "
                                          "strings"), -1;
        }
        return 0;
}

static int kw_unique(struct cc *c, const struct keyword *kw,
                     struct json_object *v)
{
        if (!json_object_is_type(v, json_type_boolean))
                return bad(c, kw, "a boolean");
        c->s->unique = json_object_get_boolean(v);
        c->s->has |= HAS_ARRAY;
        return 0;
}

#define AT(f) offsetof(struct kt_schema, f)

/* Every keyword of draft-07 but $ref (compile_object's). */
static const struct keyword KEYWORDS[] = {
        { "$comment", kw_annotation, 0, 0 },
        { "$id", kw_annotation, 0, 0 },
        { "$schema", kw_annotation, 0, 0 },
        { "additionalItems", kw_one, AT(add_items), HAS_ARRAY },
        { "additionalProperties", kw_one, AT(add_props), HAS_OBJECT },
        { "allOf", kw_many, AT(all_of), HAS_COMB },
        { "anyOf", kw_many, AT(any_of), HAS_COMB },
        { "const", kw_const, 0, HAS_CONST },
        { "contains", kw_one, AT(contains), HAS_ARRAY },
        { "contentEncoding", kw_annotation, 0, 0 },
        { "contentMediaType", kw_annotation, 0, 0 },
        { "default", kw_annotation, 0, 0 },
        { "definitions", kw_defs, 0, 0 },
        { "dependencies", kw_deps, 0, 0 },
        { "description", kw_annotation, 0, 0 },
        { "else", kw_one, AT(else_), HAS_COMB },
        { "enum", kw_enum, 0, HAS_ENUM },
        { "examples", kw_annotation, 0, 0 },
        { "exclusiveMaximum", kw_bound, AT(exmax), HAS_EXMAX },
        { "exclusiveMinimum", kw_bound, AT(exmin), HAS_EXMIN },
        { "format", kw_format, 0, 0 },
        { "if", kw_one, AT(if_), HAS_COMB },
        { "items", kw_items, AT(items), HAS_ARRAY },
        { "maxItems", kw_count, AT(max_items), HAS_ARRAY },
        { "maxLength", kw_count, AT(max_len), HAS_MAXLEN },
        { "maxProperties", kw_count, AT(max_props), HAS_OBJECT },
        { "maximum", kw_bound, AT(max), HAS_MAX },
        { "minItems", kw_count, AT(min_items), HAS_ARRAY },
        { "minLength", kw_count, AT(min_len), HAS_MINLEN },
        { "minProperties", kw_count, AT(min_props), HAS_OBJECT },
        { "minimum", kw_bound, AT(min), HAS_MIN },
        { "multipleOf", kw_bound, AT(mult), HAS_MULT },
        { "not", kw_one, AT(not_), HAS_COMB },
        { "oneOf", kw_many, AT(one_of), HAS_COMB },
        { "pattern", kw_pattern, 0, 0 },
        { "patternProperties", kw_pprops, 0, 0 },
        { "properties", kw_props, 0, 0 },
        { "propertyNames", kw_one, AT(prop_names), HAS_OBJECT },
        { "readOnly", kw_annotation, 0, 0 },
        { "required", kw_required, 0, 0 },
        { "then", kw_one, AT(then_), HAS_COMB },
        { "title", kw_annotation, 0, 0 },
        { "type", kw_type, 0, 0 },
        { "uniqueItems", kw_unique, 0, 0 },
        { "writeOnly", kw_annotation, 0, 0 },
};

static const struct keyword *keyword(const char *k)
{
        for (size_t i = 0; i < sizeof(KEYWORDS) / sizeof(KEYWORDS[0]); i++)
                if (strcmp(KEYWORDS[i].name, k) == 0)
                        return &KEYWORDS[i];
        return NULL;
}

static int unknown(struct cc *c, const char *k, struct json_object *v)
{
        struct unknown *u = grow(&c->set->unknowns, &c->set->n_unknowns,
                                 sizeof(*u));

        if (u == NULL)
                return oom(c);
        u->doc = c->doc;
        u->schema = c->obj;
        u->key = k; /* json-c's, alive with the document */
        u->val = v;
        return 0;
}

static int ref_node(struct cc *c, struct json_object *v)
{
        char why[1024];
        struct where w;
        char *uri;

        if (!json_object_is_type(v, json_type_string)) {
                load_error(c->set, c->doc, c->obj, "$ref",
                           "$ref must be a string");
                return -1;
        }
        uri = uri_resolve(c->base, json_object_get_string(v));
        if (uri == NULL)
                return oom(c);
        if (uri_where(c->set, uri, &w, why, sizeof(why)) != 0) {
                load_error(c->set, c->doc, c->obj, "$ref",
                           "cannot resolve \"%s\": %s",
                           json_object_get_string(v), why);
                free(uri);
                return -1;
        }
        c->s->ref = compile(c->set, w.doc, w.obj, w.base);
        free(w.base);
        free(uri);
        return c->s->ref != NULL ? 0 : -1;
}

/* draft-07: beside $ref, other keywords are ignored (but must be some). */
static int compile_members(struct cc *c)
{
        struct json_object *ref;
        const struct keyword *kw;

        if (json_object_object_get_ex(c->obj, "$ref", &ref)) {
                json_object_object_foreach(c->obj, k, v) {
                        if (strcmp(k, "$ref") != 0 && keyword(k) == NULL &&
                            unknown(c, k, v))
                                return -1;
                }
                return ref_node(c, ref);
        }
        json_object_object_foreach(c->obj, k, v) {
                if ((kw = keyword(k)) == NULL) {
                        if (unknown(c, k, v))
                                return -1;
                } else if (kw->fn(c, kw, v)) {
                        return -1;
                }
        }
        return 0;
}

static int compile_object(struct kt_schema_set *set, struct doc *doc,
                          struct json_object *o, const char *base,
                          struct kt_schema *s)
{
        struct cc c = { set, doc, o, NULL, s };
        struct json_object *id;
        int r;

        if (json_object_object_get_ex(o, "$id", &id)) {
                if (!json_object_is_type(id, json_type_string)) {
                        load_error(set, doc, o, "$id", "must be a string");
                        return -1;
                }
                c.base = uri_resolve(base, json_object_get_string(id));
        } else {
                c.base = strdup(base);
        }
        if (c.base == NULL)
                return oom(&c);
        r = compile_members(&c);
        free(c.base);
        return r;
}

static struct kt_schema *compile(struct kt_schema_set *set, struct doc *doc,
                                 struct json_object *o, const char *base)
{
        struct kt_schema *s = node_get(set, o);

        if (s != NULL || set->failed)
                return s;
        if ((s = calloc(1, sizeof(*s))) == NULL)
                return load_error(set, NULL, NULL, NULL, "out of memory");
        s->next = set->nodes;
        set->nodes = s;
        s->max_len = s->max_items = s->max_props = NO_LIMIT;
        if (node_put(set, o, s) != 0)
                return load_error(set, NULL, NULL, NULL, "out of memory");
        if (json_object_is_type(o, json_type_boolean)) {
                if (!json_object_get_boolean(o))
                        s->has = HAS_FALSE;
                return s;
        }
        if (!json_object_is_type(o, json_type_object))
                return load_error(set, doc, o, NULL, "a schema must be an "
                                  "object or a boolean, not %s",
                                  json_type_to_name(json_object_get_type(o)));
        return compile_object(set, doc, o, base, s) ? NULL : s;
}

/* Loading. */

static int was_passed(const struct kt_schema_set *set,
                      const struct json_object *v)
{
        for (size_t i = 0; i < set->n_passed; i++)
                if (set->passed[i] == v)
                        return 1;
        return 0;
}

/* A node that is a loop of $refs, never reaching a schema; or NULL. */
static const struct json_object *ref_loop(const struct kt_schema_set *set)
{
        for (size_t i = 0; i < set->n_slots; i++) {
                const struct kt_schema *s = set->slots[i].s;
                size_t n = 0;

                if (set->slots[i].obj == NULL)
                        continue;
                while (s->ref != NULL && n++ <= set->used)
                        s = s->ref;
                if (s->ref != NULL)
                        return set->slots[i].obj;
        }
        return NULL;
}

static struct doc *doc_of(const struct kt_schema_set *set,
                          struct json_object *o)
{
        char ptr[512];

        for (struct doc *d = set->docs; d != NULL; d = d->next)
                if (find_pointer(d->root, o, ptr, sizeof(ptr), 0))
                        return d;
        return NULL;
}

static struct nslot *name_slot(struct kt_schema *s, const struct name *nm)
{
        uint32_t h = name_hash(nm->s, nm->len);
        size_t mask = s->n_names - 1, i;

        for (i = h & mask; s->names[i].name != NULL; i = (i + 1) & mask)
                if (s->names[i].name->len == nm->len &&
                    memcmp(s->names[i].name->s, nm->s, nm->len) == 0)
                        return &s->names[i];
        s->names[i].name = nm;
        s->names[i].hash = h;
        s->names[i].req = -1;
        return &s->names[i];
}

/* s->names: properties and required names, for one lookup a member. */
static int names_index(struct kt_schema *s)
{
        size_t n = 4, i;

        if (s->names != NULL || s->n_props + s->n_req == 0)
                return 0;
        while (n < 2 * (s->n_props + s->n_req))
                n *= 2;
        if ((s->names = calloc(n, sizeof(*s->names))) == NULL)
                return -1;
        s->n_names = n;
        for (i = 0; i < s->n_props; i++)
                name_slot(s, &s->props[i].name)->s = s->props[i].s;
        for (i = 0; i < s->n_req; i++) /* distinct (kw_required) */
                name_slot(s, &s->req[i])->req = (long)i;
        return 0;
}

/*
 * The fast paths of kt_schema_validate_scalar(): a node of an integer or
 * number type with at most a minimum and a maximum, exact, accepts every
 * natural number of that range by its digits alone; a node of a string
 * type with only string keywords (and anyOf of such) checks them without
 * the walk.
 */
static int str_only(const struct kt_schema *s)
{
        return s->ref == NULL &&
               (s->has & ~(unsigned)(HAS_TYPE | HAS_STRING)) == 0;
}

/* A string schema string_ok() decides alone. */
static int str_fast(const struct kt_schema *s)
{
        if (!(s->has & HAS_TYPE) || !(s->types & 1u << KT_J_STRING) ||
            s->ref != NULL ||
            (s->has & ~(unsigned)(HAS_TYPE | HAS_STRING | HAS_COMB)) ||
            s->all_of.n || s->one_of.n || s->not_ || s->if_)
                return 0;
        for (size_t i = 0; i < s->any_of.n; i++)
                if (!str_only(kt_schema_deref(s->any_of.v[i])))
                        return 0;
        return 1;
}

static void nat_range(struct kt_schema *s)
{
        s->str = str_fast(s);
        s->nat = 0;
        if ((s->has & ~(unsigned)(HAS_TYPE | HAS_MIN | HAS_MAX)) != 0 ||
            !(s->has & HAS_TYPE) || s->ref != NULL ||
            !(s->types & (T_INTEGER | 1u << KT_J_NUMBER)))
                return;
        if ((s->has & HAS_MIN) && !s->min.n.exact)
                return;
        if ((s->has & HAS_MAX) && (!s->max.n.exact || s->max.n.neg))
                return;
        s->nat_lo = (s->has & HAS_MIN) && !s->min.n.neg ? s->min.n.mag : 0;
        s->nat_hi = (s->has & HAS_MAX) ? s->max.n.mag : UINT64_MAX;
        s->nat = s->nat_lo <= s->nat_hi;
}

/*
 * kt_schema_rules(): what a schema asks of a string, and of a natural
 * number in plain digits, when simple bounds say it all.  Each rule
 * starts as "every value" and is narrowed by every keyword that applies
 * to its kind (allOf: each branch in turn); keywords of other kinds do
 * not apply (an "items" says nothing of a string).  A keyword the rule
 * cannot hold (a pattern, an enum, oneOf) makes it not simple: the
 * caller checks such values with kt_schema_validate_scalar().
 */
#define RULE_DEPTH 16

static void str_never(struct kt_string_rule *r)
{
        r->min_len = 1;
        r->max_len = 0;
}

static int str_never_is(const struct kt_string_rule *r)
{
        return r->min_len > r->max_len;
}

static int str_every_is(const struct kt_string_rule *r)
{
        return r->min_len == 0 && r->max_len == SIZE_MAX &&
               r->all_formats == 0 && r->any_formats == 0 &&
               r->all_class == NULL && r->any_class == NULL;
}

static void str_every(struct kt_string_rule *r)
{
        r->simple = 1;
        r->min_len = 0;
        r->max_len = SIZE_MAX;
        r->all_formats = r->any_formats = 0;
        r->all_class = r->any_class = NULL;
}

/* r narrowed by b: both must hold.  0 when r cannot say so. */
static int str_and(struct kt_string_rule *r, const struct kt_string_rule *b)
{
        if (((r->any_formats != 0 || r->any_class != NULL) &&
             (b->any_formats != 0 || b->any_class != NULL)) ||
            (r->all_class != NULL && b->all_class != NULL))
                return 0;
        if (b->all_class != NULL)
                r->all_class = b->all_class;
        if (b->any_class != NULL)
                r->any_class = b->any_class;
        if (b->min_len > r->min_len)
                r->min_len = b->min_len;
        if (b->max_len < r->max_len)
                r->max_len = b->max_len;
        r->all_formats |= b->all_formats;
        r->any_formats |= b->any_formats;
        return 1;
}

static int str_rule(const struct kt_schema *s, struct kt_string_rule *r,
                    int depth);

/* A branch of anyOf that asks one format alone, or one class alone
 * (*cls): 1, else 0. */
static int str_alone(const struct kt_string_rule *b,
                     const struct kt_class **cls)
{
        if (b->min_len != 0 || b->max_len != SIZE_MAX ||
            b->any_formats != 0 || b->any_class != NULL)
                return 0;
        if (b->all_class == NULL)
                return __builtin_popcount(b->all_formats) == 1;
        if (b->all_formats != 0 || *cls != NULL)
                return 0;
        *cls = b->all_class;
        return 1;
}

/*
 * anyOf for a string: the branches that can pass one (the others, a type
 * integer beside a type string, drop out); one left is ANDed in, several
 * that each ask one format alone (and one class alone at most) become
 * "one of these" (an address: ipv4 or ipv6, or a hash of one), an
 * unconstrained one passes every string.
 */
static int str_any_of(const struct subs *any, struct kt_string_rule *r,
                      int depth)
{
        struct kt_string_rule b, one = { 0 };
        const struct kt_class *cls = NULL;
        unsigned formats = 0;
        size_t live = 0, i;
        int alone = 1;

        for (i = 0; i < any->n; i++) {
                str_every(&b);
                if (!str_rule(any->v[i], &b, depth + 1))
                        return 0;
                if (str_never_is(&b))
                        continue;
                if (str_every_is(&b))
                        return 1;
                live++;
                one = b;
                if (!str_alone(&b, &cls))
                        alone = 0;
                formats |= b.all_formats;
        }
        if (live == 0) {
                str_never(r);
                return 1;
        }
        if (live == 1)
                return str_and(r, &one);
        if (!alone || r->any_formats != 0 || r->any_class != NULL)
                return 0;
        r->any_formats = formats;
        r->any_class = cls;
        return 1;
}

static int str_rule(const struct kt_schema *s, struct kt_string_rule *r,
                    int depth)
{
        size_t i;

        s = kt_schema_deref(s);
        if (depth > RULE_DEPTH)
                return 0;
        if ((s->has & HAS_FALSE) ||
            ((s->has & HAS_TYPE) && !(s->types & 1u << KT_J_STRING))) {
                str_never(r);
                return 1;
        }
        if (s->has & (HAS_ENUM | HAS_CONST))
                return 0;
        if (s->has & HAS_PATTERN) {
                if (!s->pattern.simple || r->all_class != NULL)
                        return 0;
                r->all_class = &s->pattern.cls;
        }
        if ((s->has & HAS_MINLEN) && s->min_len > r->min_len)
                r->min_len = s->min_len;
        if ((s->has & HAS_MAXLEN) && s->max_len < r->max_len)
                r->max_len = s->max_len;
        if (s->has & HAS_FORMAT)
                r->all_formats |= 1u << s->format;
        if (s->one_of.n || s->not_ || s->if_ || s->then_ || s->else_)
                return 0;
        for (i = 0; i < s->all_of.n; i++)
                if (!str_rule(s->all_of.v[i], r, depth + 1))
                        return 0;
        return s->any_of.n == 0 || str_any_of(&s->any_of, r, depth);
}

static void nat_every(struct kt_natural_rule *r)
{
        r->simple = 1;
        r->lo = 0;
        r->hi = UINT64_MAX;
}

static void nat_never(struct kt_natural_rule *r)
{
        r->lo = 1;
        r->hi = 0;
}

static int nat_rule(const struct kt_schema *s, struct kt_natural_rule *r,
                    int depth);

/* anyOf for a natural number: as str_any_of(), one branch left at most. */
static int nat_any_of(const struct subs *any, struct kt_natural_rule *r,
                      int depth)
{
        struct kt_natural_rule b, one = { 0, 0, 0 };
        size_t live = 0, i;

        for (i = 0; i < any->n; i++) {
                nat_every(&b);
                if (!nat_rule(any->v[i], &b, depth + 1))
                        return 0;
                if (b.lo > b.hi)
                        continue;
                if (b.lo == 0 && b.hi == UINT64_MAX)
                        return 1;
                live++;
                one = b;
        }
        if (live > 1)
                return 0;
        if (live == 0) {
                nat_never(r);
                return 1;
        }
        if (one.lo > r->lo)
                r->lo = one.lo;
        if (one.hi < r->hi)
                r->hi = one.hi;
        return 1;
}

static int nat_rule(const struct kt_schema *s, struct kt_natural_rule *r,
                    int depth)
{
        size_t i;

        s = kt_schema_deref(s);
        if (depth > RULE_DEPTH)
                return 0;
        if ((s->has & HAS_FALSE) ||
            ((s->has & HAS_TYPE) &&
             !(s->types & (T_INTEGER | 1u << KT_J_NUMBER)))) {
                nat_never(r);
                return 1;
        }
        if (s->has & (HAS_EXMIN | HAS_EXMAX | HAS_MULT | HAS_ENUM |
                      HAS_CONST))
                return 0;
        if (s->has & HAS_MIN) {
                if (!s->min.n.exact)
                        return 0;
                if (!s->min.n.neg && s->min.n.mag > r->lo)
                        r->lo = s->min.n.mag;
        }
        if (s->has & HAS_MAX) {
                if (!s->max.n.exact || (s->max.n.neg && s->max.n.mag != 0))
                        return 0;
                if (s->max.n.mag < r->hi)
                        r->hi = s->max.n.mag;
        }
        if (s->one_of.n || s->not_ || s->if_ || s->then_ || s->else_)
                return 0;
        for (i = 0; i < s->all_of.n; i++)
                if (!nat_rule(s->all_of.v[i], r, depth + 1))
                        return 0;
        return s->any_of.n == 0 || nat_any_of(&s->any_of, r, depth);
}

void kt_schema_rules(const struct kt_schema *s, struct kt_string_rule *str,
                     struct kt_natural_rule *nat)
{
        if (str->simple && !str_rule(s, str, 0))
                str->simple = 0;
        if (nat->simple && !nat_rule(s, nat, 0))
                nat->simple = 0;
}

void kt_schema_rules_init(struct kt_string_rule *str,
                          struct kt_natural_rule *nat)
{
        str_every(str);
        nat_every(nat);
}

/* What is checked once everything is compiled. */
static int finish(struct kt_schema_set *set)
{
        struct json_object *loop;

        for (size_t i = 0; i < set->n_unknowns; i++) {
                const struct unknown *u = &set->unknowns[i];

                if (was_passed(set, u->val))
                        continue;
                load_error(set, u->doc, u->schema, u->key,
                           "unknown keyword \"%s\" (not in draft-07, or "
                           "not implemented)", u->key);
                return -1;
        }
        set->n_unknowns = 0;
        loop = (struct json_object *)ref_loop(set);
        if (loop != NULL) {
                load_error(set, doc_of(set, loop), loop, "$ref",
                           "a loop of $refs that never reaches a schema");
                return -1;
        }
        for (struct kt_schema *s = set->nodes; s != NULL; s = s->next) {
                nat_range(s);
                if (names_index(s) != 0) {
                        load_error(set, NULL, NULL, NULL, "out of memory");
                        return -1;
                }
        }
        return 0;
}

static void load_begin(struct kt_schema_set *set, char *err, size_t errlen)
{
        set->err = err;
        set->errlen = errlen;
        set->failed = 0;
        if (err != NULL && errlen > 0)
                err[0] = '\0';
}

/* After a load: a failure leaves nodes half made, so the set is done. */
static const struct kt_schema *load_end(struct kt_schema_set *set,
                                        const struct kt_schema *s)
{
        if (s != NULL && finish(set) != 0)
                s = NULL;
        if (s == NULL && set->broken == NULL) {
                set->failed = 1;
                set->broken = strdup(set->err && set->errlen ? set->err :
                                     "schema set unusable");
        }
        set->err = NULL;
        set->errlen = 0;
        return s;
}

static int was_broken(struct kt_schema_set *set, char *err, size_t errlen)
{
        if (set->broken == NULL)
                return 0;
        snprintf(err, errlen, "%s", set->broken);
        return 1;
}

const struct kt_schema *kt_schema_load(struct kt_schema_set *set,
                                       const char *uri, char *err,
                                       size_t errlen)
{
        char why[1024];
        struct where w;
        const struct kt_schema *s = NULL;
        char *u;

        if (was_broken(set, err, errlen))
                return NULL;
        load_begin(set, err, errlen);
        if ((u = uri_resolve("", uri)) == NULL)
                return load_end(set, load_error(set, NULL, NULL, NULL,
                                                "out of memory"));
        if (uri_where(set, u, &w, why, sizeof(why)) != 0) {
                load_error(set, NULL, NULL, NULL, "schema %s: %s", uri, why);
        } else {
                s = compile(set, w.doc, w.obj, w.base);
                free(w.base);
        }
        free(u);
        return load_end(set, s);
}

const struct kt_schema *kt_schema_compile(struct kt_schema_set *set,
                                          struct json_object *doc,
                                          const char *base, char *err,
                                          size_t errlen)
{
        struct doc *d;

        if (was_broken(set, err, errlen))
                return NULL;
        load_begin(set, err, errlen);
        if (base == NULL)
                base = "";
        if ((d = doc_add(set, base, NULL, doc)) == NULL)
                return load_end(set, load_error(set, NULL, NULL, NULL,
                                                "out of memory"));
        return load_end(set, compile(set, d, doc, d->uri));
}

/* The one-pass check of a flat object (validate.c). */

const struct kt_schema *kt_schema_deref(const struct kt_schema *s)
{
        while (s->ref != NULL)
                s = s->ref;
        return s;
}

enum kt_schema_shape kt_schema_shape(const struct kt_schema *s)
{
        s = kt_schema_deref(s);
        if (s->has == 0)
                return KT_SHAPE_ANY;
        if (s->has & HAS_FALSE)
                return KT_SHAPE_NONE;
        if ((s->has & ~(unsigned)(HAS_TYPE | HAS_OBJECT)) != 0 ||
            s->n_deps > 0)
                return KT_SHAPE_OTHER;
        if ((s->has & HAS_TYPE) && !(s->types & 1u << KT_J_OBJECT))
                return KT_SHAPE_OTHER;
        return KT_SHAPE_OBJECT;
}

static void ctx_at(struct ctx *c, struct kt_schema_error *e,
                   const char *name, size_t len)
{
        c->e = e;
        c->base = "";
        c->nsegs = 0;
        c->depth = 0;
        if (name != NULL)
                push_key(c, name, len);
}

/* propertyNames' check of name, without a report. */
static int quiet_name(const struct kt_schema *pn, const char *name,
                      size_t len)
{
        struct ctx c;
        struct val kv;

        ctx_at(&c, NULL, NULL, 0);
        memset(&kv, 0, sizeof(kv));
        kv.kind = KT_J_STRING;
        kv.str = name;
        kv.len = len;
        return check(pn, &kv, &c);
}

/* Why kt_schema_member() refuses name, in e; -1. */
static int member_refused(const struct kt_schema *s, const char *name,
                          size_t len, struct kt_schema_error *e)
{
        struct ctx c;
        struct val kv;

        ctx_at(&c, e, name, len);
        if (s->add_props != NULL && (s->add_props->has & HAS_FALSE))
                return -fail(&c, "additionalProperties",
                             "the property is not allowed");
        memset(&kv, 0, sizeof(kv));
        kv.kind = KT_J_STRING;
        kv.str = name;
        kv.len = len;
        return -check(s->prop_names, &kv, &c);
}

int kt_schema_member(const struct kt_schema *s, const char *name,
                     size_t len, const struct kt_schema **out, size_t max,
                     unsigned char *seen, struct kt_schema_error *e)
{
        const struct nslot *ns;
        size_t k = 0;

        s = kt_schema_deref(s);
        if ((ns = name_find(s, name, len)) != NULL) {
                if (ns->req >= 0 && seen != NULL)
                        seen[ns->req] = 1;
                if (ns->s != NULL && k++ < max)
                        out[0] = ns->s;
        }
        for (size_t i = 0; i < s->n_pprops; i++)
                if (regex_match(&s->pprops[i].re, name, len) && k++ < max)
                        out[k - 1] = s->pprops[i].s;
        if (k == 0 && s->add_props != NULL) {
                if (s->add_props->has & HAS_FALSE)
                        return member_refused(s, name, len, e);
                if (k++ < max)
                        out[0] = s->add_props;
        }
        if (s->prop_names != NULL &&
            quiet_name(s->prop_names, name, len))
                return member_refused(s, name, len, e);
        return (int)k;
}

size_t kt_schema_n_required(const struct kt_schema *s)
{
        return kt_schema_deref(s)->n_req;
}

const char *kt_schema_required(const struct kt_schema *s, size_t i,
                               size_t *len)
{
        s = kt_schema_deref(s);
        *len = s->req[i].len;
        return s->req[i].s;
}

int kt_schema_object_end(const struct kt_schema *s, size_t members,
                         const unsigned char *seen,
                         struct kt_schema_error *e)
{
        struct ctx c;

        s = kt_schema_deref(s);
        ctx_at(&c, e, NULL, 0);
        if (members < s->min_props)
                return fail(&c, "minProperties",
                            "%zu properties, fewer than %zu", members,
                            s->min_props);
        if (members > s->max_props)
                return fail(&c, "maxProperties",
                            "%zu properties, more than %zu", members,
                            s->max_props);
        for (size_t i = 0; i < s->n_req; i++) {
                if (seen[i])
                        continue;
                push_key(&c, s->req[i].s, s->req[i].len);
                return fail(&c, "required",
                            "the required property is missing");
        }
        return 0;
}
