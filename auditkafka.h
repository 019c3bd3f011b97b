/*
 * auditkafka.h: the Kafka source of kafkatee-pipe --audit: reads each
 * partition of the topics from its start (or from --since) to its high
 * watermark taken at start, and hands each message's value to a callback
 * (auditmain.c parses it as it parses a line of a file).
 *
 * It assigns partitions itself: no consumer group, nothing committed, so
 * an audit moves nobody's offsets.  Messages are not kept: each is handed
 * over and destroyed.
 */
#ifndef KT_AUDITKAFKA_H
#define KT_AUDITKAFKA_H

#include <stddef.h>
#include <stdint.h>

#define AK_SINCE_NONE  INT64_MIN  /* no --since: from each partition's start */

struct ak_opts {
        const char  *brokers;
        const char **topics;      /* -t, once or more */
        size_t       ntopics;
        const char **props;       /* -X key=value, in order */
        size_t       nprops;
        int64_t      since_ms;    /* AK_SINCE_NONE, or epoch ms */
};

/* One message's value: 0 to go on, -1 to stop (out of memory). */
typedef int (*ak_value_fn)(const char *buf, size_t len, void *arg);

/*
 * Reads what o names, each value to fn; notes on stderr (a partition that
 * retention trimmed).  0 when every partition was read to its high
 * watermark, -1 after a message on stderr (usage, connection, topic), -2
 * when fn stopped.
 */
int ak_read(const struct ak_opts *o, ak_value_fn fn, void *arg);

/*
 * --since's TIME: ISO 8601 UTC (2026-11-30T12:00:00Z, seconds and a
 * fraction of them optional) or milliseconds since the epoch.  Pure: 0
 * and *ms, or -1.
 */
int ak_parse_since(const char *s, int64_t *ms);

#endif /* KT_AUDITKAFKA_H */
