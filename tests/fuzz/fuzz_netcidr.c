/*
 * fuzz_netcidr.c: libFuzzer target for netcidr.h: ip_addr_parse() with
 * inet_pton(3) as the oracle (the same addresses accepted, the same
 * bytes; what inet_ntop writes of them is read back the same), and the
 * CIDR list parser on the input as a list file, its lookups checked
 * against a linear scan of the prefixes it accepted.  A violation prints
 * "FUZZ PROPERTY <name>: <why>" and aborts, as fuzz_transform does.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcidr.h"
#include "fuzzfail.h"

/* The prefixes of a list the parser took, for the linear scan. */
#define MAX_PREFIXES 256

struct prefix {
	struct ip_addr a;
	unsigned       plen;
	const char    *label;
	size_t	       len;
};

/*
 * What inet_pton says of s[0..len): 0 with the bytes in *a, or -1.  A
 * NUL inside is not an address: inet_pton would stop there.
 */
static int oracle(const char *s, size_t len, struct ip_addr *a)
{
	char buf[128];

	memset(a, 0, sizeof(*a));
	if (len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a->b) == 1)
		return 0;
	a->v6 = 1;
	return inet_pton(AF_INET6, buf, a->b) == 1 ? 0 : -1;
}

static int same_addr(const struct ip_addr *x, const struct ip_addr *y)
{
	return x->v6 == y->v6 && memcmp(x->b, y->b, x->v6 ? 16 : 4) == 0;
}

/* ip_addr_parse against inet_pton, and back through inet_ntop. */
static void check_parse(const char *s, size_t len)
{
	struct ip_addr got, want, again;
	char text[INET6_ADDRSTRLEN];
	int r = ip_addr_parse(s, len, &got), w = oracle(s, len, &want);

	if (r != w)
		violated("parse", "ip_addr_parse says %d, inet_pton %d, on "
		    "\"%s\"", r, w, excerpt(s, len));
	if (r == -1)
		return;
	if (!same_addr(&got, &want))
		violated("parse", "other bytes than inet_pton's for \"%s\"",
		    excerpt(s, len));
	if (inet_ntop(got.v6 ? AF_INET6 : AF_INET, got.b, text,
	    sizeof(text)) == NULL)
		violated("parse", "inet_ntop failed on \"%s\"",
		    excerpt(s, len));
	if (ip_addr_parse(text, strlen(text), &again) == -1 ||
	    !same_addr(&got, &again))
		violated("parse", "\"%s\" from \"%s\" is not read back", text,
		    excerpt(s, len));
}

/* The next word of s[*i..len), as netcidr.h defines a line's words. */
static size_t word(const char *s, size_t len, size_t *i, const char **w)
{
	static const char blank[256] = { [' '] = 1, ['\t'] = 1 };
	size_t n;

	/* an oracle of its own: a table and a count, not netcidr.c's loops */
	for (; *i < len && blank[(unsigned char)s[*i]]; ++*i)
		;
	*w = s + *i;
	for (n = 0; *i + n < len && !blank[(unsigned char)s[*i + n]]; n++)
		;
	*i += n;
	return n;
}

/*
 * The prefixes of a list the parser accepted, read again here: each
 * line's words, the comment and a CR cut.  Their number.
 */
static size_t prefixes(const char *text, size_t len, struct prefix *p)
{
	const char *s = text, *end = text + len, *nl, *hash, *w, *slash;
	size_t n, i, k = 0, wl;

	for (; s < end && k < MAX_PREFIXES; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if ((hash = memchr(s, '#', n)) != NULL)
			n = (size_t)(hash - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		i = 0;
		if ((wl = word(s, n, &i, &w)) == 0)
			continue;
		slash = memchr(w, '/', wl);
		if (slash == NULL || oracle(w, (size_t)(slash - w),
		    &p[k].a) == -1)
			violated("list", "accepted \"%s\"", excerpt(w, wl));
		p[k].plen = (unsigned)strtoul(slash + 1, NULL, 10);
		p[k].len = word(s, n, &i, &p[k].label);
		k++;
	}
	return k;
}

/* Do a's first plen bits equal b's? */
static int in_prefix(const struct ip_addr *a, const struct prefix *p)
{
	unsigned i;

	if (a->v6 != p->a.v6)
		return 0;
	for (i = 0; i < p->plen; i++)
		if ((a->b[i / 8] ^ p->a.b[i / 8]) >> (7 - i % 8) & 1)
			return 0;
	return 1;
}

/* The lookup of a against the longest prefix holding it. */
static void check_lookup(const struct netcidr *nc, const struct prefix *p,
    size_t n, const struct ip_addr *a)
{
	const struct prefix *best = NULL;
	const char *label;
	size_t i, len = 0;

	for (i = 0; i < n; i++)
		if (in_prefix(a, &p[i]) && (best == NULL ||
		    p[i].plen > best->plen))
			best = &p[i];
	label = netcidr_lookup(nc, a, &len);
	if ((label == NULL) != (best == NULL) || (label != NULL &&
	    (len != best->len || memcmp(label, best->label, len) != 0)))
		violated("lookup", "label \"%s\", the longest prefix's "
		    "\"%s\"", label ? excerpt(label, len) : "(none)",
		    best ? best->label : "(none)");
}

/*
 * The addresses looked up: each prefix's own, and the same with bits
 * from the input flipped (in the prefix, or after it).
 */
static void lookups(const struct netcidr *nc, const struct prefix *p,
    size_t n, const uint8_t *d, size_t size)
{
	struct ip_addr a;
	size_t i, bit;

	for (i = 0; i < n; i++) {
		check_lookup(nc, p, n, &p[i].a);
		a = p[i].a;
		bit = size > 0 ? d[i % size] % (a.v6 ? 128u : 32u) : 0;
		a.b[bit / 8] ^= (unsigned char)(0x80 >> bit % 8);
		check_lookup(nc, p, n, &a);
	}
	memset(&a, 0, sizeof(a));
	memcpy(a.b, d, size < 16 ? size : 16);
	check_lookup(nc, p, n, &a);
	a.v6 = 1;
	check_lookup(nc, p, n, &a);
}

/* The input as a list file: "what:N: why", or prefixes found again. */
static void check_list(const char *text, size_t size)
{
	static struct prefix p[MAX_PREFIXES];
	struct netcidr *nc = netcidr_new();
	char err[256];
	size_t n;

	if (nc == NULL)
		violated("memory", "netcidr_new failed");
	err[0] = '\0';
	if (netcidr_parse(nc, text, size, "list", err, sizeof(err)) == -1) {
		if (strncmp(err, "list:", 5) != 0 || strstr(err, ": ") == NULL)
			violated("list", "error \"%s\"", err);
		netcidr_free(nc);
		return;
	}
	n = prefixes(text, size, p);
	if (n < MAX_PREFIXES && netcidr_count(nc) != n)
		violated("list", "%zu prefixes counted, %zu in the text",
		    netcidr_count(nc), n);
	lookups(nc, p, n, (const uint8_t *)text, size);
	netcidr_free(nc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size, *nl;

	check_parse(s, size);
	/* each line, and each line's first word */
	for (; s < end; s = nl + 1) {
		size_t i = 0, wl;
		const char *w;

		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		check_parse(s, (size_t)(nl - s));
		if ((wl = word(s, (size_t)(nl - s), &i, &w)) > 0) {
			const char *slash = memchr(w, '/', wl);

			check_parse(w, slash ? (size_t)(slash - w) : wl);
		}
	}
	check_list((const char *)data, size);
	return 0;
}
