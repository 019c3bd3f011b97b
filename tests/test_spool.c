/*
 * tests/test_spool.c: the disk spool (spool.c): frames in order across
 * segments and runs, done frames never again, a torn end cut and counted,
 * a spoilt frame skipped and counted, the size bound, the lock, a disk
 * that refuses writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

static char dir[256];
static char err[512];

static int make_dir(void **state)
{
        const char *tmp = getenv("TMPDIR");

        (void)state;
        snprintf(dir, sizeof(dir), "%s/test_spool.XXXXXX",
                 tmp != NULL && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int remove_dir(void **state)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        char path[512];

        (void)state;
        while (d != NULL && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                unlink(path);
        }
        if (d != NULL)
                closedir(d);
        rmdir(dir);
        return 0;
}

static struct spool *open_spool(uint64_t max, uint64_t seg,
                                struct spool_found *f)
{
        struct spool_opts o = { dir, max, seg, SPOOL_SYNC_NEVER };
        struct spool *s = spool_open(&o, f, err, sizeof(err));

        if (s == NULL)
                fail_msg("spool_open: %s", err);
        return s;
}

/* Record i: its value says i, every other field too. */
static void rec_of(int i, struct spool_rec *r, char *value, size_t len)
{
        static char raw[64], key[32];

        memset(r, 0, sizeof(*r));
        snprintf(value, len, "{\"n\": %d, \"pad\": \"%0*d\"}", i, i % 97, 0);
        snprintf(raw, sizeof(raw), "line %d", i);
        snprintf(key, sizeof(key), "k%d", i);
        r->kind = i % 2;
        r->timestamp_ms = 1795422800000LL + i;
        r->line_no = (uint64_t)i + 1;
        r->topic = i % 3 ? "netflow" : "eqiad.netflow";
        r->topic_len = strlen(r->topic);
        r->key = i % 5 ? key : NULL;
        r->key_len = i % 5 ? strlen(key) : 0;
        r->value = value;
        r->value_len = strlen(value);
        r->raw = i % 4 ? raw : NULL;
        r->raw_len = i % 4 ? strlen(raw) : 0;
}

static void append(struct spool *s, int i, struct spool_id *id)
{
        struct spool_rec r;
        char value[256];
        struct spool_id dummy;

        rec_of(i, &r, value, sizeof(value));
        if (spool_append(s, &r, 1000 + i, 0, id ? id : &dummy, err,
                         sizeof(err)) != SPOOL_OK)
                fail_msg("append %d: %s", i, err);
}

/* The next frame is record i, every field. */
static void expect_next(struct spool *s, int i, struct spool_id *id)
{
        struct spool_rec want, got;
        char value[256];

        rec_of(i, &want, value, sizeof(value));
        if (spool_next(s, &got, id, err, sizeof(err)) != 1)
                fail_msg("record %d: none (%s)", i, err);
        assert_int_equal(got.kind, want.kind);
        assert_int_equal(got.timestamp_ms, want.timestamp_ms);
        assert_int_equal(got.line_no, want.line_no);
        assert_int_equal(got.spooled_ms, 1000 + i);
        assert_int_equal(got.topic_len, want.topic_len);
        assert_memory_equal(got.topic, want.topic, want.topic_len);
        assert_int_equal(got.value_len, want.value_len);
        assert_memory_equal(got.value, want.value, want.value_len);
        assert_int_equal(got.key == NULL, want.key == NULL);
        if (want.key != NULL)
                assert_memory_equal(got.key, want.key, want.key_len);
        assert_int_equal(got.raw == NULL, want.raw == NULL);
        if (want.raw != NULL)
                assert_memory_equal(got.raw, want.raw, want.raw_len);
}

static void expect_none(struct spool *s)
{
        struct spool_rec r;
        struct spool_id id;

        assert_int_equal(spool_next(s, &r, &id, err, sizeof(err)), 0);
        assert_int_equal(spool_pending(s), 0);
}

static void done(struct spool *s, struct spool_id id)
{
        if (spool_done(s, id, err, sizeof(err)) == -1)
                fail_msg("done: %s", err);
}

/* Files of the spool directory with this ending. */
static int count_files(const char *ending)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        while (d != NULL && (e = readdir(d)) != NULL) {
                size_t l = strlen(e->d_name), k = strlen(ending);

                n += l >= k && strcmp(e->d_name + l - k, ending) == 0;
        }
        if (d != NULL)
                closedir(d);
        return n;
}

/* Path of the n-th segment file (oldest first, from 0). */
static void seg_file(int n, char *path, size_t len)
{
        snprintf(path, len, "%s/%020d.seg", dir, n + 1);
}

/* In order, across segments and across runs; done frames go, and so do
 * their segments. */
static void test_order_across_runs(void **state)
{
        struct spool_found f;
        struct spool_id id[300];
        struct spool *s = open_spool(0, 4096, &f);
        int i;

        (void)state;
        assert_int_equal(f.frames, 0);
        for (i = 0; i < 300; i++)
                append(s, i, NULL);
        assert_true(count_files(".seg") > 5);
        for (i = 0; i < 100; i++)
                expect_next(s, i, &id[i]);
        for (i = 0; i < 100; i++)
                done(s, id[i]);
        spool_close(s);

        /* the next run: the 200 not done, none of the 100 done */
        s = open_spool(0, 4096, &f);
        assert_int_equal(f.frames, 200);
        assert_int_equal(f.torn + f.corrupt, 0);
        for (i = 100; i < 300; i++)
                expect_next(s, i, &id[i]);
        expect_none(s);
        for (i = 299; i >= 100; i--) /* in any order */
                done(s, id[i]);
        spool_close(s);
        assert_int_equal(count_files(".seg"), 0);
        assert_int_equal(count_files(".ack"), 0);
}

/* A frame handed out but not done is sent again by the next run: the
 * duplicate of an event in flight at a crash. */
static void test_not_done_again(void **state)
{
        struct spool_found f;
        struct spool_id id;
        struct spool *s = open_spool(0, 1 << 20, &f);
        struct spool_stats st;

        (void)state;
        append(s, 1, NULL);
        append(s, 2, NULL);
        expect_next(s, 1, &id);
        done(s, id);
        expect_next(s, 2, &id);
        spool_stats(s, &st);
        assert_int_equal(st.frames, 1);
        assert_int_equal(st.pending, 0);
        assert_int_equal(st.appended, 2);
        assert_int_equal(st.replayed, 2);
        assert_int_equal(st.oldest_ms, 1001);
        spool_close(s);
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.frames, 1);
        expect_next(s, 2, &id);
        expect_none(s);
        done(s, id);
        spool_stats(s, &st);
        assert_int_equal(st.frames, 0);
        assert_int_equal(st.oldest_ms, 0);
        spool_close(s);
}

/* Frames given back (the broker went away) are handed out again before
 * the later ones, oldest first, across segments; the taken frames of
 * write-ahead wait behind them. */
static void test_given_back(void **state)
{
        struct spool_found f;
        struct spool_id id[5], got;
        struct spool *s = open_spool(0, 1, &f); /* a segment a frame */
        struct spool_stats st;
        int i;

        (void)state;
        for (i = 1; i <= 4; i++)
                append(s, i, NULL);
        for (i = 1; i <= 3; i++)
                expect_next(s, i, &id[i]);
        assert_int_equal(spool_again(s, id[3], err, sizeof(err)), 0);
        assert_int_equal(spool_again(s, id[1], err, sizeof(err)), 0);
        spool_stats(s, &st);
        assert_int_equal(st.pending, 3);
        assert_int_equal(spool_append(s, &(struct spool_rec){ .topic = "t",
                         .topic_len = 1, .value = "x", .value_len = 1 },
                         9, 1, &got, err, sizeof(err)), SPOOL_ERROR);
        expect_next(s, 1, &got);
        assert_int_equal(got.seg, id[1].seg);
        assert_int_equal(got.off, id[1].off);
        spool_stats(s, &st);
        assert_int_equal(st.replayed, 3); /* not counted twice */
        done(s, got);
        expect_next(s, 3, &got);
        done(s, got);
        done(s, id[2]);
        expect_next(s, 4, &got);
        done(s, got);
        expect_none(s);
        spool_stats(s, &st);
        assert_int_equal(st.frames, 0);
        spool_close(s);
}

/* A frame cut short at the end (a crash mid-write): counted, cut off,
 * the others sent; the next run finds nothing wrong. */
static void test_torn_end(void **state)
{
        struct spool_found f;
        struct spool_id id;
        struct spool *s = open_spool(0, 1 << 20, &f);
        char path[512];
        struct stat st;

        (void)state;
        append(s, 1, NULL);
        append(s, 2, NULL);
        append(s, 3, NULL);
        spool_close(s);
        seg_file(0, path, sizeof(path));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(truncate(path, st.st_size - 5), 0);
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.torn, 1);
        assert_int_equal(f.frames, 2);
        assert_true(f.lost_bytes > 5);
        expect_next(s, 1, &id);
        expect_next(s, 2, &id);
        expect_none(s);
        append(s, 4, NULL);
        spool_close(s);
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.torn + f.corrupt, 0);
        assert_int_equal(f.frames, 3);
        expect_next(s, 1, &id);
        expect_next(s, 2, &id);
        expect_next(s, 4, &id);
        spool_close(s);
}

/* Flips a byte at offset at of the first segment. */
static void spoil(long at)
{
        char path[512], c;
        int fd;

        seg_file(0, path, sizeof(path));
        assert_true((fd = open(path, O_RDWR)) >= 0);
        assert_int_equal(pread(fd, &c, 1, at), 1);
        c ^= 0x20;
        assert_int_equal(pwrite(fd, &c, 1, at), 1);
        close(fd);
}

/* A spoilt frame in the middle, its payload or its head: counted and
 * skipped, the frames after it sent. */
static void test_spoilt_frames(void **state)
{
        struct spool_found f;
        struct spool_id id[5];
        struct spool *s = open_spool(0, 1 << 20, &f);

        (void)state;
        for (int i = 0; i < 5; i++)
                append(s, i, &id[i]);
        spool_close(s);
        spoil((long)id[1].off + 40);  /* frame 1's payload */
        spoil((long)id[3].off);       /* frame 3's magic */
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.corrupt, 2);
        assert_int_equal(f.frames, 3);
        assert_int_equal(f.lost_bytes, (id[2].off - id[1].off) +
                                        (id[4].off - id[3].off));
        expect_next(s, 0, &id[0]);
        expect_next(s, 2, &id[2]);
        expect_next(s, 4, &id[4]);
        expect_none(s);
        spool_close(s);
}

/* Spoilt after it was written and before it is sent: skipped, counted,
 * done. */
static void test_spoilt_while_spooled(void **state)
{
        struct spool_found f;
        struct spool_id id[3];
        struct spool_stats st;
        struct spool *s = open_spool(0, 1 << 20, &f);

        (void)state;
        for (int i = 0; i < 3; i++)
                append(s, i, &id[i]);
        spoil((long)id[1].off + 50);
        expect_next(s, 0, &id[0]);
        expect_next(s, 2, &id[2]);
        expect_none(s);
        spool_stats(s, &st);
        assert_int_equal(st.corrupt, 1);
        assert_int_equal(st.frames, 2);
        spool_close(s);
}

/* The size bound: full means nothing written; room again once whole
 * segments are done. */
static void test_full(void **state)
{
        struct spool_found f;
        struct spool_id id[64];
        struct spool_rec r;
        char value[256];
        struct spool *s = open_spool(2000, 700, &f);
        int i, n = 0;

        (void)state;
        rec_of(0, &r, value, sizeof(value));
        for (i = 0; i < 64; i++) {
                enum spool_result res = spool_append(s, &r, 1, 0, &id[i],
                                                     err, sizeof(err));
                if (res == SPOOL_FULL)
                        break;
                assert_int_equal(res, SPOOL_OK);
                n++;
        }
        assert_true(n > 10 && n < 64);
        for (i = 0; i < 10; i++) { /* the first segment and more */
                assert_int_equal(spool_next(s, &r, &id[i], err,
                                            sizeof(err)), 1);
                done(s, id[i]);
        }
        rec_of(0, &r, value, sizeof(value));
        assert_int_equal(spool_append(s, &r, 1, 0, &id[63], err,
                                      sizeof(err)), SPOOL_OK);
        spool_close(s);
}

/* One process a directory. */
static void test_lock(void **state)
{
        struct spool_found f;
        struct spool_opts o = { dir, 0, 1 << 20, SPOOL_SYNC_NEVER };
        struct spool *s = open_spool(0, 1 << 20, &f);
        char want[64];

        (void)state;
        assert_null(spool_open(&o, &f, err, sizeof(err)));
        snprintf(want, sizeof(want), "in use by another kafkatee-pipe "
                 "(pid %ld)", (long)getpid());
        if (strstr(err, want) == NULL)
                fail_msg("%s", err);
        spool_close(s);
        s = open_spool(0, 1 << 20, &f);
        spool_close(s);
}

/* A frame the caller sends itself (a write-ahead copy) is not handed out;
 * taking one while others wait would change the order. */
static void test_taken(void **state)
{
        struct spool_found f;
        struct spool_id id, got;
        struct spool_rec r;
        char value[256];
        struct spool *s = open_spool(0, 1 << 20, &f);

        (void)state;
        rec_of(1, &r, value, sizeof(value));
        assert_int_equal(spool_append(s, &r, 1001, 1, &id, err, sizeof(err)),
                         SPOOL_OK);
        expect_none(s);
        append(s, 2, NULL);
        rec_of(3, &r, value, sizeof(value));
        assert_int_equal(spool_append(s, &r, 1003, 1, &got, err,
                                      sizeof(err)), SPOOL_ERROR);
        expect_next(s, 2, &got);
        done(s, id);
        done(s, got);
        spool_close(s);
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.frames, 0);
        spool_close(s);
}

/* File size in bytes, or -1. */
static long file_size(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/*
 * Write-ahead frames buffered: nothing on disk until spool_flush(), then
 * every frame in one write; a closed segment or a full buffer says
 * SPOOL_FLUSH first; a plain append with frames buffered is refused.
 * Done marks are held until a flush.
 */
static void test_buffered(void **state)
{
        struct spool_found f;
        struct spool_id id[4];
        struct spool_rec r;
        char value[256], seg[512], ack[512];
        struct spool *s = open_spool(0, 1 << 20, &f);
        int i;

        (void)state;
        seg_file(0, seg, sizeof(seg));
        snprintf(ack, sizeof(ack), "%s/%020d.ack", dir, 1);
        for (i = 1; i <= 3; i++) {
                rec_of(i, &r, value, sizeof(value));
                assert_int_equal(spool_append_later(s, &r, 1000 + i, &id[i],
                                                    err, sizeof(err)),
                                 SPOOL_OK);
        }
        assert_int_equal(file_size(seg), 0);
        expect_none(s); /* taken: the caller sent them */
        rec_of(4, &r, value, sizeof(value));
        assert_int_equal(spool_append(s, &r, 1004, 0, &id[0], err,
                                      sizeof(err)), SPOOL_ERROR);
        assert_int_equal(spool_flush(s, err, sizeof(err)), SPOOL_OK);
        assert_true(file_size(seg) > 0);
        done(s, id[2]);
        assert_int_equal(file_size(ack), 0);
        assert_int_equal(spool_flush(s, err, sizeof(err)), SPOOL_OK);
        assert_int_equal(file_size(ack), 4);
        spool_close(s);
        /* the next run sends the two not done, in order */
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.frames, 2);
        expect_next(s, 1, &id[0]);
        expect_next(s, 3, &id[0]);
        spool_close(s);
}

/* The buffer holds one segment: when its segment closes, flush first. */
static void test_buffered_segment(void **state)
{
        struct spool_found f;
        struct spool_id id;
        struct spool_rec r;
        char value[256];
        struct spool *s = open_spool(0, 1, &f); /* a segment a frame */

        (void)state;
        rec_of(1, &r, value, sizeof(value));
        assert_int_equal(spool_append_later(s, &r, 1, &id, err,
                                            sizeof(err)), SPOOL_OK);
        assert_int_equal(spool_append_later(s, &r, 2, &id, err,
                                            sizeof(err)), SPOOL_FLUSH);
        assert_int_equal(spool_flush(s, err, sizeof(err)), SPOOL_OK);
        assert_int_equal(spool_append_later(s, &r, 2, &id, err,
                                            sizeof(err)), SPOOL_OK);
        assert_int_equal(spool_flush(s, err, sizeof(err)), SPOOL_OK);
        assert_int_equal(count_files(".seg"), 2);
        spool_close(s);
        s = open_spool(0, 1, &f);
        assert_int_equal(f.frames, 2);
        spool_close(s);
}

/* A buffer the disk refuses: none of its frames stay (no torn frame for
 * the next run), the earlier ones do, and the next frame goes on. */
static void test_buffered_refused(void **state)
{
        struct spool_found f;
        struct spool *s = open_spool(0, 1 << 20, &f);
        struct rlimit old, lim;
        struct spool_stats st;
        struct spool_rec r;
        struct spool_id id;
        char value[256];
        int i;

        (void)state;
        append(s, 1, NULL);
        expect_next(s, 1, &id); /* sent, not done */
        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = 1000;
        rec_of(2, &r, value, sizeof(value));
        for (i = 0; i < 10; i++)
                assert_int_equal(spool_append_later(s, &r, 2, &id, err,
                                                    sizeof(err)), SPOOL_OK);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        assert_int_equal(spool_flush(s, err, sizeof(err)), SPOOL_NOSPACE);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        spool_stats(s, &st);
        assert_int_equal(st.appended, 1);
        assert_int_equal(st.frames, 1);
        assert_int_equal(spool_append_later(s, &r, 3, &id, err,
                                            sizeof(err)), SPOOL_OK);
        assert_int_equal(spool_flush(s, err, sizeof(err)), SPOOL_OK);
        spool_close(s);
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.torn + f.corrupt, 0);
        assert_int_equal(f.frames, 2);
        expect_next(s, 1, &id);
        spool_close(s);
}

/* A disk that refuses a write (the file size limit): nothing kept of the
 * frame, no torn frame for the next run, and a clear result. */
static void test_disk_refuses(void **state)
{
        struct spool_found f;
        struct spool_opts o = { dir, 0, 1 << 20, SPOOL_SYNC_ALWAYS };
        struct spool *s = spool_open(&o, &f, err, sizeof(err));
        struct rlimit old, lim;
        struct spool_rec r;
        struct spool_id id;
        char value[256];
        enum spool_result res = SPOOL_OK;
        int i;

        (void)state;
        assert_non_null(s);
        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        lim = old;
        lim.rlim_cur = 1000;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        rec_of(7, &r, value, sizeof(value));
        for (i = 0; i < 100 && res == SPOOL_OK; i++)
                res = spool_append(s, &r, 1, 0, &id, err, sizeof(err));
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        assert_int_equal(res, SPOOL_NOSPACE);
        if (strstr(err, "too large") == NULL)
                fail_msg("%s", err);
        /* the refused file is closed: the next frame starts another */
        assert_int_equal(spool_append(s, &r, 1, 0, &id, err, sizeof(err)),
                         SPOOL_OK);
        assert_int_equal(count_files(".seg"), 2);
        spool_close(s);
        s = open_spool(0, 1 << 20, &f);
        assert_int_equal(f.torn + f.corrupt, 0);
        assert_int_equal(f.frames, (uint64_t)i);
        spool_close(s);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_order_across_runs,
                                                make_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_not_done_again,
                                                make_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_given_back, make_dir,
                                                remove_dir),
                cmocka_unit_test_setup_teardown(test_buffered, make_dir,
                                                remove_dir),
                cmocka_unit_test_setup_teardown(test_buffered_segment,
                                                make_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_buffered_refused,
                                                make_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_torn_end, make_dir,
                                                remove_dir),
                cmocka_unit_test_setup_teardown(test_spoilt_frames,
                                                make_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_spoilt_while_spooled,
                                                make_dir, remove_dir),
                cmocka_unit_test_setup_teardown(test_full, make_dir,
                                                remove_dir),
                cmocka_unit_test_setup_teardown(test_lock, make_dir,
                                                remove_dir),
                cmocka_unit_test_setup_teardown(test_taken, make_dir,
                                                remove_dir),
                cmocka_unit_test_setup_teardown(test_disk_refuses,
                                                make_dir, remove_dir),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
