/*
 * tests/test_keymem.c: OpenSSL's allocations while a capture is on go to
 * the arena (keymem.h), others and other threads' to malloc(); blocks are
 * wiped when freed, a half starts again when empty, keys made one after
 * the other alternate halves, what does not fit spills, and an HMAC
 * context keyed under a capture keeps its key copy in the arena.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "keymem.h"

static size_t live_blocks(void)
{
        struct keymem_stats st;

        keymem_stats(&st);
        return st.blocks;
}

static void test_capture(void **state)
{
        unsigned char *in, *out;

        (void)state;
        out = OPENSSL_malloc(64);
        keymem_capture(1);
        in = OPENSSL_malloc(64);
        keymem_capture(0);
        assert_non_null(out);
        assert_non_null(in);
        assert_false(keymem_owns(out));
        assert_true(keymem_owns(in));
        assert_int_equal((uintptr_t)in % 16, 0);
        assert_int_equal(live_blocks(), 1);
        memset(in, 0xa5, 64);
        OPENSSL_free(in);
        assert_int_equal(live_blocks(), 0);
        /* wiped as freed (the arena stays mapped) */
        assert_int_equal(in[0], 0);
        assert_int_equal(in[63], 0);
        OPENSSL_free(out);
}

static void *other_thread(void *arg)
{
        (void)arg;
        return OPENSSL_malloc(32);
}

/* A capture is one thread's: librdkafka's threads allocate as before. */
static void test_thread(void **state)
{
        pthread_t t;
        void *p;

        (void)state;
        keymem_capture(1);
        assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
        assert_int_equal(pthread_join(t, &p), 0);
        keymem_capture(0);
        assert_non_null(p);
        assert_false(keymem_owns(p));
        OPENSSL_free(p);
}

/* Key 1 lives while key 2 is made, then goes: the halves alternate. */
static void test_halves(void **state)
{
        unsigned char *k1, *k2, *k3;

        (void)state;
        keymem_capture(1);
        k1 = OPENSSL_malloc(100);
        keymem_capture(0);
        keymem_capture(1);
        k2 = OPENSSL_malloc(100);
        keymem_capture(0);
        assert_true(keymem_owns(k1));
        assert_true(keymem_owns(k2));
        assert_int_equal(k2 - k1, KEYMEM_HALF); /* the other half */
        OPENSSL_free(k1);
        keymem_capture(1);
        k3 = OPENSSL_malloc(100);
        keymem_capture(0);
        assert_ptr_equal(k3, k1); /* k1's half, empty, from its bottom */
        OPENSSL_free(k2);
        OPENSSL_free(k3);
        assert_int_equal(live_blocks(), 0);
}

static void test_realloc_and_spill(void **state)
{
        struct keymem_stats before, after;
        unsigned char *p, *big;

        (void)state;
        keymem_capture(1);
        p = OPENSSL_malloc(16);
        memcpy(p, "0123456789abcdef", 16);
        p = OPENSSL_realloc(p, 4000); /* grows: a new block of the arena */
        keymem_stats(&before);
        big = OPENSSL_malloc(2 * KEYMEM_HALF); /* no room: malloc() */
        keymem_stats(&after);
        keymem_capture(0);
        assert_true(keymem_owns(p));
        assert_memory_equal(p, "0123456789abcdef", 16);
        assert_non_null(big);
        assert_false(keymem_owns(big));
        assert_int_equal(after.spilled, before.spilled + 1);
        OPENSSL_free(big);
        OPENSSL_free(p);
        assert_int_equal(live_blocks(), 0);
}

/* HMAC-SHA256 keyed under a capture: ready first, as anonymize.c does. */
static EVP_MAC_CTX *keyed(EVP_MAC *mac, const unsigned char *key,
                          size_t len)
{
        OSSL_PARAM p[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);

        assert_non_null(ctx);
        assert_int_equal(EVP_MAC_init(ctx, key, len, p), 1);
        return ctx;
}

static void test_hmac(void **state)
{
        static const unsigned char zeros[32];
        unsigned char key[32], mac1[32], mac2[32];
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx;
        size_t n;

        (void)state;
        assert_non_null(mac);
        EVP_MAC_CTX_free(keyed(mac, zeros, sizeof(zeros)));
        memset(key, 0x5c, sizeof(key));
        keymem_capture(1);
        ctx = keyed(mac, key, sizeof(key));
        keymem_capture(0);
        assert_true(live_blocks() > 0);
        assert_int_equal(EVP_MAC_update(ctx, (const unsigned char *)"x", 1),
                         1);
        assert_int_equal(EVP_MAC_final(ctx, mac1, &n, sizeof(mac1)), 1);
        EVP_MAC_CTX_free(ctx);
        assert_int_equal(live_blocks(), 0);
        /* the same answer as a context of the heap */
        ctx = keyed(mac, key, sizeof(key));
        assert_int_equal(EVP_MAC_update(ctx, (const unsigned char *)"x", 1),
                         1);
        assert_int_equal(EVP_MAC_final(ctx, mac2, &n, sizeof(mac2)), 1);
        assert_memory_equal(mac1, mac2, sizeof(mac1));
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_capture),
                cmocka_unit_test(test_thread),
                cmocka_unit_test(test_halves),
                cmocka_unit_test(test_realloc_and_spill),
                cmocka_unit_test(test_hmac),
        };
        enum keymem_state st = keymem_init(); /* before OpenSSL allocates */

        if (st != KEYMEM_ON && st != KEYMEM_UNLOCKED) {
                fprintf(stderr, "keymem_init: %s\n", keymem_notice(st));
                return 1;
        }
        assert_int_equal(keymem_init(), st); /* once */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
