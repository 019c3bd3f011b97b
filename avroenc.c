/*
 * avroenc.c: the encode stage for encoding = pnda-avro.  See avroenc.h.
 *
 * The schema is read twice: by json-c, to check PNDA's layout and read
 * the defaults (avro-c keeps no default), and by avro-c, which encodes.
 * Constants and defaults are set in the value once, at open: a record
 * sets only the timestamp, rawdata and the fields read from the record.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <json-c/json.h>

#include "avroenc.h"
#include "grow.h"
#include "jsonscan.h"
#include "jsonwalk.h"

const char avroenc_base_schema[] =
        "{\n"
        "  \"namespace\": \"pnda.entity\",\n"
        "  \"type\": \"record\",\n"
        "  \"name\": \"event\",\n"
        "  \"doc\": \"PNDA's envelope: the event time, its source and the "
        "data as it came\",\n"
        "  \"fields\": [\n"
        "    {\"name\": \"timestamp\", \"type\": \"long\"},\n"
        "    {\"name\": \"source\", \"type\": \"string\"},\n"
        "    {\"name\": \"rawdata\", \"type\": \"bytes\"}\n"
        "  ]\n"
        "}\n";

/* The base fields, in their places. */
enum { F_TIMESTAMP, F_SOURCE, F_RAWDATA, F_BASE };

/* An extension field's type (a union of null and it, or it alone). */
enum avro_kind { A_LONG, A_INT, A_STRING, A_BYTES, A_BOOLEAN, A_DOUBLE };

static const char *const kind_names[] = {
        [A_LONG] = "long", [A_INT] = "int", [A_STRING] = "string",
        [A_BYTES] = "bytes", [A_BOOLEAN] = "boolean", [A_DOUBLE] = "double",
};

/* Where an extension's value comes from. */
enum ext_source { EXT_DEFAULT, EXT_CONSTANT, EXT_FIELD };

struct ext {
        char           *name;
        enum avro_kind  kind;
        int             nullable;  /* a union with null */
        int             null_at;   /* null's branch (0 or 1) */
        enum ext_source from;
        int             slot;      /* EXT_FIELD: the capture slot */
        char           *field;     /* EXT_FIELD: the input field's name */
        avro_value_t    value;     /* the record's field (the union) */
};

struct avroenc {
        char               *text;      /* the schema given to avro-c */
        avro_schema_t       schema;
        avro_value_iface_t *iface;
        avro_value_t        rec;
        avro_value_t        base[F_BASE];
        avro_writer_t       writer;
        struct ext         *ext;
        size_t              n_ext;
        enum avro_rawdata   rawdata;
        long long           registry_id;
        unsigned char      *buf;       /* the datum, framing first */
        size_t              cap;
        char               *scratch;   /* an unescaped string */
        size_t              scratch_cap;
};

/* ---------------------------------------------------------------- schema */

static int kind_of(const char *s, enum avro_kind *k)
{
        size_t i;

        for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
                if (strcmp(s, kind_names[i]) == 0) {
                        *k = (enum avro_kind)i;
                        return 0;
                }
        }
        return -1;
}

/* A type's name, or NULL: a named type given as an object is refused. */
static const char *type_name(json_object *t)
{
        return json_object_is_type(t, json_type_string) ?
               json_object_get_string(t) : NULL;
}

/* An extension's type: T, or [null, T] / [T, null]. */
static int ext_type(struct ext *x, json_object *t, char *err, size_t errlen)
{
        const char *a, *b;

        x->nullable = 0;
        if (json_object_is_type(t, json_type_array) &&
            json_object_array_length(t) == 2) {
                a = type_name(json_object_array_get_idx(t, 0));
                b = type_name(json_object_array_get_idx(t, 1));
                if (a != NULL && b != NULL && strcmp(a, "null") == 0 &&
                    kind_of(b, &x->kind) == 0) {
                        x->nullable = 1;
                        x->null_at = 0;
                        return 0;
                }
                if (a != NULL && b != NULL && strcmp(b, "null") == 0 &&
                    kind_of(a, &x->kind) == 0) {
                        x->nullable = 1;
                        x->null_at = 1;
                        return 0;
                }
        } else if (type_name(t) != NULL &&
                   kind_of(type_name(t), &x->kind) == 0) {
                return 0;
        }
        snprintf(err, errlen, "field %s: type %s: an extension field is "
                 "long, int, string, bytes, boolean, double, or a union of "
                 "null and one of them", x->name,
                 json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN));
        return -1;
}

/* The record's first three fields must be PNDA's, in PNDA's order. */
static int check_base(json_object *fields, char *err, size_t errlen)
{
        static const char *const want[F_BASE][2] = {
                { "timestamp", "long" }, { "source", "string" },
                { "rawdata", "bytes" },
        };
        json_object *f, *name, *type;
        size_t i;

        for (i = 0; i < F_BASE; i++) {
                f = json_object_array_get_idx(fields, i);
                if (f == NULL || !json_object_object_get_ex(f, "name", &name) ||
                    !json_object_object_get_ex(f, "type", &type) ||
                    strcmp(json_object_get_string(name), want[i][0]) != 0 ||
                    type_name(type) == NULL ||
                    strcmp(type_name(type), want[i][1]) != 0) {
                        snprintf(err, errlen, "field %zu must be {\"name\": "
                                 "\"%s\", \"type\": \"%s\"} (PNDA's base "
                                 "fields come first: timestamp, source, "
                                 "rawdata)", i + 1, want[i][0], want[i][1]);
                        return -1;
                }
        }
        return 0;
}

/* The record's fields array, or NULL (said). */
static json_object *record_fields(json_object *s, char *err, size_t errlen)
{
        json_object *type, *fields;

        if (!json_object_is_type(s, json_type_object) ||
            !json_object_object_get_ex(s, "type", &type) ||
            type_name(type) == NULL ||
            strcmp(type_name(type), "record") != 0) {
                snprintf(err, errlen, "not an Avro record schema");
                return NULL;
        }
        if (!json_object_object_get_ex(s, "fields", &fields) ||
            !json_object_is_type(fields, json_type_array)) {
                snprintf(err, errlen, "the record has no fields array");
                return NULL;
        }
        return check_base(fields, err, errlen) == 0 ? fields : NULL;
}

/* The schema as json-c reads it: from the file, or the built-in text. */
static json_object *schema_json(const char *path, char *err, size_t errlen)
{
        json_object *s;

        if (path == NULL)
                s = json_tokener_parse(avroenc_base_schema);
        else
                s = json_object_from_file(path);
        if (s == NULL)
                snprintf(err, errlen, "%s", path != NULL ?
                         json_util_get_last_err() : "no base schema");
        return s;
}

/* ---------------------------------------------------------------- values */

/* The field's value to set: the union's branch, or the field itself. */
static int target(struct ext *x, int null, avro_value_t *v)
{
        if (!x->nullable) {
                *v = x->value;
                return null ? -1 : 0;
        }
        return avro_value_set_branch(&x->value,
                                     null ? x->null_at : 1 - x->null_at, v);
}

/* A string of len bytes (s[len] readable: avro-c copies it too). */
static int set_text(struct ext *x, avro_value_t *v, const char *s,
                    size_t len)
{
        if (x->kind == A_BYTES)
                return avro_value_set_bytes(v, (void *)s, len);
        return avro_value_set_string_len(v, s, len + 1);
}

/* A constant or a default, type-checked: 0, or -1 when it does not fit. */
static int set_json(struct ext *x, json_object *j)
{
        json_type t = json_object_get_type(j);
        avro_value_t v;
        int64_t n;

        if (target(x, t == json_type_null, &v) != 0)
                return -1;
        switch (t) {
        case json_type_null:
                return avro_value_set_null(&v);
        case json_type_int:
                n = json_object_get_int64(j);
                if (x->kind == A_LONG)
                        return avro_value_set_long(&v, n);
                if (x->kind == A_INT && n >= INT32_MIN && n <= INT32_MAX)
                        return avro_value_set_int(&v, (int32_t)n);
                if (x->kind == A_DOUBLE)
                        return avro_value_set_double(&v, (double)n);
                return -1;
        case json_type_double:
                return x->kind == A_DOUBLE ?
                       avro_value_set_double(&v, json_object_get_double(j)) :
                       -1;
        case json_type_boolean:
                return x->kind == A_BOOLEAN ?
                       avro_value_set_boolean(&v, json_object_get_boolean(j)) :
                       -1;
        case json_type_string:
                if (x->kind != A_STRING && x->kind != A_BYTES)
                        return -1;
                return set_text(x, &v, json_object_get_string(j),
                                (size_t)json_object_get_string_len(j));
        default:
                return -1;
        }
}

/*
 * A number's text as an integer of [lo, hi]: 0, or -1 (a fraction, an
 * exponent, a sign but '-', a leading zero, out of range).  By hand, not
 * strtoll(): the text is not NUL-terminated, and the copy and the
 * locale-aware parse cost 800 instructions a field (callgrind, 50,000
 * bench-gen records).
 */
static int text_integer(const char *p, size_t len, long long lo,
                        long long hi, int64_t *out)
{
        uint64_t n = 0, max;
        int neg = len > 0 && p[0] == '-';
        size_t i = (size_t)neg;

        /* no leading zero, as JSON and field.integer have it */
        if (i == len || len - i > 19 || (p[i] == '0' && len - i > 1))
                return -1;
        max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -1;
                n = n * 10 + (uint64_t)(p[i] - '0'); /* 19 digits fit */
        }
        if (n > max)
                return -1;
        *out = neg ? (n == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
                      -(int64_t)n) : (int64_t)n;
        return *out < lo || *out > hi ? -1 : 0;
}

/*
 * A number's text as a double, copied NUL-terminated into the scratch
 * buffer (a JSON number has no bound on its length): 0, -1 when it is
 * out of a double's range (an underflow, rounded to a subnormal or 0, is
 * taken: it is the nearest double), -2 out of memory.
 */
static int text_double(struct avroenc *e, const char *p, size_t len,
                       double *out)
{
        char *end;

        if (len == 0)
                return -1;
        if (kt_grow(&e->scratch, &e->scratch_cap, len + 1, 1) == -1)
                return -2;
        memcpy(e->scratch, p, len);
        e->scratch[len] = '\0';
        errno = 0;
        *out = strtod(e->scratch, &end);
        if (*end != '\0' || (errno == ERANGE && isinf(*out)))
                return -1;
        return 0;
}

/* A captured number into a long, int or double field: 0, -1 when it
 * does not fit, -2 out of memory. */
static int set_number(struct avroenc *e, struct ext *x, avro_value_t *v,
                      const struct kt_value *c)
{
        int64_t n;
        double d;
        int rc;

        switch (x->kind) {
        case A_LONG:
                return text_integer(c->p, c->len, INT64_MIN, INT64_MAX,
                                    &n) == 0 ?
                       avro_value_set_long(v, n) : -1;
        case A_INT:
                return text_integer(c->p, c->len, INT32_MIN, INT32_MAX,
                                    &n) == 0 ?
                       avro_value_set_int(v, (int32_t)n) : -1;
        case A_DOUBLE:
                if ((rc = text_double(e, c->p, c->len, &d)) != 0)
                        return rc;
                return avro_value_set_double(v, d) == 0 ? 0 : -2;
        default:
                return -1;
        }
}

/*
 * A captured value into its field: 0, -1 when it does not fit, -2 out of
 * memory.  A string is unescaped into the scratch buffer.
 */
static int set_captured(struct avroenc *e, struct ext *x,
                        const struct kt_value *c)
{
        int null = c->type == KT_VALUE_ABSENT || c->type == KT_VALUE_NULL;
        avro_value_t v;
        size_t n;

        if (target(x, null, &v) != 0)
                return -1;
        switch (c->type) {
        case KT_VALUE_ABSENT:
        case KT_VALUE_NULL:
                return avro_value_set_null(&v);
        case KT_VALUE_NUMBER:
                return set_number(e, x, &v, c);
        case KT_VALUE_TRUE:
        case KT_VALUE_FALSE:
                return x->kind == A_BOOLEAN ?
                       avro_value_set_boolean(&v, c->type == KT_VALUE_TRUE) :
                       -1;
        case KT_VALUE_STRING:
                /* pmacct writes some counters as strings (tcp_flags) */
                if (x->kind == A_LONG || x->kind == A_INT)
                        return set_number(e, x, &v, c);
                if (x->kind != A_STRING && x->kind != A_BYTES)
                        return -1;
                if (kt_grow(&e->scratch, &e->scratch_cap, c->len + 1, 1) ==
                    -1)
                        return -2;
                n = kt_json_unescape(c->p, c->len, e->scratch);
                e->scratch[n] = '\0';
                return set_text(x, &v, e->scratch, n) == 0 ? 0 : -2;
        default:
                return -1;
        }
}

/* ---------------------------------------------------------------- open */

/* "%{field:NAME}" alone: NAME's length, with *name at it; else 0. */
static size_t field_ref(const char *v, const char **name)
{
        size_t len = strlen(v);

        if (len < 10 || strncmp(v, "%{field:", 8) != 0 || v[len - 1] != '}' ||
            memchr(v + 8, '}', len - 9) != NULL)
                return 0;
        *name = v + 8;
        return len - 9;
}

/* avro.field.NAME = VALUE for x: a record field, or a constant. */
static int ext_fill(struct ext *x, const char *value,
                    const struct avroenc_capture *cap, char *err,
                    size_t errlen)
{
        const char *name;
        size_t n = field_ref(value, &name);
        enum json_tokener_error jerr;
        json_object *j;
        int rc, parsed;

        if (n > 0) {
                if ((x->field = strndup(name, n)) == NULL ||
                    (x->slot = cap->capture(cap->arg, x->field)) < 0) {
                        snprintf(err, errlen, "avro.field.%s: cannot read "
                                 "field %s", x->name, x->field);
                        return -1;
                }
                x->from = EXT_FIELD;
                return 0;
        }
        /* as field.const: JSON, else a bare word is a string */
        if (kt_json_check(value, strlen(value), NULL, 0) == 0) {
                j = json_tokener_parse_verbose(value, &jerr); /* null: NULL */
                parsed = jerr == json_tokener_success;
        } else {
                j = json_object_new_string(value);
                parsed = j != NULL;
        }
        rc = parsed ? set_json(x, j) : -1;
        json_object_put(j);
        if (rc != 0) {
                snprintf(err, errlen, "avro.field.%s: %s does not fit "
                         "type %s%s", x->name, value,
                         x->nullable ? "null or " : "", kind_names[x->kind]);
                return -1;
        }
        x->from = EXT_CONSTANT;
        return 0;
}

/* The field's default (the first branch's type, as Avro says), if any. */
static int ext_default(struct ext *x, json_object *f, char *err,
                       size_t errlen)
{
        json_object *d;

        if (!json_object_object_get_ex(f, "default", &d)) {
                snprintf(err, errlen, "field %s has no default: set "
                         "avro.field.%s", x->name, x->name);
                return -1;
        }
        if ((x->nullable && (x->null_at == 0) !=
             json_object_is_type(d, json_type_null)) || set_json(x, d) != 0) {
                snprintf(err, errlen, "field %s: its default %s does not "
                         "fit type %s (a union's default is of its first "
                         "branch)",
                         x->name, json_object_to_json_string_ext(d,
                                 JSON_C_TO_STRING_PLAIN),
                         x->nullable && x->null_at == 0 ? "null" :
                         kind_names[x->kind]);
                return -1;
        }
        x->from = EXT_DEFAULT;
        return 0;
}

static const char *conf_value(const struct kvlist *l, const char *name)
{
        size_t i;

        for (i = 0; l != NULL && i < l->n; i++)
                if (strcmp(l->v[i].key, name) == 0)
                        return l->v[i].value;
        return NULL;
}

/* Each extension field: its type, then what fills it. */
static int exts_build(struct avroenc *e, json_object *fields,
                      const struct avroenc_conf *c, char *err, size_t errlen)
{
        size_t i, n = json_object_array_length(fields) - F_BASE;
        json_object *f, *name, *type;
        const char *value;

        if (n > 0 && (e->ext = calloc(n, sizeof(*e->ext))) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        for (i = 0; i < n; i++) {
                struct ext *x = &e->ext[i];

                f = json_object_array_get_idx(fields, i + F_BASE);
                if (!json_object_object_get_ex(f, "name", &name) ||
                    !json_object_object_get_ex(f, "type", &type)) {
                        snprintf(err, errlen, "field %zu has no name or "
                                 "type", i + F_BASE + 1);
                        return -1;
                }
                e->n_ext++;
                if ((x->name = strdup(json_object_get_string(name))) == NULL) {
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                if (ext_type(x, type, err, errlen) == -1 ||
                    avro_value_get_by_index(&e->rec, i + F_BASE, &x->value,
                                            NULL) != 0)
                        return -1;
                value = conf_value(c->fields, x->name);
                if ((value != NULL ? ext_fill(x, value, &c->cap, err, errlen) :
                     ext_default(x, f, err, errlen)) == -1)
                        return -1;
        }
        return 0;
}

/* Every avro.field.NAME must name an extension field. */
static int fields_known(const struct avroenc *e, const struct kvlist *l,
                        char *err, size_t errlen)
{
        size_t i, j;

        for (i = 0; l != NULL && i < l->n; i++) {
                for (j = 0; j < e->n_ext; j++)
                        if (strcmp(e->ext[j].name, l->v[i].key) == 0)
                                break;
                if (j == e->n_ext) {
                        snprintf(err, errlen, "avro.field.%s: the schema has "
                                 "no extension field %s (after rawdata)",
                                 l->v[i].key, l->v[i].key);
                        return -1;
                }
        }
        return 0;
}

/* avro-c's schema, class and value, from the text json-c checked. */
static int avro_build(struct avroenc *e, json_object *s, char *err,
                      size_t errlen)
{
        const char *t = json_object_to_json_string_ext(s,
                                                       JSON_C_TO_STRING_PLAIN);
        size_t i;

        if ((e->text = strdup(t)) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        if (avro_schema_from_json_length(e->text, strlen(e->text),
                                         &e->schema) != 0) {
                snprintf(err, errlen, "%s", avro_strerror());
                return -1;
        }
        if ((e->iface = avro_generic_class_from_schema(e->schema)) == NULL ||
            avro_generic_value_new(e->iface, &e->rec) != 0) {
                snprintf(err, errlen, "%s", avro_strerror());
                return -1;
        }
        for (i = 0; i < F_BASE; i++)
                if (avro_value_get_by_index(&e->rec, i, &e->base[i],
                                            NULL) != 0) {
                        snprintf(err, errlen, "%s", avro_strerror());
                        return -1;
                }
        return 0;
}

static int open_schema(struct avroenc *e, const struct avroenc_conf *c,
                       char *err, size_t errlen)
{
        json_object *s, *fields;
        int rc = -1;

        if ((s = schema_json(c->schema_path, err, errlen)) == NULL)
                return -1;
        if ((fields = record_fields(s, err, errlen)) != NULL &&
            avro_build(e, s, err, errlen) == 0 &&
            exts_build(e, fields, c, err, errlen) == 0 &&
            fields_known(e, c->fields, err, errlen) == 0)
                rc = 0;
        json_object_put(s);
        return rc;
}

struct avroenc *avroenc_open(const struct avroenc_conf *c, char *err,
                             size_t errlen)
{
        struct avroenc *e = calloc(1, sizeof(*e));
        char why[512];

        if (e == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        e->rawdata = c->rawdata;
        e->registry_id = c->registry_id;
        if (open_schema(e, c, why, sizeof(why)) == -1) {
                snprintf(err, errlen, "avro.schema %s: %s",
                         c->schema_path != NULL ? c->schema_path :
                         "(built in)", why);
                avroenc_close(e);
                return NULL;
        }
        if (avro_value_set_string_len(&e->base[F_SOURCE], c->source,
                                      strlen(c->source) + 1) != 0 ||
            (e->writer = avro_writer_memory(NULL, 0)) == NULL) {
                snprintf(err, errlen, "avro: %s", avro_strerror());
                avroenc_close(e);
                return NULL;
        }
        return e;
}

const char *avroenc_schema_text(const struct avroenc *e)
{
        return e->text;
}

void avroenc_close(struct avroenc *e)
{
        size_t i;

        if (e == NULL)
                return;
        for (i = 0; i < e->n_ext; i++) {
                free(e->ext[i].name);
                free(e->ext[i].field);
        }
        free(e->ext);
        if (e->writer != NULL)
                avro_writer_free(e->writer);
        if (e->rec.iface != NULL)
                avro_value_decref(&e->rec);
        if (e->iface != NULL)
                avro_value_iface_decref(e->iface);
        if (e->schema != NULL)
                avro_schema_decref(e->schema);
        free(e->text);
        free(e->buf);
        free(e->scratch);
        free(e);
}

/* ---------------------------------------------------------------- encode */

/* Confluent's framing: magic byte 0, the schema id big-endian. */
#define FRAME_LEN 5

/* The record's values: the timestamp, rawdata, the fields read. */
static int fill(struct avroenc *e, const struct avroenc_record *r,
                int *nomem, char *err, size_t errlen)
{
        const char *raw = e->rawdata == AVRO_RAWDATA_RAW ? r->raw : r->event;
        size_t i, n = e->rawdata == AVRO_RAWDATA_RAW ? r->raw_len :
                      r->event_len;
        static const struct kt_value absent = { KT_VALUE_ABSENT, NULL, 0 };
        int rc;

        avro_wrapped_buffer_t wb;

        /* rawdata is lent, not copied: it is written before the call ends */
        if (avro_value_set_long(&e->base[F_TIMESTAMP], r->timestamp_ms) != 0 ||
            avro_wrapped_buffer_new(&wb, raw, n) != 0 ||
            avro_value_give_bytes(&e->base[F_RAWDATA], &wb) != 0)
                goto nomem;
        for (i = 0; i < e->n_ext; i++) {
                struct ext *x = &e->ext[i];
                const struct kt_value *c;

                if (x->from != EXT_FIELD)
                        continue;
                c = (size_t)x->slot < r->n_fields ? &r->fields[x->slot] :
                    &absent;
                if ((rc = set_captured(e, x, c)) == -2)
                        goto nomem;
                if (rc != 0) {
                        snprintf(err, errlen, c->type == KT_VALUE_ABSENT ?
                                 "avro.field.%s: field %s is absent and type "
                                 "%s%s is not nullable" :
                                 "avro.field.%s: field %s does not fit type "
                                 "%s%s", x->name, x->field,
                                 x->nullable ? "null or " : "",
                                 kind_names[x->kind]);
                        return -1;
                }
        }
        return 0;
nomem:
        *nomem = 1;
        snprintf(err, errlen, "avro: out of memory");
        return -1;
}

/* The datum written after the framing; the buffer grows as needed. */
static int write_datum(struct avroenc *e, size_t at, size_t *len)
{
        int rc;

        for (;;) {
                if (e->cap > at) {
                        avro_writer_memory_set_dest(e->writer,
                                (const char *)e->buf + at,
                                (int64_t)(e->cap - at));
                        rc = avro_value_write(e->writer, &e->rec);
                        if (rc == 0) {
                                *len = at + (size_t)avro_writer_tell(e->writer);
                                return 0;
                        }
                        if (rc != ENOSPC)
                                return -1;
                }
                if (kt_grow(&e->buf, &e->cap, e->cap != 0 ? e->cap * 2 : 4096,
                            1) == -1)
                        return -1;
        }
}

int avroenc_encode(struct avroenc *e, const struct avroenc_record *r,
                   const unsigned char **out, size_t *len, int *nomem,
                   char *err, size_t errlen)
{
        size_t at = e->registry_id >= 0 ? FRAME_LEN : 0;
        uint32_t id = (uint32_t)e->registry_id;

        *nomem = 0;
        if (fill(e, r, nomem, err, errlen) == -1)
                return -1;
        if (write_datum(e, at, len) == -1) {
                *nomem = 1;
                snprintf(err, errlen, "avro: %s", avro_strerror());
                return -1;
        }
        if (at > 0) {
                e->buf[0] = 0;
                e->buf[1] = (unsigned char)(id >> 24);
                e->buf[2] = (unsigned char)(id >> 16);
                e->buf[3] = (unsigned char)(id >> 8);
                e->buf[4] = (unsigned char)id;
        }
        *out = e->buf;
        return 0;
}

/* ---------------------------------------------------------------- read */

struct avroread {
        avro_schema_t       schema;
        avro_value_iface_t *iface;
        avro_value_t        rec, raw;
        avro_reader_t       reader;
};

struct avroread *avroread_open(void)
{
        struct avroread *r = calloc(1, sizeof(*r));

        if (r == NULL)
                return NULL;
        if (avro_schema_from_json_length(avroenc_base_schema,
                                         strlen(avroenc_base_schema),
                                         &r->schema) != 0 ||
            (r->iface = avro_generic_class_from_schema(r->schema)) == NULL ||
            avro_generic_value_new(r->iface, &r->rec) != 0 ||
            avro_value_get_by_index(&r->rec, F_RAWDATA, &r->raw, NULL) != 0 ||
            (r->reader = avro_reader_memory(NULL, 0)) == NULL) {
                avroread_close(r);
                return NULL;
        }
        return r;
}

int avroread_rawdata(struct avroread *r, const void *msg, size_t msglen,
                     const char **raw, size_t *len)
{
        const char *p = msg;
        const void *b;

        if (msglen >= FRAME_LEN && p[0] == 0) {
                p += FRAME_LEN;
                msglen -= FRAME_LEN;
        }
        avro_reader_memory_set_source(r->reader, p, (int64_t)msglen);
        if (avro_value_read(r->reader, &r->rec) != 0 ||
            avro_value_get_bytes(&r->raw, &b, len) != 0)
                return -1;
        *raw = b;
        return 0;
}

void avroread_close(struct avroread *r)
{
        if (r == NULL)
                return;
        if (r->reader != NULL)
                avro_reader_free(r->reader);
        if (r->rec.iface != NULL)
                avro_value_decref(&r->rec);
        if (r->iface != NULL)
                avro_value_iface_decref(r->iface);
        if (r->schema != NULL)
                avro_schema_decref(r->schema);
        free(r);
}
