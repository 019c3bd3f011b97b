/*
 * avroenc.h: the encode stage for encoding = pnda-avro.  Each event
 * becomes one Avro binary datum (a "fragment": no container header, the
 * schema kept outside) of PNDA's record pnda.entity.event: timestamp
 * (long, ms), source (string), rawdata (bytes), then the schema's
 * extension fields, filled from a record field or a constant.  With a
 * registry id, Confluent's framing (0x00 and the id, 4 bytes big-endian)
 * comes first.
 *
 * avro-c encodes: one generic value and one buffer for the run, refilled
 * for each record (no allocation per record once they have grown).  The
 * schema file is read and checked at open; nothing else touches the
 * world.
 */
#ifndef KT_AVROENC_H
#define KT_AVROENC_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "transform.h"

/* What rawdata holds: the enveloped JSON event, or the input line. */
enum avro_rawdata { AVRO_RAWDATA_EVENT, AVRO_RAWDATA_RAW };

/* How a record field is made known: kt_transform_capture(), through the
 * program (a slot, or -1). */
struct avroenc_capture {
        int  (*capture)(void *arg, const char *field);
        void *arg;
};

struct avroenc_conf {
        const char          *schema_path; /* NULL: avroenc_base_schema */
        const char          *source;      /* the source field's text */
        enum avro_rawdata    rawdata;
        long long            registry_id; /* -1: no framing */
        const struct kvlist *fields;      /* avro.field.NAME = VALUE */
        struct avroenc_capture cap;
};

/* One record's inputs; the pointers are read during the call only. */
struct avroenc_record {
        const char             *event;
        size_t                  event_len;
        const char             *raw;      /* the input line */
        size_t                  raw_len;
        int64_t                 timestamp_ms;
        const struct kt_value  *fields;   /* the captured, by slot */
        size_t                  n_fields;
};

struct avroenc;

/* PNDA's base schema, the default: examples/schemas/pnda/entity.avsc. */
extern const char avroenc_base_schema[];

/*
 * Reads and checks the schema, compiles the extension fields' sources.
 * NULL with a message in err: the schema is not a record whose first
 * fields are timestamp (long), source (string) and rawdata (bytes); an
 * extension's type is not one of long, int, string, bytes, boolean,
 * double or a union of null and one of them; a field that nothing fills
 * has no default; an avro.field names no extension or gives a constant
 * of the wrong type.
 */
struct avroenc *avroenc_open(const struct avroenc_conf *c, char *err,
                             size_t errlen);

/*
 * Encodes one record into the stage's buffer: *out and *len are valid
 * until the next call.  0, or -1 with a message in err (a value that
 * does not fit its field's type, or out of memory: *nomem set).
 */
int avroenc_encode(struct avroenc *e, const struct avroenc_record *r,
                   const unsigned char **out, size_t *len, int *nomem,
                   char *err, size_t errlen);

/* The schema's text as given to avro-c (the tests read datums with it). */
const char *avroenc_schema_text(const struct avroenc *e);

void avroenc_close(struct avroenc *e);

/*
 * The reading side, for --audit --avro: a message's rawdata.  The base
 * schema's three fields are read by avro-c from the datum's start, which
 * is every schema's (the extension fields after them are not read); a
 * message that starts with a 0 byte has Confluent's framing (a datum's
 * first byte is 0 only for a timestamp of 0, 1970).
 */
struct avroread;

struct avroread *avroread_open(void);
/* 0 with *raw and *len valid until the next call; -1: not a datum. */
int avroread_rawdata(struct avroread *r, const void *msg, size_t msglen,
                     const char **raw, size_t *len);
void avroread_close(struct avroread *r);

#endif
