/*
 * fuzz_transform.c: libFuzzer target for the transform and the line reader.
 *
 * The input goes to kt_transform_line() whole, and is also cut into lines
 * by line_readers fed in uneven chunks, so framing is fuzzed too.  Every
 * outcome is checked against properties that hold for any input; a
 * violation prints "FUZZ PROPERTY <name>: <why>" and aborts, which
 * libFuzzer reports as a crash and saves as a reproducer.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "reader.h"
#include "jsonscan.h"
#include "transform.h"
#include "../indexcheck.h"
#include "fuzzfail.h"
#include "fuzzjson.h"

#define SCHEMA	  "/netflow/flow/1.0.0"
#define STREAM	  "netflow"
#define DOMAIN	  "fuzz.example"
#define EVENT_ID  "0b6f3c2e-8d4a-4f1e-9c7b-2a5d6e8f1a3c"
#define INGEST_MS 1795422800123LL	/* 2026-11-23T08:33:20.123Z */
#define MAX_LINE  4096
#define SITE_TAIL ", \"site\": \"eqiad\"}"

/* The time zones the transform is built with, one transform each. */
enum { TZ_FIXED, TZ_EU, TZ_NONE, N_TZ };

static const char *const time_fields[] = {
	"timestamp_start", "timestamp_end", "timestamp_arrival",
	"stamp_inserted", "stamp_updated"
};
static const char *const dt_sources[] = {
	"timestamp_start", "timestamp_arrival", "stamp_inserted"
};

static struct kt_transform *tf[N_TZ];
static struct kt_zone zone[N_TZ];	/* the same zones, for kt_parse_time() */
static struct json_tokener *tok;

/* A piece of a buffer. */
struct span {
	const char *p;
	size_t	    len;
};

/* A top-level member: key without quotes, value as written. */
struct member {
	struct span key, value;
};

/* What one kt_transform_line() call gave, copied out of its buffers. */
struct outcome {
	enum kt_status st;
	char	      *value;
	size_t	       value_len;
	const char    *key;
	size_t	       key_len;
	int64_t	       ts;
	enum kt_marker marker;
	int64_t	       purged;
	char	       err[512];
};

/* --- failing ------------------------------------------------------------ */

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		violated("memory", "malloc(%zu) failed", n);
	return p;
}

/* --- time zones ----------------------------------------------------------- */

/* Local time is UTC+01:00, always. */
static int fixed_fn(void *arg, const struct tm *local, int64_t *out)
{
	struct tm c = *local;

	(void)arg;
	*out = (int64_t)timegm(&c) - 3600;
	return 0;
}

/* The last Sunday of month mon of year y, 01:00 UTC: EU switch times. */
static int64_t eu_switch(int y, int mon)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1,
			 .tm_mday = 31, .tm_hour = 1 };
	time_t s = timegm(&tm);
	struct tm g;

	gmtime_r(&s, &g);
	return (int64_t)s - (int64_t)g.tm_wday * 86400;
}

static int eu_summer(int64_t utc)
{
	time_t s = (time_t)utc;
	struct tm g;

	gmtime_r(&s, &g);
	return utc >= eu_switch(g.tm_year + 1900, 3) &&
	    utc < eu_switch(g.tm_year + 1900, 10);
}

/* Central European time with EU summer time: the spring gap fails. */
static int eu_fn(void *arg, const struct tm *local, int64_t *out)
{
	struct tm c = *local;
	int64_t l = (int64_t)timegm(&c);

	(void)arg;
	if (eu_summer(l - 7200))
		*out = l - 7200;
	else if (!eu_summer(l - 3600))
		*out = l - 3600;
	else
		return -1;
	return 0;
}

/* --- set up, once --------------------------------------------------------- */

static void must(struct kt_transform *t, int r, const char *what)
{
	if (r == -1)
		violated("setup", "%s: %s", what, kt_transform_error(t));
}

/* A transform configured like production, with time zone fn. */
static struct kt_transform *build(kt_local_to_utc_fn fn)
{
	struct kt_transform *t = kt_transform_new();
	size_t i;

	if (t == NULL)
		violated("setup", "kt_transform_new failed");
	must(t, kt_transform_set_envelope(t, SCHEMA, STREAM, DOMAIN),
	    "envelope");
	for (i = 0; i < sizeof(dt_sources) / sizeof(*dt_sources); i++)
		must(t, kt_transform_add_dt_source(t, dt_sources[i]), "dt");
	must(t, kt_transform_integer(t, "tcp_flags"), "integer");
	for (i = 0; i < sizeof(time_fields) / sizeof(*time_fields); i++)
		must(t, kt_transform_time(t, time_fields[i]), "time");
	must(t, kt_transform_rename(t, "ip_src", "src_ip"), "rename");
	must(t, kt_transform_constant(t, "site", "eqiad"), "constant");
	must(t, kt_transform_set_key(t, "ip_src"), "key");
	kt_transform_set_timezone(t, fn, NULL);
	return t;
}

static void setup(void)
{
	tf[TZ_FIXED] = build(fixed_fn);
	/* one of them indexes its events (the validator's input), and
	 * numbers them: some lines have no number (other names, no key) */
	kt_transform_set_index(tf[TZ_FIXED], 1);
	must(tf[TZ_FIXED], kt_transform_set_sequence(tf[TZ_FIXED], "sequence",
	    "sequence_run", "20261130T164423Z-3f9a1c2b"), "sequence");
	tf[TZ_EU] = build(eu_fn);
	kt_transform_set_dt_fallback(tf[TZ_EU], KT_DT_REJECT);
	tf[TZ_NONE] = build(NULL);
	kt_zone_set(&zone[TZ_FIXED], fixed_fn, NULL);
	kt_zone_set(&zone[TZ_EU], eu_fn, NULL);
	kt_zone_set(&zone[TZ_NONE], NULL, NULL);
	if ((tok = json_tokener_new_ex(KT_MAX_DEPTH * 2)) == NULL)
		violated("setup", "json_tokener_new_ex failed");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
}

/* --- small helpers -------------------------------------------------------- */

/* Strict UTF-8 (RFC 3629): no overlongs, surrogates or > U+10FFFF. */
static int utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, n, j;
	unsigned char lo, hi;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			return 0;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (j = 2; j < n; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += n;
	}
	return 1;
}

static int span_is(struct span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* A string value without its quotes; other values as they are. */
static struct span inner(struct span v)
{
	if (v.len >= 2 && v.p[0] == '"') {
		v.p++;
		v.len -= 2;
	}
	return v;
}

/* --- top-level members of a valid JSON object ----------------------------- */

static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* s[i] is an opening quote: the index after the closing one. */
static size_t skip_string(const char *s, size_t i, size_t len)
{
	for (i++; i < len && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i < len ? i + 1 : len;
}

/* The index after the value at s[i]. */
static size_t skip_value(const char *s, size_t i, size_t len)
{
	size_t depth = 0;

	if (s[i] == '"')
		return skip_string(s, i, len);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && strchr(",}] \t\r\n", s[i]) == NULL)
			i++;
		return i;
	}
	for (; i < len; i++) {
		if (s[i] == '"')
			i = skip_string(s, i, len) - 1;
		else if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
	}
	return len;
}

/*
 * The members of the object in s[0..len), which json-c accepted.  Returns
 * their number (*m is reused from call to call), or -1 if s is no object.
 */
static long scan_object(const char *s, size_t len, struct member **m,
    size_t *cap)
{
	size_t i = skip_ws(s, 0, len), n = 0, k;

	if (i == len || s[i] != '{')
		return -1;
	for (i = skip_ws(s, i + 1, len); i < len && s[i] != '}';) {
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			if ((*m = realloc(*m, *cap * sizeof(**m))) == NULL)
				violated("memory", "realloc failed");
		}
		k = skip_string(s, i, len);
		(*m)[n].key = (struct span){ s + i + 1, k - i - 2 };
		i = skip_ws(s, skip_ws(s, k, len) + 1, len);
		k = skip_value(s, i, len);
		(*m)[n++].value = (struct span){ s + i, k - i };
		i = skip_ws(s, k, len);
		if (i < len && s[i] == ',')
			i = skip_ws(s, i + 1, len);
	}
	return (long)n;
}

static const struct member *find(const struct member *m, long n,
    const char *name)
{
	long i;

	for (i = 0; i < n; i++)
		if (span_is(m[i].key, name))
			return &m[i];
	return NULL;
}

/* --- running the transform ------------------------------------------------ */

/* The names each key of each transform stood for (indexcheck.h). */
static struct kt_key_check keys[N_TZ];

/*
 * An event's member index says what the event says, and its key stands
 * for the same names as before (indexcheck.h).
 */
static void check_index(const struct kt_transform *t,
    const struct kt_event *ev)
{
	char why[1024];
	size_t i;

	if (ev->index.m == NULL)
		return;
	if (kt_index_check(ev->value, ev->value_len, ev->index.m, ev->index.n,
	    why, sizeof(why)) == -1)
		violated("index", "%s", why);
	for (i = 0; i < N_TZ; i++)
		if (tf[i] == t && kt_key_check(&keys[i], &ev->index, why,
		    sizeof(why)) == -1)
			violated("names key", "%s", why);
}

static void run(struct kt_transform *t, const char *line, size_t len,
    struct outcome *o)
{
	struct kt_input in = { EVENT_ID, INGEST_MS, 0 };
	struct kt_event ev;
	const char *err;

	if (t == tf[TZ_FIXED]) /* the same line, the same number */
		in.sequence = len % 3 == 0 ? 0 : len * 977;

	o->st = kt_transform_line(t, line, len, &in, &ev);
	o->value = NULL;
	o->value_len = o->st == KT_EVENT ? ev.value_len : 0;
	if (o->st == KT_EVENT) {
		o->value = xmalloc(ev.value_len);
		memcpy(o->value, ev.value, ev.value_len);
		check_index(t, &ev);
	}
	o->key = ev.key;
	o->key_len = ev.key_len;
	o->ts = ev.timestamp_ms;
	o->marker = ev.marker;
	o->purged = ev.purged_entries;
	if ((err = kt_transform_error(t)) == NULL)
		violated("error", "kt_transform_error() is NULL");
	snprintf(o->err, sizeof(o->err), "%s", err);
}

/* The same line through the same transform gives the same outcome. */
static void same(const struct outcome *a, const struct outcome *b,
    const char *line, size_t len)
{
	if (a->st != b->st || a->value_len != b->value_len ||
	    (a->value_len && memcmp(a->value, b->value, a->value_len)) ||
	    a->key != b->key || a->key_len != b->key_len || a->ts != b->ts ||
	    a->marker != b->marker || a->purged != b->purged ||
	    strcmp(a->err, b->err) != 0)
		violated("determinism", "two runs differ (status %d/%d, "
		    "error \"%s\"/\"%s\") on %s", a->st, b->st, a->err, b->err,
		    excerpt(line, len));
}

/* A kt_transform_error() message: one non-empty line of UTF-8. */
static void check_message(const char *msg, const char *line, size_t len)
{
	const unsigned char *p;

	if (msg[0] == '\0')
		violated("message", "empty error message on %s",
		    excerpt(line, len));
	if (!utf8_ok((const unsigned char *)msg, strlen(msg)))
		violated("message", "error message is not UTF-8: %s",
		    excerpt(msg, strlen(msg)));
	/* A raw newline in the input breaks kt_transform_line's contract. */
	if (memchr(line, '\n', len) != NULL)
		return;
	/* C0 only: DEL and C1 may be quoted from a JSON string. */
	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 && *p != '\t')
			violated("errctl", "control byte 0x%02x in error "
			    "message \"%s\"", *p, excerpt(msg, strlen(msg)));
}

/* --- markers ------------------------------------------------------------- */

/*
 * The markers that event_type members hold, as a set of 1 << marker.  With
 * duplicate keys, the transform may take either: a marker is looked at
 * before duplicates are refused.
 */
static unsigned markers_of(const struct member *m, long n)
{
	unsigned set = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (!span_is(m[i].key, "event_type"))
			continue;
		if (span_is(m[i].value, "\"purge_init\""))
			set |= 1u << KT_MARKER_PURGE_INIT;
		else if (span_is(m[i].value, "\"purge_close\""))
			set |= 1u << KT_MARKER_PURGE_CLOSE;
		else
			set |= 1u << KT_MARKER_NONE;
	}
	return set;
}

/* A count as value_integer() reads it: up to 18 digits, else -1. */
static int64_t count_of(struct span v)
{
	int64_t n = 0;
	size_t i;

	if (v.len == 0 || v.len > 18)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	return n;
}

/* Is purged the count of a purged_entries member, or -1 without one? */
static int purged_ok(int64_t purged, const struct member *m, long n)
{
	int seen = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (!span_is(m[i].key, "purged_entries"))
			continue;
		seen = 1;
		if (count_of(m[i].value) == purged)
			return 1;
	}
	return !seen && purged == -1;
}

/* The marker, and purge_close's purged_entries or -1. */
static void check_marker(const struct outcome *o, const struct member *m,
    long n, const char *line, size_t len)
{
	if (o->marker == KT_MARKER_NONE ||
	    !(markers_of(m, n) & (1u << o->marker)))
		violated("marker", "wrong marker %d for %s", o->marker,
		    excerpt(line, len));
	if (o->marker == KT_MARKER_PURGE_CLOSE ? !purged_ok(o->purged, m, n) :
	    o->purged != -1)
		violated("marker", "purged_entries %lld for %s",
		    (long long)o->purged, excerpt(line, len));
}

/* --- checking an event ------------------------------------------------- */

/*
 * Members come out in the order they came in: looks for needle, followed
 * by ',' or '}', from *from on, and moves *from past it.
 */
static int has_member(const struct outcome *o, size_t *from,
    const char *needle, size_t n)
{
	const char *p = o->value + *from, *end = o->value + o->value_len;

	while ((p = memmem(p, (size_t)(end - p), needle, n)) != NULL) {
		if (p + n < end && (p[n] == ',' || p[n] == '}')) {
			*from = (size_t)(p - o->value) + n;
			return 1;
		}
		p++;
	}
	return 0;
}

/* ", \"name\": " followed by v, into a fresh buffer. */
static char *member_text(struct span name, struct span v, size_t *n)
{
	char *b = xmalloc(name.len + v.len + 8);

	*n = (size_t)sprintf(b, ", \"%.*s\": ", (int)name.len, name.p);
	memcpy(b + *n, v.p, v.len);
	*n += v.len;
	return b;
}

static void expect_member(const struct outcome *o, size_t *from,
    struct span name, struct span v, const char *line, size_t len)
{
	size_t n;
	char *b = member_text(name, v, &n);

	if (!has_member(o, from, b, n))
		violated("forward", "member %s missing from the event, or out "
		    "of order, for %s", excerpt(b, n), excerpt(line, len));
	free(b);
}

static int is_time_field(struct span key)
{
	size_t i;

	for (i = 0; i < sizeof(time_fields) / sizeof(*time_fields); i++)
		if (span_is(key, time_fields[i]))
			return 1;
	return 0;
}

/* The zone transform t was built with. */
static struct kt_zone *zone_of(const struct kt_transform *t)
{
	int i;

	for (i = 0; i < N_TZ - 1 && tf[i] != t; i++)
		continue;
	return &zone[i];
}

/* A time field is in the event as ISO-8601 UTC, or left out when zero. */
static void expect_time(struct kt_transform *t, const struct outcome *o,
    size_t *from, const struct member *m, const char *line, size_t len)
{
	struct span v = inner(m->value);
	char iso[KT_ISO_LEN + 3];
	int64_t ms;
	int r = kt_parse_time(zone_of(t), v.p, v.len, &ms);

	if (r == -1)
		violated("time", "event despite a bad time in %s",
		    excerpt(line, len));
	if (r == 0)
		return;
	iso[0] = '"';
	if (kt_format_iso8601(ms, iso + 1) == -1)
		violated("time", "time out of range in %s", excerpt(line, len));
	strcat(iso, "\"");
	expect_member(o, from, m->key, (struct span){ iso, strlen(iso) },
	    line, len);
}

/* Every member of the line is forwarded as it was written, or as told. */
static void check_members(struct kt_transform *t, const struct outcome *o,
    const struct member *m, long n, const char *line, size_t len)
{
	static const struct span src_ip = { "src_ip", 6 };
	size_t from = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (span_is(m[i].key, "event_type"))
			continue;
		if (span_is(m[i].key, "ip_src"))
			expect_member(o, &from, src_ip, m[i].value, line, len);
		else if (span_is(m[i].key, "tcp_flags"))
			expect_member(o, &from, m[i].key, inner(m[i].value),
			    line, len);
		else if (is_time_field(m[i].key))
			expect_time(t, o, &from, &m[i], line, len);
		else
			expect_member(o, &from, m[i].key, m[i].value, line,
			    len);
	}
}

/* The message key is ip_src's value, unless it is absent or null. */
static void check_key(const struct outcome *o, const struct member *m,
    long n, const char *line, size_t len)
{
	const struct member *k = find(m, n, "ip_src");
	struct span want = { NULL, 0 };

	if (k != NULL && !span_is(k->value, "null"))
		want = inner(k->value);
	if ((want.p == NULL) != (o->key == NULL) ||
	    (want.p != NULL && (want.len != o->key_len ||
	    memcmp(want.p, o->key, want.len) != 0)))
		violated("key", "wrong message key for %s",
		    excerpt(line, len));
}

static const char *string_at(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int string_is(struct json_object *o, const char *name, const char *s)
{
	const char *v = string_at(o, name);

	return v != NULL && strcmp(v, s) == 0;
}

/* $schema, meta and dt come first and hold what the transform was given. */
static void check_envelope(struct json_object *ev, const struct outcome *o,
    const char *line, size_t len)
{
	static const char *const first[] = { "$schema", "meta", "dt" };
	char ingest[KT_ISO_LEN + 1], dt[KT_ISO_LEN + 1];
	struct json_object *meta = NULL;
	int i = 0;

	json_object_object_foreach(ev, name, val) {
		(void)val;
		if (i < 3 && strcmp(name, first[i++]) != 0)
			violated("envelope", "key %d is \"%s\", not \"%s\"",
			    i, name, first[i - 1]);
	}
	if (i < 3)
		violated("envelope", "only %d members", i);
	if (kt_format_iso8601(o->ts, dt) == -1)
		violated("envelope", "event time %lld out of range",
		    (long long)o->ts);
	kt_format_iso8601(INGEST_MS, ingest);
	if (!json_object_object_get_ex(ev, "meta", &meta) ||
	    !json_object_is_type(meta, json_type_object))
		violated("alias", "meta is no object, from %s",
		    excerpt(line, len));
	if (!string_is(ev, "$schema", SCHEMA) || !string_is(ev, "dt", dt) ||
	    !string_is(meta, "stream", STREAM) ||
	    !string_is(meta, "id", EVENT_ID) ||
	    !string_is(meta, "dt", ingest) ||
	    !string_is(meta, "domain", DOMAIN) ||
	    json_object_object_length(meta) != 4)
		violated("alias", "envelope overridden by %s",
		    excerpt(line, len));
}

/* Decoded names are unique, and event_type is never forwarded. */
static void check_names(struct json_object *ev, const struct outcome *o,
    const char *line, size_t len)
{
	static struct member *m;
	static size_t cap;
	long n = scan_object(o->value, o->value_len, &m, &cap);

	if (n != json_object_object_length(ev))
		violated("alias", "event has %ld members but %d names, "
		    "from %s", n, json_object_object_length(ev),
		    excerpt(line, len));
	if (json_object_object_get_ex(ev, "event_type", NULL))
		violated("alias", "event_type forwarded, from %s",
		    excerpt(line, len));
}

static void check_event(struct kt_transform *t, const struct outcome *o,
    const struct member *m, long n, const char *line, size_t len)
{
	struct json_object *ev = NULL;
	size_t tail = sizeof(SITE_TAIL) - 1;

	if (!jsonc_accepts(tok, o->value, o->value_len, &ev) ||
	    !json_object_is_type(ev, json_type_object))
		violated("event-json", "not a strict JSON object: %s (from %s)",
		    excerpt(o->value, o->value_len), excerpt(line, len));
	if (!utf8_ok((const unsigned char *)o->value, o->value_len))
		violated("event-utf8", "event is not UTF-8");
	check_envelope(ev, o, line, len);
	check_names(ev, o, line, len);
	json_object_put(ev);
	if (o->value_len < tail ||
	    memcmp(o->value + o->value_len - tail, SITE_TAIL, tail) != 0)
		violated("constant", "event does not end with the constant: "
		    "%s", excerpt(o->value, o->value_len));
	if (n < 0)
		violated("event", "event from a line that is no object: %s",
		    excerpt(line, len));
	if (markers_of(m, n) & ~(1u << KT_MARKER_NONE))
		violated("marker", "marker forwarded: %s", excerpt(line, len));
	check_members(t, o, m, n, line, len);
	check_key(o, m, n, line, len);
}

/* --- checking one line ------------------------------------------------ */

static void check_outcome(struct kt_transform *t, const struct outcome *o,
    int valid, const struct member *m, long n, const char *line, size_t len)
{
	if (o->st == KT_INVALID) {
		check_message(o->err, line, len);
		if (n >= 0 && markers_of(m, n) != 0 &&
		    !(markers_of(m, n) & (1u << KT_MARKER_NONE)))
			violated("marker", "marker refused: %s", o->err);
		return;
	}
	if (!valid)
		violated("valid", "status %d for a line kt_json_check refuses: "
		    "%s", o->st, excerpt(line, len));
	if (o->st == KT_SKIP)
		check_marker(o, m, n, line, len);
	else if (o->st == KT_EVENT)
		check_event(t, o, m, n, line, len);
	else
		violated("status", "unknown status %d", o->st);
}

/* Local times read as UTC+01:00 come out an hour before those read as UTC. */
static void check_zones(const struct outcome *fixed,
    const struct outcome *none, const char *line, size_t len)
{
	int64_t d;

	if (fixed->st != KT_EVENT || none->st != KT_EVENT)
		return;
	d = none->ts - fixed->ts;
	if (d != 0 && d != 3600000)
		violated("zone", "UTC+01:00 and UTC event times %lld apart in "
		    "%s", (long long)d, excerpt(line, len));
}

/* One transform, twice: same outcome, and every property holds. */
static void transform_with(int tz, const char *line, size_t len, int valid,
    const struct member *m, long n, struct outcome *o)
{
	struct outcome again;

	run(tf[tz], line, len, o);
	run(tf[tz], line, len, &again);
	same(o, &again, line, len);
	free(again.value);
	check_outcome(tf[tz], o, valid, m, n, line, len);
}

/* kt_json_check accepts only what json-c strict accepts. */
static int json_check(const char *line, size_t len)
{
	char err[256];

	if (kt_json_check(line, len, err, sizeof(err)) == -1) {
		check_message(err, line, len);
		return 0;
	}
	if (!jsonc_accepts(tok, line, len, NULL))
		violated("json-check", "kt_json_check accepts what json-c "
		    "strict refuses: %s", excerpt(line, len));
	return 1;
}

/* Checks a line under time zone tz, or under all of them when tz < 0. */
static void check_line(const char *line, size_t len, int tz)
{
	static struct member *m;
	static size_t cap;
	struct outcome o[N_TZ];
	int valid = json_check(line, len), i;
	long n = valid ? scan_object(line, len, &m, &cap) : -1;

	if (tz >= 0) {
		transform_with(tz, line, len, valid, m, n, &o[0]);
		free(o[0].value);
		return;
	}
	for (i = 0; i < N_TZ; i++)
		transform_with(i, line, len, valid, m, n, &o[i]);
	check_zones(&o[TZ_FIXED], &o[TZ_NONE], line, len);
	for (i = 0; i < N_TZ; i++)
		free(o[i].value);
}

/* --- framing ------------------------------------------------------------ */

/* A reader over the input, and where the next line must start in it. */
struct framing {
	struct line_reader lr;
	const char	  *data;
	size_t		   size, next;
	uint64_t	   lines;
	int		   transform; /* check each line with a transform */
};

/* The line the model expects at f->next, compared with what came. */
static void expect_line(struct framing *f, const struct line *l)
{
	const char *s = f->data + f->next, *nl;
	size_t raw, want, max = f->lr.max_line;
	int too_long;

	nl = memchr(s, '\n', f->size - f->next);
	raw = nl ? (size_t)(nl - s) : f->size - f->next;
	want = raw > 0 && s[raw - 1] == '\r' ? raw - 1 : raw;
	too_long = want > max;
	if (too_long)
		want = max < LR_LONG_PREFIX ? max : LR_LONG_PREFIX;
	if (l->too_long != too_long || l->len != want ||
	    memcmp(l->data, s, want) != 0 || l->no != ++f->lines)
		violated("framing",
		    "line %llu (max %zu): got %zu bytes too_long=%d, want "
		    "%zu too_long=%d from %s", (unsigned long long)l->no, max,
		    l->len, l->too_long, want, too_long, excerpt(s, raw));
	f->next = nl ? (size_t)(nl - f->data) + 1 : f->size;
}

static void drain(struct framing *f, int at_eof)
{
	struct line l;

	while (lr_next(&f->lr, at_eof, &l)) {
		expect_line(f, &l);
		if (f->transform && !l.too_long)
			check_line(l.data, l.len, (int)(l.no % N_TZ));
	}
}

/*
 * xorshift64: uneven, but repeatable, read sizes.  Tiny reads only near
 * the start: each read moves the partial line, so they cost O(line).
 */
static size_t chunk(uint64_t *r, size_t off)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 4095, 4096, 4097,
					65536 };
	size_t first = off < 8192 ? 0 : 4;

	*r ^= *r << 13;
	*r ^= *r >> 7;
	*r ^= *r << 17;
	return sizes[first + *r % (sizeof(sizes) / sizeof(*sizes) - first)];
}

/* Feeds data to a reader of lines up to max bytes, read by read. */
static void frame(const char *data, size_t size, size_t max, uint64_t seed,
    int transform)
{
	struct framing f = { .data = data, .size = size,
			     .transform = transform };
	size_t off = 0, n, k;
	char *p;

	if (lr_init(&f.lr, max) == -1)
		violated("memory", "lr_init failed");
	while (off < size) {
		if (lr_space(&f.lr, &p, &n) == -1 || n == 0)
			violated("framing", "lr_space gave no space");
		k = chunk(&seed, off);
		k = k < n ? k : n;
		k = k < size - off ? k : size - off;
		memcpy(p, data + off, k);
		lr_commit(&f.lr, k);
		off += k;
		drain(&f, 0);
	}
	drain(&f, 1);
	if (f.next != size || lr_pending(&f.lr) != 0)
		violated("framing", "input not all handed out: %zu of %zu",
		    f.next, size);
	lr_free(&f.lr);
}

/* FNV-1a over the first and last bytes and the size. */
static uint64_t seed_of(const uint8_t *d, size_t size)
{
	uint64_t h = 1469598103934665603ULL ^ size;
	size_t i;

	for (i = 0; i < size && i < 64; i++)
		h = (h ^ d[i]) * 1099511628211ULL;
	for (i = size > 64 ? size - 64 : size; i < size; i++)
		h = (h ^ d[i]) * 1099511628211ULL;
	return h | 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint64_t seed = seed_of(data, size);

	if (!ready) {
		setup();
		ready = 1;
	}
	check_line((const char *)data, size, -1);
	frame((const char *)data, size, MAX_LINE, seed, 1);
	/* Framing alone: lines of at most 0..63 bytes, or of up to 1 MiB. */
	frame((const char *)data, size, seed & 2 ? (size_t)(seed >> 33) % 64 :
	    (size_t)1 << 20, seed, 0);
	return 0;
}
