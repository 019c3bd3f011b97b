/*
 * tests/fuzz/fuzzlines.h: the targets whose input is several pmacct
 * lines (fuzz_anonymize, fuzz_avroenc): a state kept from one line to
 * the next (memos, reused buffers) is fuzzed too.
 */
#ifndef KT_FUZZLINES_H
#define KT_FUZZLINES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The most lines of one input: more adds time, not states. */
#define FUZZ_MAX_LINES 64

/* Each line of data (newline-separated, the last maybe without one). */
static void fuzz_lines(const uint8_t *data, size_t size,
                       void (*check)(const char *line, size_t len))
{
	const char *s = (const char *)data, *end = s + size, *nl;
	int n = 0;

	for (; s < end && n < FUZZ_MAX_LINES; s = nl + 1, n++) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		check(s, (size_t)(nl - s));
	}
}

#endif
