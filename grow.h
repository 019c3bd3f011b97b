/*
 * grow.h: room for need elements of size bytes in the array *pp of *cap,
 * doubled from 16 as needed.  0, or -1 when out of memory (the array is
 * left as it was).  Pure, header-only.
 */
#ifndef KT_GROW_H
#define KT_GROW_H

#include <stdlib.h>

static inline int kt_grow(void *pp, size_t *cap, size_t need, size_t size)
{
        size_t n = *cap ? *cap : 16;
        void *p;

        if (need <= *cap)
                return 0;
        while (n < need)
                n *= 2;
        if ((p = realloc(*(void **)pp, n * size)) == NULL)
                return -1;
        *(void **)pp = p;
        *cap = n;
        return 0;
}

#endif /* KT_GROW_H */
