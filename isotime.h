/*
 * isotime.h: pmacct's times in, ISO-8601 UTC out.
 *
 * One formatter (kt_format_iso8601) and a memo layered on it for the hot
 * path (struct kt_iso_memo: the day's calendar and the last time are kept,
 * as each source of times repeats them).  The parser reads what pmacct
 * writes; local times go through the caller's time zone function, at most
 * once per local minute (struct kt_zone).  No I/O, no globals, no clock.
 */
#ifndef KT_ISOTIME_H
#define KT_ISOTIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2026-11-23T08:33:20.731Z": 24 characters. */
#define KT_ISO_LEN 24
/* The last time formatted: 9999-12-31T23:59:59.999Z. */
#define KT_MS_MAX INT64_C(253402300799999)

/*
 * Formats ms since the epoch as "2026-11-23T08:33:20.731Z" and a NUL.
 * Returns 0, or -1 (out untouched) when ms is before 1970 or after 9999.
 */
int kt_format_iso8601(int64_t ms, char out[KT_ISO_LEN + 1]);

/* The last time formatted from one source, and its day's calendar. */
struct kt_iso_memo {
        int64_t day; /* days since the epoch of iso's date, or -1 */
        int64_t ms;  /* the time in iso, or -1 */
        char    iso[KT_ISO_LEN];
};

void kt_iso_memo_init(struct kt_iso_memo *m);
const char *kt_iso_memo_fill(struct kt_iso_memo *m, int64_t ms);

/*
 * ms as ISO-8601 (KT_ISO_LEN bytes, no NUL; valid until the next call
 * with m), clamped to the range of kt_format_iso8601().  The repeat is
 * inline: most times of a purge are the one before.
 */
static inline const char *kt_iso_memo_format(struct kt_iso_memo *m,
                                             int64_t ms)
{
        return m->ms == ms ? m->iso : kt_iso_memo_fill(m, ms);
}

/*
 * Converts a broken-down local time of the collector (tm_isdst = -1) to
 * seconds since the epoch.  Returns 0, or -1 when the time does not exist.
 */
typedef int (*kt_local_to_utc_fn)(void *arg, const struct tm *local,
                                  int64_t *epoch_out);

#define KT_ZONE_SLOTS 16

/* The collector's time zone, and its answers by local minute. */
struct kt_zone {
        kt_local_to_utc_fn fn; /* NULL: local times are UTC */
        void              *arg;
        struct {
                int64_t minute; /* yyyymmddhhmm, or -1 */
                int64_t epoch;
        } cache[KT_ZONE_SLOTS];
};

/* A zone (fn may be NULL), its cache empty. */
void kt_zone_set(struct kt_zone *z, kt_local_to_utc_fn fn, void *arg);

/* What a pmacct time field holds. */
enum kt_time {
        KT_TIME_BAD = -1, /* not a time */
        KT_TIME_ZERO = 0, /* pmacct's "absent": 0000-00-00..., 0 */
        KT_TIME_OK = 1    /* a time, in *ms */
};

/*
 * Parses a pmacct time: "2026-11-23 08:33:20.731040" local (or with
 * T, Z, +hh:mm) or "1795422833.769141" since the epoch; fractions are
 * truncated to the millisecond.
 */
enum kt_time kt_parse_time(struct kt_zone *z, const char *s, size_t len,
                           int64_t *ms);

/* "2026-11-23 08:33:": what times of one minute share. */
#define KT_MINUTE_PREFIX 17

/*
 * The minute of the last date-time one source gave: pmacct's times of a
 * purge mostly fall in a few minutes, and a time in the minute of the one
 * before needs only its seconds read (about 60 instructions instead of
 * 270).  Kept by the caller, one per source.
 */
struct kt_minute_memo {
        char    prefix[KT_MINUTE_PREFIX];
        int     valid;
        int     zone;   /* read_zone()'s: 0 an offset given, 1 local */
        int     offset; /* seconds, when given */
        int64_t epoch;  /* the minute, in seconds since the epoch */
};

void kt_minute_memo_init(struct kt_minute_memo *mm);

/* kt_parse_time(), by mm's minute when s falls in it (mm is updated). */
enum kt_time kt_parse_time_memo(struct kt_zone *z, struct kt_minute_memo *mm,
                                const char *s, size_t len, int64_t *ms);

#endif /* KT_ISOTIME_H */
