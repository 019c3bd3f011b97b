/*
 * names.c: the tables of a line's member names (see names.h).
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"

void kt_dups_free(struct kt_dups *d)
{
        free(d->keys);
        d->keys = NULL;
        d->n_keys = d->keys_cap = 0;
}

void kt_dups_reset(struct kt_dups *d, const char *js)
{
        d->js = js;
        d->n_keys = 0;
        if (++d->gen == 0) { /* wrapped: old marks would look current */
                memset(d->slot, 0, sizeof(d->slot));
                d->gen = 1;
        }
}

int kt_dups_grow(struct kt_dups *d)
{
        struct kt_name_at *keys;
        size_t cap = d->keys_cap ? d->keys_cap * 2 : 64;

        if ((keys = realloc(d->keys, cap * sizeof(*keys))) == NULL)
                return -1;
        d->keys = keys;
        d->keys_cap = cap;
        return 0;
}

int kt_dups_check(struct kt_dups *d, size_t i, unsigned h)
{
        const struct kt_name_at *k = &d->keys[i], *o;

        if (d->n_keys > KT_NAME_SLOTS / 2)
                return 0;
        for (;; h = (h + 1) & (KT_NAME_SLOTS - 1)) {
                if (d->slot[h].gen != d->gen)
                        break;
                o = &d->keys[d->slot[h].key];
                if (o->len == k->len &&
                    kt_same_bytes(d->js + o->start, d->js + k->start,
                                  (size_t)k->len))
                        return 1;
        }
        d->slot[h].gen = d->gen;
        d->slot[h].key = (int)i;
        return 0;
}

/* qsort has no context argument: the line travels with each name. */
struct sort_key {
        const char *p;
        int         len;
        int         start;
};

static int compare_keys(const void *x, const void *y)
{
        const struct sort_key *a = x, *b = y;
        int r = memcmp(a->p, b->p, (size_t)(a->len < b->len ? a->len
                                                          : b->len));

        return r != 0 ? r : a->len - b->len;
}

int kt_dups_sorted(const struct kt_dups *d, struct kt_name_at *twin)
{
        struct sort_key *keys;
        size_t i;
        int found = 0;

        if (d->n_keys <= KT_NAME_SLOTS / 2)
                return 0;
        if ((keys = malloc(d->n_keys * sizeof(*keys))) == NULL)
                return -1;
        for (i = 0; i < d->n_keys; i++) {
                keys[i].p = d->js + d->keys[i].start;
                keys[i].len = d->keys[i].len;
                keys[i].start = d->keys[i].start;
        }
        qsort(keys, d->n_keys, sizeof(*keys), compare_keys);
        for (i = 1; i < d->n_keys && !found; i++)
                if (compare_keys(&keys[i - 1], &keys[i]) == 0) {
                        twin->start = keys[i].start;
                        twin->len = keys[i].len;
                        found = 1;
                }
        free(keys);
        return found;
}

void kt_shape_free(struct kt_shape *sh)
{
        free(sh->text);
        sh->text = NULL;
        sh->text_cap = sh->n = 0;
}

int kt_shape_learn(struct kt_shape *sh, const struct kt_dups *d)
{
        size_t i, bytes = 0;
        char *text;

        sh->n = 0;
        if (d->n_keys > KT_NAME_SLOTS / 2)
                return -1;
        for (i = 0; i < d->n_keys; i++)
                bytes += (size_t)d->keys[i].len;
        if (bytes >= sh->text_cap) {
                /* a byte at least: names may all be "" */
                if ((text = realloc(sh->text, bytes + 1)) == NULL)
                        return -1;
                sh->text = text;
                sh->text_cap = bytes + 1;
        }
        for (i = 0, bytes = 0; i < d->n_keys; i++) {
                sh->name[i].start = (int)bytes;
                sh->name[i].len = d->keys[i].len;
                sh->name[i].value = NULL;
                memcpy(sh->text + bytes, d->js + d->keys[i].start,
                       (size_t)d->keys[i].len);
                bytes += (size_t)d->keys[i].len;
        }
        sh->n = d->n_keys;
        return 0;
}

void kt_names_free(struct kt_names *n)
{
        free(n->names);
        free(n->slots);
        memset(n, 0, sizeof(*n));
}

/* Only the slots the last line used: one line of many names must not
 * make every line after it pay for the whole table. */
size_t kt_names_reset(struct kt_names *n)
{
        size_t i, used = n->n_names;

        for (i = 0; i < used; i++)
                n->slots[n->names[i].slot] = 0;
        n->n_names = 0;
        return used;
}

/*
 * Every byte counts here: a line may hold a million names alike in the
 * few bytes kt_name_hash() samples, and this table grows with the line.
 */
static uint32_t fnv1a(const char *p, size_t len)
{
        uint32_t h = 2166136261u;

        while (len-- > 0)
                h = (h ^ (unsigned char)*p++) * 16777619u;
        return h;
}

/* The slot of p: where it is, or the free one where it would go. */
static size_t find_slot(const struct kt_names *n, const char *p, size_t len)
{
        size_t h;
        const struct kt_out_name *o;

        for (h = fnv1a(p, len) & n->mask; n->slots[h] != 0;
             h = (h + 1) & n->mask) {
                o = &n->names[n->slots[h] - 1];
                if (o->len == len && memcmp(o->p, p, len) == 0)
                        break;
        }
        return h;
}

/* Room for one more name, the table kept at most half full. */
static int grow(struct kt_names *n)
{
        size_t want = n->mask ? 2 * (n->mask + 1) : 64, cap, i;
        struct kt_out_name *names;
        uint32_t *slots;

        if (n->n_names == n->names_cap) {
                cap = n->names_cap ? n->names_cap * 2 : 32;
                if ((names = realloc(n->names, cap * sizeof(*names))) == NULL)
                        return -1;
                n->names = names;
                n->names_cap = cap;
        }
        if (2 * (n->n_names + 1) <= n->mask + 1)
                return 0;
        if ((slots = realloc(n->slots, want * sizeof(*slots))) == NULL)
                return -1;
        memset(slots, 0, want * sizeof(*slots));
        n->slots = slots;
        n->mask = want - 1;
        for (i = 0; i < n->n_names; i++) {
                names = &n->names[i];
                names->slot = find_slot(n, names->p, names->len);
                n->slots[names->slot] = (uint32_t)(i + 1);
        }
        return 0;
}

int kt_names_claim(struct kt_names *n, const char *p, size_t len)
{
        size_t h;

        if (grow(n) == -1)
                return -1;
        h = find_slot(n, p, len);
        if (n->slots[h] != 0)
                return 1;
        n->names[n->n_names].p = p;
        n->names[n->n_names].len = len;
        n->names[n->n_names].slot = h;
        n->slots[h] = (uint32_t)++n->n_names;
        return 0;
}
