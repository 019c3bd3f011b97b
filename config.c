/*
 * config.c: "key = value" settings, varnishkafka's syntax.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

enum key_type { K_STRING, K_NUMBER, K_CHOICE };

struct key {
        const char   *name;
        enum key_type type;
        size_t        offset;
        long long     min, max;  /* K_NUMBER */
        const char   *choices;   /* K_CHOICE: "a|b" */
};

#define STR(n, f) { n, K_STRING, offsetof(struct conf, f), 0, 0, NULL }
#define NUM(n, f, lo, hi) { n, K_NUMBER, offsetof(struct conf, f), lo, hi, NULL }
#define CHOICE(n, f, c) { n, K_CHOICE, offsetof(struct conf, f), 0, 0, c }

static const struct key keys[] = {
        STR("brokers", brokers),
        STR("topic", topic),
        STR("stream", stream),
        STR("schema", schema),
        STR("datacenter", datacenter),
        STR("domain", domain),
        STR("dead_letter", dead_letter),
        CHOICE("output", output, "kafka|stdout"),
        STR("key", key),
        CHOICE("timestamp", timestamp, "dt|ingest"),
        STR("dt.fields", dt_fields),
        STR("dt.timezone", timezone),
        CHOICE("dt.fallback", dt_fallback, "ingest|reject"),
        STR("field.drop", drop),
        STR("field.keep", keep),
        STR("field.integer", integer),
        STR("field.time", time),
        STR("stats.file", stats_file),
        STR("metrics.file", metrics_file),
        NUM("stats.interval.ms", stats_interval_ms, 100, 86400000),
        CHOICE("stats.rdkafka", stats_rdkafka, "false|true"),
        NUM("stall.timeout.ms", stall_timeout_ms, 0, 86400000),
        NUM("line.max", line_max, 16, 1LL << 30),
        NUM("flush.timeout.ms", flush_timeout_ms, 0, 86400000),
        NUM("drain.timeout.ms", drain_timeout_ms, 0, 86400000),
        NUM("queue.high.messages", queue_high_messages, 2, 10000000),
        NUM("queue.high.bytes", queue_high_bytes, 4096, 1LL << 40),
};

static const struct {
        const char *prefix;
        size_t      offset;
} prefixed[] = {
        { "kafka.", offsetof(struct conf, kafka) },
        { "field.rename.", offsetof(struct conf, rename) },
        { "field.const.", offsetof(struct conf, constant) },
};

void conf_init(struct conf *c)
{
        static const struct { const char *key, *value; } defaults[] = {
                { "stream", "netflow" },
                { "schema", "/netflow/flow/1.0.0" },
                { "output", "kafka" },
                { "timestamp", "dt" },
                { "dt.fields", "timestamp_start, timestamp_arrival, "
                               "stamp_inserted" },
                { "dt.timezone", "local" },
                { "dt.fallback", "ingest" },
                { "field.integer", "tcp_flags" },
                { "field.time", "timestamp_start, timestamp_end, "
                                "timestamp_arrival, stamp_inserted, "
                                "stamp_updated" },
                { "line.max", "1048576" },
                { "flush.timeout.ms", "60000" },
                { "drain.timeout.ms", "10000" },
                { "queue.high.messages", "100000" },
                { "queue.high.bytes", "16777216" },
                { "stats.interval.ms", "10000" },
                { "stats.rdkafka", "false" },
                { "stall.timeout.ms", "60000" },
        };
        char err[256];
        size_t i;

        memset(c, 0, sizeof(*c));
        c->verbosity = 1;
        for (i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
                if (conf_set(c, defaults[i].key, defaults[i].value, err,
                             sizeof(err)) == -1)
                        abort(); /* a bad default is a bug */
}

static void kvlist_free(struct kvlist *l)
{
        size_t i;

        for (i = 0; i < l->n; i++) {
                free(l->v[i].key);
                free(l->v[i].value);
        }
        free(l->v);
        memset(l, 0, sizeof(*l));
}

void conf_free(struct conf *c)
{
        size_t i;

        for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
                if (keys[i].type != K_NUMBER)
                        free(*(char **)((char *)c + keys[i].offset));
        for (i = 0; i < sizeof(prefixed) / sizeof(*prefixed); i++)
                kvlist_free((struct kvlist *)((char *)c +
                                              prefixed[i].offset));
}

/* Replaces key's value, or appends it: a later setting wins in place. */
static int kvlist_set(struct kvlist *l, const char *key, const char *value)
{
        size_t i;
        struct kv *v;
        char *dup = strdup(value);

        if (dup == NULL)
                return -1;
        for (i = 0; i < l->n; i++) {
                if (strcmp(l->v[i].key, key) == 0) {
                        free(l->v[i].value);
                        l->v[i].value = dup;
                        return 0;
                }
        }
        if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL ||
            (v[l->n].key = strdup(key)) == NULL) {
                free(dup);
                return -1;
        }
        v[l->n].value = dup;
        l->v = v;
        l->n++;
        return 0;
}

static int parse_number(const char *s, long long *out)
{
        char *end;

        errno = 0;
        *out = strtoll(s, &end, 10);
        return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

static int choice_ok(const char *choices, const char *value)
{
        size_t n = strlen(value);
        const char *p = choices;

        while ((p = strstr(p, value)) != NULL) {
                if ((p == choices || p[-1] == '|') &&
                    (p[n] == '\0' || p[n] == '|'))
                        return 1;
                p++;
        }
        return 0;
}

static int set_known(struct conf *c, const struct key *k, const char *value,
                     char *err, size_t errlen)
{
        void *field = (char *)c + k->offset;
        long long n;
        char *dup;

        if (k->type == K_NUMBER) {
                if (parse_number(value, &n) == -1 || n < k->min ||
                    n > k->max) {
                        snprintf(err, errlen, "%s: '%s' is not a number "
                                 "from %lld to %lld", k->name, value, k->min,
                                 k->max);
                        return -1;
                }
                *(long long *)field = n;
                return 0;
        }
        if (k->type == K_CHOICE && !choice_ok(k->choices, value)) {
                snprintf(err, errlen, "%s: '%s' is not one of %s", k->name,
                         value, k->choices);
                return -1;
        }
        if ((dup = strdup(value)) == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        free(*(char **)field);
        *(char **)field = dup;
        return 0;
}

int conf_set(struct conf *c, const char *key, const char *value, char *err,
             size_t errlen)
{
        size_t i, n;

        for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
                if (strcmp(keys[i].name, key) == 0)
                        return set_known(c, &keys[i], value, err, errlen);
        for (i = 0; i < sizeof(prefixed) / sizeof(*prefixed); i++) {
                n = strlen(prefixed[i].prefix);
                if (strncmp(key, prefixed[i].prefix, n) != 0)
                        continue;
                if (key[n] == '\0') {
                        snprintf(err, errlen, "%s: a name must follow '%s'",
                                 key, prefixed[i].prefix);
                        return -1;
                }
                if (kvlist_set((struct kvlist *)((char *)c +
                                                 prefixed[i].offset),
                               key + n, value) == -1) {
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                return 0;
        }
        snprintf(err, errlen, "unknown key '%s'", key);
        return -1;
}

static char *trim(char *s)
{
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
                           end[-1] == '\n' || end[-1] == '\r'))
                end--;
        *end = '\0';
        return s;
}

static int conf_line(struct conf *c, char *line, char *err, size_t errlen)
{
        char *eq, *key;

        line = trim(line);
        if (*line == '\0' || *line == '#')
                return 0;
        if ((eq = strchr(line, '=')) == NULL) {
                snprintf(err, errlen, "expected 'key = value'");
                return -1;
        }
        *eq = '\0';
        key = trim(line);
        return conf_set(c, key, trim(eq + 1), err, errlen);
}

int conf_read_file(struct conf *c, const char *path, char *err,
                   size_t errlen)
{
        FILE *fp = fopen(path, "r");
        char *line = NULL, msg[256];
        size_t cap = 0;
        int lineno = 0, r = 0;

        if (fp == NULL) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        while (r == 0 && getline(&line, &cap, fp) != -1) {
                lineno++;
                if ((r = conf_line(c, line, msg, sizeof(msg))) == -1)
                        snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
        }
        if (r == 0 && ferror(fp)) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                r = -1;
        }
        free(line);
        fclose(fp);
        return r;
}

int conf_each_item(const char *list, int (*fn)(void *arg, const char *item),
                   void *arg)
{
        char *copy, *p, *item, *save = NULL;
        int r = 0;

        if (list == NULL)
                return 0;
        if ((copy = strdup(list)) == NULL)
                return -1;
        for (p = copy; r == 0 && (item = strtok_r(p, ",", &save)) != NULL;
             p = NULL) {
                item = trim(item);
                if (*item != '\0')
                        r = fn(arg, item);
        }
        free(copy);
        return r;
}
