/*
 * msgpool.h: the blocks that carry a message from the transform to its
 * delivery report, recycled so that the steady state needs no malloc.
 *
 * Owns: the spare list and the common block size.  A block comes from
 * msgpool_get() and goes back with msgpool_put() once its outcome is
 * known.  After each window of MSGPOOL_WINDOW records the common size is
 * chosen again: the smallest that fits all of the window's records but
 * the MSGPOOL_OUTLIERS largest.  It grows to that at once and shrinks to
 * it once it is half the current size or less (so that a size at a
 * boundary does not flip, freeing every block, window after window).
 * A record larger than the common size gets a block of its own, freed
 * when it comes back: one large record never changes the size of the
 * others, which the in-flight byte limit counts.
 */
#ifndef KT_MSGPOOL_H
#define KT_MSGPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

/* What a message carries: its line's event, or an error event about it
 * (the line's outcome is then already counted). */
enum msg_kind { MSG_EVENT, MSG_ERROR_EVENT };

/*
 * A message on its way: the event, then the input line (kept only for a
 * dead-letter file), then the key.  librdkafka sends it without a copy.
 */
struct msg {
        struct msg *prev, *next; /* in flight; or the spare list */
        uint64_t read_us;        /* when its line was read: latency */
        uint64_t line_no;
        size_t   value_len, raw_len, key_len;
        size_t   room;           /* data bytes of the block */
        int64_t  timestamp_ms;
        uint32_t topic;          /* output_topic()'s id */
        uint32_t input_gen;      /* input.dir: the file it was read from
                                  * (its number in the run); 0: none */
        enum msg_kind kind;
        int      spooled;        /* its frame in the spool (sid) is done
                                  * once it is delivered */
        struct spool_id sid;
        int      again;          /* sent from the spool once already */
        char     data[];
};

/* Records per window; the common size is chosen again after each. */
#define MSGPOOL_WINDOW   1024
/* Records of a window that may take the block-of-their-own path. */
#define MSGPOOL_OUTLIERS (MSGPOOL_WINDOW / 64)
/* Block sizes, header included, are multiples of MSGPOOL_ROUND ... */
#define MSGPOOL_ROUND    512
/* ... up to this: a larger block is never common. */
#define MSGPOOL_BLOCK_MAX 65536
#define MSGPOOL_SIZES    (MSGPOOL_BLOCK_MAX / MSGPOOL_ROUND)

struct msgpool {
        struct msg *spare;  /* recycled blocks of the common size */
        size_t      room;   /* their data bytes (0: none chosen yet) */
        uint32_t    seen;   /* records in this window */
        uint32_t    sizes[MSGPOOL_SIZES]; /* of them, by block size */
};

void msgpool_init(struct msgpool *p);
/* A block with room for need bytes of data, or NULL (out of memory). */
struct msg *msgpool_get(struct msgpool *p, size_t need);
void msgpool_put(struct msgpool *p, struct msg *m);
/* Frees the spare blocks; blocks still out must be put back first. */
void msgpool_free(struct msgpool *p);
/* Bytes a block holds, header included: what the in-flight limit counts. */
static inline size_t msg_size(const struct msg *m)
{
        return sizeof(*m) + m->room;
}

#endif /* KT_MSGPOOL_H */
