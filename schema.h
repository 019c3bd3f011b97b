/*
 * schema.h: JSON Schema draft-07, compiled once at start, checked per
 * event.
 *
 * A schema set holds every schema loaded from one directory (schema.dir)
 * with what their $refs reach, compiled into nodes.  Loading is where
 * every mistake is caught: a missing file, bad JSON, a keyword or a
 * format this validator does not implement, a $ref that leads nowhere;
 * checking never fails for a reason of the schema's.  Annotations
 * (title, description, examples, default, $comment, readOnly, writeOnly,
 * contentMediaType, contentEncoding) are accepted and have no effect.
 *
 * Two ways in: kt_schema_validate() checks a json-c document (the
 * general path: the conformance suite, nested values), and
 * kt_schema_validate_scalar() checks one scalar as it appears in JSON
 * text, without a DOM (the per-member path of validate.c).  Both share
 * the keyword code, so they agree by construction on scalars.
 *
 * Pure: no I/O but reading the schema files at load time, no globals.
 */
#ifndef KT_SCHEMA_H
#define KT_SCHEMA_H

#include <stddef.h>

struct json_object;

struct kt_schema_set;
struct kt_schema;        /* one compiled (sub)schema */

/*
 * dir: where "/a/b/1.0.0" resolves, to dir/a/b/1.0.0.json (the layout of
 * Wikimedia's schema repositories); NULL for none.  NULL when out of
 * memory.
 */
struct kt_schema_set *kt_schema_set_new(const char *dir);
void kt_schema_set_free(struct kt_schema_set *set);

/*
 * Documents whose URI begins with prefix are read from dir (the suite's
 * remotes as http://localhost:1234/).  0, or -1 when out of memory.
 */
int kt_schema_set_map(struct kt_schema_set *set, const char *prefix,
                      const char *dir);

/*
 * The schema at uri ("/netflow/flow/1.0.0"), loaded and compiled on first
 * use with every schema its $refs reach.  NULL with a message in err
 * naming the file and, for a schema error, the JSON pointer of the
 * keyword at fault.
 */
const struct kt_schema *kt_schema_load(struct kt_schema_set *set,
                                       const char *uri, char *err,
                                       size_t errlen);

/* The same for a document in hand, with base as its URI. */
const struct kt_schema *kt_schema_compile(struct kt_schema_set *set,
                                          struct json_object *doc,
                                          const char *base, char *err,
                                          size_t errlen);

/* Why an instance is not valid: the first failure found. */
struct kt_schema_error {
        char keyword[32];  /* the failing keyword: "maximum", "required" */
        char pointer[256]; /* the failing value, RFC 6901; "" the root */
        char message[512]; /* one line, naming both */
};

/* 0 when instance is valid; 1 with e filled when it is not. */
int kt_schema_validate(const struct kt_schema *s,
                       struct json_object *instance,
                       struct kt_schema_error *e);

enum kt_jkind {
        KT_J_NULL, KT_J_BOOLEAN, KT_J_NUMBER, KT_J_STRING,
        KT_J_ARRAY, KT_J_OBJECT
};

/* A scalar as it appears in JSON text. */
struct kt_scalar {
        enum kt_jkind kind;   /* KT_J_NULL .. KT_J_STRING */
        int           boolean;
        const char   *text;   /* a number: as written (RFC 8259 grammar); */
        size_t        len;    /* a string: its content, unescaped */
};

/*
 * kt_schema_validate() for a scalar: 0 valid, 1 with e filled (pointer:
 * the JSON pointer of the value, copied into e->pointer).
 */
int kt_schema_validate_scalar(const struct kt_schema *s,
                              const struct kt_scalar *v, const char *pointer,
                              struct kt_schema_error *e);

/*
 * What the per-member path of validate.c asks of an object schema.
 */

/* A member's name, unescaped. */
struct kt_name {
        const char *p;
        size_t      len;
};

/*
 * 1 when the names of an object and the checks of its members' values
 * against kt_schema_member()'s subschemas decide s for it: s (its $ref
 * followed) is a boolean schema, or uses no keyword that looks at the
 * object whole (enum, const, allOf, anyOf, oneOf, not, if, a dependency
 * given as a schema) .  Keywords of other types do not matter.
 */
int kt_schema_flat_object(const struct kt_schema *s);

/*
 * The keywords of s that look only at an object's names: type (does it
 * allow an object), required, propertyNames, min/maxProperties,
 * dependencies given as arrays.  0 when they pass, 1 when not.
 */
int kt_schema_check_names(const struct kt_schema *s,
                          const struct kt_name *names, size_t n);

/*
 * The subschemas that member name's value must pass in an object against
 * s: its properties entry and the patternProperties it matches, or else
 * additionalProperties.  Up to max into subs; returns how many, or -1
 * when the name alone fails (additionalProperties false, or a false
 * subschema), or -2 when there are more than max.
 */
int kt_schema_member(const struct kt_schema *s, const char *name, size_t len,
                     const struct kt_schema **subs, int max);

#endif /* KT_SCHEMA_H */
