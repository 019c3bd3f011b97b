/*
 * anonymize.c: the anonymize stage, see anonymize.h and PRIVACY in
 * kafkatee-pipe(1).
 *
 * What a hash is of: HMAC-SHA256 keyed by the salt of one type byte and
 * the value's bytes: 0x04 and the 4 bytes of an IPv4 address (an
 * IPv4-mapped IPv6 address, ::ffff:a.b.c.d, is that IPv4 address: the
 * same hash), 0x06 and the 16 bytes of another IPv6 address, 0x00 and
 * the text of anything else (a string unescaped, a number as written).
 * So one address always has one hash in a generation, however written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "anonymize.h"
#include "grow.h"
#include "jsonscan.h"
#include "jsonwalk.h"
#include "netcidr.h"

/* The longest string value taken for an address (46: INET6_ADDRSTRLEN). */
#define ADDR_TEXT_MAX 64
/* The text of a value hashed as text is unescaped into this much. */
#define HASH_TEXT_MAX 1024
/* The names key's bit for the salt's member. */
#define SALT_BIT 63
/* The hashes of the addresses seen last (a power of 2). */
#define MEMO_SLOTS 256

/*
 * An address's hash, remembered: flows repeat addresses (an exporter's
 * peer_ip_src is in each of its records), and OpenSSL 3.0's HMAC costs
 * 7,700 instructions and 2 allocations a value (callgrind, valgrind).
 * Emptied when the salt changes.
 */
struct memo {
        unsigned char msg[17]; /* the type byte and the address */
        unsigned char len;     /* of msg; 0: empty */
        char          hex[64];
};

/*
 * The members the output rules name in the events of one names key
 * (jsonwalk.h: equal keys, the same names in the same places): found
 * once per key instead of a lookup per member, which cost 1,650
 * instructions an event (callgrind, 50,000 bench-gen records,
 * netflow-private.conf).  shape 0: an empty slot.
 */
#define KEY_SLOTS 8

struct key_rules {
        struct kt_key_tag tag;
        size_t        n;
        uint32_t      entry[ANON_RULES_MAX];
        unsigned char rule[ANON_RULES_MAX];
};

struct rule {
        char          *name;
        size_t         len;
        enum anon_rule rule;
};

struct anonymizer {
        struct anon_opts o;
        char            *salt_field;
        struct rule      r[2][ANON_RULES_MAX]; /* by enum anon_side */
        size_t           n[2];
        uint64_t         lens[2][128]; /* by a name's first byte, bit
                                        * L: a rule's name is L long (63:
                                        * 63 or longer) */
        int              hashes;
        EVP_MAC         *mac;
        EVP_MAC_CTX     *ctx;   /* keyed by the salt; NULL: none yet */
        char             id[64]; /* the salt's generation */
        char             val[ANON_RULES_MAX][ADDR_TEXT_MAX + 4];
        size_t           n_val;  /* val's in use for the event */
        char             text[HASH_TEXT_MAX]; /* an unescaped value */
        struct memo      memo[MEMO_SLOTS];
        struct key_rules keys[KEY_SLOTS];
        const struct ev_edits *edits; /* anon_stage()'s, in the call */
        char            *line;  /* anon_line()'s */
        size_t           line_cap;
        char             err[256];
};

static const char *const rule_names[] = {
        [ANON_TRUNCATE] = "truncate", [ANON_HASH] = "hash",
        [ANON_DROP] = "drop",
};

struct anonymizer *anon_new(const struct anon_opts *o, char *err,
                            size_t errlen)
{
        struct anonymizer *a;

        if (o->ipv4_prefix < 0 || o->ipv4_prefix > 32 ||
            o->ipv6_prefix < 0 || o->ipv6_prefix > 128 ||
            o->hash_len < 8 || o->hash_len > 64 || o->hash_len % 2 != 0 ||
            o->salt_field == NULL || o->salt_field[0] == '\0' ||
            strpbrk(o->salt_field, "\"\\") != NULL) {
                snprintf(err, errlen, "anonymize: prefixes 0..32 and "
                         "0..128, hash.length 8..64 and even, a plain "
                         "salt.field");
                return NULL;
        }
        if ((a = calloc(1, sizeof(*a))) == NULL ||
            (a->salt_field = strdup(o->salt_field)) == NULL) {
                free(a);
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        a->o = *o;
        a->o.salt_field = a->salt_field;
        return a;
}

void anon_free(struct anonymizer *a)
{
        size_t s, i;

        if (a == NULL)
                return;
        for (s = 0; s < 2; s++)
                for (i = 0; i < a->n[s]; i++)
                        free(a->r[s][i].name);
        EVP_MAC_CTX_free(a->ctx); /* OpenSSL cleanses the key it holds */
        EVP_MAC_free(a->mac);
        OPENSSL_cleanse(a->val, sizeof(a->val));
        OPENSSL_cleanse(a->memo, sizeof(a->memo));
        OPENSSL_cleanse(a->text, sizeof(a->text));
        if (a->line != NULL)
                OPENSSL_cleanse(a->line, a->line_cap);
        free(a->line);
        free(a->salt_field);
        free(a);
}

/* The bit of a name's length in lens. */
static uint64_t len_bit(size_t len)
{
        return 1ULL << (len < 63 ? len : 63);
}

/* A name's first byte, for lens (0 for an empty name). */
static unsigned first_byte(const char *name, size_t len)
{
        return len > 0 ? (unsigned char)name[0] & 127 : 0;
}

int anon_rule_of(const struct anonymizer *a, enum anon_side side,
                 const char *name, size_t len)
{
        size_t i;

        if ((a->lens[side][first_byte(name, len)] & len_bit(len)) == 0)
                return -1; /* most names: one test */
        for (i = 0; i < a->n[side]; i++)
                if (a->r[side][i].len == len &&
                    memcmp(a->r[side][i].name, name, len) == 0)
                        return (int)i;
        return -1;
}

/* A context of HMAC-SHA256 keyed by key, or NULL. */
static EVP_MAC_CTX *hmac_keyed(struct anonymizer *a, const unsigned char *key,
                               size_t len)
{
        OSSL_PARAM p[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC_CTX *ctx;

        if (a->mac == NULL && (a->mac = EVP_MAC_fetch(NULL, "HMAC",
                                                      NULL)) == NULL)
                return NULL;
        if ((ctx = EVP_MAC_CTX_new(a->mac)) == NULL)
                return NULL;
        if (EVP_MAC_init(ctx, key, len, p) != 1) {
                EVP_MAC_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

/*
 * OpenSSL's HMAC made ready with a key of zeros: the provider loaded,
 * the MAC and its digest fetched and cached.  Then keying with the salt
 * allocates only the context, which the caller may keep apart (salt.h's
 * salt_lend()), not OpenSSL's caches, which live until the end.
 */
static int hmac_ready(struct anonymizer *a)
{
        static const unsigned char zeros[32];
        EVP_MAC_CTX *ctx = hmac_keyed(a, zeros, sizeof(zeros));

        EVP_MAC_CTX_free(ctx);
        return ctx == NULL ? -1 : 0;
}

int anon_add(struct anonymizer *a, enum anon_side side, const char *field,
             const char *rule, char *err, size_t errlen)
{
        struct rule *r;
        size_t k;

        for (k = 0; k < 3 && strcmp(rule, rule_names[k]) != 0; k++)
                ;
        if (k == 3) {
                snprintf(err, errlen, "anonymize.%s: '%s' is not one of "
                         "truncate|hash|drop", field, rule);
                return -1;
        }
        if (anon_rule_of(a, side, field, strlen(field)) >= 0 ||
            a->n[side] == ANON_RULES_MAX) {
                snprintf(err, errlen, "anonymize.%s: given twice, or more "
                         "than %d fields", field, ANON_RULES_MAX);
                return -1;
        }
        if (k == ANON_HASH && a->mac == NULL && hmac_ready(a) == -1) {
                snprintf(err, errlen, "anonymize.%s: OpenSSL has no "
                         "HMAC-SHA256", field);
                return -1;
        }
        r = &a->r[side][a->n[side]];
        if ((r->name = strdup(field)) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        r->len = strlen(field);
        r->rule = (enum anon_rule)k;
        memset(a->keys, 0, sizeof(a->keys)); /* found without this rule */
        a->lens[side][first_byte(field, r->len)] |= len_bit(r->len);
        a->n[side]++;
        if (k == ANON_HASH)
                a->hashes = 1;
        return 0;
}

int anon_hashes(const struct anonymizer *a)
{
        return a->hashes;
}

int anon_set_salt(struct anonymizer *a, const unsigned char *key,
                  size_t len, const char *id)
{
        EVP_MAC_CTX *ctx = hmac_keyed(a, key, len);

        if (ctx == NULL)
                return -1;
        EVP_MAC_CTX_free(a->ctx);
        a->ctx = ctx;
        OPENSSL_cleanse(a->memo, sizeof(a->memo)); /* the old hashes */
        snprintf(a->id, sizeof(a->id), "%s", id);
        return 0;
}

const char *anon_error(const struct anonymizer *a)
{
        return a->err;
}

/* --- values --------------------------------------------------------------- */

/* Zeroes the bits of b[0..n) after the first bits. */
static void keep_bits(unsigned char *b, size_t n, int bits)
{
        size_t i;

        for (i = 0; i < n; i++, bits -= 8) {
                if (bits >= 8)
                        continue;
                b[i] &= bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
        }
}

static int is_mapped(const unsigned char *b)
{
        static const unsigned char pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                               0, 0xff, 0xff };

        return memcmp(b, pre, sizeof(pre)) == 0;
}

/*
 * 4 or 16 with the address's bytes in b (16), or 0: not an address.
 * netcidr.h's parser, which the enrich stage uses too: dotted quads read
 * in place, tested against inet_pton.
 */
static int parse_addr(const char *s, size_t len, unsigned char *b)
{
        struct ip_addr a;

        if (ip_addr_parse(s, len, &a) == -1)
                return 0;
        memcpy(b, a.b, a.v6 ? 16 : 4);
        return a.v6 ? 16 : 4;
}

/*
 * b as inet_ntop(AF_INET) writes it: its length.  By hand: glibc's
 * inet_ntop prints IPv4 with sprintf; truncate cost 2,450 instructions
 * an address with it, 1,110 without (callgrind, 100,000 bench-gen
 * records, ip_src and ip_dst truncated).
 */
static int format_v4(const unsigned char *b, char *out)
{
        char *p = out;
        int i;

        for (i = 0; i < 4; i++) {
                if (b[i] >= 100)
                        *p++ = (char)('0' + b[i] / 100);
                if (b[i] >= 10)
                        *p++ = (char)('0' + b[i] / 10 % 10);
                *p++ = (char)('0' + b[i] % 10);
                *p++ = i < 3 ? '.' : '\0';
        }
        return (int)(p - out - 1);
}

/* The longest run of zero groups of w[0..8) (the first of equal ones),
 * at *base: its length, 0 when shorter than 2. */
static int zero_run(const unsigned *w, int *base)
{
        int i, len = 0, cur = 0;

        for (i = 0; i < 8; i++) {
                cur = w[i] == 0 ? cur + 1 : 0;
                if (cur > len) {
                        len = cur;
                        *base = i - cur + 1;
                }
        }
        return len >= 2 ? len : 0;
}

/* One group in hex, without leading zeros: its length. */
static int put_group(unsigned w, char *p)
{
        static const char hex[] = "0123456789abcdef";
        int n = w >= 0x1000 ? 4 : w >= 0x100 ? 3 : w >= 0x10 ? 2 : 1, i;

        for (i = n - 1; i >= 0; i--, w >>= 4)
                p[i] = hex[w & 15];
        return n;
}

/*
 * b as inet_ntop(AF_INET6) writes it (RFC 5952: the longest run of zero
 * groups as "::", an IPv4-compatible or -mapped address's last 32 bits
 * as a dotted quad): its length.  By hand: glibc prints each group with
 * sprintf, 1,000 instructions an address (callgrind); tested against
 * inet_ntop at random.
 */
static int format_v6(const unsigned char *b, char *out)
{
        unsigned w[8];
        int i, base = -1, run;
        char *p = out;

        for (i = 0; i < 8; i++)
                w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
        run = zero_run(w, &base);
        for (i = 0; i < 8; i++) {
                if (run > 0 && i >= base && i < base + run) {
                        if (i == base)
                                *p++ = ':';
                        continue;
                }
                if (i > 0)
                        *p++ = ':';
                if (i == 6 && base == 0 &&
                    (run == 6 || (run == 5 && w[5] == 0xffff)))
                        return (int)(p - out) + format_v4(b + 12, p);
                p += put_group(w[i], p);
        }
        if (run > 0 && base + run == 8)
                *p++ = ':';
        *p = '\0';
        return (int)(p - out);
}

/* The address b (n bytes: 4, 16, or 0 for none) truncated into out. */
static int truncate_bytes(unsigned char *b, int n, int v4_prefix,
                          int v6_prefix, char *out)
{
        if (n == 4) {
                keep_bits(b, 4, v4_prefix);
                return format_v4(b, out);
        }
        if (n == 16 && is_mapped(b))
                keep_bits(b + 12, 4, v4_prefix);
        else if (n == 16)
                keep_bits(b, 16, v6_prefix);
        else
                return -1;
        return format_v6(b, out);
}

int anon_truncate(const char *s, size_t len, int v4_prefix, int v6_prefix,
                  char *out)
{
        unsigned char b[16];

        return truncate_bytes(b, parse_addr(s, len, b), v4_prefix, v6_prefix,
                              out);
}

/* parse_addr(), or what an earlier stage found the value to be. */
static int stage_addr(const struct anonymizer *a, const char *s, size_t len,
                      unsigned char *b)
{
        const struct ip_addr *p;

        if (a->edits == NULL || (p = ev_addr_get(a->edits, s, len)) == NULL)
                return parse_addr(s, len, b);
        memcpy(b, p->b, 16);
        return p->v6 ? 16 : 4;
}

/* The memo's slot for msg[0..len) (FNV-1a). */
static struct memo *memo_slot(struct anonymizer *a, const unsigned char *msg,
                              size_t len)
{
        uint32_t h = 2166136261u;
        size_t i;

        for (i = 0; i < len; i++)
                h = (h ^ msg[i]) * 16777619u;
        return &a->memo[h & (MEMO_SLOTS - 1)];
}

/* HMAC-SHA256 of msg[0..n) and p[0..len), as hash_len hex digits into
 * out: 0, or -1 (no salt, OpenSSL failed). */
static int hmac_hex(struct anonymizer *a, const unsigned char *msg, size_t n,
                    const void *p, size_t len, char *out)
{
        static const char hex[] = "0123456789abcdef";
        unsigned char mac[32];
        size_t maclen = 0;
        int i;

        /* the key kept: OpenSSL 3.0 copies its digest states here, two
         * allocations (valgrind) */
        if (a->ctx == NULL || EVP_MAC_init(a->ctx, NULL, 0, NULL) != 1 ||
            EVP_MAC_update(a->ctx, msg, n) != 1 ||
            EVP_MAC_update(a->ctx, p, len) != 1 ||
            EVP_MAC_final(a->ctx, mac, &maclen, sizeof(mac)) != 1)
                return -1;
        for (i = 0; i < a->o.hash_len / 2; i++) {
                out[2 * i] = hex[mac[i] >> 4];
                out[2 * i + 1] = hex[mac[i] & 15];
        }
        OPENSSL_cleanse(mac, sizeof(mac));
        return 0;
}

/* The hash of a value (see the top of the file) into out: 0, or -1. */
static int hash_value(struct anonymizer *a, const char *s, size_t len,
                      char *out)
{
        unsigned char msg[17];
        struct memo *m;
        int n = stage_addr(a, s, len, msg + 1);

        if (n == 0) {
                msg[0] = 0;
                return hmac_hex(a, msg, 1, s, len, out);
        }
        if (n == 16 && is_mapped(msg + 1)) {
                memmove(msg + 1, msg + 13, 4);
                n = 4;
        }
        msg[0] = (unsigned char)(n == 4 ? 4 : 6);
        m = memo_slot(a, msg, (size_t)n + 1);
        if (a->ctx != NULL && m->len == n + 1 &&
            memcmp(m->msg, msg, (size_t)n + 1) == 0) {
                memcpy(out, m->hex, (size_t)a->o.hash_len);
                return 0;
        }
        if (hmac_hex(a, msg, (size_t)n + 1, "", 0, out) == -1)
                return -1;
        memcpy(m->msg, msg, (size_t)n + 1);
        m->len = (unsigned char)(n + 1);
        memcpy(m->hex, out, (size_t)a->o.hash_len);
        return 0;
}

/*
 * The new text of a value under rule r (truncate or hash) into out: its
 * length, or -1: the value cannot be (not an address for truncate, not a
 * string or number, too long, no salt).  A string with escapes is read
 * unescaped.
 */
static int anon_value(struct anonymizer *a, enum anon_rule r,
                      enum kt_jkind kind, const char *v, size_t len,
                      int escaped, char *out)
{
        unsigned char b[16];

        if (kind != KT_J_STRING && !(r == ANON_HASH && kind == KT_J_NUMBER))
                return -1;
        if (escaped) {
                if (len > sizeof(a->text))
                        return -1;
                len = kt_json_unescape(v, len, a->text);
                v = a->text;
        }
        if (r == ANON_TRUNCATE)
                return truncate_bytes(b, stage_addr(a, v, len, b),
                                      a->o.ipv4_prefix, a->o.ipv6_prefix, out);
        if (hash_value(a, v, len, out) == -1)
                return -1;
        return a->o.hash_len;
}

/* --- the stage ------------------------------------------------------------ */

static enum anon_result refuse(struct anonymizer *a, const struct rule *r)
{
        snprintf(a->err, sizeof(a->err), "anonymize.%s: %s", r->name,
                 r->rule == ANON_TRUNCATE ? "not an IP address (truncate)"
                                          : "not a string or a number "
                                            "(hash), or no salt");
        return ANON_REFUSED;
}

/* Whether m's value holds an escape sequence: most are known not to,
 * the rest are looked at (not unescaped into a copy for nothing). */
static int has_escape(const struct kt_member *m)
{
        if (m->escaped != KT_ESCAPES_UNKNOWN)
                return m->escaped;
        return memchr(m->value, '\\', m->value_len) != NULL;
}

/* One member under its rule k: its change added to e. */
static enum anon_result member(struct anonymizer *a, const struct kt_member *m,
                               size_t entry, int k, struct ev_edits *e)
{
        const struct rule *r = &a->r[ANON_OUTPUT][k];
        char *out;
        int n;

        if (r->rule == ANON_DROP) {
                e->names |= 1ULL << (ANON_NAMES_FIRST_BIT + k);
                return ev_drop(e, entry) == 0 ? ANON_OK : ANON_FULL;
        }
        if (m->kind == KT_J_NULL)
                return ANON_OK; /* nothing to hide */
        if (a->n_val == ANON_RULES_MAX) /* never: one member a rule */
                return ANON_FULL;
        out = a->val[a->n_val++];
        if ((n = anon_value(a, r->rule, (enum kt_jkind)m->kind, m->value,
                            m->value_len, has_escape(m), out)) < 0)
                return refuse(a, r);
        return ev_set(e, entry, KT_J_STRING, out, (size_t)n) == 0 ? ANON_OK
                                                                : ANON_FULL;
}

/* The members of ix that rules name, into kr. */
static void find_rules(const struct anonymizer *a, const struct kt_index *ix,
                       struct key_rules *kr)
{
        size_t i;
        int k;

        kr->n = 0;
        for (i = 0; i < ix->n; i += 1 + (ix->m[i].children > 0 ?
                                         (size_t)ix->m[i].children : 0)) {
                /* names compare as bytes: the transform refuses a name
                 * with an escape sequence */
                k = anon_rule_of(a, ANON_OUTPUT, ix->m[i].name,
                                 ix->m[i].name_len);
                if (k < 0)
                        continue;
                kr->entry[kr->n] = (uint32_t)i;
                kr->rule[kr->n++] = (unsigned char)k;
        }
}

/* The members of ix that rules name: those of its names key, found
 * once; without a key, into *tmp. */
static const struct key_rules *rules_of(struct anonymizer *a,
                                        const struct kt_index *ix,
                                        struct key_rules *tmp)
{
        struct key_rules *kr;

        if (ix->names.shape == 0) {
                find_rules(a, ix, tmp);
                return tmp;
        }
        kr = &a->keys[kt_key_slot(ix, KEY_SLOTS)];
        if (!kt_key_tag_hit(&kr->tag, ix))
                find_rules(a, ix, kr);
        return kr;
}

enum anon_result anon_stage(struct anonymizer *a, const struct kt_event *ev,
                            struct ev_edits *e)
{
        const struct kt_index *ix = &ev->index;
        const struct key_rules *kr;
        struct key_rules tmp;
        enum anon_result res = ANON_OK;
        size_t i;

        a->n_val = 0;
        a->edits = e; /* the addresses enrich read */
        kr = rules_of(a, ix, &tmp);
        for (i = 0; i < kr->n; i++)
                if ((res = member(a, &ix->m[kr->entry[i]], kr->entry[i],
                                  kr->rule[i], e)) != ANON_OK)
                        break;
        a->edits = NULL;
        if (i < kr->n)
                return res;
        if (!a->hashes)
                return ANON_OK;
        e->names |= 1ULL << SALT_BIT;
        return ev_add(e, a->salt_field, strlen(a->salt_field), KT_J_STRING,
                      a->id, strlen(a->id)) == 0 ? ANON_OK : ANON_FULL;
}

/* --- the raw line ------------------------------------------------------- */

static int put(struct anonymizer *a, size_t *n, const char *s, size_t len)
{
        if (kt_grow(&a->line, &a->line_cap, *n + len + 1, 1) == -1)
                return -1;
        memcpy(a->line + *n, s, len);
        *n += len;
        return 0;
}

/* A member's value as written, or under rule k: null when it cannot be. */
static int put_value(struct anonymizer *a, size_t *n, const struct kt_wval *v,
                     int k)
{
        char out[ADDR_TEXT_MAX + 4];
        int len;

        if (k < 0 && v->kind == KT_J_STRING)
                return put(a, n, "\"", 1) || put(a, n, v->p, v->len) ||
                       put(a, n, "\"", 1) ? -1 : 0;
        if (k < 0)
                return put(a, n, v->p, v->len);
        len = anon_value(a, a->r[ANON_INPUT][k].rule, v->kind, v->p, v->len,
                         v->escaped, out);
        if (len < 0)
                return put(a, n, "null", 4);
        return put(a, n, "\"", 1) || put(a, n, out, (size_t)len) ||
               put(a, n, "\"", 1) ? -1 : 0;
}

long anon_line(struct anonymizer *a, const char *line, size_t len,
               const char **out)
{
        struct kt_wval doc, name, value;
        struct kt_walk w;
        size_t n = 0, i = 0;
        int k;

        if (kt_json_check(line, len, NULL, 0) == -1)
                return -1;
        kt_walk_document(line, len, &doc);
        if (doc.kind != KT_J_OBJECT || put(a, &n, "{", 1) == -1)
                return -1;
        kt_walk_begin(&w, &doc);
        while (kt_walk_next_member(&w, &name, &value)) {
                if (name.escaped)
                        return -1; /* a name to read twice: withheld */
                k = anon_rule_of(a, ANON_INPUT, name.p, name.len);
                if (k >= 0 && a->r[ANON_INPUT][k].rule == ANON_DROP)
                        continue;
                if ((i++ > 0 && put(a, &n, ", ", 2) == -1) ||
                    put(a, &n, "\"", 1) == -1 ||
                    put(a, &n, name.p, name.len) == -1 ||
                    put(a, &n, "\": ", 3) == -1 ||
                    put_value(a, &n, &value, k) == -1)
                        return -1;
        }
        if (put(a, &n, "}", 1) == -1)
                return -1;
        *out = a->line;
        return (long)n;
}
