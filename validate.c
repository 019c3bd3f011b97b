/*
 * validate.c: the validate stage.  See validate.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonwalk.h"
#include "names.h"
#include "validate.h"

/* A member's name, unescaped. */
struct v_name {
        const char *p;
        size_t      len;
};

/* A string a slot let pass (see seen_hash()). */
#define V_SEEN      16 /* per slot, a power of two */
#define V_SEEN_LEN  46 /* longer strings are not remembered */
#define V_TRIAL     256
#define V_RATIO     8
struct v_seen {
        unsigned char len;  /* its length + 1; 0: empty */
        char          text[V_SEEN_LEN + 1];
};

/* The subschemas one member's value may have to pass (kt_schema_member). */
#define V_MAX_SUBS 4

/*
 * What an object with the names of one seen before needs: pmacct prints
 * the same names line after line (a few sets of them: a zero time is left
 * out), so the names are looked up and judged once per set, not per
 * record.  Each slot remembers the last value that passed: flow records
 * repeat most of their values (the envelope, the protocol, the exporter),
 * and the same bytes pass the same subschemas again.
 */
struct v_shape {
        const struct kt_schema *s;     /* the object schema; NULL: free */
        char                   *text;  /* the names as written, end to end */
        size_t                  text_len, text_cap;
        struct v_slot {
                size_t                  start, len;   /* in text */
                const struct kt_schema *subs[V_MAX_SUBS];
                int                     n_subs;
                uint64_t                lo, hi; /* nat: its range */
                int                     nat;    /* kt_schema_natural_range */
                struct v_seen          *seen;  /* strings that passed */
                unsigned                hits, misses; /* of seen */
                int                     seen_off; /* not worth it */
        } *slot;
        size_t                  n, cap;
        int                     names_ok;   /* the names pass */
        int                     general;    /* only the general path can */
        int                     busy;       /* its object is being checked */
        unsigned long           used;       /* for the choice of a victim */
};

/* Shapes kept: the sets of names of the event and of meta. */
#define V_SHAPES 8

/* Objects nested deeper go to the general path. */
#define V_MAX_DEPTH 8

/* The fast path's verdict: or it leaves the event to the general path. */
enum fast { FAST_VALID, FAST_INVALID, FAST_UNDECIDED, FAST_NOMEM };

/* Members found by a walk, one array per depth. */
struct v_walked {
        struct kt_member *m;
        size_t            n, cap;
};

struct validator {
        struct kt_schema_set   *set;
        const struct kt_schema *root;
        enum v_mode             mode;
        int                     flat;    /* the root's shape is an object's */
        struct v_shape          shapes[V_SHAPES];
        unsigned long           clock;   /* shape uses */
        struct v_walked         walked[V_MAX_DEPTH + 1];
        struct v_shape         *last[V_MAX_DEPTH + 1]; /* used last */
        struct v_name          *names;   /* the names of the shape learnt */
        struct kt_dups          dups;    /* their twin check */
        size_t                  names_cap;
        unsigned char          *seen;    /* kt_schema_member()'s */
        size_t                  seen_cap;
        char                   *scratch; /* an unescaped string */
        size_t                  scratch_cap;
        unsigned long long      general; /* events that took that path */
        struct kt_schema_error  err;     /* the fast path's, unused */
};

static struct validator *validator_new(const char *dir, enum v_mode mode,
                                       char *err, size_t errlen)
{
        struct validator *v = calloc(1, sizeof(*v));

        if (v == NULL || (v->set = kt_schema_set_new(dir)) == NULL) {
                snprintf(err, errlen, "out of memory");
                free(v);
                return NULL;
        }
        v->mode = mode;
        return v;
}

static void validator_ready(struct validator *v)
{
        v->flat = kt_schema_shape(v->root) == KT_SHAPE_OBJECT;
        v->root = kt_schema_deref(v->root);
}

struct validator *validator_open(const char *dir, const char *uri,
                                 enum v_mode mode, char *err, size_t errlen)
{
        struct validator *v = validator_new(dir, mode, err, errlen);

        if (v == NULL)
                return NULL;
        if ((v->root = kt_schema_load(v->set, uri, err, errlen)) == NULL) {
                validator_close(v);
                return NULL;
        }
        validator_ready(v);
        return v;
}

struct validator *validator_open_doc(struct json_object *schema,
                                     enum v_mode mode, char *err,
                                     size_t errlen)
{
        struct validator *v = validator_new(NULL, mode, err, errlen);

        if (v == NULL)
                return NULL;
        v->root = kt_schema_compile(v->set, schema, "", err, errlen);
        if (v->root == NULL) {
                validator_close(v);
                return NULL;
        }
        validator_ready(v);
        return v;
}

static void shape_free(struct v_shape *sh)
{
        size_t i;

        for (i = 0; i < sh->cap; i++)
                free(sh->slot[i].seen);
        free(sh->slot);
        free(sh->text);
}

void validator_close(struct validator *v)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; i < V_SHAPES; i++)
                shape_free(&v->shapes[i]);
        for (i = 0; i <= V_MAX_DEPTH; i++)
                free(v->walked[i].m);
        free(v->names);
        kt_dups_free(&v->dups);
        free(v->seen);
        free(v->scratch);
        kt_schema_set_free(v->set);
        free(v);
}

unsigned long long validator_general_count(const struct validator *v)
{
        return v->general;
}

/* The general path: a json-c document of the event, numbers exact. */
static enum v_verdict check_general(struct validator *v, const char *event,
                                    size_t len, struct kt_schema_error *e)
{
        struct kt_wval w;
        struct json_object *doc;
        int r;

        v->general++;
        kt_walk_document(event, len, &w);
        if (kt_walk_to_json(&w, &doc) == -1)
                return V_NOMEM;
        r = kt_schema_validate(v->root, doc, e);
        json_object_put(doc);
        return r == 0 ? V_VALID : V_INVALID;
}

/* --- the fast path --------------------------------------------------- */

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
        size_t n = *cap ? *cap : 16;
        void *p;

        if (need <= *cap)
                return 0;
        while (n < need)
                n *= 2;
        if ((p = realloc(*(void **)pp, n * size)) == NULL)
                return -1;
        *(void **)pp = p;
        *cap = n;
        return 0;
}

/* The entries of the members of an object, in m[0..n): the next one. */
static inline size_t next_member(const struct kt_member *m, size_t i)
{
        return i + 1 + (m[i].children > 0 ? (size_t)m[i].children : 0);
}

/* Does sh hold the names of m[0..n)? */
static int shape_is(const struct v_shape *sh, const struct kt_member *m,
                    size_t n)
{
        size_t i, k;

        for (i = k = 0; i < n; i = next_member(m, i), k++)
                if (k >= sh->n || sh->slot[k].len != m[i].name_len ||
                    !kt_same_bytes(sh->text + sh->slot[k].start, m[i].name,
                                   m[i].name_len))
                        return 0;
        return k == sh->n;
}

static int shape_add(struct v_shape *sh, size_t k, const struct kt_member *m)
{
        size_t old = sh->cap;

        if (grow(&sh->slot, &sh->cap, k + 1, sizeof(*sh->slot)) == -1 ||
            grow(&sh->text, &sh->text_cap, sh->text_len + m->name_len + 1,
                 1) == -1)
                return -1;
        for (; old < sh->cap; old++)
                sh->slot[old].seen = NULL;
        memcpy(sh->text + sh->text_len, m->name, m->name_len);
        sh->slot[k].start = sh->text_len;
        sh->slot[k].len = m->name_len;
        if (sh->slot[k].seen != NULL) /* another name's strings */
                memset(sh->slot[k].seen, 0, V_SEEN * sizeof(struct v_seen));
        sh->slot[k].hits = sh->slot[k].misses = 0;
        sh->slot[k].seen_off = 0;
        sh->text_len += m->name_len;
        sh->n = k + 1;
        return 0;
}

/*
 * Twin names among sh's (shape_names() put them in v->scratch): only the
 * general path knows which one counts.  names.h's check, the transform's:
 * by hash while there are few, sorted when there are many, never a pair
 * by pair compare (30,000 names took 1.4 s).  1, 0, or -1 out of memory.
 */
static int has_twins(struct validator *v, const struct v_shape *sh)
{
        struct kt_name_at twin;
        size_t i;

        kt_dups_reset(&v->dups, v->scratch);
        for (i = 0; i < sh->n; i++)
                if (kt_dups_push(&v->dups, (int)(v->names[i].p - v->scratch),
                                 (int)v->names[i].len) == -1)
                        return -1;
        for (i = 0; i < sh->n; i++)
                if (kt_dups_check(&v->dups, i,
                                  kt_name_hash(v->names[i].p,
                                               v->names[i].len)))
                        return 1;
        return kt_dups_sorted(&v->dups, &twin);
}

/* The unescaped names of sh, into v->names (v->scratch holds them). */
static int shape_names(struct validator *v, const struct v_shape *sh)
{
        size_t i, off = 0;

        if (grow(&v->names, &v->names_cap, sh->n + 1, sizeof(*v->names)) ==
                    -1 ||
            grow(&v->scratch, &v->scratch_cap, sh->text_len + 1, 1) == -1)
                return -1;
        for (i = 0; i < sh->n; i++) {
                v->names[i].len = kt_json_unescape(sh->text +
                                                   sh->slot[i].start,
                                                   sh->slot[i].len,
                                                   v->scratch + off);
                v->names[i].p = v->scratch + off;
                off += v->names[i].len;
        }
        return 0;
}

/* The names' verdict: kt_schema_member() then kt_schema_object_end(). */
static int shape_judge(struct validator *v, struct v_shape *sh)
{
        struct kt_schema_error e;
        struct v_slot *sl;
        size_t i, n_req = kt_schema_n_required(sh->s);
        int n, ok = 1;

        if (grow(&v->seen, &v->seen_cap, n_req + 1, 1) == -1)
                return -1;
        memset(v->seen, 0, n_req + 1);
        for (i = 0; i < sh->n; i++) {
                sl = &sh->slot[i];
                n = kt_schema_member(sh->s, v->names[i].p, v->names[i].len,
                                     sl->subs, V_MAX_SUBS, v->seen, &e);
                sl->n_subs = n < 0 ? 0 : n;
                sl->nat = n == 1 && kt_schema_natural_range(sl->subs[0],
                                                            &sl->lo, &sl->hi);
                if (n == -1)
                        ok = 0;
                if (n > V_MAX_SUBS)
                        sh->general = 1;
        }
        if (kt_schema_object_end(sh->s, sh->n, v->seen, &e) != 0)
                ok = 0;
        sh->names_ok = ok;
        return 0;
}

/* Learns the names of m[0..n) into sh, for s. */
static int shape_learn(struct validator *v, struct v_shape *sh,
                       const struct kt_schema *s, const struct kt_member *m,
                       size_t n)
{
        size_t i, k;

        sh->s = s;
        sh->n = sh->text_len = 0;
        for (i = k = 0; i < n; i = next_member(m, i), k++)
                if (shape_add(sh, k, &m[i]) == -1)
                        goto nomem;
        if (shape_names(v, sh) == -1 ||
            (sh->general = has_twins(v, sh)) == -1)
                goto nomem;
        if (shape_judge(v, sh) == -1)
                goto nomem;
        return 0;
nomem:
        sh->s = NULL;
        sh->n = 0;
        return -1;
}

/*
 * The shape of s with the names of m[0..n), learnt if need be; NULL when
 * out of memory or every shape is busy (objects nested deeper than there
 * are shapes).
 */
static struct v_shape *shape_for(struct validator *v,
                                 const struct kt_schema *s,
                                 const struct kt_member *m, size_t n)
{
        struct v_shape *victim = NULL, *sh;
        size_t i;

        v->clock++;
        for (i = 0; i < V_SHAPES; i++) {
                sh = &v->shapes[i];
                if (sh->busy)
                        continue;
                if (sh->s == s && shape_is(sh, m, n)) {
                        sh->used = v->clock;
                        return sh;
                }
                if (victim == NULL || sh->used < victim->used)
                        victim = sh;
        }
        if (victim == NULL || shape_learn(v, victim, s, m, n) == -1)
                return NULL;
        victim->used = v->clock;
        return victim;
}

/* m's content, unescaped if it needs to be (into v->scratch). */
static int unescaped(struct validator *v, const struct kt_member *m,
                     const char **p, size_t *len)
{
        *p = m->value;
        *len = m->value_len;
        if (m->escaped == 0 || (m->escaped == KT_ESCAPES_UNKNOWN &&
                                memchr(m->value, '\\', m->value_len) == NULL))
                return 0;
        if (grow(&v->scratch, &v->scratch_cap, m->value_len + 1, 1) == -1)
                return -1;
        *len = kt_json_unescape(m->value, m->value_len, v->scratch);
        *p = v->scratch;
        return 0;
}

/*
 * The strings a slot let pass lately, by a hash of their bytes: the same
 * bytes pass the same subschemas again.  Flow records hold few distinct
 * strings in most members (the exporter, the protocol, the label, the
 * envelope's), and a string's formats cost 10 to 50 ns to check (an
 * address against anyOf ipv4/ipv6: 45 ns), a lookup here a few.  Numbers
 * are not remembered: their range check is as cheap as a lookup.  A slot
 * whose strings rarely repeat (meta.id) stops looking after V_TRIAL
 * strings.
 */
static inline unsigned seen_hash(const char *p, size_t len)
{
        unsigned h = (unsigned)len * 31u;

        if (len > 0)
                h += (unsigned char)p[0] * 7u + (unsigned char)p[len - 1] *
                     13u + (unsigned char)p[len / 2] * 3u +
                     (unsigned char)p[len / 3];
        return (h ^ h >> 4) & (V_SEEN - 1);
}

/* The entry value m would take; NULL when the slot does not remember. */
static inline struct v_seen *seen_entry(struct v_slot *sl,
                                        const struct kt_member *m)
{
        if (sl->seen_off || m->value_len > V_SEEN_LEN)
                return NULL;
        if (sl->seen == NULL &&
            (sl->seen = calloc(V_SEEN, sizeof(*sl->seen))) == NULL) {
                sl->seen_off = 1; /* only a shortcut */
                return NULL;
        }
        return &sl->seen[seen_hash(m->value, m->value_len)];
}

static inline int seen_hit(struct v_slot *sl, const struct v_seen *e,
                           const struct kt_member *m)
{
        if (e->len == m->value_len + 1 &&
            kt_same_bytes(e->text, m->value, m->value_len)) {
                sl->hits++;
                return 1;
        }
        if (++sl->misses > V_TRIAL && sl->hits * V_RATIO < sl->misses)
                sl->seen_off = 1;
        return 0;
}

static inline void seen_keep(struct v_seen *e, const struct kt_member *m)
{
        memcpy(e->text, m->value, m->value_len);
        e->len = (unsigned char)(m->value_len + 1);
}

/* A scalar value against the subschemas of its slot.  Inline, and its
 * error in *v: a frame with an array costs a stack protector. */
/*
 * Plain digits, at most 19 of them (20 may pass 2^64): *n.  The value is
 * a JSON number already, so anything else (a sign, a fraction, an
 * exponent) says only "not here".
 */
static inline int plain_natural(const char *p, size_t len, uint64_t *n)
{
        uint64_t x = 0;
        size_t i;

        if (len == 0 || len > 19)
                return 0;
        for (i = 0; i < len; i++) {
                unsigned d = (unsigned char)p[i] - '0';

                if (d > 9)
                        return 0;
                x = x * 10 + d;
        }
        *n = x;
        return 1;
}

static inline enum fast fast_scalar(struct validator *v, struct v_slot *sl,
                                    const struct kt_member *m)
{
        struct kt_scalar sc;
        struct v_seen *seen = NULL;
        uint64_t n;
        int i;

        /* a port, a counter: checked here, about 20 instructions less */
        if (sl->nat && m->kind == KT_J_NUMBER &&
            plain_natural(m->value, m->value_len, &n) && n >= sl->lo &&
            n <= sl->hi)
                return FAST_VALID;

        if (m->kind == KT_J_STRING && (seen = seen_entry(sl, m)) != NULL &&
            seen_hit(sl, seen, m))
                return FAST_VALID;
        sc.kind = (enum kt_jkind)m->kind;
        sc.known = m->known;
        sc.text = m->value;
        sc.len = m->value_len;
        sc.boolean = m->kind == KT_J_BOOLEAN && *m->value == 't';
        if (m->kind == KT_J_STRING && m->escaped != 0 &&
            unescaped(v, m, &sc.text, &sc.len) == -1)
                return FAST_NOMEM;
        for (i = 0; i < sl->n_subs; i++)
                if (kt_schema_validate_scalar(sl->subs[i], &sc, "",
                                              &v->err) != 0)
                        return FAST_INVALID;
        if (seen != NULL)
                seen_keep(seen, m);
        return FAST_VALID;
}

static enum fast fast_object(struct validator *v, const struct kt_schema *s,
                             const struct kt_member *m, size_t n, int depth);

/* The members of the object value m, walked into v->walked[depth]. */
static int walk_members(struct validator *v, const struct kt_wval *obj,
                        int depth)
{
        struct v_walked *wd = &v->walked[depth];
        struct kt_walk w;
        struct kt_wval name, value;
        struct kt_member *e;

        wd->n = 0;
        kt_walk_begin(&w, obj);
        while (kt_walk_next_member(&w, &name, &value)) {
                if (grow(&wd->m, &wd->cap, wd->n + 1, sizeof(*wd->m)) == -1)
                        return -1;
                e = &wd->m[wd->n++];
                e->name = name.p;
                e->name_len = (uint32_t)name.len;
                e->value = value.p;
                e->value_len = (uint32_t)value.len;
                e->kind = (unsigned char)value.kind;
                e->escaped = (unsigned char)value.escaped;
                e->known = 0;
                e->children = -1;
        }
        return 0;
}

/* An object value against one subschema. */
static enum fast fast_nested(struct validator *v, const struct kt_schema *s,
                             const struct kt_member *m, int depth)
{
        struct kt_wval obj = { KT_J_OBJECT, m->value, m->value_len, 0 };

        switch (kt_schema_shape(s)) {
        case KT_SHAPE_ANY:
                return FAST_VALID;
        case KT_SHAPE_NONE:
                return FAST_INVALID;
        case KT_SHAPE_OBJECT:
                if (depth >= V_MAX_DEPTH)
                        break;
                s = kt_schema_deref(s);
                if (m->children >= 0)
                        return fast_object(v, s, m + 1, (size_t)m->children,
                                           depth + 1);
                if (walk_members(v, &obj, depth + 1) == -1)
                        return FAST_NOMEM;
                return fast_object(v, s, v->walked[depth + 1].m,
                                   v->walked[depth + 1].n, depth + 1);
        case KT_SHAPE_OTHER:
                break;
        }
        return FAST_UNDECIDED;
}

/* A member's value against the subschemas of its slot. */
static inline enum fast fast_value(struct validator *v, struct v_slot *sl,
                                   const struct kt_member *m, int depth)
{
        enum fast r = FAST_VALID;
        int i;

        if (m->kind == KT_J_ARRAY)
                return sl->n_subs == 0 ? FAST_VALID : FAST_UNDECIDED;
        if (m->kind != KT_J_OBJECT)
                return fast_scalar(v, sl, m);
        for (i = 0; i < sl->n_subs && r == FAST_VALID; i++)
                r = fast_nested(v, sl->subs[i], m, depth);
        return r;
}

/* Is member m named as slot k of sh? */
static inline int slot_is(const struct v_shape *sh, size_t k,
                          const struct kt_member *m)
{
        return k < sh->n && sh->slot[k].len == m->name_len &&
               kt_same_bytes(sh->text + sh->slot[k].start, m->name,
                             m->name_len);
}

/*
 * The shape of m[0..n) when it is not *cur (found among the kept ones,
 * or learnt), as the current shape of its depth.  The names before the
 * one that differed are the same in both: what was checked against them
 * stands.  NULL when there is none to be had.
 */
static struct v_shape *shape_switch(struct validator *v, struct v_shape *cur,
                                    const struct kt_schema *s,
                                    const struct kt_member *m, size_t n,
                                    int depth)
{
        struct v_shape *sh;

        cur->busy = 0;
        if ((sh = shape_for(v, s, m, n)) == NULL)
                return NULL;
        sh->busy = 1;
        v->last[depth] = sh;
        return sh;
}

/* The members' names and values against sh, switching shape if the
 * names are another set. */
static enum fast fast_members(struct validator *v, struct v_shape *sh,
                              const struct kt_schema *s,
                              const struct kt_member *m, size_t n, int depth)
{
        enum fast r;
        size_t i, k;

        for (i = k = 0; i < n; i = next_member(m, i), k++) {
                if (!slot_is(sh, k, &m[i]) &&
                    (sh = shape_switch(v, sh, s, m, n, depth)) == NULL)
                        return FAST_UNDECIDED;
                if (sh->general)
                        break;
                if ((r = fast_value(v, &sh->slot[k], &m[i], depth)) !=
                    FAST_VALID) {
                        sh->busy = 0;
                        return r;
                }
        }
        if (!sh->general && k != sh->n &&
            (sh = shape_switch(v, sh, s, m, n, depth)) == NULL)
                return FAST_UNDECIDED;
        sh->busy = 0;
        if (sh->general)
                return FAST_UNDECIDED;
        return sh->names_ok ? FAST_VALID : FAST_INVALID;
}

/* An object, its members m[0..n), against s of KT_SHAPE_OBJECT: the
 * shape of the object before at this depth first, as pmacct repeats its
 * names record after record. */
static enum fast fast_object(struct validator *v, const struct kt_schema *s,
                             const struct kt_member *m, size_t n, int depth)
{
        struct v_shape *sh = v->last[depth];

        if (sh == NULL || sh->s != s || sh->busy) {
                if ((sh = shape_for(v, s, m, n)) == NULL)
                        return FAST_UNDECIDED;
                v->last[depth] = sh;
        }
        sh->used = ++v->clock;
        sh->busy = 1;
        return fast_members(v, sh, s, m, n, depth);
}

/* The fast path's verdict on a whole event. */
static enum fast fast_event(struct validator *v, const char *event,
                            size_t len, const struct kt_member *index,
                            size_t n_index)
{
        struct kt_wval top;

        if (index != NULL)
                return fast_object(v, v->root, index, n_index, 0);
        kt_walk_document(event, len, &top);
        if (top.kind != KT_J_OBJECT)
                return FAST_UNDECIDED;
        if (walk_members(v, &top, 0) == -1)
                return FAST_NOMEM;
        return fast_object(v, v->root, v->walked[0].m, v->walked[0].n, 0);
}

enum v_verdict validator_check(struct validator *v, const char *event,
                               size_t len, const struct kt_member *index,
                               size_t n_index, struct kt_schema_error *e)
{
        if (v->mode == V_MODE_FAST && v->flat) {
                switch (fast_event(v, event, len, index, n_index)) {
                case FAST_VALID:
                        return V_VALID;
                case FAST_NOMEM:
                        return V_NOMEM;
                case FAST_INVALID: /* its message: the general path */
                case FAST_UNDECIDED:
                        break;
                }
        }
        return check_general(v, event, len, e);
}
