/*
 * output.h: where events go.  Kafka through librdkafka, served from the
 * event loop, or stdout.
 *
 * Owns: the rd_kafka_t and its topics (one rd_kafka_topic_t each, found
 * by name through a hash, up to opts.topic_max), the headers every
 * message carries, stdout's format compiled (kcat's -f tokens) and
 * whether its reader went away, the pipe librdkafka writes to when
 * its main queue turns non-empty and the ev_io watcher on it, and the
 * list of messages produced but not yet reported (with their count and
 * bytes).  A message handed to output_produce() belongs to the output
 * until it comes back, exactly once, through cb.delivered.
 *
 * Callbacks run from output_serve(), output_produce() or output_close().
 * cb.delivered may run inside rd_kafka_poll(): it must not call back
 * into the output (output_serve() aborts if re-entered that way), only
 * record.  cb.fatal runs after rd_kafka_poll() returned (librdkafka's
 * error callback only records it), so it may act; the program still
 * leaves the stopping to its loop.
 */
#ifndef KT_OUTPUT_H
#define KT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "msgpool.h"

enum output_mode { OUTPUT_KAFKA, OUTPUT_STDOUT };
/* How stdout frames a message: a line (JSON), or its length first (4
 * bytes, big-endian, as kcat -C -f '%R%s': binary values). */
enum output_framing { OUTPUT_FRAME_LINE, OUTPUT_FRAME_LENGTH };

/* Read by output_open() only: the strings need not outlive it. */
struct output_opts {
        enum output_mode     mode;
        enum output_framing  framing;   /* stdout's */
        const char          *format;    /* stdout's, or NULL: framing */
        const char          *brokers;   /* NULL: from props */
        const char          *topic;     /* topic 0, or NULL: none yet */
        long long            topic_max; /* distinct topics; < 1: 1 */
        const struct kvlist *headers;   /* Kafka headers, or NULL */
        const struct kvlist *props;     /* librdkafka properties, -X */
        const char          *client_id; /* the default client.id */
        int                  rdkafka_stats;  /* librdkafka's statistics */
        long long            stats_interval_ms;
};

/* How a message ended. */
enum output_outcome {
        OUTPUT_DELIVERED,  /* acknowledged (stdout: written and flushed) */
        OUTPUT_FAILED,     /* refused for good, or a write error */
        OUTPUT_RETRIABLE,  /* failed, but the broker was away or busy:
                            * a later try may succeed (timed out, no
                            * broker, no leader) */
        OUTPUT_PURGED,     /* given up by output_purge() */
        OUTPUT_NO_REPORT,  /* still in flight at output_close() */
};

struct output_cb {
        /* m comes back to the caller; error is NULL when delivered. */
        void (*delivered)(void *opaque, struct msg *m,
                          enum output_outcome outcome, const char *error);
        /* The output cannot go on (librdkafka's fatal error, stdout). */
        void (*fatal)(void *opaque, const char *why);
        /* stdout's reader went away (EPIPE), or NULL: then it is fatal.
         * Called once, before the messages not written come back
         * (OUTPUT_FAILED); later ones are refused without a write. */
        void (*closed)(void *opaque);
        /* librdkafka's statistics JSON, when opts.rdkafka_stats. */
        void (*rdkafka_stats)(void *opaque, const char *json, size_t len);
        /* level 0 error, 1 warning, 2 info. */
        void (*log)(void *opaque, int level, const char *text);
        /* librdkafka says no broker is up (ALL_BROKERS_DOWN), or NULL.
         * Called by output_serve() after its poll: the callback may
         * output_purge() and output_serve(). */
        void (*brokers_down)(void *opaque);
        void *opaque;
};

/* What output_produce() did with a message. */
enum output_taken {
        OUTPUT_TAKEN,       /* it is the output's until cb.delivered */
        OUTPUT_QUEUE_FULL,  /* not taken: try again after serving */
        OUTPUT_REFUSED,     /* already reported failed through cb */
};

struct output;

/*
 * The librdkafka configuration that output_open() would give a producer
 * of opts: the program's defaults (acks, idempotence, ...), then
 * opts->client_id, the statistics, opts->brokers and opts->props, which
 * win; no callback.  For -X dump and checks: nothing connects.  NULL
 * with a message in err ("kafka property NAME: ...").
 */
rd_kafka_conf_t *output_kafka_conf(const struct output_opts *opts, char *err,
                                   size_t errlen);

/*
 * Checks opts.format, kcat's -f tokens: %t topic, %p partition (-1: not
 * chosen on stdout), %k key, %K its length (-1: none), %s value, %S its
 * length, %T timestamp (ms), %h headers (name=value,...), %R the value's
 * length in 4 bytes big-endian, %% a percent sign; \n, \r, \t and
 * \\ escapes.  0, or -1 with a message in err.
 */
int output_format_check(const char *format, char *err, size_t errlen);

/*
 * NULL with a message in err.  With OUTPUT_STDOUT and props, the producer
 * a Kafka output would make is made without its brokers and destroyed
 * at once: what librdkafka refuses fails the dry run too, and nothing
 * connects.
 */
struct output *output_open(const struct output_opts *opts,
                           const struct output_cb *cb, struct ev_loop *loop,
                           char *err, size_t errlen);
/*
 * Stops the watcher and destroys the producer without waiting; what is
 * still in flight comes back as OUTPUT_NO_REPORT.  Takes NULL.
 */
void output_close(struct output *o);

/*
 * The id of topic name (len bytes, not NUL-terminated), opened on first
 * use; a message goes to topic m->topic.  The last one looked up is
 * checked first, then a hash: no allocation once a topic is open.
 * Returns -1 with a message in err when it would be topic
 * opts.topic_max + 1, or librdkafka refused it.  Any named topic (an
 * error topic too) is produced to with the same reports and accounting.
 */
int output_topic(struct output *o, const char *name, size_t len, char *err,
                 size_t errlen);
/* Topic id's name, or NULL. */
const char *output_topic_name(const struct output *o, int id);

enum output_taken output_produce(struct output *o, struct msg *m);
/* Serves delivery reports, errors and logs: never blocks. */
void output_serve(struct output *o);
/* Gives up what is queued: each comes back as OUTPUT_PURGED. */
void output_purge(struct output *o);

int64_t output_in_flight(const struct output *o);
/* Their blocks' bytes (msg_size()), for queue.high.bytes. */
int64_t output_in_flight_bytes(const struct output *o);
/*
 * Nothing of input in flight: every event in flight has its frame in the
 * spool (msg.spooled), or there is none.  Walks the list up to the first
 * that has none (input.dir, at the end of a file).
 */
int output_settled(const struct output *o);

#endif /* KT_OUTPUT_H */
