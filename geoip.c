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

/*
 * One address's answers: the data records its walks found (by their
 * offset + 1 in the database's data section; 0: none) and its label.
 */
struct centry {
        unsigned char key[16];
        unsigned char v6, used;
        uint16_t      net_len;
        uint32_t      rec[2];  /* country, asn */
        const char   *net;
};

/*
 * A data record's answer, decoded once: many networks share a record
 * (a country's, an AS's prefixes), so the values are read from the
 * record and cut and escaped (enrich_value) once per record, not per
 * address.  Direct-mapped by the record's offset; what an address entry
 * names is looked up here again at each use.  A name longer escaped
 * than REC_TEXT is kept as the database has it, not escaped.
 * On bench-gen's records with GeoLite2-sized databases (bench/mkgeo.pl:
 * 131 countries, 70,000 ASes) geoip_lookup went from
 * 4,290 to 3,550 instructions a record, enrich_event from 6,720 to
 * 5,170 (callgrind, 50,000 records): the countries hit, the ASes of
 * random client addresses mostly miss.  1024 entries for the countries
 * (3,500 records read); 8192 for the ASes (1 MiB) read 30,600 records
 * where 1024 read 41,900: geoip_lookup 2,780 -> 2,450 instructions a
 * record, the peak RSS 1 MiB more.
 */
#define REC_BITS_COUNTRY 10
#define REC_BITS_ASN     13
#define REC_TEXT         104

struct rentry {
        uint32_t    off;      /* the record's offset + 1; 0: empty */
        uint32_t    asn;
        uint16_t    len;      /* of text, or of raw */
        uint8_t     found;    /* the string (country or AS name) */
        uint8_t     has_asn;
        const char *raw;      /* a long name in the database, or NULL */
        char        text[REC_TEXT];
};

struct geoip {
        char           *path[3]; /* country, asn, net: NULL if not set */
        MMDB_s         *db[2];   /* country, asn */
        struct netcidr *net;
        struct centry   cache[1 << CACHE_BITS];
        struct rentry   rec_country[1 << REC_BITS_COUNTRY];
        struct rentry   rec_asn[1 << REC_BITS_ASN];
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
        /* the caches point into the old one, or name its records */
        memset(g->cache, 0, sizeof(g->cache));
        memset(g->rec_country, 0, sizeof(g->rec_country));
        memset(g->rec_asn, 0, sizeof(g->rec_asn));
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

/* a as a socket address, for MMDB_lookup_sockaddr. */
union sa {
        struct sockaddr     sa;
        struct sockaddr_in  s4;
        struct sockaddr_in6 s6;
};

static void sa_of(const struct ip_addr *a, union sa *u)
{
        memset(u, 0, sizeof(*u));
        if (a->v6) {
                u->s6.sin6_family = AF_INET6;
                memcpy(&u->s6.sin6_addr, a->b, 16);
        } else {
                u->s4.sin_family = AF_INET;
                memcpy(&u->s4.sin_addr, a->b, 4);
        }
}

/* u's data record in a tree: its offset + 1, or 0 (none). */
static uint32_t db_find(MMDB_s *db, const union sa *u)
{
        MMDB_lookup_result_s r;
        int mmdb;

        r = MMDB_lookup_sockaddr(db, &u->sa, &mmdb);
        if (mmdb != MMDB_SUCCESS || !r.found_entry ||
            r.entry.offset >= UINT32_MAX)
                return 0;
        return r.entry.offset + 1;
}

/* d as a string: its bytes, or NULL. */
static const char *string_of(const MMDB_entry_data_s *d, uint16_t *len)
{
        if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING ||
            d->data_size > 65535)
                return NULL;
        *len = (uint16_t)d->data_size;
        return d->utf8_string;
}

/* d as an AS number: 1, or 0. */
static int asn_of(const MMDB_entry_data_s *d, uint32_t *asn)
{
        if (!d->has_data)
                return 0;
        if (d->type == MMDB_DATA_TYPE_UINT32)
                *asn = d->uint32;
        else if (d->type == MMDB_DATA_TYPE_UINT16)
                *asn = d->uint16;
        else if (d->type == MMDB_DATA_TYPE_UINT64 && d->uint64 <= UINT32_MAX)
                *asn = (uint32_t)d->uint64;
        else
                return 0;
        return 1;
}

/* A string at path in e: its bytes, or NULL. */
static const char *db_string(MMDB_entry_s *e, const char *const *path,
                             uint16_t *len)
{
        MMDB_entry_data_s d;

        if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS)
                return NULL;
        return string_of(&d, len);
}

static int db_asn(MMDB_entry_s *e, uint32_t *asn)
{
        static const char *const path[] = { "autonomous_system_number",
                                             NULL };
        MMDB_entry_data_s d;

        if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS)
                return 0;
        return asn_of(&d, asn);
}

#define AS_NUMBER "autonomous_system_number"
#define AS_ORG    "autonomous_system_organization"

/* The data at e (MMDB_aget_value with no path), pointers followed. */
static int entry_data(MMDB_entry_s *e, MMDB_entry_data_s *d)
{
        static const char *const here[] = { NULL };

        return MMDB_aget_value(e, d, here);
}

static int key_is(const MMDB_entry_data_s *k, const char *s, size_t len)
{
        return k->data_size == len && memcmp(k->utf8_string, s, len) == 0;
}

/*
 * An AS record read in one pass over its map, as MMDB_aget_value finds
 * each of its two members (the first of a name), instead of a pass for
 * each: 0, or -1 when the record is not a map of scalars with string
 * names (then read by path: a value that is a map is skipped there).
 * On bench/mkgeo.pl's databases decode() went from 1,630 to 1,440
 * instructions a record (callgrind), the escape's 460 in both.
 */
static int as_map(MMDB_entry_s *e, struct rentry *r, const char **name,
                  uint16_t *len)
{
        MMDB_entry_data_s m, k, v;
        MMDB_entry_s at = *e;
        int num = 0, org = 0;
        uint32_t n;

        if (entry_data(&at, &m) != MMDB_SUCCESS ||
            m.type != MMDB_DATA_TYPE_MAP)
                return -1;
        at.offset = m.offset_to_next;
        for (n = m.data_size; n > 0 && !(num && org); n--) {
                if (entry_data(&at, &k) != MMDB_SUCCESS ||
                    k.type != MMDB_DATA_TYPE_UTF8_STRING)
                        return -1;
                at.offset = k.offset_to_next;
                if (entry_data(&at, &v) != MMDB_SUCCESS ||
                    v.type == MMDB_DATA_TYPE_MAP ||
                    v.type == MMDB_DATA_TYPE_ARRAY)
                        return -1;
                at.offset = v.offset_to_next;
                if (!num && key_is(&k, AS_NUMBER, sizeof(AS_NUMBER) - 1)) {
                        num = 1;
                        r->has_asn = (uint8_t)asn_of(&v, &r->asn);
                } else if (!org && key_is(&k, AS_ORG, sizeof(AS_ORG) - 1)) {
                        org = 1;
                        *name = string_of(&v, len);
                }
        }
        return 0;
}

/* The record at off + 1 of source i decoded into r. */
static void decode(MMDB_s *db, int i, uint32_t off, struct rentry *r)
{
        static const char *const country[] = { "country", "iso_code", NULL };
        static const char *const org[] = { "autonomous_system_organization",
                                           NULL };
        MMDB_entry_s e = { db, off - 1 };
        char esc[ENRICH_VALUE_MAX];
        const char *s;
        uint16_t len = 0;
        size_t n;

        r->off = off;
        r->asn = 0;
        r->has_asn = 0;
        r->raw = NULL;
        s = NULL;
        if (i == SRC_ASN && as_map(&e, r, &s, &len) == 0)
                goto found;
        r->asn = 0;
        r->has_asn = 0;
        if (i == SRC_ASN)
                r->has_asn = (uint8_t)db_asn(&e, &r->asn);
        s = db_string(&e, i == SRC_ASN ? org : country, &len);
found:
        r->found = s != NULL;
        r->len = 0;
        if (s == NULL)
                return;
        n = enrich_value(i == SRC_ASN ? ENRICH_AS_NAME : ENRICH_COUNTRY, s,
                         len, esc);
        if (n > REC_TEXT) {
                r->raw = s;
                r->len = len;
                return;
        }
        memcpy(r->text, esc, n);
        r->len = (uint16_t)n;
}

/* Source i's record at off + 1 (not 0), decoded or from the cache. */
static const struct rentry *record(struct geoip *g, int i, uint32_t off)
{
        uint32_t h = off * 0x9e3779b1u;
        struct rentry *r = i == SRC_ASN ?
                           &g->rec_asn[h >> (32 - REC_BITS_ASN)] :
                           &g->rec_country[h >> (32 - REC_BITS_COUNTRY)];

        if (r->off != off) {
                g->n.decoded++;
                decode(g->db[i], i, off, r);
        }
        return r;
}

/* The sources asked about a, into c. */
static void ask(struct geoip *g, const struct ip_addr *a, struct centry *c)
{
        union sa u;
        size_t n = 0;
        int i;

        sa_of(a, &u);
        for (i = SRC_COUNTRY; i <= SRC_ASN; i++)
                c->rec[i] = g->db[i] != NULL ? db_find(g->db[i], &u) : 0;
        c->net = NULL;
        if (g->net != NULL)
                c->net = netcidr_lookup(g->net, a, &n);
        c->net_len = (uint16_t)n;
}

static size_t slot(const struct ip_addr *a)
{
        uint64_t x, y;

        memcpy(&x, a->b, 8);
        memcpy(&y, a->b + 8, 8);
        x ^= y * 0x9e3779b97f4a7c15ull; /* v6 is compared, not hashed */
        return (size_t)((x * 0xbf58476d1ce4e5b9ull) >> (64 - CACHE_BITS));
}

/* c's records' answers into ans. */
static void answer(struct geoip *g, const struct centry *c,
                   struct enrich_answer *ans)
{
        const struct rentry *r;

        if (c->rec[SRC_COUNTRY] != 0 &&
            (r = record(g, SRC_COUNTRY, c->rec[SRC_COUNTRY]))->found) {
                ans->country = r->raw != NULL ? r->raw : r->text;
                ans->country_len = r->len;
                ans->escaped |= r->raw != NULL ? 0 : 1u << ENRICH_COUNTRY;
        }
        if (c->rec[SRC_ASN] != 0) {
                r = record(g, SRC_ASN, c->rec[SRC_ASN]);
                ans->asn = r->asn;
                ans->has_asn = r->has_asn;
                if (r->found) {
                        ans->as_name = r->raw != NULL ? r->raw : r->text;
                        ans->as_name_len = r->len;
                        ans->escaped |= r->raw != NULL ? 0 :
                                        1u << ENRICH_AS_NAME;
                }
        }
        ans->net = c->net;
        ans->net_len = c->net_len;
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
        answer(g, c, ans);
        if (ans->country == NULL && !ans->has_asn && ans->as_name == NULL &&
            ans->net == NULL)
                g->n.not_found++;
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
