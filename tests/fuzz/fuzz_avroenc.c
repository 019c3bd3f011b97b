/*
 * fuzz_avroenc.c: libFuzzer target for the encode stage of encoding =
 * pnda-avro (avroenc.c), as event_encoded() runs it: each line of the
 * input through a transform that captures a few input fields, then each
 * event into PNDA's Avro datum by two encoders: one whose extension
 * fields are all unions with null (both orders), one whose fields are
 * not (and whose rawdata is the input line).  Both schemas have every
 * extension type, fields read from the captures, constants and
 * defaults.  Each encoder twice: without Confluent's framing and with
 * it.
 *
 * Properties: a datum avroenc_encode() gives reads back through avro-c's
 * reader, every byte of it (framing aside), with the event's timestamp,
 * the configured source, rawdata byte for byte, each captured field as
 * an oracle of this file reads the capture (null exactly when absent or
 * null; integers by strtoll(), doubles by strtod(), strings unescaped and
 * valid UTF-8), the constants and defaults; the framing is 0 and the id
 * big-endian.  A refusal names the first extension field, in the
 * schema's order, whose capture the oracle says does not fit, and its
 * input field.  A violation prints "FUZZ PROPERTY <name>: <why>" and
 * aborts, as fuzz_transform does.
 *
 * The seeds double-long-text and double-subnormal were findings in avroenc.c
 * (doubles refused: a subnormal, a text of 400 bytes), fixed: they stay
 * as regressions.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avro.h>

#include "avroenc.h"
#include "jsonwalk.h"
#include "transform.h"
#include "fuzzfail.h"
#include "fuzzlines.h"

#define EVENT_ID  "0b6f3c2e-8d4a-4f1e-9c7b-2a5d6e8f1a3c"
#define INGEST_MS 1795422800123LL
#define REG_ID	  0x80fe0102LL	/* the high bit set: 4 bytes unsigned */

enum kind { K_LONG, K_INT, K_STRING, K_BYTES, K_BOOLEAN, K_DOUBLE };
static const char *const KIND[] = { "long", "int", "string", "bytes",
	"boolean", "double" };

/* Where a field's value comes from. */
enum from { CAP, CONST, DEFAULT };

/*
 * An extension field: its type (null_at -1: not a union), what fills it
 * (cap: the input field; text: the constant's or default's JSON) and
 * the value it must read back as when that is a constant or default.
 */
struct fdef {
	const char *name;
	enum kind   kind;
	int	    null_at;
	enum from   from;
	const char *cap;
	const char *text;	/* CONST: avro.field's value; DEFAULT: JSON */
	int	    is_null;	/* the constant's or default's value */
	long long   n;
	double	    d;
	const char *s;
};

#define F_CAP(name, k, at, field) { name, k, at, CAP, field, NULL, 0, 0, 0, NULL }

/* Unions, in both orders; the defaults of their first branch. */
static const struct fdef LOOSE[] = {
	F_CAP("peer", K_STRING, 0, "peer_ip_src"),
	F_CAP("bytes", K_LONG, 0, "bytes"),
	{ "packets", K_LONG, 1, CAP, "packets", "0", 0, 0, 0, NULL },
	F_CAP("flags", K_INT, 0, "tcp_flags"),
	{ "tag", K_INT, 1, CAP, "tag", "0", 0, 0, 0, NULL },
	{ "label", K_BYTES, 1, CAP, "label", "\"x\"", 0, 0, 0, NULL },
	F_CAP("ratio", K_DOUBLE, 0, "sampling_rate"),
	{ "bytes_d", K_DOUBLE, 1, CAP, "bytes", "0.5", 0, 0, 0, NULL },
	F_CAP("sampled", K_BOOLEAN, 0, "sampled"),
	{ "sampled2", K_BOOLEAN, 1, CAP, "sampled", "true", 0, 0, 0, NULL },
	F_CAP("peer_b", K_BYTES, 0, "peer_ip_src"),
	{ "label_s", K_STRING, 1, CAP, "label", "\"\"", 0, 0, 0, NULL },
	{ "collector", K_STRING, -1, CONST, NULL, "nfacctd", 0, 0, 0,
	  "nfacctd" },
	{ "site", K_STRING, 0, CONST, NULL, "\"eq\\u00e4d\"", 0, 0, 0,
	  "eq\xc3\xa4" "d" },
	{ "minus", K_LONG, 1, CONST, NULL, "null", 1, 0, 0, NULL },
	{ "ver", K_INT, -1, DEFAULT, NULL, "9", 0, 9, 0, NULL },
	{ "blob", K_BYTES, 0, DEFAULT, NULL, "null", 1, 0, 0, NULL },
	{ "scale", K_DOUBLE, 1, DEFAULT, NULL, "-2.5e-3", 0, 0, -2.5e-3,
	  NULL },
};

/* No union: an absent or null capture does not fit. */
static const struct fdef STRICT[] = {
	{ "collector", K_STRING, -1, CONST, NULL, "\"nf\\\"acctd\"", 0, 0, 0,
	  "nf\"acctd" },
	F_CAP("peer", K_STRING, -1, "peer_ip_src"),
	F_CAP("bytes", K_LONG, -1, "bytes"),
	F_CAP("packets", K_INT, -1, "packets"),
	F_CAP("flags", K_LONG, -1, "tcp_flags"),
	F_CAP("label", K_BYTES, -1, "label"),
	F_CAP("tag", K_DOUBLE, -1, "tag"),
	F_CAP("ratio", K_DOUBLE, -1, "sampling_rate"),
	F_CAP("sampled", K_BOOLEAN, -1, "sampled"),
	{ "min", K_LONG, -1, CONST, NULL, "-9223372036854775808", 0,
	  INT64_MIN, 0, NULL },
	{ "on", K_BOOLEAN, -1, CONST, NULL, "true", 0, 1, 0, NULL },
	{ "rate", K_DOUBLE, -1, DEFAULT, NULL, "1e-3", 0, 0, 1e-3, NULL },
	{ "off", K_BOOLEAN, -1, DEFAULT, NULL, "false", 0, 0, 0, NULL },
	{ "small", K_INT, -1, DEFAULT, NULL, "-2147483648", 0, INT32_MIN, 0,
	  NULL },
};

#define N_OF(a) (sizeof(a) / sizeof(*(a)))

/* One encoder and what it was opened with. */
struct enc {
	const char	   *what;
	const struct fdef  *f;
	size_t		    n;
	int		    slot[N_OF(LOOSE)]; /* CAP: the capture's slot */
	const char	   *source;
	enum avro_rawdata   rawdata;
	long long	    id;
	struct avroenc	   *e;
	avro_schema_t	    schema;	/* the reader's, from the text */
	avro_value_iface_t *cls;
};

/* LOOSE and STRICT, each without framing and with it. */
static struct enc enc[4] = {
	{ "loose", LOOSE, N_OF(LOOSE), { 0 }, "netflow", AVRO_RAWDATA_EVENT,
	  -1, NULL, NULL, NULL },
	{ "strict", STRICT, N_OF(STRICT), { 0 }, "pm\xc3\xa4" "cct",
	  AVRO_RAWDATA_RAW, -1, NULL, NULL, NULL },
	{ "loose+id", LOOSE, N_OF(LOOSE), { 0 }, "netflow",
	  AVRO_RAWDATA_EVENT, REG_ID, NULL, NULL, NULL },
	{ "strict+id", STRICT, N_OF(STRICT), { 0 }, "pm\xc3\xa4" "cct",
	  AVRO_RAWDATA_RAW, 0, NULL, NULL, NULL },
};

static struct kt_transform *tf;

/* --- set up, once --------------------------------------------------------- */

static void must(int ok, const char *what, const char *err)
{
	if (!ok)
		violated("setup", "%s: %s", what, err);
}

static int capture_cb(void *arg, const char *field)
{
	return kt_transform_capture(arg, field);
}

static void transform_setup(void)
{
	tf = kt_transform_new();
	must(tf != NULL, "transform", "out of memory");
	must(kt_transform_set_envelope(tf, "/netflow/flow/1.2.0", "netflow",
	    "edge1") == 0, "envelope", kt_transform_error(tf));
	must(kt_transform_rename(tf, "peer_ip_src", "peer") == 0, "rename",
	    kt_transform_error(tf));
	must(kt_transform_drop(tf, "label") == 0, "drop",
	    kt_transform_error(tf));
	must(kt_transform_time(tf, "timestamp_start") == 0, "time",
	    kt_transform_error(tf));
	must(kt_transform_add_dt_source(tf, "timestamp_start") == 0, "dt",
	    kt_transform_error(tf));
}

/* The schema of defs as text: PNDA's base fields, then the extensions. */
static char *schema_text(const struct fdef *f, size_t n)
{
	static char buf[8192];
	size_t o, i;

	o = (size_t)snprintf(buf, sizeof(buf), "{\"type\": \"record\", "
	    "\"name\": \"event\", \"namespace\": \"pnda.entity\", "
	    "\"fields\": [{\"name\": \"timestamp\", \"type\": \"long\"}, "
	    "{\"name\": \"source\", \"type\": \"string\"}, "
	    "{\"name\": \"rawdata\", \"type\": \"bytes\"}");
	for (i = 0; i < n; i++) {
		const char *k = KIND[f[i].kind];

		o += (size_t)snprintf(buf + o, sizeof(buf) - o,
		    ", {\"name\": \"%s\", \"type\": ", f[i].name);
		if (f[i].null_at < 0)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "\"%s\"", k);
		else
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    "[\"%s\", \"%s\"]", f[i].null_at ? k : "null",
			    f[i].null_at ? "null" : k);
		if (f[i].from == DEFAULT || (f[i].from == CAP &&
		    f[i].text != NULL))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    ", \"default\": %s", f[i].text);
		else if (f[i].null_at == 0)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
			    ", \"default\": null");
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "}");
	}
	snprintf(buf + o, sizeof(buf) - o, "]}");
	must(o + 3 < sizeof(buf), "schema", "too long");
	return buf;
}

static void enc_setup(struct enc *x)
{
	char path[] = "/tmp/fuzz_avroenc.XXXXXX", err[512], *text;
	struct kv kv[N_OF(LOOSE)];
	char refs[N_OF(LOOSE)][64];
	struct kvlist l = { kv, 0 };
	struct avroenc_conf c = { path, x->source, x->rawdata, x->id, &l,
		{ capture_cb, NULL } };
	size_t i;
	int fd;
	FILE *f;

	c.cap.arg = tf;
	for (i = 0; i < x->n; i++) {
		if (x->f[i].from == DEFAULT)
			continue;
		kv[l.n].key = (char *)x->f[i].name;
		if (x->f[i].from == CAP) {
			snprintf(refs[i], sizeof(refs[i]), "%%{field:%s}",
			    x->f[i].cap);
			kv[l.n].value = refs[i];
			x->slot[i] = kt_transform_capture(tf, x->f[i].cap);
			must(x->slot[i] >= 0, "capture", x->f[i].cap);
		} else {
			kv[l.n].value = (char *)x->f[i].text;
		}
		l.n++;
	}
	text = schema_text(x->f, x->n);
	fd = mkstemp(path);
	must(fd != -1 && (f = fdopen(fd, "w")) != NULL && fputs(text, f) >= 0 &&
	    fclose(f) == 0, path, "cannot write");
	x->e = avroenc_open(&c, err, sizeof(err));
	unlink(path);
	must(x->e != NULL, "avroenc_open", err);
	text = (char *)avroenc_schema_text(x->e);
	must(avro_schema_from_json_length(text, strlen(text), &x->schema) ==
	    0, "reader schema", avro_strerror());
	x->cls = avro_generic_class_from_schema(x->schema);
	must(x->cls != NULL, "reader class", avro_strerror());
}

/* At exit: what is left after the close is a leak LeakSanitizer says. */
static void teardown(void)
{
	size_t i;

	for (i = 0; i < N_OF(enc); i++) {
		avroenc_close(enc[i].e);
		avro_value_iface_decref(enc[i].cls);
		avro_schema_decref(enc[i].schema);
	}
	kt_transform_free(tf);
}

static void setup(void)
{
	size_t i;

	atexit(teardown);
	transform_setup();
	for (i = 0; i < N_OF(enc); i++)
		enc_setup(&enc[i]);
}

/* --- the oracle ------------------------------------------------------- */

/* Room for len bytes and a NUL, until the next call; two buffers. */
static char *scratch(int which, size_t len)
{
	static char *buf[2];
	static size_t cap[2];

	if (len + 1 > cap[which]) {
		free(buf[which]);
		cap[which] = len + 1;
		if ((buf[which] = malloc(cap[which])) == NULL)
			violated("memory", "malloc(%zu) failed", len + 1);
	}
	return buf[which];
}

/* s[0..len) NUL-terminated, until the next call. */
static char *cstr(const char *s, size_t len)
{
	char *buf = scratch(0, len);

	if (len > 0)
		memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/*
 * An integer's text: -?[0-9]+ whole, in range of long or int.  A number's
 * text with a fraction or an exponent is none, as the manual says.
 */
static int integer_of(const char *p, size_t len, enum kind k, long long *out)
{
	char *s = cstr(p, len), *end;
	size_t i = s[0] == '-';

	if (i == len)
		return 0;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return k == K_LONG || (*out >= INT32_MIN && *out <= INT32_MAX);
}

/* A string of digits with leading zeros ("007"): refused, as JSON and
 * field.integer refuse them. */
static int zero_padded(const char *p, size_t len)
{
	size_t i = len > 0 && p[0] == '-', j;

	if (len - i < 2 || p[i] != '0')
		return 0;
	for (j = i; j < len; j++)
		if (p[j] < '0' || p[j] > '9')
			return 0;
	return 1;
}

/* A number for a double: any that strtod() makes finite. */
static int double_of(const char *p, size_t len, double *out)
{
	char *end;

	*out = strtod(cstr(p, len), &end);
	return *end == '\0' && isfinite(*out);
}

/* Does the capture v fit field f?  1 yes, 0 no. */

static int fits(const struct fdef *f, const struct kt_value *v)
{
	long long n;
	double d;

	switch (v->type) {
	case KT_VALUE_ABSENT:
	case KT_VALUE_NULL:
		return f->null_at >= 0;
	case KT_VALUE_NUMBER:
		if (f->kind == K_DOUBLE)
			return double_of(v->p, v->len, &d);
		return (f->kind == K_LONG || f->kind == K_INT) &&
		    integer_of(v->p, v->len, f->kind, &n);
	case KT_VALUE_STRING:
		/* pmacct's "tcp_flags": "24"; escaped digits are not */
		if (f->kind == K_LONG || f->kind == K_INT)
			return integer_of(v->p, v->len, f->kind, &n) &&
			    !zero_padded(v->p, v->len);
		return f->kind == K_STRING || f->kind == K_BYTES;
	case KT_VALUE_TRUE:
	case KT_VALUE_FALSE:
		return f->kind == K_BOOLEAN;
	default:
		return 0;
	}
}

static int utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, k, need;
	unsigned cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			need = 1, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2, cp = s[i] & 0x0f, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			need = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (len - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* --- checking a datum ----------------------------------------------------- */

/* The context of the record being checked, for the messages. */
static const char *cur_line;
static size_t cur_len;
static const struct enc *cur_enc;

__attribute__((format(printf, 2, 3), noreturn))
static void wrong(const char *prop, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	violated(prop, "%s: %s (from %s)", cur_enc->what, why,
	    excerpt(cur_line, cur_len));
}

static void child(avro_value_t *rec, size_t i, avro_value_t *v)
{
	if (avro_value_get_by_index(rec, i, v, NULL) != 0)
		wrong("decode", "no field %zu: %s", i, avro_strerror());
}

/* Bytes or a string read back (a string's size counts its NUL). */
static void text_is(const struct fdef *f, avro_value_t *v, const char *want,
    size_t wlen)
{
	const void *p;
	size_t len;

	if (f->kind == K_BYTES) {
		if (avro_value_get_bytes(v, &p, &len) != 0)
			wrong("decode", "%s: not bytes", f->name);
	} else {
		if (avro_value_get_string(v, (const char **)&p, &len) != 0 ||
		    len == 0)
			wrong("decode", "%s: not a string", f->name);
		len--;
		if (!utf8_ok(p, len))
			wrong("utf8", "%s: \"%s\" is not UTF-8", f->name,
			    excerpt(p, len));
	}
	if (len != wlen || (len > 0 && memcmp(p, want, len) != 0))
		wrong("value", "%s: \"%s\", want \"%s\"", f->name,
		    excerpt(p, len), excerpt(want, wlen));
}

/* The value in *b (a union's branch, or the field): 1 when it is null,
 * which must be as v (or the constant) says. */
static int branch(const struct fdef *f, avro_value_t *fv,
    const struct kt_value *v, avro_value_t *b)
{
	int disc, is_null = v != NULL ? v->type == KT_VALUE_ABSENT ||
	    v->type == KT_VALUE_NULL : f->is_null;

	*b = *fv;
	if (f->null_at < 0) {
		if (is_null)
			wrong("null", "%s: not nullable, encoded", f->name);
		return 0;
	}
	if (avro_value_get_discriminant(fv, &disc) != 0 ||
	    avro_value_get_current_branch(fv, b) != 0)
		wrong("decode", "%s: no branch", f->name);
	if ((disc == f->null_at) != is_null)
		wrong("null", "%s: branch %d, the value %s", f->name,
		    disc, v != NULL ? excerpt(v->p, v->len) : "const");
	return is_null;
}

/* The field's value (a union's branch chosen) against v or the constant. */
static void value_is(const struct fdef *f, avro_value_t *fv,
    const struct kt_value *v)
{
	avro_value_t b;
	int bo;
	int64_t l;
	int32_t i32;
	double d;
	long long want = f->n;
	double wantd = f->d;
	char *u;
	size_t ulen;

	if (branch(f, fv, v, &b))
		return;
	if (v != NULL && v->type == KT_VALUE_NUMBER && f->kind == K_DOUBLE)
		double_of(v->p, v->len, &wantd);
	else if (v != NULL && (f->kind == K_LONG || f->kind == K_INT))
		integer_of(v->p, v->len, f->kind, &want);
	else if (v != NULL)
		want = v->type == KT_VALUE_TRUE;
	switch (f->kind) {
	case K_LONG:
		if (avro_value_get_long(&b, &l) != 0 || l != want)
			wrong("value", "%s: %lld, want %lld", f->name,
			    (long long)l, want);
		break;
	case K_INT:
		if (avro_value_get_int(&b, &i32) != 0 || i32 != want)
			wrong("value", "%s: %d, want %lld", f->name, i32, want);
		break;
	case K_DOUBLE:
		if (avro_value_get_double(&b, &d) != 0 ||
		    memcmp(&d, &wantd, sizeof(d)) != 0)
			wrong("value", "%s: %.17g, want %.17g", f->name, d,
			    wantd);
		break;
	case K_BOOLEAN:
		if (avro_value_get_boolean(&b, &bo) != 0 || bo != !!want)
			wrong("value", "%s: %d, want %lld", f->name, bo, want);
		break;
	case K_STRING:
	case K_BYTES:
		if (v == NULL) {
			text_is(f, &b, f->s, strlen(f->s));
			break;
		}
		u = scratch(1, v->len); /* unescaping never grows */
		ulen = kt_json_unescape(v->p, v->len, u);
		text_is(f, &b, u, ulen);
		break;
	}
}

/* A datum avroenc gave: read back whole, every field as it should be. */
static void check_datum(const struct enc *x, const struct kt_event *ev,
    const unsigned char *out, size_t len)
{
	size_t at = x->id >= 0 ? 5 : 0, size, i, plen;
	const char *raw = x->rawdata == AVRO_RAWDATA_RAW ? cur_line :
	    ev->value;
	size_t raw_len = x->rawdata == AVRO_RAWDATA_RAW ? cur_len :
	    ev->value_len;
	const void *p;
	avro_reader_t r;
	avro_value_t rec, v;
	int64_t ts;

	if (x->id >= 0 && (len < 5 || out[0] != 0 ||
	    ((uint32_t)out[1] << 24 | (uint32_t)out[2] << 16 |
	    (uint32_t)out[3] << 8 | out[4]) != (uint32_t)x->id))
		wrong("framing", "%s", excerpt((const char *)out,
		    len < 5 ? len : 5));
	if (avro_generic_value_new(x->cls, &rec) != 0 ||
	    (r = avro_reader_memory((const char *)out + at,
	    (int64_t)(len - at))) == NULL)
		violated("memory", "avro-c: %s", avro_strerror());
	if (avro_value_read(r, &rec) != 0)
		wrong("decode", "%s: %s", avro_strerror(),
		    excerpt((const char *)out, len));
	if (avro_value_sizeof(&rec, &size) != 0 || size != len - at)
		wrong("decode", "the datum is %zu bytes of %zu", size, len - at);
	child(&rec, 0, &v);
	if (avro_value_get_long(&v, &ts) != 0 || ts != ev->timestamp_ms)
		wrong("timestamp", "%lld, want %lld", (long long)ts,
		    (long long)ev->timestamp_ms);
	child(&rec, 1, &v);
	if (avro_value_get_string(&v, (const char **)&p, &plen) != 0 ||
	    plen != strlen(x->source) + 1 || memcmp(p, x->source, plen) != 0)
		wrong("source", "\"%s\"", excerpt(p, plen));
	child(&rec, 2, &v);
	if (avro_value_get_bytes(&v, &p, &plen) != 0 || plen != raw_len ||
	    (plen > 0 && memcmp(p, raw, plen) != 0))
		wrong("rawdata", "\"%s\", want \"%s\"", excerpt(p, plen),
		    excerpt(raw, raw_len));
	for (i = 0; i < x->n; i++) {
		const struct fdef *f = &x->f[i];
		static const struct kt_value absent = { KT_VALUE_ABSENT, NULL,
			0 };
		const struct kt_value *c = NULL;

		if (f->from == CAP) {
			c = (size_t)x->slot[i] < ev->n_fields ?
			    &ev->fields[x->slot[i]] : &absent;
			if (fits(f, c) == 0)
				wrong("fits", "%s (%s) took \"%s\" (type %d)",
				    f->name, KIND[f->kind],
				    excerpt(c->p, c->len), c->type);
		}
		child(&rec, 3 + i, &v);
		value_is(f, &v, c);
	}
	avro_reader_free(r);
	avro_value_decref(&rec);
}

/*
 * A refusal: the first field, in the schema's order, that does not fit,
 * named with its input field.
 */
static void check_refusal(const struct enc *x, const struct kt_event *ev,
    const char *err)
{
	static const struct kt_value absent = { KT_VALUE_ABSENT, NULL, 0 };
	char want[256];
	size_t i;

	for (i = 0; i < x->n; i++) {
		const struct fdef *f = &x->f[i];
		const struct kt_value *c;

		if (f->from != CAP)
			continue;
		c = (size_t)x->slot[i] < ev->n_fields ?
		    &ev->fields[x->slot[i]] : &absent;
		if (fits(f, c))
			continue;
		snprintf(want, sizeof(want), "avro.field.%s: field %s ",
		    f->name, f->cap);
		if (strncmp(err, want, strlen(want)) == 0)
			return;
		wrong("message", "\"%s\", want \"%s...\"", err, want);
	}
	wrong("refused", "every field fits, yet \"%s\"", err);
}

/* --- one line ---------------------------------------------------------- */

static void check_line(const char *line, size_t len)
{
	struct kt_input in = { EVENT_ID, INGEST_MS, 0 };
	const unsigned char *out;
	struct kt_event ev;
	char err[512];
	size_t i, olen;
	int nomem;

	cur_line = line;
	cur_len = len;
	if (kt_transform_line(tf, line, len, &in, &ev) != KT_EVENT)
		return;
	for (i = 0; i < N_OF(enc); i++) {
		struct enc *x = &enc[i];
		struct avroenc_record r = { ev.value, ev.value_len, line, len,
			ev.timestamp_ms, ev.fields, ev.n_fields };

		cur_enc = x;
		err[0] = '\0';
		if (avroenc_encode(x->e, &r, &out, &olen, &nomem, err,
		    sizeof(err)) == 0)
			check_datum(x, &ev, out, olen);
		else if (nomem)
			wrong("memory", "%s", err);
		else
			check_refusal(x, &ev, err);
	}
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
