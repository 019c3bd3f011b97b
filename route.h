/*
 * route.h: the templates of the topic, the key and the Kafka headers.
 *
 * Pure: no I/O, no globals.  A template is literal text with
 * placeholders: %{stream}, %{datacenter}, %{domain} and (headers only)
 * %{schema} are fixed for the run and expanded once, when the template
 * is compiled; %{field:NAME} (topic and key only) is the value of the
 * record's input field NAME, as the transform captured it during its one
 * pass over the line (kt_transform_capture()), and is expanded per
 * record by route_expand().  pmacct's Kafka plugin routes the same way
 * ("kafka_topic: $peer_src_ip").
 *
 * The field names of all templates share one list, so that each is
 * captured once: field i of the list is the transform's capture slot i.
 */
#ifndef KT_ROUTE_H
#define KT_ROUTE_H

#include <stddef.h>

#include "transform.h"

/* Kafka refuses longer topic names (and librdkafka with them). */
#define ROUTE_TOPIC_MAX 249

/* What a template is for: which placeholders it may hold. */
enum route_kind { ROUTE_TOPIC, ROUTE_KEY, ROUTE_HEADER };

/* The values fixed for the run; NULL or "": not set. */
struct route_vars {
        const char *schema, *stream, *datacenter, *domain;
        const char *format;     /* "avro" or "json", from encoding */
        const char *source;     /* avro.source, else the stream */
};

/* The field names the templates use, in capture-slot order. */
struct route_fields {
        char  **name;
        size_t  n;
};

enum route_part_type { ROUTE_TEXT, ROUTE_FIELD };

struct route_part {
        enum route_part_type type;
        char                *text;  /* ROUTE_TEXT: fixed parts expanded */
        size_t               len;
        size_t               field; /* ROUTE_FIELD: index in the fields */
};

struct route_tmpl {
        enum route_kind    kind;
        struct route_part *part;
        size_t             n;
        size_t             n_fields; /* parts that are fields */
};

/*
 * Compiles text.  Fields are appended to fields (once per name).
 * Returns 0, or -1 with a message in err naming what ("topic: unknown
 * placeholder %{x}").  A template that was not compiled (all zero), or
 * failed, may be freed.
 */
int route_compile(struct route_tmpl *t, enum route_kind kind,
                  const char *what, const char *text,
                  const struct route_vars *vars, struct route_fields *fields,
                  char *err, size_t errlen);
void route_tmpl_free(struct route_tmpl *t);
void route_fields_free(struct route_fields *f);

/*
 * The template as text, fixed parts expanded and each field written
 * %{field:NAME}: for a template without fields, its value.  malloc'd,
 * NULL when out of memory.
 */
char *route_label(const struct route_tmpl *t,
                  const struct route_fields *fields);

/*
 * Expands t for one record, whose captured values are v (one per field
 * of the list) into buf.  A string's content (unescaped), a number's
 * text, true or false; a field that is absent, null, an object or an
 * array is refused.  A topic must come out as a name Kafka takes
 * ([a-zA-Z0-9._-], 1 to ROUTE_TOPIC_MAX bytes, not "." or "..").
 * Returns the length, or -1 with a message in err ("topic field
 * peer_ip_src is absent").  buf may be grown (realloc): *cap is its size.
 */
long route_expand(const struct route_tmpl *t, const struct route_fields *f,
                  const struct kt_value *v, char **buf, size_t *cap,
                  char *err, size_t errlen);

/* Whether name (len bytes) is a topic name Kafka takes. */
int route_topic_legal(const char *name, size_t len);

#endif /* KT_ROUTE_H */
