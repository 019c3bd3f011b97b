/*
 * fuzz_validate.c: libFuzzer target for the validator's two paths.
 *
 * The input is a schema on its first line and events on the next ones.
 * A schema that loads is given to two validators, one that takes the
 * per-member path where it can (V_MODE_FAST) and one that only takes the
 * general, json-c one (V_MODE_GENERAL); every event that is valid JSON
 * goes to both, in order, so that the fast path's remembered shapes are
 * fuzzed too.  Their verdicts must agree; an invalid event must come
 * with a message.  A violation prints "FUZZ PROPERTY <name>: <why>" and
 * aborts, which libFuzzer saves as a reproducer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonscan.h"
#include "validate.h"

static void violated(const char *name, const char *why, const char *event,
                     size_t len)
{
        fprintf(stderr, "FUZZ PROPERTY %s: %s\nevent: %.*s\n", name, why,
                (int)(len > 2000 ? 2000 : len), event);
        abort();
}

static const char *verdict_name(enum v_verdict r)
{
        return r == V_VALID ? "valid" : r == V_INVALID ? "invalid" : "nomem";
}

static void check_event(struct validator *fast, struct validator *general,
                        const char *event, size_t len)
{
        struct kt_schema_error ef, eg;
        enum v_verdict rf, rg;
        char why[256];

        if (kt_json_check(event, len, NULL, 0) != 0)
                return;
        memset(&ef, 0, sizeof(ef));
        memset(&eg, 0, sizeof(eg));
        rf = validator_check(fast, event, len, NULL, &ef);
        rg = validator_check(general, event, len, NULL, &eg);
        if (rf == V_NOMEM || rg == V_NOMEM)
                return;
        if (rf != rg) {
                snprintf(why, sizeof(why), "fast path: %s, general path: %s "
                         "(%s)", verdict_name(rf), verdict_name(rg),
                         rg == V_INVALID ? eg.message : ef.message);
                violated("paths-agree", why, event, len);
        }
        if (rf == V_INVALID && (ef.message[0] == '\0' ||
                                strcmp(ef.message, eg.message) != 0))
                violated("same-message", ef.message, event, len);
}

static struct json_object *parse_schema(const uint8_t *data, size_t len)
{
        struct json_tokener *tok = json_tokener_new();
        struct json_object *doc;

        if (tok == NULL)
                return NULL;
        doc = json_tokener_parse_ex(tok, (const char *)data, (int)len);
        if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(doc);
                doc = NULL;
        }
        json_tokener_free(tok);
        return doc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *nl = memchr(data, '\n', size), *p, *end = data + size;
        struct validator *fast = NULL, *general = NULL;
        struct json_object *doc;
        char err[512];

        if (nl == NULL || (doc = parse_schema(data, (size_t)(nl - data))) ==
                                  NULL)
                return 0;
        fast = validator_open_doc(doc, V_MODE_FAST, err, sizeof(err));
        general = validator_open_doc(doc, V_MODE_GENERAL, err, sizeof(err));
        if ((fast == NULL) != (general == NULL))
                violated("both-load", err, "", 0);
        for (p = nl + 1; fast != NULL && p < end; p = nl + 1) {
                if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
                        nl = end;
                check_event(fast, general, (const char *)p,
                            (size_t)(nl - p));
        }
        validator_close(fast);
        validator_close(general);
        json_object_put(doc);
        return 0;
}
