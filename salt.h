/*
 * salt.h: the secret of the hash rules (anonymize.h) and its life: read
 * from anonymize.salt.file or drawn from OpenSSL's private DRBG, kept in
 * one locked page (mlock: never swapped, where the system allows it),
 * wiped on rotation and at the end.  Never written anywhere: what leaves
 * the module is the key for HMAC and an id of the generation (8 random
 * hex digits drawn with the salt, and the generation's number), which
 * says nothing of the salt.
 */
#ifndef KT_SALT_H
#define KT_SALT_H

#include <stddef.h>
#include <stdint.h>

/* A salt file holds this many bytes at least, at most SALT_FILE_MAX. */
#define SALT_FILE_MIN 16
#define SALT_FILE_MAX 4096
/* The bytes drawn when there is no file. */
#define SALT_RANDOM_LEN 32

struct salt {
        unsigned char *page;   /* mmap()ed: the salt's only home */
        size_t         page_len;
        unsigned char *key;    /* the salt: key[0..len), in the page */
        size_t         len;
        char           id[32]; /* "8hexdigits-GENERATION" */
        uint64_t       generation; /* 1 for the first salt */
        int            locked; /* mlock() succeeded */
        char          *file;   /* NULL: random */
};

/*
 * The first salt: from file (NULL: random).  0, or -1 with a message in
 * err.  *notice is set to a message when the page could not be locked
 * (not fatal), else to NULL.
 */
int salt_open(struct salt *s, const char *file, const char **notice,
              char *err, size_t errlen);
/* The next generation: the file read again, or new random bytes.  0, or
 * -1 with a message in err (the current salt stays). */
int salt_rotate(struct salt *s, char *err, size_t errlen);
/*
 * Lends the salt to keyer, which makes a key of it (an HMAC context):
 * what OpenSSL allocates during the call goes to keymem.h's arena, out of
 * core dumps, instead of the heap.  keyer's result.
 */
typedef int salt_keyer(void *arg, const unsigned char *key, size_t len,
                       const char *id);
int salt_lend(const struct salt *s, salt_keyer *keyer, void *arg);
/* Wipes the salt and unmaps its page. */
void salt_close(struct salt *s);

#endif /* KT_SALT_H */
