/*
 * enrich.h: the enrich stage, the first after the transform (it needs
 * the real addresses): for each configured address member of the event,
 * its country, AS number and AS organization (GeoIP) and its network
 * label (a CIDR list) are added at the end of the event, and once the
 * address family (ip_version).  Pure: the event's index in, edits out
 * (evedit.h); the answers come from a lookup callback (geoip.h in the
 * program, a table in the tests).  No allocation per event.
 *
 * Names: for a field with direction DIR, each member's name is its
 * template (enrich.name.*) with %s replaced by DIR.  DIR is what follows
 * the field's last '_' (ip_src: src), or given as FIELD:DIR in
 * enrich.fields (peer_ip_src:peer_src).
 *
 * A miss (no country, no AS, no prefix) or a value that is not an
 * address leaves the member out; a name the event already has is left
 * as the event has it.  Bits 0-31 of ev_edits.names say which members
 * were added: bit 4 * field + kind (enum enrich_kind), bit 31 ip_version.
 */
#ifndef KT_ENRICH_H
#define KT_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "evedit.h"
#include "netcidr.h"
#include "transform.h"

/* The members added for each field, in this order; each its name bit. */
enum enrich_kind {
        ENRICH_COUNTRY, ENRICH_AS, ENRICH_AS_NAME, ENRICH_NET, ENRICH_KINDS
};

#define ENRICH_FIELDS_MAX   6   /* 6 * 4 + 1 members of EV_EDITS_MAX */
#define ENRICH_IP_VERSION_BIT 31
#define ENRICH_NAME_MAX     64
#define ENRICH_AS_NAME_MAX  255 /* bytes of an AS organization kept */

/*
 * What is known of an address; NULL / has_asn 0: unknown.  The country
 * and the AS name are UTF-8 as the source has them, or, with their bit
 * (1u << ENRICH_COUNTRY, 1u << ENRICH_AS_NAME) in escaped, already what
 * enrich_value() makes of them (a source that keeps its answers decoded
 * escapes once per answer, not once per event).
 */
struct enrich_answer {
        const char *country;
        size_t      country_len;
        uint32_t    asn;
        int         has_asn;
        const char *as_name;
        size_t      as_name_len;
        const char *net;      /* a netcidr label */
        size_t      net_len;
        unsigned    escaped;
};

/*
 * Where the answers come from: fills ans for a (zeroed before).  The
 * strings are read before the next lookup (they may live in a cache).
 */
struct enrich_lookup {
        void  (*lookup)(void *arg, const struct ip_addr *a,
                        struct enrich_answer *ans);
        void   *arg;
};

/* The stage's settings, config.c's strings (NULL: the default). */
struct enrich_conf {
        const char *fields;     /* "ip_src, ip_dst" */
        const char *name[ENRICH_KINDS]; /* "country_%s", "as_%s",
                                         * "as_name_%s", "net_cidr_%s" */
        const char *ip_version; /* "ip_version"; "": not added */
        int         on[ENRICH_KINDS]; /* which sources are configured */
};

struct enrich;

/* NULL with why in err: a bad field, name or template, names twice. */
struct enrich *enrich_new(const struct enrich_conf *c, char *err,
                          size_t errlen);
void enrich_free(struct enrich *en);

/*
 * Adds ev's enrichment to e (ev has its index): 0, or -1 when e is full
 * (EV_EDITS_MAX).  The values written live in en until the next call.
 * The events come from one transform: the fields' members are found
 * once per names key (jsonwalk.h), as the validator judges names.
 */
int enrich_event(struct enrich *en, const struct kt_event *ev,
                 const struct enrich_lookup *lk, struct ev_edits *e);

/*
 * s[0..len) as JSON string content into out (room for 6 * len bytes):
 * quotes, backslashes and control characters escaped, bytes that are not
 * UTF-8 as U+FFFD.  Returns the length written.
 */
size_t enrich_json_escape(const char *s, size_t len, char *out);

/*
 * A country (ENRICH_COUNTRY) or AS name (ENRICH_AS_NAME) as the stage
 * writes it: cut to what is kept (not inside a UTF-8 sequence), then
 * JSON-escaped into out (room for ENRICH_VALUE_MAX bytes).  Returns the
 * length written.
 */
#define ENRICH_VALUE_MAX (6 * ENRICH_AS_NAME_MAX)

size_t enrich_value(enum enrich_kind kind, const char *s, size_t len,
                    char *out);

#endif /* KT_ENRICH_H */
