/*
 * bench-lat: end-to-end latency from outside, for bench/run.sh.
 *
 * usage: kcat -C -u ... | bench-lat [-w WARMUP_RECORDS]
 *
 * Reads consumed messages, one per line, finds the send time that
 * `bench-gen --stamp` put in each record ("label": "t=<microseconds since
 * the epoch>", copied as it is by kafkatee-pipe's transform and by kcat)
 * and takes the difference with the time the line arrives here
 * (CLOCK_REALTIME, same machine).  That covers the pipe into the
 * producer, the producer, the broker, the consumer's fetch and kcat's
 * output: an upper bound of the producer's own read-to-delivery-report
 * latency.
 *
 * At end of input prints one line on standard output:
 *   count=N skipped=N p50_ms=X p90_ms=X p99_ms=X max_ms=X
 * where skipped counts lines without a stamp (pmacct markers) and the
 * first WARMUP_RECORDS stamped lines (default 0), which are left out.
 * Exit status 0, or 1 if no stamped line was seen.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

static double quantile_ms(const int64_t *v, size_t n, double q)
{
        /* nearest rank */
        size_t i = (size_t)(q * (double)n + 0.999999);

        if (i < 1)
                i = 1;
        if (i > n)
                i = n;
        return (double)v[i - 1] / 1000.0;
}

int main(int argc, char **argv)
{
        char *line = NULL;
        size_t cap = 0, n = 0, vcap = 0;
        unsigned long long warmup = 0, seen = 0, skipped = 0;
        int64_t *v = NULL;
        ssize_t len;

        if (argc == 3 && strcmp(argv[1], "-w") == 0) {
                warmup = strtoull(argv[2], NULL, 10);
        } else if (argc != 1) {
                fprintf(stderr, "usage: bench-lat [-w WARMUP_RECORDS]\n");
                return 1;
        }
        while ((len = getline(&line, &cap, stdin)) != -1) {
                uint64_t now = now_us(), t = 0;
                const char *p = strstr(line, "\"t=");

                if (p == NULL) {
                        skipped++;
                        continue;
                }
                for (p += 3; *p >= '0' && *p <= '9'; p++)
                        t = t * 10 + (uint64_t)(*p - '0');
                if (seen++ < warmup) {
                        skipped++;
                        continue;
                }
                if (n == vcap) {
                        vcap = vcap ? vcap * 2 : 65536;
                        v = realloc(v, vcap * sizeof(*v));
                        if (v == NULL) {
                                fprintf(stderr, "bench-lat: out of memory\n");
                                return 1;
                        }
                }
                v[n++] = (int64_t)(now - t);
        }
        free(line);
        if (n == 0) {
                printf("count=0 skipped=%llu\n", skipped);
                return 1;
        }
        qsort(v, n, sizeof(*v), cmp_i64);
        printf("count=%zu skipped=%llu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f "
               "max_ms=%.3f\n",
               n, skipped, quantile_ms(v, n, 0.50), quantile_ms(v, n, 0.90),
               quantile_ms(v, n, 0.99), (double)v[n - 1] / 1000.0);
        free(v);
        return 0;
}
