/*
 * jsonwalk.c: walking valid JSON text, and json-c documents from it with
 * exact numbers.  See jsonwalk.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonscan.h"
#include "jsonwalk.h"

static const char *skip_ws(const char *p, const char *end)
{
        while (p < end && kt_js_is_ws(*p))
                p++;
        return p;
}

/* Past the string whose opening quote is at p; *escaped if it has one. */
static const char *skip_string(const char *p, const char *end, int *escaped)
{
        struct kt_js_scan s = { p, p + 1, end, 0, NULL, 0 };

        for (;;) {
                kt_js_skip_plain(&s);
                if (s.p >= end)
                        return end;
                if (*s.p == '"')
                        return s.p + 1;
                if (*s.p == '\\') {
                        *escaped = 1;
                        s.p += 2;
                } else {
                        s.p++; /* a byte of a UTF-8 sequence */
                }
        }
}

static int is_number_byte(char c)
{
        return kt_js_is_digit(c) || c == '-' || c == '+' || c == '.' ||
               c == 'e' || c == 'E';
}

/* Past the array or object that opens at p: strings may hold brackets. */
static const char *skip_container(const char *p, const char *end)
{
        int depth = 0, escaped;

        while (p < end) {
                switch (*p) {
                case '"':
                        p = skip_string(p, end, &escaped);
                        continue;
                case '{': case '[':
                        depth++;
                        break;
                case '}': case ']':
                        if (--depth == 0)
                                return p + 1;
                        break;
                }
                p++;
        }
        return end;
}

/* The value at p (no space before it); returns the byte after it. */
static const char *read_value(const char *p, const char *end,
                              struct kt_wval *v)
{
        const char *q;

        v->escaped = 0;
        switch (*p) {
        case '"':
                q = skip_string(p, end, &v->escaped);
                v->kind = KT_J_STRING;
                v->p = p + 1;
                v->len = (size_t)(q - p) - 2;
                return q;
        case '{': case '[':
                q = skip_container(p, end);
                v->kind = *p == '{' ? KT_J_OBJECT : KT_J_ARRAY;
                break;
        case 't': case 'f':
                q = p + (*p == 't' ? 4 : 5);
                v->kind = KT_J_BOOLEAN;
                break;
        case 'n':
                q = p + 4;
                v->kind = KT_J_NULL;
                break;
        default:
                for (q = p; q < end && is_number_byte(*q); q++)
                        ;
                v->kind = KT_J_NUMBER;
        }
        v->p = p;
        v->len = (size_t)(q - p);
        return q;
}

void kt_walk_value(const char *text, size_t len, struct kt_wval *v)
{
        const char *end = text + len;

        read_value(skip_ws(text, end), end, v);
}

void kt_walk_document(const char *text, size_t len, struct kt_wval *v)
{
        const char *end = text + len, *p = skip_ws(text, end);

        while (end > p && kt_js_is_ws(end[-1]))
                end--;
        if (p == end || (*p != '{' && *p != '[')) {
                kt_walk_value(text, len, v);
                return;
        }
        v->kind = *p == '{' ? KT_J_OBJECT : KT_J_ARRAY;
        v->p = p;
        v->len = (size_t)(end - p);
        v->escaped = 0;
}

void kt_walk_begin(struct kt_walk *w, const struct kt_wval *v)
{
        w->end = v->p + v->len - 1; /* the closing bracket */
        w->p = v->p + 1;
}

int kt_walk_next_item(struct kt_walk *w, struct kt_wval *value)
{
        w->p = skip_ws(w->p, w->end);
        if (w->p < w->end && *w->p == ',')
                w->p = skip_ws(w->p + 1, w->end);
        if (w->p >= w->end)
                return 0;
        w->p = read_value(w->p, w->end, value);
        return 1;
}

int kt_walk_next_member(struct kt_walk *w, struct kt_wval *name,
                        struct kt_wval *value)
{
        if (kt_walk_next_item(w, name) == 0)
                return 0;
        w->p = skip_ws(w->p, w->end);
        w->p = skip_ws(w->p + 1, w->end); /* the colon */
        w->p = read_value(w->p, w->end, value);
        return 1;
}

static unsigned hex4(const char *s)
{
        unsigned v = 0;
        int i;

        for (i = 0; i < 4; i++) {
                char c = s[i];

                v = v * 16 + (unsigned)(c <= '9' ? c - '0' :
                                        (c | 0x20) - 'a' + 10);
        }
        return v;
}

static size_t put_utf8(char *out, unsigned cp)
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xc0 | cp >> 6);
                out[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xe0 | cp >> 12);
                out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | cp >> 18);
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* \uXXXX at s (after the backslash and u): a code point, pairs joined. */
static unsigned escaped_code_point(const char *s, const char *end,
                                   size_t *used)
{
        unsigned cp = hex4(s), lo;

        *used = 4;
        if (cp >= 0xd800 && cp < 0xdc00 && end - s >= 10 && s[4] == '\\' &&
            s[5] == 'u' && (lo = hex4(s + 6)) >= 0xdc00 && lo < 0xe000) {
                *used = 10;
                return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp >= 0xd800 && cp < 0xe000)
                return 0xfffd; /* a lone surrogate: not UTF-8 */
        return cp;
}

/* Memchr from escape to escape: most strings have none. */
size_t kt_json_unescape(const char *s, size_t len, char *out)
{
        const char *end = s + len, *bs;
        size_t n = 0, used;

        while ((bs = memchr(s, '\\', (size_t)(end - s))) != NULL) {
                memcpy(out + n, s, (size_t)(bs - s));
                n += (size_t)(bs - s);
                switch (bs[1]) {
                case 'b': out[n++] = '\b'; break;
                case 'f': out[n++] = '\f'; break;
                case 'n': out[n++] = '\n'; break;
                case 'r': out[n++] = '\r'; break;
                case 't': out[n++] = '\t'; break;
                case 'u':
                        n += put_utf8(out + n, escaped_code_point(
                                              bs + 2, end, &used));
                        s = bs + 2 + used;
                        continue;
                default: out[n++] = bs[1]; break; /* " \ / */
                }
                s = bs + 2;
        }
        memcpy(out + n, s, (size_t)(end - s));
        return n + (size_t)(end - s);
}

/* A number: an integer that fits 64 bits as one, else a double with its
 * text. */
static struct json_object *number_to_json(const struct kt_wval *v)
{
        char buf[64], *text = v->len < sizeof(buf) ? buf : malloc(v->len + 1);
        struct json_object *o;
        long long i;
        unsigned long long u;
        char *end;

        if (text == NULL)
                return NULL;
        memcpy(text, v->p, v->len);
        text[v->len] = '\0';
        o = NULL;
        if (strpbrk(text, ".eE") == NULL) {
                errno = 0;
                i = strtoll(text, &end, 10);
                if (errno == 0)
                        o = json_object_new_int64(i);
                else if (text[0] != '-' &&
                         (errno = 0, u = strtoull(text, &end, 10),
                          errno == 0))
                        o = json_object_new_uint64(u);
        }
        if (o == NULL)
                o = json_object_new_double_s(strtod(text, NULL), text);
        if (text != buf)
                free(text);
        return o;
}

static struct json_object *string_to_json(const struct kt_wval *v)
{
        struct json_object *o;
        char *s;
        size_t n;

        if (!v->escaped)
                return json_object_new_string_len(v->p, (int)v->len);
        if ((s = malloc(v->len + 1)) == NULL)
                return NULL;
        n = kt_json_unescape(v->p, v->len, s);
        o = json_object_new_string_len(s, (int)n);
        free(s);
        return o;
}

/* Adds each item or member of v to o; -1 when out of memory. */
static int fill_container(struct json_object *o, const struct kt_wval *v)
{
        struct kt_walk w;
        struct kt_wval name, value;
        struct json_object *item, *key;

        kt_walk_begin(&w, v);
        if (v->kind == KT_J_ARRAY) {
                while (kt_walk_next_item(&w, &value))
                        if (kt_walk_to_json(&value, &item) == -1 ||
                            json_object_array_add(o, item) != 0) {
                                json_object_put(item);
                                return -1;
                        }
                return 0;
        }
        while (kt_walk_next_member(&w, &name, &value)) {
                if ((key = string_to_json(&name)) == NULL)
                        return -1;
                /* A twin name: the last one wins, as in json-c. */
                if (kt_walk_to_json(&value, &item) == -1 ||
                    json_object_object_add(o, json_object_get_string(key),
                                           item) != 0) {
                        json_object_put(item);
                        json_object_put(key);
                        return -1;
                }
                json_object_put(key);
        }
        return 0;
}

int kt_walk_to_json(const struct kt_wval *v, struct json_object **out)
{
        struct json_object *o;

        *out = NULL;
        switch (v->kind) {
        case KT_J_NULL:
                return 0;
        case KT_J_BOOLEAN:
                o = json_object_new_boolean(*v->p == 't');
                break;
        case KT_J_NUMBER:
                o = number_to_json(v);
                break;
        case KT_J_STRING:
                o = string_to_json(v);
                break;
        default:
                o = v->kind == KT_J_ARRAY ? json_object_new_array()
                                          : json_object_new_object();
                if (o != NULL && fill_container(o, v) == -1) {
                        json_object_put(o);
                        return -1;
                }
        }
        *out = o;
        return o == NULL ? -1 : 0;
}
