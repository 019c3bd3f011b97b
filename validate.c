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

/* The subschemas one member's value may have to pass (kt_schema_member). */
#define V_MAX_SUBS 4

/* What an object with the same names as the last one needs: pmacct
 * prints the same names line after line, so the names are looked up
 * and checked once, not per record. */
struct v_shape {
        const struct kt_schema *s;     /* the object schema; NULL: free */
        char                   *text;  /* the names as written, end to end */
        size_t                  text_len, text_cap;
        struct v_slot {
                size_t                  start, len;   /* in text */
                const struct kt_schema *subs[V_MAX_SUBS];
                int                     n_subs;
        } *slot;
        size_t                  n, cap;
        int                     names_ok;   /* the names pass */
        int                     general;    /* only the general path can */
        int                     busy;       /* its object is being walked */
        unsigned long           used;       /* for the choice of a victim */
};

#define V_SHAPES 4

/* Objects nested deeper go to the general path. */
#define V_MAX_DEPTH 8

/* The fast path's verdict: or it leaves the event to the general path. */
enum fast { FAST_VALID, FAST_INVALID, FAST_UNDECIDED, FAST_NOMEM };

struct validator {
        struct kt_schema_set   *set;
        const struct kt_schema *root;
        enum v_mode             mode;
        int                     flat;    /* the root's shape is an object's */
        struct v_shape          shapes[V_SHAPES];
        unsigned long           clock;   /* shape uses */
        struct v_name          *names;   /* the names of the shape learnt */
        size_t                  names_cap;
        unsigned char          *seen;    /* kt_schema_member()'s */
        size_t                  seen_cap;
        char                   *scratch; /* an unescaped string */
        size_t                  scratch_cap;
        unsigned long long      general; /* events that took that path */
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
        v->flat = kt_schema_shape(v->root) == KT_SHAPE_OBJECT;
        v->root = kt_schema_deref(v->root);
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
        v->flat = kt_schema_shape(v->root) == KT_SHAPE_OBJECT;
        v->root = kt_schema_deref(v->root);
        return v;
}

void validator_close(struct validator *v)
{
        size_t i;

        if (v == NULL)
                return;
        for (i = 0; i < V_SHAPES; i++) {
                free(v->shapes[i].text);
                free(v->shapes[i].slot);
        }
        free(v->names);
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
        kt_walk_value(event, len, &w);
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

/* The shape kept for s, or the one it may replace; NULL when all are
 * busy (objects nested deeper than there are shapes). */
static struct v_shape *shape_for(struct validator *v,
                                 const struct kt_schema *s)
{
        struct v_shape *victim = NULL, *sh;
        size_t i;

        v->clock++;
        for (i = 0; i < V_SHAPES; i++) {
                sh = &v->shapes[i];
                if (sh->s == s && !sh->busy) {
                        sh->used = v->clock;
                        return sh;
                }
                if (!sh->busy && (victim == NULL || sh->used < victim->used))
                        victim = sh;
        }
        if (victim == NULL)
                return NULL;
        victim->s = NULL;
        victim->n = 0;
        victim->used = v->clock;
        return victim;
}

/* Is member i of the shape named name (as written)? */
static int shape_has(const struct v_shape *sh, size_t i,
                     const struct kt_wval *name)
{
        return i < sh->n && sh->slot[i].len == name->len &&
               kt_same_bytes(sh->text + sh->slot[i].start, name->p,
                             name->len);
}

/* name's content, unescaped if it needs to be (into v->scratch). */
static int unescaped(struct validator *v, const struct kt_wval *w,
                     const char **p, size_t *len)
{
        if (!w->escaped) {
                *p = w->p;
                *len = w->len;
                return 0;
        }
        if (grow(&v->scratch, &v->scratch_cap, w->len + 1, 1) == -1)
                return -1;
        *len = kt_json_unescape(w->p, w->len, v->scratch);
        *p = v->scratch;
        return 0;
}

/* Appends name's raw bytes to sh's text as slot i. */
static int shape_add(struct v_shape *sh, size_t i, const struct kt_wval *name)
{
        if (grow(&sh->slot, &sh->cap, i + 1, sizeof(*sh->slot)) == -1 ||
            grow(&sh->text, &sh->text_cap, sh->text_len + name->len + 1,
                 1) == -1)
                return -1;
        memcpy(sh->text + sh->text_len, name->p, name->len);
        sh->slot[i].start = sh->text_len;
        sh->slot[i].len = name->len;
        sh->text_len += name->len;
        sh->n = i + 1;
        return 0;
}

/* Twin names: only the general path knows which one counts. */
static int has_twins(const struct v_name *names, size_t n)
{
        size_t i, j;

        for (i = 1; i < n; i++)
                for (j = 0; j < i; j++)
                        if (names[i].len == names[j].len &&
                            memcmp(names[i].p, names[j].p, names[i].len) == 0)
                                return 1;
        return 0;
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

/* Looks up, for each name of obj, what its value must pass. */
static int shape_learn(struct validator *v, struct v_shape *sh,
                       const struct kt_schema *s, const struct kt_wval *obj)
{
        struct kt_walk w;
        struct kt_wval name, value;
        size_t i;

        sh->s = s;
        sh->n = sh->text_len = 0;
        kt_walk_begin(&w, obj);
        for (i = 0; kt_walk_next_member(&w, &name, &value); i++)
                if (shape_add(sh, i, &name) == -1)
                        goto nomem;
        if (shape_names(v, sh) == -1)
                goto nomem;
        sh->general = has_twins(v->names, sh->n);
        if (shape_judge(v, sh) == -1)
                goto nomem;
        return 0;
nomem:
        sh->s = NULL;
        sh->n = 0;
        return -1;
}

static enum fast fast_object(struct validator *v, const struct kt_schema *s,
                             const struct kt_wval *obj, int depth);

/* A scalar value against one subschema. */
static enum fast fast_scalar(struct validator *v, const struct kt_schema *s,
                             const struct kt_wval *value)
{
        struct kt_scalar sc = { .kind = value->kind };
        struct kt_schema_error e;

        if (value->kind == KT_J_STRING) {
                if (unescaped(v, value, &sc.text, &sc.len) == -1)
                        return FAST_NOMEM;
        } else {
                sc.text = value->p;
                sc.len = value->len;
                sc.boolean = value->kind == KT_J_BOOLEAN && *value->p == 't';
        }
        return kt_schema_validate_scalar(s, &sc, "", &e) == 0 ? FAST_VALID
                                                             : FAST_INVALID;
}

/* An object value against one subschema. */
static enum fast fast_nested(struct validator *v, const struct kt_schema *s,
                             const struct kt_wval *value, int depth)
{
        switch (kt_schema_shape(s)) {
        case KT_SHAPE_ANY:
                return FAST_VALID;
        case KT_SHAPE_NONE:
                return FAST_INVALID;
        case KT_SHAPE_OBJECT:
                if (depth < V_MAX_DEPTH)
                        return fast_object(v, kt_schema_deref(s), value,
                                           depth + 1);
                break;
        case KT_SHAPE_OTHER:
                break;
        }
        return FAST_UNDECIDED;
}

/* A member's value against the subschemas of its slot. */
static enum fast fast_value(struct validator *v, const struct v_slot *sl,
                            const struct kt_wval *value, int depth)
{
        enum fast r = FAST_VALID;
        int i;

        for (i = 0; i < sl->n_subs && r == FAST_VALID; i++) {
                if (value->kind == KT_J_ARRAY)
                        return FAST_UNDECIDED;
                if (value->kind != KT_J_OBJECT)
                        r = fast_scalar(v, sl->subs[i], value);
                else
                        r = fast_nested(v, sl->subs[i], value, depth);
        }
        return r;
}

/*
 * An object against s, of KT_SHAPE_OBJECT: the names as the shape
 * says (learnt again where they differ), each value as its slot says.
 */
static enum fast walk_object(struct validator *v, struct v_shape *sh,
                             const struct kt_wval *obj, int depth)
{
        struct kt_walk w;
        struct kt_wval name, value;
        enum fast r;
        size_t i;

        kt_walk_begin(&w, obj);
        for (i = 0; kt_walk_next_member(&w, &name, &value); i++) {
                if (!shape_has(sh, i, &name) &&
                    shape_learn(v, sh, sh->s, obj) == -1)
                        return FAST_NOMEM;
                if (sh->general)
                        return FAST_UNDECIDED;
                if ((r = fast_value(v, &sh->slot[i], &value, depth)) !=
                    FAST_VALID)
                        return r;
        }
        if (i != sh->n && shape_learn(v, sh, sh->s, obj) == -1)
                return FAST_NOMEM;
        if (sh->general)
                return FAST_UNDECIDED;
        return sh->names_ok ? FAST_VALID : FAST_INVALID;
}

static enum fast fast_object(struct validator *v, const struct kt_schema *s,
                             const struct kt_wval *obj, int depth)
{
        struct v_shape *sh = shape_for(v, s);
        enum fast r;

        if (sh == NULL)
                return FAST_UNDECIDED;
        if (sh->s == NULL && shape_learn(v, sh, s, obj) == -1)
                return FAST_NOMEM;
        sh->busy = 1;
        r = walk_object(v, sh, obj, depth);
        sh->busy = 0;
        return r;
}

enum v_verdict validator_check(struct validator *v, const char *event,
                               size_t len, struct kt_schema_error *e)
{
        struct kt_wval top;

        if (v->mode == V_MODE_FAST && v->flat) {
                kt_walk_value(event, len, &top);
                if (top.kind == KT_J_OBJECT) {
                        switch (fast_object(v, v->root, &top, 0)) {
                        case FAST_VALID:
                                return V_VALID;
                        case FAST_NOMEM:
                                return V_NOMEM;
                        case FAST_INVALID: /* its message: the general path */
                        case FAST_UNDECIDED:
                                break;
                        }
                }
        }
        return check_general(v, event, len, e);
}
