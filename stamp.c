/*
 * stamp.c: ids and time zone (the clock is in clock.c).  The only module besides the event
 * loop that looks at the outside world for the transform.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <uuid/uuid.h>

#include "stamp.h"

void uuid_pool_init(struct uuid_pool *p)
{
        p->used = sizeof(p->bytes);
}

/*
 * 256 ids a draw, from OpenSSL's DRBG (seeded and reseeded from the
 * kernel): getrandom(2) itself took 47 ns an id, 3% of a record's time.
 */
static int refill(struct uuid_pool *p)
{
        if (RAND_bytes(p->bytes, (int)sizeof(p->bytes)) != 1)
                return -1;
        p->used = 0;
        return 0;
}

int uuid_pool_next(struct uuid_pool *p, const char **text)
{
        unsigned char *u;

        if (p->used + 16 > sizeof(p->bytes) && refill(p) == -1)
                return -1;
        u = p->bytes + p->used;
        p->used += 16;
        u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
        u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        uuid_unparse_lower(u, p->text);
        *text = p->text;
        return 0;
}

/* glibc takes an unknown zone name for UTC without a word: check first. */
static int zone_exists(const char *zone)
{
        const char *dir = getenv("TZDIR");
        char path[4096];
        struct stat st;

        if (strcmp(zone, "UTC") == 0 || strcmp(zone, "GMT") == 0)
                return 1;
        if (zone[0] == ':')
                zone++;
        if (zone[0] == '/')
                return stat(zone, &st) == 0 && S_ISREG(st.st_mode);
        if (strstr(zone, "..") != NULL)
                return 0;
        snprintf(path, sizeof(path), "%s/%s",
                 dir != NULL ? dir : "/usr/share/zoneinfo", zone);
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * TZ unset or empty (UTC), a zoneinfo name, or a POSIX rule: glibc reads
 * a rule's names into tzname, and leaves the daylight one empty when it
 * took TZ for UTC, knowing no zone by that name.
 */
static int tz_env_known(void)
{
        const char *tz = getenv("TZ");

        return tz == NULL || tz[0] == '\0' || zone_exists(tz) ||
               tzname[1][0] != '\0';
}

int stamp_set_timezone(const char *zone)
{
        if (strcmp(zone, "local") == 0) {
                tzset();
                return tz_env_known() ? 0 : -1;
        }
        if (!zone_exists(zone))
                return -1;
        if (setenv("TZ", zone, 1) == -1)
                return -1;
        tzset();
        return 0;
}

int stamp_local_to_utc(void *arg, const struct tm *local, int64_t *epoch)
{
        struct tm tm = *local;
        time_t t;

        (void)arg;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t)-1)
                return -1;
        *epoch = (int64_t)t;
        return 0;
}

const char *stamp_hostname(void)
{
        static char name[256];

        if (name[0] == '\0' && gethostname(name, sizeof(name) - 1) == -1)
                strcpy(name, "localhost");
        return name;
}
