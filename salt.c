/*
 * salt.c: the salt's life, see salt.h.
 *
 * The page holds two salts' room: a new one is read or drawn beside the
 * current one, which is wiped only once the new one is whole (a salt
 * file that cannot be read again keeps the current salt).  The page is
 * left out of core dumps (MADV_DONTDUMP).  OpenSSL's secure heap is set
 * up for what OpenSSL puts there (its private DRBG); its HMAC does not
 * use it for the copy of the key it keeps (OpenSSL 3.0.19: plain
 * OPENSSL_malloc), so salt_lend() has keymem.c catch that copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keymem.h"
#include "salt.h"

/* OpenSSL's secure heap (a power of 2). */
#define SECURE_HEAP (64 * 1024)

static unsigned char *half(const struct salt *s, int which)
{
        return s->page + (size_t)which * SALT_FILE_MAX;
}

/* Reads the file into dst: its length, or -1 with err. */
static long read_salt(const char *file, unsigned char *dst, char *err,
                      size_t errlen)
{
        size_t n = 0;
        ssize_t r;
        int fd;

        if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
                snprintf(err, errlen, "anonymize.salt.file %s: %s", file,
                         strerror(errno));
                return -1;
        }
        while (n <= SALT_FILE_MAX &&
               (r = read(fd, dst + n, SALT_FILE_MAX - n)) > 0)
                n += (size_t)r;
        close(fd);
        if (n < SALT_FILE_MIN || n == SALT_FILE_MAX) {
                OPENSSL_cleanse(dst, SALT_FILE_MAX);
                snprintf(err, errlen, "anonymize.salt.file %s: %zu bytes: "
                         "the salt is %d to %d bytes", file, n,
                         SALT_FILE_MIN, SALT_FILE_MAX - 1);
                return -1;
        }
        return (long)n;
}

/* A new salt and id into the half not in use, then the old wiped. */
static int new_salt(struct salt *s, char *err, size_t errlen)
{
        int next = s->key == s->page; /* the half not in use */
        unsigned char *dst = half(s, next), id[4];
        long n = SALT_RANDOM_LEN;

        if (s->file != NULL &&
            (n = read_salt(s->file, dst, err, errlen)) == -1)
                return -1;
        if ((s->file == NULL && RAND_priv_bytes(dst, (int)n) != 1) ||
            RAND_bytes(id, sizeof(id)) != 1) {
                OPENSSL_cleanse(dst, SALT_FILE_MAX);
                snprintf(err, errlen, "anonymize: no randomness for the "
                         "salt");
                return -1;
        }
        if (s->key != NULL)
                OPENSSL_cleanse(s->key, SALT_FILE_MAX);
        s->key = dst;
        s->len = (size_t)n;
        s->generation++;
        snprintf(s->id, sizeof(s->id), "%02x%02x%02x%02x-%llu", id[0], id[1],
                 id[2], id[3], (unsigned long long)s->generation);
        return 0;
}

int salt_open(struct salt *s, const char *file, const char **notice,
              char *err, size_t errlen)
{
        memset(s, 0, sizeof(*s));
        *notice = NULL;
        s->page_len = 2 * SALT_FILE_MAX;
        s->page = mmap(NULL, s->page_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (s->page == MAP_FAILED) {
                s->page = NULL;
                snprintf(err, errlen, "anonymize: salt: %s",
                         strerror(errno));
                return -1;
        }
#ifdef MADV_DONTDUMP
        (void)madvise(s->page, s->page_len, MADV_DONTDUMP);
#endif
        s->locked = mlock(s->page, s->page_len) == 0;
        if (!s->locked)
                *notice = "anonymize: the salt's memory cannot be locked "
                          "(mlock; RLIMIT_MEMLOCK?): it may be swapped";
        if (CRYPTO_secure_malloc_initialized() == 0)
                (void)CRYPTO_secure_malloc_init(SECURE_HEAP, 16);
        if ((file != NULL && (s->file = strdup(file)) == NULL) ||
            new_salt(s, err, errlen) == -1) {
                if (s->file == NULL && file != NULL)
                        snprintf(err, errlen, "out of memory");
                salt_close(s);
                return -1;
        }
        return 0;
}

int salt_rotate(struct salt *s, char *err, size_t errlen)
{
        return new_salt(s, err, errlen);
}

int salt_lend(const struct salt *s, salt_keyer *keyer, void *arg)
{
        int r;

        keymem_capture(1);
        r = keyer(arg, s->key, s->len, s->id);
        keymem_capture(0);
        return r;
}

void salt_close(struct salt *s)
{
        if (s->page != NULL) {
                OPENSSL_cleanse(s->page, s->page_len);
                if (s->locked)
                        munlock(s->page, s->page_len);
                munmap(s->page, s->page_len);
        }
        free(s->file);
        memset(s, 0, sizeof(*s));
}
