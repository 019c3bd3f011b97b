/*
 * audit.h: the loss audit's accounting (kafkatee-pipe --audit).
 *
 * Each event carries its producer (meta.domain), its run (sequence_run:
 * one start of the producer) and its number in the run (sequence, from
 * 1).  A restart starts a new run at 1, so only a number missing inside a
 * run is an event built and not delivered.  The audit is fed one event at
 * a time, in any order (a topic's partitions interleave), by whatever
 * reads them: a file today, a Kafka consumer later.
 *
 * Memory is proportional to the runs and their gaps, not to the events:
 * a run keeps the numbers seen as disjoint, non-adjacent intervals,
 * merged as they fill, in a treap (a balanced tree: a topic read one
 * partition after another inserts anywhere among millions of intervals,
 * which a sorted array would move on each insert), and a bounded window
 * of meta.id hashes
 * (a table indexed by number modulo its size) to tell a redelivery (the
 * same id) from two events given one number (another id).  A duplicate
 * whose number has left the window cannot be compared.
 *
 * What it cannot see: numbers after the last one that arrived from a run.
 *
 * Pure: no I/O, no globals.
 */
#ifndef KT_AUDIT_H
#define KT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

/* Numbers are 1..AUDIT_SEQ_MAX (a JSON integer json-c reads exactly). */
#define AUDIT_SEQ_MAX  INT64_MAX
#define AUDIT_WINDOW   65536   /* ids kept per run, at most */

enum audit_seen {
        AUDIT_ERROR = -1,       /* out of memory: free the audit, no report */
        AUDIT_NEW = 0,          /* a number not seen before */
        AUDIT_DUP_SAME,         /* seen, with the same meta.id */
        AUDIT_DUP_OTHER,        /* seen, with another meta.id */
        AUDIT_DUP_UNKNOWN,      /* seen, its id out of the window */
};

/* An interval of the treap: in a run's pool, linked by index (0: none). */
struct audit_node {
        uint64_t lo, hi;        /* numbers lo..hi seen, inclusive */
        uint32_t l, r;          /* lower and higher intervals */
        uint32_t prio;          /* a heap on it keeps the tree balanced */
};

struct audit_slot {
        uint64_t seq;           /* 0: empty */
        uint64_t hash;          /* of the meta.id */
};

struct audit_run {
        char              *domain, *run;  /* the producer and its run */
        struct audit_node *nd;            /* the pool; nd[0] unused */
        size_t             nnd, cap;
        uint32_t           root, freed;   /* freed: a list through l */
        uint32_t           rng;           /* the priorities */
        size_t             niv;           /* intervals in the tree */
        uint64_t           first, last, distinct;
        struct audit_slot *win;           /* seq % nwin */
        size_t             nwin;          /* grows to the audit's window */
        uint64_t           events;        /* every event, duplicates too */
        uint64_t           dup[3];        /* same, other, unknown id */
        int                from_first;    /* the audit's, at creation */
};

struct audit {
        struct audit_run **runs;  /* sorted by (domain, run) */
        size_t             nruns, cap;
        size_t             window;
        struct audit_run  *last;  /* the run of the previous event */
        uint64_t           unreadable;
        /*
         * Set before the first event: numbers below a run's first seen
         * are not judged (an audit from a time, which starts inside runs).
         */
        int                from_first;
};

/* window: the ids kept per run (0: AUDIT_WINDOW); a power of 2 or not. */
void audit_init(struct audit *a, size_t window);
void audit_free(struct audit *a);

/* One event; seq in 1..AUDIT_SEQ_MAX (the caller checks), id may be NULL. */
enum audit_seen audit_add(struct audit *a, const char *domain,
                          const char *run, uint64_t seq, const char *id);

/* A line or message that is not an event with these members. */
static inline void audit_unreadable(struct audit *a) { a->unreadable++; }

/* The first and last number seen (a run holds at least one). */
static inline uint64_t audit_first(const struct audit_run *r)
{
        return r->first;
}
static inline uint64_t audit_last(const struct audit_run *r)
{
        return r->last;
}
static inline uint64_t audit_distinct(const struct audit_run *r)
{
        return r->distinct;
}

uint64_t audit_missing(const struct audit_run *r);
uint64_t audit_duplicates(const struct audit_run *r);

/*
 * The gaps in 1..last (first..last with from_first): their number, and
 * each in order, lo..hi, to fn.
 */
size_t audit_ngaps(const struct audit_run *r);
void audit_gaps(const struct audit_run *r,
                void (*fn)(uint64_t lo, uint64_t hi, void *arg), void *arg);

/*
 * The gaps as text, "17-20, 31" ("" when none), into a malloc'd string:
 * NULL when out of memory.
 */
char *audit_ranges(const struct audit_run *r);

/* Producers (distinct domains) among the runs. */
size_t audit_producers(const struct audit *a);

#endif /* KT_AUDIT_H */
