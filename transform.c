/*
 * transform.c: pmacct JSON line -> enveloped event, without a DOM.
 *
 * The scanner (jsonscan.h) checks the line against RFC 8259 in one pass
 * and hands each member to member(), which writes the event as its rule
 * says: values are copied byte for byte, and runs of members already in
 * the output's form (pmacct's ", " and ": ") in one piece.  The envelope,
 * whose length is known, is filled in front at the end, once the event
 * time is known.  Here: the rules, the envelope, the event time and the
 * order of errors; the name tables are in names.c, times in isotime.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"
#include "names.h"
#include "formats.h"
#include "transform.h"

#define RULE_DROP     0x01
#define RULE_KEEP     0x02
#define RULE_INTEGER  0x04
#define RULE_TIME     0x08
#define RULE_RESERVED 0x10 /* one of envelope_names */

#define ROLE_EVENT_TYPE 0x01
#define ROLE_PURGED     0x02
#define ROLE_KEY        0x04
#define ROLE_WRITER     0x08

#define RULE_SLOTS KT_NAME_SLOTS /* hash of rules by name */

/*
 * A time field's last value and what it gave: pmacct repeats them
 * (stamp_inserted and stamp_updated hold for a whole purge).
 */
struct time_memo {
        char               text[40]; /* the value's bytes */
        int                len;      /* 0: nothing remembered */
        enum kt_time       state;    /* KT_TIME_ZERO or KT_TIME_OK */
        int64_t            ms;
        struct kt_iso_memo iso;      /* its ISO-8601 form */
        struct kt_minute_memo minute; /* the last date-time's minute */
};

struct rule {
        char  *name;
        size_t name_len;
        char  *rename;   /* JSON-escaped new name, or NULL */
        size_t rename_len;
        unsigned flags;
        unsigned roles;  /* ROLE_*: fields the transform looks at */
        int      dt_rank; /* position in the dt sources, or -1 */
        int      capture; /* slot in captured, or -1 */
        struct time_memo memo;
};

/* What is known of a dt source in the line. */
enum dt_state {
        DT_BAD = KT_TIME_BAD,   /* not a time (said again if asked again) */
        DT_ZERO = KT_TIME_ZERO, /* pmacct's zero time: the next source */
        DT_OK = KT_TIME_OK,     /* a time, in ms */
        DT_NOT_YET,             /* in the line, not parsed yet */
        DT_ABSENT               /* not in the line */
};

/* Where a dt source is in the line, and its time once parsed. */
struct dt_hit {
        struct rule  *rule;
        struct kt_tok key, value;
        enum dt_state state;
        int64_t       ms;
};

/*
 * Errors are found in one pass, but the one of highest rank is reported;
 * a lower one's message is not written over a higher one's.  A syntax
 * error stops the pass at once, and a marker is skipped whatever else.
 */
enum rank {
        RANK_NONE,
        RANK_OUTPUT,     /* a field that cannot be written */
        RANK_EVENT_TIME, /* no event time, or a dt source not a time */
        RANK_DUPLICATE   /* twin names (found as they come, or at the end) */
};

struct constant {
        char  *name;  /* JSON-escaped */
        size_t name_len;
        char  *json;
        size_t json_len;
};

struct kt_transform {
        /* envelope pieces, JSON-escaped */
        char *schema, *stream, *domain;

        size_t              schema_len, stream_len, domain_len;
        struct rule        *rules;
        size_t              n_rules;
        uint16_t            rule_slot[RULE_SLOTS]; /* rule index + 1, or 0 */
        struct kt_tok       role_event_type, role_purged, role_key; /* values */
        struct kt_tok       role_writer; /* a marker's writer_id */
        struct dt_hit      *dt_hit; /* each dt source in the line */
        struct kt_value    *captured; /* kt_transform_capture()'s fields */
        size_t              n_captured;
        int                 keeping;  /* an allowlist is in force */
        int                 renaming; /* output names may collide */
        struct constant    *consts;
        size_t              n_consts;
        size_t              consts_len;
        size_t              n_dt_sources;
        enum kt_dt_fallback dt_fallback;
        struct kt_zone      zone;
        struct kt_iso_memo  ingest_iso; /* meta.dt */

        size_t              env_len; /* the envelope, before the members */

        /* kt_transform_set_sequence(): the names as set, and the
         * names and the run JSON-escaped; seq_field NULL: off */
        char               *seq_field, *run_field;
        char               *seq_name, *run_name, *run;
        size_t              seq_name_len, run_name_len, run_len;
        char               *seq_head, *seq_tail; /* around the number:
                                          * , "NAME": and , "RUN": "RUN" */
        size_t              seq_head_len, seq_tail_len;
        size_t              seq_len; /* its fixed bytes, less the number */
        uint64_t            seq_last; /* the number in seq_text, or 0 */
        uint64_t            seq_now; /* the line's number, or 0 */
        size_t              env_members; /* the line's envelope entries */
        int                 run_escaped; /* run holds an escape */
        char                seq_text[24]; /* seq_now in digits */
        size_t              seq_text_len;

        /* scratch, reused from line to line */
        struct kt_dups      dups;  /* the line's names, for twins */
        struct kt_shape     shape; /* the last line's names, and rules */
        int                 following; /* this line has the shape so far */
        int                 learned;   /* this line's names are the shape */
        uint64_t            shape_gen; /* the shape's number: new names,
                                        * a new number (kt_names_key) */
        size_t              at;        /* the member being written */
        uint64_t            omitted;   /* zero times left out, by position */
        int                 names_open; /* the index lacks some names (an
                                         * object value's, a position
                                         * past 63 left out) */
        enum rank           rank;  /* of the error in err */
        int                 run_start, run_end; /* input copied as it is */
        struct kt_names     out_names; /* to catch collisions */
        char               *out;
        size_t              out_len, out_cap;
        const char         *js; /* the line being worked on */
        int                 indexing; /* kt_transform_set_index() */
        int                 no_values; /* errors quote no value */
        struct kt_member   *index;    /* the event's members, written */
        size_t              n_index, index_cap;

        char err[256];
};


/* --- errors ----------------------------------------------------------- */


/* Quoted excerpts are cut by bytes: mend what the cut broke, and keep
 * control bytes of the input out of a one-line message. */
static void sanitize_utf8(char *msg)
{
        unsigned char *s = (unsigned char *)msg;
        unsigned char *end = s + strlen(msg);
        int n;

        while (s < end) {
                if (*s < 0x20 || *s == 0x7f)
                        *s++ = '?'; /* messages reach terminals */
                else if (*s < 0x80)
                        s++;
                else if ((n = kt_utf8_len(s, end)) > 0)
                        s += n;
                else
                        *s++ = '?';
        }
}

__attribute__((format(printf, 2, 3)))
static int fail(struct kt_transform *t, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(t->err, sizeof(t->err), fmt, ap);
        va_end(ap);
        sanitize_utf8(t->err);
        return -1;
}

const char *kt_transform_error(const struct kt_transform *t)
{
        return t->err;
}

/* --- JSON text helpers -------------------------------------------------- */

/* Escapes s as the inside of a JSON string (no quotes).  malloc'd. */
static char *json_escape(const char *s)
{
        size_t n = strlen(s);
        char *out = malloc(n * 6 + 1), *p = out;

        if (out == NULL)
                return NULL;
        for (; *s != '\0'; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\') {
                        *p++ = '\\';
                        *p++ = (char)c;
                } else if (c < 0x20) {
                        p += sprintf(p, "\\u%04x", c);
                } else {
                        *p++ = (char)c;
                }
        }
        *p = '\0';
        return out;
}

/* The envelope's own names: no field or constant may take them. */
static const char *const envelope_names[] = { "$schema", "meta", "dt" };

/* Settings are checked here; the line's fields by their rules. */
static int is_envelope_name(const char *name)
{
        size_t i;

        for (i = 0; i < sizeof(envelope_names) / sizeof(*envelope_names); i++)
                if (strcmp(name, envelope_names[i]) == 0)
                        return 1;
        return 0;
}

/* The envelope's names, and the sequence's while it is on. */
static int is_reserved(const struct kt_transform *t, const char *name)
{
        return is_envelope_name(name) ||
               (t->seq_field != NULL && (strcmp(name, t->seq_field) == 0 ||
                                         strcmp(name, t->run_field) == 0));
}

static int is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Offsets of a token including a string's quotes. */
static int outer_start(const struct kt_tok *k)
{
        return k->type == KT_TOK_STRING ? k->start - 1 : k->start;
}

static int outer_end(const struct kt_tok *k)
{
        return k->type == KT_TOK_STRING ? k->end + 1 : k->end;
}

/* -?(0|[1-9][0-9]*): the integers JSON can hold, for integer fields. */
static int integer_ok(const char *p, const char *end)
{
        if (p < end && *p == '-')
                p++;
        if (p == end || !is_digit(*p) || (*p == '0' && end - p > 1))
                return 0;
        while (p < end && is_digit(*p))
                p++;
        return p == end;
}

static int literal_is(const char *s, size_t len, const char *lit)
{
        return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* --- time fields ------------------------------------------------------- */

/* A time field: a string or a number; a message when it is not. */
static enum kt_time member_time(struct kt_transform *t, struct rule *r,
                                const struct kt_tok *k,
                                const struct kt_tok *v, int64_t *ms)
{
        struct time_memo *m = &r->memo;
        const char *p = t->js + v->start;
        int len = v->end - v->start;
        enum kt_time st = KT_TIME_BAD;

        if (m->len == len && len > 0 &&
            kt_same_bytes(m->text, p, (size_t)len)) {
                *ms = m->ms;
                return m->state;
        }
        if (v->type == KT_TOK_STRING || v->type == KT_TOK_PRIMITIVE)
                st = kt_parse_time_memo(&t->zone, &m->minute, p,
                                        (size_t)len, ms);
        if (st == KT_TIME_BAD) {
                fail(t, "field %.*s: not a time%s%.*s", k->end - k->start,
                     t->js + k->start, t->no_values ? "" : ": ",
                     t->no_values ? 0 : len > 40 ? 40 : len, p);
                return KT_TIME_BAD;
        }
        if ((size_t)len <= sizeof(m->text)) {
                memcpy(m->text, p, (size_t)len);
                m->len = len;
                m->state = st;
                m->ms = *ms;
        }
        return st;
}

/* A dt source is often a time field too: parsed once.  Not DT_ABSENT. */
static enum kt_time hit_time(struct kt_transform *t, struct dt_hit *h,
                             int64_t *ms)
{
        if (h->state == DT_NOT_YET || h->state == DT_BAD) /* say it again */
                h->state = (enum dt_state)member_time(t, h->rule, &h->key,
                                                      &h->value, &h->ms);
        *ms = h->ms;
        return (enum kt_time)h->state;
}

/* --- building ------------------------------------------------------------ */

static int add_role(struct kt_transform *t, const char *field, unsigned role);
static int add_flag(struct kt_transform *t, const char *field, unsigned flag);

struct kt_transform *kt_transform_new(void)
{
        struct kt_transform *t = calloc(1, sizeof(*t));
        size_t i;

        if (t == NULL)
                return NULL;
        kt_zone_set(&t->zone, NULL, NULL);
        kt_iso_memo_init(&t->ingest_iso);
        for (i = 0; i < sizeof(envelope_names) / sizeof(*envelope_names); i++)
                if (add_flag(t, envelope_names[i], RULE_RESERVED) == -1)
                        goto fail;
        if (add_role(t, "event_type", ROLE_EVENT_TYPE) == -1 ||
            add_role(t, "purged_entries", ROLE_PURGED) == -1 ||
            add_role(t, "writer_id", ROLE_WRITER) == -1 ||
            kt_transform_set_envelope(t, "", "", "") == -1)
                goto fail;
        return t;
fail:
        kt_transform_free(t);
        return NULL;
}

/* The sequence's names, run and pieces (kt_transform_set_sequence()). */
static void seq_pieces_free(struct kt_transform *t)
{
        free(t->seq_field);
        free(t->run_field);
        free(t->seq_name);
        free(t->run_name);
        free(t->run);
        free(t->seq_head);
        free(t->seq_tail);
        t->seq_field = t->run_field = NULL;
        t->seq_name = t->run_name = t->run = NULL;
        t->seq_head = t->seq_tail = NULL;
        t->seq_len = t->seq_last = 0;
}

void kt_transform_free(struct kt_transform *t)
{
        size_t i;

        if (t == NULL)
                return;
        for (i = 0; i < t->n_rules; i++) {
                free(t->rules[i].name);
                free(t->rules[i].rename);
        }
        for (i = 0; i < t->n_consts; i++) {
                free(t->consts[i].name);
                free(t->consts[i].json);
        }
        free(t->rules);
        free(t->consts);
        free(t->dt_hit);
        free(t->captured);
        free(t->schema);
        free(t->stream);
        free(t->domain);
        seq_pieces_free(t);
        kt_dups_free(&t->dups);
        kt_shape_free(&t->shape);
        kt_names_free(&t->out_names);
        free(t->out);
        free(t->index);
        free(t);
}

/* The envelope's fixed pieces, around its values. */
#define ENV_SCHEMA  "{\"$schema\": \""
#define ENV_STREAM  "\", \"meta\": {\"stream\": \""
#define ENV_ID      "\", \"id\": \""
#define ENV_META_DT "\", \"dt\": \""
#define ENV_DOMAIN  "\", \"domain\": \""
#define ENV_DT      "\"}, \"dt\": \""
#define ENV_END     "\""
/* Where meta's object starts in ENV_STREAM, and the envelope's members in
 * the index: $schema, meta, its four, dt. */
#define ENV_META_OFFSET (sizeof("\", \"meta\": ") - 1)
#define KT_ENV_MEMBERS 7

static int replace_escaped(struct kt_transform *t, char **dst, const char *s)
{
        char *e = json_escape(s);

        if (e == NULL)
                return fail(t, "out of memory");
        free(*dst);
        *dst = e;
        return 0;
}

int kt_transform_set_envelope(struct kt_transform *t, const char *schema,
                              const char *stream, const char *domain)
{
        if (replace_escaped(t, &t->schema, schema) == -1 ||
            replace_escaped(t, &t->stream, stream) == -1 ||
            replace_escaped(t, &t->domain, domain) == -1)
                return -1;
        t->schema_len = strlen(t->schema);
        t->stream_len = strlen(t->stream);
        t->domain_len = strlen(t->domain);
        t->env_len = sizeof(ENV_SCHEMA ENV_STREAM ENV_ID ENV_META_DT
                            ENV_DOMAIN ENV_DT ENV_END) - 1 + t->schema_len +
                     t->stream_len + KT_UUID_LEN + KT_ISO_LEN +
                     t->domain_len + KT_ISO_LEN;
        return 0;
}

void kt_transform_set_timezone(struct kt_transform *t, kt_local_to_utc_fn fn,
                               void *arg)
{
        size_t i;

        kt_zone_set(&t->zone, fn, arg);
        for (i = 0; i < t->n_rules; i++) { /* local times read anew */
                t->rules[i].memo.len = 0;
                kt_minute_memo_init(&t->rules[i].memo.minute);
        }
}

void kt_transform_set_dt_fallback(struct kt_transform *t,
                                  enum kt_dt_fallback fallback)
{
        t->dt_fallback = fallback;
}

static int check_name(struct kt_transform *t, const char *name)
{
        if (name == NULL || *name == '\0')
                return fail(t, "empty field name");
        return 0;
}

/* Rules are looked up for every member of every line: hash them. */
static void index_rules(struct kt_transform *t)
{
        size_t i;
        unsigned slot;

        memset(t->rule_slot, 0, sizeof(t->rule_slot));
        for (i = 0; i < t->n_rules; i++) {
                slot = kt_name_hash(t->rules[i].name, t->rules[i].name_len);
                while (t->rule_slot[slot] != 0)
                        slot = (slot + 1) & (RULE_SLOTS - 1);
                t->rule_slot[slot] = (uint16_t)(i + 1);
        }
}

/* The rule for field name, created on first use. */
static struct rule *rule_for(struct kt_transform *t, const char *name)
{
        size_t i, len = strlen(name);
        struct rule *r;

        /* a rule changes: the shape is learnt anew, with a new key */
        t->shape.n = 0;
        for (i = 0; i < t->n_rules; i++)
                if (t->rules[i].name_len == len &&
                    memcmp(t->rules[i].name, name, len) == 0)
                        return &t->rules[i];
        if (t->n_rules >= RULE_SLOTS / 2)
                return NULL;
        r = realloc(t->rules, (t->n_rules + 1) * sizeof(*r));
        if (r == NULL)
                return NULL;
        t->rules = r;
        r = &t->rules[t->n_rules];
        memset(r, 0, sizeof(*r));
        r->dt_rank = -1;
        r->capture = -1;
        kt_iso_memo_init(&r->memo.iso);
        kt_minute_memo_init(&r->memo.minute);
        r->name = strdup(name);
        if (r->name == NULL)
                return NULL;
        r->name_len = len;
        t->n_rules++;
        index_rules(t);
        return r;
}

static int add_role(struct kt_transform *t, const char *field, unsigned role)
{
        struct rule *r = rule_for(t, field);

        if (r == NULL)
                return fail(t, "out of memory or too many field rules");
        r->roles |= role;
        return 0;
}

static int add_flag(struct kt_transform *t, const char *field, unsigned flag)
{
        struct rule *r;

        if (check_name(t, field) == -1)
                return -1;
        if ((r = rule_for(t, field)) == NULL)
                return fail(t, "out of memory or too many field rules");
        r->flags |= flag;
        return 0;
}

int kt_transform_rename(struct kt_transform *t, const char *from,
                        const char *to)
{
        struct rule *r;

        if (check_name(t, from) == -1 || check_name(t, to) == -1)
                return -1;
        if (is_reserved(t, to))
                return fail(t, "cannot rename %s to %s: a name of the "
                            "envelope", from, to);
        if ((r = rule_for(t, from)) == NULL ||
            replace_escaped(t, &r->rename, to) == -1)
                return fail(t, "out of memory");
        r->rename_len = strlen(r->rename);
        t->renaming = 1;
        return 0;
}

int kt_transform_drop(struct kt_transform *t, const char *field)
{
        return add_flag(t, field, RULE_DROP);
}

int kt_transform_keep(struct kt_transform *t, const char *field)
{
        if (add_flag(t, field, RULE_KEEP) == -1)
                return -1;
        t->keeping = 1;
        return 0;
}

int kt_transform_integer(struct kt_transform *t, const char *field)
{
        return add_flag(t, field, RULE_INTEGER);
}

int kt_transform_time(struct kt_transform *t, const char *field)
{
        return add_flag(t, field, RULE_TIME);
}

static char *quote_string(const char *s)
{
        char *e = json_escape(s), *q;

        if (e == NULL)
                return NULL;
        q = malloc(strlen(e) + 3);
        if (q != NULL)
                sprintf(q, "\"%s\"", e);
        free(e);
        return q;
}

/*
 * Everything is allocated before the array grows, and realloc's result is
 * kept at once: a failure leaves the transform as it was (bug 6: a failed
 * strdup after realloc had moved the array left it pointing at the old).
 */
int kt_transform_constant(struct kt_transform *t, const char *field,
                          const char *json)
{
        struct constant *c;
        char *value = NULL, *name = NULL;

        if (check_name(t, field) == -1)
                return -1;
        if (is_reserved(t, field))
                return fail(t, "constant %s: a name of the envelope", field);
        if (kt_json_check(json, strlen(json), NULL, 0) == 0)
                value = strdup(json);
        else
                value = quote_string(json);
        if (value == NULL || (name = json_escape(field)) == NULL ||
            (c = realloc(t->consts, (t->n_consts + 1) * sizeof(*c))) == NULL) {
                free(value);
                free(name);
                return fail(t, "out of memory");
        }
        t->consts = c;
        c = &t->consts[t->n_consts++];
        c->json = value;
        c->json_len = strlen(value);
        c->name = name;
        c->name_len = strlen(name);
        t->consts_len += c->name_len + c->json_len + 6;
        t->renaming = 1;
        t->shape.n = 0; /* the events' names change: a new key */
        return 0;
}

/* The name lives in its rule; only the order of the sources is kept. */
int kt_transform_add_dt_source(struct kt_transform *t, const char *field)
{
        struct rule *r;
        struct dt_hit *hit;

        if (check_name(t, field) == -1)
                return -1;
        hit = realloc(t->dt_hit, (t->n_dt_sources + 1) * sizeof(*hit));
        if (hit == NULL)
                return fail(t, "out of memory");
        t->dt_hit = hit;
        if ((r = rule_for(t, field)) == NULL)
                return fail(t, "out of memory or too many field rules");
        if (r->dt_rank < 0)
                r->dt_rank = (int)t->n_dt_sources;
        t->n_dt_sources++;
        return 0;
}

void kt_transform_set_index(struct kt_transform *t, int on)
{
        t->indexing = on;
}

void kt_transform_set_quote_values(struct kt_transform *t, int on)
{
        t->no_values = !on;
}

/* The sequence's pieces around its names, number and run. */
#define SEQ_SEP    ", \""
#define SEQ_NUMBER "\": "
#define SEQ_RUN    "\": \""
#define SEQ_END    "\""

/* A sequence name is taken as an envelope name is (RULE_RESERVED). */
static void seq_unreserve(struct kt_transform *t)
{
        size_t i;

        for (i = 0; t->seq_field != NULL && i < t->n_rules; i++)
                if (strcmp(t->rules[i].name, t->seq_field) == 0 ||
                    strcmp(t->rules[i].name, t->run_field) == 0)
                        t->rules[i].flags &= ~(unsigned)RULE_RESERVED;
        seq_pieces_free(t);
        t->shape.n = 0; /* the events' names change: a new key */
}

/* name (JSON-escaped) taken by a rename or a constant already? */
static int seq_taken(const struct kt_transform *t, const char *name)
{
        size_t i;

        for (i = 0; i < t->n_rules; i++)
                if (t->rules[i].rename != NULL &&
                    strcmp(t->rules[i].rename, name) == 0)
                        return 1;
        for (i = 0; i < t->n_consts; i++)
                if (strcmp(t->consts[i].name, name) == 0)
                        return 1;
        return 0;
}

/* The names as field.rename's targets are, and not each other. */
static int seq_check(struct kt_transform *t, const char *field,
                     const char *run_field, const char *run)
{
        if (check_name(t, field) == -1 || check_name(t, run_field) == -1)
                return -1;
        if (run == NULL)
                return fail(t, "sequence: no run");
        if (is_envelope_name(field) || is_envelope_name(run_field))
                return fail(t, "sequence: %s: a name of the envelope",
                            is_envelope_name(field) ? field : run_field);
        if (strcmp(field, run_field) == 0)
                return fail(t, "sequence: the number and the run both "
                            "named %s", field);
        return 0;
}

/* What is written around the number, in two pieces. */
static int seq_pieces(struct kt_transform *t)
{
        int head, tail;

        head = asprintf(&t->seq_head, SEQ_SEP "%s" SEQ_NUMBER, t->seq_name);
        if (head == -1) {
                t->seq_head = NULL;
                return -1;
        }
        tail = asprintf(&t->seq_tail, SEQ_SEP "%s" SEQ_RUN "%s" SEQ_END,
                        t->run_name, t->run);
        if (tail == -1) {
                t->seq_tail = NULL;
                return -1;
        }
        t->seq_head_len = (size_t)head;
        t->seq_tail_len = (size_t)tail;
        t->seq_len = t->seq_head_len + t->seq_tail_len;
        return 0;
}

int kt_transform_set_sequence(struct kt_transform *t, const char *field,
                              const char *run_field, const char *run)
{
        if (field == NULL) {
                seq_unreserve(t);
                return 0;
        }
        if (seq_check(t, field, run_field, run) == -1)
                return -1;
        seq_unreserve(t);
        if ((t->seq_field = strdup(field)) == NULL ||
            (t->run_field = strdup(run_field)) == NULL ||
            (t->seq_name = json_escape(field)) == NULL ||
            (t->run_name = json_escape(run_field)) == NULL ||
            (t->run = json_escape(run)) == NULL) {
                seq_unreserve(t);
                return fail(t, "out of memory");
        }
        if (seq_taken(t, t->seq_name) || seq_taken(t, t->run_name)) {
                seq_unreserve(t);
                return fail(t, "sequence: %s or %s: a field's name after "
                            "renames and constants", field, run_field);
        }
        t->seq_name_len = strlen(t->seq_name);
        t->run_name_len = strlen(t->run_name);
        t->run_len = strlen(t->run);
        t->run_escaped = t->run_len != strlen(run);
        if (seq_pieces(t) == -1) {
                seq_unreserve(t);
                return fail(t, "out of memory");
        }
        if (add_flag(t, field, RULE_RESERVED) == -1 ||
            add_flag(t, run_field, RULE_RESERVED) == -1) {
                seq_unreserve(t);
                return -1;
        }
        return 0;
}

int kt_transform_set_key(struct kt_transform *t, const char *field)
{
        size_t i;

        if (check_name(t, field) == -1)
                return -1;
        for (i = 0; i < t->n_rules; i++)
                t->rules[i].roles &= ~(unsigned)ROLE_KEY;
        return add_role(t, field, ROLE_KEY);
}

int kt_transform_capture(struct kt_transform *t, const char *field)
{
        struct kt_value *v;
        struct rule *r;

        if (check_name(t, field) == -1)
                return -1;
        v = realloc(t->captured, (t->n_captured + 1) * sizeof(*v));
        if (v == NULL)
                return fail(t, "out of memory");
        t->captured = v;
        if ((r = rule_for(t, field)) == NULL)
                return fail(t, "out of memory or too many field rules");
        if (r->capture < 0) {
                memset(&t->captured[t->n_captured], 0, sizeof(*v));
                r->capture = (int)t->n_captured++;
        }
        return r->capture;
}

/* --- the line ------------------------------------------------------------ */

static int value_is(const struct kt_transform *t, const struct kt_tok *v,
                    const char *s)
{
        return v->type == KT_TOK_STRING &&
               literal_is(t->js + v->start, (size_t)(v->end - v->start), s);
}

static int64_t value_integer(const struct kt_transform *t,
                             const struct kt_tok *v)
{
        int64_t n = 0;
        int i;

        if (v->type != KT_TOK_PRIMITIVE || v->end - v->start > 18)
                return -1;
        for (i = v->start; i < v->end; i++) {
                if (!is_digit(t->js[i]))
                        return -1;
                n = n * 10 + (t->js[i] - '0');
        }
        return n;
}

/* pmacct's purge_init/purge_close frame a purge: skipped, not forwarded. */
static int is_marker(struct kt_transform *t, struct kt_event *ev)
{
        const struct kt_tok *v = &t->role_event_type;

        if (v->type == 0)
                return 0;
        if (value_is(t, v, "purge_init"))
                ev->marker = KT_MARKER_PURGE_INIT;
        else if (value_is(t, v, "purge_close"))
                ev->marker = KT_MARKER_PURGE_CLOSE;
        else
                return 0;
        if (ev->marker == KT_MARKER_PURGE_CLOSE && t->role_purged.type != 0)
                ev->purged_entries = value_integer(t, &t->role_purged);
        if (t->role_writer.type == KT_TOK_STRING) {
                ev->writer_id = t->js + t->role_writer.start;
                ev->writer_id_len = (size_t)(t->role_writer.end -
                                             t->role_writer.start);
        }
        return 1;
}

/* Appends without a check: the caller made room (room()). */
static void put(struct kt_transform *t, const char *s, size_t n)
{
        memcpy(t->out + t->out_len, s, n);
        t->out_len += n;
}

#define PUTS(t, lit) put((t), (lit), sizeof(lit) - 1)

static int grow(struct kt_transform *t, size_t need)
{
        char *p;
        size_t cap = need + need / 2 + 256;

        if ((p = realloc(t->out, cap)) == NULL)
                return fail(t, "out of memory");
        t->out = p;
        t->out_cap = cap;
        return 0;
}

/* Room for n more bytes of output. */
static inline int room(struct kt_transform *t, size_t n)
{
        return t->out_cap - t->out_len >= n ? 0 : grow(t, t->out_len + n);
}

/* A time in ISO-8601, through the memo of its source. */
static const char *put_iso(struct kt_transform *t, int64_t ms,
                           struct kt_iso_memo *m)
{
        const char *iso = kt_iso_memo_format(m, ms);

        put(t, iso, KT_ISO_LEN);
        return iso;
}

/* --- the member index (kt_transform_set_index) ------------------------- */

/* More room for entries: 0, or -1 when out of memory (noted). */
static int index_grow(struct kt_transform *t)
{
        struct kt_member *m;
        size_t cap;

        cap = t->index_cap ? t->index_cap * 2 : 64;
        if ((m = realloc(t->index, cap * sizeof(*m))) == NULL)
                return fail(t, "out of memory");
        t->index = m;
        t->index_cap = cap;
        return 0;
}

/* Room for one more entry.  The index is written per member: inline. */
static inline int index_room(struct kt_transform *t)
{
        return t->n_index < t->index_cap ? 0 : index_grow(t);
}

static inline void index_set(struct kt_member *m, const char *name,
                             size_t name_len, enum kt_jkind kind,
                             const char *value, size_t len)
{
        m->name = name;
        m->name_len = (uint32_t)name_len;
        m->value = value;
        m->value_len = (uint32_t)len;
        m->kind = (unsigned char)kind;
        m->escaped = kind == KT_J_STRING ? KT_ESCAPES_UNKNOWN : 0;
        m->known = 0;
        m->natural = 0;
        m->children = kind == KT_J_OBJECT ? -1 : 0;
}

/* A member written, its value value[0..len) of kind. */
static inline int index_add(struct kt_transform *t, const char *name,
                            size_t name_len, enum kt_jkind kind,
                            const char *value, size_t len)
{
        if (!t->indexing)
                return 0;
        if (index_room(t) == -1)
                return -1;
        if (kind == KT_J_OBJECT)
                t->names_open = 1;
        index_set(&t->index[t->n_index++], name, name_len, kind, value, len);
        return 0;
}

/*
 * A time the transform wrote: kt_format_iso8601()'s form is an RFC 3339
 * date-time, so the validator need not check that format again (about
 * 150 instructions a value, five values a record).  fuzz_transform checks
 * the claim on every event.
 */
static int index_iso(struct kt_transform *t, const char *name,
                     size_t name_len, const char *iso)
{
        if (index_add(t, name, name_len, KT_J_STRING, iso, KT_ISO_LEN) == -1)
                return -1;
        if (t->indexing) {
                t->index[t->n_index - 1].escaped = 0;
                t->index[t->n_index - 1].known = 1u << KT_FORMAT_DATE_TIME;
        }
        return 0;
}

/* The kind of the JSON value text p (a token or a constant's JSON). */
static inline enum kt_jkind kind_of(const char *p)
{
        switch (*p) {
        case '"': return KT_J_STRING;
        case '{': return KT_J_OBJECT;
        case '[': return KT_J_ARRAY;
        case 't': case 'f': return KT_J_BOOLEAN;
        case 'n': return KT_J_NULL;
        default: return KT_J_NUMBER;
        }
}

/* A member whose value is the line's token v, as it is. */
static inline int index_tok(struct kt_transform *t, const char *name,
                            size_t name_len, const struct kt_tok *v)
{
        const char *p = t->js + v->start;

        if (!t->indexing)
                return 0;
        if (v->type == KT_TOK_STRING)
                return index_add(t, name, name_len, KT_J_STRING, p,
                                 (size_t)(v->end - v->start));
        if (index_add(t, name, name_len, kind_of(p), p,
                      (size_t)(v->end - v->start)) == -1)
                return -1;
        t->index[t->n_index - 1].natural = (unsigned char)v->natural;
        return 0;
}

/* ", "name": " */
static void put_name(struct kt_transform *t, const char *name, size_t len)
{
        PUTS(t, ", \"");
        put(t, name, len);
        PUTS(t, "\": ");
}

/* ", "name": value", room made. */
static int put_field(struct kt_transform *t, const char *name,
                     size_t name_len, const char *value, size_t value_len)
{
        if (room(t, name_len + value_len + 8) == -1)
                return -1;
        put_name(t, name, name_len);
        put(t, value, value_len);
        return 0;
}

/* An integer field: "2" -> 2; numbers stay as they are. */
static int put_integer(struct kt_transform *t, const struct kt_tok *k,
                       const struct kt_tok *v, const char *name,
                       size_t name_len)
{
        const char *s = t->js + v->start;
        int len = v->end - v->start, neg = len > 0 && s[0] == '-';
        int digits = len - neg;

        if ((v->type == KT_TOK_PRIMITIVE && (is_digit(s[0]) || s[0] == '-')) ||
            (v->type == KT_TOK_STRING && digits >= 1 && digits <= 20 &&
             integer_ok(s, s + len) &&
             (digits < 19 || (neg ? digits == 19 &&
                              memcmp(s + 1, "9223372036854775808", 19) <= 0
                                  : digits < 20 ||
                              memcmp(s, "18446744073709551615", 20) <= 0)))) {
                if (put_field(t, name, name_len, s, (size_t)len) == -1 ||
                    index_add(t, name, name_len, KT_J_NUMBER, s,
                              (size_t)len) == -1)
                        return -1;
                if (t->indexing) /* digits, a sign, or a number token */
                        t->index[t->n_index - 1].natural =
                                v->type == KT_TOK_STRING ? !neg :
                                (unsigned char)v->natural;
                return 0;
        }
        return fail(t, "field %.*s: not an integer%s%.*s", k->end - k->start,
                    t->js + k->start, t->no_values ? "" : ": ",
                    t->no_values ? 0 : len > 40 ? 40 : len, s);
}

/* The member being written is left out of the event: its key says so. */
static void left_out(struct kt_transform *t)
{
        if (t->at < 64)
                t->omitted |= (uint64_t)1 << t->at;
        else
                t->names_open = 1;
}

/* A time field: replaced by ISO-8601 UTC, or left out when zero. */
static int put_time(struct kt_transform *t, struct rule *r,
                    const struct kt_tok *k, const struct kt_tok *v,
                    const char *name, size_t name_len)
{
        struct dt_hit *h = r->dt_rank >= 0 ? &t->dt_hit[r->dt_rank] : NULL;
        const char *iso;
        int64_t ms;
        enum kt_time st;

        if (h != NULL && h->state == DT_NOT_YET) /* event_time() needs it */
                st = hit_time(t, h, &ms);
        else
                st = member_time(t, r, k, v, &ms);
        if (st == KT_TIME_BAD)
                return -1;
        if (st == KT_TIME_ZERO) {
                left_out(t);
                return 0;
        }
        if (room(t, name_len + KT_ISO_LEN + 8) == -1)
                return -1;
        put_name(t, name, name_len);
        PUTS(t, "\"");
        iso = put_iso(t, ms, &r->memo.iso);
        PUTS(t, "\"");
        return index_iso(t, name, name_len, iso);
}

/*
 * Renames and constants can make two output members share a name; input
 * duplicates are refused anyway, so only then is the table consulted.
 */
static int claim_name(struct kt_transform *t, const char *p, size_t len)
{
        int r;

        if (!t->renaming)
                return 0;
        if ((r = kt_names_claim(&t->out_names, p, len)) == -1)
                return fail(t, "out of memory");
        if (r == 1)
                return fail(t, "two fields named \"%.*s\" after renames "
                            "and constants", (int)len, p);
        return 0;
}

/* Writes out the input copied so far: ", " and the run of members. */
static int flush_run(struct kt_transform *t)
{
        size_t n = (size_t)(t->run_end - t->run_start);

        if (t->run_start < 0)
                return 0;
        if (room(t, n + 2) == -1)
                return -1;
        PUTS(t, ", ");
        put(t, t->js + t->run_start, n);
        t->run_start = -1;
        return 0;
}

/*
 * A member written as it is, "name": value: when the line has it in the
 * output's form, it joins the run of such members, copied in one piece.
 */
static int put_plain(struct kt_transform *t, const struct kt_tok *k,
                     const struct kt_tok *v)
{
        int from = k->start - 1, to = outer_end(v);
        const char *js = t->js;

        if (js[k->end + 1] == ':' && js[k->end + 2] == ' ' &&
            outer_start(v) == k->end + 3) {
                if (t->run_start >= 0 && from == t->run_end + 2 &&
                    js[t->run_end] == ',' && js[t->run_end + 1] == ' ') {
                        t->run_end = to;
                        return 0;
                }
                if (flush_run(t) == -1)
                        return -1;
                t->run_start = from;
                t->run_end = to;
                return 0;
        }
        if (flush_run(t) == -1)
                return -1;
        return put_field(t, js + k->start, (size_t)(k->end - k->start),
                         js + outer_start(v), (size_t)(to - outer_start(v)));
}

/* Writes one member of the line, as its rule says. */
static int put_member(struct kt_transform *t, struct rule *r,
                      const struct kt_tok *k, const struct kt_tok *v)
{
        const char *name = t->js + k->start;
        size_t name_len = (size_t)(k->end - k->start);

        if (r && ((r->roles & ROLE_EVENT_TYPE) || (r->flags & RULE_DROP)))
                return 0;
        if (t->keeping && !(r && (r->flags & RULE_KEEP)))
                return 0;
        if (r && r->rename) {
                name = r->rename;
                name_len = r->rename_len;
        } else if (r && (r->flags & RULE_RESERVED)) {
                return fail(t, "field \"%.*s\": a name of the envelope",
                            (int)name_len, name);
        }
        if (t->renaming && claim_name(t, name, name_len) == -1)
                return -1;
        if (r == NULL || !(r->rename || (r->flags & (RULE_TIME |
                                                      RULE_INTEGER))))
                return put_plain(t, k, v) == -1 ? -1 :
                       index_tok(t, name, name_len, v);
        if (flush_run(t) == -1)
                return -1;
        if (r->flags & RULE_TIME)
                return put_time(t, r, k, v, name, name_len);
        if (r->flags & RULE_INTEGER)
                return put_integer(t, k, v, name, name_len);
        if (put_field(t, name, name_len, t->js + outer_start(v),
                      (size_t)(outer_end(v) - outer_start(v))) == -1)
                return -1;
        return index_tok(t, name, name_len, v);
}

static struct rule *find_rule(const struct kt_transform *t,
                              const char *name, size_t len,
                              unsigned slot)
{
        struct rule *r;

        while (t->rule_slot[slot] != 0) {
                r = &t->rules[t->rule_slot[slot] - 1];
                if (r->name_len == len && kt_same_bytes(r->name, name, len))
                        return r;
                slot = (slot + 1) & (RULE_SLOTS - 1);
        }
        return NULL;
}

/* Noted, and the pass goes on: see member(). */
static void duplicate(struct kt_transform *t, const char *p, int len)
{
        if (t->rank < RANK_DUPLICATE) {
                fail(t, "duplicate key \"%.*s\"", len, p);
                t->rank = RANK_DUPLICATE;
        }
}

/* Few members: twins are found as they come (many: at the end). */
static void check_duplicate(struct kt_transform *t, size_t i, unsigned h)
{
        const struct kt_name_at *k = &t->dups.keys[i];

        if (kt_dups_check(&t->dups, i, h))
                duplicate(t, t->js + k->start, k->len);
}

/*
 * While a line follows the shape of the last (names.h), each name's rule
 * is known without a lookup and no name can repeat (the shape had none).
 */

/* The line leaves the shape at member i: its names so far are checked. */
static void leave_shape(struct kt_transform *t, size_t i)
{
        size_t j;

        t->following = 0;
        for (j = 0; j < i; j++)
                check_duplicate(t, j,
                                kt_name_hash(t->js + t->dups.keys[j].start,
                                             (size_t)t->dups.keys[j].len));
}

/* A line that left the shape and has no twin names is the new shape. */
static void learn_shape(struct kt_transform *t)
{
        struct kt_shape_name *sn;
        size_t i;

        if (t->following || t->rank >= RANK_DUPLICATE ||
            kt_shape_learn(&t->shape, &t->dups) == -1)
                return; /* the shape is only a shortcut */
        t->learned = 1;
        t->shape_gen++;
        for (i = 0; i < t->shape.n; i++) {
                sn = &t->shape.name[i];
                sn->value = find_rule(t, t->shape.text + sn->start,
                                      (size_t)sn->len,
                                      kt_name_hash(t->shape.text + sn->start,
                                                   (size_t)sn->len));
        }
}

/* Many members: sorted at the end, O(n log n) instead of O(n^2). */
static int check_duplicates_sorted(struct kt_transform *t)
{
        struct kt_name_at twin;
        int r;

        if (t->rank >= RANK_DUPLICATE)
                return 0;
        if ((r = kt_dups_sorted(&t->dups, &twin)) == -1)
                return fail(t, "out of memory");
        if (r == 1)
                duplicate(t, t->js + twin.start, twin.len);
        return 0;
}

/* A captured field's value, as kt_value says. */
static void capture(const struct kt_transform *t, struct kt_value *c,
                    const struct kt_tok *v)
{
        c->p = t->js + v->start;
        c->len = (size_t)(v->end - v->start);
        switch (v->type) {
        case KT_TOK_STRING: c->type = KT_VALUE_STRING; return;
        case KT_TOK_OBJECT: c->type = KT_VALUE_OBJECT; return;
        case KT_TOK_ARRAY: c->type = KT_VALUE_ARRAY; return;
        default: break;
        }
        c->type = *c->p == 't' ? KT_VALUE_TRUE :
                  *c->p == 'f' ? KT_VALUE_FALSE :
                  *c->p == 'n' ? KT_VALUE_NULL : KT_VALUE_NUMBER;
}

/* Notes where the fields the transform looks at are. */
static void note_roles(struct kt_transform *t, struct rule *r,
                       const struct kt_tok *k, const struct kt_tok *v)
{
        struct dt_hit *h;

        if (r->roles & ROLE_EVENT_TYPE)
                t->role_event_type = *v;
        if (r->roles & ROLE_PURGED)
                t->role_purged = *v;
        if (r->roles & ROLE_WRITER)
                t->role_writer = *v;
        if (r->roles & ROLE_KEY)
                t->role_key = *v;
        if (r->capture >= 0)
                capture(t, &t->captured[r->capture], v);
        if (r->dt_rank >= 0 &&
            (h = &t->dt_hit[r->dt_rank])->state == DT_ABSENT) {
                h->rule = r;
                h->key = *k;
                h->value = *v;
                h->state = DT_NOT_YET;
        }
}

/*
 * A top-level member, as the scanner reads it.  Errors other than the
 * line's syntax are noted by rank and the pass goes on: a marker is
 * skipped whatever it holds, and a duplicate outranks an output error.
 */
static inline __attribute__((always_inline)) int
member(void *opaque, const struct kt_tok *k,
                  const struct kt_tok *v)
{
        struct kt_transform *t = opaque;
        const char *name = t->js + k->start;
        int len = k->end - k->start;
        size_t i = t->dups.n_keys;
        struct rule *r;
        unsigned h;

        if (kt_dups_push(&t->dups, k->start, k->end - k->start) == -1)
                return fail(t, "out of memory");
        t->at = i;
        if (t->following && kt_shape_has(&t->shape, i, name, len)) {
                r = t->shape.name[i].value;
        } else {
                if (t->following)
                        leave_shape(t, i);
                h = kt_name_hash(name, (size_t)len);
                r = find_rule(t, name, (size_t)len, h);
                check_duplicate(t, i, h);
        }
        if (r != NULL)
                note_roles(t, r, k, v);
        if (t->rank == RANK_NONE && put_member(t, r, k, v) == -1)
                t->rank = RANK_OUTPUT;
        return 0;
}

/* The event time, from the first dt source holding a non-zero time. */
static int event_time(struct kt_transform *t, const struct kt_input *in,
                      int64_t *ms, struct kt_iso_memo **iso)
{
        size_t i;
        enum kt_time r;

        for (i = 0; i < t->n_dt_sources; i++) {
                if (t->dt_hit[i].state == DT_ABSENT)
                        continue;
                if ((r = hit_time(t, &t->dt_hit[i], ms)) == KT_TIME_BAD)
                        return -1;
                if (r == KT_TIME_OK) {
                        *iso = &t->dt_hit[i].rule->memo.iso;
                        return 0;
                }
        }
        if (t->dt_fallback == KT_DT_REJECT)
                return fail(t, "no event time in any of the dt fields");
        *ms = in->ingest_ms;
        *iso = &t->ingest_iso;
        return 0;
}

/* The envelope's entries, in the room start_line() left at the front. */
static void index_envelope(struct kt_transform *t, const struct kt_input *in,
                           const char *meta_dt, const char *event_dt,
                           size_t meta_at, size_t meta_len)
{
        struct kt_member *m = t->index;

        index_set(&m[0], "$schema", 7, KT_J_STRING, t->schema,
                  t->schema_len);
        index_set(&m[1], "meta", 4, KT_J_OBJECT, t->out + meta_at, meta_len);
        m[1].children = 4;
        index_set(&m[2], "stream", 6, KT_J_STRING, t->stream,
                  t->stream_len);
        index_set(&m[3], "id", 2, KT_J_STRING, in->id, KT_UUID_LEN);
        m[3].escaped = 0;
        m[3].known = 1u << KT_FORMAT_UUID;
        index_set(&m[4], "dt", 2, KT_J_STRING, meta_dt, KT_ISO_LEN);
        m[4].escaped = 0;
        m[4].known = 1u << KT_FORMAT_DATE_TIME;
        index_set(&m[5], "domain", 6, KT_J_STRING, t->domain,
                  t->domain_len);
        index_set(&m[6], "dt", 2, KT_J_STRING, event_dt, KT_ISO_LEN);
        m[6].escaped = 0;
        m[6].known = 1u << KT_FORMAT_DATE_TIME;
}

/* The number and the run, after "dt" (kt_transform_set_sequence()). */
static void put_sequence(struct kt_transform *t)
{
        const char *number;

        put(t, t->seq_head, t->seq_head_len);
        number = t->out + t->out_len;
        put(t, t->seq_text, t->seq_text_len);
        put(t, t->seq_tail, t->seq_tail_len);
        if (t->indexing) {
                struct kt_member *m = &t->index[KT_ENV_MEMBERS];

                index_set(&m[0], t->seq_name, t->seq_name_len, KT_J_NUMBER,
                          number, t->seq_text_len);
                m[0].natural = 1;
                index_set(&m[1], t->run_name, t->run_name_len, KT_J_STRING,
                          t->run, t->run_len);
                m[1].escaped = (unsigned char)t->run_escaped;
        }
}

/* In front of the members: the room was left at the start. */
static void put_envelope(struct kt_transform *t, const struct kt_input *in,
                         int64_t dt, struct kt_iso_memo *dt_iso)
{
        size_t end = t->out_len;

        const char *meta_dt, *event_dt;
        size_t meta_at, meta_end;

        t->out_len = 0;
        PUTS(t, ENV_SCHEMA);
        put(t, t->schema, t->schema_len);
        meta_at = t->out_len + ENV_META_OFFSET;
        PUTS(t, ENV_STREAM);
        put(t, t->stream, t->stream_len);
        PUTS(t, ENV_ID);
        put(t, in->id, KT_UUID_LEN);
        PUTS(t, ENV_META_DT);
        meta_dt = put_iso(t, in->ingest_ms, &t->ingest_iso);
        PUTS(t, ENV_DOMAIN);
        put(t, t->domain, t->domain_len);
        meta_end = t->out_len + 2; /* "} */
        PUTS(t, ENV_DT);
        event_dt = put_iso(t, dt, dt_iso);
        PUTS(t, ENV_END);
        if (t->seq_now != 0)
                put_sequence(t);
        t->out_len = end;
        if (t->indexing)
                index_envelope(t, in, meta_dt, event_dt, meta_at,
                               meta_end - meta_at);
}

static int index_constant(struct kt_transform *t, const struct constant *c)
{
        enum kt_jkind kind = kind_of(c->json);

        if (kind == KT_J_STRING)
                return index_add(t, c->name, c->name_len, kind, c->json + 1,
                                 c->json_len - 2);
        return index_add(t, c->name, c->name_len, kind, c->json,
                         c->json_len);
}

static int put_constants(struct kt_transform *t)
{
        size_t i;
        const struct constant *c;

        if (room(t, t->consts_len + 1) == -1)
                return -1;
        for (i = 0; i < t->n_consts; i++) {
                c = &t->consts[i];
                if (claim_name(t, c->name, c->name_len) == -1)
                        return -1;
                put_name(t, c->name, c->name_len);
                put(t, c->json, c->json_len);
                if (index_constant(t, c) == -1)
                        return -1;
        }
        PUTS(t, "}");
        return 0;
}

/*
 * The names of the event: those of the shape the line followed to its
 * end (or that was learnt from it), less the members left out, and the
 * envelope's and the constants', which never change.  The rules that
 * decide which members are written and how they are named are set
 * before the first line.  fuzz_transform checks the claim.
 */
static void names_key(const struct kt_transform *t, struct kt_names_key *k)
{
        k->shape = k->omitted = k->stages = 0;
        /* a line without its number has other names: no key */
        if ((t->seq_field != NULL && t->seq_now == 0) || t->names_open ||
            !(t->following || t->learned) || t->dups.n_keys != t->shape.n)
                return;
        k->shape = t->shape_gen;
        k->omitted = t->omitted;
}

static void set_key(struct kt_transform *t, struct kt_event *ev)
{
        const struct kt_tok *v = &t->role_key;

        ev->key = NULL;
        ev->key_len = 0;
        if (v->type == 0 ||
            (v->type == KT_TOK_PRIMITIVE && t->js[v->start] == 'n'))
                return;
        ev->key = t->js + v->start;
        ev->key_len = (size_t)(v->end - v->start);
}

/* n in seq_text: the numbers come one after the other, so the last
 * is counted on in place (a digit, mostly); any other is written. */
static void seq_digits(struct kt_transform *t, uint64_t n)
{
        char digits[24];
        size_t len = 0, i;

        if (n == t->seq_last + 1 && t->seq_last != 0) {
                for (i = t->seq_text_len; i > 0 && t->seq_text[i - 1] == '9';
                     i--)
                        t->seq_text[i - 1] = '0';
                if (i > 0) {
                        t->seq_text[i - 1]++;
                        t->seq_last = n;
                        return;
                }
        }
        t->seq_last = n;
        do
                digits[len++] = (char)('0' + n % 10);
        while ((n /= 10) != 0);
        for (t->seq_text_len = 0; len > 0; )
                t->seq_text[t->seq_text_len++] = digits[--len];
}

/* The line's number in digits, and the envelope's size with it. */
static size_t start_sequence(struct kt_transform *t, uint64_t n)
{
        t->seq_now = t->seq_field != NULL ? n : 0;
        t->env_members = KT_ENV_MEMBERS;
        if (t->seq_now == 0)
                return t->env_len;
        if (n != t->seq_last)
                seq_digits(t, n);
        t->env_members += 2;
        return t->env_len + t->seq_len + t->seq_text_len;
}

/* Ready for a line: nothing found yet, room left for the envelope. */
static int start_line(struct kt_transform *t, const char *line,
                      const struct kt_input *in)
{
        size_t i, env = start_sequence(t, in->sequence);

        t->js = line;
        t->err[0] = '\0';
        t->rank = RANK_NONE;
        t->role_event_type.type = t->role_purged.type = 0;
        t->role_key.type = t->role_writer.type = 0;
        for (i = 0; i < t->n_captured; i++)
                t->captured[i].type = KT_VALUE_ABSENT;
        for (i = 0; i < t->n_dt_sources; i++)
                t->dt_hit[i].state = DT_ABSENT;
        kt_dups_reset(&t->dups, line);
        t->following = t->shape.n > 0;
        t->learned = 0;
        t->omitted = 0;
        t->names_open = 0;
        kt_names_reset(&t->out_names);
        t->run_start = -1;
        t->out_len = 0;
        t->n_index = 0;
        for (i = 0; t->indexing && i < t->env_members; i++) {
                if (index_room(t) == -1)
                        return -1;
                t->n_index++;
        }
        if (room(t, env) == -1)
                return -1;
        t->out_len = env;
        return 0;
}

enum kt_status kt_transform_line(struct kt_transform *t, const char *line,
                                 size_t len, const struct kt_input *in,
                                 struct kt_event *ev)
{
        const struct kt_json_cb cb = { member, t };
        struct kt_tok root;
        struct kt_iso_memo *dt_iso = NULL;
        int64_t dt = 0;

        memset(ev, 0, sizeof(*ev));
        ev->purged_entries = -1;
        if (start_line(t, line, in) == -1 ||
            kt_json_scan(line, len, &cb, &root, t->err, sizeof(t->err)) == -1)
                return KT_INVALID;
        if (root.type != KT_TOK_OBJECT) {
                fail(t, "not a JSON object");
                return KT_INVALID;
        }
        learn_shape(t);
        if (is_marker(t, ev))
                return KT_SKIP;
        if (check_duplicates_sorted(t) == -1)
                return KT_INVALID;
        if (t->rank < RANK_EVENT_TIME && event_time(t, in, &dt, &dt_iso) == -1)
                t->rank = RANK_EVENT_TIME;
        if (t->rank != RANK_NONE || flush_run(t) == -1 ||
            put_constants(t) == -1)
                return KT_INVALID;
        put_envelope(t, in, dt, dt_iso);
        set_key(t, ev);
        ev->fields = t->captured;
        ev->n_fields = t->n_captured;
        if (t->indexing) {
                ev->index.m = t->index;
                ev->index.n = t->n_index;
                names_key(t, &ev->index.names);
        }
        ev->value = t->out;
        ev->value_len = t->out_len;
        ev->timestamp_ms = dt;
        return KT_EVENT;
}
