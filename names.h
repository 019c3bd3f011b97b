/*
 * names.h: the tables of a line's member names.
 *
 * struct kt_dups finds twin names in the line (RFC 8259 leaves them
 * undefined; the transform refuses them): a small table by hash while
 * the line has few names, a sort when it has many.  struct kt_shape
 * remembers the last line's names.  struct kt_names holds the output's
 * names when renames and constants could make two of them alike.  All
 * are reused from line to line: a reset costs what the last line used,
 * not what the largest line ever did.
 */
#ifndef KT_NAMES_H
#define KT_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Slots of the small tables (a power of two); names beyond half of it
 * go the sorted way. */
#define KT_NAME_SLOTS 256

/*
 * memcmp(a, b, n) == 0 for the short names and values of a record: a
 * call to memcmp costs more than the compare.  Loads overlap, never
 * reaching past n.
 */
static inline int kt_same_bytes(const char *a, const char *b, size_t n)
{
        uint64_t w, x, y, z;
        uint32_t u, v;

        if (n >= 8) {
                for (; n > 16; a += 8, b += 8, n -= 8) {
                        memcpy(&w, a, 8);
                        memcpy(&x, b, 8);
                        if (w != x)
                                return 0;
                }
                memcpy(&w, a, 8);
                memcpy(&x, b, 8);
                memcpy(&y, a + n - 8, 8);
                memcpy(&z, b + n - 8, 8);
                return ((w ^ x) | (y ^ z)) == 0;
        }
        if (n >= 4) {
                memcpy(&u, a, 4);
                memcpy(&v, b, 4);
                if (u != v)
                        return 0;
                memcpy(&u, a + n - 4, 4);
                memcpy(&v, b + n - 4, 4);
                return u == v;
        }
        for (; n > 0; n--)
                if (*a++ != *b++)
                        return 0;
        return 1;
}

/* Field names are short and differ at the ends: four bytes will do.
 * The raw hash, for tables of other sizes (schema.c). */
static inline uint32_t kt_name_hash32(const char *p, size_t len)
{
        uint32_t h = (uint32_t)len * 2654435761u;

        if (len > 0)
                h ^= (unsigned char)p[0] * 40503u ^
                     (unsigned char)p[len - 1] * 9973u ^
                     (unsigned char)p[len / 2] * 331u ^
                     (unsigned char)p[len / 3] * 13u;
        return h;
}

/* A slot of KT_NAME_SLOTS. */
static inline unsigned kt_name_hash(const char *p, size_t len)
{
        uint32_t h = kt_name_hash32(p, len);

        return (h ^ h >> 9) & (KT_NAME_SLOTS - 1);
}

/* A name of the line: offsets into it. */
struct kt_name_at {
        int start, len;
};

/* The twin check of one line's names. */
struct kt_dups {
        const char       *js;   /* the line */
        struct kt_name_at *keys; /* its names so far */
        size_t            n_keys, keys_cap;
        uint32_t          gen;  /* the line's number, for slot[] */
        struct {
                uint32_t gen; /* in use when the line's */
                int      key; /* index in keys */
        } slot[KT_NAME_SLOTS];
};

void kt_dups_free(struct kt_dups *d);
/* A new line: no names yet. */
void kt_dups_reset(struct kt_dups *d, const char *js);
int kt_dups_grow(struct kt_dups *d);

/* Notes the line's next name.  0, or -1 when out of memory.  Inline:
 * a call per member cost 6% more instructions per record. */
static inline int kt_dups_push(struct kt_dups *d, int start, int len)
{
        if (d->n_keys == d->keys_cap && kt_dups_grow(d) == -1)
                return -1;
        d->keys[d->n_keys].start = start;
        d->keys[d->n_keys].len = len;
        d->n_keys++;
        return 0;
}
/*
 * Few names: is name i (hash h) a twin of one before it?  1 or 0.
 * Many names (over KT_NAME_SLOTS / 2) are left to kt_dups_sorted().
 */
int kt_dups_check(struct kt_dups *d, size_t i, unsigned h);
/*
 * Many names: sorted, O(n log n).  1 with *twin set when two are alike,
 * 0 when none are (or the line has few), -1 when out of memory.
 */
int kt_dups_sorted(const struct kt_dups *d, struct kt_name_at *twin);

/*
 * The names of the last line, in order: pmacct prints the same names in
 * the same order line after line, so a line that follows them needs no
 * lookup of a name's value (the transform: its rule) and has no twins.
 */
struct kt_shape {
        struct kt_shape_name {
                int   start, len; /* in text */
                void *value;      /* the caller's */
        } name[KT_NAME_SLOTS / 2];
        size_t n;    /* 0: no shape */
        char  *text; /* the names, end to end */
        size_t text_cap;
};

void kt_shape_free(struct kt_shape *sh);
/*
 * The names of d's line become the shape, values NULL.  0, or -1 and no
 * shape when out of memory or the line has over KT_NAME_SLOTS / 2 names.
 */
int kt_shape_learn(struct kt_shape *sh, const struct kt_dups *d);

/* Is name i of the shape name[0..len)? */
static inline int kt_shape_has(const struct kt_shape *sh, size_t i,
                               const char *name, int len)
{
        return i < sh->n && sh->name[i].len == len &&
               kt_same_bytes(sh->text + sh->name[i].start, name,
                             (size_t)len);
}

/* The output's names, by hash of every byte. */
struct kt_names {
        struct kt_out_name {
                const char *p;
                size_t      len;
                size_t      slot; /* its slot, cleared at the reset */
        } *names;
        size_t    n_names, names_cap;
        uint32_t *slots; /* index in names + 1, or 0 */
        size_t    mask;  /* slots - 1, or 0 before the first name */
};

void kt_names_free(struct kt_names *n);
/* Empties the table; returns the number of slots it cleared. */
size_t kt_names_reset(struct kt_names *n);
/* Adds p[0..len) (not copied): 0, 1 when it is there already, -1 when
 * out of memory. */
int kt_names_claim(struct kt_names *n, const char *p, size_t len);

#endif /* KT_NAMES_H */
