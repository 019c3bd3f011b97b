/*
 * route.c: topic, key and header templates.  See route.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonwalk.h"
#include "route.h"

static const char *const kind_names[] = {
        [ROUTE_TOPIC] = "topic", [ROUTE_KEY] = "key",
        [ROUTE_HEADER] = "header",
};

void route_tmpl_free(struct route_tmpl *t)
{
        size_t i;

        for (i = 0; i < t->n; i++)
                free(t->part[i].text);
        free(t->part);
        memset(t, 0, sizeof(*t));
}

void route_fields_free(struct route_fields *f)
{
        size_t i;

        for (i = 0; i < f->n; i++)
                free(f->name[i]);
        free(f->name);
        memset(f, 0, sizeof(*f));
}

/* The index of name in the list, added if new; -1: out of memory. */
static long field_index(struct route_fields *f, const char *name, size_t len)
{
        char **v, *dup;
        size_t i;

        for (i = 0; i < f->n; i++)
                if (strlen(f->name[i]) == len &&
                    memcmp(f->name[i], name, len) == 0)
                        return (long)i;
        if ((dup = strndup(name, len)) == NULL)
                return -1;
        if ((v = realloc(f->name, (f->n + 1) * sizeof(*v))) == NULL) {
                free(dup);
                return -1;
        }
        f->name = v;
        f->name[f->n] = dup;
        return (long)f->n++;
}

static struct route_part *new_part(struct route_tmpl *t)
{
        struct route_part *p = realloc(t->part, (t->n + 1) * sizeof(*p));

        if (p == NULL)
                return NULL;
        t->part = p;
        p = &t->part[t->n++];
        memset(p, 0, sizeof(*p));
        return p;
}

/* Appends text to the last part if it is text, else to a new one. */
static int add_text(struct route_tmpl *t, const char *s, size_t len)
{
        struct route_part *p = t->n > 0 ? &t->part[t->n - 1] : NULL;
        char *text;

        if (len == 0)
                return 0;
        if (p == NULL || p->type != ROUTE_TEXT)
                if ((p = new_part(t)) == NULL)
                        return -1;
        if ((text = realloc(p->text, p->len + len + 1)) == NULL)
                return -1;
        memcpy(text + p->len, s, len);
        p->len += len;
        text[p->len] = '\0';
        p->text = text;
        return 0;
}

static int add_field(struct route_tmpl *t, struct route_fields *f,
                     const char *name, size_t len)
{
        struct route_part *p;
        long i = field_index(f, name, len);

        if (i < 0 || (p = new_part(t)) == NULL)
                return -1;
        p->type = ROUTE_FIELD;
        p->field = (size_t)i;
        t->n_fields++;
        return 0;
}

static int is_set(const char *s)
{
        return s != NULL && *s != '\0';
}

/* The run's value of a fixed placeholder; *known 0 when it is none. */
static const char *fixed_value(enum route_kind kind, const char *name,
                               size_t len, const struct route_vars *v,
                               int *known)
{
        static const struct {
                const char *name;
                size_t      offset;
                int         header_only;
        } vars[] = {
                { "stream", offsetof(struct route_vars, stream), 0 },
                { "datacenter", offsetof(struct route_vars, datacenter), 0 },
                { "domain", offsetof(struct route_vars, domain), 0 },
                { "format", offsetof(struct route_vars, format), 0 },
                { "source", offsetof(struct route_vars, source), 0 },
                { "schema", offsetof(struct route_vars, schema), 1 },
        };
        size_t i;

        *known = 0;
        for (i = 0; i < sizeof(vars) / sizeof(*vars); i++) {
                if (strlen(vars[i].name) != len ||
                    memcmp(vars[i].name, name, len) != 0 ||
                    (vars[i].header_only && kind != ROUTE_HEADER))
                        continue;
                *known = 1;
                return *(const char *const *)((const char *)v +
                                              vars[i].offset);
        }
        return NULL;
}

/* One placeholder, name[len] what is between "%{" and "}". */
static int placeholder(struct route_tmpl *t, const char *what,
                       const char *name, size_t len,
                       const struct route_vars *vars,
                       struct route_fields *fields, char *err, size_t errlen)
{
        static const char field[] = "field:";
        const size_t flen = sizeof(field) - 1;
        const char *value;
        int known;

        if (len > flen && memcmp(name, field, flen) == 0) {
                if (t->kind == ROUTE_HEADER) {
                        snprintf(err, errlen, "%s: %%{field:...} in a "
                                 "header: its value is fixed for the run",
                                 what);
                        return -1;
                }
                if (add_field(t, fields, name + flen, len - flen) == -1) {
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                return 0;
        }
        value = fixed_value(t->kind, name, len, vars, &known);
        if (!known) {
                snprintf(err, errlen, "%s: unknown placeholder %%{%.*s}",
                         what, (int)(len > 64 ? 64 : len), name);
                return -1;
        }
        if (!is_set(value) && memcmp(name, "datacenter", len) == 0) {
                snprintf(err, errlen, "%s: %%{datacenter} without a "
                         "datacenter setting", what);
                return -1;
        }
        if (value != NULL && add_text(t, value, strlen(value)) == -1) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

int route_compile(struct route_tmpl *t, enum route_kind kind,
                  const char *what, const char *text,
                  const struct route_vars *vars, struct route_fields *fields,
                  char *err, size_t errlen)
{
        const char *p = text, *open, *close;

        memset(t, 0, sizeof(*t));
        t->kind = kind;
        while ((open = strstr(p, "%{")) != NULL) {
                if (add_text(t, p, (size_t)(open - p)) == -1) {
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                if ((close = strchr(open + 2, '}')) == NULL) {
                        snprintf(err, errlen, "%s: unterminated placeholder "
                                 "%.32s", what, open);
                        return -1;
                }
                if (placeholder(t, what, open + 2, (size_t)(close - open - 2),
                                vars, fields, err, errlen) == -1)
                        return -1;
                p = close + 1;
        }
        if (add_text(t, p, strlen(p)) == -1) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

char *route_label(const struct route_tmpl *t,
                  const struct route_fields *fields)
{
        size_t i, len = 0;
        char *s, *p;

        for (i = 0; i < t->n; i++)
                len += t->part[i].type == ROUTE_TEXT ? t->part[i].len :
                       strlen(fields->name[t->part[i].field]) + 9;
        if ((s = p = malloc(len + 1)) == NULL)
                return NULL;
        for (i = 0; i < t->n; i++) {
                if (t->part[i].type == ROUTE_TEXT) {
                        memcpy(p, t->part[i].text, t->part[i].len);
                        p += t->part[i].len;
                } else {
                        p += sprintf(p, "%%{field:%s}",
                                     fields->name[t->part[i].field]);
                }
        }
        *p = '\0';
        return s;
}

int route_topic_legal(const char *name, size_t len)
{
        size_t i;
        char c;

        if (len == 0 || len > ROUTE_TOPIC_MAX ||
            (len == 1 && name[0] == '.') ||
            (len == 2 && name[0] == '.' && name[1] == '.'))
                return 0;
        for (i = 0; i < len; i++) {
                c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-'))
                        return 0;
        }
        return 1;
}

/* --- expansion ---------------------------------------------------------- */

/* Room for n more bytes after len. */
static int grow(char **buf, size_t *cap, size_t len, size_t n)
{
        size_t want;
        char *p;

        if (*buf != NULL && *cap - len >= n)
                return 0;
        want = (len + n) * 2 + 64;
        if ((p = realloc(*buf, want)) == NULL)
                return -1;
        *buf = p;
        *cap = want;
        return 0;
}

static const char *unusable(enum kt_value_type type)
{
        switch (type) {
        case KT_VALUE_ABSENT: return "is absent";
        case KT_VALUE_NULL: return "is null";
        case KT_VALUE_OBJECT: return "is an object";
        case KT_VALUE_ARRAY: return "is an array";
        default: return NULL;
        }
}

/* Appends field i's value at *len. */
static int put_value(const struct route_tmpl *t, const struct route_fields *f,
                     size_t i, const struct kt_value *v, char **buf,
                     size_t *cap, size_t *len, char *err, size_t errlen)
{
        const char *why = unusable(v->type);

        if (why != NULL) {
                snprintf(err, errlen, "%s field %s %s", kind_names[t->kind],
                         f->name[i], why);
                return -1;
        }
        if (grow(buf, cap, *len, v->len) == -1) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        if (v->type == KT_VALUE_STRING &&
            memchr(v->p, '\\', v->len) != NULL) {
                *len += kt_json_unescape(v->p, v->len, *buf + *len);
                return 0;
        }
        memcpy(*buf + *len, v->p, v->len);
        *len += v->len;
        return 0;
}

/* Printable, and cut: a name from a record goes into a message. */
static void illegal_topic(const char *name, size_t len, char *err,
                          size_t errlen)
{
        char shown[65];
        size_t i, n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;

        for (i = 0; i < n; i++)
                shown[i] = name[i] >= 0x20 && name[i] < 0x7f &&
                           name[i] != '"' ? name[i] : '?';
        shown[n] = '\0';
        if (len > ROUTE_TOPIC_MAX)
                snprintf(err, errlen, "topic \"%s...\": longer than %d "
                         "bytes, Kafka's limit", shown, ROUTE_TOPIC_MAX);
        else
                snprintf(err, errlen, "topic \"%s%s\": not a Kafka topic "
                         "name ([a-zA-Z0-9._-], not . or ..)", shown,
                         len > n ? "..." : "");
}

long route_expand(const struct route_tmpl *t, const struct route_fields *f,
                  const struct kt_value *v, char **buf, size_t *cap,
                  char *err, size_t errlen)
{
        const struct route_part *p;
        size_t i, len = 0;

        for (i = 0; i < t->n; i++) {
                p = &t->part[i];
                if (p->type == ROUTE_FIELD) {
                        if (put_value(t, f, p->field, &v[p->field], buf, cap,
                                      &len, err, errlen) == -1)
                                return -1;
                        continue;
                }
                if (grow(buf, cap, len, p->len) == -1) {
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                memcpy(*buf + len, p->text, p->len);
                len += p->len;
        }
        if (t->kind == ROUTE_TOPIC && !route_topic_legal(*buf, len)) {
                illegal_topic(*buf, len, err, errlen);
                return -1;
        }
        return (long)len;
}
