/*
 * dlread.h: a dead-letter record read back (deadletter.h writes them), for
 * --replay.
 *
 * Pure: a line in, the record's parts out.  A part that needs decoding
 * (a JSON escape, base64) is decoded into a buffer the reader owns and
 * reuses, grown to the longest line seen: no allocation per record once
 * it has.  The parts stay valid until the next dlr_parse() and while the
 * line does.
 */
#ifndef KT_DLREAD_H
#define KT_DLREAD_H

#include <stddef.h>
#include <stdint.h>

#include "deadletter.h"

enum dlr_kind {
        DLR_NONE,      /* not a dead-letter record: dlr_error() says why */
        DLR_EVENT,     /* an event as built: produce it unchanged */
        DLR_LINE,      /* an input line that never became an event */
        DLR_TRUNCATED, /* too_long: raw holds only the line's start */
};

struct dlr_record {
        enum dlr_kind     kind;
        const char       *reason;  /* as written (never escaped) */
        size_t            reason_len;
        uint64_t          line_no; /* "line", or 0 */
        const char       *raw;     /* raw_base64's bytes when present */
        size_t            raw_len;
        struct dead_event event;   /* DLR_EVENT: key NULL for null */
};

struct dl_reader {
        char  *buf;   /* decoded parts */
        size_t cap;
        char   err[192];
};

/* Reads line (len bytes, no newline) into *out: out->kind. */
enum dlr_kind dlr_parse(struct dl_reader *r, const char *line, size_t len,
                        struct dlr_record *out);
/* Why the last line was DLR_NONE. */
const char *dlr_error(const struct dl_reader *r);
void dlr_free(struct dl_reader *r);

/*
 * Standard base64 with padding (RFC 4648), as EVP_EncodeBlock writes it,
 * decoded into out (room for len / 4 * 3 bytes; out may be s).  The
 * length, or -1 when s is not base64.
 */
long dlr_base64_decode(const char *s, size_t len, char *out);

#endif /* KT_DLREAD_H */
