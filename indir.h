/*
 * indir.h: the directory input (input.dir): pmacct's print plugin writes
 * one file per purge into a directory; the files are taken one at a
 * time, in the strcmp order of their names, each once it is complete,
 * and removed once every record of it is accounted for.
 *
 * Owns: the directory, the scan, the completeness check (the file's last
 * line is a purge_close marker, or the file has not been modified for
 * quiet_ms), the file taken and how far it was read, the offset file
 * (DIR/.kafkatee-pipe.offset) that lets a stopped run's file resume, and
 * the counters.  It reads and removes files; the caller reads the file
 * taken through indir_fd() with its own reader and says when it is done.
 */
#ifndef KT_INDIR_H
#define KT_INDIR_H

#include <stddef.h>
#include <stdint.h>

/* The name of the offset file in the directory (a dot: never taken). */
#define INDIR_OFFSET_NAME ".kafkatee-pipe.offset"

/* How much of a file's end is read to find its last line. */
#define INDIR_TAIL 4096

struct indir_cb {
        /* level 0 error, 1 warning, 2 info; the caller filters. */
        void (*log)(void *opaque, int level, const char *text);
        void *opaque;
};

struct indir_counts {
        uint64_t files;  /* taken */
        uint64_t stale;  /* of them, taken without a purge_close */
        uint64_t bytes;  /* read from them */
        uint64_t errors; /* files that could not be opened or removed */
};

enum indir_take {
        INDIR_NONE,  /* no complete file now: wait for the next scan */
        INDIR_SOON,  /* the first file is complete, not settled yet */
        INDIR_TAKEN, /* a file is open: indir_fd(), indir_name() */
};

/* The last line of a file's tail, as indir_tail_check() judges it. */
enum indir_tail {
        TAIL_CLOSED,  /* a purge_close marker, ended by a newline */
        TAIL_OPEN,    /* anything else: a record, a partial line, empty */
};

struct indir;

/*
 * Opens dir (readable and writable: files are removed) and reads its
 * offset file.  A complete file is taken once it has not been modified
 * for settle_ms and no writer holds a lock on it; one without its
 * purge_close once not modified for quiet_ms.  NULL with a message in
 * err.
 */
struct indir *indir_open(const char *dir, long long quiet_ms,
                         long long settle_ms, const struct indir_cb *cb,
                         char *err, size_t errlen);
void indir_close(struct indir *d);

/*
 * Scans the directory and takes the first file by name if it is complete
 * and settled (or stale at now_ms, the wall clock: said), positioned
 * where an earlier run stopped in it.  Only one file is taken at a time.
 */
enum indir_take indir_next(struct indir *d, int64_t now_ms);

/* The file taken: its descriptor, name, and the number of the line
 * before the first to be read (0, or where a resumed file stopped). */
int indir_fd(const struct indir *d);
const char *indir_name(const struct indir *d);
uint64_t indir_first_line(const struct indir *d);

/* n bytes were read from the file taken. */
void indir_read(struct indir *d, size_t n);

/*
 * Every line of the file taken was read and accounted for: it is removed
 * (and the directory synced).  0, or -1 (said and counted: the file is
 * not taken again by this run).
 */
int indir_done(struct indir *d);

/*
 * The run stops in the middle of the file taken: held bytes read are not
 * accounted for (the reader holds them), line_no is the last line handed
 * out.  The offset file says where the next run resumes.  0, or -1 (said).
 */
int indir_save(struct indir *d, uint64_t held, uint64_t line_no);

void indir_counts(const struct indir *d, struct indir_counts *c);

/* --- pure parts, for the tests ------------------------------------------- */

/*
 * buf holds a file's last len bytes; whole: they are the whole file (else
 * a last line that starts before buf is not a marker).
 */
enum indir_tail indir_tail_check(const char *buf, size_t len, int whole);

/*
 * The offset file's text: "OFFSET LINE NAME\n".  0 with name (malloc'd),
 * offset and line; -1 when it is not that.
 */
int indir_offset_parse(const char *text, size_t len, char **name,
                       uint64_t *offset, uint64_t *line);

#endif /* KT_INDIR_H */
