/*
 * deadletter.h: the dead-letter file, one JSON object per record that was
 * not delivered, with the reason, the original input line and, when the
 * record had become an event, that event as it was built: enough for
 * --replay (dlread.h) to produce it again unchanged.
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

/* An event built and not delivered: what produced it, byte for byte. */
struct dead_event {
        const char *topic;      /* its topic's name */
        size_t      topic_len;
        const char *key;        /* NULL: no key */
        size_t      key_len;
        const char *value;
        size_t      value_len;
        int64_t     timestamp_ms; /* the Kafka message's timestamp */
};

struct dead_record {
        const char *reason;  /* invalid, too_long, delivery, shutdown */
        const char *message; /* human-readable detail */
        const char *error;   /* librdkafka's error name, or NULL */
        uint64_t    line_no;
        const char *raw;
        size_t      raw_len;
        int         truncated;
        const char *withheld; /* raw NULL: why ("raw_withheld") */
        const struct dead_event *event; /* NULL: it never became one */
        const char *input;    /* input.dir: the file of line_no; NULL */
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
