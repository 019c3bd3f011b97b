/*
 * jsonwalk.h: walking JSON text that is already known to be valid.
 *
 * The events the transform writes are strict JSON by construction (the
 * scanner checked every byte it copies), so reading them again needs no
 * checks: a walk only finds where each member's name and value start and
 * end, without allocating.  The validator reads events this way, and
 * builds json-c documents from them (kt_walk_to_json) with every number
 * kept exact: json-c itself clamps an integer beyond 64 bits to the
 * nearest limit, which would hide "bytes": 184467440737095516150 from a
 * "maximum".
 *
 * Precondition everywhere: the text is one valid JSON value (RFC 8259),
 * as kt_json_check() accepts it.  Pure: no I/O, no globals.
 */
#ifndef KT_JSONWALK_H
#define KT_JSONWALK_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"

/* A value in the text. */
struct kt_wval {
        enum kt_jkind kind;
        const char   *p;       /* a string: its inside, without quotes; */
        size_t        len;     /* else the value's text, brackets included */
        int           escaped; /* a string holding an escape sequence */
};

/*
 * A member of an event, as an index of it: what the transform writes
 * while it writes the event (transform.h), or what a walk finds.  The
 * members of an object value may follow it in the index: its children.
 */
struct kt_member {
        const char   *name, *value; /* value: as kt_wval's p */
        uint32_t      name_len, value_len;
        unsigned char kind;     /* enum kt_jkind */
        unsigned char escaped;  /* 0, 1, or KT_ESCAPES_UNKNOWN */
        unsigned char known;    /* kt_scalar's: formats it is in for
                                 * certain (the transform wrote it) */
        unsigned char natural;  /* a number in plain digits for certain
                                 * (the scanner read it so): 0 unknown */
        int16_t       children; /* an object: the index entries after it
                                 * that are its members and theirs; -1:
                                 * not in the index (walk its text) */
};

#define KT_ESCAPES_UNKNOWN 2

/*
 * Which names an index holds, for a stage that judges names once per set
 * of them (validate.c): two indexes from one transform with equal keys
 * hold the same names in the same order, and the same members in each
 * object.  shape 0: no key (the names are to be compared).
 */
struct kt_names_key {
        uint64_t shape;   /* the transform's set of input names */
        uint64_t omitted; /* which members it left out (zero times) */
        uint64_t stages;  /* which names the stages after the transform
                           * added or dropped (evedit.h): 0 for none */
};

/* An event's members, as the transform wrote them. */
struct kt_index {
        const struct kt_member *m; /* NULL: no index */
        size_t                  n;
        struct kt_names_key     names;
};

/*
 * The tag of a memo the stages keep per names key (what they found in the
 * index, found once for all the events of a key): equal keys and index
 * lengths, the same names in the same places.  A key of shape 0 is no
 * key: such an event is looked at whole, never memoized.
 */
struct kt_key_tag {
        uint64_t shape, omitted;
        size_t   n_index;
};

/* Which of a memo's n slots ix's key goes to (its shape not 0). */
static inline size_t kt_key_slot(const struct kt_index *ix, size_t n)
{
        return (size_t)((ix->names.shape ^ ix->names.omitted * 31) % n);
}

/* Whether slot tag t is ix's already; if not, it becomes ix's, and the
 * caller fills the slot. */
static inline int kt_key_tag_hit(struct kt_key_tag *t,
                                 const struct kt_index *ix)
{
        if (t->shape == ix->names.shape && t->omitted == ix->names.omitted &&
            t->n_index == ix->n)
                return 1;
        t->shape = ix->names.shape;
        t->omitted = ix->names.omitted;
        t->n_index = ix->n;
        return 0;
}

/* A walk over the members of an object or the items of an array. */
struct kt_walk {
        const char *p, *end;
};

/* Starts a walk over v (KT_J_OBJECT or KT_J_ARRAY). */
void kt_walk_begin(struct kt_walk *w, const struct kt_wval *v);

/*
 * The next member: 1 with *name (a KT_J_STRING) and *value, 0 at the end.
 * For an array, use kt_walk_next_item.
 */
int kt_walk_next_member(struct kt_walk *w, struct kt_wval *name,
                        struct kt_wval *value);
int kt_walk_next_item(struct kt_walk *w, struct kt_wval *value);

/* The value that starts at text[0..len), leading space allowed. */
void kt_walk_value(const char *text, size_t len, struct kt_wval *v);

/* The same when text[0..len) is that value whole (a document): a
 * container's end is not looked for. */
void kt_walk_document(const char *text, size_t len, struct kt_wval *v);

/*
 * A string's inside, unescaped into out (room for len bytes: it never
 * grows); returns its length.  A lone surrogate becomes U+FFFD.
 */
size_t kt_json_unescape(const char *s, size_t len, char *out);

/*
 * *out: a json-c document of v (NULL is json-c's null): numbers that fit
 * 64 bits as json-c integers, other numbers as doubles that keep their
 * text (json_object_new_double_s), so that json_object_to_json_string
 * gives the number as it was written.  0, or -1 when out of memory.
 */
int kt_walk_to_json(const struct kt_wval *v, struct json_object **out);

#endif /* KT_JSONWALK_H */
