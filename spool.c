/*
 * spool.c: the disk spool.  See spool.h.
 *
 * A frame's payload, after its 16-byte head:
 *
 *   u8 kind, u8 flags (1: a key), u16 0,
 *   u32 topic_len, u32 key_len, u32 value_len, u32 raw_len,
 *   i64 timestamp_ms, u64 line_no, i64 spooled_ms,
 *   then the topic, the key, the value and the line.
 *
 * Each segment keeps in memory the offsets of its frames, how many were
 * handed out and how many are done: a gigabyte of 580-byte events is 1.7
 * million offsets, 7 MB.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>

#include "grow.h"
#include "spool.h"

#define MAGIC       0x3153544bu /* "KTS1" read little-endian */
#define HEAD_LEN    16
#define FIXED_LEN   44          /* the payload before the bytes */
#define FRAME_MAX   (1u << 30)  /* a payload larger is not a frame */
#define READ_CHUNK  (1u << 20)
#define ACKS_MAX    1024        /* done marks held before a write */

struct seg {
        uint64_t  seq;
        int       fd;       /* read and (the newest) append */
        int       ack_fd;   /* its ack file, appended */
        uint64_t  bytes;
        uint32_t *off;      /* its frames, in order */
        size_t    n, cap;
        size_t    next;     /* the first not handed out */
        size_t    done;     /* frames done, in any order */
        int64_t   first_ms; /* spooled_ms of its first frame */
        int       closed;   /* no more appends */
        uint32_t *acks;     /* done marks not yet written */
        size_t    n_acks, acks_cap;
};

struct spool {
        struct spool_opts o;
        char             *dir;
        int               lock_fd;
        struct seg       *seg;    /* oldest first */
        size_t            n_seg, seg_cap;
        uint64_t          next_seq;
        uint64_t          bytes;
        char             *buf;    /* a frame read back */
        size_t            buf_cap;
        int               dirty;  /* written since the last sync */
        struct spool_id  *again;  /* given back, newest first */
        size_t            n_again, again_cap;
        unsigned char    *wbuf;   /* spool_append_later()'s frames, all
                                   * of the newest segment */
        size_t            wlen, wcap, wframes;
        struct spool_stats st;
};

/* --- little-endian fields ---------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)v;
        p[1] = (unsigned char)(v >> 8);
        p[2] = (unsigned char)(v >> 16);
        p[3] = (unsigned char)(v >> 24);
}

static void put_u64(unsigned char *p, uint64_t v)
{
        put_u32(p, (uint32_t)v);
        put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
        return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* --- errors -------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        return -1;
}

/* DIR/<seq>.<ext> into path (PATH_MAX is enough: dir was opened). */
static void seg_path(const struct spool *s, uint64_t seq, const char *ext,
                     char *path, size_t len)
{
        snprintf(path, len, "%s/%020" PRIu64 ".%s", s->dir, seq, ext);
}

/* --- frames ---------------------------------------------------------- */

/* The head and the fixed part of r's frame, into h; its payload length. */
static uint32_t frame_head(const struct spool_rec *r, unsigned char *h)
{
        unsigned char *p = h + HEAD_LEN;
        uint32_t len = FIXED_LEN + (uint32_t)(r->topic_len + r->key_len +
                                              r->value_len + r->raw_len);
        uLong crc;

        p[0] = (unsigned char)r->kind;
        p[1] = r->key != NULL;
        p[2] = p[3] = 0;
        put_u32(p + 4, (uint32_t)r->topic_len);
        put_u32(p + 8, (uint32_t)r->key_len);
        put_u32(p + 12, (uint32_t)r->value_len);
        put_u32(p + 16, (uint32_t)r->raw_len);
        put_u64(p + 20, (uint64_t)r->timestamp_ms);
        put_u64(p + 28, r->line_no);
        put_u64(p + 36, (uint64_t)r->spooled_ms);
        crc = crc32(0L, p, FIXED_LEN);
        crc = crc32(crc, (const Bytef *)r->topic, (uInt)r->topic_len);
        if (r->key != NULL)
                crc = crc32(crc, (const Bytef *)r->key, (uInt)r->key_len);
        crc = crc32(crc, (const Bytef *)r->value, (uInt)r->value_len);
        if (r->raw != NULL)
                crc = crc32(crc, (const Bytef *)r->raw, (uInt)r->raw_len);
        put_u32(h, MAGIC);
        put_u32(h + 4, len);
        put_u32(h + 8, (uint32_t)crc);
        put_u32(h + 12, 0);
        return len;
}

/*
 * A frame at p[0..avail): its payload length when it is whole and its
 * checksum holds; 0 when it is not whole (torn, or not read yet); -1
 * when it is no frame (a bad head, or a checksum that fails).
 */
static int64_t frame_check(const unsigned char *p, size_t avail)
{
        uint32_t len;

        if (avail < HEAD_LEN)
                return 0;
        len = get_u32(p + 4);
        if (get_u32(p) != MAGIC || len < FIXED_LEN || len > FRAME_MAX)
                return -1;
        if (avail - HEAD_LEN < len)
                return 0;
        if (crc32(crc32(0L, Z_NULL, 0), p + HEAD_LEN, len) != get_u32(p + 8))
                return -1;
        return len;
}

/* A checked payload of len bytes into r (pointing into it); -1 when its
 * lengths do not add up. */
static int frame_decode(const unsigned char *p, uint32_t len,
                        struct spool_rec *r)
{
        uint64_t sum;
        const char *b = (const char *)p + FIXED_LEN;

        r->kind = p[0];
        r->topic_len = get_u32(p + 4);
        r->key_len = get_u32(p + 8);
        r->value_len = get_u32(p + 12);
        r->raw_len = get_u32(p + 16);
        sum = (uint64_t)r->topic_len + r->key_len + r->value_len +
              r->raw_len;
        if (sum != len - FIXED_LEN)
                return -1;
        r->timestamp_ms = (int64_t)get_u64(p + 20);
        r->line_no = get_u64(p + 28);
        r->spooled_ms = (int64_t)get_u64(p + 36);
        r->topic = b;
        r->key = p[1] & 1 ? b + r->topic_len : NULL;
        r->value = b + r->topic_len + r->key_len;
        r->raw = r->raw_len > 0 ? r->value + r->value_len : NULL;
        return 0;
}

/* --- segments -------------------------------------------------------- */

static int seg_push(struct seg *sg, uint32_t off)
{
        if (kt_grow(&sg->off, &sg->cap, sg->n + 1, sizeof(*sg->off)) == -1)
                return -1;
        sg->off[sg->n++] = off;
        return 0;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return x < y ? -1 : x > y;
}

/* The offsets in sg's ack file, sorted, into *acked.  A torn last one
 * (a crash mid-write) is left out: that frame is sent again. */
static int read_acks(int fd, uint32_t **acked, size_t *n)
{
        struct stat st;
        unsigned char *p;
        size_t i;

        *acked = NULL;
        *n = 0;
        if (fstat(fd, &st) == -1)
                return -1;
        if (st.st_size < 4)
                return 0;
        if ((p = malloc((size_t)st.st_size)) == NULL ||
            pread(fd, p, (size_t)st.st_size, 0) != st.st_size ||
            (*acked = malloc((size_t)st.st_size / 4 * 4)) == NULL) {
                free(p);
                return -1;
        }
        *n = (size_t)st.st_size / 4;
        for (i = 0; i < *n; i++)
                (*acked)[i] = get_u32(p + 4 * i);
        free(p);
        qsort(*acked, *n, sizeof(**acked), cmp_u32);
        return 0;
}

static int is_acked(const uint32_t *acked, size_t n, uint32_t off)
{
        return n > 0 &&
               bsearch(&off, acked, n, sizeof(*acked), cmp_u32) != NULL;
}

/* The whole file of fd, into *p (NULL when empty). */
static int read_all(int fd, unsigned char **p, size_t *len)
{
        struct stat st;
        size_t at = 0;
        ssize_t r;

        *p = NULL;
        *len = 0;
        if (fstat(fd, &st) == -1)
                return -1;
        if (st.st_size == 0)
                return 0;
        if ((*p = malloc((size_t)st.st_size)) == NULL)
                return -1;
        while (at < (size_t)st.st_size) {
                r = pread(fd, *p + at, (size_t)st.st_size - at, (off_t)at);
                if (r <= 0)
                        return -1;
                at += (size_t)r;
        }
        *len = at;
        return 0;
}

/* The next place in p[from..len) where a whole, sound frame starts: a
 * frame the crash or the disk spoilt is skipped to the next good one. */
static size_t resync(const unsigned char *p, size_t from, size_t len)
{
        size_t at;

        for (at = from; at + HEAD_LEN <= len; at++)
                if (p[at] == (MAGIC & 0xff) && frame_check(p + at,
                                                           len - at) > 0)
                        return at;
        return len;
}

/*
 * The frames of segment file p[0..len) not acked, into sg; a torn end is
 * cut off the file, and what was skipped is counted in f.
 */
static int seg_scan(struct seg *sg, const unsigned char *p, size_t len,
                    const uint32_t *acked, size_t n_acked,
                    struct spool_found *f)
{
        size_t at = 0, good;
        int64_t r;

        while (at < len) {
                if ((r = frame_check(p + at, len - at)) == 0) {
                        f->torn++;
                        f->lost_bytes += len - at;
                        sg->bytes = at;
                        return ftruncate(sg->fd, (off_t)at) == -1 ? -1 : 0;
                }
                if (r < 0) {
                        good = resync(p, at + 1, len);
                        f->corrupt++;
                        f->lost_bytes += good - at;
                        at = good;
                        continue;
                }
                if (sg->n == 0 && sg->done == 0)
                        sg->first_ms = (int64_t)get_u64(p + at + HEAD_LEN +
                                                        36);
                if (!is_acked(acked, n_acked, (uint32_t)at) &&
                    seg_push(sg, (uint32_t)at) == -1)
                        return -1;
                at += HEAD_LEN + (size_t)r;
        }
        sg->bytes = len;
        return 0;
}

static void seg_free(struct seg *sg)
{
        if (sg->fd >= 0)
                close(sg->fd);
        if (sg->ack_fd >= 0)
                close(sg->ack_fd);
        free(sg->off);
        free(sg->acks);
}

/* sg's done marks not yet written, in one write.  -1 with errno. */
static int seg_acks_write(struct seg *sg)
{
        unsigned char b[4 * ACKS_MAX];
        ssize_t w;
        size_t i;

        if (sg->n_acks == 0)
                return 0;
        for (i = 0; i < sg->n_acks; i++)
                put_u32(b + 4 * i, sg->acks[i]);
        w = write(sg->ack_fd, b, 4 * sg->n_acks);
        if (w != (ssize_t)(4 * sg->n_acks)) {
                if (w >= 0)
                        errno = EIO; /* a short write: the disk is full */
                return -1;
        }
        sg->n_acks = 0;
        return 0;
}

/* Every frame of segment i is done: its files go, and it leaves the
 * list. */
static void seg_delete(struct spool *s, size_t i)
{
        char path[4096];

        seg_path(s, s->seg[i].seq, "seg", path, sizeof(path));
        unlink(path);
        seg_path(s, s->seg[i].seq, "ack", path, sizeof(path));
        unlink(path);
        s->bytes -= s->seg[i].bytes;
        seg_free(&s->seg[i]);
        memmove(&s->seg[i], &s->seg[i + 1],
                (s->n_seg - i - 1) * sizeof(*s->seg));
        s->n_seg--;
        s->dirty = 1;
}

/* Opens segment seq's files (created when create), into sg. */
static int seg_files(struct spool *s, struct seg *sg, uint64_t seq,
                     int create, char *err, size_t errlen)
{
        char path[4096];
        int flags = O_RDWR | O_APPEND | O_CLOEXEC;

        memset(sg, 0, sizeof(*sg));
        sg->seq = seq;
        sg->fd = sg->ack_fd = -1;
        seg_path(s, seq, "seg", path, sizeof(path));
        if ((sg->fd = open(path, flags | (create ? O_CREAT | O_EXCL : 0),
                           0600)) == -1)
                return fail(err, errlen, "%s: %s", path, strerror(errno));
        seg_path(s, seq, "ack", path, sizeof(path));
        if ((sg->ack_fd = open(path, flags | O_CREAT, 0600)) == -1)
                return fail(err, errlen, "%s: %s", path, strerror(errno));
        return 0;
}

/* Segment seq of an earlier run: its frames not done, to be sent. */
static int seg_load(struct spool *s, uint64_t seq, struct spool_found *f,
                    char *err, size_t errlen)
{
        struct seg sg;
        unsigned char *p = NULL;
        uint32_t *acked = NULL;
        size_t len, n_acked;
        int r = -1;

        if (seg_files(s, &sg, seq, 0, err, errlen) == -1)
                goto out;
        if (read_all(sg.fd, &p, &len) == -1 ||
            read_acks(sg.ack_fd, &acked, &n_acked) == -1 ||
            seg_scan(&sg, p, len, acked, n_acked, f) == -1) {
                fail(err, errlen, "segment %020" PRIu64 ": %s", seq,
                     errno ? strerror(errno) : "out of memory");
                goto out;
        }
        sg.closed = 1;
        if (kt_grow(&s->seg, &s->seg_cap, s->n_seg + 1, sizeof(*s->seg)) ==
            -1) {
                fail(err, errlen, "out of memory");
                goto out;
        }
        s->seg[s->n_seg++] = sg;
        s->bytes += sg.bytes;
        f->frames += sg.n;
        f->bytes += sg.bytes;
        if (sg.n == 0)
                seg_delete(s, s->n_seg - 1);
        sg.fd = sg.ack_fd = -1;
        sg.off = NULL;
        r = 0;
out:
        if (r == -1)
                seg_free(&sg);
        free(p);
        free(acked);
        return r;
}

/* --- opening and closing ------------------------------------------- */

/* One process per directory: the lock is held while the spool is open. */
static int lock_dir(struct spool *s, char *err, size_t errlen)
{
        char path[4096], pid[32];
        ssize_t n;

        snprintf(path, sizeof(path), "%s/lock", s->dir);
        if ((s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) ==
            -1)
                return fail(err, errlen, "%s: %s", path, strerror(errno));
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == -1) {
                n = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);
                pid[n > 0 ? n : 0] = '\0';
                pid[strcspn(pid, "\n")] = '\0';
                return fail(err, errlen, "%s: in use by another "
                            "kafkatee-pipe (pid %s)", s->dir,
                            *pid ? pid : "unknown");
        }
        n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(s->lock_fd, 0) == -1 ||
            pwrite(s->lock_fd, pid, (size_t)n, 0) != n)
                return fail(err, errlen, "%s: %s", path, strerror(errno));
        return 0;
}

/* "<20 digits>.seg": its number. */
static int seg_name(const char *name, uint64_t *seq)
{
        size_t i;

        if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0)
                return 0;
        *seq = 0;
        for (i = 0; i < 20; i++) {
                if (name[i] < '0' || name[i] > '9')
                        return 0;
                *seq = *seq * 10 + (uint64_t)(name[i] - '0');
        }
        return 1;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* The numbers of the directory's segments, sorted. */
static int list_segs(const struct spool *s, uint64_t **seqs, size_t *n,
                     char *err, size_t errlen)
{
        DIR *d = opendir(s->dir);
        struct dirent *e;
        size_t cap = 0;
        uint64_t seq;

        *seqs = NULL;
        *n = 0;
        if (d == NULL)
                return fail(err, errlen, "%s: %s", s->dir, strerror(errno));
        while ((e = readdir(d)) != NULL) {
                if (!seg_name(e->d_name, &seq))
                        continue;
                if (kt_grow(seqs, &cap, *n + 1, sizeof(**seqs)) == -1) {
                        closedir(d);
                        return fail(err, errlen, "out of memory");
                }
                (*seqs)[(*n)++] = seq;
        }
        closedir(d);
        if (*n > 1)
                qsort(*seqs, *n, sizeof(**seqs), cmp_u64);
        return 0;
}

static int load_segs(struct spool *s, struct spool_found *f, char *err,
                     size_t errlen)
{
        uint64_t *seqs;
        size_t i, n;
        int r = 0;

        if (list_segs(s, &seqs, &n, err, errlen) == -1)
                return -1;
        for (i = 0; i < n && r == 0; i++)
                r = seg_load(s, seqs[i], f, err, errlen);
        s->next_seq = n > 0 ? seqs[n - 1] + 1 : 1;
        free(seqs);
        return r;
}

struct spool *spool_open(const struct spool_opts *o, struct spool_found *f,
                         char *err, size_t errlen)
{
        struct spool *s = calloc(1, sizeof(*s));

        memset(f, 0, sizeof(*f));
        if (s == NULL || (s->dir = strdup(o->dir)) == NULL) {
                free(s);
                fail(err, errlen, "out of memory");
                return NULL;
        }
        s->o = *o;
        s->lock_fd = -1;
        if (mkdir(s->dir, 0700) == -1 && errno != EEXIST) {
                fail(err, errlen, "%s: %s", s->dir, strerror(errno));
                goto bad;
        }
        if (lock_dir(s, err, errlen) == -1 || load_segs(s, f, err, errlen) ==
            -1)
                goto bad;
        s->st.torn = f->torn;
        s->st.corrupt = f->corrupt;
        return s;
bad:
        spool_close(s);
        return NULL;
}

void spool_close(struct spool *s)
{
        char err[64];
        size_t i;

        if (s == NULL)
                return;
        /* best effort: the caller flushed and synced, and said why not */
        if (spool_flush(s, err, sizeof(err)) != SPOOL_OK)
                s->wlen = 0;
        /* the last segment, every frame done, goes too */
        if (s->n_seg > 0 && s->seg[s->n_seg - 1].done ==
                                    s->seg[s->n_seg - 1].n)
                seg_delete(s, s->n_seg - 1);
        for (i = 0; i < s->n_seg; i++)
                seg_free(&s->seg[i]);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        free(s->seg);
        free(s->again);
        free(s->wbuf);
        free(s->buf);
        free(s->dir);
        free(s);
}

/* --- appending ------------------------------------------------------- */

/* The segment appends go to: the newest, unless it is closed. */
static struct seg *seg_for_append(struct spool *s, char *err, size_t errlen)
{
        struct seg sg;

        if (s->n_seg > 0 && !s->seg[s->n_seg - 1].closed)
                return &s->seg[s->n_seg - 1];
        if (kt_grow(&s->seg, &s->seg_cap, s->n_seg + 1, sizeof(*s->seg)) ==
            -1) {
                fail(err, errlen, "out of memory");
                return NULL;
        }
        if (seg_files(s, &sg, s->next_seq, 1, err, errlen) == -1) {
                seg_free(&sg);
                return NULL;
        }
        s->next_seq++;
        s->seg[s->n_seg++] = sg;
        return &s->seg[s->n_seg - 1];
}

/* All of iov[0..n), or -1 with errno (a short write is tried on, so that
 * the error says why: the disk is full, the file too large). */
static int write_all(int fd, struct iovec *iov, int n)
{
        ssize_t w;

        while (n > 0) {
                if ((w = writev(fd, iov, n)) < 0)
                        return -1;
                while (n > 0 && (size_t)w >= iov->iov_len) {
                        w -= (ssize_t)iov->iov_len;
                        iov++;
                        n--;
                }
                if (n > 0) {
                        iov->iov_base = (char *)iov->iov_base + w;
                        iov->iov_len -= (size_t)w;
                }
        }
        return 0;
}

/* The frame h + r's bytes, written whole or not at all. */
static enum spool_result write_frame(struct seg *sg, unsigned char *h,
                                     const struct spool_rec *r, char *err,
                                     size_t errlen)
{
        struct iovec iov[5] = {
                { h, HEAD_LEN + FIXED_LEN },
                { (void *)r->topic, r->topic_len },
                { (void *)r->key, r->key != NULL ? r->key_len : 0 },
                { (void *)r->value, r->value_len },
                { (void *)r->raw, r->raw != NULL ? r->raw_len : 0 },
        };
        int e;

        if (write_all(sg->fd, iov, 5) == 0)
                return SPOOL_OK;
        e = errno;
        /* what was written goes, so that no torn frame stays */
        if (ftruncate(sg->fd, (off_t)sg->bytes) == -1)
                e = errno;
        fail(err, errlen, "segment %020" PRIu64 ": %s", sg->seq,
             strerror(e));
        return e == ENOSPC || e == EDQUOT || e == EFBIG ? SPOOL_NOSPACE
                                                          : SPOOL_ERROR;
}

/* The frame appended to sg (its bytes written, or buffered): counted. */
static void frame_added(struct spool *s, struct seg *sg, size_t size,
                        int64_t now_ms, int taken, struct spool_id *id)
{
        if (sg->n == 1)
                sg->first_ms = now_ms;
        if (taken)
                sg->next = sg->n;
        id->seg = sg->seq;
        id->off = sg->off[sg->n - 1];
        sg->bytes += size;
        s->bytes += size;
        s->st.appended++;
        if (sg->bytes >= s->o.segment_bytes)
                sg->closed = 1;
}

/* A frame refused by the disk: a file size limit, so the next frame
 * starts a new file (a segment emptied by it goes). */
static void refused(struct spool *s, struct seg *sg)
{
        if (sg->bytes == 0)
                return;
        sg->closed = 1;
        if (sg->done >= sg->n)
                seg_delete(s, s->n_seg - 1);
}

/* Checks common to appends: the frame's head in h, its size in *size,
 * and the segment it goes to, or NULL with the result in *res. */
static struct seg *append_prep(struct spool *s, struct spool_rec *w,
                               unsigned char *h, size_t *size,
                               enum spool_result *res, char *err,
                               size_t errlen)
{
        struct seg *sg;

        *size = HEAD_LEN + frame_head(w, h);
        *res = SPOOL_FULL;
        if ((s->o.max_bytes > 0 && s->bytes + *size > s->o.max_bytes) ||
            *size > FRAME_MAX)
                return NULL;
        *res = SPOOL_ERROR;
        if ((sg = seg_for_append(s, err, errlen)) == NULL)
                return NULL;
        if (seg_push(sg, (uint32_t)sg->bytes) == -1) {
                fail(err, errlen, "out of memory");
                return NULL;
        }
        return sg;
}

enum spool_result spool_append(struct spool *s, const struct spool_rec *r,
                               int64_t now_ms, int taken,
                               struct spool_id *id, char *err, size_t errlen)
{
        unsigned char h[HEAD_LEN + FIXED_LEN];
        struct spool_rec w = *r;
        struct seg *sg;
        enum spool_result res;
        size_t size;

        if (taken && spool_pending(s))
                return fail(err, errlen, "a frame taken while others wait"),
                       SPOOL_ERROR;
        if (s->wlen > 0)
                return fail(err, errlen, "frames buffered, not flushed"),
                       SPOOL_ERROR;
        w.spooled_ms = now_ms;
        if ((sg = append_prep(s, &w, h, &size, &res, err, errlen)) == NULL)
                return res;
        if ((res = write_frame(sg, h, &w, err, errlen)) != SPOOL_OK) {
                sg->n--;
                if (res == SPOOL_NOSPACE)
                        refused(s, sg);
                return res;
        }
        frame_added(s, sg, size, now_ms, taken, id);
        s->dirty = 1;
        if (s->o.sync == SPOOL_SYNC_ALWAYS)
                return spool_sync(s, err, errlen) == 0 ? SPOOL_OK
                                                       : SPOOL_ERROR;
        return SPOOL_OK;
}

/* r's frame (head h) copied to the end of the write buffer. */
static int buffer_frame(struct spool *s, const unsigned char *h,
                        const struct spool_rec *r, size_t size)
{
        unsigned char *p;

        if (kt_grow(&s->wbuf, &s->wcap, s->wlen + size, 1) == -1)
                return -1;
        p = s->wbuf + s->wlen;
        memcpy(p, h, HEAD_LEN + FIXED_LEN);
        p += HEAD_LEN + FIXED_LEN;
        memcpy(p, r->topic, r->topic_len);
        p += r->topic_len;
        if (r->key != NULL)
                memcpy(p, r->key, r->key_len);
        p += r->key != NULL ? r->key_len : 0;
        memcpy(p, r->value, r->value_len);
        p += r->value_len;
        if (r->raw != NULL)
                memcpy(p, r->raw, r->raw_len);
        s->wlen += size;
        s->wframes++;
        return 0;
}

enum spool_result spool_append_later(struct spool *s,
                                     const struct spool_rec *r,
                                     int64_t now_ms, struct spool_id *id,
                                     char *err, size_t errlen)
{
        unsigned char h[HEAD_LEN + FIXED_LEN];
        struct spool_rec w = *r;
        struct seg *sg;
        enum spool_result res;
        size_t size;

        if (spool_pending(s))
                return fail(err, errlen, "a frame taken while others wait"),
                       SPOOL_ERROR;
        /* the buffer holds one segment's frames, and a bounded amount */
        if (s->wlen > 0 && (s->seg[s->n_seg - 1].closed ||
                            s->wlen >= SPOOL_BUFFER_MAX))
                return SPOOL_FLUSH;
        w.spooled_ms = now_ms;
        if ((sg = append_prep(s, &w, h, &size, &res, err, errlen)) == NULL)
                return res;
        if (buffer_frame(s, h, &w, size) == -1) {
                sg->n--;
                return fail(err, errlen, "out of memory"), SPOOL_ERROR;
        }
        frame_added(s, sg, size, now_ms, 1, id);
        return SPOOL_OK;
}

/* The buffered frames refused: gone from the segment as if never
 * appended. */
static void unbuffer(struct spool *s, struct seg *sg)
{
        sg->n -= s->wframes;
        sg->next = sg->n;
        sg->bytes -= s->wlen;
        s->bytes -= s->wlen;
        s->st.appended -= s->wframes;
        sg->closed = 0;
        if (ftruncate(sg->fd, (off_t)sg->bytes) == -1)
                sg->closed = 1; /* appends start a new file */
}

/* The done marks not yet written, of every segment. */
static int acks_write(struct spool *s, char *err, size_t errlen)
{
        size_t i;

        for (i = 0; i < s->n_seg; i++)
                if (seg_acks_write(&s->seg[i]) == -1)
                        return fail(err, errlen, "segment %020" PRIu64
                                    " acks: %s", s->seg[i].seq,
                                    strerror(errno));
        return 0;
}

enum spool_result spool_flush(struct spool *s, char *err, size_t errlen)
{
        struct seg *sg;
        struct iovec iov;
        int e;

        if (acks_write(s, err, errlen) == -1)
                return SPOOL_ERROR;
        if (s->wlen == 0)
                return SPOOL_OK;
        sg = &s->seg[s->n_seg - 1];
        iov.iov_base = s->wbuf;
        iov.iov_len = s->wlen;
        if (write_all(sg->fd, &iov, 1) == 0) {
                s->wlen = s->wframes = 0;
                s->dirty = 1;
                if (s->o.sync == SPOOL_SYNC_ALWAYS)
                        return spool_sync(s, err, errlen) == 0 ? SPOOL_OK
                                                               : SPOOL_ERROR;
                return SPOOL_OK;
        }
        e = errno;
        fail(err, errlen, "segment %020" PRIu64 ": %s", sg->seq,
             strerror(e));
        unbuffer(s, sg);
        s->wlen = s->wframes = 0;
        if (e != ENOSPC && e != EDQUOT && e != EFBIG)
                return SPOOL_ERROR;
        refused(s, sg);
        return SPOOL_NOSPACE;
}

/* --- handing out, and done ------------------------------------------ */

int spool_pending(const struct spool *s)
{
        size_t i;

        if (s->n_again > 0)
                return 1;
        for (i = 0; i < s->n_seg; i++)
                if (s->seg[i].next < s->seg[i].n)
                        return 1;
        return 0;
}

/* The frame at off of sg, read into s->buf: its payload length, 0 when
 * it is not sound, -1 on an I/O error. */
static int64_t frame_read(struct spool *s, const struct seg *sg,
                          uint32_t off, char *err, size_t errlen)
{
        unsigned char h[HEAD_LEN];
        uint32_t len;
        ssize_t n;

        if ((n = pread(sg->fd, h, HEAD_LEN, off)) != HEAD_LEN)
                goto io;
        len = get_u32(h + 4);
        if (get_u32(h) != MAGIC || len < FIXED_LEN || len > FRAME_MAX)
                return 0;
        if (kt_grow(&s->buf, &s->buf_cap, HEAD_LEN + (size_t)len, 1) == -1)
                return fail(err, errlen, "out of memory");
        memcpy(s->buf, h, HEAD_LEN);
        if ((n = pread(sg->fd, s->buf + HEAD_LEN, len,
                       (off_t)off + HEAD_LEN)) != (ssize_t)len)
                goto io;
        return frame_check((unsigned char *)s->buf, HEAD_LEN + len) > 0
                       ? len : 0;
io:
        return fail(err, errlen, "segment %020" PRIu64 " at %" PRIu32
                    ": %s", sg->seq, off, n < 0 ? strerror(errno)
                                                 : "cut short");
}

static struct seg *seg_of(struct spool *s, uint64_t seq, size_t *i)
{
        for (*i = 0; *i < s->n_seg; (*i)++)
                if (s->seg[*i].seq == seq)
                        return &s->seg[*i];
        return NULL;
}

static int id_before(struct spool_id a, struct spool_id b)
{
        return a.seg < b.seg || (a.seg == b.seg && a.off < b.off);
}

int spool_again(struct spool *s, struct spool_id id, char *err,
                size_t errlen)
{
        size_t i;

        if (kt_grow(&s->again, &s->again_cap, s->n_again + 1,
                    sizeof(*s->again)) == -1)
                return fail(err, errlen, "out of memory");
        /* newest first, so that the oldest is taken off the end */
        for (i = s->n_again; i > 0 && id_before(s->again[i - 1], id); i--)
                s->again[i] = s->again[i - 1];
        s->again[i] = id;
        s->n_again++;
        return 0;
}

/* The next frame to hand out: one given back, oldest first, else the
 * first not handed out.  0 when there is none. */
static int next_id(struct spool *s, struct seg **sg, struct spool_id *id,
                   int *again)
{
        size_t i;

        *again = 1;
        while (s->n_again > 0) {
                *id = s->again[--s->n_again];
                if ((*sg = seg_of(s, id->seg, &i)) != NULL)
                        return 1; /* else done since: nothing to send */
        }
        *again = 0;
        for (i = 0; i < s->n_seg; i++) {
                *sg = &s->seg[i];
                if ((*sg)->next < (*sg)->n) {
                        id->seg = (*sg)->seq;
                        id->off = (*sg)->off[(*sg)->next++];
                        return 1;
                }
        }
        return 0;
}

int spool_next(struct spool *s, struct spool_rec *r, struct spool_id *id,
               char *err, size_t errlen)
{
        struct seg *sg;
        int64_t len;
        int again;

        while (next_id(s, &sg, id, &again)) {
                if ((len = frame_read(s, sg, id->off, err, errlen)) == -1)
                        return -1;
                if (len > 0 && frame_decode((unsigned char *)s->buf +
                                            HEAD_LEN, (uint32_t)len,
                                            r) == 0) {
                        r->again = again;
                        s->st.replayed += !again;
                        return 1;
                }
                s->st.corrupt++; /* spoilt since it was written */
                if (spool_done(s, *id, err, errlen) == -1)
                        return -1;
        }
        return 0;
}

int spool_done(struct spool *s, struct spool_id id, char *err,
               size_t errlen)
{
        struct seg *sg;
        size_t i;

        if (s->wlen > 0) /* the caller flushes: it knows whose they are */
                return fail(err, errlen, "frames buffered, not flushed");
        if ((sg = seg_of(s, id.seg, &i)) == NULL)
                return fail(err, errlen, "segment %020" PRIu64
                            ": no such segment", id.seg);
        if (kt_grow(&sg->acks, &sg->acks_cap, sg->n_acks + 1,
                    sizeof(*sg->acks)) == -1)
                return fail(err, errlen, "out of memory");
        sg->acks[sg->n_acks++] = id.off;
        if (sg->n_acks >= ACKS_MAX && seg_acks_write(sg) == -1)
                return fail(err, errlen, "segment %020" PRIu64 " acks: %s",
                            id.seg, strerror(errno));
        sg->done++;
        s->dirty = 1;
        if (sg->closed && sg->done >= sg->n)
                seg_delete(s, i);
        return 0;
}

int spool_sync(struct spool *s, char *err, size_t errlen)
{
        size_t i;
        int dfd;

        if (acks_write(s, err, errlen) == -1)
                return -1;
        if (!s->dirty)
                return 0;
        for (i = 0; i < s->n_seg; i++)
                if (fdatasync(s->seg[i].fd) == -1 ||
                    fdatasync(s->seg[i].ack_fd) == -1)
                        return fail(err, errlen, "segment %020" PRIu64
                                    ": sync: %s", s->seg[i].seq,
                                    strerror(errno));
        /* the files made and removed since */
        if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
            fsync(dfd) == -1) {
                if (dfd >= 0)
                        close(dfd);
                return fail(err, errlen, "%s: sync: %s", s->dir,
                            strerror(errno));
        }
        close(dfd);
        s->dirty = 0;
        return 0;
}

void spool_stats(const struct spool *s, struct spool_stats *st)
{
        size_t i;

        *st = s->st;
        st->bytes = s->bytes;
        st->frames = 0;
        st->pending = s->n_again;
        st->oldest_ms = 0;
        for (i = 0; i < s->n_seg; i++) {
                const struct seg *sg = &s->seg[i];

                st->frames += sg->n - sg->done;
                st->pending += sg->n - sg->next;
                if (st->oldest_ms == 0 && sg->done < sg->n)
                        st->oldest_ms = sg->first_ms;
        }
}
