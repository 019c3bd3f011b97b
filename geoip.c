/*
 * geoip.c: libmaxminddb handles, the CIDR list file and the answers'
 * cache: see geoip.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <maxminddb.h>

#include "geoip.h"

/*
 * 4096 entries (56 bytes each).  On bench-gen's records, whose addresses
 * are half of them seen once, 16384 saved 0.3% of the run (callgrind,
 * 50,000 records): the hot addresses fit in 4096, the tail in none.
 */
#define CACHE_BITS 12

/* One address's answers; strings point into the open sources. */
struct centry {
        unsigned char key[16];
        unsigned char v6, used;
        uint16_t      country_len, as_name_len, net_len;
        uint32_t      asn;
        int           has_asn;
        const char   *country, *as_name, *net;
};

struct geoip {
        char           *path[3]; /* country, asn, net: NULL if not set */
        MMDB_s         *db[2];   /* country, asn */
        struct netcidr *net;
        struct centry   cache[1 << CACHE_BITS];
        struct geoip_counts n;
};

enum { SRC_COUNTRY, SRC_ASN, SRC_NET, SRCS };

static const char *const src_key[SRCS] = {
        "enrich.geoip.country", "enrich.geoip.asn", "enrich.net.file"
};

static MMDB_s *db_open(const char *path, const char *key, char *err,
                       size_t errlen)
{
        MMDB_s *db = calloc(1, sizeof(*db));
        int s;

        if (db == NULL) {
                snprintf(err, errlen, "%s: %s: out of memory", key, path);
                return NULL;
        }
        errno = 0;
        if ((s = MMDB_open(path, MMDB_MODE_MMAP, db)) == MMDB_SUCCESS)
                return db;
        if (s == MMDB_IO_ERROR || s == MMDB_FILE_OPEN_ERROR)
                snprintf(err, errlen, "%s: %s: %s", key, path,
                         errno != 0 ? strerror(errno) : MMDB_strerror(s));
        else
                snprintf(err, errlen, "%s: %s: not a MaxMind DB file (%s)",
                         key, path, MMDB_strerror(s));
        free(db);
        return NULL;
}

static void db_close(MMDB_s *db)
{
        if (db == NULL)
                return;
        MMDB_close(db);
        free(db);
}

/* The list file read whole and parsed. */
static struct netcidr *net_open(const char *path, char *err, size_t errlen)
{
        FILE *fp = fopen(path, "r");
        struct netcidr *nc = NULL;
        char *text = NULL;
        size_t cap = 0, len = 0, n;

        if (fp == NULL) {
                snprintf(err, errlen, "enrich.net.file: %s: %s", path,
                         strerror(errno));
                return NULL;
        }
        do {
                if (len + 4096 > cap) {
                        char *p = realloc(text, cap = (cap + 4096) * 2);

                        if (p == NULL)
                                goto nomem;
                        text = p;
                }
                len += n = fread(text + len, 1, cap - len, fp);
        } while (n > 0);
        if (ferror(fp)) {
                snprintf(err, errlen, "enrich.net.file: %s: %s", path,
                         strerror(errno));
        } else if ((nc = netcidr_new()) == NULL) {
                goto nomem;
        } else if (netcidr_parse(nc, text, len, path, err, errlen) == -1) {
                netcidr_free(nc);
                nc = NULL;
        }
        fclose(fp);
        free(text);
        return nc;
nomem:
        snprintf(err, errlen, "enrich.net.file: %s: out of memory", path);
        fclose(fp);
        free(text);
        return NULL;
}

/* Source i opened from its path into g (the old one closed): 0 or -1. */
static int src_open(struct geoip *g, int i, char *err, size_t errlen)
{
        MMDB_s *db = NULL;
        struct netcidr *nc = NULL;

        if (i == SRC_NET && (nc = net_open(g->path[i], err, errlen)) == NULL)
                return -1;
        if (i != SRC_NET &&
            (db = db_open(g->path[i], src_key[i], err, errlen)) == NULL)
                return -1;
        /* the cache points into the old one */
        memset(g->cache, 0, sizeof(g->cache));
        if (i == SRC_NET) {
                netcidr_free(g->net);
                g->net = nc;
        } else {
                db_close(g->db[i]);
                g->db[i] = db;
        }
        return 0;
}

struct geoip *geoip_open(const struct geoip_conf *c, char *err,
                         size_t errlen)
{
        struct geoip *g = calloc(1, sizeof(*g));
        const char *p[SRCS] = { c->country, c->asn, c->net };
        int i;

        if (g == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        for (i = 0; i < SRCS; i++) {
                if (p[i] == NULL)
                        continue;
                if ((g->path[i] = strdup(p[i])) == NULL) {
                        snprintf(err, errlen, "out of memory");
                        goto fail;
                }
                if (src_open(g, i, err, errlen) == -1)
                        goto fail;
        }
        return g;
fail:
        geoip_close(g);
        return NULL;
}

int geoip_reopen(struct geoip *g, const struct geoip_log *log)
{
        char err[512], msg[640];
        int i, failed = 0;

        for (i = 0; i < SRCS; i++) {
                if (g->path[i] == NULL)
                        continue;
                if (src_open(g, i, err, sizeof(err)) == 0) {
                        snprintf(msg, sizeof(msg), "%s: %s reopened",
                                 src_key[i], g->path[i]);
                        log->log(log->opaque, 1, msg);
                        continue;
                }
                failed++;
                snprintf(msg, sizeof(msg), "%s; the one open is kept", err);
                log->log(log->opaque, 0, msg);
        }
        return failed;
}

void geoip_close(struct geoip *g)
{
        int i;

        if (g == NULL)
                return;
        for (i = 0; i < SRCS; i++)
                free(g->path[i]);
        db_close(g->db[0]);
        db_close(g->db[1]);
        netcidr_free(g->net);
        free(g);
}

void geoip_counts(const struct geoip *g, struct geoip_counts *c)
{
        *c = g->n;
}

/* a's entry in a tree, or 0 (not found, or not this family). */
static int db_find(MMDB_s *db, const struct ip_addr *a,
                   MMDB_lookup_result_s *r)
{
        struct sockaddr_in6 s6;
        struct sockaddr_in s4;
        int mmdb;

        if (a->v6) {
                memset(&s6, 0, sizeof(s6));
                s6.sin6_family = AF_INET6;
                memcpy(&s6.sin6_addr, a->b, 16);
                *r = MMDB_lookup_sockaddr(db, (struct sockaddr *)&s6, &mmdb);
        } else {
                memset(&s4, 0, sizeof(s4));
                s4.sin_family = AF_INET;
                memcpy(&s4.sin_addr, a->b, 4);
                *r = MMDB_lookup_sockaddr(db, (struct sockaddr *)&s4, &mmdb);
        }
        return mmdb == MMDB_SUCCESS && r->found_entry;
}

/* A string at path in e: its bytes, or NULL. */
static const char *db_string(MMDB_entry_s *e, const char *const *path,
                             uint16_t *len)
{
        MMDB_entry_data_s d;

        if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
            d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size > 65535)
                return NULL;
        *len = (uint16_t)d.data_size;
        return d.utf8_string;
}

static int db_asn(MMDB_entry_s *e, uint32_t *asn)
{
        static const char *const path[] = { "autonomous_system_number",
                                             NULL };
        MMDB_entry_data_s d;

        if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data)
                return 0;
        if (d.type == MMDB_DATA_TYPE_UINT32)
                *asn = d.uint32;
        else if (d.type == MMDB_DATA_TYPE_UINT16)
                *asn = d.uint16;
        else if (d.type == MMDB_DATA_TYPE_UINT64 && d.uint64 <= UINT32_MAX)
                *asn = (uint32_t)d.uint64;
        else
                return 0;
        return 1;
}

/* The sources asked about a, into c. */
static void ask(struct geoip *g, const struct ip_addr *a, struct centry *c)
{
        static const char *const country[] = { "country", "iso_code", NULL };
        static const char *const org[] = { "autonomous_system_organization",
                                           NULL };
        MMDB_lookup_result_s r;
        size_t n = 0;

        memset(c, 0, sizeof(*c));
        if (g->db[SRC_COUNTRY] != NULL && db_find(g->db[SRC_COUNTRY], a, &r))
                c->country = db_string(&r.entry, country, &c->country_len);
        if (g->db[SRC_ASN] != NULL && db_find(g->db[SRC_ASN], a, &r)) {
                c->has_asn = db_asn(&r.entry, &c->asn);
                c->as_name = db_string(&r.entry, org, &c->as_name_len);
        }
        if (g->net != NULL) {
                c->net = netcidr_lookup(g->net, a, &n);
                c->net_len = (uint16_t)n;
        }
}

static size_t slot(const struct ip_addr *a)
{
        uint64_t x, y;

        memcpy(&x, a->b, 8);
        memcpy(&y, a->b + 8, 8);
        x ^= y * 0x9e3779b97f4a7c15ull; /* v6 is compared, not hashed */
        return (size_t)((x * 0xbf58476d1ce4e5b9ull) >> (64 - CACHE_BITS));
}

void geoip_lookup(void *arg, const struct ip_addr *a,
                  struct enrich_answer *ans)
{
        struct geoip *g = arg;
        struct centry *c = &g->cache[slot(a)];

        if (c->used && c->v6 == (unsigned char)a->v6 &&
            memcmp(c->key, a->b, 16) == 0) {
                g->n.hits++;
        } else {
                g->n.misses++;
                ask(g, a, c);
                memcpy(c->key, a->b, 16);
                c->v6 = (unsigned char)a->v6;
                c->used = 1;
        }
        if (c->country == NULL && !c->has_asn && c->as_name == NULL &&
            c->net == NULL)
                g->n.not_found++;
        ans->country = c->country;
        ans->country_len = c->country_len;
        ans->asn = c->asn;
        ans->has_asn = c->has_asn;
        ans->as_name = c->as_name;
        ans->as_name_len = c->as_name_len;
        ans->net = c->net;
        ans->net_len = c->net_len;
}

int geoip_lookup_text(struct geoip *g, const char *s, size_t len,
                      struct enrich_answer *ans)
{
        struct ip_addr a;

        memset(ans, 0, sizeof(*ans));
        if (ip_addr_parse(s, len, &a) == -1)
                return -1;
        geoip_lookup(g, &a, ans);
        return 0;
}
