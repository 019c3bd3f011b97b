/*
 * deadletter.h: the dead-letter file, one JSON object per record that was
 * not delivered, with the reason and the original input line.
 */
#ifndef KT_DEADLETTER_H
#define KT_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct deadletter {
        FILE *fp;    /* NULL: no dead-letter file configured */
        char *path;
        int   error; /* errno of the write that failed; 0: none did */
};

struct dead_record {
        const char *reason;  /* invalid, too_long, delivery, shutdown */
        const char *message; /* human-readable detail */
        const char *error;   /* librdkafka's error name, or NULL */
        uint64_t    line_no;
        const char *raw;
        size_t      raw_len;
        int         truncated;
};

int dl_open(struct deadletter *dl, const char *path, char *err,
            size_t errlen);
/*
 * Returns 0, or -1 with errno set when the record could not be written.
 * After a failure the file is not written again: dl_usable() says 0.
 */
int dl_write(struct deadletter *dl, const struct dead_record *r);
/* Is there a file that takes records? */
int dl_usable(const struct deadletter *dl);
/* Opens the file again by its name: after logrotate moved it. */
int dl_reopen(struct deadletter *dl);
void dl_close(struct deadletter *dl);

#endif /* KT_DEADLETTER_H */
