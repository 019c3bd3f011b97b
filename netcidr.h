/*
 * netcidr.h: network labels from a list of CIDR prefixes ("10.0.0.0/8
 * internal"), the longest prefix that holds an address wins (the
 * enrich stage's net_src and net_dst).  Pure: the list comes as text,
 * no I/O, no globals.
 *
 * A binary trie per family, one node per prefix bit, the nodes in one
 * array: a lookup follows at most 32 (IPv4) or 128 (IPv6) nodes and
 * remembers the last label it passed, with no allocation and no
 * comparison of whole prefixes.  A /0 labels every address of its
 * family.
 */
#ifndef KT_NETCIDR_H
#define KT_NETCIDR_H

#include <stddef.h>
#include <stdint.h>

/* An address as bytes: IPv4 in b[0..4), IPv6 in b[0..16). */
struct ip_addr {
        unsigned char b[16];
        int           v6;
};

/*
 * s[0..len) as an address (dotted quad or RFC 4291 text, as inet_pton
 * reads them): 0, or -1 when it is not one.
 */
int ip_addr_parse(const char *s, size_t len, struct ip_addr *a);

/* A label: printable ASCII without a quote or a backslash (it needs no
 * JSON escape), at most this long. */
#define NETCIDR_LABEL_MAX 64

struct netcidr;

struct netcidr *netcidr_new(void);
void netcidr_free(struct netcidr *nc);

/*
 * Adds the lines of text[0..len): "CIDR LABEL", blank lines and
 * comments ('#' to the end of the line) ignored, IPv4 and IPv6.  0, or
 * -1 with "what:line: why" in err: not a prefix, host bits set, a
 * prefix given twice, a missing, extra or bad label, out of memory.
 */
int netcidr_parse(struct netcidr *nc, const char *text, size_t len,
                  const char *what, char *err, size_t errlen);

/* The label of the longest prefix holding a, or NULL; *len its length. */
const char *netcidr_lookup(const struct netcidr *nc, const struct ip_addr *a,
                           size_t *len);

/* How many prefixes nc holds. */
size_t netcidr_count(const struct netcidr *nc);

#endif /* KT_NETCIDR_H */
