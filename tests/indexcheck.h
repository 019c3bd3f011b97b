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
#include <string.h>

#include "formats.h"
#include "jsonwalk.h"

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

#endif /* KT_INDEXCHECK_H */
