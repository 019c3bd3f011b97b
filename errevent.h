/*
 * errevent.h: error events, in the shape of EventGate's error schema.
 *
 * An event that its stream's schema refuses is not produced to the
 * stream's topic.  It becomes an error event, produced to error.topic:
 * the refused event as a string (raw_event), why (message), and which
 * schema and stream refused it, in an envelope of its own ($schema, meta,
 * dt).  Consumers of the error topic can therefore find, replay or count
 * refused events without the dead-letter file of each host.
 *
 * Pure: the id and the time are handed in.  Error events are rare: they
 * are built with json-c, which escapes raw_event for us.
 */
#ifndef KT_ERREVENT_H
#define KT_ERREVENT_H

#include <stddef.h>
#include <stdint.h>

/* What every error event of a run shares. */
struct errevent_conf {
        const char *schema;      /* $schema: the error schema's URI */
        const char *stream;      /* meta.stream: the error stream */
        const char *domain;      /* meta.domain */
        const char *emitter_id;  /* who refused the event */
        const char *errored_schema_uri;  /* the stream's schema */
        const char *errored_stream_name; /* the stream */
};

/* One refused event. */
struct errevent_in {
        const char *event;    /* as built, valid JSON */
        size_t      event_len;
        const char *message;  /* the validator's: keyword and pointer */
        const char *id;       /* meta.id: a UUID */
        int64_t     now_ms;   /* meta.dt and dt */
};

/*
 * The error event as one line of JSON, a string to free; NULL when out of
 * memory.  *len gets its length.
 */
char *errevent_build(const struct errevent_conf *c,
                     const struct errevent_in *in, size_t *len);

#endif /* KT_ERREVENT_H */
