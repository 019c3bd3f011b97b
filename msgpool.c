/*
 * msgpool.c: recycled message blocks.  See msgpool.h for the policy.
 */
#include <stdlib.h>
#include <string.h>

#include "msgpool.h"

void msgpool_init(struct msgpool *p)
{
        memset(p, 0, sizeof(*p));
}

/* The whole block for need data bytes, rounded up. */
static size_t block_size(size_t need)
{
        size_t total = sizeof(struct msg) + need;

        return (total + MSGPOOL_ROUND - 1) / MSGPOOL_ROUND * MSGPOOL_ROUND;
}

static void spares_free(struct msgpool *p)
{
        struct msg *m;

        while ((m = p->spare) != NULL) {
                p->spare = m->next;
                free(m);
        }
}

void msgpool_free(struct msgpool *p)
{
        spares_free(p);
}

/* The smallest block size that fits the window but its outliers. */
static size_t window_choice(const struct msgpool *p)
{
        uint32_t want = p->seen - MSGPOOL_OUTLIERS, sum = 0;
        size_t i, top = 0;

        for (i = 0; i < MSGPOOL_SIZES; i++) {
                if (p->sizes[i] == 0)
                        continue;
                top = i;
                sum += p->sizes[i];
                if (sum >= want)
                        break;
        }
        return (top + 1) * MSGPOOL_ROUND;
}

static void set_room(struct msgpool *p, size_t room)
{
        if (room == p->room)
                return;
        /* Blocks of the old size still out are freed as they come back. */
        spares_free(p);
        p->room = room;
}

static void window_end(struct msgpool *p)
{
        size_t room = window_choice(p) - sizeof(struct msg);

        if (room > p->room || room <= p->room / 2)
                set_room(p, room);
        p->seen = 0;
        memset(p->sizes, 0, sizeof(p->sizes));
}

static void count(struct msgpool *p, size_t need)
{
        size_t size = block_size(need);

        /* The first record sets a size, good until the window's end. */
        if (p->room == 0 && size <= MSGPOOL_BLOCK_MAX)
                set_room(p, size - sizeof(struct msg));
        if (size > MSGPOOL_BLOCK_MAX)
                size = MSGPOOL_BLOCK_MAX; /* counts as the largest */
        p->sizes[size / MSGPOOL_ROUND - 1]++;
        if (++p->seen == MSGPOOL_WINDOW)
                window_end(p);
}

struct msg *msgpool_get(struct msgpool *p, size_t need)
{
        size_t room;
        struct msg *m;

        count(p, need);
        if (need <= p->room && p->spare != NULL) {
                m = p->spare;
                p->spare = m->next;
                return m;
        }
        room = need <= p->room ? p->room : need;
        if ((m = malloc(sizeof(*m) + room)) == NULL)
                return NULL;
        m->room = room;
        return m;
}

void msgpool_put(struct msgpool *p, struct msg *m)
{
        if (m->room != p->room) {
                free(m);
                return;
        }
        m->next = p->spare;
        p->spare = m;
}
