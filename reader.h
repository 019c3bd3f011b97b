/*
 * reader.h: newline framing of a byte stream, with a bound on line length.
 *
 * Pure: the caller reads into the space lr_space() hands out; lr_next()
 * cuts lines out of what was read.  A line may hold any byte.
 */
#ifndef KT_READER_H
#define KT_READER_H

#include <stddef.h>
#include <stdint.h>

/* How much of an over-long line is kept for the dead-letter file. */
#define LR_LONG_PREFIX 4096

struct line_reader {
        char    *buf;
        size_t   cap;       /* allocated */
        size_t   start;     /* first byte not yet handed out */
        size_t   scan;      /* no newline in [start, scan) */
        size_t   len;       /* bytes held */
        size_t   max_line;  /* longest line accepted, without newline */
        int      skipping;  /* inside an over-long line, dropping bytes */
        uint64_t line_no;   /* number of the line last handed out */
};

struct line {
        const char *data;
        size_t      len;
        int         too_long; /* data holds only the first bytes */
        uint64_t    no;
};

int lr_init(struct line_reader *lr, size_t max_line);
void lr_free(struct line_reader *lr);

/* Space to read into: at least one byte, or -1 when out of memory. */
int lr_space(struct line_reader *lr, char **p, size_t *n);
void lr_commit(struct line_reader *lr, size_t n);

/*
 * The next complete line (newline and a CR before it removed), 1; or 0 when
 * more input is needed.  With at_eof, a last line without newline counts.
 * The line stays valid until the next lr_space().
 */
int lr_next(struct line_reader *lr, int at_eof, struct line *out);

/*
 * Forgets what is held (a new input begins); the next line handed out is
 * numbered line_no + 1.
 */
void lr_reset(struct line_reader *lr, uint64_t line_no);

/* Bytes held that lr_next() has not handed out yet. */
size_t lr_pending(const struct line_reader *lr);

#endif /* KT_READER_H */
