/*
 * audit.c: the loss audit's accounting (audit.h).  Pure: no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "grow.h"

#define WIN_FIRST 256  /* a run's first id table: most runs are short */

void audit_init(struct audit *a, size_t window)
{
        memset(a, 0, sizeof(*a));
        a->window = window ? window : AUDIT_WINDOW;
}

static void run_free(struct audit_run *r)
{
        free(r->domain);
        free(r->run);
        free(r->nd);
        free(r->win);
        free(r);
}

void audit_free(struct audit *a)
{
        size_t i;

        for (i = 0; i < a->nruns; i++)
                run_free(a->runs[i]);
        free(a->runs);
        memset(a, 0, sizeof(*a));
}

static uint64_t id_hash(const char *s)
{
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */

        for (; *s != '\0'; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static int run_cmp(const struct audit_run *r, const char *domain,
                   const char *run)
{
        int c = strcmp(r->domain, domain);

        return c != 0 ? c : strcmp(r->run, run);
}

/* The index of (domain, run), or where it would go with *found 0. */
static size_t run_find(const struct audit *a, const char *domain,
                       const char *run, int *found)
{
        size_t lo = 0, hi = a->nruns;

        *found = 0;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = run_cmp(a->runs[mid], domain, run);

                if (c == 0) {
                        *found = 1;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static struct audit_run *run_get(struct audit *a, const char *domain,
                                 const char *run)
{
        struct audit_run *r;
        size_t i;
        int found;

        if (a->last != NULL && run_cmp(a->last, domain, run) == 0)
                return a->last;
        i = run_find(a, domain, run, &found);
        if (found)
                return a->last = a->runs[i];
        if (kt_grow(&a->runs, &a->cap, a->nruns + 1, sizeof(*a->runs)) == -1 ||
            (r = calloc(1, sizeof(*r))) == NULL)
                return NULL;
        r->domain = strdup(domain);
        r->run = strdup(run);
        if (r->domain == NULL || r->run == NULL) {
                run_free(r);
                return NULL;
        }
        r->rng = 2463534242u;
        r->from_first = a->from_first;
        memmove(a->runs + i + 1, a->runs + i,
                (a->nruns - i) * sizeof(*a->runs));
        a->runs[i] = r;
        a->nruns++;
        return a->last = r;
}

static uint32_t node_new(struct audit_run *r, uint64_t seq)
{
        uint32_t i = r->freed;

        if (i != 0) {
                r->freed = r->nd[i].l;
        } else {
                if (r->nnd == 0)
                        r->nnd = 1; /* index 0 is "none" */
                if (r->nnd >= UINT32_MAX ||
                    kt_grow(&r->nd, &r->cap, r->nnd + 1, sizeof(*r->nd)) == -1)
                        return 0;
                i = (uint32_t)r->nnd++;
        }
        r->rng ^= r->rng << 13; /* xorshift32 */
        r->rng ^= r->rng >> 17;
        r->rng ^= r->rng << 5;
        r->nd[i] = (struct audit_node){ seq, seq, 0, 0, r->rng };
        return i;
}

/* t into *a (lo < key) and *b (the rest). */
static void split(struct audit_node *nd, uint32_t t, uint64_t key,
                  uint32_t *a, uint32_t *b)
{
        if (t == 0) {
                *a = *b = 0;
        } else if (nd[t].lo < key) {
                *a = t;
                split(nd, nd[t].r, key, &nd[t].r, b);
        } else {
                *b = t;
                split(nd, nd[t].l, key, a, &nd[t].l);
        }
}

/* a and b, every interval of a below b's. */
static uint32_t join(struct audit_node *nd, uint32_t a, uint32_t b)
{
        if (a == 0 || b == 0)
                return a ? a : b;
        if (nd[a].prio > nd[b].prio) {
                nd[a].r = join(nd, nd[a].r, b);
                return a;
        }
        nd[b].l = join(nd, a, nd[b].l);
        return b;
}

/* The interval with the greatest lo <= seq (below) or least lo > seq. */
static uint32_t near(const struct audit_run *r, uint64_t seq, int below)
{
        uint32_t t = r->root, found = 0;

        while (t != 0) {
                int le = r->nd[t].lo <= seq;

                if (le == below)
                        found = t;
                t = le ? r->nd[t].r : r->nd[t].l;
        }
        return found;
}

/* Takes the interval starting at lo out of the tree. */
static void tree_remove(struct audit_run *r, uint64_t lo)
{
        uint32_t a, b, m, c;

        split(r->nd, r->root, lo, &a, &b);
        split(r->nd, b, lo + 1, &m, &c);
        r->nd[m].l = r->freed;
        r->freed = m;
        r->root = join(r->nd, a, c);
}

static int tree_add(struct audit_run *r, uint64_t seq)
{
        uint32_t n = node_new(r, seq), a, b;

        if (n == 0)
                return -1;
        split(r->nd, r->root, seq, &a, &b);
        r->root = join(r->nd, join(r->nd, a, n), b);
        r->niv++;
        return 0;
}

/* seq into the intervals: 1 when new, 0 when seen, -1 out of memory. */
static int iv_insert(struct audit_run *r, uint64_t seq)
{
        uint32_t p = near(r, seq, 1), s;
        int left, right;

        if (p != 0 && r->nd[p].hi >= seq)
                return 0;
        s = near(r, seq, 0);
        left = p != 0 && r->nd[p].hi + 1 == seq;
        right = s != 0 && r->nd[s].lo == seq + 1;
        if (left && right) { /* seq joins two intervals */
                r->nd[p].hi = r->nd[s].hi;
                tree_remove(r, r->nd[s].lo);
                r->niv--;
        } else if (left) {
                r->nd[p].hi = seq;
        } else if (right) {
                r->nd[s].lo = seq; /* still above p: the order holds */
        } else if (tree_add(r, seq) == -1) {
                return -1;
        }
        if (r->distinct++ == 0 || seq < r->first)
                r->first = seq;
        if (seq > r->last)
                r->last = seq;
        return 1;
}

/* The id table grows with the run's events up to the window. */
static int win_grow(struct audit_run *r, size_t window)
{
        size_t n = r->nwin ? r->nwin * 2 : WIN_FIRST, i;
        struct audit_slot *w;

        if (n > window)
                n = window;
        if ((w = calloc(n, sizeof(*w))) == NULL)
                return -1;
        for (i = 0; i < r->nwin; i++) {
                struct audit_slot *s = &w[r->win[i].seq % n];

                if (r->win[i].seq > s->seq) /* the later number stays */
                        *s = r->win[i];
        }
        free(r->win);
        r->win = w;
        r->nwin = n;
        return 0;
}

/*
 * The slot for seq.  While another number holds it and the window allows,
 * the table grows first: below the window, which ids are kept does not
 * depend on the order the events come in (partitions read one after the
 * other, or interleaved as kcat dumps them), and neither does a
 * duplicate's class.
 */
static struct audit_slot *win_slot(struct audit_run *r, size_t window,
                                   uint64_t seq)
{
        struct audit_slot *s = &r->win[seq % r->nwin];

        while (s->seq != 0 && s->seq != seq && r->nwin < window) {
                if (win_grow(r, window) == -1)
                        return NULL;
                s = &r->win[seq % r->nwin];
        }
        return s;
}

static enum audit_seen win_check(const struct audit_run *r, uint64_t seq,
                                 const char *id)
{
        const struct audit_slot *s = &r->win[seq % r->nwin];

        if (id == NULL || s->seq != seq)
                return AUDIT_DUP_UNKNOWN;
        return s->hash == id_hash(id) ? AUDIT_DUP_SAME : AUDIT_DUP_OTHER;
}

enum audit_seen audit_add(struct audit *a, const char *domain,
                          const char *run, uint64_t seq, const char *id)
{
        struct audit_run *r = run_get(a, domain, run);
        enum audit_seen s;
        int added;

        if (r == NULL)
                return AUDIT_ERROR;
        if (r->nwin < a->window && r->events >= r->nwin &&
            win_grow(r, a->window) == -1)
                return AUDIT_ERROR;
        if ((added = iv_insert(r, seq)) == -1)
                return AUDIT_ERROR;
        r->events++;
        if (added) {
                struct audit_slot *sl = win_slot(r, a->window, seq);

                if (sl == NULL)
                        return AUDIT_ERROR;
                /* the later number stays, as in win_grow(): which ids
                 * are kept never depends on the order of reading */
                if (id != NULL && seq > sl->seq) {
                        sl->seq = seq;
                        sl->hash = id_hash(id);
                }
                return AUDIT_NEW;
        }
        s = win_check(r, seq, id);
        r->dup[s - AUDIT_DUP_SAME]++;
        return s;
}

/* The numbers below the first judged: none, or those before the first. */
static uint64_t unjudged(const struct audit_run *r)
{
        return r->from_first ? r->first - 1 : 0;
}

uint64_t audit_missing(const struct audit_run *r)
{
        return r->last - r->distinct - unjudged(r);
}

uint64_t audit_duplicates(const struct audit_run *r)
{
        return r->events - r->distinct;
}

size_t audit_ngaps(const struct audit_run *r)
{
        return r->niv - 1 + (r->first > 1 && !r->from_first);
}

struct walk {
        void   (*fn)(uint64_t, uint64_t, void *);
        void    *arg;
        uint64_t prev; /* the last number of the previous interval */
};

static void walk(const struct audit_node *nd, uint32_t t, struct walk *w)
{
        if (t == 0)
                return;
        walk(nd, nd[t].l, w);
        if (nd[t].lo > w->prev + 1)
                w->fn(w->prev + 1, nd[t].lo - 1, w->arg);
        w->prev = nd[t].hi;
        walk(nd, nd[t].r, w);
}

void audit_gaps(const struct audit_run *r,
                void (*fn)(uint64_t lo, uint64_t hi, void *arg), void *arg)
{
        struct walk w = { fn, arg, unjudged(r) };

        walk(r->nd, r->root, &w);
}

struct text {
        char  *s;
        size_t len;
};

static void text_gap(uint64_t lo, uint64_t hi, void *arg)
{
        struct text *t = arg;

        t->len += (size_t)sprintf(t->s + t->len, "%s%llu", t->len ? ", " : "",
                                  (unsigned long long)lo);
        if (hi != lo)
                t->len += (size_t)sprintf(t->s + t->len, "-%llu",
                                          (unsigned long long)hi);
}

char *audit_ranges(const struct audit_run *r)
{
        /* "%llu-%llu, " at most, each */
        struct text t = { malloc(audit_ngaps(r) * 44 + 1), 0 };

        if (t.s == NULL)
                return NULL;
        t.s[0] = '\0';
        audit_gaps(r, text_gap, &t);
        return t.s;
}

size_t audit_producers(const struct audit *a)
{
        size_t i, n = 0;

        for (i = 0; i < a->nruns; i++) /* sorted: a domain's runs adjoin */
                if (i == 0 || strcmp(a->runs[i]->domain,
                                     a->runs[i - 1]->domain) != 0)
                        n++;
        return n;
}
