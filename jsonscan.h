/*
 * jsonscan.h: the strict one-pass JSON scanner.
 *
 * One pass over a buffer checks it to be exactly one JSON value (RFC 8259,
 * UTF-8 by RFC 3629, nesting at most KT_MAX_DEPTH; what json-c accepts in
 * strict mode, less its laxities) without building anything.  When the
 * value is an object, each of its members can be handed to a callback as
 * it is read, as offsets into the buffer: the transform writes its event
 * from them, byte for byte.  Recursion is bounded by KT_MAX_DEPTH, so no
 * input costs more than linear time.
 */
#ifndef KT_JSONSCAN_H
#define KT_JSONSCAN_H

#include <stddef.h>

/* Deepest nesting accepted (the document is depth 1, as json-c counts). */
#define KT_MAX_DEPTH 64

enum kt_tok_type { KT_TOK_OBJECT = 1, KT_TOK_ARRAY, KT_TOK_STRING,
                   KT_TOK_PRIMITIVE };

/* A value or a name in the buffer; a string's inside, without quotes. */
struct kt_tok {
        enum kt_tok_type type;
        int              start, end;
};

/* What the scanner calls back with each member of the top object. */
struct kt_json_cb {
        /* 0, or -1 to stop the scan (the callee says why). */
        int (*member)(void *opaque, const struct kt_tok *name,
                      const struct kt_tok *value);
        void *opaque;
};

/*
 * Scans js[0..len): with cb, the members of a top-level object go to
 * cb->member as they are read; a top-level name holding an escape
 * sequence is refused (checks on names would miss "\u0064t").  *root
 * gets the top value.  Returns 0, or -1 with one line in err (unless
 * the callback stopped the scan).  Lines over 2 GiB are refused.
 */
int kt_json_scan(const char *js, size_t len, const struct kt_json_cb *cb,
                 struct kt_tok *root, char *err, size_t errlen);

/* kt_json_scan without a callback: 0 if buf is one strict JSON value. */
int kt_json_check(const char *buf, size_t len, char *err, size_t errlen);

/* Length of the valid UTF-8 sequence at s (1 for ASCII), 0 if invalid. */
int kt_utf8_len(const unsigned char *s, const unsigned char *end);

#endif /* KT_JSONSCAN_H */
