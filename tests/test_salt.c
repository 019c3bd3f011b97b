/*
 * tests/test_salt.c: the salt's life (salt.h): drawn at random or read
 * from a file, a new generation on rotation with a new id that is not
 * the salt, the old bytes wiped, a file that cannot be read again keeps
 * the salt, sizes refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "keymem.h"
#include "salt.h"

static char path[64];

static void write_file(const char *bytes, size_t len)
{
        FILE *fp = fopen(path, "wb");

        assert_non_null(fp);
        assert_int_equal(fwrite(bytes, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
        int fd;

        (void)state;
        snprintf(path, sizeof(path), "%s/test_salt.XXXXXX",
                 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
        assert_true((fd = mkstemp(path)) != -1);
        close(fd);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        unlink(path);
        return 0;
}

static int all_zero(const unsigned char *p, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                if (p[i] != 0)
                        return 0;
        return 1;
}

static void test_random(void **state)
{
        struct salt s;
        const char *notice;
        unsigned char first[SALT_RANDOM_LEN], *old;
        char err[256], id1[32];

        (void)state;
        assert_int_equal(salt_open(&s, NULL, &notice, err, sizeof(err)), 0);
        assert_int_equal(s.len, SALT_RANDOM_LEN);
        assert_int_equal(s.generation, 1);
        assert_false(all_zero(s.key, s.len));
        assert_int_equal(strlen(s.id), 10); /* 8 hex digits, "-1" */
        assert_string_equal(s.id + 8, "-1");
        memcpy(first, s.key, sizeof(first));
        snprintf(id1, sizeof(id1), "%s", s.id);
        old = s.key;
        assert_int_equal(salt_rotate(&s, err, sizeof(err)), 0);
        assert_int_equal(s.generation, 2);
        assert_string_equal(s.id + 8, "-2");
        assert_memory_not_equal(s.key, first, sizeof(first));
        assert_ptr_not_equal(s.key, old);
        assert_true(all_zero(old, SALT_FILE_MAX)); /* wiped */
        assert_int_equal(salt_rotate(&s, err, sizeof(err)), 0);
        assert_ptr_equal(s.key, old); /* the halves take turns */
        salt_close(&s);
        assert_null(s.page);
}

static void test_file(void **state)
{
        static const char a[] = "0123456789abcdef-first", b[] =
                "fedcba9876543210-second!";
        struct salt s;
        const char *notice;
        char err[256];

        (void)state;
        write_file(a, sizeof(a) - 1);
        assert_int_equal(salt_open(&s, path, &notice, err, sizeof(err)), 0);
        assert_int_equal(s.len, sizeof(a) - 1);
        assert_memory_equal(s.key, a, s.len);
        assert_null(strstr(s.id, "0123")); /* the id is not the salt */
        write_file(b, sizeof(b) - 1);
        assert_int_equal(salt_rotate(&s, err, sizeof(err)), 0);
        assert_int_equal(s.len, sizeof(b) - 1);
        assert_memory_equal(s.key, b, s.len);
        assert_int_equal(s.generation, 2);
        /* gone, then too short: the salt stays, said */
        unlink(path);
        assert_int_equal(salt_rotate(&s, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "anonymize.salt.file"));
        write_file("short", 5);
        assert_int_equal(salt_rotate(&s, err, sizeof(err)), -1);
        assert_null(strstr(err, "short"));
        assert_int_equal(s.generation, 2);
        assert_memory_equal(s.key, b, s.len);
        salt_close(&s);
}

static void test_file_refused(void **state)
{
        struct salt s;
        const char *notice;
        char err[256], missing[80], *big = calloc(1, SALT_FILE_MAX);

        (void)state;
        assert_non_null(big);
        write_file("0123456789abcde", 15);
        assert_int_equal(salt_open(&s, path, &notice, err, sizeof(err)), -1);
        write_file(big, SALT_FILE_MAX);
        assert_int_equal(salt_open(&s, path, &notice, err, sizeof(err)), -1);
        write_file(big, SALT_FILE_MAX - 1);
        assert_int_equal(salt_open(&s, path, &notice, err, sizeof(err)), 0);
        salt_close(&s);
        snprintf(missing, sizeof(missing), "%s.missing", path);
        assert_int_equal(salt_open(&s, missing, &notice, err, sizeof(err)),
                         -1);
        free(big);
}

struct lend {
        struct salt s;
        void       *block; /* what the keyer allocated */
};

/* salt_lend()'s keyer: sees the salt, allocates as OpenSSL would. */
static int keyer(void *arg, const unsigned char *key, size_t len,
                 const char *id)
{
        struct lend *k = arg;

        assert_ptr_equal(key, k->s.key);
        assert_int_equal(len, k->s.len);
        assert_string_equal(id, k->s.id);
        k->block = OPENSSL_malloc(48);
        return 7;
}

/* The keyer's OpenSSL allocations are keymem's, and only during it. */
static void test_lend(void **state)
{
        struct lend k;
        const char *notice;
        char err[256];
        void *after;

        (void)state;
        assert_int_equal(salt_open(&k.s, NULL, &notice, err, sizeof(err)),
                         0);
        assert_int_equal(salt_lend(&k.s, keyer, &k), 7);
        after = OPENSSL_malloc(48);
        assert_true(keymem_owns(k.block));
        assert_false(keymem_owns(after));
        OPENSSL_free(k.block);
        OPENSSL_free(after);
        salt_close(&k.s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_random),
                cmocka_unit_test(test_lend),
                cmocka_unit_test_setup_teardown(test_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_refused, setup,
                                                teardown),
        };

        (void)keymem_init(); /* before OpenSSL allocates */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
