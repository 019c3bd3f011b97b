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
        free(r->iv);
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
        memmove(a->runs + i + 1, a->runs + i,
                (a->nruns - i) * sizeof(*a->runs));
        a->runs[i] = r;
        a->nruns++;
        return a->last = r;
}

/* The first interval with lo > seq (niv when none). */
static size_t iv_after(const struct audit_run *r, uint64_t seq)
{
        size_t lo = 0, hi = r->niv;

        if (r->niv > 0 && r->iv[r->niv - 1].lo <= seq)
                return r->niv; /* in order: the common case */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (r->iv[mid].lo <= seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* seq into the intervals: 1 when new, 0 when seen, -1 out of memory. */
static int iv_insert(struct audit_run *r, uint64_t seq)
{
        size_t i = iv_after(r, seq);
        struct audit_iv *p = i > 0 ? &r->iv[i - 1] : NULL;
        int left = p != NULL && p->hi + 1 == seq;
        int right = i < r->niv && r->iv[i].lo == seq + 1;

        if (p != NULL && p->hi >= seq)
                return 0;
        if (left && right) { /* seq joins two intervals */
                p->hi = r->iv[i].hi;
                memmove(r->iv + i, r->iv + i + 1,
                        (r->niv - i - 1) * sizeof(*r->iv));
                r->niv--;
        } else if (left) {
                p->hi = seq;
        } else if (right) {
                r->iv[i].lo = seq;
        } else {
                if (kt_grow(&r->iv, &r->cap, r->niv + 1, sizeof(*r->iv)) == -1)
                        return -1;
                memmove(r->iv + i + 1, r->iv + i,
                        (r->niv - i) * sizeof(*r->iv));
                r->iv[i].lo = r->iv[i].hi = seq;
                r->niv++;
        }
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
                struct audit_slot *sl = &r->win[seq % r->nwin];

                if (id != NULL) {
                        sl->seq = seq;
                        sl->hash = id_hash(id);
                }
                return AUDIT_NEW;
        }
        s = win_check(r, seq, id);
        r->dup[s - AUDIT_DUP_SAME]++;
        return s;
}

uint64_t audit_distinct(const struct audit_run *r)
{
        uint64_t n = 0;
        size_t i;

        for (i = 0; i < r->niv; i++)
                n += r->iv[i].hi - r->iv[i].lo + 1;
        return n;
}

uint64_t audit_missing(const struct audit_run *r)
{
        return audit_last(r) - audit_distinct(r);
}

uint64_t audit_duplicates(const struct audit_run *r)
{
        return r->events - audit_distinct(r);
}

size_t audit_ngaps(const struct audit_run *r)
{
        return r->niv - 1 + (r->iv[0].lo > 1);
}

void audit_gap(const struct audit_run *r, size_t i, uint64_t *lo,
               uint64_t *hi)
{
        if (r->iv[0].lo > 1) { /* the run's first events */
                if (i == 0) {
                        *lo = 1;
                        *hi = r->iv[0].lo - 1;
                        return;
                }
                i--;
        }
        *lo = r->iv[i].hi + 1;
        *hi = r->iv[i + 1].lo - 1;
}

char *audit_ranges(const struct audit_run *r)
{
        size_t n = audit_ngaps(r), i, len = 0;
        char *s = malloc(n * 44 + 1); /* "%llu-%llu, " at most, each */

        if (s == NULL)
                return NULL;
        s[0] = '\0';
        for (i = 0; i < n; i++) {
                uint64_t lo, hi;

                audit_gap(r, i, &lo, &hi);
                len += (size_t)sprintf(s + len, "%s%llu", i ? ", " : "",
                                       (unsigned long long)lo);
                if (hi != lo)
                        len += (size_t)sprintf(s + len, "-%llu",
                                               (unsigned long long)hi);
        }
        return s;
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
