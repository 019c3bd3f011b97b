/*
 * anonymize.h: the anonymize stage (kafkatee-pipe(1), PRIVACY).  Each
 * rule names a field of the event by its output name (after renames):
 * truncate zeroes an address's host bits, hash writes an HMAC-SHA256 of
 * it keyed by the salt (salt.h keeps the salt; this module only borrows
 * it), drop leaves the member out.  With a hash rule, every event gets a
 * member naming the salt's generation, never the salt.
 *
 * Pure: no I/O, no globals.  The stage reads the event through its index
 * and writes its changes into struct ev_edits (evedit.h); it allocates
 * nothing per event (the values it writes live in the anonymizer until
 * the next event).  The same rules, by input name, re-write a raw input
 * line for the dead-letter file (anonymize.raw = anonymize).
 */
#ifndef KT_ANONYMIZE_H
#define KT_ANONYMIZE_H

#include <stddef.h>
#include <stdint.h>

#include "evedit.h"
#include "transform.h"

enum anon_rule { ANON_TRUNCATE, ANON_HASH, ANON_DROP };

/* Which names a rule goes by: the event's, or the input line's. */
enum anon_side { ANON_OUTPUT, ANON_INPUT };

enum anon_result {
        ANON_OK,
        ANON_REFUSED, /* the record is invalid: anon_error() says why,
                       * naming the field, never quoting its value */
        ANON_FULL,    /* more edits than struct ev_edits holds */
};

/* Rules per side: the stage's changes fit in one struct ev_edits. */
#define ANON_RULES_MAX (EV_EDITS_MAX - 1)

/* The bits of the names key that are the anonymize stage's (32-63). */
#define ANON_NAMES_FIRST_BIT 32

struct anon_opts {
        int         ipv4_prefix; /* 0..32 */
        int         ipv6_prefix; /* 0..128 */
        int         hash_len;    /* hex digits: 8..64, even */
        const char *salt_field;  /* the member naming the generation */
};

struct anonymizer;

/* NULL with a message in err: a bad option or out of memory. */
struct anonymizer *anon_new(const struct anon_opts *o, char *err,
                            size_t errlen);
void anon_free(struct anonymizer *a);

/*
 * Adds a rule ("truncate", "hash" or "drop") for a field: 0, or -1 with
 * a message in err (an unknown rule, a name given twice, too many).
 */
int anon_add(struct anonymizer *a, enum anon_side side, const char *field,
             const char *rule, char *err, size_t errlen);

/* The rule for name on side, or -1: none. */
int anon_rule_of(const struct anonymizer *a, enum anon_side side,
                 const char *name, size_t len);
/* Whether any rule hashes: the salt is needed and its id is added. */
int anon_hashes(const struct anonymizer *a);

/*
 * The salt of the hash rules, from now on: key[0..len) is borrowed and
 * must stay until the next call or anon_free(); id names its generation
 * (it goes in every event).  0, or -1 out of memory (the old salt stays).
 */
int anon_set_salt(struct anonymizer *a, const unsigned char *key,
                  size_t len, const char *id);

/*
 * The stage: the changes to ev (indexed) added to e, and the stage's
 * names bits set in e->names.  The values written stay valid until the
 * next call.  The events come from one transform: the members the rules
 * name are found once per names key (jsonwalk.h), as the validator
 * judges names.
 */
enum anon_result anon_stage(struct anonymizer *a, const struct kt_event *ev,
                            struct ev_edits *e);
const char *anon_error(const struct anonymizer *a);

/*
 * The raw line with the input rules applied to its top-level members,
 * into a buffer of the anonymizer (valid until the next call): its
 * length, or -1 when it cannot be re-written safely (not a JSON object,
 * a member name with an escape, out of memory): then withhold it.
 */
long anon_line(struct anonymizer *a, const char *line, size_t len,
               const char **out);

/*
 * Pure helpers, exposed for the tests.  anon_truncate: the address in
 * s[0..len) with its host bits zeroed, as inet_ntop writes it, into out
 * (room for 46 bytes): its length, or -1 if s is not an address.
 */
int anon_truncate(const char *s, size_t len, int v4_prefix, int v6_prefix,
                  char *out);

#endif /* KT_ANONYMIZE_H */
