/*
 * auditscan.h: the members the audit needs, read from one event's JSON
 * text without building a document: meta.domain, meta.id, sequence and
 * sequence_run.  Pure: no I/O, no globals.
 */
#ifndef KT_AUDITSCAN_H
#define KT_AUDITSCAN_H

#include <stddef.h>
#include <stdint.h>

/* What a line holds; strings NUL-terminated, valid until the next line. */
struct audit_event {
        const char *domain, *id, *run;
        uint64_t    seq;
};

/* A reader's buffer, reused from line to line. */
struct audit_scan {
        char  *buf;
        size_t cap;
};

enum audit_scan_result {
        AUDIT_SCAN_NOMEM = -1,
        AUDIT_SCAN_NONE = 0,  /* not an event the audit reads */
        AUDIT_SCAN_EVENT = 1,
};

/*
 * An event is strict JSON (RFC 8259), an object whose "meta" object has
 * the strings "domain" and "id", with a string "sequence_run" and an
 * integer "sequence" from 1 to 2^63 - 1, written in plain digits.  When a
 * name is there twice, the last one counts, as in json-c.
 */
enum audit_scan_result audit_scan_line(struct audit_scan *s,
                                       const char *line, size_t len,
                                       struct audit_event *ev);
void audit_scan_free(struct audit_scan *s);

#endif /* KT_AUDITSCAN_H */
