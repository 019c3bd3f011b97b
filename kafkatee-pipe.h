/*
 * kafkatee-pipe.h: the running program, shared by its modules.
 */
#ifndef KAFKATEE_PIPE_H
#define KAFKATEE_PIPE_H

#include <stdint.h>
#include <stdio.h>

#include <ev.h>

#include "account.h"
#include "clock.h"
#include "config.h"
#include "msgpool.h"
#include "output.h"
#include "reader.h"
#include "route.h"
#include "stamp.h"
#include "stats.h"
#include "transform.h"
#include "validate.h"
#include "errevent.h"
#include "sender.h"
#include "dlread.h"
#include "evedit.h"
#include "enrich.h"
#include "geoip.h"
#include "anonymize.h"
#include "salt.h"
#include "avroenc.h"
#include "indir.h"
#include "notify.h"

/* Exit codes: see EXIT STATUS in kafkatee-pipe(1). */
enum {
        EXIT_DELIVERED = 0,
        EXIT_USAGE = 1,
        EXIT_FATAL = 2,
        EXIT_LOST = 3,
        EXIT_KEPT = 4,  /* nothing lost, events kept in the spool */
};

struct stats_state {
        uint64_t       start_us;
        int64_t        start_ms;        /* the same, on the wall clock */
        uint64_t       paused_since_us;
        uint64_t       backpressure_us; /* total, up to the last resume */
        int            stalled;
        char          *rdkafka_json; /* librdkafka's latest statistics */
};

/*
 * Where a record goes: the topic and key templates with %{field:NAME}
 * (route.h), expanded per record into the buffers, and the headers.
 */
struct routing {
        struct route_tmpl   topic;  /* no fields: every record to topic 0 */
        struct route_tmpl   key;    /* no parts: key = FIELD, or none */
        struct route_fields fields; /* the transform's capture slots */
        struct kvlist       headers; /* header.NAME values, expanded */
        char               *topic_buf, *key_buf;
        size_t              topic_cap, key_cap;
        char                err[256];
};

/* How far the stop signals have gone: see signal_cb(). */
enum stop_level {
        STOP_NONE,      /* no signal */
        STOP_DRAIN,     /* reading stdin until EOF or drain.timeout.ms */
        STOP_NOW,       /* reading stopped, flushing for a short while */
        STOP_GIVE_UP,   /* the flush given up */
};

/* The directory input's file (input.dir): see input_take(). */
enum input_file {
        INPUT_NONE,     /* none taken: the scan looks for a complete one */
        INPUT_READING,  /* one is read, through stdin_w */
        INPUT_SETTLING, /* read to its end: its records' outcomes awaited,
                         * then it is removed and the next taken */
};

struct app {
        struct conf          conf;
        struct kt_transform *tf;
        struct validator    *val;   /* NULL: no schema.dir */
        int                  staged; /* a stage after the transform is on
                                      * (enrich, anonymize): the event is
                                      * indexed and edited */
        struct ev_edits      edits;  /* theirs, for the event in hand */
        struct ev_editor     editor;
        struct enrich       *enrich; /* NULL: no enrich.* key set */
        struct geoip        *geo;    /* its sources */
        struct enrich_lookup lookup; /* geoip_lookup on geo */
        struct anonymizer   *anon;  /* NULL: no anonymize rule */
        struct salt          salt;  /* the hash rules' (salt.h) */
        struct avroenc      *enc;   /* NULL: encoding = json */
        struct errevent_conf errconf; /* error events, when error_topic */
        char                *error_stream; /* errconf.stream */
        int                  error_topic;  /* output_topic()'s, or -1 */
        struct uuid_pool     ids;
        char                 run[40]; /* sequence: the run's name */
        uint64_t             sequence; /* the events numbered so far */
        struct line_reader   lr;
        int                  replay; /* --replay: lr reads a dead-letter
                                      * file, dlr its records */
        struct dl_reader     dlr;
        struct indir        *in;    /* input.dir, or NULL: stdin */
        enum input_file      in_state;
        uint32_t             in_gen; /* files taken so far (msg.input_gen) */
        struct account       acc;   /* where every line read ends */
        struct stats_state   st;
        struct ev_loop      *loop;
        char                *topic; /* or its template: the label */
        struct routing       rt;

        ev_io     stdin_w;
        ev_timer  tick_w, drain_w, flush_w, stats_w;
        ev_timer  salt_w;   /* anonymize.salt.rotate */
        ev_timer  loss_w;   /* loss.report.interval.ms */
        ev_signal sigint_w, sigterm_w, sighup_w, sigusr1_w;
        ev_prepare prepare_w;
        ev_idle   more_w;   /* more to send from the spool now */
        ev_timer  scan_w;   /* input.dir.scan.ms */

        struct output    *out;      /* NULL until opened */
        struct msgpool    pool;
        struct msg       *pending;  /* not taken (SEND_HOLD): sent first
                                     * when input resumes */
        struct sender    *snd;      /* the send stage, and the spool */
        struct notify    *notify;   /* systemd's, or NULL: not under it */

        int      to_stdout;
        int      paused;     /* stdin watcher stopped for backpressure */
        int      brokers_down; /* librdkafka said so, no delivery since */
        int      eof;        /* of stdin; of the file (input.dir) */
        int      flushing;   /* no more input will be produced */
        enum stop_level stop; /* the signals so far */
        int      fatal;      /* a fatal runtime error happened */
        int      fatal_handled; /* ... and before_block() acted on it */
        int      out_closed; /* stdout's reader went away: stop reading */
        int      unread;     /* stopped before the end of stdin */
        int      gave_up;    /* flush timed out and the queue was purged */
        uint64_t pump_us;      /* when the lines being handled were read */
        uint64_t serve_us;     /* the first report of this loop turn, or 0:
                                  one clock reading serves them all */
        int64_t  serve_ms;     /* the same on the wall clock */
};

void ktp_log(const struct app *a, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* The same at a priority of journal.h's (enum log_prio), not the one
 * its level gives. */
void ktp_say(const struct app *a, int level, int prio, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Time spent with stdin stopped by backpressure, the current pause too. */
uint64_t backpressure_us(const struct app *a);

#endif /* KAFKATEE_PIPE_H */
