/*
 * tests/indexcheck.h: does a member index (transform.h's, for the
 * validator) say what the event it comes with says?  Shared by
 * tests/test_validate.c and tests/fuzz/fuzz_transform.c.  A value the
 * index says is in a format (the times and ids the transform writes) must
 * be.
 */
#ifndef KT_INDEXCHECK_H
#define KT_INDEXCHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "jsonwalk.h"
#include "transform.h"

/*
 * A transform that indexes its events, with the netflow envelope and the
 * domain "edge1": the stages' tests (test_evedit, test_enrich,
 * test_anonymize) start from its events.  NULL when it cannot be made.
 */
static inline struct kt_transform *ixc_transform(void)
{
        struct kt_transform *t = kt_transform_new();

        if (t == NULL || kt_transform_set_envelope(t, "/netflow/flow/1.1.0",
                                                   "netflow", "edge1") == -1) {
                kt_transform_free(t);
                return NULL;
        }
        kt_transform_set_index(t, 1);
        return t;
}

static int ixc_same(const char *a, size_t alen, const char *b, size_t blen)
{
        return alen == blen && memcmp(a, b, alen) == 0;
}

/*
 * The members of obj against ix[0..n): 0, or -1 with why.  An entry of
 * an object with children >= 0 is checked against the object's members
 * too.
 */
static int ixc_object(const struct kt_wval *obj, const struct kt_member *ix,
                      size_t n, char *why, size_t whylen)
{
        struct kt_walk w;
        struct kt_wval name, value;
        size_t i = 0;

        kt_walk_begin(&w, obj);
        while (kt_walk_next_member(&w, &name, &value)) {
                const struct kt_member *m = &ix[i];

                if (i >= n) {
                        snprintf(why, whylen, "the event has more members "
                                 "than the index (%zu)", n);
                        return -1;
                }
                if (!ixc_same(m->name, m->name_len, name.p, name.len) ||
                    m->kind != (unsigned char)value.kind ||
                    !ixc_same(m->value, m->value_len, value.p, value.len)) {
                        snprintf(why, whylen, "entry %zu: \"%.*s\" kind %d "
                                 "\"%.*s\"; the event: \"%.*s\" kind %d "
                                 "\"%.*s\"", i, (int)m->name_len, m->name,
                                 m->kind, (int)m->value_len, m->value,
                                 (int)name.len, name.p, value.kind,
                                 (int)value.len, value.p);
                        return -1;
                }
                if (m->kind == KT_J_STRING && m->escaped !=
                    KT_ESCAPES_UNKNOWN && m->escaped != value.escaped) {
                        snprintf(why, whylen, "entry %zu: escaped %d, the "
                                 "event %d", i, m->escaped, value.escaped);
                        return -1;
                }
                for (int f = KT_FORMAT_DATE_TIME; f <= KT_FORMAT_HOSTNAME; f++)
                        if ((m->known & 1u << f) &&
                            !kt_format_ok((enum kt_format)f, m->value,
                                          m->value_len)) {
                                snprintf(why, whylen, "entry %zu: \"%.*s\" "
                                         "is not the %s it is known to be",
                                         i, (int)m->value_len, m->value,
                                         kt_format_name((enum kt_format)f));
                                return -1;
                        }
                if (m->children > 0 &&
                    ixc_object(&value, m + 1, (size_t)m->children, why,
                               whylen) == -1)
                        return -1;
                i += 1 + (m->children > 0 ? (size_t)m->children : 0);
        }
        if (i != n) {
                snprintf(why, whylen, "the index has %zu entries, the "
                         "event's members %zu", n, i);
                return -1;
        }
        return 0;
}

static int kt_index_check(const char *event, size_t len,
                          const struct kt_member *ix, size_t n, char *why,
                          size_t whylen)
{
        struct kt_wval top;

        kt_walk_value(event, len, &top);
        if (top.kind != KT_J_OBJECT) {
                snprintf(why, whylen, "the event is not an object");
                return -1;
        }
        return ixc_object(&top, ix, n, why, whylen);
}

/*
 * Names keys (jsonwalk.h's struct kt_names_key) against the names they
 * stand for: two indexes of one transform with equal keys must hold the
 * same names in the same order, with the same members in each object.
 * One memo per transform; the last KC_KEYS keys are remembered.
 */
#define KC_KEYS 64

struct kt_key_check {
        struct kt_names_key key[KC_KEYS];
        char               *names[KC_KEYS];
        size_t              n, next;
};

/* The names of ix end to end, each with its children and whether it is
 * an object: "4:meta{4,". */
static char *kc_names(const struct kt_index *ix)
{
        size_t i, cap = 64, len = 0;
        char *s = malloc(cap), *p;

        for (i = 0; s != NULL && i < ix->n; i++) {
                const struct kt_member *m = &ix->m[i];
                size_t need = len + m->name_len + 32;

                if (need > cap) {
                        cap = need * 2;
                        if ((p = realloc(s, cap)) == NULL) {
                                free(s);
                                return NULL;
                        }
                        s = p;
                }
                len += (size_t)snprintf(s + len, cap - len, "%u:%.*s%c%d,",
                                        (unsigned)m->name_len,
                                        (int)m->name_len, m->name,
                                        m->kind == KT_J_OBJECT ? '{' : '=',
                                        (int)m->children);
        }
        return s;
}

static void kt_key_check_free(struct kt_key_check *kc)
{
        size_t i;

        for (i = 0; i < kc->n; i++)
                free(kc->names[i]);
        kc->n = kc->next = 0;
}

/* 0, or -1 with why: ix's key stood for other names before. */
static int kt_key_check(struct kt_key_check *kc, const struct kt_index *ix,
                        char *why, size_t whylen)
{
        char *names;
        size_t i;

        if (ix->m == NULL || ix->names.shape == 0)
                return 0;
        if ((names = kc_names(ix)) == NULL) {
                snprintf(why, whylen, "out of memory");
                return -1;
        }
        for (i = 0; i < kc->n; i++) {
                if (kc->key[i].shape != ix->names.shape ||
                    kc->key[i].omitted != ix->names.omitted ||
                    kc->key[i].stages != ix->names.stages)
                        continue;
                if (strcmp(kc->names[i], names) != 0) {
                        snprintf(why, whylen, "key %llu/%llx stands for "
                                 "\"%.300s\" and for \"%.300s\"",
                                 (unsigned long long)ix->names.shape,
                                 (unsigned long long)ix->names.omitted,
                                 kc->names[i], names);
                        free(names);
                        return -1;
                }
                free(names);
                return 0;
        }
        if (kc->n < KC_KEYS) {
                i = kc->n++;
        } else { /* the oldest makes room */
                i = kc->next;
                free(kc->names[i]);
                kc->next = (kc->next + 1) % KC_KEYS;
        }
        kc->key[i] = ix->names;
        kc->names[i] = names;
        return 0;
}

#endif /* KT_INDEXCHECK_H */
