/*
 * netcidr.c: the CIDR list as two binary tries: see netcidr.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "netcidr.h"

/* A trie node: its children (0: none; no node points at a root) and the
 * label of the prefix that ends here (-1: none). */
struct node {
        uint32_t child[2];
        int32_t  label;
};

struct label {
        char  text[NETCIDR_LABEL_MAX + 1];
        size_t len;
};

/* Nodes 0 and 1: the roots of IPv4 and of IPv6. */
struct netcidr {
        struct node  *node;
        size_t        n, cap;
        struct label *label;
        size_t        nlabel, labcap;
};

static int is_digit(const char *s, const char *end)
{
        return s < end && (unsigned)(*s - '0') <= 9;
}

/* One part of a dotted quad at s, into *o: where it ends, or NULL. */
static const char *octet(const char *s, const char *end, unsigned char *o)
{
        unsigned v;

        if (!is_digit(s, end))
                return NULL;
        v = (unsigned)(*s++ - '0');
        if (is_digit(s, end)) {
                if (v == 0)
                        return NULL; /* a leading zero */
                v = v * 10 + (unsigned)(*s++ - '0');
                if (is_digit(s, end))
                        v = v * 10 + (unsigned)(*s++ - '0');
        }
        if (v > 255)
                return NULL;
        *o = (unsigned char)v;
        return s;
}

/*
 * A dotted quad as inet_pton reads it (no leading zeros), without the
 * copy and the call: 0 or -1.  Most flows' addresses are IPv4.  A part
 * at a time, unrolled: 250 instructions an address with a loop over
 * its digits, 160 so (callgrind).
 */
static int parse_v4(const char *s, size_t len, unsigned char *b)
{
        const char *end = s + len;
        int part;

        for (part = 0; part < 4; part++) {
                if (part > 0 && (s == end || *s++ != '.'))
                        return -1;
                if ((s = octet(s, end, &b[part])) == NULL)
                        return -1;
        }
        return s == end ? 0 : -1;
}

static int hex_value(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)(c | 0x20);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The "::" of an address at b[gap..at): the groups after it moved to
 * the end, zeroes in between; 0, or -1: it stands for no group. */
static int fill_gap(unsigned char *b, size_t gap, size_t at)
{
        if (at == 16)
                return -1;
        memmove(b + 16 - (at - gap), b + gap, at - gap);
        memset(b + gap, 0, 16 - at);
        return 0;
}

#define NO_GAP 17 /* no "::" */

/*
 * RFC 4291 text as glibc's inet_pton reads it (1 to 4 hex digits a
 * group, one "::", a dotted quad last), without the copy and the call:
 * 0 or -1.  inet_pton cost 640 instructions an address (callgrind).
 */
static int parse_v6(const char *s, size_t len, unsigned char *b)
{
        const char *end = s + len, *tok;
        size_t at = 0, gap = NO_GAP, digits = 0;
        unsigned v = 0;
        int d;

        if (len > 0 && *s == ':' && (++s == end || *s != ':'))
                return -1;
        for (tok = s; s < end; s++) {
                if ((d = hex_value(*s)) >= 0) {
                        if (digits++ == 4)
                                return -1;
                        v = v << 4 | (unsigned)d;
                } else if (*s == '.') { /* a dotted quad, last */
                        if (at + 4 > 16 || parse_v4(tok, (size_t)(end - tok),
                                                    b + at) == -1)
                                return -1;
                        at += 4;
                        digits = 0;
                        break;
                } else if (*s != ':') {
                        return -1;
                } else if (digits == 0) {
                        if (gap != NO_GAP)
                                return -1; /* a second "::" */
                        gap = at;
                        tok = s + 1;
                } else {
                        if (s + 1 == end || at + 2 > 16)
                                return -1;
                        b[at++] = (unsigned char)(v >> 8);
                        b[at++] = (unsigned char)v;
                        digits = v = 0;
                        tok = s + 1;
                }
        }
        if (digits > 0 && at + 2 > 16)
                return -1;
        if (digits > 0) {
                b[at++] = (unsigned char)(v >> 8);
                b[at++] = (unsigned char)v;
        }
        if (gap != NO_GAP && fill_gap(b, gap, at) == -1)
                return -1;
        return gap != NO_GAP || at == 16 ? 0 : -1;
}

int ip_addr_parse(const char *s, size_t len, struct ip_addr *a)
{
        if (len == 0 || len > INET6_ADDRSTRLEN)
                return -1;
        /* a dotted quad has no ':': tried first, it fails at once if
         * the text is IPv6 */
        if (len <= 15 && parse_v4(s, len, a->b) == 0) {
                a->v6 = 0;
                memset(a->b + 4, 0, 12);
                return 0;
        }
        if (memchr(s, ':', len) == NULL)
                return -1;
        a->v6 = 1;
        return parse_v6(s, len, a->b);
}

struct netcidr *netcidr_new(void)
{
        struct netcidr *nc = calloc(1, sizeof(*nc));

        if (nc == NULL || kt_grow(&nc->node, &nc->cap, 2,
                                  sizeof(*nc->node)) == -1) {
                free(nc);
                return NULL;
        }
        memset(nc->node, 0, 2 * sizeof(*nc->node));
        nc->node[0].label = nc->node[1].label = -1;
        nc->n = 2;
        return nc;
}

void netcidr_free(struct netcidr *nc)
{
        if (nc == NULL)
                return;
        free(nc->node);
        free(nc->label);
        free(nc);
}

size_t netcidr_count(const struct netcidr *nc)
{
        return nc->nlabel;
}

static int bit(const struct ip_addr *a, unsigned i)
{
        return a->b[i / 8] >> (7 - i % 8) & 1;
}

const char *netcidr_lookup(const struct netcidr *nc, const struct ip_addr *a,
                           size_t *len)
{
        unsigned i, bits = a->v6 ? 128 : 32;
        uint32_t at = a->v6 ? 1 : 0;
        int32_t best = nc->node[at].label;

        for (i = 0; i < bits; i++) {
                if ((at = nc->node[at].child[bit(a, i)]) == 0)
                        break;
                if (nc->node[at].label >= 0)
                        best = nc->node[at].label;
        }
        if (best < 0)
                return NULL;
        *len = nc->label[best].len;
        return nc->label[best].text;
}

/* The node of a's first plen bits, made as needed: its index, or 0. */
static uint32_t node_for(struct netcidr *nc, const struct ip_addr *a,
                         unsigned plen)
{
        uint32_t at = a->v6 ? 1 : 0, next;
        unsigned i;
        int b;

        for (i = 0; i < plen; i++) {
                b = bit(a, i);
                if ((next = nc->node[at].child[b]) == 0) {
                        if (kt_grow(&nc->node, &nc->cap, nc->n + 1,
                                    sizeof(*nc->node)) == -1)
                                return 0;
                        next = (uint32_t)nc->n++;
                        memset(&nc->node[next], 0, sizeof(*nc->node));
                        nc->node[next].label = -1;
                        nc->node[at].child[b] = next;
                }
                at = next;
        }
        return at;
}

/* "ADDR/LEN" into a and *plen: NULL, or why not. */
static const char *parse_prefix(const char *s, size_t len, struct ip_addr *a,
                                unsigned *plen)
{
        const char *slash = memchr(s, '/', len);
        unsigned long n = 0;
        const char *p;
        unsigned i;

        if (slash == NULL)
                return "a prefix is ADDRESS/LENGTH";
        if (ip_addr_parse(s, (size_t)(slash - s), a) == -1)
                return "not an IPv4 or IPv6 address";
        if (slash + 1 == s + len || s + len - slash > 4)
                return "a bad prefix length";
        for (p = slash + 1; p < s + len; p++) {
                if (*p < '0' || *p > '9')
                        return "a bad prefix length";
                n = n * 10 + (unsigned long)(*p - '0');
        }
        if (n > (a->v6 ? 128u : 32u))
                return "a prefix length beyond the address";
        *plen = (unsigned)n;
        for (i = *plen; i < (a->v6 ? 128u : 32u); i++)
                if (bit(a, i))
                        return "host bits set after the prefix length";
        return NULL;
}

/* A label's text: NULL, or why it cannot be one. */
static const char *check_label(const char *s, size_t len)
{
        size_t i;

        if (len == 0)
                return "a prefix needs a label: CIDR LABEL";
        if (len > NETCIDR_LABEL_MAX)
                return "a label longer than 64 bytes";
        for (i = 0; i < len; i++)
                if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' ||
                    s[i] == '\\')
                        return "a label is printable ASCII without quotes "
                               "or backslashes";
        return NULL;
}

/* The next word of s[*i..len), spaces and tabs around it skipped. */
static size_t word(const char *s, size_t len, size_t *i, const char **w)
{
        size_t start;

        while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
                (*i)++;
        start = *i;
        while (*i < len && s[*i] != ' ' && s[*i] != '\t')
                (*i)++;
        *w = s + start;
        return *i - start;
}

/* One line, its comment cut: NULL, or why it is refused. */
static const char *parse_line(struct netcidr *nc, const char *s, size_t len)
{
        const char *cidr, *lab, *extra, *why;
        size_t i = 0, clen, llen;
        struct ip_addr a;
        unsigned plen;
        uint32_t at;

        if ((clen = word(s, len, &i, &cidr)) == 0)
                return NULL; /* blank */
        llen = word(s, len, &i, &lab);
        if (word(s, len, &i, &extra) != 0)
                return "more than CIDR LABEL";
        if ((why = parse_prefix(cidr, clen, &a, &plen)) != NULL ||
            (why = check_label(lab, llen)) != NULL)
                return why;
        if ((at = node_for(nc, &a, plen)) == 0 && plen > 0)
                return "out of memory";
        if (nc->node[at].label >= 0)
                return "this prefix is already listed";
        if (kt_grow(&nc->label, &nc->labcap, nc->nlabel + 1,
                    sizeof(*nc->label)) == -1)
                return "out of memory";
        memcpy(nc->label[nc->nlabel].text, lab, llen);
        nc->label[nc->nlabel].text[llen] = '\0';
        nc->label[nc->nlabel].len = llen;
        nc->node[at].label = (int32_t)nc->nlabel++;
        return NULL;
}

int netcidr_parse(struct netcidr *nc, const char *text, size_t len,
                  const char *what, char *err, size_t errlen)
{
        const char *p = text, *end = text + len, *nl, *hash, *why;
        size_t n, lineno = 0;

        for (; p < end; p = nl + 1) {
                lineno++;
                if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
                        nl = end;
                n = (size_t)(nl - p);
                if ((hash = memchr(p, '#', n)) != NULL)
                        n = (size_t)(hash - p);
                if (n > 0 && p[n - 1] == '\r')
                        n--;
                if ((why = parse_line(nc, p, n)) != NULL) {
                        snprintf(err, errlen, "%s:%zu: %s", what, lineno,
                                 why);
                        return -1;
                }
        }
        return 0;
}
