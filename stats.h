/*
 * stats.h: what the program has done, for people and for monitoring.
 *
 * A JSON stats file (varnishkafka-style) and a Prometheus textfile,
 * rewritten atomically every stats.interval.ms and at exit; the latency
 * from reading a line to its delivery report; stall detection.
 */
#ifndef KT_STATS_H
#define KT_STATS_H

#include <stdint.h>

/* Log-linear buckets: 8 per power of two from 1 us up to about 2^37 us. */
#define LAT_SUB      8
#define LAT_BUCKETS  (38 * LAT_SUB)

struct latency {
        uint64_t count;
        uint64_t max_us;
        uint64_t bucket[LAT_BUCKETS];
};

void latency_add(struct latency *l, uint64_t us);
/* The q-quantile (0..1) in microseconds: a bucket's upper bound. */
uint64_t latency_quantile(const struct latency *l, double q);

/* The most memory the process held, in KiB (getrusage). */
uint64_t peak_rss_kib(void);

struct app;

/* Writes the stats and metrics files, if configured.  -1 on error. */
int stats_write(struct app *a);
/* The counters on one line (SIGUSR1, the exit summary). */
void stats_line(const struct app *a, char *buf, size_t len);

#endif /* KT_STATS_H */
