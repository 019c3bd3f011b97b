/*
 * evedit.h: the changes the stages after the transform make to an event
 * (enrich adds members, anonymize replaces or drops values), written in
 * one pass with the event's index and names key kept true, so that the
 * validator and the output see the published event only.  Pure: no I/O,
 * no globals.
 *
 * The stages collect their changes in one struct ev_edits against the
 * event the transform wrote (each reads the real values), then
 * ev_apply() writes the event once.
 */
#ifndef KT_EVEDIT_H
#define KT_EVEDIT_H

#include <stddef.h>
#include <stdint.h>

#include "netcidr.h"
#include "transform.h"

enum ev_op {
        EV_SET,  /* the member's value becomes another */
        EV_DROP, /* the member is left out, with its children */
};

/* A change to one top-level member, named by its index entry. */
struct ev_change {
        size_t        entry;
        enum ev_op    op;
        enum kt_jkind kind;  /* EV_SET: the new value's kind, a scalar */
        const char   *value; /* EV_SET: as kt_member's: a string's inside, */
        size_t        len;   /* without quotes, escaped as JSON */
};

/* A member added at the end of the event. */
struct ev_add {
        const char   *name;  /* needs no JSON escape */
        size_t        name_len;
        enum kt_jkind kind;  /* a scalar */
        const char   *value; /* as ev_change's */
        size_t        len;
};

/* Room for the changes of one event; stages add to it in stage order. */
#define EV_EDITS_MAX 32

/*
 * A value a stage read as an address, for the stages after it (enrich
 * reads ip_src, anonymize truncates it): its text in the transform's
 * event, and the address.  A parse costs 150 to 600 instructions
 * (callgrind); a look here, a few compares.
 */
#define EV_ADDRS_MAX 8

struct ev_addr {
        const char    *value;
        size_t         len;
        struct ip_addr a;
};

struct ev_edits {
        struct ev_change change[EV_EDITS_MAX]; /* entries ascending */
        size_t           n_change;
        struct ev_add    add[EV_EDITS_MAX];
        size_t           n_add;
        /*
         * Which names the stages changed (a bit for each member a stage
         * may add or drop, as the stages number them): two events with
         * the same transform key and the same bits have the same names.
         */
        uint64_t         names;
        struct ev_addr   addr[EV_ADDRS_MAX];
        size_t           n_addr;
};

/* The buffers ev_apply() writes into, reused from event to event. */
struct ev_editor {
        char             *buf;
        size_t            cap;
        struct kt_member *m;
        size_t            mcap;
};

static inline void ev_edits_reset(struct ev_edits *e)
{
        e->n_change = e->n_add = e->n_addr = 0;
        e->names = 0;
}

/* Keeps a, the address value[0..len) is, for the stages after (not
 * when EV_ADDRS_MAX are kept). */
static inline void ev_addr_put(struct ev_edits *e, const char *value,
                               size_t len, const struct ip_addr *a)
{
        struct ev_addr *d;

        if (e->n_addr == EV_ADDRS_MAX)
                return;
        d = &e->addr[e->n_addr++];
        d->value = value;
        d->len = len;
        d->a = *a;
}

/* The address a stage found value[0..len) to be, or NULL. */
static inline const struct ip_addr *ev_addr_get(const struct ev_edits *e,
                                                const char *value, size_t len)
{
        size_t i;

        for (i = 0; i < e->n_addr; i++)
                if (e->addr[i].value == value && e->addr[i].len == len)
                        return &e->addr[i].a;
        return NULL;
}

/*
 * Records a change or an addition: 0, or -1 when the edits are full
 * (EV_EDITS_MAX) or a change is not after the last one.
 */
int ev_set(struct ev_edits *e, size_t entry, enum kt_jkind kind,
           const char *value, size_t len);
int ev_drop(struct ev_edits *e, size_t entry);
int ev_add(struct ev_edits *e, const char *name, size_t name_len,
           enum kt_jkind kind, const char *value, size_t len);

/*
 * Writes ev (which has its index) again with e, into ed, and points ev's
 * value and index at the new text: 0, or -1 out of memory (ev is then
 * unchanged).  Nothing to change: ev is left as it is.  The names key
 * keeps the transform's and takes e->names as its stages' part; no key
 * stays no key.
 */
int ev_apply(struct ev_editor *ed, struct kt_event *ev,
             const struct ev_edits *e);
void ev_editor_free(struct ev_editor *ed);

#endif /* KT_EVEDIT_H */
