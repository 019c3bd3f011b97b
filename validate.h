/*
 * validate.h: the validate stage.  Every event is checked against its
 * stream's schema (schema.h) before it is produced, as EventGate does.
 *
 * Two paths, one verdict.  The fast path reads the event's members as the
 * transform wrote them (jsonwalk.h) and applies the checks compiled for
 * each member's name, with no DOM: a pmacct record is flat.  What it
 * cannot decide alone (a nested value whose schema needs structure, a
 * combinator over the whole event) goes to the general path: a json-c
 * document of the event, checked by kt_schema_validate().  The message of
 * an invalid event always comes from the general path, so both paths name
 * the same keyword and pointer.  Pure: no I/O after validator_open().
 */
#ifndef KT_VALIDATE_H
#define KT_VALIDATE_H

#include <stddef.h>

#include "jsonwalk.h"
#include "schema.h"

struct validator;

enum v_verdict { V_VALID, V_INVALID, V_NOMEM };

/* Which way a validator checks events: the fast path where it can, or
 * only the general one (tests compare the two). */
enum v_mode { V_MODE_FAST, V_MODE_GENERAL };

/*
 * Loads and compiles the schema at uri under dir (schema.h).  NULL with a
 * message in err: a schema error, or out of memory.
 */
struct validator *validator_open(const char *dir, const char *uri,
                                 enum v_mode mode, char *err, size_t errlen);
/* The same for a schema document in hand (tests, fuzzing): its $refs
 * may only point inside it. */
struct validator *validator_open_doc(struct json_object *schema,
                                     enum v_mode mode, char *err,
                                     size_t errlen);
void validator_close(struct validator *v);

/*
 * Checks event[0..len), one valid JSON value (the transform's output).
 * ix: its members as the transform wrote them, or NULL: the fast path
 * walks the event.  The keys of ix (kt_names_key) must all come from one
 * transform.  V_INVALID fills *e.
 */
enum v_verdict validator_check(struct validator *v, const char *event,
                               size_t len, const struct kt_index *ix,
                               struct kt_schema_error *e);

/* How many events took the general path (for the stats and the tests). */
unsigned long long validator_general_count(const struct validator *v);

/* How many sets of names it learnt (the tests: a set seen again is
 * remembered while it is among the last 64). */
unsigned long long validator_learnt_count(const struct validator *v);

#endif /* KT_VALIDATE_H */
