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

/*
 * A dotted quad as inet_pton reads it (no leading zeros), without the
 * copy and the call: 0 or -1.  Most flows' addresses are IPv4.
 */
static int parse_v4(const char *s, size_t len, unsigned char *b)
{
        const char *end = s + len;
        unsigned v, part;
        size_t digits;

        for (part = 0; part < 4; part++) {
                if (part > 0 && (s == end || *s++ != '.'))
                        return -1;
                for (v = 0, digits = 0; s < end && *s >= '0' && *s <= '9';
                     s++, digits++)
                        v = v * 10 + (unsigned)(*s - '0');
                if (digits == 0 || digits > 3 || v > 255 ||
                    (digits > 1 && s[-(ptrdiff_t)digits] == '0'))
                        return -1;
                b[part] = (unsigned char)v;
        }
        return s == end ? 0 : -1;
}

int ip_addr_parse(const char *s, size_t len, struct ip_addr *a)
{
        char buf[INET6_ADDRSTRLEN + 1];

        if (len > 0 && len <= 15 && memchr(s, ':', len) == NULL) {
                a->v6 = 0;
                memset(a->b + 4, 0, 12);
                return parse_v4(s, len, a->b);
        }
        /* inet_pton would stop at a NUL: "::1\0x" is no address */
        if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
                return -1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        memset(a->b, 0, sizeof(a->b));
        a->v6 = memchr(buf, ':', len) != NULL;
        return inet_pton(a->v6 ? AF_INET6 : AF_INET, buf, a->b) == 1 ? 0 : -1;
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
