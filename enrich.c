/*
 * enrich.c: the enrich stage's names, its pass over the event's index
 * and its values: see enrich.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "enrich.h"
#include "jsonwalk.h"

#define COUNTRY_MAX 8 /* an ISO 3166-1 code is 2 */

/* Room for every value of one event: each field's escaped strings. */
#define SCRATCH (ENRICH_FIELDS_MAX * (6 * (COUNTRY_MAX + \
                 ENRICH_AS_NAME_MAX) + 16))

struct field {
        char   name[ENRICH_NAME_MAX + 1]; /* the event's member */
        size_t len;
        char   out[ENRICH_KINDS][ENRICH_NAME_MAX + 1]; /* what is added */
        size_t out_len[ENRICH_KINDS];
};

/*
 * What the pass over the index found in the events of one names key
 * (jsonwalk.h: the same names in the same places): the fields' entries
 * and the names there.  The pass cost 1,750 instructions an event
 * (callgrind, 50,000 bench-gen records, netflow-private.conf).
 * shape 0: an empty slot.
 */
#define KEY_SLOTS 8

struct key_found {
        struct kt_key_tag tag;
        int32_t  entry[ENRICH_FIELDS_MAX]; /* -1: none */
        uint32_t present;
};

struct enrich {
        struct key_found keys[KEY_SLOTS];
        struct field f[ENRICH_FIELDS_MAX];
        size_t       nf;
        int          on[ENRICH_KINDS];
        char         ipv[ENRICH_NAME_MAX + 1];
        size_t       ipv_len;
        /* by a name's first byte, a bit per name length: the names of
         * most members are told apart from these by two loads */
        uint64_t     field_lens[128], out_lens[128];
        char         scratch[SCRATCH];
        size_t       used;
};

static const char *const default_name[ENRICH_KINDS] = {
        "country_%s", "as_%s", "as_name_%s", "net_cidr_%s"
};
static const char *const name_key[ENRICH_KINDS] = {
        "enrich.name.country", "enrich.name.as", "enrich.name.as_name",
        "enrich.name.net"
};

/* A member name needs no JSON escape and fits. */
static int name_ok(const char *s, size_t len)
{
        size_t i;

        if (len == 0 || len > ENRICH_NAME_MAX)
                return 0;
        for (i = 0; i < len; i++)
                if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
                        return 0;
        return 1;
}

/* tmpl with its one %s replaced by dir, into out: 0, or -1 with why. */
static int expand(const char *key, const char *tmpl, const char *dir,
                  char *out, size_t *len, char *err, size_t errlen)
{
        const char *s = strstr(tmpl, "%s");
        int n;

        if (s == NULL || strchr(s + 2, '%') != NULL ||
            strchr(tmpl, '%') != s) {
                snprintf(err, errlen, "%s: '%s' needs one %%s (the "
                         "direction) and no other %%", key, tmpl);
                return -1;
        }
        n = snprintf(out, ENRICH_NAME_MAX + 1, "%.*s%s%s", (int)(s - tmpl),
                     tmpl, dir, s + 2);
        if (n < 0 || !name_ok(out, (size_t)n) || n > ENRICH_NAME_MAX) {
                snprintf(err, errlen, "%s: '%s' for '%s' is not a name "
                         "(printable ASCII, no space, quote or backslash, at "
                         "most %d bytes)", key, tmpl, dir, ENRICH_NAME_MAX);
                return -1;
        }
        *len = (size_t)n;
        return 0;
}

struct build {
        struct enrich            *en;
        const struct enrich_conf *c;
        char                     *err;
        size_t                    errlen;
};

/* One item of enrich.fields: FIELD or FIELD:DIR. */
static int add_field(void *arg, const char *item)
{
        struct build *b = arg;
        struct field *f = &b->en->f[b->en->nf];
        const char *colon = strchr(item, ':'), *dir, *us;
        size_t len = colon ? (size_t)(colon - item) : strlen(item);
        int k;

        if (b->en->nf == ENRICH_FIELDS_MAX) {
                snprintf(b->err, b->errlen, "enrich.fields: more than %d "
                         "fields", ENRICH_FIELDS_MAX);
                return -1;
        }
        us = memrchr(item, '_', len);
        dir = colon ? colon + 1 : us ? us + 1 : "";
        if (!name_ok(item, len) || *dir == '\0' || strchr(dir, '%') ||
            (!colon && us == NULL)) {
                snprintf(b->err, b->errlen, "enrich.fields: '%s': a field "
                         "is NAME_DIR or NAME:DIR (ip_src, "
                         "peer_ip_src:peer_src)", item);
                return -1;
        }
        memcpy(f->name, item, len);
        f->name[len] = '\0';
        f->len = len;
        for (k = 0; k < ENRICH_KINDS; k++)
                if (b->en->on[k] &&
                    expand(name_key[k], b->c->name[k] ? b->c->name[k] :
                           default_name[k], dir, f->out[k], &f->out_len[k],
                           b->err, b->errlen) == -1)
                        return -1;
        b->en->nf++;
        return 0;
}

static int same(const char *a, size_t alen, const char *b, size_t blen)
{
        return alen == blen && memcmp(a, b, alen) == 0;
}

/* Every name once: the fields, what is added, ip_version. */
static int names_unique(struct enrich *en, char *err, size_t errlen)
{
        const char *n[ENRICH_FIELDS_MAX * (ENRICH_KINDS + 1) + 1];
        size_t l[ENRICH_FIELDS_MAX * (ENRICH_KINDS + 1) + 1];
        size_t i, j, c = 0;
        int k;

        for (i = 0; i < en->nf; i++) {
                n[c] = en->f[i].name;
                l[c++] = en->f[i].len;
                for (k = 0; k < ENRICH_KINDS; k++)
                        if (en->on[k]) {
                                n[c] = en->f[i].out[k];
                                l[c++] = en->f[i].out_len[k];
                        }
        }
        if (en->ipv_len > 0) {
                n[c] = en->ipv;
                l[c++] = en->ipv_len;
        }
        for (i = 0; i < c; i++) {
                if (l[i] < 64)
                        en->out_lens[n[i][0] & 127] |= 1ull << l[i];
                for (j = 0; j < i; j++)
                        if (same(n[i], l[i], n[j], l[j])) {
                                snprintf(err, errlen, "enrich: the name "
                                         "'%s' twice (enrich.fields, "
                                         "enrich.name.*)", n[i]);
                                return -1;
                        }
        }
        return 0;
}

struct enrich *enrich_new(const struct enrich_conf *c, char *err,
                          size_t errlen)
{
        struct enrich *en = calloc(1, sizeof(*en));
        struct build b = { en, c, err, errlen };
        const char *ipv = c->ip_version ? c->ip_version : "ip_version";
        size_t i;

        if (en == NULL) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        memcpy(en->on, c->on, sizeof(en->on));
        en->ipv_len = strlen(ipv);
        if (en->ipv_len > 0 && !name_ok(ipv, en->ipv_len)) {
                snprintf(err, errlen, "enrich.name.ip_version: '%s' is not "
                         "a name", ipv);
                goto fail;
        }
        memcpy(en->ipv, ipv, en->ipv_len);
        if (conf_each_item(c->fields ? c->fields : "ip_src, ip_dst",
                           add_field, &b) != 0)
                goto fail;
        if (en->nf == 0) {
                snprintf(err, errlen, "enrich.fields: no field");
                goto fail;
        }
        for (i = 0; i < en->nf; i++)
                if (en->f[i].len < 64)
                        en->field_lens[en->f[i].name[0] & 127] |=
                                1ull << en->f[i].len;
        if (names_unique(en, err, errlen) == -1)
                goto fail;
        return en;
fail:
        free(en);
        return NULL;
}

void enrich_free(struct enrich *en)
{
        free(en);
}

/* Appends c's UTF-8 sequence at s[0..len) or U+FFFD: bytes taken. */
static size_t utf8_seq(const unsigned char *s, size_t len, char *out,
                       size_t *o)
{
        size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2, i;
        unsigned cp;

        if (s[0] < 0xc2 || s[0] > 0xf4 || n > len)
                goto bad;
        cp = s[0] & (0x3f >> (n - 1));
        for (i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        goto bad;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                goto bad;
        memcpy(out + *o, s, n);
        *o += n;
        return n;
bad:
        memcpy(out + *o, "\\ufffd", 6);
        *o += 6;
        return 1;
}

size_t enrich_json_escape(const char *s, size_t len, char *out)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *u = (const unsigned char *)s;
        size_t i = 0, o = 0;

        while (i < len) {
                if (u[i] >= 0x80) {
                        i += utf8_seq(u + i, len - i, out, &o);
                        continue;
                }
                if (u[i] == '"' || u[i] == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char)u[i];
                } else if (u[i] < 0x20) {
                        memcpy(out + o, "\\u00", 4);
                        out[o + 4] = hex[u[i] >> 4];
                        out[o + 5] = hex[u[i] & 15];
                        o += 6;
                } else {
                        out[o++] = (char)u[i];
                }
                i++;
        }
        return o;
}

/* At most max bytes of s, not cutting a UTF-8 sequence. */
static size_t cut_utf8(const char *s, size_t len, size_t max)
{
        if (len <= max)
                return len;
        while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
                max--;
        return max;
}

size_t enrich_value(enum enrich_kind kind, const char *s, size_t len,
                    char *out)
{
        size_t max = kind == ENRICH_COUNTRY ? COUNTRY_MAX :
                     ENRICH_AS_NAME_MAX;

        return enrich_json_escape(s, cut_utf8(s, len, max), out);
}

/* What the pass over the index found. */
struct found {
        const struct kt_member *value[ENRICH_FIELDS_MAX]; /* or NULL */
        uint32_t                present; /* names bits already there */
};

/* Entry m: one of the fields, or a name the stage would add. */
static void look_at(const struct enrich *en, const struct kt_member *m,
                    struct found *fd)
{
        unsigned c = m->name_len > 0 ? (unsigned char)m->name[0] & 127 : 0;
        size_t i;
        int k;

        if (m->name_len >= 64 || m->name_len == 0)
                return;
        if (en->field_lens[c] >> m->name_len & 1)
                for (i = 0; i < en->nf; i++)
                        if (same(m->name, m->name_len, en->f[i].name,
                                 en->f[i].len))
                                fd->value[i] = m;
        if (!(en->out_lens[c] >> m->name_len & 1))
                return;
        if (same(m->name, m->name_len, en->ipv, en->ipv_len))
                fd->present |= 1u << ENRICH_IP_VERSION_BIT;
        for (i = 0; i < en->nf; i++)
                for (k = 0; k < ENRICH_KINDS; k++)
                        if (en->on[k] && same(m->name, m->name_len,
                                              en->f[i].out[k],
                                              en->f[i].out_len[k]))
                                fd->present |= 1u << (4 * i + (size_t)k);
}

static void find_all(const struct enrich *en, const struct kt_index *ix,
                     struct found *fd)
{
        size_t i;

        memset(fd, 0, sizeof(*fd));
        for (i = 0; i < ix->n; i += 1 + (ix->m[i].children > 0 ?
                                         (size_t)ix->m[i].children : 0))
                look_at(en, &ix->m[i], fd);
}

/* The same, once per names key. */
static void find(struct enrich *en, const struct kt_index *ix,
                 struct found *fd)
{
        struct key_found *kf;
        size_t i;

        if (ix->names.shape == 0) {
                find_all(en, ix, fd);
                return;
        }
        kf = &en->keys[kt_key_slot(ix, KEY_SLOTS)];
        if (!kt_key_tag_hit(&kf->tag, ix)) {
                find_all(en, ix, fd);
                for (i = 0; i < en->nf; i++)
                        kf->entry[i] = fd->value[i] == NULL ? -1 :
                                       (int32_t)(fd->value[i] - ix->m);
                kf->present = fd->present;
                return;
        }
        for (i = 0; i < en->nf; i++)
                fd->value[i] = kf->entry[i] < 0 ? NULL : &ix->m[kf->entry[i]];
        fd->present = kf->present;
}

/* The member's value as an address: 0, or -1 (no enrichment for it). */
static int address_of(const struct kt_member *m, struct ip_addr *a)
{
        if (m == NULL || m->kind != KT_J_STRING || m->escaped == 1 ||
            (m->escaped == KT_ESCAPES_UNKNOWN &&
             memchr(m->value, '\\', m->value_len) != NULL))
                return -1;
        return ip_addr_parse(m->value, m->value_len, a);
}

/* One member, unless the event has its name: its names bit. */
static int add(struct ev_edits *e, const struct found *fd, unsigned bit,
               const char *name, size_t name_len, enum kt_jkind kind,
               const char *v, size_t len)
{
        if (fd->present >> bit & 1)
                return 0;
        if (ev_add(e, name, name_len, kind, v, len) == -1)
                return -1;
        e->names |= 1ull << bit;
        return 0;
}

/* n in decimal into out: its length. */
static size_t put_u32(uint32_t n, char *out)
{
        char d[10];
        size_t i = 0, len;

        do
                d[i++] = (char)('0' + n % 10);
        while ((n /= 10) != 0);
        for (len = i; i > 0; i--)
                *out++ = d[i - 1];
        return len;
}

/* Whether the member of bit is to be added: not already in the event. */
static int wanted(const struct found *fd, unsigned bit)
{
        return !(fd->present >> bit & 1);
}

/* The answer's string of kind into the scratch buffer, escaped unless
 * the source did (it is copied: the source may reuse it): where, *n. */
static const char *scratch(struct enrich *en, const struct enrich_answer *ans,
                           enum enrich_kind kind, const char *s, size_t len,
                           size_t *n)
{
        char *p = en->scratch + en->used;

        if (ans->escaped >> kind & 1) {
                /* enrich_value()'s at most: the scratch's room */
                if (len > 6 * (kind == ENRICH_COUNTRY ? COUNTRY_MAX :
                               ENRICH_AS_NAME_MAX))
                        len = 0;
                memcpy(p, s, len);
                *n = len;
        } else {
                *n = enrich_value(kind, s, len, p);
        }
        en->used += *n;
        return p;
}

/* Field i's members from what is known of its address. */
static int add_members(struct enrich *en, size_t i,
                       const struct enrich_answer *ans,
                       const struct found *fd, struct ev_edits *e)
{
        const struct field *f = &en->f[i];
        unsigned bit = 4 * (unsigned)i;
        const char *v;
        size_t n;

        if (en->on[ENRICH_COUNTRY] && ans->country != NULL &&
            wanted(fd, bit + ENRICH_COUNTRY)) {
                v = scratch(en, ans, ENRICH_COUNTRY, ans->country,
                            ans->country_len, &n);
                if (add(e, fd, bit + ENRICH_COUNTRY, f->out[ENRICH_COUNTRY],
                        f->out_len[ENRICH_COUNTRY], KT_J_STRING, v, n) == -1)
                        return -1;
        }
        if (en->on[ENRICH_AS] && ans->has_asn && wanted(fd, bit + ENRICH_AS)) {
                v = en->scratch + en->used;
                en->used += n = put_u32(ans->asn, en->scratch + en->used);
                if (add(e, fd, bit + ENRICH_AS, f->out[ENRICH_AS],
                        f->out_len[ENRICH_AS], KT_J_NUMBER, v, n) == -1)
                        return -1;
        }
        if (en->on[ENRICH_AS_NAME] && ans->as_name != NULL &&
            wanted(fd, bit + ENRICH_AS_NAME)) {
                v = scratch(en, ans, ENRICH_AS_NAME, ans->as_name,
                            ans->as_name_len, &n);
                if (add(e, fd, bit + ENRICH_AS_NAME, f->out[ENRICH_AS_NAME],
                        f->out_len[ENRICH_AS_NAME], KT_J_STRING, v, n) == -1)
                        return -1;
        }
        /* a label needs no escape (netcidr.h) */
        if (en->on[ENRICH_NET] && ans->net != NULL &&
            add(e, fd, bit + ENRICH_NET, f->out[ENRICH_NET],
                f->out_len[ENRICH_NET], KT_J_STRING, ans->net,
                ans->net_len) == -1)
                return -1;
        return 0;
}

static int any_source(const struct enrich *en)
{
        int k;

        for (k = 0; k < ENRICH_KINDS; k++)
                if (en->on[k])
                        return 1;
        return 0;
}

int enrich_event(struct enrich *en, const struct kt_event *ev,
                 const struct enrich_lookup *lk, struct ev_edits *e)
{
        struct enrich_answer ans;
        struct ip_addr a;
        struct found fd;
        size_t i;
        int first = 1;

        if (ev->index.m == NULL)
                return 0;
        en->used = 0;
        find(en, &ev->index, &fd);
        for (i = 0; i < en->nf; i++) {
                if (address_of(fd.value[i], &a) == -1)
                        continue;
                ev_addr_put(e, fd.value[i]->value, fd.value[i]->value_len,
                            &a);
                /* ip_version: of the first address, before the rest */
                if (first && en->ipv_len > 0 &&
                    add(e, &fd, ENRICH_IP_VERSION_BIT, en->ipv, en->ipv_len,
                        KT_J_NUMBER, a.v6 ? "6" : "4", 1) == -1)
                        return -1;
                first = 0;
                if (!any_source(en))
                        continue;
                memset(&ans, 0, sizeof(ans));
                lk->lookup(lk->arg, &a, &ans);
                if (add_members(en, i, &ans, &fd, e) == -1)
                        return -1;
        }
        return 0;
}
