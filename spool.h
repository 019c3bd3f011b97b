/*
 * spool.h: a spool on disk for the events Kafka cannot take now.
 *
 * Events are frames appended to segment files under one directory, in the
 * order they were read, and handed back oldest first.  A frame holds the
 * event as it was built (its topic, key, timestamp, value, and the input
 * line for a dead-letter file) with its length and a CRC-32 of it, so that
 * a frame cut short by a crash is found at the next start.  A frame is
 * done when its delivery is acknowledged, or when it can never be
 * delivered: spool_done() adds its offset to the segment's ack file, and
 * a segment whose every frame is done is deleted.  One process per
 * directory: a lock.
 *
 * What survives what: a frame whose write() returned survives the death
 * of the process (the kernel has it); a frame that was synced survives a
 * power loss too (SPOOL_SYNC_*).  A done mark that did not reach the disk
 * before a power loss makes a duplicate at the next start, with the same
 * meta.id.
 *
 * Segment files are DIR/<20 digits>.seg and their acks DIR/<20 digits>.ack
 * (offsets, 4 bytes each, little-endian); DIR/lock holds the pid.  A frame
 * is a 16-byte head (magic "KTS1", payload length, CRC-32 of the payload,
 * 0) and its payload (see spool.c).  Everything is little-endian.
 *
 * No event loop here: the caller decides when to append, replay and sync.
 */
#ifndef KT_SPOOL_H
#define KT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct spool;

enum spool_sync {
        SPOOL_SYNC_INTERVAL, /* spool_sync() when the caller's timer says */
        SPOOL_SYNC_ALWAYS,   /* each frame synced before spool_append()
                              * returns */
        SPOOL_SYNC_NEVER     /* left to the kernel */
};

struct spool_opts {
        const char     *dir;
        uint64_t        max_bytes;     /* all segments; 0: no bound */
        uint64_t        segment_bytes; /* a segment is closed past this */
        enum spool_sync sync;
};

/* An event as spooled.  What spool_next() fills points into the spool's
 * buffer, valid until the next call. */
struct spool_rec {
        int         kind;        /* the caller's (enum msg_kind) */
        int64_t     timestamp_ms;
        uint64_t    line_no;
        int64_t     spooled_ms;  /* when it was appended (wall clock) */
        const char *topic;
        size_t      topic_len;
        const char *key;         /* NULL: no key */
        size_t      key_len;
        const char *value;
        size_t      value_len;
        const char *raw;         /* the input line, or NULL */
        size_t      raw_len;
        int         again;       /* spool_next(): handed out before and
                                  * given back (spool_again()) */
};

/* Where a frame is: what spool_done() takes. */
struct spool_id {
        uint64_t seg;
        uint32_t off;
};

/* What opening found, for the caller to say. */
struct spool_found {
        uint64_t frames;   /* left to send from an earlier run */
        uint64_t bytes;
        uint64_t torn;     /* frames cut short at a segment's end */
        uint64_t corrupt;  /* whole frames whose checksum failed */
        uint64_t lost_bytes; /* the bytes of those, cut or skipped */
};

struct spool_stats {
        uint64_t bytes;     /* of the segment files */
        uint64_t frames;    /* not done */
        uint64_t pending;   /* not yet handed out by spool_next() */
        int64_t  oldest_ms; /* spooled_ms of the oldest segment holding a
                             * frame not done; 0: none */
        uint64_t appended;  /* frames appended since spool_open() */
        uint64_t replayed;  /* frames handed out by spool_next() */
        uint64_t torn, corrupt; /* found at open, and while replaying */
};

enum spool_result {
        SPOOL_OK,
        SPOOL_FULL,   /* max_bytes would be passed: nothing written */
        SPOOL_NOSPACE, /* the disk refused (ENOSPC, EDQUOT, EFBIG):
                        * nothing kept */
        SPOOL_ERROR,  /* another I/O error: err says */
        SPOOL_FLUSH   /* spool_append_later(): spool_flush() first */
};

/* What spool_append_later() holds before it says SPOOL_FLUSH. */
#define SPOOL_BUFFER_MAX (1u << 20)

/*
 * Locks dir (made if missing), scans its segments and the acks, cuts a
 * torn last frame off, and makes ready to hand out the frames not done,
 * oldest first.  NULL with a message in err: the directory is in use by
 * another process, unreadable, or out of memory.
 */
struct spool *spool_open(const struct spool_opts *o, struct spool_found *f,
                         char *err, size_t errlen);
void spool_close(struct spool *s);

/*
 * Appends r (spooled_ms: now_ms); *id says where.  taken: the caller
 * sends it now itself (a write-ahead copy), so spool_next() does not hand
 * it out: only when nothing is pending (spool_pending() is 0), or the
 * order of the events would change.
 */
enum spool_result spool_append(struct spool *s, const struct spool_rec *r,
                               int64_t now_ms, int taken,
                               struct spool_id *id, char *err,
                               size_t errlen);

/*
 * Appends r as taken, into a buffer that spool_flush() writes: many
 * frames in one write (spool.mode = always).  The caller sends r now and
 * must call spool_flush() before its delivery report can be served, and
 * before the loop waits; until then a crash loses the frame.  SPOOL_FLUSH
 * when the buffer is to be flushed first (full, or its segment closed);
 * SPOOL_FULL as spool_append().
 */
enum spool_result spool_append_later(struct spool *s,
                                     const struct spool_rec *r,
                                     int64_t now_ms, struct spool_id *id,
                                     char *err, size_t errlen);

/*
 * Writes the buffered frames (synced with SPOOL_SYNC_ALWAYS) and the
 * done marks not yet written.  SPOOL_NOSPACE or SPOOL_ERROR: the
 * buffered frames are not in the spool (their ids mean nothing).
 */
enum spool_result spool_flush(struct spool *s, char *err, size_t errlen);

/*
 * The oldest frame not handed out yet: 1 with *r and *id, 0 when there is
 * none, -1 on an I/O error (err).  A frame whose checksum fails is
 * counted, marked done and skipped.
 */
int spool_next(struct spool *s, struct spool_rec *r, struct spool_id *id,
               char *err, size_t errlen);

/*
 * The frame at id, handed out and not done, is to be handed out again
 * (the broker went away): before every frame after it, so the order
 * holds.  0, or -1 (out of memory).
 */
int spool_again(struct spool *s, struct spool_id id, char *err,
                size_t errlen);

/* 1 when a frame waits to be handed out by spool_next(). */
int spool_pending(const struct spool *s);

/* The frame at id is done: delivered, or never to be.  Its mark is
 * written by spool_flush(), spool_sync(), or when enough are held: a
 * crash before that sends the event again.  Not while frames are
 * buffered (spool_flush() first).  0, or -1 (err). */
int spool_done(struct spool *s, struct spool_id id, char *err,
               size_t errlen);

/* Syncs what was appended and marked done since the last sync. */
int spool_sync(struct spool *s, char *err, size_t errlen);

void spool_stats(const struct spool *s, struct spool_stats *st);

#endif /* KT_SPOOL_H */
