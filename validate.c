/*
 * validate.c: the validate stage.  See validate.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "formats.h"
#include "grow.h"
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
#define V_SEEN_NUMBER 128 /* over V_SEEN_LEN + 1 */
struct v_seen {
        unsigned char len;  /* its length + 1, + V_SEEN_NUMBER for a
                             * number; 0: empty */
        char          text[V_SEEN_LEN + 1];
};

/* The subschemas one member's value may have to pass (kt_schema_member). */
#define V_MAX_SUBS 4

/* How one entry of an event's index is checked. */
enum v_step {
        STEP_ANY,    /* every value passes: no schema, or one of "true" */
        STEP_OBJECT, /* an object whose members follow it: their own
                      * steps check them, its names were judged with
                      * the shape's */
        STEP_VALUE   /* the slot's rules, else its subschemas one by one */
};

/* One entry of a shape: a member's name, and what its value must pass. */
struct v_slot {
        size_t                  start, len;  /* its name, in the text */
        int                     children;    /* as the index's */
        int                     object;      /* it was an object */
        enum kt_jkind           kind;        /* the value it was learnt
                                              * from */
        enum v_step             step;
        struct kt_string_rule   str;         /* kt_schema_rules() */
        struct kt_natural_rule  nat;
        const struct kt_schema *subs[V_MAX_SUBS];
        int                     n_subs;
        struct v_seen          *seen;        /* strings that passed */
        unsigned                hits, misses; /* of seen */
        int                     seen_off;    /* not worth it */
        struct v_seen           last;        /* the string whose formats
                                              * passed last */
};

/*
 * A slot whose values are checked, and its entry in the index, with the
 * test that passes its usual value in line: the kind of value the shape
 * was learnt from, a port or a name.  What that test does not pass goes
 * to value_check().
 */
enum v_op {
        OP_NATURAL, /* a natural number in plain digits within lo..hi */
        OP_STRING,  /* a string of lo..hi bytes, in its formats for
                     * certain (the transform wrote it so: m->known) */
        OP_SLOT     /* value_check() */
};

struct v_check {
        enum v_op      op;
        unsigned       all, any;  /* OP_STRING: the rule's formats */
        uint64_t       lo, hi;
        size_t         free;      /* OP_NATURAL: naturals of fewer
                                   * digits are in lo..hi */
        size_t         at;
        struct v_slot *slot;
};

/*
 * A set of names an event may have, at every depth, in the index's
 * order: judged once, then each event with those names only has its
 * values checked, each by the step compiled for its entry.  pmacct
 * prints the same names line after line (a few sets of them: a zero time
 * is left out), and the transform numbers each set (struct
 * kt_names_key): a shape is found by that key without comparing a name.
 * A walked event, or an unkeyed one, is matched by its names.
 */
struct v_shape {
        struct kt_names_key key;     /* the last that named it; shape 0 */
        char               *text;    /* the names as written, end to end */
        size_t              text_len, text_cap;
        struct v_slot      *slot;    /* one per index entry */
        size_t              n, cap;
        struct v_check     *check;   /* the slots of STEP_VALUE, in order:
                                      * the others pass as they are */
        size_t              n_checks, checks_cap;
        int                 learnt;
        int                 fast;    /* the names pass and each value's
                                      * step decides: else the general
                                      * path judges its events */
        unsigned long       used;    /* for the choice of a victim */
        uint64_t            hash;    /* of the names: names_hash() */
        unsigned            epoch;   /* learnt anew: the keys that named
                                      * it before are stale */
};

/*
 * Shapes kept: the sets of names seen last.  The private config's
 * events come in 30 sets (enrich adds a country or an AS or not, times
 * are left out or not): 8 shapes were learnt again for 11% of 50,000
 * bench-gen events (judge_object 2,600 Ir an event).
 */
#define V_SHAPES 64

/* The keys that named a shape lately, direct-mapped by a hash of the
 * key: a key the transform gives again finds its shape at once. */
#define V_KEYS 256
struct v_keyed {
        struct kt_names_key key;
        struct v_shape     *sh;     /* NULL: empty */
        unsigned            epoch;  /* sh's when it was filled */
};

/* Objects nested deeper are not indexed: their values' steps leave
 * them to the general path. */
#define V_MAX_DEPTH 8

/* The fast path's verdict: or it leaves the event to the general path. */
enum fast { FAST_VALID, FAST_INVALID, FAST_UNDECIDED, FAST_NOMEM };

struct validator {
        struct kt_schema_set   *set;
        const struct kt_schema *root;
        enum v_mode             mode;
        int                     flat;    /* the root's shape is an object's */
        struct v_shape          shapes[V_SHAPES];
        struct v_keyed          keyed[V_KEYS];
        struct v_shape         *last;    /* the shape used last */
        unsigned long           clock;   /* shape uses */
        unsigned long long      learnt;  /* shapes learnt */
        struct kt_member       *walked;  /* an event's members, walked */
        size_t                  n_walked, walked_cap;
        struct v_name          *names;   /* an object's, being judged */
        struct kt_dups          dups;    /* their twin check */
        size_t                  names_cap;
        unsigned char          *seen;    /* kt_schema_member()'s */
        size_t                  seen_cap;
        char                   *scratch; /* unescaped names, or a string */
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
        free(sh->check);
        free(sh->text);
}

void validator_close(struct validator *v)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; i < V_SHAPES; i++)
                shape_free(&v->shapes[i]);
        free(v->walked);
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

unsigned long long validator_learnt_count(const struct validator *v)
{
        return v->learnt;
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

/* The slot after slot i and its members'. */
static inline size_t next_slot(const struct v_shape *sh, size_t i)
{
        return i + 1 + (sh->slot[i].children > 0 ?
                        (size_t)sh->slot[i].children : 0);
}

/* --- walking an event that has no index ------------------------------ */

/* The members of obj, and theirs, appended to v->walked. */
static int walk_object(struct validator *v, const struct kt_wval *obj,
                       int depth)
{
        struct kt_walk w;
        struct kt_wval name, value;
        struct kt_member *e;
        size_t at;

        kt_walk_begin(&w, obj);
        while (kt_walk_next_member(&w, &name, &value)) {
                if (kt_grow(&v->walked, &v->walked_cap, v->n_walked + 1,
                         sizeof(*v->walked)) == -1)
                        return -1;
                at = v->n_walked++;
                e = &v->walked[at];
                e->name = name.p;
                e->name_len = (uint32_t)name.len;
                e->value = value.p;
                e->value_len = (uint32_t)value.len;
                e->kind = (unsigned char)value.kind;
                e->escaped = (unsigned char)value.escaped;
                e->known = 0;
                e->natural = 0;
                e->children = 0;
                if (value.kind != KT_J_OBJECT)
                        continue;
                e->children = -1; /* its members are not indexed */
                if (depth >= V_MAX_DEPTH)
                        continue;
                if (walk_object(v, &value, depth + 1) == -1)
                        return -1;
                if (v->n_walked - at - 1 > INT16_MAX) {
                        v->n_walked = at + 1; /* too many to index */
                        continue;
                }
                v->walked[at].children = (int16_t)(v->n_walked - at - 1);
        }
        return 0;
}

/* The event's members, at every depth, into v->walked.  1 when it is
 * not an object. */
static int walk_event(struct validator *v, const char *event, size_t len)
{
        struct kt_wval top;

        v->n_walked = 0;
        kt_walk_document(event, len, &top);
        if (top.kind != KT_J_OBJECT)
                return 1;
        return walk_object(v, &top, 1);
}

/* Does the index leave out the members of an object value? */
static int index_open(const struct kt_index *ix)
{
        size_t i;

        if (ix->names.shape != 0)
                return 0; /* the transform's key says it does not */
        for (i = 0; i < ix->n; i++)
                if (ix->m[i].kind == KT_J_OBJECT && ix->m[i].children < 0)
                        return 1;
        return 0;
}

/* --- learning a shape ------------------------------------------------ */

static int shape_add(struct v_shape *sh, size_t k, const struct kt_member *m)
{
        size_t old = sh->cap;
        struct v_slot *sl;

        if (kt_grow(&sh->slot, &sh->cap, k + 1, sizeof(*sh->slot)) == -1 ||
            kt_grow(&sh->text, &sh->text_cap, sh->text_len + m->name_len + 1,
                 1) == -1)
                return -1;
        for (; old < sh->cap; old++)
                sh->slot[old].seen = NULL;
        sl = &sh->slot[k];
        memcpy(sh->text + sh->text_len, m->name, m->name_len);
        sl->start = sh->text_len;
        sl->len = m->name_len;
        sl->children = m->children;
        sl->object = m->kind == KT_J_OBJECT && m->children >= 0;
        sl->kind = (enum kt_jkind)m->kind;
        sl->step = STEP_ANY;
        sl->n_subs = 0;
        if (sl->seen != NULL) /* another name's strings */
                memset(sl->seen, 0, V_SEEN * sizeof(struct v_seen));
        sl->hits = sl->misses = 0;
        sl->seen_off = 0;
        sl->last.len = 0;
        sh->text_len += m->name_len;
        sh->n = k + 1;
        return 0;
}

/* Does sh hold the names of m[0..n), each object the same members? */
static int shape_is(const struct v_shape *sh, const struct kt_member *m,
                    size_t n)
{
        const struct v_slot *sl;
        size_t i;

        if (!sh->learnt || sh->n != n)
                return 0;
        for (i = 0; i < n; i++) {
                sl = &sh->slot[i];
                if (sl->len != m[i].name_len ||
                    sl->children != m[i].children ||
                    sl->object != (m[i].kind == KT_J_OBJECT &&
                                   m[i].children >= 0) ||
                    !kt_same_bytes(sh->text + sl->start, m[i].name,
                                   m[i].name_len))
                        return 0;
        }
        return 1;
}

/*
 * The unescaped names of the members of the object in slots [from, to)
 * into v->names (v->scratch holds them); *count of them.
 */
static int object_names(struct validator *v, const struct v_shape *sh,
                        size_t from, size_t to, size_t *count)
{
        size_t i, k = 0, off = 0;

        if (kt_grow(&v->names, &v->names_cap, to - from + 1,
                 sizeof(*v->names)) == -1 ||
            kt_grow(&v->scratch, &v->scratch_cap, sh->text_len + 1, 1) == -1)
                return -1;
        for (i = from; i < to; i = next_slot(sh, i), k++) {
                v->names[k].len = kt_json_unescape(sh->text +
                                                   sh->slot[i].start,
                                                   sh->slot[i].len,
                                                   v->scratch + off);
                v->names[k].p = v->scratch + off;
                off += v->names[k].len;
        }
        *count = k;
        return 0;
}

/*
 * Twin names among v->names[0..n): only the general path knows which
 * one counts.  names.h's check, the transform's: by hash while there are
 * few, sorted when there are many, never pair by pair (30,000 names took
 * 1.4 s).  1, 0, or -1 out of memory.
 */
static int has_twins(struct validator *v, size_t n)
{
        struct kt_name_at twin;
        size_t i;

        kt_dups_reset(&v->dups, v->scratch);
        for (i = 0; i < n; i++)
                if (kt_dups_push(&v->dups, (int)(v->names[i].p - v->scratch),
                                 (int)v->names[i].len) == -1)
                        return -1;
        for (i = 0; i < n; i++)
                if (kt_dups_check(&v->dups, i,
                                  kt_name_hash(v->names[i].p,
                                               v->names[i].len)))
                        return 1;
        return kt_dups_sorted(&v->dups, &twin);
}

/* The step of a slot whose value must pass subs[0..n_subs). */
static void slot_compile(struct v_slot *sl)
{
        int i, any = 1;

        kt_schema_rules_init(&sl->str, &sl->nat);
        for (i = 0; i < sl->n_subs; i++) {
                kt_schema_rules(sl->subs[i], &sl->str, &sl->nat);
                if (kt_schema_shape(sl->subs[i]) != KT_SHAPE_ANY)
                        any = 0;
        }
        sl->step = any ? STEP_ANY : STEP_VALUE;
}

/* The slots after slot i, the members of its object, all pass. */
static void slots_any(struct v_shape *sh, size_t i)
{
        size_t j;

        for (j = i + 1; j <= i + (size_t)sh->slot[i].children; j++)
                sh->slot[j].step = STEP_ANY;
}

static int judge_object(struct validator *v, struct v_shape *sh,
                        const struct kt_schema *s, size_t from, size_t to,
                        int depth);

/* The steps of slot i, an object, and of its members'.  1: they decide;
 * 0: its events go to the general path; -1: out of memory. */
static int judge_nested(struct validator *v, struct v_shape *sh, size_t i,
                        int depth)
{
        struct v_slot *sl = &sh->slot[i];
        size_t end = i + 1 + (size_t)sl->children;

        if (sl->step == STEP_ANY) {
                slots_any(sh, i);
                return 1;
        }
        if (sl->n_subs != 1 || depth >= V_MAX_DEPTH)
                return 0;
        switch (kt_schema_shape(sl->subs[0])) {
        case KT_SHAPE_OBJECT:
                sl->step = STEP_OBJECT;
                return judge_object(v, sh, kt_schema_deref(sl->subs[0]),
                                    i + 1, end, depth + 1);
        case KT_SHAPE_ANY: /* STEP_ANY above */
        case KT_SHAPE_NONE:
        case KT_SHAPE_OTHER:
                break;
        }
        return 0;
}

/*
 * The members of an object checked by s, in slots [from, to): their
 * names are judged (kt_schema_member(), then kt_schema_object_end()) and
 * each slot gets its step; then the objects among them, in turn (the
 * names of one object at a time live in v->names).  1 when the steps
 * decide; 0 when the general path must (names refused, twins, a value
 * under several object schemas); -1 when out of memory.
 */
static int judge_object(struct validator *v, struct v_shape *sh,
                        const struct kt_schema *s, size_t from, size_t to,
                        int depth)
{
        struct kt_schema_error e;
        struct v_slot *sl;
        size_t i, k, n, n_req = kt_schema_n_required(s);
        int r;

        if (object_names(v, sh, from, to, &n) == -1 ||
            (r = has_twins(v, n)) == -1 ||
            kt_grow(&v->seen, &v->seen_cap, n_req + 1, 1) == -1)
                return -1;
        if (r == 1)
                return 0;
        memset(v->seen, 0, n_req + 1);
        for (i = from, k = 0; i < to; i = next_slot(sh, i), k++) {
                sl = &sh->slot[i];
                r = kt_schema_member(s, v->names[k].p, v->names[k].len,
                                     sl->subs, V_MAX_SUBS, v->seen, &e);
                if (r < 0 || r > V_MAX_SUBS)
                        return 0;
                sl->n_subs = r;
                slot_compile(sl);
        }
        if (kt_schema_object_end(s, n, v->seen, &e) != 0)
                return 0;
        for (i = from; i < to; i = next_slot(sh, i))
                if (sh->slot[i].object &&
                    (r = judge_nested(v, sh, i, depth)) != 1)
                        return r;
        return 1;
}

/*
 * A check's test in line, for the kind of value its slot was learnt
 * from.  A string's length in code points lies between its bytes / 12
 * (an escaped surrogate pair) and its bytes: min_len code points are
 * certain from 12 * min_len - 11 bytes on.
 */
/* How many digits a natural may have fewer of and be in lo..hi for
 * certain: 65535, 5 (9999 and below); 99, 3; 2^64 - 1, 20. */
static size_t free_digits(uint64_t lo, uint64_t hi)
{
        uint64_t all_nines = 9;
        size_t d = 1;

        if (lo > 0 || lo > hi)
                return 0;
        while (d < 20 && all_nines <= hi) { /* hi has more than d digits,
                                             * or d nines */
                if (all_nines > UINT64_MAX / 10)
                        return 20;
                all_nines = all_nines * 10 + 9;
                d++;
        }
        return d;
}

static void check_op(struct v_check *c, const struct v_slot *sl)
{
        const struct kt_string_rule *r = &sl->str;

        c->op = OP_SLOT;
        if (sl->kind == KT_J_NUMBER && sl->nat.simple) {
                c->op = OP_NATURAL;
                c->lo = sl->nat.lo;
                c->hi = sl->nat.hi;
                c->free = free_digits(c->lo, c->hi);
        } else if (sl->kind == KT_J_STRING && r->simple &&
                   r->min_len <= r->max_len && r->all_class == NULL &&
                   r->any_class == NULL) {
                c->op = OP_STRING;
                c->lo = r->min_len == 0 ? 0 : r->min_len > UINT32_MAX ?
                        UINT64_MAX : (uint64_t)r->min_len * 12 - 11;
                c->hi = r->max_len;
                c->all = r->all_formats;
                c->any = r->any_formats;
        }
}

/* The checks of a shape whose steps decide: STEP_ANY passes every
 * value, and STEP_OBJECT every object (a shape holds objects only where
 * it was learnt from one: shape_is(), and the transform's keys). */
static int shape_checks(struct v_shape *sh)
{
        struct v_check *c;
        struct v_slot *sl;
        size_t i;

        sh->n_checks = 0;
        for (i = 0; i < sh->n; i++) {
                sl = &sh->slot[i];
                if (sl->step != STEP_VALUE)
                        continue;
                if (kt_grow(&sh->check, &sh->checks_cap, sh->n_checks + 1,
                         sizeof(*sh->check)) == -1)
                        return -1;
                c = &sh->check[sh->n_checks++];
                c->at = i;
                c->slot = sl;
                check_op(c, sl);
        }
        return 0;
}

/* Learns the names of m[0..n) into sh. */
static int shape_learn(struct validator *v, struct v_shape *sh,
                       const struct kt_member *m, size_t n)
{
        size_t i;
        int r;

        sh->learnt = 0;
        sh->epoch++;
        v->learnt++;
        sh->n = sh->text_len = 0;
        for (i = 0; i < n; i++)
                if (shape_add(sh, i, &m[i]) == -1)
                        return -1;
        if ((r = judge_object(v, sh, v->root, 0, n, 0)) == -1 ||
            (r == 1 && shape_checks(sh) == -1))
                return -1;
        sh->fast = r;
        sh->learnt = 1;
        return 0;
}

static int key_is(const struct kt_names_key *a, const struct kt_names_key *b)
{
        return a->shape == b->shape && a->omitted == b->omitted &&
               a->stages == b->stages;
}

/* The names of m[0..n), their lengths and nesting, hashed. */
static uint64_t names_hash(const struct kt_member *m, size_t n)
{
        uint64_t h = 1469598103934665603ull ^ n;
        size_t i, k;

        for (i = 0; i < n; i++) {
                h = (h ^ (uint64_t)m[i].name_len << 32 ^
                     (uint32_t)m[i].children) * 1099511628211ull;
                for (k = 0; k < m[i].name_len; k++)
                        h = (h ^ (unsigned char)m[i].name[k]) *
                            1099511628211ull;
        }
        return h;
}

static struct v_keyed *keyed_for(struct validator *v,
                                 const struct kt_names_key *key)
{
        uint64_t h = (key->shape * 0x9E3779B97F4A7C15ull) ^
                     (key->omitted * 0xC2B2AE3D27D4EB4Full) ^
                     (key->stages * 0x165667B19E3779F9ull);

        return &v->keyed[(h ^ h >> 29 ^ h >> 47) & (V_KEYS - 1)];
}

/* The shape that holds the names of m[0..n), or the one to learn them
 * into (*learn 1): the least recently used. */
static struct v_shape *shape_find(struct validator *v,
                                  const struct kt_member *m, size_t n,
                                  int *learn)
{
        struct v_shape *victim = &v->shapes[0], *sh;
        uint64_t h = names_hash(m, n);
        size_t i;

        *learn = 0;
        for (i = 0; i < V_SHAPES; i++) {
                sh = &v->shapes[i];
                if (sh->learnt && sh->hash == h && shape_is(sh, m, n))
                        return sh;
                if (!sh->learnt ? victim->learnt : sh->used < victim->used)
                        victim = sh;
        }
        victim->hash = h;
        *learn = 1;
        return victim;
}

/* The shape of m[0..n), by key when there is one, else by its names;
 * learnt if need be.  NULL when out of memory. */
static struct v_shape *shape_for(struct validator *v,
                                 const struct kt_member *m, size_t n,
                                 const struct kt_names_key *key)
{
        struct v_shape *sh = NULL;
        struct v_keyed *kd = NULL;
        int learn;

        if (key != NULL) {
                if (v->last != NULL && key_is(&v->last->key, key))
                        return v->last;
                kd = keyed_for(v, key);
                if (kd->sh != NULL && kd->epoch == kd->sh->epoch &&
                    kd->sh->learnt && key_is(&kd->key, key))
                        sh = kd->sh;
        }
        if (sh == NULL) {
                sh = shape_find(v, m, n, &learn);
                if (learn) {
                        memset(&sh->key, 0, sizeof(sh->key));
                        if (shape_learn(v, sh, m, n) == -1)
                                return NULL;
                }
        }
        if (key != NULL) {
                sh->key = *key;
                kd->key = *key;
                kd->sh = sh;
                kd->epoch = sh->epoch;
        }
        sh->used = ++v->clock;
        v->last = sh;
        return sh;
}

/* --- checking the values --------------------------------------------- */

/* m's content, unescaped if it needs to be (into v->scratch). */
static int unescaped(struct validator *v, const struct kt_member *m,
                     const char **p, size_t *len)
{
        *p = m->value;
        *len = m->value_len;
        if (m->escaped == 0 || (m->escaped == KT_ESCAPES_UNKNOWN &&
                                memchr(m->value, '\\', m->value_len) == NULL))
                return 0;
        if (kt_grow(&v->scratch, &v->scratch_cap, m->value_len + 1, 1) == -1)
                return -1;
        *len = kt_json_unescape(m->value, m->value_len, v->scratch);
        *p = v->scratch;
        return 0;
}

/*
 * The strings a slot let pass lately, by a hash of their bytes: the same
 * bytes pass the same subschemas again.  Only for slots whose strings
 * the rules cannot judge (a pattern, an enum): PCRE2 or a list costs
 * more than a lookup here.  Numbers too, apart (ip_version's enum
 * [4, 6]: 250 Ir a record through the general walk).  A slot whose strings rarely repeat stops
 * looking after V_TRIAL strings.
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

/* e->len for m: a number's text is not a string's. */
static inline unsigned seen_len(const struct kt_member *m)
{
        return m->value_len + 1 +
               (m->kind == KT_J_NUMBER ? V_SEEN_NUMBER : 0);
}

static inline int seen_hit(struct v_slot *sl, const struct v_seen *e,
                           const struct kt_member *m)
{
        if (e->len == seen_len(m) &&
            kt_same_bytes(e->text, m->value, m->value_len)) {
                sl->hits++;
                return 1;
        }
        if (++sl->misses > V_TRIAL && sl->hits * V_RATIO < sl->misses)
                sl->seen_off = 1;
        return 0;
}

/* m into e, with len: seen_len(m), or for a string its length + 1. */
static inline void seen_keep(struct v_seen *e, const struct kt_member *m,
                             unsigned len)
{
        memcpy(e->text, m->value, m->value_len);
        e->len = (unsigned char)len;
}

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

/*
 * A string against its slot's rule, on its text as written: no format
 * and no class (letters and digits) admits a backslash, so a string that
 * passes one unescaped is its own content; its length in code points
 * lies between its bytes / 12 (an escaped surrogate pair) and its bytes.
 * 0: not decided here.
 */
static int formats_pass(const struct kt_string_rule *r,
                        const struct kt_member *m, unsigned all)
{
        unsigned f, want;

        for (want = all; want != 0; want &= want - 1) {
                f = (unsigned)__builtin_ctz(want);
                if (!kt_format_ok((enum kt_format)f, m->value, m->value_len))
                        return 0;
        }
        if (r->all_class != NULL &&
            !kt_class_match(r->all_class, m->value, m->value_len))
                return 0;
        if ((r->any_formats == 0 && r->any_class == NULL) ||
            (r->any_formats & m->known))
                return 1;
        for (want = r->any_formats; want != 0; want &= want - 1) {
                f = (unsigned)__builtin_ctz(want);
                if (kt_format_ok((enum kt_format)f, m->value, m->value_len))
                        return 1;
        }
        return r->any_class != NULL &&
               kt_class_match(r->any_class, m->value, m->value_len);
}

/* The formats, unless the slot's last string is this one again (the
 * exporter's address, record after record). */
static inline int string_passes(struct v_slot *sl, const struct kt_member *m)
{
        const struct kt_string_rule *r = &sl->str;
        size_t n = m->value_len;
        unsigned all = r->all_formats & ~(unsigned)m->known;

        if (n > r->max_len || (n + 11) / 12 < r->min_len)
                return 0;
        if (all == 0 && r->all_class == NULL &&
            ((r->any_formats == 0 && r->any_class == NULL) ||
             (r->any_formats & m->known)))
                return 1;
        if (sl->last.len == n + 1 && kt_same_bytes(sl->last.text, m->value, n))
                return 1;
        if (!formats_pass(r, m, all))
                return 0;
        if (n <= V_SEEN_LEN)
                seen_keep(&sl->last, m, (unsigned)n + 1);
        return 1;
}

/* A scalar against each subschema of its slot (the rules could not
 * say): strings remembered when they passed. */
static enum fast value_subs(struct validator *v, struct v_slot *sl,
                            const struct kt_member *m)
{
        struct kt_scalar sc;
        struct v_seen *seen = NULL;
        int i;

        if (((m->kind == KT_J_STRING && !sl->str.simple) ||
             (m->kind == KT_J_NUMBER && !sl->nat.simple)) &&
            (seen = seen_entry(sl, m)) != NULL && seen_hit(sl, seen, m))
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
                seen_keep(seen, m, seen_len(m));
        return FAST_VALID;
}

/* One entry's value, by its slot's rules (a slot of STEP_VALUE). */
static inline enum fast value_check(struct validator *v, struct v_slot *sl,
                                    const struct kt_member *m)
{
        uint64_t n;

        switch ((enum kt_jkind)m->kind) {
        case KT_J_NUMBER: /* a port, a counter */
                if (sl->nat.simple &&
                    plain_natural(m->value, m->value_len, &n) &&
                    n >= sl->nat.lo && n <= sl->nat.hi)
                        return FAST_VALID;
                break;
        case KT_J_STRING: /* an address, a time, a name */
                if (sl->str.simple && string_passes(sl, m))
                        return FAST_VALID;
                break;
        case KT_J_ARRAY:
        case KT_J_OBJECT: /* not indexed: the general path */
                return FAST_UNDECIDED;
        case KT_J_NULL:
        case KT_J_BOOLEAN:
                break;
        }
        return value_subs(v, sl, m);
}

/* One check: its test in line, else its slot's. */
static inline enum fast check_one(struct validator *v,
                                  const struct v_check *c,
                                  const struct kt_member *ix)
{
        const struct kt_member *m = &ix[c->at];
        uint64_t n;

        switch (c->op) {
        case OP_NATURAL:
                if (m->natural && (m->value_len < c->free ||
                                   (plain_natural(m->value, m->value_len,
                                                  &n) &&
                                    n >= c->lo && n <= c->hi)))
                        return FAST_VALID;
                break;
        case OP_STRING:
                if (m->kind == KT_J_STRING && m->value_len >= c->lo &&
                    m->value_len <= c->hi && (m->known & c->all) == c->all &&
                    (c->any == 0 || (m->known & c->any)))
                        return FAST_VALID;
                break;
        case OP_SLOT:
                break;
        }
        return value_check(v, c->slot, m);
}

/* The fast path's verdict on a whole event. */
static enum fast fast_event(struct validator *v, const char *event,
                            size_t len, const struct kt_index *ix)
{
        const struct kt_member *m;
        const struct kt_names_key *key = NULL;
        struct v_shape *sh;
        enum fast r;
        size_t i, n;
        int w;

        if (ix != NULL && ix->m != NULL && !index_open(ix)) {
                m = ix->m;
                n = ix->n;
                if (ix->names.shape != 0)
                        key = &ix->names;
        } else {
                if ((w = walk_event(v, event, len)) != 0)
                        return w == -1 ? FAST_NOMEM : FAST_UNDECIDED;
                m = v->walked;
                n = v->n_walked;
        }
        if ((sh = shape_for(v, m, n, key)) == NULL)
                return FAST_NOMEM;
        if (!sh->fast)
                return FAST_UNDECIDED;
        for (i = 0; i < sh->n_checks; i++)
                if ((r = check_one(v, &sh->check[i], m)) != FAST_VALID)
                        return r;
        return FAST_VALID;
}

enum v_verdict validator_check(struct validator *v, const char *event,
                               size_t len, const struct kt_index *ix,
                               struct kt_schema_error *e)
{
        if (v->mode == V_MODE_FAST && v->flat) {
                switch (fast_event(v, event, len, ix)) {
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
