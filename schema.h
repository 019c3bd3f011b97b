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
 * A set is for one thread: its regexes' match data are shared.
 */
#ifndef KT_SCHEMA_H
#define KT_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

struct kt_schema_set;
struct kt_schema;        /* one compiled (sub)schema */

/*
 * dir: where "/a/b/1.0.0" resolves, to dir/a/b/1.0.0.json (the layout of
 * Wikimedia's schema repositories; dir/a/b/1.0.0 when there is no .json)
 * and where a relative $ref is taken against the referring document's
 * URI ("../common/1.0.0"); NULL for none.  NULL when out of memory.
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
 * keyword at fault: "DIR/x/1.0.0.json: #/properties/a/maximun: unknown
 * keyword "maximun" (...)".  After a failed load the set refuses every
 * later one with the same message (its nodes are half made): free it.
 */
const struct kt_schema *kt_schema_load(struct kt_schema_set *set,
                                       const char *uri, char *err,
                                       size_t errlen);

/* The same for a document in hand, with base as its URI. */
const struct kt_schema *kt_schema_compile(struct kt_schema_set *set,
                                          struct json_object *doc,
                                          const char *base, char *err,
                                          size_t errlen);

/*
 * JSON text parsed as the validator wants it: strictly (RFC 8259, as far
 * as json-c's strict mode goes), the whole text one value, and integers
 * beyond 64 bits kept exact (json-c 0.16 alone saturates them to
 * INT64_MIN / UINT64_MAX: 18446744073709551616 would pass a maximum of
 * 18446744073709551615).  Schema files are read so; use it for the
 * documents given to kt_schema_compile() and kt_schema_validate() too.
 * NULL with a message ("line 3, column 7: unexpected character").
 */
struct json_object *kt_schema_parse(const char *text, size_t len, char *err,
                                    size_t errlen);

/* Why an instance is not valid: the first failure found. */
struct kt_schema_error {
        char keyword[32];  /* the failing keyword: "maximum", "required" */
        char pointer[256]; /* the failing value, RFC 6901; "" the root */
        char message[512]; /* one line, naming both */
};

/*
 * 0 when instance is valid; 1 with e filled when it is not.  The message
 * is "POINTER: what (keyword)", POINTER "(root)" for the whole instance,
 * control bytes written \u00XX; e->pointer is RFC 6901 as is (a name's
 * bytes, ~ and / escaped).  A missing required member is reported at its
 * own pointer ("/bytes"), a member refused by additionalProperties:
 * false at its pointer; anyOf, oneOf, not, then and else name themselves
 * at the value's pointer.
 */
int kt_schema_validate(const struct kt_schema *s,
                       struct json_object *instance,
                       struct kt_schema_error *e);

/* The same for a value found at pointer (its errors' pointers start so). */
int kt_schema_validate_at(const struct kt_schema *s,
                          struct json_object *instance, const char *pointer,
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
        unsigned      known;  /* 1 << enum kt_format: formats the string
                               * is in for certain (this program wrote
                               * it so): their check is skipped */
};

/*
 * kt_schema_validate() for a scalar: 0 valid, 1 with e filled (pointer:
 * the JSON pointer of the value, copied into e->pointer).  No allocation;
 * a plain natural number against an integer range, or a string against
 * string keywords only, skips the general walk (a port: about 5 ns; an
 * ipv4 address against anyOf ipv4/ipv6: 15-35 ns, on a busy 2-core VM).
 */
int kt_schema_validate_scalar(const struct kt_schema *s,
                              const struct kt_scalar *v, const char *pointer,
                              struct kt_schema_error *e);

/*
 * One pass over a flat object (validate.c): each member checked by the
 * schemas kt_schema_member() gives, then kt_schema_object_end().  The
 * verdict and the error are kt_schema_validate()'s: it too checks the
 * members in order, then the counts, then the required names.
 */

/* The schema s stands for, its $refs followed. */
const struct kt_schema *kt_schema_deref(const struct kt_schema *s);

enum kt_schema_shape {
        KT_SHAPE_ANY,    /* true, {}: every value */
        KT_SHAPE_NONE,   /* false: no value */
        KT_SHAPE_OBJECT, /* type object (or none), properties,
                          * patternProperties, additionalProperties,
                          * propertyNames, required, min/maxProperties
                          * only: one pass works on an object */
        KT_SHAPE_OTHER   /* anything else: kt_schema_validate() */
};
enum kt_schema_shape kt_schema_shape(const struct kt_schema *s);

/*
 * The schemas member name[0..len) of an object checked by s must match:
 * its properties entry and the patternProperties whose regex matches it,
 * else additionalProperties.  Fills up to max of them into out and
 * returns how many apply (0: any value; more than max: call again with
 * room); -1 with e filled (pointer "/name": s checks the root) when the
 * member is refused (additionalProperties false, or propertyNames).  seen (kt_schema_n_required() bytes, zeroed
 * for each object; or NULL): seen[i] = 1 when name is required name i.
 * One hash lookup for properties and required.
 */
int kt_schema_member(const struct kt_schema *s, const char *name,
                     size_t len, const struct kt_schema **out, size_t max,
                     unsigned char *seen, struct kt_schema_error *e);

/*
 * What a schema asks of a string and of a natural number, when simple
 * bounds say it all (validate.c compiles its per-member checks from
 * them).  simple 1: a string (its content, unescaped) is valid exactly
 * when it has min_len..max_len code points, is in every format of
 * all_formats and matches all_class when there is one, and is in one of
 * any_formats or matches any_class when either is there; a natural
 * number in plain digits is valid exactly when it is in lo..hi.  An
 * empty range (min_len > max_len, lo > hi) says no such value is.
 * simple 0: the schema asks more (a pattern, an enum, oneOf): use
 * kt_schema_validate_scalar().  Values of other kinds, and numbers
 * written otherwise (1.0, 1e3, -0), are for kt_schema_validate_scalar().
 */
struct kt_class;  /* a pattern of one class of letters and digits
                   * repeated, the whole string (^[0-9a-f]{8,64}$) */

/* Does the string p[0..n) match c?  (PCRE2 would say the same.) */
int kt_class_match(const struct kt_class *c, const char *p, size_t n);

struct kt_string_rule {
        int                     simple;
        size_t                  min_len, max_len;
        unsigned                all_formats, any_formats; /* 1 << enum
                                                           * kt_format */
        const struct kt_class  *all_class, *any_class;    /* or NULL */
};

struct kt_natural_rule {
        int      simple;
        uint64_t lo, hi;
};

/* Both rules as "every value", to be narrowed by kt_schema_rules(). */
void kt_schema_rules_init(struct kt_string_rule *str,
                          struct kt_natural_rule *nat);

/* The rules narrowed by s (a value that must pass several schemas: call
 * once with each). */
void kt_schema_rules(const struct kt_schema *s, struct kt_string_rule *str,
                     struct kt_natural_rule *nat);

/* s's required names: how many, and the i-th (not NUL-safe: len). */
size_t kt_schema_n_required(const struct kt_schema *s);
const char *kt_schema_required(const struct kt_schema *s, size_t i,
                               size_t *len);

/*
 * After the members: minProperties, maxProperties (members: how many the
 * object has) and required (seen: as kt_schema_member() filled it; NULL
 * when s has none).  0, or 1 with e filled as kt_schema_validate() does.
 */
int kt_schema_object_end(const struct kt_schema *s, size_t members,
                         const unsigned char *seen,
                         struct kt_schema_error *e);

#endif /* KT_SCHEMA_H */
