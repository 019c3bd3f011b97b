/*
 * indir.c: the directory input, see indir.h.
 *
 * The directory is scanned (readdir), not watched: a scan a second costs
 * one readdir of a directory pmacct adds a file to a minute, and works on
 * every file system.  Files are taken in strict name order: a first file
 * that is not complete yet holds the later ones back, so that records go
 * out in the order pmacct purged them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "indir.h"

#define OFFSET_TMP INDIR_OFFSET_NAME ".tmp"

struct indir {
        char           *dir;
        DIR            *dp;       /* the directory, rewound at each scan */
        int             dfd;      /* dirfd(dp) */
        long long       quiet_ms;
        long long       settle_ms;
        struct indir_cb cb;
        char           *name;     /* the file taken, or NULL */
        int             fd;
        uint64_t        start;    /* its offset when taken */
        uint64_t        first_line;
        uint64_t        got;      /* bytes read from it since */
        char           *resume;   /* the offset file's file, or NULL */
        uint64_t        resume_off, resume_line;
        char          **skip;     /* not taken again by this run */
        size_t          n_skip;
        char           *waiting;  /* the incomplete first file, said */
        struct indir_counts n;
};

static void say(const struct indir *d, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void say(const struct indir *d, int level, const char *fmt, ...)
{
        char text[1024];
        va_list ap;

        if (d->cb.log == NULL)
                return;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        d->cb.log(d->cb.opaque, level, text);
}

/* --- the last line ------------------------------------------------------- */

static const char *skip_space(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

/* {"event_type": "purge_close", ...}: pmacct's end of a purge. */
static int is_purge_close(const char *p, const char *end)
{
        static const char type[] = "\"event_type\"";
        static const char close[] = "\"purge_close\"";
        const char *q;

        p = skip_space(p, end);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        if (p == end || *p != '{' || end[-1] != '}')
                return 0;
        for (q = p; (q = memchr(q, '"', (size_t)(end - q))) != NULL; q++) {
                if ((size_t)(end - q) < sizeof(type) - 1 ||
                    memcmp(q, type, sizeof(type) - 1) != 0)
                        continue;
                q = skip_space(q + sizeof(type) - 1, end);
                if (q == end || *q != ':')
                        return 0;
                q = skip_space(q + 1, end);
                return (size_t)(end - q) >= sizeof(close) - 1 &&
                       memcmp(q, close, sizeof(close) - 1) == 0;
        }
        return 0;
}

enum indir_tail indir_tail_check(const char *buf, size_t len, int whole)
{
        const char *end, *p;

        if (len == 0 || buf[len - 1] != '\n')
                return TAIL_OPEN; /* empty, or a line being written */
        end = buf + len - 1;
        if (end > buf && end[-1] == '\r')
                end--;
        for (p = end; p > buf && p[-1] != '\n'; p--)
                ;
        /* a line longer than the tail is a record, never a marker */
        if (p == buf && !whole)
                return TAIL_OPEN;
        return is_purge_close(p, end) ? TAIL_CLOSED : TAIL_OPEN;
}

/* --- the offset file ----------------------------------------------------- */

static int parse_u64(const char **p, const char *end, uint64_t *v)
{
        uint64_t n = 0;
        const char *q = *p;

        if (q == end || *q < '0' || *q > '9')
                return -1;
        for (; q < end && *q >= '0' && *q <= '9'; q++) {
                if (n > (UINT64_MAX - 9) / 10)
                        return -1;
                n = n * 10 + (uint64_t)(*q - '0');
        }
        if (q == end || *q != ' ')
                return -1;
        *p = q + 1;
        *v = n;
        return 0;
}

int indir_offset_parse(const char *text, size_t len, char **name,
                       uint64_t *offset, uint64_t *line)
{
        const char *p = text, *end = text + len;
        size_t n;

        if (len == 0 || text[len - 1] != '\n')
                return -1;
        end--;
        if (parse_u64(&p, end, offset) == -1 ||
            parse_u64(&p, end, line) == -1)
                return -1;
        n = (size_t)(end - p);
        /* a name the scan would take: no '/', no newline, no dot first */
        if (n == 0 || *p == '.' || memchr(p, '/', n) != NULL ||
            memchr(p, '\n', n) != NULL || memchr(p, '\0', n) != NULL)
                return -1;
        if ((*name = strndup(p, n)) == NULL)
                return -1;
        return 0;
}

static void offset_remove(struct indir *d)
{
        if (unlinkat(d->dfd, INDIR_OFFSET_NAME, 0) == -1 && errno != ENOENT)
                say(d, 0, "input.dir: cannot remove %s/%s: %s", d->dir,
                    INDIR_OFFSET_NAME, strerror(errno));
        else
                (void)fsync(d->dfd);
        free(d->resume);
        d->resume = NULL;
}

/* What an earlier run stopped in: kept in d->resume. */
static void offset_load(struct indir *d)
{
        char text[8192];
        ssize_t got;
        int fd;

        if ((fd = openat(d->dfd, INDIR_OFFSET_NAME, O_RDONLY | O_CLOEXEC)) ==
            -1) {
                if (errno != ENOENT)
                        say(d, 0, "input.dir: cannot read %s/%s: %s", d->dir,
                            INDIR_OFFSET_NAME, strerror(errno));
                return;
        }
        got = read(fd, text, sizeof(text));
        close(fd);
        if (got < 0 || indir_offset_parse(text, (size_t)got, &d->resume,
                                          &d->resume_off,
                                          &d->resume_line) == -1) {
                say(d, 1, "input.dir: %s/%s is not an offset file: removed; "
                    "its file is read from the start (its records again)",
                    d->dir, INDIR_OFFSET_NAME);
                offset_remove(d);
                return;
        }
        say(d, 2, "input.dir: %s resumes at byte %" PRIu64 " (line %" PRIu64
            ")", d->resume, d->resume_off, d->resume_line);
}

/* --- opening and closing -------------------------------------------------- */

struct indir *indir_open(const char *dir, long long quiet_ms,
                         long long settle_ms, const struct indir_cb *cb,
                         char *err, size_t errlen)
{
        struct indir *d = calloc(1, sizeof(*d));
        struct stat st;

        if (d == NULL || (d->dir = strdup(dir)) == NULL) {
                snprintf(err, errlen, "out of memory");
                free(d);
                return NULL;
        }
        d->cb = *cb;
        d->quiet_ms = quiet_ms;
        d->settle_ms = settle_ms;
        d->fd = -1;
        if (stat(dir, &st) == -1 || (errno = ENOTDIR, !S_ISDIR(st.st_mode)) ||
            access(dir, R_OK | W_OK | X_OK) == -1 ||
            (d->dp = opendir(dir)) == NULL) {
                snprintf(err, errlen, "%s: %s%s", dir, strerror(errno),
                         errno == EACCES ? " (its files are read and "
                         "removed: it must be readable and writable)" : "");
                indir_close(d);
                return NULL;
        }
        d->dfd = dirfd(d->dp);
        offset_load(d);
        return d;
}

void indir_close(struct indir *d)
{
        size_t i;

        if (d == NULL)
                return;
        if (d->fd != -1)
                close(d->fd);
        if (d->dp != NULL)
                closedir(d->dp);
        for (i = 0; i < d->n_skip; i++)
                free(d->skip[i]);
        free(d->skip);
        free(d->name);
        free(d->resume);
        free(d->waiting);
        free(d->dir);
        free(d);
}

/* --- the scan ------------------------------------------------------------- */

static int skipped(const struct indir *d, const char *name)
{
        size_t i;

        for (i = 0; i < d->n_skip; i++)
                if (strcmp(d->skip[i], name) == 0)
                        return 1;
        return 0;
}

/* name is not taken again by this run (it could not be read or removed). */
static void skip_add(struct indir *d, const char *name)
{
        char **s = realloc(d->skip, (d->n_skip + 1) * sizeof(*s));
        char *dup = strdup(name);

        if (s != NULL)
                d->skip = s;
        if (s == NULL || dup == NULL) {
                free(dup);
                return; /* tried again at the next scan: said again */
        }
        d->skip[d->n_skip++] = dup;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* The names the scan may take, sorted; -1 when out of memory. */
static int list_names(struct indir *d, char ***out, size_t *count)
{
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;

        rewinddir(d->dp);
        while ((e = readdir(d->dp)) != NULL) {
                if (e->d_name[0] == '.' || skipped(d, e->d_name))
                        continue;
                if (kt_grow(&v, &cap, n + 1, sizeof(*v)) == -1 ||
                    (v[n] = strdup(e->d_name)) == NULL)
                        break;
                n++;
        }
        if (e != NULL) {
                names_free(v, n);
                return -1;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), by_name);
        *out = v;
        *count = n;
        return 0;
}

/*
 * A writer holds a lock on the file: pmacct's writer takes lockf() on
 * each file from its open to its close (src/util.c, open_output_file).
 */
static int locked(int fd)
{
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

        if (fcntl(fd, F_GETLK, &fl) == -1)
                return 0; /* cannot tell: the times decide */
        return fl.l_type != F_UNLCK;
}

enum ready { NOT_READY, READY, READY_STALE, SETTLING };

/*
 * Can fd (of st) be taken now?  A complete file must also have settled:
 * pmacct names a file by the second its writer opens it in, and with
 * print_output_file_append a second writer in that second appends to it.
 * Once no writer holds a lock and the file has not been modified for
 * settle_ms (more than a name's second), no writer will open that name
 * again, and removing the file after reading it loses nothing.
 */
static enum ready ready(struct indir *d, int fd, const struct stat *st,
                        int64_t now_ms)
{
        char tail[INDIR_TAIL];
        size_t want = st->st_size < (off_t)sizeof(tail) ? (size_t)st->st_size
                                                        : sizeof(tail);
        int64_t mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 +
                           st->st_mtim.tv_nsec / 1000000;
        ssize_t got = want > 0 ? pread(fd, tail, want, st->st_size -
                                       (off_t)want) : 0;

        if (locked(fd))
                return NOT_READY;
        if (got == (ssize_t)want &&
            indir_tail_check(tail, want, want == (size_t)st->st_size) ==
            TAIL_CLOSED)
                return d->settle_ms == 0 || now_ms - mtime_ms >=
                       d->settle_ms ? READY : SETTLING;
        return now_ms - mtime_ms >= d->quiet_ms ? READY_STALE : NOT_READY;
}

/* Where a file taken starts: where an earlier run stopped, if it did. */
static void position(struct indir *d, const char *name, int fd,
                     const struct stat *st)
{
        char before = '\n';

        d->start = d->first_line = 0;
        if (d->resume == NULL || strcmp(d->resume, name) != 0)
                return;
        if (d->resume_off > (uint64_t)st->st_size ||
            (d->resume_off > 0 &&
             pread(fd, &before, 1, (off_t)d->resume_off - 1) != 1) ||
            before != '\n' ||
            lseek(fd, (off_t)d->resume_off, SEEK_SET) == -1) {
                say(d, 1, "input.dir: %s: the offset file's byte %" PRIu64
                    " is not the end of a line of it: read from the start "
                    "(its records again)", name, d->resume_off);
                return;
        }
        d->start = d->resume_off;
        d->first_line = d->resume_line;
        say(d, 2, "input.dir: %s: resumed at byte %" PRIu64, name, d->start);
}

/* The first file is not complete yet: said once, at info. */
static void wait_for(struct indir *d, const char *name)
{
        if (d->waiting != NULL && strcmp(d->waiting, name) == 0)
                return;
        free(d->waiting);
        d->waiting = strdup(name);
        say(d, 2, "input.dir: waiting for %s to be complete (its "
            "purge_close)", name);
}

/* Takes name if it is ready: 1 taken, 0 wait, 2 wait a moment, -1 skip
 * it. */
static int take(struct indir *d, const char *name, int64_t now_ms)
{
        struct stat st;
        enum ready r = NOT_READY;
        int fd;

        if ((fd = openat(d->dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
                         O_NOFOLLOW)) == -1 || fstat(fd, &st) == -1) {
                if (errno == ENOENT) /* gone since the scan */
                        return -1;
                d->n.errors++;
                say(d, 0, "input.dir: cannot open %s/%s: %s: left there, "
                    "not taken by this run", d->dir, name, errno == ELOOP ?
                    "a symbolic link (only regular files are taken)" :
                    strerror(errno));
                skip_add(d, name);
                if (fd != -1)
                        close(fd);
                return -1;
        }
        if (!S_ISREG(st.st_mode) || (r = ready(d, fd, &st, now_ms)) ==
            NOT_READY || r == SETTLING) {
                close(fd);
                if (!S_ISREG(st.st_mode))
                        return -1;
                if (r == SETTLING)
                        return 2;
                wait_for(d, name);
                return 0;
        }
        if (r == READY_STALE) {
                d->n.stale++;
                say(d, 1, "input.dir: %s has no purge_close and was not "
                    "modified for %lld ms: taken as it is (did its writer "
                    "stop mid-purge?)", name, d->quiet_ms);
        }
        d->fd = fd;
        d->got = 0;
        position(d, name, fd, &st);
        return 1;
}

enum indir_take indir_next(struct indir *d, int64_t now_ms)
{
        char **v;
        size_t n, i;
        int r = 0;

        if (d->name != NULL)
                return INDIR_TAKEN;
        if (list_names(d, &v, &n) == -1) {
                say(d, 0, "input.dir: %s: cannot list it: %s", d->dir,
                    errno != 0 ? strerror(errno) : "out of memory");
                return INDIR_NONE;
        }
        for (i = 0; i < n && (r = take(d, v[i], now_ms)) == -1; i++)
                ;
        if (r == 1) {
                d->name = v[i];
                v[i] = NULL;
                d->n.files++;
                free(d->waiting);
                d->waiting = NULL;
        }
        names_free(v, n);
        if (r == 2)
                return INDIR_SOON;
        return r == 1 ? INDIR_TAKEN : INDIR_NONE;
}

int indir_fd(const struct indir *d)
{
        return d->fd;
}

const char *indir_name(const struct indir *d)
{
        return d->name;
}

uint64_t indir_first_line(const struct indir *d)
{
        return d->first_line;
}

void indir_read(struct indir *d, size_t n)
{
        d->got += n;
        d->n.bytes += n;
}

void indir_counts(const struct indir *d, struct indir_counts *c)
{
        *c = d->n;
}

/* --- done, or stopped ---------------------------------------------------- */

static void let_go(struct indir *d)
{
        if (d->fd != -1)
                close(d->fd);
        d->fd = -1;
        free(d->name);
        d->name = NULL;
}

int indir_done(struct indir *d)
{
        int rc = 0;

        if (d->name == NULL)
                return 0;
        if (unlinkat(d->dfd, d->name, 0) == -1) {
                d->n.errors++;
                say(d, 0, "input.dir: cannot remove %s/%s: %s: its records "
                    "were sent; it is not taken again by this run, but "
                    "would be by the next", d->dir, d->name, strerror(errno));
                skip_add(d, d->name);
                rc = -1;
        } else if (fsync(d->dfd) == -1) {
                say(d, 1, "input.dir: %s: fsync: %s", d->dir,
                    strerror(errno));
        }
        /* removed after the file: a crash in between finds an offset
         * for a file that is gone, which is ignored */
        if (d->resume != NULL && strcmp(d->resume, d->name) == 0)
                offset_remove(d);
        let_go(d);
        return rc;
}

static int offset_write(struct indir *d, uint64_t offset, uint64_t line)
{
        char text[4096];
        int fd, n, ok;

        n = snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 " %s\n",
                     offset, line, d->name);
        if (n < 0 || (size_t)n >= sizeof(text)) {
                errno = ENAMETOOLONG;
                return -1;
        }
        if ((fd = openat(d->dfd, OFFSET_TMP, O_WRONLY | O_CREAT | O_TRUNC |
                         O_CLOEXEC, 0644)) == -1)
                return -1;
        ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || renameat(d->dfd, OFFSET_TMP, d->dfd,
                            INDIR_OFFSET_NAME) == -1) {
                int saved = errno;

                (void)unlinkat(d->dfd, OFFSET_TMP, 0);
                errno = saved != 0 ? saved : EIO;
                return -1;
        }
        return fsync(d->dfd);
}

int indir_save(struct indir *d, uint64_t held, uint64_t line_no)
{
        uint64_t offset;
        int rc = 0;

        if (d->name == NULL)
                return 0;
        offset = d->start + (d->got > held ? d->got - held : 0);
        if (offset > 0 && offset_write(d, offset, line_no) == -1) {
                say(d, 0, "input.dir: cannot write %s/%s: %s: %s is read "
                    "from the start by the next run (its records again)",
                    d->dir, INDIR_OFFSET_NAME, strerror(errno), d->name);
                rc = -1;
        } else if (offset > 0) {
                say(d, 2, "input.dir: stopped in %s at byte %" PRIu64
                    " (line %" PRIu64 "): the next run resumes there",
                    d->name, offset, line_no);
        }
        let_go(d);
        return rc;
}
