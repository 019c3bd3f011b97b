/*
 * kafkatee-pipe.h: the running program, shared by its modules.
 */
#ifndef KAFKATEE_PIPE_H
#define KAFKATEE_PIPE_H

#include <stdint.h>
#include <stdio.h>

#include <ev.h>
#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "deadletter.h"
#include "reader.h"
#include "stamp.h"
#include "stats.h"
#include "transform.h"

/* Exit codes: see EXIT STATUS in kafkatee-pipe(1). */
enum {
        EXIT_DELIVERED = 0,
        EXIT_USAGE = 1,
        EXIT_FATAL = 2,
        EXIT_LOST = 3,
};

/*
 * A message on its way: the event, then the input line (kept only for a
 * dead-letter file), then the key.  librdkafka sends it without a copy,
 * and blocks of one size are recycled (msg_get()): no malloc per record.
 */
struct msg {
        struct msg *prev, *next; /* in flight; or the spare list */
        uint64_t read_us;        /* when its line was read: latency */
        uint64_t line_no;
        size_t   value_len, raw_len, key_len;
        size_t   room;           /* data bytes of the block */
        int64_t  timestamp_ms;
        char     data[];
};

struct stats_state {
        struct latency latency;      /* read to delivery report */
        uint64_t       start_us;
        uint64_t       paused_since_us;
        uint64_t       backpressure_us; /* total, up to the last resume */
        uint64_t       progress_us;  /* last delivery, or idle */
        int64_t        last_delivery_ms;
        int            stalled;
        char          *rdkafka_json; /* librdkafka's latest statistics */
};

struct app {
        struct conf          conf;
        struct kt_transform *tf;
        struct uuid_pool     ids;
        struct line_reader   lr;
        struct deadletter    dl;
        struct counters      c;
        struct stats_state   st;
        struct ev_loop      *loop;
        char                *topic;

        ev_io     stdin_w, kafka_w;
        ev_timer  tick_w, drain_w, flush_w, stats_w;
        ev_signal sigint_w, sigterm_w, sighup_w, sigusr1_w;
        ev_prepare prepare_w;

        rd_kafka_t       *rk;
        rd_kafka_topic_t *rkt;
        int               kafka_pipe[2];
        struct msg       *pending;  /* refused with QUEUE_FULL, retried */
        struct msg       *spare;    /* recycled blocks (msg_get()) */
        size_t            room;     /* their data bytes */
        struct msg       *inflight; /* produced, no delivery report yet */
        struct msg       *inflight_tail;
        int64_t           in_flight, in_flight_bytes;

        int      to_stdout;
        int      paused;     /* stdin watcher stopped for backpressure */
        int      eof;
        int      flushing;   /* no more input will be produced */
        int      signals;
        int      fatal;      /* a fatal runtime error happened */
        int      unread;     /* stopped before the end of stdin */
        int      gave_up;    /* flush timed out and the queue was purged */
        uint64_t purge_count;  /* records since the last purge_init */
        int      in_purge;
        unsigned complaints;   /* invalid records reported on stderr */
        uint64_t pump_us;      /* when the lines being handled were read */
        uint64_t serve_us;     /* when the reports being served arrived */
        int64_t  serve_ms;     /* the same on the wall clock */
};

void ktp_log(const struct app *a, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Output: Kafka, or stdout with --stdout.  See output.c. */
int output_open(struct app *a, char *err, size_t errlen);
void output_close(struct app *a);
/* Produces m: 0 taken (m now belongs to the output), 1 queue full, -1 failed. */
int output_produce(struct app *a, struct msg *m);
void output_serve(struct app *a);
void output_purge(struct app *a);

/* Called by the output for each message's outcome; frees m. */
void app_delivered(struct app *a, struct msg *m, int ok, const char *error);
void app_fatal(struct app *a, const char *why);

/* Time spent with stdin stopped by backpressure, the current pause too. */
uint64_t backpressure_us(const struct app *a);

#endif /* KAFKATEE_PIPE_H */
