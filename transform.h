/*
 * transform.h: one pmacct JSON line in, one enveloped event out.
 *
 * Pure: no I/O, no globals, no clock.  Everything that depends on the
 * world (the event id, the ingestion time, the collector's time zone) is
 * handed in by the caller, so the same input always gives the same output.
 *
 * The hot path never builds a DOM: one pass of the scanner (jsonscan.h)
 * checks the line to be strict JSON and hands its top-level members over
 * as they are read; they are copied byte for byte into the envelope.
 * Counters such as "bytes" therefore round-trip exactly, whatever their
 * size.  Times: isotime.h.
 */
#ifndef KT_TRANSFORM_H
#define KT_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "isotime.h"
#include "jsonwalk.h"

/* Length of a textual UUID, without its terminating NUL. */
#define KT_UUID_LEN 36

struct kt_transform;

/* What the caller knows about a record that the record does not carry. */
struct kt_input {
        const char *id;       /* meta.id: KT_UUID_LEN characters */
        int64_t     ingest_ms; /* meta.dt: ingestion time, ms since epoch */
        uint64_t    sequence;  /* its number in the run, or 0: none
                                * (kt_transform_set_sequence()) */
};

enum kt_status {
        KT_EVENT,   /* an event was produced into struct kt_event */
        KT_SKIP,    /* deliberately not forwarded (pmacct marker) */
        KT_INVALID  /* bad input: kt_transform_error() says why */
};

enum kt_marker { KT_MARKER_NONE, KT_MARKER_PURGE_INIT, KT_MARKER_PURGE_CLOSE };

/*
 * A captured input field (kt_transform_capture()), as it is in the line:
 * a string's content between its quotes, still escaped; a number's text.
 */
enum kt_value_type {
        KT_VALUE_ABSENT, KT_VALUE_STRING, KT_VALUE_NUMBER, KT_VALUE_TRUE,
        KT_VALUE_FALSE, KT_VALUE_NULL, KT_VALUE_OBJECT, KT_VALUE_ARRAY
};

struct kt_value {
        enum kt_value_type type;
        const char        *p;
        size_t             len;
};

/* The outcome of one line.  Pointers stay valid until the next call. */
struct kt_event {
        const char    *value;      /* the enveloped JSON event */
        size_t         value_len;
        const char    *key;        /* message key, or NULL */
        size_t         key_len;
        int64_t        timestamp_ms; /* event time: the Kafka timestamp */
        enum kt_marker marker;     /* set with KT_SKIP */
        int64_t        purged_entries; /* purge_close's count, or -1 */
        const char    *writer_id;  /* a marker's writer_id, or NULL */
        size_t         writer_id_len;
        const struct kt_value *fields; /* the captured, by slot */
        size_t         n_fields;
        struct kt_index index;     /* kt_transform_set_index(); m NULL */
};

/* What the event time falls back to when no dt source field has a time. */
enum kt_dt_fallback { KT_DT_INGEST, KT_DT_REJECT };

/*
 * Building a transform.  Each setter returns 0, or -1 and leaves a message
 * in kt_transform_error().  Strings are copied.
 */
struct kt_transform *kt_transform_new(void);
void kt_transform_free(struct kt_transform *t);

int kt_transform_set_envelope(struct kt_transform *t, const char *schema,
                              const char *stream, const char *domain);
/* NULL fn: local-time strings are taken as UTC.  fn is called at most
 * once per distinct local minute (isotime.h). */
/*
 * The event's number in the run and the run's name, right after the
 * top-level "dt": field (NULL: off, the default) takes kt_input's
 * sequence, an integer, and run_field the string run, as they are.  A
 * line whose sequence is 0 gets neither.  The names are the envelope's
 * while on: no field, rename or constant may take them.
 */
int kt_transform_set_sequence(struct kt_transform *t, const char *field,
                              const char *run_field, const char *run);
void kt_transform_set_timezone(struct kt_transform *t, kt_local_to_utc_fn fn,
                               void *arg);
void kt_transform_set_dt_fallback(struct kt_transform *t,
                                  enum kt_dt_fallback fallback);
int kt_transform_add_dt_source(struct kt_transform *t, const char *field);
int kt_transform_rename(struct kt_transform *t, const char *from,
                        const char *to);
int kt_transform_drop(struct kt_transform *t, const char *field);
/* Once any field is kept, only kept fields are forwarded. */
int kt_transform_keep(struct kt_transform *t, const char *field);
/* A string holding an integer ("2") is forwarded as the integer (2). */
int kt_transform_integer(struct kt_transform *t, const char *field);
/* A time field is forwarded as ISO-8601 UTC; a zero time is left out. */
int kt_transform_time(struct kt_transform *t, const char *field);
/* json: any JSON value; a bare word that is not JSON becomes a string. */
int kt_transform_constant(struct kt_transform *t, const char *field,
                          const char *json);
int kt_transform_set_key(struct kt_transform *t, const char *field);
/*
 * on: each event comes with the index of its members as they were
 * written (jsonwalk.h), for the validator: the envelope's first, meta's
 * four as its children, then the line's and the constants, each value
 * pointing at the bytes that were copied (or at the time written).
 */
void kt_transform_set_index(struct kt_transform *t, int on);
/* Whether an error message may quote a value of the line (on by default;
 * off with anonymization: a message goes to the dead-letter file). */
void kt_transform_set_quote_values(struct kt_transform *t, int on);
/*
 * Captures input field's value (before renames; dropped fields too) in
 * the event's fields, in slot order: returns its slot (the same for the
 * same name), or -1.  What routes a record (route.h) is captured during
 * the one pass over the line, as the key is.
 */
int kt_transform_capture(struct kt_transform *t, const char *field);

/*
 * Transforms one line (no newline; it may hold any byte, NUL included).
 */
enum kt_status kt_transform_line(struct kt_transform *t, const char *line,
                                 size_t len, const struct kt_input *in,
                                 struct kt_event *ev);

/* Why the last call failed: one line of text, never NULL. */
const char *kt_transform_error(const struct kt_transform *t);

#endif /* KT_TRANSFORM_H */
