/*
 * geoip.h: the enrich stage's sources, the I/O side: the MaxMind DB
 * files (libmaxminddb) and the CIDR list file, opened at start,
 * reopened on SIGHUP, and asked through a cache.
 *
 * enrich.geoip.country: a GeoIP2 or GeoLite2 Country or City database
 * (country.iso_code); enrich.geoip.asn: a GeoLite2 ASN database
 * (autonomous_system_number, autonomous_system_organization);
 * enrich.net.file: netcidr.h's list.
 *
 * The answers of the last addresses asked are kept in a direct-mapped
 * cache of 4096 entries keyed by the address bytes (a flow's addresses
 * come back in its next records): a hit costs a hash and a compare, a
 * miss a walk of each tree.  The data records the walks find are kept
 * decoded in a second cache, by the record (many networks share one: a
 * country's, an AS's prefixes): the country and the AS name answered
 * are already cut and JSON-escaped (enrich_value), read before the next
 * lookup.  No allocation per lookup.
 */
#ifndef KT_GEOIP_H
#define KT_GEOIP_H

#include <stddef.h>

#include "enrich.h"
#include "netcidr.h"

/* The files, NULL when not configured. */
struct geoip_conf {
        const char *country; /* enrich.geoip.country */
        const char *asn;     /* enrich.geoip.asn */
        const char *net;     /* enrich.net.file */
};

/* What geoip_reopen() has to say (kafkatee-pipe.c's module_log). */
struct geoip_log {
        void (*log)(void *opaque, int level, const char *text);
        void  *opaque;
};

struct geoip;

/*
 * Opens every configured file: NULL with "KEY: FILE: why" in err when
 * one is missing, unreadable or not what it should be.
 */
struct geoip *geoip_open(const struct geoip_conf *c, char *err,
                         size_t errlen);

/*
 * Opens each file again by its name (the weekly update) and swaps it in
 * only when it opened; else the one open stays and the log says so.
 * The caches are emptied.  Returns how many files could not be reopened.
 */
int geoip_reopen(struct geoip *g, const struct geoip_log *log);

/* What the sources know of a (enrich.h's struct enrich_lookup). */
void geoip_lookup(void *g, const struct ip_addr *a,
                  struct enrich_answer *ans);

/* The same for an address as text: 0, or -1 when it is not one. */
int geoip_lookup_text(struct geoip *g, const char *s, size_t len,
                      struct enrich_answer *ans);

/*
 * The lookups so far (hits, misses and not_found: the stats and metrics
 * files).  A miss walks the trees; the data records it finds are read
 * (decoded) only when the record cache does not have them: a record
 * cache hit is still a miss, as the databases were asked.
 */
struct geoip_counts {
        unsigned long long hits;      /* answered from the cache */
        unsigned long long misses;    /* the sources asked */
        unsigned long long not_found; /* of both, those no source knew */
        unsigned long long decoded;   /* data records read and escaped */
};

void geoip_counts(const struct geoip *g, struct geoip_counts *c);

void geoip_close(struct geoip *g);

#endif /* KT_GEOIP_H */
