/*
 * sender.h - the send stage: each message goes to the output now, or,
 * with a disk spool (spool.dir), waits in the spool until the output has
 * room and a broker is up, and is sent from there oldest first.
 *
 * The sender owns the spool, the link state (are brokers up?), the
 * high-water marks of the output and what each delivery outcome means
 * for a spooled event.  It counts what it does in the caller's account,
 * takes blocks from and gives them back to the caller's pool, and calls
 * back for messages and fatal errors.
 */
#ifndef KT_SENDER_H
#define KT_SENDER_H

#include <stdint.h>

#include <ev.h>

#include "account.h"
#include "msgpool.h"
#include "output.h"
#include "spool.h"
#include "stats.h"

enum sender_mode {
        SENDER_OVERFLOW,    /* spooled when it cannot be sent now */
        SENDER_WRITE_AHEAD, /* every event spooled before it is sent */
};

struct sender_opts {
        struct spool_opts spool;     /* .dir NULL: no spool */
        enum sender_mode  mode;
        double            sync_interval_s; /* SPOOL_SYNC_INTERVAL's timer */
        int64_t           high_messages; /* in flight: queue.high.* */
        int64_t           high_bytes;
};

struct sender_cb {
        /* level 0 error, 1 warning, 2 info. */
        void (*log)(void *opaque, int level, const char *text);
        /* The spool cannot be written or read: the run stops. */
        void (*fatal)(void *opaque, const char *why);
        void *opaque;
};

/* The caller's modules the sender works with. */
struct sender_links {
        struct output  *out;
        struct msgpool *pool;
        struct account *acc;
        struct ev_loop *loop;
};

enum sender_result {
        SEND_GO_ON, /* m is sent, spooled or reported: input goes on */
        SEND_PAUSE, /* the same, but input waits for room (no spool) */
        SEND_HOLD,  /* m was not taken: the caller keeps it, input waits,
                     * and m is the first thing sent again */
};

/*
 * Opens the spool (when opts->spool.dir), counts and says what an earlier
 * run left in it.  NULL with a message in err.
 */
struct sender *sender_open(const struct sender_opts *opts,
                           const struct sender_cb *cb,
                           const struct sender_links *links, char *err,
                           size_t errlen);
void sender_close(struct sender *s);

enum sender_result sender_send(struct sender *s, struct msg *m);

/*
 * Writes the write-ahead frames buffered this loop turn (and the done
 * marks): before the loop waits.  A disk that refuses them is said, and
 * their events, sent already, go on without a frame.
 */
void sender_flush(struct sender *s);

/*
 * Sends what waits in the spool while the output has room (one at a
 * time while no broker is up: the first delivery says they are back), a
 * slice a loop turn so that stdin is read in between: 1 when more could
 * be sent now (the loop must come back without waiting).
 */
int sender_drain(struct sender *s);

/* 1 when m's outcome was dealt with here (spooled again, or kept). */
int sender_outcome(struct sender *s, struct msg *m,
                   enum output_outcome how);

/* librdkafka says no broker is up: what it holds goes to the spool. */
void sender_brokers_down(struct sender *s);

/* Events wait in the spool. */
int sender_waiting(const struct sender *s);

/*
 * What the spool holds reaches the disk now, unless spool.fsync = never
 * (input.dir is to remove the file its events were read from): 0, or -1
 * (said; the spool is broken, the run stops).
 */
int sender_sync(struct sender *s);

/* Input may go on: in flight is below half the high-water marks. */
int sender_has_room(const struct sender *s);

/* m, never to be sent this run, kept in the spool: 0; else -1. */
int sender_keep(struct sender *s, struct msg *m);

/* After the output is closed: what the spool keeps is counted and said,
 * and synced.  -1 when it cannot be synced (said). */
int sender_finish(struct sender *s);

void sender_snapshot(const struct sender *s, struct stats_snapshot *snap);

#endif /* KT_SENDER_H */
