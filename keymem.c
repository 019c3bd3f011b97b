/*
 * keymem.c: OpenSSL's key copies in an arena of our own, see keymem.h.
 *
 * OpenSSL's allocator is process-wide, so this module's state is too:
 * one arena, mapped at keymem_init().  Each half is a bump allocator
 * that starts again from its bottom once its last block is freed; a key
 * is made in the half with fewer live blocks, so that rotating keys, each
 * freed after the next is made, never run out of room.  Arena blocks are
 * seldom touched (keying, the free of a context), so one mutex serves:
 * other threads (librdkafka's TLS) only take it for a pointer of the
 * arena, which they never hold.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "keymem.h"

/* A block: this header, then the bytes, rounded up to ALIGN. */
struct block {
        size_t size; /* bytes asked for */
        size_t room; /* bytes after the header */
};

#define ALIGN 16
#define HEADER ((sizeof(struct block) + ALIGN - 1) / ALIGN * ALIGN)

struct half {
        size_t top;  /* first free byte */
        size_t live; /* blocks not freed */
};

static struct {
        unsigned char    *base; /* 2 * KEYMEM_HALF, NULL: not mapped */
        enum keymem_state state;
        struct half       half[2];
        int               cur; /* the half a capture allocates from */
        size_t            spilled;
        pthread_mutex_t   lock;
} km = { .lock = PTHREAD_MUTEX_INITIALIZER };

static _Thread_local int capturing;

int keymem_owns(const void *p)
{
        const unsigned char *b = p;

        return km.base != NULL && b >= km.base &&
               b < km.base + 2 * KEYMEM_HALF;
}

static struct block *block_of(void *p)
{
        return (struct block *)(void *)((unsigned char *)p - HEADER);
}

/* n bytes from half h, or NULL when it has no room. */
static void *half_alloc(int h, size_t n)
{
        struct half *hf = &km.half[h];
        size_t room = (n + ALIGN - 1) / ALIGN * ALIGN;
        struct block *b;

        if (room < n || KEYMEM_HALF - hf->top < HEADER + room)
                return NULL;
        b = (struct block *)(void *)(km.base + (size_t)h * KEYMEM_HALF +
                                     hf->top);
        b->size = n;
        b->room = room;
        hf->top += HEADER + room;
        hf->live++;
        return (unsigned char *)b + HEADER;
}

/* From the capture's half, else the other; NULL: spilled. */
static void *arena_alloc(size_t n)
{
        void *p;

        pthread_mutex_lock(&km.lock);
        if ((p = half_alloc(km.cur, n)) == NULL &&
            (p = half_alloc(!km.cur, n)) == NULL)
                km.spilled++;
        pthread_mutex_unlock(&km.lock);
        return p;
}

static void arena_free(void *p)
{
        struct block *b = block_of(p);
        struct half *hf;

        pthread_mutex_lock(&km.lock);
        hf = &km.half[(unsigned char *)p >= km.base + KEYMEM_HALF];
        OPENSSL_cleanse(p, b->room);
        if (--hf->live == 0) /* empty: start again from the bottom */
                hf->top = 0;
        pthread_mutex_unlock(&km.lock);
}

static void *hook_malloc(size_t n, const char *file, int line)
{
        void *p;

        (void)file;
        (void)line;
        if (capturing && km.base != NULL && (p = arena_alloc(n)) != NULL)
                return p;
        return malloc(n);
}

static void hook_free(void *p, const char *file, int line)
{
        (void)file;
        (void)line;
        if (keymem_owns(p))
                arena_free(p);
        else
                free(p);
}

/*
 * A block of the arena stays in the arena (it may be key material), in
 * a new block when it grows; anything else is realloc()'s.
 */
static void *hook_realloc(void *p, size_t n, const char *file, int line)
{
        void *q;

        if (p == NULL)
                return hook_malloc(n, file, line);
        if (!keymem_owns(p))
                return realloc(p, n);
        if (n <= block_of(p)->room) {
                block_of(p)->size = n;
                return p;
        }
        if ((q = arena_alloc(n)) == NULL && (q = malloc(n)) == NULL)
                return NULL;
        memcpy(q, p, block_of(p)->size);
        arena_free(p);
        return q;
}

/* The arena: mapped, left out of core dumps, locked if allowed. */
static enum keymem_state arena_map(void)
{
        void *p = mmap(NULL, 2 * KEYMEM_HALF, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return KEYMEM_OFF;
#ifdef MADV_DONTDUMP
        (void)madvise(p, 2 * KEYMEM_HALF, MADV_DONTDUMP);
#endif
        km.base = p;
        return mlock(p, 2 * KEYMEM_HALF) == 0 ? KEYMEM_ON : KEYMEM_UNLOCKED;
}

enum keymem_state keymem_init(void)
{
        if (km.state != KEYMEM_OFF)
                return km.state;
        if (CRYPTO_set_mem_functions(hook_malloc, hook_realloc,
                                     hook_free) != 1)
                return km.state = KEYMEM_LATE;
        return km.state = arena_map();
}

enum keymem_state keymem_state(void)
{
        return km.state;
}

const char *keymem_notice(enum keymem_state st)
{
        switch (st) {
        case KEYMEM_OFF:
                return "OpenSSL's copy of the salt is in its ordinary heap "
                       "(no memory for an arena of its own): a core dump "
                       "may hold it";
        case KEYMEM_LATE:
                return "OpenSSL's copy of the salt is in its ordinary heap "
                       "(OpenSSL had allocated before the start): a core "
                       "dump may hold it";
        case KEYMEM_UNLOCKED:
                return "OpenSSL's copy of the salt cannot be locked (mlock; "
                       "RLIMIT_MEMLOCK?): it may be swapped";
        case KEYMEM_ON:
                break;
        }
        return NULL;
}

/*
 * A capture starts in the half with fewer live blocks: the other holds
 * the context of the key in use, freed once the new one is made.
 */
void keymem_capture(int on)
{
        if (on && km.base != NULL) {
                pthread_mutex_lock(&km.lock);
                km.cur = km.half[1].live < km.half[0].live;
                pthread_mutex_unlock(&km.lock);
        }
        capturing = on;
}

void keymem_stats(struct keymem_stats *st)
{
        pthread_mutex_lock(&km.lock);
        st->blocks = km.half[0].live + km.half[1].live;
        st->bytes = km.half[0].top + km.half[1].top;
        st->spilled = km.spilled;
        pthread_mutex_unlock(&km.lock);
}
