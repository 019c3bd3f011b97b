/*
 * fuzz_anonymize.c: libFuzzer target for the stages after the transform,
 * as event_staged() runs them: each line of the input through an
 * indexing transform, then enrich (the answers through geoip.c's cache
 * on a tiny CIDR list, the other sources made up from the address, some
 * with bytes to escape), then anonymize (truncate, hash with a fixed
 * salt, drop), then one ev_apply().
 *
 * Properties: the published event is strict JSON, its index and names
 * key are true (tests/indexcheck.h); no member of a drop rule is left,
 * a truncated address has no host bits, a hash is hash_len hex digits,
 * the salt's generation is named; the cache answers what the list says;
 * an anonymizer whose memo of hashes is warm writes what a cold one
 * writes; the raw line re-written for the dead-letter file is strict
 * JSON without a dropped member.  A violation prints "FUZZ PROPERTY
 * <name>: <why>" and aborts, as fuzz_transform does.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "anonymize.h"
#include "enrich.h"
#include "evedit.h"
#include "geoip.h"
#include "jsonscan.h"
#include "netcidr.h"
#include "transform.h"
#include "../indexcheck.h"
#include "fuzzfail.h"
#include "fuzzlines.h"
#include "fuzzjson.h"

#define EVENT_ID  "0b6f3c2e-8d4a-4f1e-9c7b-2a5d6e8f1a3c"
#define INGEST_MS 1795422800123LL
#define SALT_ID	  "20261130T000000Z-1"
#define HASH_LEN  16

static const char NETS[] = "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n"
    "192.0.2.0/24 doc\n2001:db8::/32 doc6\n::ffff:0:0/96 mapped\n";
static const unsigned char SALT[32] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

/* The output rules; the input rules are the same by input name. */
static const struct {
	const char *out, *in, *rule;
} RULES[] = {
	{ "src_ip", "ip_src", "truncate" },
	{ "ip_dst", "ip_dst", "hash" },
	{ "peer_ip_src", "peer_ip_src", "hash" },
	{ "bytes", "bytes", "hash" },
	{ "mac_src", "mac_src", "drop" },
	{ "label", "label", "drop" },
};
#define N_RULES (sizeof(RULES) / sizeof(*RULES))

#define AS_LONG_NAME \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa4" \
	"tail" /* the a-umlaut cut at ENRICH_AS_NAME_MAX (255) */

/* The made-up AS names: escapes, bytes not UTF-8, one too long. */
static const char *const AS_NAMES[] = {
	NULL, "Plain Org", "Ex\xc3\xa4mple \"Quoted\" Networks",
	"Bad \x01 \xff bytes\\", "\xe2\x82", AS_LONG_NAME
};

static struct kt_transform *tf;
static struct enrich *en;
static struct geoip *geo;
static struct netcidr *nets;	/* the list, asked directly */
static struct anonymizer *warm, *cold;
static struct ev_editor ed;
static struct kt_key_check kc;
static struct json_tokener *tok;

/* --- set up, once --------------------------------------------------------- */

static void must(int ok, const char *what, const char *err)
{
	if (!ok)
		violated("setup", "%s: %s", what, err);
}

static void transform_setup(void)
{
	tf = kt_transform_new();
	must(tf != NULL, "transform", "out of memory");
	must(kt_transform_set_envelope(tf, "/netflow/flow/1.2.0", "netflow",
	    "edge1") == 0, "envelope", kt_transform_error(tf));
	must(kt_transform_rename(tf, "ip_src", "src_ip") == 0, "rename",
	    kt_transform_error(tf));
	must(kt_transform_integer(tf, "tcp_flags") == 0, "integer",
	    kt_transform_error(tf));
	must(kt_transform_time(tf, "timestamp_start") == 0, "time",
	    kt_transform_error(tf));
	must(kt_transform_set_key(tf, "ip_src") == 0, "key",
	    kt_transform_error(tf));
	kt_transform_set_index(tf, 1);
}

/* The list as enrich.net.file: a file for geoip_open, then removed. */
static void sources_setup(void)
{
	char path[] = "/tmp/fuzz_anonymize.XXXXXX", err[512];
	struct geoip_conf g = { NULL, NULL, path };
	int fd = mkstemp(path);

	must(fd != -1 && write(fd, NETS, sizeof(NETS) - 1) ==
	    (ssize_t)sizeof(NETS) - 1 && close(fd) == 0, path, "cannot write");
	geo = geoip_open(&g, err, sizeof(err));
	unlink(path);
	must(geo != NULL, "geoip_open", err);
	nets = netcidr_new();
	must(nets != NULL && netcidr_parse(nets, NETS, sizeof(NETS) - 1,
	    "nets", err, sizeof(err)) == 0, "netcidr_parse", err);
}

static struct anonymizer *anon_setup(void)
{
	const struct anon_opts o = { 24, 48, HASH_LEN, "anon_salt" };
	struct anonymizer *a;
	char err[256];
	size_t i;

	a = anon_new(&o, err, sizeof(err));
	must(a != NULL, "anon_new", err);
	for (i = 0; i < N_RULES; i++) {
		must(anon_add(a, ANON_OUTPUT, RULES[i].out, RULES[i].rule, err,
		    sizeof(err)) == 0, "anon_add", err);
		must(anon_add(a, ANON_INPUT, RULES[i].in, RULES[i].rule, err,
		    sizeof(err)) == 0, "anon_add", err);
	}
	must(anon_set_salt(a, SALT, sizeof(SALT), SALT_ID) == 0, "salt",
	    "out of memory");
	return a;
}

static void setup(void)
{
	const struct enrich_conf c = {
		"src_ip, ip_dst, peer_ip_src:peer_src",
		{ NULL, NULL, NULL, NULL }, "ip_version", { 1, 1, 1, 1 }
	};
	char err[256];

	(void)kt_key_check_free; /* the memo lives as long as the run */
	transform_setup();
	sources_setup();
	en = enrich_new(&c, err, sizeof(err));
	must(en != NULL, "enrich_new", err);
	warm = anon_setup();
	cold = anon_setup();
	tok = json_tokener_new_ex(KT_MAX_DEPTH * 2);
	must(tok != NULL, "json_tokener_new_ex", "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
}

/* --- the lookup --------------------------------------------------------- */

/*
 * geoip.c's answer (the list's label, through its cache) must be the
 * list's own; the country and the AS are made up from the last byte.
 */
static void lookup(void *arg, const struct ip_addr *a,
    struct enrich_answer *ans)
{
	const char *want;
	size_t wlen = 0;
	unsigned last = a->b[a->v6 ? 15 : 3];

	geoip_lookup(arg, a, ans);
	want = netcidr_lookup(nets, a, &wlen);
	if ((want == NULL) != (ans->net == NULL) || (want != NULL &&
	    (wlen != ans->net_len || memcmp(want, ans->net, wlen) != 0)))
		violated("cache", "geoip answers \"%s\", the list \"%s\"",
		    ans->net ? excerpt(ans->net, ans->net_len) : "(none)",
		    want ? want : "(none)");
	if (last % 3 == 0)
		return;
	ans->country = last % 3 == 1 ? "FR" : "\xff\"\\";
	ans->country_len = strlen(ans->country);
	ans->asn = last * 16777259u;
	ans->has_asn = 1;
	ans->as_name = AS_NAMES[last / 3 % (sizeof(AS_NAMES) /
	    sizeof(*AS_NAMES))];
	ans->as_name_len = ans->as_name ? strlen(ans->as_name) : 0;
}

/* --- checking the published event ------------------------------------- */

static int rule_of(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_RULES; i++)
		if (strlen(RULES[i].out) == len &&
		    memcmp(RULES[i].out, name, len) == 0)
			return (int)i;
	return -1;
}

/* Does json-c in strict mode take all of s[0..len) as one object? */
static int jsonc_object(const char *s, size_t len)
{
	struct json_object *o;
	int ok;

	if (!jsonc_accepts(tok, s, len, &o))
		return 0;
	ok = json_object_is_type(o, json_type_object);
	json_object_put(o);
	return ok;
}

/* A truncated address: one, with no bit set after /24 or /48. */
static int truncated(const char *v, size_t len)
{
	struct ip_addr a;
	unsigned i, from, bits;

	if (ip_addr_parse(v, len, &a) == -1)
		return 0;
	from = a.v6 ? 48 : 24;
	bits = a.v6 ? 128 : 32;
	if (a.v6 && memcmp(a.b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		from = 96 + 24; /* mapped: the IPv4 prefix */
	for (i = from; i < bits; i++)
		if (a.b[i / 8] >> (7 - i % 8) & 1)
			return 0;
	return 1;
}

static int hashed(const char *v, size_t len)
{
	size_t i;

	if (len != HASH_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' &&
		    v[i] <= 'f')))
			return 0;
	return 1;
}

/* One top-level member under its rule. */
static void check_member(const struct kt_member *m, int k)
{
	const char *rule = RULES[k].rule;

	if (strcmp(rule, "drop") == 0)
		violated("drop", "\"%s\" is still in the event", RULES[k].out);
	if (m->kind == KT_J_NULL)
		return;
	if (m->kind != KT_J_STRING || (strcmp(rule, "truncate") == 0 ?
	    !truncated(m->value, m->value_len) :
	    !hashed(m->value, m->value_len)))
		violated(rule, "\"%s\": \"%s\"", RULES[k].out,
		    excerpt(m->value, m->value_len));
}

static void check_event(const struct kt_event *ev, const char *line,
    size_t len)
{
	const struct kt_index *ix = &ev->index;
	char why[1024];
	size_t i;
	int k, salt = 0;

	if (!jsonc_object(ev->value, ev->value_len))
		violated("json", "not a strict JSON object: %s (from %s)",
		    excerpt(ev->value, ev->value_len), excerpt(line, len));
	if (kt_index_check(ev->value, ev->value_len, ix->m, ix->n, why,
	    sizeof(why)) == -1)
		violated("index", "%s (from %s)", why, excerpt(line, len));
	if (kt_key_check(&kc, ix, why, sizeof(why)) == -1)
		violated("names key", "%s (from %s)", why, excerpt(line, len));
	for (i = 0; i < ix->n; i += 1 + (ix->m[i].children > 0 ?
	    (size_t)ix->m[i].children : 0)) {
		const struct kt_member *m = &ix->m[i];

		if ((k = rule_of(m->name, m->name_len)) >= 0)
			check_member(m, k);
		if (m->name_len == 9 && memcmp(m->name, "anon_salt", 9) == 0)
			salt = m->value_len == strlen(SALT_ID) &&
			    memcmp(m->value, SALT_ID, m->value_len) == 0;
	}
	if (!salt)
		violated("salt", "no anon_salt of %s in %s", SALT_ID,
		    excerpt(ev->value, ev->value_len));
}

/* --- one line ---------------------------------------------------------- */

/*
 * The line through the stages with anonymizer a: the published event
 * (checked) copied into *out, or NULL when the line has none.
 */
static char *staged(struct anonymizer *a, const char *line, size_t len,
    size_t *olen)
{
	const struct enrich_lookup lk = { lookup, geo };
	struct kt_input in = { EVENT_ID, INGEST_MS, 0 };
	struct ev_edits e;
	struct kt_event ev;
	enum anon_result r;
	char *out;

	if (kt_transform_line(tf, line, len, &in, &ev) != KT_EVENT)
		return NULL;
	ev_edits_reset(&e);
	if (enrich_event(en, &ev, &lk, &e) == -1)
		violated("enrich", "edits full (from %s)", excerpt(line, len));
	if ((r = anon_stage(a, &ev, &e)) == ANON_FULL)
		violated("anonymize", "edits full (from %s)",
		    excerpt(line, len));
	if (r == ANON_REFUSED) {
		if (strncmp(anon_error(a), "anonymize.", 10) != 0)
			violated("anonymize", "message \"%s\"", anon_error(a));
		return NULL;
	}
	if (ev_apply(&ed, &ev, &e) == -1)
		violated("memory", "ev_apply failed");
	check_event(&ev, line, len);
	if ((out = malloc(ev.value_len + 1)) == NULL)
		violated("memory", "malloc failed");
	memcpy(out, ev.value, ev.value_len);
	*olen = ev.value_len;
	return out;
}

/* The raw line re-written: strict JSON, no dropped member left. */
static void check_raw(const char *line, size_t len)
{
	struct kt_wval doc, name, value;
	struct kt_walk w;
	const char *out;
	long n = anon_line(warm, line, len, &out);

	if (n < 0)
		return;
	if (!jsonc_object(out, (size_t)n) ||
	    kt_json_check(out, (size_t)n, NULL, 0) == -1)
		violated("raw", "not a strict JSON object: %s (from %s)",
		    excerpt(out, (size_t)n), excerpt(line, len));
	kt_walk_document(out, (size_t)n, &doc);
	kt_walk_begin(&w, &doc);
	while (kt_walk_next_member(&w, &name, &value))
		if ((name.len == 7 && memcmp(name.p, "mac_src", 7) == 0) ||
		    (name.len == 5 && memcmp(name.p, "label", 5) == 0))
			violated("raw", "dropped member in %s",
			    excerpt(out, (size_t)n));
}

/* Warm and cold anonymizers write the same event. */
static void check_line(const char *line, size_t len)
{
	size_t wlen = 0, clen = 0;
	char *w = staged(warm, line, len, &wlen), *c;

	/* a new salt empties the memo; the same salt, the same hashes */
	if (anon_set_salt(cold, SALT, sizeof(SALT), SALT_ID) == -1)
		violated("memory", "anon_set_salt failed");
	c = staged(cold, line, len, &clen);
	if ((w == NULL) != (c == NULL) || wlen != clen ||
	    (w != NULL && memcmp(w, c, wlen) != 0))
		violated("memo", "warm %s, cold %s",
		    w ? excerpt(w, wlen) : "(none)",
		    c ? excerpt(c, clen) : "(none)");
	free(w);
	free(c);
	check_raw(line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	fuzz_lines(data, size, check_line);
	return 0;
}
