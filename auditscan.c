/*
 * auditscan.c: an event's audit members, found by the strict scanner and
 * a walk (jsonwalk.h), as dlread.c reads a dead-letter record.  json-c
 * built a document of every event and spent most of the audit's time
 * doing it: see auditscan.h.
 */
#include <stdlib.h>
#include <string.h>

#include "auditscan.h"
#include "grow.h"
#include "jsonscan.h"
#include "jsonwalk.h"

enum member { M_DOMAIN, M_ID, M_RUN, M_SEQ, M_COUNT };

static int is(const struct kt_wval *name, const char *want)
{
        return name->len == strlen(want) &&
               memcmp(name->p, want, name->len) == 0;
}

/* The value v if it is of kind k, into slot; a name seen again wins. */
static void take(struct kt_wval *slot, const struct kt_wval *v,
                 enum kt_jkind k)
{
        if (v->kind == k)
                *slot = *v;
        else
                slot->kind = KT_J_NULL; /* the last one counts: not this */
}

static void walk_meta(const struct kt_wval *meta, struct kt_wval *m)
{
        struct kt_wval name, value;
        struct kt_walk w;

        m[M_DOMAIN].kind = m[M_ID].kind = KT_J_NULL;
        kt_walk_begin(&w, meta);
        while (kt_walk_next_member(&w, &name, &value))
                if (is(&name, "domain"))
                        take(&m[M_DOMAIN], &value, KT_J_STRING);
                else if (is(&name, "id"))
                        take(&m[M_ID], &value, KT_J_STRING);
}

/* The four members, each KT_J_NULL when absent or of the wrong kind. */
static void walk_event(const struct kt_wval *doc, struct kt_wval *m)
{
        struct kt_wval name, value;
        struct kt_walk w;
        int i;

        for (i = 0; i < M_COUNT; i++)
                m[i].kind = KT_J_NULL;
        kt_walk_begin(&w, doc);
        while (kt_walk_next_member(&w, &name, &value)) {
                if (is(&name, "meta")) {
                        m[M_DOMAIN].kind = m[M_ID].kind = KT_J_NULL;
                        if (value.kind == KT_J_OBJECT)
                                walk_meta(&value, m);
                } else if (is(&name, "sequence")) {
                        take(&m[M_SEQ], &value, KT_J_NUMBER);
                } else if (is(&name, "sequence_run")) {
                        take(&m[M_RUN], &value, KT_J_STRING);
                }
        }
}

/* A number in plain digits from 1 to INT64_MAX: 0, or -1. */
static int natural_of(const struct kt_wval *v, uint64_t *out)
{
        uint64_t n = 0;
        size_t i;

        if (v->len == 0 || v->p[0] == '0')
                return -1;
        for (i = 0; i < v->len; i++) {
                if (v->p[i] < '0' || v->p[i] > '9' ||
                    n > ((uint64_t)INT64_MAX - (uint64_t)(v->p[i] - '0')) / 10)
                        return -1;
                n = n * 10 + (uint64_t)(v->p[i] - '0');
        }
        *out = n;
        return 0;
}

/* The string v, unescaped and NUL-terminated at *out, which moves on. */
static const char *text_of(const struct kt_wval *v, char **out)
{
        char *p = *out;
        size_t n;

        if (v->escaped) {
                n = kt_json_unescape(v->p, v->len, p);
        } else {
                memcpy(p, v->p, v->len);
                n = v->len;
        }
        p[n] = '\0';
        *out = p + n + 1;
        return p;
}

enum audit_scan_result audit_scan_line(struct audit_scan *s,
                                       const char *line, size_t len,
                                       struct audit_event *ev)
{
        struct kt_wval doc, m[M_COUNT];
        char *out;
        int i;

        if (kt_json_check(line, len, NULL, 0) == -1)
                return AUDIT_SCAN_NONE;
        kt_walk_document(line, len, &doc);
        if (doc.kind != KT_J_OBJECT)
                return AUDIT_SCAN_NONE;
        walk_event(&doc, m);
        for (i = 0; i < M_COUNT; i++)
                if (m[i].kind == KT_J_NULL)
                        return AUDIT_SCAN_NONE;
        if (natural_of(&m[M_SEQ], &ev->seq) == -1)
                return AUDIT_SCAN_NONE;
        /* three strings, never longer unescaped, and their NULs */
        if (kt_grow(&s->buf, &s->cap, m[M_DOMAIN].len + m[M_ID].len +
                    m[M_RUN].len + 3, 1) == -1)
                return AUDIT_SCAN_NOMEM;
        out = s->buf;
        ev->domain = text_of(&m[M_DOMAIN], &out);
        ev->id = text_of(&m[M_ID], &out);
        ev->run = text_of(&m[M_RUN], &out);
        return AUDIT_SCAN_EVENT;
}

void audit_scan_free(struct audit_scan *s)
{
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
}
