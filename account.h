/*
 * account.h: the last stage of the data path, where every line read ends.
 *
 * Owns: the counters, the dead-letter file (deadletter.h), the reports of
 * lost records on stderr and their rate limit, the check of pmacct's
 * purge markers, the latency from reading a line to its delivery report
 * and the time of the last delivery.
 *
 * The invariant it keeps: read = delivered + failed + invalid + skipped,
 * once every line read has had its outcome.  A line is counted read by
 * account_read(), then ends in exactly one of account_skipped(),
 * account_invalid(), account_delivered() or account_failed() (a line
 * produced is counted by account_produced() too, on its way).  The
 * module counts what it is told: the caller gives each line one outcome.
 *
 * A loss (invalid or failed) goes to the dead-letter file when there is
 * one; when there is none, or it cannot be written, it is reported
 * through cb.log: ACCOUNT_REPORTS_MAX of them in an interval of the
 * caller's (account_reports_end()), then one line saying the rest are
 * counted, and at the interval's end how many were not shown and why.
 * A dead-letter write that fails is reported through cb.fatal, once;
 * the file is not written again.
 *
 * The callbacks run inside the calls above, which may run inside
 * librdkafka (a delivery report): they must only record.
 */
#ifndef KT_ACCOUNT_H
#define KT_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "deadletter.h"
#include "reader.h"
#include "stats.h"
#include "transform.h"

/* Why a line was not delivered: the dead-letter file's "reason". */
enum loss_reason {
        LOSS_INVALID,  /* not a record the transform accepts */
        LOSS_TOO_LONG, /* longer than line.max */
        LOSS_DELIVERY, /* Kafka (or stdout) refused it or timed out */
        LOSS_SHUTDOWN, /* given up by the stop, or for want of memory */
        LOSS_ROUTE,    /* its topic or key cannot be made (route.h) */
        LOSS_SCHEMA,   /* an event that its stream's schema refuses */
        LOSS_ENCODE,   /* a value that its Avro field cannot hold */
        LOSS_REASONS   /* how many; reports count error events here */
};

/* Losses reported one by one in an interval (see kafkatee-pipe(1)). */
#define ACCOUNT_REPORTS_MAX 100

/*
 * "invalid", "too_long", "delivery", "shutdown", "route",
 * "schema", "encode": see
 * kafkatee-pipe(1).
 */
const char *loss_reason_name(enum loss_reason reason);

struct account_cb {
        /* level 0 error, 1 warning, 2 info; the caller filters. */
        void (*log)(void *opaque, int level, const char *text);
        /* The run cannot go on as documented: a dead-letter write failed. */
        void (*fatal)(void *opaque, const char *why);
        /*
         * NULL, or what the dead-letter file keeps of an input line (the
         * anonymize stage's privacy): the length of *out to keep instead
         * of the line, or -1: it is withheld.
         */
        long (*raw)(void *opaque, const char *line, size_t len,
                    int truncated, const char **out);
        void *opaque;
};

/* The fields are the module's: read them through the functions below. */
struct account {
        struct counters   c;
        struct deadletter dl;
        struct account_cb cb;
        int               report_all; /* dead-lettered losses too (-vv) */
        unsigned          reports;    /* reported this interval */
        /* Losses past the limit this interval: by reason (error events'
         * last), and of them those the dead-letter file has. */
        uint64_t          unshown[LOSS_REASONS + 1], unshown_kept;
        int               in_purge;   /* between purge_init and _close */
        uint64_t          purge_base; /* read - skipped at purge_init */
        /* pmacct splits a purge at a second's turn when print_output_file
         * has time variables, each piece framed by markers of the same
         * writer_id, each purge_close counting the pieces before it too:
         * the last purge_close's writer and count. */
        char              last_writer[64];
        size_t            last_writer_len;   /* 0: none, or too long */
        int64_t           last_announced;
        int64_t           carried;    /* announced by earlier pieces */
        struct latency    latency;    /* read to delivery report */
        uint64_t          progress_us;      /* last delivery, or idle */
        int64_t           last_delivery_ms; /* 0: none yet */
        const char       *input;      /* input.dir's file, or NULL */
};

/*
 * dead_letter: the file's path, or NULL for none.  report_all: every
 * loss goes to cb.log, dead-lettered or not.  Returns 0, or -1 with a
 * message in err.  An account never opened (all zero) may be closed.
 */
int account_open(struct account *acc, const char *dead_letter,
                 int report_all, const struct account_cb *cb, char *err,
                 size_t errlen);
/* Closes the dead-letter file; the counters stay readable. */
void account_close(struct account *acc);
/*
 * The end of an interval of loss reports (and the run's, before the
 * summary): says how many losses the limit left unsaid, by reason, and
 * lets the next ACCOUNT_REPORTS_MAX be said.
 */
void account_reports_end(struct account *acc);
/* SIGHUP: opens the dead-letter file again (logrotate moved it). */
void account_reopen(struct account *acc);

/* The outcomes of a line.  The counting ones are the hot path. */
static inline void account_read(struct account *acc)
{
        acc->c.read++;
}

/* Blank lines, pmacct's log lines and markers: nothing lost. */
static inline void account_skipped(struct account *acc)
{
        acc->c.skipped++;
}

/* Handed to the output: its outcome comes later. */
static inline void account_produced(struct account *acc)
{
        acc->c.produced++;
}

/* The spool (spool.dir): an event written to it, or sent from it. */
static inline void account_spooled(struct account *acc)
{
        acc->c.spooled++;
}

static inline void account_replayed(struct account *acc)
{
        acc->c.replayed++;
}

/* At the start: events an earlier run left in the spool, and its frames
 * found cut short or spoilt (lost in a crash: said on stderr). */
static inline void account_carried(struct account *acc, uint64_t events,
                                   uint64_t lost)
{
        acc->c.carried += events;
        acc->c.spool_lost += lost;
}

/* At the end: the events left in the spool for the next run. */
static inline void account_kept(struct account *acc, uint64_t events)
{
        acc->c.kept = events;
}

/* Not a record (invalid, or too_long when l->too_long): lost. */
void account_invalid(struct account *acc, const struct line *l,
                     const char *why);
/* Invalid for another reason than the transform's (LOSS_ROUTE,
 * LOSS_SCHEMA). */
void account_invalid_reason(struct account *acc, enum loss_reason reason,
                            const struct line *l, const char *why);
/* An event the schema refused: invalid, reason schema (LOSS_SCHEMA). */
static inline void account_schema_invalid(struct account *acc)
{
        acc->c.schema_invalid++;
}

/* Its error event was handed to the output (error.topic). */
static inline void account_error_produced(struct account *acc)
{
        acc->c.error_produced++;
}

/*
 * The error event of line line_no was delivered, or not (error: why):
 * not a loss of the line, which was dead-lettered when it was refused,
 * but said on stderr within the limit of loss reports.
 */
void account_error_outcome(struct account *acc, int delivered,
                           uint64_t line_no, const char *error);

/*
 * Delivered.  read_us: when its line was read (0: unknown, no latency);
 * now_us and now_ms: the monotonic and the wall clock, read by the
 * caller once for a batch of reports.
 */
void account_delivered(struct account *acc, uint64_t read_us,
                       uint64_t now_us, int64_t now_ms);

/*
 * Failed: l is the line as read (or what was kept of it); message says
 * why; error is librdkafka's error name, or NULL
 * (both go to the dead-letter record as they are).
 */
void account_failed(struct account *acc, enum loss_reason reason,
                    const struct line *l, const char *message,
                    const char *error);
/*
 * The same for a line that had become an event: ev, as it was built, goes
 * to the dead-letter record, so that --replay can produce it unchanged.
 */
void account_failed_event(struct account *acc, enum loss_reason reason,
                          const struct line *l, const struct dead_event *ev,
                          const char *message, const char *error);

/*
 * A marker line (after account_skipped()): checks that pmacct's
 * purge_close announced as many records as were read since its
 * purge_init, else counts a purge mismatch and says so.
 */
void account_marker(struct account *acc, const struct kt_event *ev);

/*
 * The input the losses from now on come from (input.dir: the file name,
 * kept by the caller; NULL: stdin, or not known).
 */
static inline void account_input(struct account *acc, const char *name)
{
        acc->input = name;
}

static inline const char *account_input_name(const struct account *acc)
{
        return acc->input;
}

/* A new input begins: a purge the last one left open ends with it. */
static inline void account_purge_reset(struct account *acc)
{
        acc->in_purge = 0;
}

/* Nothing waits for a report at now_us: idle is progress, not a stall. */
static inline void account_idle(struct account *acc, uint64_t now_us)
{
        acc->progress_us = now_us;
}

static inline const struct counters *account_counters(
        const struct account *acc)
{
        return &acc->c;
}

static inline const struct latency *account_latency(
        const struct account *acc)
{
        return &acc->latency;
}

/* The last delivery, or idle, on the monotonic clock. */
static inline uint64_t account_progress_us(const struct account *acc)
{
        return acc->progress_us;
}

/* The last delivery on the wall clock; 0: none yet. */
static inline int64_t account_last_delivery_ms(const struct account *acc)
{
        return acc->last_delivery_ms;
}

#endif /* KT_ACCOUNT_H */
