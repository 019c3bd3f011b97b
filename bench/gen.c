/*
 * bench-gen: writes realistic pmacct print-plugin JSON lines for the
 * kafkatee-pipe benchmark (bench/run.sh).
 *
 * usage: bench-gen [-n RECORDS] [-s SEED] [--short] [--purge-size N]
 *                  [--start EPOCH] [--rate RECORDS_PER_S] [--stamp]
 *                  [--no-markers] [--stalls MS] [--clients N]
 *
 * The lines look like pmacctd 1.7's print plugin with print_markers and
 * print_history: separators ", " and ": ", "event_type": "purge" records
 * framed every ~1000 records (--purge-size, +-10%) by purge_init and
 * purge_close markers whose purged_entries is the number of records in
 * between.  Times are local-time strings ("2026-11-23 08:33:20.731040")
 * with one purge per minute (print_refresh_time 60, print_history 1m),
 * starting at --start (seconds since the epoch, printed as UTC wall
 * time; default 2026-11-23 08:00:00); most timestamp_end are zero.
 * N records span about N/1000 minutes: a Kafka broker refuses message
 * timestamps more than an hour ahead of its clock
 * (log.message.timestamp.after.max.ms), so bench/run.sh starts them in
 * the past.
 * Addresses are about 80% IPv4 and 20% IPv6; packets and bytes follow a
 * heavy tail (Pareto-like, alpha 1) with about 1 record in 500 an
 * elephant flow of more than 2^32 bytes.
 *
 * The server side of a flow is one of a few addresses; the client side
 * is by default a new random address in every record: a flood of spoofed
 * sources, the worst case for a cache of lookups.  With --clients N it
 * is one of a population of N clients, the client of rank r taking a
 * share of the flows that falls as 1/r (Zipf, s = 1, as the popularity
 * of web clients and objects is usually modelled).  Client r's addresses
 * (one IPv4, one IPv6) are fixed: a PRNG stream of their own.
 *
 * By default a line averages about 575 bytes (the pmacctd keys plus the
 * AS, peer, interface, mask and sampling primitives of a flow collector);
 * --short keeps fewer keys for about 337 bytes.
 *
 * Output is a pure function of the options and the seed (integer
 * arithmetic only), except with --stamp, which puts the send time in
 * "label" as "t=<microseconds since the epoch>" for measuring latency
 * from outside.
 *
 * --rate R paces the output at R records per second, writing one small
 * batch every millisecond with write(2) (markers do not count).  A
 * summary of the pacing (achieved rate, worst lag behind schedule) is
 * printed on standard error at the end.  A lag means a write(2) blocked:
 * the reader did not keep up.  With --stalls MS, each stretch of ticks
 * MS or more behind schedule is also said when it ends, with its start
 * (seconds since the first tick) and its worst lag, so that a soak run
 * can tell when the writer was blocked.
 *
 * Exit status: 0, or 1 on a usage or write error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024

/* 2026-11-23 08:00:00 (printed as local time; the value is naive). */
#define BASE_EPOCH 1795420800LL

static int64_t base_epoch = BASE_EPOCH;
#define PURGE_PERIOD 60

struct opts {
        uint64_t n;
        uint64_t seed;
        int short_lines;
        int markers;
        unsigned purge_size;
        uint64_t rate;
        int stamp;
        uint64_t stall_ms; /* --stalls: 0 for none */
        uint64_t clients;  /* --clients: 0 for every client new */
};

/* ---------------------------------------------------------------- PRNG */

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64 */
{
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* --clients, and the seed their addresses are drawn from. */
static uint64_t clients, clients_seed;

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static uint64_t below(uint64_t n)
{
        return rnd() % n;
}

/* Uniform in [lo, hi]. */
static uint64_t range(uint64_t lo, uint64_t hi)
{
        return lo + below(hi - lo + 1);
}

/* True with probability num/den. */
static int chance(uint64_t num, uint64_t den)
{
        return below(den) < num;
}

struct weighted {
        const char *s;
        unsigned w;
};

static const char *pick(const struct weighted *t, size_t n)
{
        unsigned total = 0, r;
        size_t i;

        for (i = 0; i < n; i++)
                total += t[i].w;
        r = (unsigned)below(total);
        for (i = 0; i < n; i++) {
                if (r < t[i].w)
                        return t[i].s;
                r -= t[i].w;
        }
        return t[n - 1].s;
}

#define PICK(t) pick((t), sizeof(t) / sizeof((t)[0]))

/* ---------------------------------------------------------------- output */

struct buf {
        char *p;
        size_t len, cap;
};

static void buf_need(struct buf *b, size_t more)
{
        if (b->len + more <= b->cap)
                return;
        while (b->len + more > b->cap)
                b->cap = b->cap ? b->cap * 2 : 1 << 20;
        if ((b->p = realloc(b->p, b->cap)) == NULL) {
                fprintf(stderr, "bench-gen: out of memory\n");
                exit(1);
        }
}

static int write_all(int fd, const char *p, size_t len)
{
        while (len > 0) {
                ssize_t w = write(fd, p, len);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

static void flush_buf(struct buf *b)
{
        if (b->len == 0)
                return;
        if (write_all(STDOUT_FILENO, b->p, b->len) == -1) {
                fprintf(stderr, "bench-gen: write: %s\n", strerror(errno));
                exit(1);
        }
        b->len = 0;
}

/* ---------------------------------------------------------------- fields */

static void fmt_time(char *out, size_t len, int64_t epoch, unsigned usec,
                     int frac)
{
        time_t t = (time_t)epoch;
        struct tm tm;
        size_t n;

        gmtime_r(&t, &tm); /* a naive calendar: the string is "local" */
        n = strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
        if (frac)
                snprintf(out + n, len - n, ".%06u", usec);
}

/*
 * A rank in [1, clients], r with a probability about proportional to
 * 1/r: an octave e uniform in [0, log2 clients], then r uniform in
 * [2^e, 2^(e+1)), drawn again past clients.  Integer arithmetic, as
 * for the packet counts.
 */
static uint64_t client_rank(void)
{
        unsigned top = 0;
        uint64_t e, r;

        while (top < 62 && ((uint64_t)2 << top) <= clients)
                top++;
        do {
                e = below(top + 1);
                r = ((uint64_t)1 << e) + below((uint64_t)1 << e);
        } while (r > clients);
        return r;
}

/* Seeds the PRNG with client r's own stream; returns the state to put
 * back. */
static uint64_t client_stream(uint64_t r)
{
        uint64_t saved = rng_state;

        rng_state = clients_seed ^ (r * 0xd1342543de82ef95ULL);
        return saved;
}

static void ipv4_client(char *out, size_t len);
static void ipv6_client(char *out, size_t len);

/* A client's address: new, or the population's rank r (--clients). */
static void client(char *out, size_t len, int v6)
{
        uint64_t saved;

        if (clients == 0) {
                (v6 ? ipv6_client : ipv4_client)(out, len);
                return;
        }
        saved = client_stream(client_rank());
        (v6 ? ipv6_client : ipv4_client)(out, len);
        rng_state = saved;
}

static void ipv4(char *out, size_t len, int server)
{
        static const char *const servers[] = {
                "208.80.154.224", "208.80.154.240", "208.80.153.224",
                "208.80.153.240", "185.15.59.224",  "185.15.58.224",
                "198.35.26.96",   "103.102.166.224", "195.200.68.224",
        };
        unsigned c, d;

        if (server) {
                if (chance(1, 8)) {
                        c = (unsigned)range(0, 48);
                        d = (unsigned)range(1, 254);
                        snprintf(out, len, "10.64.%u.%u", c, d);
                        return;
                }
                snprintf(out, len, "%s",
                         servers[below(sizeof(servers) / sizeof(servers[0]))]);
                return;
        }
        client(out, len, 0);
}

static void ipv4_client(char *out, size_t len)
{
        unsigned a, b, c, d;

        do
                a = (unsigned)range(1, 223);
        while (a == 10 || a == 127);
        b = (unsigned)range(0, 255);
        c = (unsigned)range(0, 255);
        d = (unsigned)range(1, 254);
        snprintf(out, len, "%u.%u.%u.%u", a, b, c, d);
}

/* Canonical text (RFC 5952): lower case, no leading zeros; the random
 * groups are never 0, so no "::" is ever needed among them. */
static unsigned grp(void)
{
        return (unsigned)range(1, 0xffff);
}

static void ipv6(char *out, size_t len, int server)
{
        static const char *const servers[] = {
                "2620:0:861:ed1a::1", "2620:0:861:ed1a::3:d",
                "2620:0:860:ed1a::1", "2a02:ec80:300:ed1a::1",
                "2a02:ec80:600:ed1a::1", "2001:df2:e500:ed1a::1",
        };
        if (server) {
                snprintf(out, len, "%s",
                         servers[below(sizeof(servers) / sizeof(servers[0]))]);
                return;
        }
        client(out, len, 1);
}

static void ipv6_client(char *out, size_t len)
{
        unsigned g[7];
        int i;

        for (i = 0; i < 7; i++)
                g[i] = grp();
        switch (below(4)) {
        case 0: /* privacy address: all eight groups */
                snprintf(out, len, "2a02:%x:%x:%x:%x:%x:%x:%x", g[0], g[1],
                         g[2], g[3], g[4], g[5], g[6]);
                break;
        case 1:
                snprintf(out, len, "2001:%x:%x:%x:%x:%x:%x:%x", g[0], g[1],
                         g[2], g[3], g[4], g[5], g[6]);
                break;
        case 2: /* provider-assigned, short interface id */
                snprintf(out, len, "2600:%x:%x:%x::%x", g[0], g[1], g[2],
                         g[3] & 0xff ? g[3] & 0xff : 1);
                break;
        default:
                snprintf(out, len, "2804:%x:%x:%x:%x:%x:%x:%x", g[0], g[1],
                         g[2], g[3], g[4], g[5], g[6]);
                break;
        }
}

static const struct weighted tcp_ports[] = {
        { "443", 80 }, { "80", 12 }, { "22", 1 },  { "25", 1 },
        { "8080", 1 }, { "993", 1 }, { "853", 1 }, { "179", 1 },
        { "9092", 1 }, { "53", 1 },
};

static const struct weighted udp_ports[] = {
        { "443", 50 }, { "53", 35 }, { "123", 10 }, { "3478", 5 },
};

static const struct weighted tcp_flags[] = {
        { "16", 30 }, { "24", 25 }, { "2", 10 }, { "18", 8 }, { "17", 6 },
        { "25", 6 },  { "27", 6 },  { "4", 3 },  { "20", 2 }, { "30", 1 },
        { "31", 1 },  { "26", 1 },  { "19", 1 },
};

static const struct weighted tos[] = {
        { "0", 85 }, { "32", 4 }, { "40", 3 }, { "72", 3 }, { "184", 2 },
        { "2", 2 },  { "8", 1 },
};

static const struct weighted as_clients[] = {
        { "3320", 5 },  { "7922", 8 },  { "15169", 6 }, { "13335", 4 },
        { "16509", 4 }, { "3356", 3 },  { "174", 3 },   { "6939", 3 },
        { "2856", 4 },  { "4134", 3 },  { "4837", 3 },  { "9498", 3 },
        { "7018", 4 },  { "20940", 2 }, { "32934", 2 }, { "8075", 2 },
        { "24940", 1 }, { "1299", 2 },  { "3215", 3 },  { "12322", 3 },
        { "0", 4 },     { "64512", 1 }, { "4200000001", 1 },
};

/* Packets and bytes: Pareto(alpha 1) packet counts from a geometric
 * exponent, a per-flow mean packet size, and about 1 record in 512 an
 * elephant flow of 2^32 to 2^42 bytes. */
static void counters(int proto_tcp, uint64_t *packets, uint64_t *bytes)
{
        uint64_t r, e, p, size;

        if (chance(1, 512)) {
                e = range(32, 41);
                *bytes = ((uint64_t)1 << e) + below((uint64_t)1 << e);
                size = range(1200, 1500);
                *packets = *bytes / size;
                return;
        }
        r = rnd() | 1; /* clz of 0 is undefined */
        e = 0;
        while (!(r & ((uint64_t)1 << 63)) && e < 30) {
                r <<= 1;
                e++;
        }
        p = ((uint64_t)1 << e) + below((uint64_t)1 << e);
        switch (below(10)) {
        case 0: case 1: case 2: case 3:
                size = proto_tcp ? (chance(1, 2) ? 40 : 52) : range(60, 120);
                break;
        case 4: case 5:
                size = range(100, 576);
                break;
        default:
                size = range(1200, 1500);
                break;
        }
        *packets = p;
        *bytes = p == 1 ? size : p * size - below(p * size / 8 + 1);
}

/* ---------------------------------------------------------------- lines */

static uint64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * One record's fields.  They are drawn from the PRNG in a fixed order
 * (the order of the one function this was split from): the output is a
 * pure function of the seed, so a reordered draw changes every line
 * after it.
 */
struct flow {
        char src[48], dst[48], ts_start[40], ts_end[40], st_ins[32],
            st_upd[32], label[40];
        const char *proto, *flags, *tosv;
        unsigned port_src, port_dst, tag;
        uint64_t packets, bytes;
        int v6, inbound, tcp;
        /* the flow collector's primitives: only in long lines */
        const char *as_src, *as_dst, *peer;
        unsigned mask_src, mask_dst, ifin, ifout;
};

/* 75% tcp, 20% udp, then icmp, gre and an unnamed protocol. */
static const char *proto_of(uint64_t pr, int v6)
{
        if (pr < 75)
                return "tcp";
        if (pr < 95)
                return "udp";
        if (pr < 98)
                return v6 ? "ipv6-icmp" : "icmp";
        if (pr < 99)
                return "gre";
        return "253";
}

/* The server side is ours; the client side is anywhere. */
static void draw_addresses(struct flow *f)
{
        if (f->v6) {
                ipv6(f->src, sizeof(f->src), !f->inbound);
                ipv6(f->dst, sizeof(f->dst), f->inbound);
        } else {
                ipv4(f->src, sizeof(f->src), !f->inbound);
                ipv4(f->dst, sizeof(f->dst), f->inbound);
        }
}

/* The service port on the server side, an ephemeral one on the client. */
static void draw_ports(struct flow *f, int portless, unsigned port)
{
        if (portless) {
                f->port_src = f->port_dst = 0;
        } else if (f->inbound) {
                f->port_src = (unsigned)range(32768, 60999);
                f->port_dst = port;
        } else {
                f->port_src = port;
                f->port_dst = (unsigned)range(32768, 60999);
        }
}

/* A start within the purge's minute; 1 in 10 flows has ended in it. */
static void draw_times(struct flow *f, int64_t bin)
{
        int64_t start_s, end_s;
        unsigned start_us;

        start_s = bin + (int64_t)below(PURGE_PERIOD);
        start_us = (unsigned)below(1000000);
        fmt_time(f->ts_start, sizeof(f->ts_start), start_s, start_us, 1);
        if (chance(1, 10)) {
                end_s = start_s + (int64_t)below(
                        (uint64_t)(bin + PURGE_PERIOD - start_s));
                fmt_time(f->ts_end, sizeof(f->ts_end), end_s,
                         (unsigned)below(1000000), 1);
        } else {
                snprintf(f->ts_end, sizeof(f->ts_end),
                         "0000-00-00 00:00:00.000000");
        }
        fmt_time(f->st_ins, sizeof(f->st_ins), bin, 0, 0);
        fmt_time(f->st_upd, sizeof(f->st_upd), bin + PURGE_PERIOD +
                 (int64_t)range(1, 5), 0, 0);
}

/* The fields both line lengths have, up to the label. */
static void draw_flow(struct flow *f, int64_t bin)
{
        uint64_t pr;
        unsigned port;

        f->v6 = chance(1, 5);
        f->inbound = chance(1, 2);
        pr = below(100);
        f->proto = proto_of(pr, f->v6);
        f->tcp = f->proto[0] == 't';
        port = (unsigned)atoi(f->tcp ? PICK(tcp_ports) : PICK(udp_ports));
        draw_addresses(f);
        draw_ports(f, pr >= 95, port); /* icmp, gre and 253 have none */
        f->flags = f->tcp ? PICK(tcp_flags) : "0";
        counters(f->tcp, &f->packets, &f->bytes);
        f->tag = (unsigned)range(1, 12);
        f->tosv = PICK(tos);
        draw_times(f, bin);
}

/* --stamp: the send time, for measuring latency from outside. */
static void draw_label(struct flow *f, const struct opts *o)
{
        if (o->stamp)
                snprintf(f->label, sizeof(f->label), "t=%" PRIu64,
                         now_us());
        else
                snprintf(f->label, sizeof(f->label), "%s", chance(3, 5) ?
                         "" : (f->v6 ? "edge,v6" : "edge,v4"));
}

/* AS 14907 is ours; the mask, interface and peer are the router's. */
static void draw_collector_fields(struct flow *f)
{
        if (f->inbound) {
                f->as_src = f->v6 || chance(7, 8) ? PICK(as_clients) : "0";
                f->as_dst = "14907";
        } else {
                f->as_src = "14907";
                f->as_dst = PICK(as_clients);
        }
        f->mask_src = f->v6 ? (unsigned)range(29, 48) :
                              (unsigned)range(16, 24);
        f->mask_dst = f->v6 ? (unsigned)range(29, 48) :
                              (unsigned)range(16, 24);
        f->ifin = (unsigned)range(500, 720);
        f->ifout = (unsigned)range(500, 720);
        f->peer = f->v6 ? "2620:0:861:ffff::1" : "208.80.154.196";
}

/* --short: the pmacctd keys only, about 337 bytes. */
static void put_short(struct buf *b, const struct flow *f)
{
        buf_need(b, LINE_MAX_LEN);
        b->len += (size_t)sprintf(b->p + b->len,
                "{\"event_type\": \"purge\", \"tag\": %u, "
                "\"label\": \"%s\", \"ip_src\": \"%s\", "
                "\"ip_dst\": \"%s\", \"port_src\": %u, "
                "\"port_dst\": %u, \"tcp_flags\": \"%s\", "
                "\"ip_proto\": \"%s\", "
                "\"timestamp_start\": \"%s\", "
                "\"timestamp_end\": \"%s\", "
                "\"export_proto_version\": 0, "
                "\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
                "}\n",
                f->tag, f->label, f->src, f->dst, f->port_src, f->port_dst,
                f->flags, f->proto, f->ts_start, f->ts_end, f->packets,
                f->bytes);
}

/* The default: a flow collector's keys too, about 575 bytes. */
static void put_long(struct buf *b, const struct flow *f)
{
        buf_need(b, LINE_MAX_LEN);
        b->len += (size_t)sprintf(b->p + b->len,
                "{\"event_type\": \"purge\", \"tag\": %u, \"label\": \"%s\", "
                "\"as_src\": %s, \"as_dst\": %s, \"peer_ip_src\": \"%s\", "
                "\"iface_in\": %u, \"iface_out\": %u, "
                "\"ip_src\": \"%s\", \"ip_dst\": \"%s\", "
                "\"mask_src\": %u, \"mask_dst\": %u, "
                "\"port_src\": %u, \"port_dst\": %u, \"tcp_flags\": \"%s\", "
                "\"ip_proto\": \"%s\", \"tos\": %s, \"sampling_rate\": 1, "
                "\"timestamp_start\": \"%s\", \"timestamp_end\": \"%s\", "
                "\"export_proto_version\": 0, "
                "\"stamp_inserted\": \"%s\", \"stamp_updated\": \"%s\", "
                "\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}\n",
                f->tag, f->label, f->as_src, f->as_dst, f->peer, f->ifin,
                f->ifout, f->src, f->dst, f->mask_src, f->mask_dst,
                f->port_src, f->port_dst, f->flags, f->proto, f->tosv,
                f->ts_start, f->ts_end, f->st_ins, f->st_upd, f->packets,
                f->bytes);
}

/* Appends one record of purge `purge` to b. */
static void record(struct buf *b, const struct opts *o, uint64_t purge)
{
        struct flow f;

        draw_flow(&f, base_epoch + (int64_t)purge * PURGE_PERIOD);
        draw_label(&f, o);
        if (o->short_lines) {
                put_short(b, &f);
                return;
        }
        draw_collector_fields(&f);
        put_long(b, &f);
}

static void marker(struct buf *b, int init, unsigned writer, uint64_t entries)
{
        buf_need(b, 256);
        if (init)
                b->len += (size_t)sprintf(b->p + b->len,
                        "{\"event_type\": \"purge_init\", "
                        "\"writer_id\": \"out/%u\"}\n", writer);
        else
                b->len += (size_t)sprintf(b->p + b->len,
                        "{\"event_type\": \"purge_close\", "
                        "\"writer_id\": \"out/%u\", \"purged_entries\": %"
                        PRIu64 ", \"total_entries\": %" PRIu64
                        ", \"duration\": 0}\n",
                        writer, entries, entries);
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
        fprintf(stderr,
                "usage: bench-gen [-n RECORDS] [-s SEED] [--short] "
                "[--purge-size N]\n"
                "                 [--start EPOCH] [--rate RECORDS_PER_S] "
                "[--stamp] [--no-markers] [--stalls MS]\n"
                "                 [--clients N]\n");
        exit(1);
}

static uint64_t num(const char *s, const char *what)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
                fprintf(stderr, "bench-gen: bad %s: %s\n", what, s);
                exit(1);
        }
        return (uint64_t)v;
}

static void parse(int argc, char **argv, struct opts *o)
{
        int i;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(a, "--short") == 0) {
                        o->short_lines = 1;
                } else if (strcmp(a, "--stamp") == 0) {
                        o->stamp = 1;
                } else if (strcmp(a, "--no-markers") == 0) {
                        o->markers = 0;
                } else if (strcmp(a, "-h") == 0 ||
                           strcmp(a, "--help") == 0) {
                        usage();
                } else if (v == NULL) {
                        usage();
                } else if (strcmp(a, "-n") == 0) {
                        o->n = num(v, "record count"), i++;
                } else if (strcmp(a, "-s") == 0 ||
                           strcmp(a, "--seed") == 0) {
                        o->seed = num(v, "seed"), i++;
                } else if (strcmp(a, "--purge-size") == 0) {
                        uint64_t ps = num(v, "purge size");

                        if (ps < 10 || ps > 100000000) {
                                fprintf(stderr, "bench-gen: purge size "
                                        "must be 10..1e8\n");
                                exit(1);
                        }
                        o->purge_size = (unsigned)ps, i++;
                } else if (strcmp(a, "--start") == 0) {
                        uint64_t st = num(v, "start");

                        if (st > 253402300799u) { /* 9999-12-31 */
                                fprintf(stderr, "bench-gen: start after "
                                        "year 9999\n");
                                exit(1);
                        }
                        /* purge bins start on the minute */
                        base_epoch = (int64_t)(st - st % 60), i++;
                } else if (strcmp(a, "--rate") == 0) {
                        o->rate = num(v, "rate"), i++;
                        if (o->rate == 0 || o->rate > 100000000)
                                usage();
                } else if (strcmp(a, "--clients") == 0) {
                        o->clients = num(v, "client count"), i++;
                        if (o->clients > ((uint64_t)1 << 62))
                                usage();
                } else if (strcmp(a, "--stalls") == 0) {
                        o->stall_ms = num(v, "stall threshold"), i++;
                } else {
                        usage();
                }
        }
}

static uint64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Where the stream is: records written, the open purge and its writer. */
struct stream {
        uint64_t done;
        uint64_t purge;         /* purges closed so far: the time bin */
        uint64_t left_in_purge; /* 0: no purge open */
        uint64_t in_purge;      /* records in the open purge */
        unsigned writer;
};

/*
 * --rate: one batch a millisecond on a schedule that starts at t0;
 * stall_max is the worst lag of the stall going on (0: none), which
 * began stall_at ns after t0.
 */
struct pacer {
        uint64_t t0, tick, max_lag_ns, batches;
        uint64_t stall_ns, stall_at, stall_max;
};

/* Opens a purge of purge_size +-10% records under a new writer id. */
static void begin_purge(struct stream *s, const struct opts *o,
                        struct buf *b)
{
        uint64_t spread = o->purge_size / 10;

        s->left_in_purge = o->purge_size - spread + below(2 * spread + 1);
        s->in_purge = 0;
        s->writer += (unsigned)range(1, 40);
        if (o->markers)
                marker(b, 1, s->writer, 0);
}

/* Closes the purge; the last record closes it early. */
static void end_purge(struct stream *s, const struct opts *o, struct buf *b)
{
        if (o->markers)
                marker(b, 0, s->writer, s->in_purge);
        s->left_in_purge = 0;
        s->purge++;
}

/* Appends records until `due` are written, in purges. */
static void emit(struct stream *s, const struct opts *o, struct buf *b,
                 uint64_t due)
{
        while (s->done < due) {
                if (s->left_in_purge == 0)
                        begin_purge(s, o, b);
                record(b, o, s->purge);
                s->done++;
                s->in_purge++;
                if (--s->left_in_purge == 0 || s->done == o->n)
                        end_purge(s, o, b);
                /* unpaced: write in chunks of about 1 MiB */
                if (!o->rate && b->len >= (1 << 20) - LINE_MAX_LEN)
                        flush_buf(b);
        }
}

/* Says the stall that just ended, if any. */
static void stall_end(struct pacer *p)
{
        if (p->stall_max == 0)
                return;
        fprintf(stderr, "bench-gen: stalled at %.3f s: up to %.3f ms "
                "behind schedule\n", (double)p->stall_at / 1e9,
                (double)p->stall_max / 1e6);
        p->stall_max = 0;
}

/* --stalls: a tick `lag` ns late, due at `at`, begins, extends or ends one. */
static void stall(struct pacer *p, uint64_t at, uint64_t lag)
{
        if (p->stall_ns == 0)
                return;
        if (lag < p->stall_ns) {
                stall_end(p);
                return;
        }
        if (p->stall_max == 0)
                p->stall_at = at - p->t0;
        if (lag > p->stall_max)
                p->stall_max = lag;
}

/*
 * Sleeps until the next millisecond tick (an absolute deadline, so the
 * schedule does not drift with the time spent writing) and returns how
 * many records are due by then.
 */
static uint64_t pace(struct pacer *p, const struct opts *o)
{
        uint64_t at = p->t0 + p->tick * 1000000u, now, due, lag;
        struct timespec ts = {
                (time_t)(at / 1000000000u),
                (long)(at % 1000000000u)
        };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
               EINTR)
                ;
        now = mono_ns();
        lag = now > at ? now - at : 0;
        if (lag > p->max_lag_ns)
                p->max_lag_ns = lag;
        stall(p, at, lag);
        p->tick++;
        due = o->rate * p->tick / 1000u;
        return due > o->n ? o->n : due;
}

static void report_pacing(const struct pacer *p, const struct opts *o,
                          uint64_t done)
{
        double secs = (double)(mono_ns() - p->t0) / 1e9;

        fprintf(stderr,
                "bench-gen: paced %" PRIu64 " records in %.3f s "
                "(%.0f records/s, target %" PRIu64 "), %" PRIu64
                " batches, worst lag behind schedule %.3f ms\n",
                done, secs, (double)done / secs, o->rate, p->batches,
                (double)p->max_lag_ns / 1e6);
}

int main(int argc, char **argv)
{
        struct opts o = { 1000000, 1, 0, 1, 1000, 0, 0, 0, 0 };
        struct buf b = { NULL, 0, 0 };
        struct stream s = { 0, 0, 0, 0, 3245 };
        struct pacer p = { 0, 0, 0, 0, 0, 0, 0 };

        parse(argc, argv, &o);
        rng_state = o.seed * 0x2545f4914f6cdd1dULL + 0x1234567;
        clients = o.clients;
        clients_seed = o.seed * 0x9e3779b97f4a7c15ULL + 0x7654321;

        if (o.rate)
                p.t0 = mono_ns();
        p.stall_ns = o.stall_ms * 1000000u;
        while (s.done < o.n) {
                emit(&s, &o, &b, o.rate ? pace(&p, &o) : o.n);
                flush_buf(&b);
                p.batches++;
        }
        if (o.rate) {
                stall_end(&p);
                report_pacing(&p, &o, s.done);
        }
        free(b.p);
        return 0;
}
