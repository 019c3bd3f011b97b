/*
 * keymem.h: a home for OpenSSL's copies of a key.  OpenSSL 3.0's HMAC
 * keeps a copy of its key, and the inner and outer digest states (each
 * as good as the key), in memory it allocates itself: the ordinary heap,
 * which a core dump holds.  keymem makes OpenSSL's allocator ours
 * (CRYPTO_set_mem_functions); while a thread has the capture on, what
 * OpenSSL allocates for it comes from one arena of our own: locked
 * against swapping where the system allows it, left out of core dumps
 * (MADV_DONTDUMP), and wiped block by block as OpenSSL frees it.
 * Anything else goes to malloc() as before.
 */
#ifndef KT_KEYMEM_H
#define KT_KEYMEM_H

#include <stddef.h>

/* The arena's two halves, each this big: a new key is made in one while
 * the context of the old one still lives in the other. */
#define KEYMEM_HALF (16 * 1024)

enum keymem_state {
        KEYMEM_OFF,      /* keymem_init() not called, or it failed */
        KEYMEM_LATE,     /* OpenSSL had allocated already: hooks refused */
        KEYMEM_UNLOCKED, /* on, but mlock() failed: may be swapped */
        KEYMEM_ON        /* on and locked */
};

struct keymem_stats {
        size_t blocks;  /* blocks in the arena now */
        size_t bytes;   /* their bytes (headers included) */
        size_t spilled; /* captured allocations the arena had no room
                         * for: they went to malloc() */
};

/*
 * Installs the allocator and maps the arena.  Call before anything uses
 * OpenSSL (first thing in main()): OpenSSL takes new allocator functions
 * only before its first allocation.
 */
enum keymem_state keymem_init(void);
enum keymem_state keymem_state(void);
/* A message for a state other than KEYMEM_ON, else NULL. */
const char *keymem_notice(enum keymem_state st);
/* 1: this thread's OpenSSL allocations go to the arena; 0: to malloc(). */
void keymem_capture(int on);
/* Whether p is in the arena. */
int keymem_owns(const void *p);
void keymem_stats(struct keymem_stats *st);

#endif /* KT_KEYMEM_H */
