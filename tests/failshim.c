/*
 * failshim.so: an LD_PRELOAD library for the tests that makes the
 * allocations and the randomness behind a record fail, which nothing
 * else provokes on demand.  Never part of the program.
 *
 *	FAILSHIM_MALLOC_MIN=N	malloc() of N bytes or more fails (ENOMEM)
 *	FAILSHIM_RAND_OK=N	RAND_bytes() works N times, then fails
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

void *__libc_malloc(size_t n);
int RAND_bytes(unsigned char *buf, int num);

static long env_long(const char *name)
{
        const char *s = getenv(name);

        return s != NULL ? strtol(s, NULL, 10) : -1;
}

void *malloc(size_t n)
{
        static long min = -2;

        if (min == -2)
                min = env_long("FAILSHIM_MALLOC_MIN");
        if (min > 0 && n >= (size_t)min) {
                errno = ENOMEM;
                return NULL;
        }
        return __libc_malloc(n);
}

int RAND_bytes(unsigned char *buf, int num)
{
        static int (*real)(unsigned char *, int);
        static long left = -2;

        if (left == -2)
                left = env_long("FAILSHIM_RAND_OK");
        if (left == 0)
                return 0;
        if (left > 0)
                left--;
        if (real == NULL)
                real = (int (*)(unsigned char *, int))dlsym(RTLD_NEXT,
                                                            "RAND_bytes");
        return real != NULL ? real(buf, num) : 0;
}
