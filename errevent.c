/*
 * errevent.c: error events.  See errevent.h.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "errevent.h"
#include "isotime.h"

/* Adds key = s (NULL: nothing).  -1 when out of memory. */
static int add_string(struct json_object *o, const char *key, const char *s,
                      size_t len)
{
        struct json_object *v;

        if (s == NULL)
                return 0;
        if ((v = json_object_new_string_len(s, (int)len)) == NULL)
                return -1;
        if (json_object_object_add(o, key, v) != 0) {
                json_object_put(v);
                return -1;
        }
        return 0;
}

static int add_text(struct json_object *o, const char *key, const char *s)
{
        return add_string(o, key, s, s == NULL ? 0 : strlen(s));
}

static struct json_object *meta(const struct errevent_conf *c,
                                const struct errevent_in *in, const char *dt)
{
        struct json_object *m = json_object_new_object();

        if (m == NULL)
                return NULL;
        if (add_text(m, "stream", c->stream) == -1 ||
            add_text(m, "id", in->id) == -1 ||
            add_text(m, "dt", dt) == -1 ||
            add_text(m, "domain", c->domain) == -1) {
                json_object_put(m);
                return NULL;
        }
        return m;
}

static int fill(struct json_object *o, const struct errevent_conf *c,
                const struct errevent_in *in)
{
        char dt[KT_ISO_LEN + 1];
        struct json_object *m;

        kt_format_iso8601(in->now_ms, dt);
        if (add_text(o, "$schema", c->schema) == -1 ||
            (m = meta(c, in, dt)) == NULL)
                return -1;
        if (json_object_object_add(o, "meta", m) != 0) {
                json_object_put(m);
                return -1;
        }
        if (add_text(o, "dt", dt) == -1 ||
            add_text(o, "emitter_id", c->emitter_id) == -1 ||
            add_string(o, "raw_event", in->event, in->event_len) == -1 ||
            add_text(o, "message", in->message) == -1 ||
            add_text(o, "error_type", "validation") == -1 ||
            add_text(o, "errored_schema_uri", c->errored_schema_uri) == -1 ||
            add_text(o, "errored_stream_name", c->errored_stream_name) == -1)
                return -1;
        return 0;
}

char *errevent_build(const struct errevent_conf *c,
                     const struct errevent_in *in, size_t *len)
{
        struct json_object *o = json_object_new_object();
        const char *text;
        char *out = NULL;

        if (o != NULL && fill(o, c, in) == 0 &&
            (text = json_object_to_json_string_length(
                     o, JSON_C_TO_STRING_SPACED |
                        JSON_C_TO_STRING_NOSLASHESCAPE, len)) != NULL)
                out = strdup(text);
        json_object_put(o);
        return out;
}
