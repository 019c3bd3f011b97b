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
#include <stdio.h>

#include "jsonscan.h"

int kt_js_fail(struct kt_js_scan *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(s->err, s->errlen, fmt, ap);
        va_end(ap);
        return -1;
}

int kt_js_unexpected(struct kt_js_scan *s)
{
        if (s->p == s->end)
                return kt_js_fail(s, "not JSON: unexpected end of input");
        return kt_js_fail(s, "not JSON: unexpected '%c' at byte %d",
                          *s->p >= 0x20 && *s->p < 0x7f ? *s->p : '?',
                          kt_js_at(s));
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

int kt_js_escape(struct kt_js_scan *s)
{
        int i;

        s->p++; /* the backslash */
        s->escapes++;
        if (s->p == s->end)
                return kt_js_unexpected(s);
        if (strchr("\"\\/bfnrt", *s->p) != NULL && *s->p != '\0') {
                s->p++;
                return 0;
        }
        if (*s->p != 'u')
                return kt_js_fail(s, "not JSON: bad escape '\\%c' at byte %d",
                                  *s->p >= 0x20 && *s->p < 0x7f ? *s->p : '?',
                                  kt_js_at(s) - 1);
        for (s->p++, i = 0; i < 4; i++, s->p++)
                if (s->p == s->end || !isxdigit((unsigned char)*s->p))
                        return kt_js_fail(s, "not JSON: bad \\u escape at "
                                          "byte %d", kt_js_at(s));
        return 0;
}

static int scan_literal(struct kt_js_scan *s, const char *lit, size_t n)
{
        if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
                return kt_js_fail(s, "not JSON: bad value at byte %d",
                                  kt_js_at(s));
        s->p += n;
        return 0;
}


/* An object's members (the line's own: kt_js_members()). */
static int scan_object(struct kt_js_scan *s, int depth)
{
        struct kt_tok key, value;
        int r;

        if (kt_js_open_empty(s, '}'))
                return 0;
        do {
                if (kt_js_name(s, &key, depth == 1) == -1 ||
                    kt_js_value(s, depth + 1, &value) == -1)
                        return -1;
        } while ((r = kt_js_next_item(s, '}')) == 1);
        return r;
}

static int scan_array(struct kt_js_scan *s, int depth)
{
        struct kt_tok value;
        int r;

        if (kt_js_open_empty(s, ']'))
                return 0;
        do {
                if (kt_js_value(s, depth + 1, &value) == -1)
                        return -1;
        } while ((r = kt_js_next_item(s, ']')) == 1);
        return r;
}

/* The value at s->p, at depth (the document is 1, as json-c counts). */
int kt_js_value(struct kt_js_scan *s, int depth, struct kt_tok *k)
{
        int r;

        if (depth > KT_MAX_DEPTH)
                return kt_js_fail(s, "not JSON: nesting deeper than %d at "
                                  "byte %d", KT_MAX_DEPTH, kt_js_at(s));
        if (s->p == s->end)
                return kt_js_unexpected(s);
        k->start = kt_js_at(s);
        k->natural = 0; /* kt_js_member_value() reads numbers itself */
        switch (*s->p) {
        case '"':
                return kt_js_string(s, k);
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
                r = kt_js_number(s) == -1 ? -1 : 0;
                break;
        }
        k->end = kt_js_at(s);
        return r;
}

int kt_json_check(const char *buf, size_t len, char *err, size_t errlen)
{
        struct kt_tok root;

        return kt_json_scan(buf, len, NULL, &root, err, errlen);
}
