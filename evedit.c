/*
 * evedit.c: an event written again with its stages' changes, its index
 * following the bytes: see evedit.h.
 *
 * The text is copied in spans between the changes; each index entry that
 * is kept points into a span and moves with it, a value that is set or a
 * member that is added points at what was written.
 */
#include <stdlib.h>
#include <string.h>

#include "evedit.h"
#include "grow.h"
#include "jsonwalk.h"

/* The event being written: its text, and its index. */
struct out {
        char             *p;
        size_t            n;
        struct kt_member *m;
        size_t            nm;
};

int ev_set(struct ev_edits *e, size_t entry, enum kt_jkind kind,
           const char *value, size_t len)
{
        struct ev_change *c;

        if (e->n_change == EV_EDITS_MAX || (e->n_change > 0 &&
            e->change[e->n_change - 1].entry >= entry))
                return -1;
        c = &e->change[e->n_change++];
        c->entry = entry;
        c->op = EV_SET;
        c->kind = kind;
        c->value = value;
        c->len = len;
        return 0;
}

int ev_drop(struct ev_edits *e, size_t entry)
{
        if (ev_set(e, entry, KT_J_NULL, NULL, 0) == -1)
                return -1;
        e->change[e->n_change - 1].op = EV_DROP;
        return 0;
}

int ev_add(struct ev_edits *e, const char *name, size_t name_len,
           enum kt_jkind kind, const char *value, size_t len)
{
        struct ev_add *a;

        if (e->n_add == EV_EDITS_MAX)
                return -1;
        a = &e->add[e->n_add++];
        a->name = name;
        a->name_len = name_len;
        a->kind = kind;
        a->value = value;
        a->len = len;
        return 0;
}

/* A member in the text, as a walk finds it. */
struct member {
        struct kt_wval name, value;
};

/* Where the member's text starts (its name's quote), where its value
 * starts and ends, quotes included. */
static const char *member_start(const struct member *m)
{
        return m->name.p - 1;
}

static const char *value_start(const struct member *m)
{
        return m->value.p - (m->value.kind == KT_J_STRING);
}

static const char *value_end(const struct member *m)
{
        return m->value.p + m->value.len + (m->value.kind == KT_J_STRING);
}

/* The top-level entry after entry i. */
static size_t next_top(const struct kt_member *ix, size_t i)
{
        return i + 1 + (ix[i].children > 0 ? (size_t)ix[i].children : 0);
}

static void put(struct out *o, const char *s, size_t n)
{
        memcpy(o->p + o->n, s, n);
        o->n += n;
}

/* A value as JSON text, a string with its quotes; its index entry. */
static void put_value(struct out *o, struct kt_member *d, enum kt_jkind k,
                      const char *v, size_t n)
{
        if (k == KT_J_STRING)
                put(o, "\"", 1);
        d->value = o->p + o->n;
        d->value_len = (uint32_t)n;
        put(o, v, n);
        if (k == KT_J_STRING)
                put(o, "\"", 1);
        d->kind = (unsigned char)k;
        d->escaped = KT_ESCAPES_UNKNOWN;
        d->known = d->natural = 0;
        d->children = 0;
}

/* The separator before a member: none after the opening brace. */
static void separate(struct out *o)
{
        if (o->n > 1)
                put(o, ", ", 2);
}

/*
 * Member m, entries i..end, as it was.  The entries keep their pointers:
 * an index points at bytes equal to the event's (often those of the
 * line they were copied from), which stay until the next line.
 */
static void keep(struct out *o, const struct member *m,
                 const struct kt_member *ix, size_t i, size_t end)
{
        separate(o);
        put(o, member_start(m), (size_t)(value_end(m) - member_start(m)));
        memcpy(&o->m[o->nm], &ix[i], (end - i) * sizeof(*ix));
        o->nm += end - i;
}

/* Member m, entry ix, with the value of ch. */
static void set(struct out *o, const struct member *m,
                const struct kt_member *ix, const struct ev_change *ch)
{
        struct kt_member *d = &o->m[o->nm++];

        separate(o);
        put(o, member_start(m), (size_t)(value_start(m) - member_start(m)));
        *d = *ix;
        put_value(o, d, ch->kind, ch->value, ch->len);
}

static void add(struct out *o, const struct ev_add *a)
{
        struct kt_member *d = &o->m[o->nm++];

        separate(o);
        put(o, "\"", 1);
        d->name = o->p + o->n;
        d->name_len = (uint32_t)a->name_len;
        put(o, a->name, a->name_len);
        put(o, "\": ", 3);
        put_value(o, d, a->kind, a->value, a->len);
}

static int is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Entries i..n, after the last change, as they were: their text copied
 * in one piece from where the walk stands, without walking it (an
 * event with additions only is not walked at all), their entries as
 * keep() copies them.
 */
static void keep_rest(struct out *o, const struct kt_walk *w,
                      const struct kt_member *ix, size_t i, size_t n)
{
        const char *s = w->p, *end = w->end;

        while (s < end && (is_space(*s) || *s == ','))
                s++;
        while (end > s && is_space(end[-1]))
                end--;
        separate(o);
        put(o, s, (size_t)(end - s));
        memcpy(&o->m[o->nm], &ix[i], (n - i) * sizeof(*ix));
        o->nm += n - i;
}

/*
 * The event with e's changes into o: 0, or -1 when the text and the
 * index do not agree on the members or a change names no top-level
 * entry.  The walk finds each member in the text; the index says which
 * it is (a top-level entry for each, in order).
 */
static int write_event(struct out *o, const struct kt_event *ev,
                       const struct ev_edits *e)
{
        const struct kt_index *ix = &ev->index;
        const struct ev_change *ch;
        struct kt_wval doc;
        struct kt_walk w;
        struct member m;
        size_t i, end, c = 0;

        kt_walk_document(ev->value, ev->value_len, &doc);
        kt_walk_begin(&w, &doc);
        put(o, "{", 1);
        for (i = 0; i < ix->n; i = end) {
                if (c == e->n_change) {
                        keep_rest(o, &w, ix->m, i, ix->n);
                        w.p = w.end;
                        break;
                }
                if (!kt_walk_next_member(&w, &m.name, &m.value))
                        return -1;
                end = next_top(ix->m, i);
                ch = c < e->n_change && e->change[c].entry == i ?
                     &e->change[c++] : NULL;
                if (ch == NULL)
                        keep(o, &m, ix->m, i, end);
                else if (ch->op == EV_SET && end != i + 1)
                        return -1; /* its children would stay */
                else if (ch->op == EV_SET)
                        set(o, &m, &ix->m[i], ch);
        }
        if (c != e->n_change || kt_walk_next_member(&w, &m.name, &m.value))
                return -1;
        for (i = 0; i < e->n_add; i++)
                add(o, &e->add[i]);
        put(o, "}", 1);
        return 0;
}

/*
 * The fast way, without a walk: the transform writes the top level in one
 * form ("name": value, ", " between), and each entry's name and value
 * are the text's bytes, so a member's place is the sum of the lengths
 * before it.  The place of each change and the end are checked; an event
 * in another form is walked (write_event).  ev_apply cost 6,530
 * instructions an event walking up to the last change, 2,180 this way
 * (callgrind, 50,000 bench-gen records, netflow-private.conf).
 */

/* The length of top-level entry m's text, "name": value. */
static size_t member_len(const struct kt_member *m)
{
        return (size_t)m->name_len + 4 + m->value_len +
               (m->kind == KT_J_STRING ? 2 : 0);
}

/* Whether entry m's text is at t[at..) of the event t[0..n). */
static int is_at(const char *t, size_t n, size_t at, const struct kt_member *m)
{
        const char *v = t + at + m->name_len + 4;

        return at + member_len(m) < n && t[at] == '"' &&
               memcmp(t + at + 1, m->name, m->name_len) == 0 &&
               memcmp(v - 3, "\": ", 3) == 0 &&
               (at == 1 || memcmp(t + at - 2, ", ", 2) == 0) &&
               (m->kind != KT_J_STRING ||
                (v[0] == '"' && v[m->value_len + 1] == '"'));
}

/* The members kept, t[from..to) with their ", ", and entries i..end. */
static void keep_span(struct out *o, const char *t, size_t from, size_t to,
                      const struct kt_member *ix, size_t i, size_t end)
{
        if (end == i)
                return;
        separate(o);
        put(o, t + from, to - from);
        memcpy(&o->m[o->nm], &ix[i], (end - i) * sizeof(*ix));
        o->nm += end - i;
}

/* Entry ix at t[at..), with the value of ch. */
static void set_at(struct out *o, const char *t, size_t at,
                   const struct kt_member *ix, const struct ev_change *ch)
{
        struct kt_member *d = &o->m[o->nm++];

        separate(o);
        put(o, t + at, ix->name_len + 4);
        *d = *ix;
        put_value(o, d, ch->kind, ch->value, ch->len);
}

/*
 * Whether the members after the last change are t[from..n - 1), with
 * nothing around them: after its ", " (from 1: no change), up to the
 * closing brace; none: the brace follows the change.
 */
static int rest_ok(const char *t, size_t n, size_t from, int none)
{
        if (n < 2 || t[n - 1] != '}')
                return 0;
        if (none)
                return from == n + 1;
        if (from > n - 1 || is_space(t[n - 2]))
                return 0;
        return from == 1 ? t[1] == '"' : memcmp(t + from - 2, ", ", 2) == 0;
}

/* The event with e's changes into o, by the lengths: 0, or -1 when its
 * text is not in the transform's form, or a change cannot be. */
static int write_fast(struct out *o, const struct kt_event *ev,
                      const struct ev_edits *e)
{
        const struct kt_member *ix = ev->index.m;
        const char *t = ev->value;
        size_t i, end, at = 1, from = 1, first = 0, c = 0;
        const struct ev_change *ch;

        put(o, "{", 1);
        for (i = 0; i < ev->index.n && c < e->n_change;
             at += member_len(&ix[i]) + 2, i = end) {
                end = next_top(ix, i);
                if (e->change[c].entry != i)
                        continue;
                ch = &e->change[c++];
                if (!is_at(t, ev->value_len, at, &ix[i]) ||
                    (ch->op == EV_SET && end != i + 1))
                        return -1;
                keep_span(o, t, from, at - 2, ix, first, i);
                if (ch->op == EV_SET)
                        set_at(o, t, at, &ix[i], ch);
                from = at + member_len(&ix[i]) + 2;
                first = end;
        }
        if (c != e->n_change || !rest_ok(t, ev->value_len, from,
                                         first == ev->index.n))
                return -1;
        keep_span(o, t, from, ev->value_len - 1, ix, first, ev->index.n);
        for (i = 0; i < e->n_add; i++)
                add(o, &e->add[i]);
        put(o, "}", 1);
        return 0;
}

static size_t room_for(const struct kt_event *ev, const struct ev_edits *e)
{
        size_t n = ev->value_len + 2, i;

        for (i = 0; i < e->n_change; i++)
                n += e->change[i].len + 2;
        for (i = 0; i < e->n_add; i++)
                n += e->add[i].name_len + e->add[i].len + 8;
        return n;
}

int ev_apply(struct ev_editor *ed, struct kt_event *ev,
             const struct ev_edits *e)
{
        struct out o = { NULL, 0, NULL, 0 };

        if (e->n_change == 0 && e->n_add == 0)
                return 0;
        if (ev->index.m == NULL ||
            kt_grow(&ed->buf, &ed->cap, room_for(ev, e), 1) == -1 ||
            kt_grow(&ed->m, &ed->mcap, ev->index.n + e->n_add,
                    sizeof(*ed->m)) == -1)
                return -1;
        o.p = ed->buf;
        o.m = ed->m;
        if (write_fast(&o, ev, e) == -1) {
                o.n = o.nm = 0;
                if (write_event(&o, ev, e) == -1)
                        return -1;
        }
        ev->value = o.p;
        ev->value_len = o.n;
        ev->index.m = o.m;
        ev->index.n = o.nm;
        if (ev->index.names.shape != 0)
                ev->index.names.stages = e->names;
        return 0;
}

void ev_editor_free(struct ev_editor *ed)
{
        free(ed->buf);
        free(ed->m);
        memset(ed, 0, sizeof(*ed));
}
