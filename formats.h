/*
 * formats.h: the JSON Schema "format" values the validator asserts.
 *
 * Pure: bytes in, a verdict out; no I/O, no globals, no allocation.
 * Each check follows the RFC that draft-07 names for the format (RFC 3339
 * for date-time, date and time; RFC 2673 dotted quads for ipv4; RFC 4291
 * for ipv6; RFC 4122 for uuid; RFC 1123 for hostname).  A format the
 * validator does not know is refused when the schema is loaded, never
 * ignored (kt_format_lookup).
 */
#ifndef KT_FORMATS_H
#define KT_FORMATS_H

#include <stddef.h>

enum kt_format {
        KT_FORMAT_NONE = 0, /* no format keyword */
        KT_FORMAT_DATE_TIME,
        KT_FORMAT_DATE,
        KT_FORMAT_TIME,
        KT_FORMAT_IPV4,
        KT_FORMAT_IPV6,
        KT_FORMAT_UUID,
        KT_FORMAT_HOSTNAME
};

/* The format named name, or KT_FORMAT_NONE when it is not implemented. */
enum kt_format kt_format_lookup(const char *name);

/* Its name, as a schema spells it ("date-time"). */
const char *kt_format_name(enum kt_format f);

/*
 * 1 when s[0..len) (a string's content, unescaped, UTF-8, not
 * NUL-terminated; it may hold NUL) is in format f, else 0.
 */
int kt_format_ok(enum kt_format f, const char *s, size_t len);

#endif /* KT_FORMATS_H */
