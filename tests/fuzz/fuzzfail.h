/*
 * tests/fuzz/fuzzfail.h: how the fuzz targets fail: a property that does
 * not hold is said ("FUZZ PROPERTY name: why") and abort()s, so that
 * libFuzzer keeps the input; the bytes quoted are escaped and cut.
 */
#ifndef KT_FUZZFAIL_H
#define KT_FUZZFAIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 2, 3), noreturn))
static void violated(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FUZZ PROPERTY %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* At most 200 bytes of s, escaped; four may be in use at once. */
__attribute__((unused))
static const char *excerpt(const char *s, size_t len)
{
	static char bufs[4][1024];
	static int next;
	char *buf = bufs[next++ % 4];
	size_t i, o = 0;

	for (i = 0; i < len && i < 200; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	strcpy(buf + o, len > 200 ? "..." : "");
	return buf;
}

#endif /* KT_FUZZFAIL_H */
