/*
 * stamp.h: what the transform needs from the world: event ids, the
 * collector's time zone, the host name (the clock: clock.h).
 */
#ifndef KT_STAMP_H
#define KT_STAMP_H

#include <stdint.h>
#include <time.h>

#include "transform.h"

/* Random (v4) UUIDs, drawn from OpenSSL's DRBG a batch at a time. */
struct uuid_pool {
        unsigned char bytes[4096];
        size_t        used;
        char          text[KT_UUID_LEN + 1];
};

void uuid_pool_init(struct uuid_pool *p);
/* The next id as text; valid until the next call. -1 if no randomness. */
int uuid_pool_next(struct uuid_pool *p, const char **text);

/*
 * Makes "local time" mean zone for the rest of the process ("local" keeps
 * the process's own).  Returns 0, or -1 when zone is not a known zone,
 * or is "local" and the TZ variable names none (glibc would read UTC).
 */
int stamp_set_timezone(const char *zone);

/* A kt_local_to_utc_fn on mktime(3). */
int stamp_local_to_utc(void *arg, const struct tm *local, int64_t *epoch);

/* The host's name, for meta.domain: static storage. */
const char *stamp_hostname(void);

#endif /* KT_STAMP_H */
