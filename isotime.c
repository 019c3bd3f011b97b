/*
 * isotime.c: pmacct's times in, ISO-8601 UTC out (see isotime.h).
 *
 * The calendar is the costly part of both directions and is done with
 * H. Hinnant's day arithmetic, not gmtime/timegm: no locale, no time zone
 * state, any year.
 */
#include <string.h>

#include "isotime.h"

static int is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
        int64_t era, doe, yoe, doy, mp;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 0 to 99, two digits: a table, no division. */
static char *put_2digits(char *p, int v)
{
        static const char pairs[] =
                "00010203040506070809101112131415161718192021222324"
                "25262728293031323334353637383940414243444546474849"
                "50515253545556575859606162636465666768697071727374"
                "75767778798081828384858687888990919293949596979899";

        memcpy(p, pairs + 2 * v, 2);
        return p + 2;
}

/* "YYYY-MM-DDT" of a day since the epoch: 11 bytes. */
static char *put_date(char *p, int64_t day)
{
        int y, m, d;

        civil_from_days(day, &y, &m, &d);
        p = put_2digits(p, y / 100);
        p = put_2digits(p, y % 100);
        *p++ = '-';
        p = put_2digits(p, m);
        *p++ = '-';
        p = put_2digits(p, d);
        *p++ = 'T';
        return p;
}

/* "HH:MM:SS.mmmZ" of ms into the day: 13 bytes. */
static char *put_clock(char *p, int64_t rem)
{
        p = put_2digits(p, (int)(rem / 3600000));
        *p++ = ':';
        p = put_2digits(p, (int)(rem / 60000 % 60));
        *p++ = ':';
        p = put_2digits(p, (int)(rem / 1000 % 60));
        *p++ = '.';
        *p++ = (char)('0' + rem % 1000 / 100);
        p = put_2digits(p, (int)(rem % 100));
        *p++ = 'Z';
        return p;
}

int kt_format_iso8601(int64_t ms, char out[KT_ISO_LEN + 1])
{
        char *p;

        if (ms < 0 || ms > KT_MS_MAX)
                return -1;
        p = put_date(out, ms / 86400000);
        p = put_clock(p, ms % 86400000);
        *p = '\0';
        return 0;
}

void kt_iso_memo_init(struct kt_iso_memo *m)
{
        m->day = m->ms = -1;
}

/* The day rarely changes: its date is kept, only the clock is written. */
const char *kt_iso_memo_fill(struct kt_iso_memo *m, int64_t ms)
{
        int64_t day;

        if (ms < 0 || ms > KT_MS_MAX) /* not from the clock or a parser */
                ms = ms < 0 ? 0 : KT_MS_MAX;
        if (m->ms == ms)
                return m->iso;
        if (m->ms >= 0 && ms / 60000 == m->ms / 60000) {
                /* the minute before's: "SS.mmm" only (a flow's times) */
                char *p = put_2digits(m->iso + 17, (int)(ms / 1000 % 60));

                *p++ = '.';
                *p++ = (char)('0' + ms % 1000 / 100);
                put_2digits(p, (int)(ms % 100));
                m->ms = ms;
                return m->iso;
        }
        day = ms / 86400000;
        if (m->day != day) {
                put_date(m->iso, day);
                m->day = day;
        }
        put_clock(m->iso + 11, ms % 86400000);
        m->ms = ms;
        return m->iso;
}

void kt_zone_set(struct kt_zone *z, kt_local_to_utc_fn fn, void *arg)
{
        size_t i;

        z->fn = fn;
        z->arg = arg;
        for (i = 0; i < KT_ZONE_SLOTS; i++)
                z->cache[i].minute = -1;
}

/* Reads exactly n digits at *s; -1 if they are not all there. */
static int read_digits(const char **s, const char *end, int n)
{
        int v = 0;

        if (end - *s < n)
                return -1;
        for (; n > 0; n--, (*s)++) {
                if (!is_digit(**s))
                        return -1;
                v = v * 10 + (**s - '0');
        }
        return v;
}

/* ".731040" -> 731 ms; 1 to 9 digits, truncated to ms. */
static int read_fraction(const char **s, const char *end, int *ms)
{
        static const int scale[] = { 100, 10, 1 };
        int n = 0;

        *ms = 0;
        if (*s == end || **s != '.')
                return 0;
        for ((*s)++; *s < end && is_digit(**s); (*s)++, n++)
                if (n < 3)
                        *ms += (**s - '0') * scale[n];
        return n >= 1 && n <= 9 ? 0 : -1;
}

static int days_in_month(int y, int m)
{
        static const int days[] = { 31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31 };
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : days[m - 1];
}

/* "Z", "+01:00", "-05:30" -> offset in seconds; 1 if none is there. */
static int read_zone(const char **s, const char *end, int *offset)
{
        int sign, h, m;

        if (*s == end)
                return 1;
        if (**s == 'Z' && end - *s == 1) {
                (*s)++;
                *offset = 0;
                return 0;
        }
        if (**s != '+' && **s != '-')
                return -1;
        sign = **s == '-' ? -1 : 1;
        (*s)++;
        h = read_digits(s, end, 2);
        if (h < 0 || h > 23 || *s == end || *(*s)++ != ':')
                return -1;
        m = read_digits(s, end, 2);
        if (m < 0 || m > 59)
                return -1;
        *offset = sign * (h * 3600 + m * 60);
        return 0;
}

/* A local minute of the collector, in seconds since the epoch. */
static int local_minute(struct kt_zone *z, int y, int mo, int d, int h,
                        int mi, int64_t *epoch)
{
        int64_t key = ((((int64_t)y * 100 + mo) * 100 + d) * 100 + h) * 100
                      + mi;
        size_t slot = (size_t)(key % KT_ZONE_SLOTS);
        struct tm tm;

        if (z->fn == NULL) {
                *epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
                return 0;
        }
        if (z->cache[slot].minute == key) {
                *epoch = z->cache[slot].epoch;
                return 0;
        }
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_isdst = -1;
        if (z->fn(z->arg, &tm, epoch) == -1)
                return -1;
        z->cache[slot].minute = key;
        z->cache[slot].epoch = *epoch;
        return 0;
}

/* "YYYY-MM-DD HH:MM:SS[.f][Z|+hh:mm]" */
/* The seconds, fraction and zone after a minute's "YYYY-MM-DD HH:MM:". */
static int read_tail(const char *s, const char *end, int *sec, int *frac,
                     int *zone, int *offset)
{
        *offset = 0;
        if ((*sec = read_digits(&s, end, 2)) < 0 || *sec > 59 ||
            read_fraction(&s, end, frac) == -1 ||
            (*zone = read_zone(&s, end, offset)) == -1 || s != end)
                return -1;
        return 0;
}

static enum kt_time parse_datetime(struct kt_zone *z,
                                   struct kt_minute_memo *mm,
                                   const char *s, const char *end,
                                   int64_t *ms)
{
        const char *start = s;
        int y, mo, d, h, mi, sec, frac, offset = 0, zone;
        int64_t epoch;

        y = read_digits(&s, end, 4);
        if (y < 0 || s == end || *s++ != '-' ||
            (mo = read_digits(&s, end, 2)) < 0 || s == end || *s++ != '-' ||
            (d = read_digits(&s, end, 2)) < 0 || s == end ||
            (*s != ' ' && *s != 'T'))
                return KT_TIME_BAD;
        s++;
        if ((h = read_digits(&s, end, 2)) < 0 || s == end || *s++ != ':' ||
            (mi = read_digits(&s, end, 2)) < 0 || s == end || *s++ != ':' ||
            (sec = read_digits(&s, end, 2)) < 0 ||
            read_fraction(&s, end, &frac) == -1 ||
            (zone = read_zone(&s, end, &offset)) == -1 || s != end)
                return KT_TIME_BAD;
        if (zone != 0)
                offset = 0;
        if (y == 0 && mo == 0 && d == 0)
                return KT_TIME_ZERO;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
            d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
                return KT_TIME_BAD;
        if (zone == 0)
                epoch = days_from_civil(y, mo, d) * 86400 + h * 3600 +
                        mi * 60 - offset;
        else if (local_minute(z, y, mo, d, h, mi, &epoch) == -1)
                return KT_TIME_BAD;
        *ms = (epoch + sec) * 1000 + frac;
        if (*ms < 0 || *ms > KT_MS_MAX)
                return KT_TIME_BAD;
        if (mm != NULL) {
                memcpy(mm->prefix, start, KT_MINUTE_PREFIX);
                mm->epoch = epoch;
                mm->zone = zone;
                mm->offset = offset;
                mm->valid = 1;
        }
        return KT_TIME_OK;
}

/*
 * A time in the minute of the last one from the same source: only its
 * seconds, fraction and zone are read.  The minute was checked and
 * converted when it was parsed in full, and a zone's offset holds for a
 * whole minute (changes happen on one).  -1 when it is not such a time.
 */
static int same_minute(const struct kt_minute_memo *mm, const char *s,
                       const char *end, int64_t *ms)
{
        int sec, frac, zone, offset;

        if (!mm->valid || end - s < KT_MINUTE_PREFIX + 2 ||
            memcmp(s, mm->prefix, KT_MINUTE_PREFIX) != 0 ||
            read_tail(s + KT_MINUTE_PREFIX, end, &sec, &frac, &zone,
                      &offset) == -1 ||
            zone != mm->zone || offset != mm->offset)
                return -1;
        *ms = (mm->epoch + sec) * 1000 + frac;
        return *ms < 0 || *ms > KT_MS_MAX ? -1 : 0;
}

/* "1795422833.769141" */
static enum kt_time parse_epoch(const char *s, const char *end, int64_t *ms)
{
        int64_t sec = 0;
        int frac, digits = 0;

        for (; s < end && is_digit(*s); s++, digits++) {
                if (digits >= 12)
                        return KT_TIME_BAD;
                sec = sec * 10 + (*s - '0');
        }
        if (digits == 0 || read_fraction(&s, end, &frac) == -1 || s != end)
                return KT_TIME_BAD;
        *ms = sec * 1000 + frac;
        if (*ms > KT_MS_MAX)
                return KT_TIME_BAD;
        return *ms == 0 && sec == 0 ? KT_TIME_ZERO : KT_TIME_OK;
}

enum kt_time kt_parse_time(struct kt_zone *z, const char *s, size_t len,
                           int64_t *ms)
{
        return kt_parse_time_memo(z, NULL, s, len, ms);
}

void kt_minute_memo_init(struct kt_minute_memo *mm)
{
        mm->valid = 0;
}

enum kt_time kt_parse_time_memo(struct kt_zone *z, struct kt_minute_memo *mm,
                                const char *s, size_t len, int64_t *ms)
{
        const char *end = s + len;

        if (len >= 5 && s[4] == '-') {
                if (mm != NULL && same_minute(mm, s, end, ms) == 0)
                        return KT_TIME_OK;
                return parse_datetime(z, mm, s, end, ms);
        }
        return parse_epoch(s, end, ms);
}
