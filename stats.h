/*
 * stats.h: what the program has done, for people and for monitoring.
 *
 * A JSON stats file (varnishkafka-style) and a Prometheus textfile,
 * rendered from a snapshot the program takes (struct stats_snapshot) and
 * rewritten atomically; the latency from reading a line to its delivery
 * report; the counters every line ends in.
 */
#ifndef KT_STATS_H
#define KT_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Every line read ends in exactly one of delivered/failed/invalid/skipped. */
struct counters {
        uint64_t read, produced, delivered, failed, invalid, skipped;
        uint64_t dead_lettered, purge_mismatches;
        /* Refused by the schema: not lost, but events of their own, not
         * counted above (error.topic). */
        uint64_t schema_invalid;
        uint64_t error_produced, error_delivered, error_failed;
        /* The spool (spool.dir): events written to it, sent from it,
         * found in it at the start (an earlier run's), left in it at the
         * end, and frames of it found spoilt (a crash mid-write).
         * read + carried = delivered + failed + invalid + skipped + kept */
        uint64_t spooled, replayed, carried, kept, spool_lost;
};

/* Log-linear buckets: 8 per power of two from 1 us up to about 2^37 us. */
#define LAT_SUB      8
#define LAT_BUCKETS  (38 * LAT_SUB)

struct latency {
        uint64_t count;
        uint64_t sum_us;  /* for the average: Prometheus' _sum */
        uint64_t max_us;
        uint64_t bucket[LAT_BUCKETS];
};

void latency_add(struct latency *l, uint64_t us);
/*
 * The q-quantile (0..1) in microseconds: a bucket's upper bound, at most
 * the maximum.  0 when count is 0: the writers then say NaN or null.
 */
uint64_t latency_quantile(const struct latency *l, double q);

/* The most memory the process held, in KiB (getrusage). */
uint64_t peak_rss_kib(void);

/* The figures of both files, taken at one moment by the program. */
struct stats_snapshot {
        const char           *stream, *topic; /* labels */
        const char           *version, *librdkafka; /* the build's */
        int                   up;              /* 0: the last write, at exit */
        int64_t               start_ms;        /* the start, wall clock */
        int64_t               now_ms;          /* when, on the wall clock */
        uint64_t              uptime_us;
        struct counters       c;
        int64_t               in_flight, in_flight_bytes;
        int                   backpressure;    /* stdin stopped now */
        uint64_t              backpressure_us; /* in all, this pause too */
        int64_t               last_delivery_ms; /* 0: none yet */
        int                   stalled;
        const struct latency *latency;
        uint64_t              peak_rss_kib;
        const char           *rdkafka_json;    /* NULL: none */
        /* The spool now, when there is one (spool.dir). */
        int                   spool;
        uint64_t              spool_bytes, spool_events;
        double                spool_oldest_age_s; /* 0: empty */
        /* The anonymize stage's salt: its generation, 0 when there is
         * none (no hash rule).  Never the salt. */
        uint64_t              salt_generation;
        /* The enrich stage's lookups (geoip.h's counts), when it runs. */
        int                   geoip;
        uint64_t              geoip_hits, geoip_misses, geoip_not_found;
        /* The directory input (input.dir, indir.h's counts), when on. */
        int                   input_dir;
        uint64_t              input_files, input_stale, input_bytes;
        uint64_t              input_errors;
};

enum stats_format {
        STATS_JSON,       /* one JSON object on one line */
        STATS_PROMETHEUS, /* the text exposition format */
};

/* Renders s on fp.  Returns 0, or -1 on a write error. */
int stats_render(const struct stats_snapshot *s, enum stats_format f,
                 FILE *fp);
/*
 * Replaces path by the rendering of s, through path.tmp and rename(2):
 * a reader never sees half a file.  Returns 0, or -1 with errno set.
 */
int stats_write(const struct stats_snapshot *s, enum stats_format f,
                const char *path);
/*
 * Whether stats_write() could write path: path.tmp created and removed,
 * path not a directory.  Returns 0, or -1 with errno set.
 */
int stats_check(const char *path);
/* The counters on one line (SIGUSR1, the exit summary). */
void stats_line(const struct counters *c, char *buf, size_t len);

#endif /* KT_STATS_H */
