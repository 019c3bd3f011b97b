/*
 * formats.c: the draft-07 "format" checks of formats.h.
 *
 * Each check is one left-to-right pass over the bytes with ASCII-only
 * character classes (never <ctype.h>: its answers follow the locale, and a
 * UTF-8 digit such as U+09EA is not a digit here).  Lengths are given, so
 * a NUL byte is just a byte that no format allows.
 *
 * Where an RFC leaves a choice, the official JSON-Schema-Test-Suite
 * decides (tests/test_formats.c holds its cases):
 *  - a leap second (:60) only at 23:59 UTC, the offset applied; the date
 *    is not checked against the list of real leap seconds;
 *  - a hostname has no trailing dot and no IDNA (punycode) checks: RFC 1123
 *    letters, digits and hyphens only;
 *  - an ipv4 octet has no leading zero (an octal reading is ambiguous);
 *  - an ipv6 address has no zone id (%eth0), no brackets, no prefix.
 */
#include <string.h>

#include "formats.h"

enum {
        DATE_LEN = 10,          /* YYYY-MM-DD */
        TIME_MIN_LEN = 9,       /* HH:MM:SSZ */
        OFFSET_LEN = 6,         /* +HH:MM */
        UUID_LEN = 36,          /* 8-4-4-4-12 */
        HOST_MAX_LEN = 253,     /* RFC 1035 names, as text without the dot */
        LABEL_MAX_LEN = 63,
        IPV6_GROUPS = 8,
        MINUTES_A_DAY = 24 * 60,
        LEAP_MINUTE = 23 * 60 + 59
};

static const char *const names[] = {
        [KT_FORMAT_DATE_TIME] = "date-time",
        [KT_FORMAT_DATE] = "date",
        [KT_FORMAT_TIME] = "time",
        [KT_FORMAT_IPV4] = "ipv4",
        [KT_FORMAT_IPV6] = "ipv6",
        [KT_FORMAT_UUID] = "uuid",
        [KT_FORMAT_HOSTNAME] = "hostname",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

enum kt_format kt_format_lookup(const char *name)
{
        if (name == NULL)
                return KT_FORMAT_NONE;
        for (size_t i = 1; i < N_NAMES; i++)
                if (strcmp(name, names[i]) == 0)
                        return (enum kt_format)i;
        return KT_FORMAT_NONE;
}

/* NULL for KT_FORMAT_NONE and for a value that is not a format. */
const char *kt_format_name(enum kt_format f)
{
        if ((size_t)f == 0 || (size_t)f >= N_NAMES)
                return NULL;
        return names[f];
}

static int is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Hex digits by byte: one load a test (an IPv6 address has up to 32). */
static const unsigned char hex_digit[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
        ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
        ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
        ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

static int is_hex(char c)
{
        return hex_digit[(unsigned char)c];
}

static int is_alnum(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'z') ||
               (c >= 'A' && c <= 'Z');
}

/* The value of the two digits at s, or -1. */
static int two_digits(const char *s)
{
        if (!is_digit(s[0]) || !is_digit(s[1]))
                return -1;
        return (s[0] - '0') * 10 + (s[1] - '0');
}

static int days_in_month(int month, int year)
{
        static const unsigned char days[12] = {
                31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
        };
        int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);

        return days[month - 1] + (month == 2 && leap);
}

/* RFC 3339 full-date in exactly s[0..DATE_LEN). */
static int date_ok(const char *s)
{
        int y1 = two_digits(s), y2 = two_digits(s + 2);
        int month, day;

        if (y1 < 0 || y2 < 0 || s[4] != '-' || s[7] != '-')
                return 0;
        month = two_digits(s + 5);
        day = two_digits(s + 8);
        if (month < 1 || month > 12 || day < 1)
                return 0;
        return day <= days_in_month(month, y1 * 100 + y2);
}

/*
 * RFC 3339 time-offset in s[0..len): "Z", "z" or +HH:MM / -HH:MM; its
 * minutes east of UTC in *minutes.
 */
static int offset_ok(const char *s, size_t len, int *minutes)
{
        int h, m;

        if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
                *minutes = 0;
                return 1;
        }
        if (len != OFFSET_LEN || (s[0] != '+' && s[0] != '-') ||
            s[3] != ':')
                return 0;
        h = two_digits(s + 1);
        m = two_digits(s + 4);
        if (h < 0 || h > 23 || m < 0 || m > 59)
                return 0;
        *minutes = s[0] == '-' ? -(h * 60 + m) : h * 60 + m;
        return 1;
}

/* RFC 3339 full-time: HH:MM:SS[.frac] and an offset, all of s[0..len). */
static int time_ok(const char *s, size_t len)
{
        int h, m, sec, off;
        size_t i = 8;

        if (len < TIME_MIN_LEN || s[2] != ':' || s[5] != ':')
                return 0;
        h = two_digits(s);
        m = two_digits(s + 3);
        sec = two_digits(s + 6);
        if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
                return 0;
        if (s[i] == '.') {
                size_t start = ++i;

                while (i < len && is_digit(s[i]))
                        i++;
                if (i == start)
                        return 0;
        }
        if (i == len || !offset_ok(s + i, len - i, &off))
                return 0;
        /* A leap second is the last minute of a UTC day. */
        if (sec == 60 &&
            ((h * 60 + m - off) % MINUTES_A_DAY + MINUTES_A_DAY) %
            MINUTES_A_DAY != LEAP_MINUTE)
                return 0;
        return 1;
}

static int date_time_ok(const char *s, size_t len)
{
        if (len <= DATE_LEN || !date_ok(s))
                return 0;
        if (s[DATE_LEN] != 'T' && s[DATE_LEN] != 't')
                return 0;
        return time_ok(s + DATE_LEN + 1, len - DATE_LEN - 1);
}

/* The value of decimal digit c, or a number above 9. */
static inline unsigned digit(const unsigned char *p)
{
        return (unsigned)*p - '0';
}

/*
 * Four decimal octets 0..255, without leading zeros: all of s[0..len).
 * Each octet's digits unrolled: three addresses a flow record, and this
 * was the validator's costliest check (about 190 instructions an
 * address looping per digit, 60 so).
 */
static int ipv4_ok(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s, *end = p + len;
        unsigned v, d;
        int part;

        for (part = 0; part < 4; part++) {
                if (part > 0 && (p == end || *p++ != '.'))
                        return 0;
                if (p == end || (v = digit(p++)) > 9)
                        return 0;
                if (p == end || (d = digit(p)) > 9)
                        continue;
                if (v == 0)
                        return 0; /* a leading zero */
                v = v * 10 + d;
                if (++p == end || (d = digit(p)) > 9)
                        continue;
                if (v * 10 + d > 255)
                        return 0;
                p++;
        }
        return p == end;
}

/*
 * RFC 4291 2.2: eight groups of 1..4 hex digits separated by ':', one "::"
 * standing for one or more zero groups, and the last 32 bits may be a
 * dotted quad.  One pass: each group, then what follows it.
 */
static int ipv6_ok(const char *s, size_t len)
{
        size_t i = 0, groups = 0;
        int compressed = 0;

        if (len >= 2 && s[0] == ':' && s[1] == ':') {
                compressed = 1;
                i = 2;
        } else if (len > 0 && s[0] == ':') {
                return 0;
        }
        while (i < len && groups < IPV6_GROUPS) {
                size_t j = i;

                while (j < len && j - i <= 4 && is_hex(s[j]))
                        j++;
                if (j < len && s[j] == '.') {
                        if (!ipv4_ok(s + i, len - i))
                                return 0;
                        groups += 2;
                        i = len;
                        break;
                }
                if (j == i || j - i > 4)
                        return 0;
                groups++;
                if (j == len) {
                        i = len;
                        break;
                }
                if (s[j++] != ':' || j == len)
                        return 0;
                if (s[j] == ':') {
                        if (compressed)
                                return 0;
                        compressed = 1;
                        j++;
                }
                i = j;
        }
        if (i != len)
                return 0;
        return compressed ? groups < IPV6_GROUPS : groups == IPV6_GROUPS;
}

/* RFC 4122 text: 8-4-4-4-12 hex digits, either case. */
static int uuid_ok(const char *s, size_t len)
{
        if (len != UUID_LEN)
                return 0;
        for (size_t i = 0; i < len; i++) {
                int dash = i == 8 || i == 13 || i == 18 || i == 23;

                if (dash ? s[i] != '-' : !is_hex(s[i]))
                        return 0;
        }
        return 1;
}

/*
 * RFC 1123 2.1: dot-separated labels of 1..63 letters, digits and hyphens,
 * a hyphen neither first nor last; at most 253 bytes, no trailing dot.
 */
static int hostname_ok(const char *s, size_t len)
{
        size_t label = 0;

        if (len == 0 || len > HOST_MAX_LEN)
                return 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return 0;
                        label = 0;
                        continue;
                }
                if (!is_alnum(s[i]) && (s[i] != '-' || label == 0))
                        return 0;
                if (++label > LABEL_MAX_LEN)
                        return 0;
        }
        return label > 0 && s[len - 1] != '-';
}

int kt_format_ok(enum kt_format f, const char *s, size_t len)
{
        switch (f) {
        case KT_FORMAT_NONE: /* no format keyword: nothing to assert */
                return 1;
        case KT_FORMAT_DATE_TIME:
                return date_time_ok(s, len);
        case KT_FORMAT_DATE:
                return len == DATE_LEN && date_ok(s);
        case KT_FORMAT_TIME:
                return time_ok(s, len);
        case KT_FORMAT_IPV4:
                return ipv4_ok(s, len);
        case KT_FORMAT_IPV6:
                return ipv6_ok(s, len);
        case KT_FORMAT_UUID:
                return uuid_ok(s, len);
        case KT_FORMAT_HOSTNAME:
                return hostname_ok(s, len);
        }
        return 0;
}
