/*
 * tests/ttest.h: what the transform's unit tests share: the fixtures
 * (a transform with the test envelope, time zone callbacks), the checks
 * of one line's outcome, and json-c as the reference parser.
 *
 * The reference JSON parser is json-c in strict mode:
 *   json_tokener_new_ex(KT_MAX_DEPTH) with
 *   JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8,
 * fed the input plus its terminating NUL (json-c 0.16 cannot tell that a
 * top-level number or literal has ended without it), accepting only when it
 * succeeds AND json_tokener_get_parse_end() == length (the whole input was
 * consumed; json-c stops at the first NUL byte, so an embedded NUL fails).
 *
 * Depth.  json-c counts every value (scalars included) as one level: the
 * top-level value is at its internal depth 0 and a value can be opened at
 * internal depth d only when d < max_depth.  Counting the top-level object as
 * depth 1 (the spec's convention), new_ex(64) therefore accepts any value
 * whose own depth is <= 64 and rejects one at depth 65: no off-by-one
 * adjustment is needed, json_tokener_new_ex(KT_MAX_DEPTH) is the reference.
 * Consequence (see test_depth_boundary_value_depth): 64 nested containers are
 * accepted only while the innermost one is empty; a scalar inside the 64th
 * container sits at depth 65 and is rejected.  (json-c with new_ex(65) would
 * accept 65 nested empty containers, so no json-c setting implements a
 * "count containers only" rule.)
 *
 * Where json-c 0.16 is laxer than RFC 8259 the tests follow RFC 8259 and the
 * transform spec (which explicitly requires rejecting control characters,
 * overlong UTF-8, UTF-8-encoded surrogates and code points > U+10FFFF).
 * Observed json-c 0.16 strict-mode quirks (each is in the corpus below with
 * its json-c verdict, and the test checks json-c still behaves so):
 *   1. leading zeros: only a non-zero unsigned integer starting with 0 is
 *      rejected; "00", "-00", "-01", "0123.5" are accepted;
 *   2. empty fraction: "1.", "-1.", "2.", "1.e5" are accepted;
 *   3. "-.5" is accepted (".5" is not);
 *   4. NaN, Infinity, -Infinity are accepted (case-sensitive in strict mode);
 *   5. raw control characters U+0001..U+001F inside strings are accepted;
 *   6. JSON_TOKENER_VALIDATE_UTF8 only checks lead/continuation structure:
 *      overlong forms (C0 80, C1 BF, E0 80 80, F0 80 80 80), UTF-8-encoded
 *      surrogates (ED A0 80..ED BF BF) and code points above U+10FFFF
 *      (F4 90 80 80, F7 BF BF BF) are accepted;
 *   7. single-quoted object keys are accepted: {'a':1} (single-quoted values
 *      are rejected).
 * Define KT_TEST_FOLLOW_JSONC=1 to expect json-c's verdicts instead.
 */
#ifndef KT_TTEST_H
#define KT_TTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonscan.h"
#include "transform.h"

#ifndef KT_TEST_FOLLOW_JSONC
#define KT_TEST_FOLLOW_JSONC 0
#endif

#define TEST_ID "123e4567-e89b-12d3-a456-426614174000"
#define TEST_INGEST_MS INT64_C(1795422900123)
#define TEST_INGEST_ISO "2026-11-23T08:35:00.123Z" /* date -u -d @1795422900 */
#define SCHEMA "/netflow/flow/1.0.0"
#define STREAM "netflow"
#define DOMAIN "test.example"

/* Everything before the event time's value. */
#define PREFIX                                                              \
        "{\"$schema\": \"" SCHEMA "\", \"meta\": {\"stream\": \"" STREAM    \
        "\", \"id\": \"" TEST_ID "\", \"dt\": \"" TEST_INGEST_ISO           \
        "\", \"domain\": \"" DOMAIN "\"}, \"dt\": \""
/* The envelope when dt falls back to the ingestion time. */
#define PFX_INGEST PREFIX TEST_INGEST_ISO "\""
/* The envelope for a given event ISO time. */
#define PFX(iso) PREFIX iso "\""

/* A string literal that may hold NUL bytes, as (pointer, length). */
#define L(s) (s), (sizeof(s) - 1)

extern const struct kt_input IN;
extern struct kt_event EV; /* the last run()'s outcome */

#define T0 INT64_C(1795422800000) /* 2026-11-23 08:33:20 UTC */
/* Strings that are not pmacct times. */
extern const char *const BAD_TIMES[];
extern const size_t N_BAD_TIMES;

/*
 * Everything a test allocates is registered, so that a failing assertion
 * (which longjmps out of the test) does not leak under the sanitizers: the
 * teardown (cleanup) frees what is left.
 */
void *tmalloc(size_t n);
void tfree(void *p);
struct kt_transform *track(struct kt_transform *t);
void done(struct kt_transform *t);
int cleanup(void **state);

void show_bytes(const char *p, size_t n);
/* A tracked transform with the test envelope. */
struct kt_transform *mk(void);

/* Time zone callbacks. */
struct fixed_tz {
        int64_t offset_s; /* local = UTC + offset_s */
        int calls;
        struct tm last;
};

int fixed_fn(void *arg, const struct tm *local, int64_t *out);
int fail_fn(void *arg, const struct tm *local, int64_t *out);
int mktime_fn(void *arg, const struct tm *local, int64_t *out);

/* The production configuration of the default netflow stream. */
struct kt_transform *mk_prod(kt_local_to_utc_fn fn, void *arg);

void check_error_message(struct kt_transform *t, const char *file, int line);
enum kt_status run(struct kt_transform *t, const char *line, size_t len);
void expect_output_(struct kt_transform *t, const char *line, size_t len,
                    const char *exp, const char *file, int lineno);
/* expect_output(t, line, len, exp); line, len may come from L() */
#define expect_output(t, ...)                                              \
        expect_output_((t), __VA_ARGS__, __FILE__, __LINE__)
/* For NUL-free string literals / C strings. */
#define expect_out(t, line, exp) expect_output((t), (line), strlen(line), (exp))
void expect_invalid_(struct kt_transform *t, const char *line, size_t len,
                     const char *file, int lineno);
/* expect_invalid(t, line, len); line, len may come from L() */
#define expect_invalid(t, ...)                                             \
        expect_invalid_((t), __VA_ARGS__, __FILE__, __LINE__)
#define expect_inv(t, line) expect_invalid((t), (line), strlen(line))

/* The reference: json-c strict, whole input consumed. */
int jsonc_accepts(const char *buf, size_t len, int depth);
int is_json_ws(char c);
/* "YYYY-MM-DD HH:MM:SS" UTC -> ms */
int64_t ms_of(const char *utc);
/* Independent ISO formatter (gmtime_r + strftime). */
void ref_iso(int64_t ms, char out[32]);

#endif /* KT_TTEST_H */
