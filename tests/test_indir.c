/*
 * test_indir.c: the directory input: the completeness check of a file's
 * last line, the order files are taken in, the offset file's round trip
 * and what a spoilt one costs.  Files in a directory of mkdtemp(3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "indir.h"

#define OPEN_ "{\"event_type\": \"purge_init\", \"writer_id\": \"out/1\"}\n"
#define REC "{\"event_type\": \"purge\", \"ip_src\": \"10.0.0.1\", " \
            "\"packets\": 1, \"bytes\": 60}\n"
#define CLOSE_ "{\"event_type\": \"purge_close\", \"writer_id\": " \
               "\"out/1\", \"purged_entries\": 1, \"total_entries\": 1, " \
               "\"duration\": 0}\n"

/* Far enough from every mtime: nothing is stale, or everything is. */
#define NOW_FRESH 0
#define NOW_LATE  (INT64_MAX / 2)

static char said[8192]; /* what the module said, lines joined */

static void log_cb(void *opaque, int level, const char *text)
{
        (void)opaque;
        (void)level;
        strncat(said, text, sizeof(said) - strlen(said) - 2);
        strcat(said, "\n");
}

static const struct indir_cb cb = { .log = log_cb };

static enum indir_tail tail(const char *s, int whole)
{
        return indir_tail_check(s, strlen(s), whole);
}

static void test_tail_marker(void **state)
{
        (void)state;
        assert_int_equal(tail(OPEN_ REC CLOSE_, 1), TAIL_CLOSED);
        /* compact separators, and a CR before the newline */
        assert_int_equal(tail(REC "{\"event_type\":\"purge_close\"}\n", 1),
                         TAIL_CLOSED);
        assert_int_equal(tail(REC "{\"event_type\": \"purge_close\"}\r\n",
                              1), TAIL_CLOSED);
        /* the marker alone is the whole file: an empty purge */
        assert_int_equal(tail(CLOSE_, 1), TAIL_CLOSED);
}

static void test_tail_not_complete(void **state)
{
        (void)state;
        assert_int_equal(tail("", 1), TAIL_OPEN);
        assert_int_equal(tail(OPEN_ REC, 1), TAIL_OPEN);
        assert_int_equal(tail(OPEN_, 1), TAIL_OPEN);
        /* the marker being written: no newline yet */
        assert_int_equal(indir_tail_check(CLOSE_, strlen(CLOSE_) - 1, 1),
                         TAIL_OPEN);
        /* a partial line after it: the next purge appended */
        assert_int_equal(tail(CLOSE_ "{\"event_ty", 1), TAIL_OPEN);
        /* a blank line last */
        assert_int_equal(tail(CLOSE_ "\n", 1), TAIL_OPEN);
        /* purge_close in a value is no marker */
        assert_int_equal(tail("{\"label\": \"\\\"event_type\\\": "
                              "\\\"purge_close\\\"\"}\n", 1), TAIL_OPEN);
        assert_int_equal(tail("{\"event_type\": \"purge\", \"label\": "
                              "\"purge_close\"}\n", 1), TAIL_OPEN);
}

/* The tail starts inside the last line: it is longer than a marker. */
static void test_tail_window(void **state)
{
        (void)state;
        assert_int_equal(tail(CLOSE_, 0), TAIL_OPEN);
        assert_int_equal(tail("rd\"}\n" CLOSE_, 0), TAIL_CLOSED);
}

static void test_offset_parse(void **state)
{
        static const char *const bad[] = {
                "", "12 3 a.json", "12 a.json\n", "x 3 a.json\n",
                "12 3 \n", "12 3 .hidden\n", "12 3 a/b\n", "-1 3 a\n",
                "99999999999999999999 3 a\n", "12 3 a\nb\n",
        };
        uint64_t off, line;
        char *name = NULL;
        size_t i;

        (void)state;
        assert_int_equal(indir_offset_parse("12 3 a b.json\n", 14, &name,
                                            &off, &line), 0);
        assert_string_equal(name, "a b.json");
        assert_int_equal(off, 12);
        assert_int_equal(line, 3);
        free(name);
        for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                name = NULL;
                assert_int_equal(indir_offset_parse(bad[i], strlen(bad[i]),
                                                    &name, &off, &line), -1);
                assert_null(name);
        }
}

/* --- with a directory ----------------------------------------------------- */

static char dir[64];

static int dir_setup(void **state)
{
        (void)state;
        strcpy(dir, "/tmp/test_indir.XXXXXX");
        said[0] = '\0';
        return mkdtemp(dir) == NULL ? -1 : 0;
}

static int dir_teardown(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
        char path[256];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_non_null(fp = fopen(path, "w"));
        assert_int_equal(fputs(text, fp) >= 0, 1);
        assert_int_equal(fclose(fp), 0);
}

static int exists(const char *name)
{
        char path[256];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return access(path, F_OK) == 0;
}

static struct indir *open_dir(long long quiet_ms)
{
        char err[256];
        struct indir *d = indir_open(dir, quiet_ms, 0, &cb, err,
                                     sizeof(err));

        assert_non_null(d);
        return d;
}

/* Takes the next file, which must be name, and removes it. */
static void take_done(struct indir *d, int64_t now, const char *name)
{
        assert_int_equal(indir_next(d, now), INDIR_TAKEN);
        assert_string_equal(indir_name(d), name);
        assert_int_equal(indir_done(d), 0);
        assert_false(exists(name));
}

static void test_order(void **state)
{
        struct indir *d;
        char sub[128];

        (void)state;
        put("20261201-1002.json", OPEN_ REC CLOSE_);
        put("20261201-1000.json", OPEN_ REC CLOSE_);
        put("20261201-1001.json", OPEN_ REC CLOSE_);
        put(".hidden.json", OPEN_ REC CLOSE_);
        snprintf(sub, sizeof(sub), "%s/0-a-directory", dir);
        assert_int_equal(mkdir(sub, 0755), 0);
        d = open_dir(60000);
        take_done(d, NOW_FRESH, "20261201-1000.json");
        take_done(d, NOW_FRESH, "20261201-1001.json");
        take_done(d, NOW_FRESH, "20261201-1002.json");
        assert_int_equal(indir_next(d, NOW_LATE), INDIR_NONE);
        assert_true(exists(".hidden.json"));
        indir_close(d);
}

/* A first file still written holds the later ones back, until stale. */
static void test_incomplete_holds_back(void **state)
{
        struct indir_counts n;
        struct indir *d;

        (void)state;
        put("a.json", OPEN_ REC);
        put("b.json", OPEN_ REC CLOSE_);
        d = open_dir(60000);
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_NONE);
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_NONE);
        assert_non_null(strstr(said, "waiting for a.json"));
        assert_int_equal(indir_next(d, NOW_LATE), INDIR_TAKEN);
        assert_string_equal(indir_name(d), "a.json");
        assert_non_null(strstr(said, "a.json has no purge_close"));
        assert_int_equal(indir_done(d), 0);
        take_done(d, NOW_FRESH, "b.json");
        indir_counts(d, &n);
        assert_int_equal(n.files, 2);
        assert_int_equal(n.stale, 1);
        indir_close(d);
}

/* An empty file (created, nothing written yet) is not complete. */
static void test_empty_file(void **state)
{
        struct indir *d;

        (void)state;
        put("a.json", "");
        d = open_dir(60000);
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_NONE);
        take_done(d, NOW_LATE, "a.json");
        indir_close(d);
}

/* 16 MB of records: only the tail is read to judge it. */
static void test_huge_file(void **state)
{
        char path[256];
        struct indir *d;
        FILE *fp;
        int i;

        (void)state;
        snprintf(path, sizeof(path), "%s/big.json", dir);
        assert_non_null(fp = fopen(path, "w"));
        fputs(OPEN_, fp);
        for (i = 0; i < 200000; i++)
                fputs(REC, fp);
        fputs(CLOSE_, fp);
        assert_int_equal(fclose(fp), 0);
        d = open_dir(60000);
        take_done(d, NOW_FRESH, "big.json");
        indir_close(d);
}

static void read_offset_file(char *buf, size_t len)
{
        char path[256];
        FILE *fp;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, INDIR_OFFSET_NAME);
        assert_non_null(fp = fopen(path, "r"));
        n = fread(buf, 1, len - 1, fp);
        buf[n] = '\0';
        fclose(fp);
}

/* Stopped after the first record: the next run resumes at the second. */
static void test_offset_round_trip(void **state)
{
        const size_t first = strlen(OPEN_ REC);
        struct indir *d;
        char text[256], want[256];

        (void)state;
        put("a.json", OPEN_ REC REC CLOSE_);
        d = open_dir(60000);
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_TAKEN);
        assert_int_equal(indir_first_line(d), 0);
        /* all read, the last two lines still held by the reader */
        indir_read(d, strlen(OPEN_ REC REC CLOSE_));
        assert_int_equal(indir_save(d, strlen(REC CLOSE_), 2), 0);
        indir_close(d);
        read_offset_file(text, sizeof(text));
        snprintf(want, sizeof(want), "%zu 2 a.json\n", first);
        assert_string_equal(text, want);

        d = open_dir(60000);
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_TAKEN);
        assert_int_equal(lseek(indir_fd(d), 0, SEEK_CUR), (off_t)first);
        assert_int_equal(indir_first_line(d), 2);
        assert_int_equal(indir_done(d), 0);
        assert_false(exists(INDIR_OFFSET_NAME));
        indir_close(d);
}

/* A spoilt offset file is said and removed: its file is read again. */
static void test_offset_corrupt(void **state)
{
        struct indir *d;

        (void)state;
        put("a.json", OPEN_ REC CLOSE_);
        put(INDIR_OFFSET_NAME, "garbage\n");
        d = open_dir(60000);
        assert_non_null(strstr(said, "is not an offset file"));
        assert_false(exists(INDIR_OFFSET_NAME));
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_TAKEN);
        assert_int_equal(lseek(indir_fd(d), 0, SEEK_CUR), 0);
        indir_close(d);
}

/* An offset inside a line, or past the end: from the start. */
static void test_offset_not_a_line_end(void **state)
{
        struct indir *d;

        (void)state;
        put("a.json", OPEN_ REC CLOSE_);
        put(INDIR_OFFSET_NAME, "5 1 a.json\n");
        d = open_dir(60000);
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_TAKEN);
        assert_int_equal(lseek(indir_fd(d), 0, SEEK_CUR), 0);
        assert_int_equal(indir_first_line(d), 0);
        assert_non_null(strstr(said, "is not the end of a line"));
        indir_close(d);
        put(INDIR_OFFSET_NAME, "999999 1 a.json\n");
        d = open_dir(60000);
        assert_int_equal(indir_next(d, NOW_FRESH), INDIR_TAKEN);
        assert_int_equal(lseek(indir_fd(d), 0, SEEK_CUR), 0);
        indir_close(d);
}

static void test_open_errors(void **state)
{
        char err[256], path[256];

        (void)state;
        assert_null(indir_open("/nonexistent/dir", 1, 0, &cb, err, sizeof(err)));
        assert_non_null(strstr(err, "No such file"));
        put("f", "x");
        snprintf(path, sizeof(path), "%s/f", dir);
        assert_null(indir_open(path, 1, 0, &cb, err, sizeof(err)));
        assert_non_null(strstr(err, "Not a directory"));
}

/* mtime of a file in the directory, in ms of the wall clock */
static int64_t mtime_ms(const char *name)
{
        char path[256];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(stat(path, &st), 0);
        return (int64_t)st.st_mtim.tv_sec * 1000 +
               st.st_mtim.tv_nsec / 1000000;
}

/* A complete file is taken only once not modified for settle_ms: a
 * writer of the same second could still append to it. */
static void test_settle(void **state)
{
        char err[256];
        struct indir *d;
        int64_t m;

        (void)state;
        put("a.json", OPEN_ REC CLOSE_);
        m = mtime_ms("a.json");
        d = indir_open(dir, 60000, 2000, &cb, err, sizeof(err));
        assert_non_null(d);
        assert_int_equal(indir_next(d, m), INDIR_SOON);
        assert_int_equal(indir_next(d, m + 1999), INDIR_SOON);
        assert_int_equal(indir_next(d, m + 2000), INDIR_TAKEN);
        assert_string_equal(indir_name(d), "a.json");
        assert_int_equal(indir_done(d), 0);
        indir_close(d);
}

/* pmacct's writer holds lockf() on a file while it writes it: such a
 * file is not taken, complete, settled or stale. */
static void test_locked(void **state)
{
        char path[256], c;
        int go[2], done[2], fd, status;
        struct indir *d;
        pid_t pid;

        (void)state;
        put("a.json", OPEN_ REC CLOSE_);
        snprintf(path, sizeof(path), "%s/a.json", dir);
        assert_int_equal(pipe(go), 0);
        assert_int_equal(pipe(done), 0);
        /* a lock of this process would not show: the writer is a child */
        if ((pid = fork()) == 0) {
                /* ends when told, or when the test process is gone */
                close(go[0]);
                close(done[1]);
                fd = open(path, O_WRONLY | O_APPEND);
                if (fd == -1 || lockf(fd, F_LOCK, 0) == -1)
                        _exit(1);
                (void)!write(go[1], "x", 1);
                (void)!read(done[0], &c, 1);
                _exit(0);
        }
        assert_true(pid > 0);
        assert_int_equal(read(go[0], &c, 1), 1);
        d = open_dir(60000);
        assert_int_equal(indir_next(d, NOW_LATE), INDIR_NONE);
        assert_non_null(strstr(said, "waiting for a.json"));
        assert_int_equal(write(done[1], "x", 1), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        take_done(d, NOW_LATE, "a.json");
        indir_close(d);
        close(go[0]), close(go[1]), close(done[0]), close(done[1]);
}

#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tail_marker),
                cmocka_unit_test(test_tail_not_complete),
                cmocka_unit_test(test_tail_window),
                cmocka_unit_test(test_offset_parse),
                DIR_TEST(test_order),
                DIR_TEST(test_incomplete_holds_back),
                DIR_TEST(test_empty_file),
                DIR_TEST(test_huge_file),
                DIR_TEST(test_offset_round_trip),
                DIR_TEST(test_offset_corrupt),
                DIR_TEST(test_offset_not_a_line_end),
                DIR_TEST(test_open_errors),
                DIR_TEST(test_settle),
                DIR_TEST(test_locked),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
