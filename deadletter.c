/*
 * deadletter.c: JSON lines built with json-c; rare, so no hot path here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "deadletter.h"
#include "clock.h"
#include "isotime.h"
#include "jsonscan.h"

int dl_open(struct deadletter *dl, const char *path, char *err, size_t errlen)
{
        memset(dl, 0, sizeof(*dl));
        if (path == NULL)
                return 0;
        if ((dl->fp = fopen(path, "a")) == NULL) {
                snprintf(err, errlen, "dead-letter file %s: %s", path,
                         strerror(errno));
                return -1;
        }
        if ((dl->path = strdup(path)) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

/*
 * JSON strings hold text: bytes that are not UTF-8 go in name with U+FFFD
 * for each bad byte, and byte for byte in b64name ("raw_base64").
 */
static void add_bytes(json_object *o, const char *name, const char *b64name,
                      const char *bytes, size_t len)
{
        const unsigned char *s = (const unsigned char *)bytes, *end = s + len;
        char *text, *p, *b64;
        int n;

        for (; s < end && (n = kt_utf8_len(s, end)) > 0; s += n)
                ;
        if (s == end) {
                json_object_object_add(o, name, json_object_new_string_len(
                                           bytes, (int)len));
                return;
        }
        text = malloc(len * 3 + 1);
        b64 = malloc((len + 2) / 3 * 4 + 1);
        if (text == NULL || b64 == NULL) {
                free(text);
                free(b64);
                return;
        }
        for (p = text, s = (const unsigned char *)bytes; s < end; s += n) {
                if ((n = kt_utf8_len(s, end)) == 0) {
                        memcpy(p, "\xef\xbf\xbd", 3);
                        p += 3;
                        n = 1;
                } else {
                        memcpy(p, s, (size_t)n);
                        p += n;
                }
        }
        json_object_object_add(o, name, json_object_new_string_len(
                                   text, (int)(p - text)));
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)bytes,
                        (int)len);
        json_object_object_add(o, b64name, json_object_new_string(b64));
        free(text);
        free(b64);
}

/* The event as built: what --replay produces again (dlread.h). */
static void add_event(json_object *o, const struct dead_event *e)
{
        json_object_object_add(o, "topic", json_object_new_string_len(
                                   e->topic, (int)e->topic_len));
        if (e->key == NULL)
                json_object_object_add(o, "key", NULL);
        else
                add_bytes(o, "key", "key_base64", e->key, e->key_len);
        json_object_object_add(o, "timestamp",
                               json_object_new_int64(e->timestamp_ms));
        add_bytes(o, "value", "value_base64", e->value, e->value_len);
}

static json_object *record_json(const struct dead_record *r)
{
        json_object *o = json_object_new_object();
        char iso[KT_ISO_LEN + 1];

        kt_format_iso8601(now_ms(), iso);
        json_object_object_add(o, "time", json_object_new_string(iso));
        json_object_object_add(o, "reason", json_object_new_string(r->reason));
        json_object_object_add(o, "message",
                               json_object_new_string(r->message));
        json_object_object_add(o, "error", r->error == NULL ? NULL :
                               json_object_new_string(r->error));
        /* with input.dir, line numbers are per file: which one */
        if (r->input != NULL) /* a name is bytes: "input_base64" too */
                add_bytes(o, "input", "input_base64", r->input,
                          strlen(r->input));
        json_object_object_add(o, "line", json_object_new_int64(
                                   (int64_t)r->line_no));
        json_object_object_add(o, "truncated",
                               json_object_new_boolean(r->truncated));
        if (r->withheld != NULL) {
                json_object_object_add(o, "raw", NULL);
                json_object_object_add(o, "raw_withheld",
                                       json_object_new_string(r->withheld));
        } else {
                add_bytes(o, "raw", "raw_base64", r->raw, r->raw_len);
        }
        if (r->event != NULL)
                add_event(o, r->event);
        return o;
}

int dl_usable(const struct deadletter *dl)
{
        return dl->fp != NULL && dl->error == 0;
}

int dl_write(struct deadletter *dl, const struct dead_record *r)
{
        json_object *o;
        const char *s;
        int rc = 0;

        if (!dl_usable(dl)) {
                errno = dl->error != 0 ? dl->error : EBADF;
                return -1;
        }
        o = record_json(r);
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                              JSON_C_TO_STRING_NOSLASHESCAPE);
        /* Flushed per record: a crash must not lose what was said here. */
        if (fputs(s, dl->fp) == EOF || fputc('\n', dl->fp) == EOF ||
            fflush(dl->fp) == EOF) {
                dl->error = errno != 0 ? errno : EIO;
                rc = -1;
        }
        json_object_put(o);
        if (rc == -1)
                errno = dl->error;
        return rc;
}

int dl_reopen(struct deadletter *dl)
{
        FILE *fp;

        if (dl->fp == NULL)
                return 0;
        if ((fp = fopen(dl->path, "a")) == NULL)
                return -1;
        fclose(dl->fp);
        dl->fp = fp;
        return 0;
}

void dl_close(struct deadletter *dl)
{
        if (dl->fp != NULL)
                fclose(dl->fp);
        free(dl->path);
        memset(dl, 0, sizeof(*dl));
}
