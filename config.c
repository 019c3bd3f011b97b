/*
 * config.c: "key = value" settings, varnishkafka's syntax.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "jsonscan.h"

/* K_PATH: a string; relative in a config file, it is taken from the
 * file's directory (the file and its schemas travel together). */
/* K_SECONDS: a duration, "90", "15m", "24h", "7d", stored in seconds. */
enum key_type { K_STRING, K_NUMBER, K_CHOICE, K_PATH, K_SECONDS };

struct key {
        const char   *name;
        enum key_type type;
        size_t        offset;
        long long     min, max;           /* K_NUMBER */
        const char *const *choices;       /* K_CHOICE: NULL-terminated */
};

/* A choice is stored as its index, through an int: the enums are ints. */
_Static_assert(sizeof(enum conf_output) == sizeof(int) &&
               sizeof(enum conf_timestamp) == sizeof(int) &&
               sizeof(enum conf_dt_fallback) == sizeof(int) &&
               sizeof(enum conf_onoff) == sizeof(int) &&
               sizeof(enum conf_encoding) == sizeof(int) &&
               sizeof(enum conf_avro_rawdata) == sizeof(int),
               "a choice is stored through an int");

/* In the order of their enum. */
static const char *const output_names[] = { "kafka", "stdout", NULL };
static const char *const timestamp_names[] = { "dt", "ingest", NULL };
static const char *const fallback_names[] = { "ingest", "reject", NULL };
static const char *const bool_names[] = { "false", "true", NULL };
static const char *const onoff_names[] = { "off", "on", NULL };
static const char *const fsync_names[] = { "interval", "always", "never",
                                           NULL };
static const char *const spool_mode_names[] = { "overflow", "always", NULL };
static const char *const encoding_names[] = { "json", "pnda-avro", NULL };
static const char *const rawdata_names[] = { "event", "raw", NULL };

#define STR(n, f) { n, K_STRING, offsetof(struct conf, f), 0, 0, NULL }
#define NUM(n, f, lo, hi) { n, K_NUMBER, offsetof(struct conf, f), lo, hi, NULL }
#define PATH(n, f) { n, K_PATH, offsetof(struct conf, f), 0, 0, NULL }
#define CHOICE(n, f, c) { n, K_CHOICE, offsetof(struct conf, f), 0, 0, c }
#define SECONDS(n, f, lo, hi) { n, K_SECONDS, offsetof(struct conf, f), lo, hi, NULL }

/* The anonymize stage (anonymize.h, salt.h). */
static const char *const anon_raw_names[] = { "withhold", "anonymize",
                                              NULL };
static const char *const anon_rule_names[] = { "truncate", "hash", "drop",
                                               NULL };

static const struct key keys[] = {
        STR("brokers", brokers),
        STR("topic", topic),
        STR("stream", stream),
        STR("schema", schema),
        STR("datacenter", datacenter),
        STR("domain", domain),
        STR("deadletter.file", dead_letter),
        PATH("schema.dir", schema_dir),
        STR("error.topic", error_topic),
        STR("error.stream", error_stream),
        STR("error.schema", error_schema),
        CHOICE("output", output, output_names),
        STR("key", key),
        CHOICE("timestamp", timestamp, timestamp_names),
        STR("dt.fields", dt_fields),
        STR("dt.timezone", timezone),
        CHOICE("dt.fallback", dt_fallback, fallback_names),
        STR("field.drop", drop),
        STR("field.keep", keep),
        STR("field.integer", integer),
        STR("field.time", time),
        CHOICE("sequence", sequence, onoff_names),
        STR("sequence.field", sequence_field),
        STR("sequence.run.field", sequence_run_field),
        STR("stats.file", stats_file),
        STR("metrics.file", metrics_file),
        STR("stdout.format", stdout_format),
        NUM("stats.interval.ms", stats_interval_ms, 100, 86400000),
        CHOICE("stats.rdkafka", stats_rdkafka, bool_names),
        NUM("stall.timeout.ms", stall_timeout_ms, 0, 86400000),
        NUM("loss.report.interval.ms", loss_report_interval_ms, 100,
            86400000),
        NUM("line.max", line_max, 16, 1LL << 30),
        NUM("flush.timeout.ms", flush_timeout_ms, 0, 86400000),
        NUM("drain.timeout.ms", drain_timeout_ms, 0, 86400000),
        NUM("queue.high.messages", queue_high_messages, 2, 10000000),
        NUM("queue.high.bytes", queue_high_bytes, 4096, 1LL << 40),
        NUM("topic.max", topic_max, 1, CONF_TOPICS_LIMIT),
        PATH("spool.dir", spool_dir),
        NUM("spool.max.bytes", spool_max_bytes, 1LL << 20, 1LL << 50),
        NUM("spool.segment.bytes", spool_segment_bytes, 4096, 1LL << 30),
        CHOICE("spool.fsync", spool_fsync, fsync_names),
        NUM("spool.fsync.interval.ms", spool_fsync_interval_ms, 1, 3600000),
        CHOICE("spool.mode", spool_mode, spool_mode_names),
        /* the directory input (indir.h): stdin is not read */
        PATH("input.dir", input_dir),
        NUM("input.dir.quiet.ms", input_dir_quiet_ms, 0, 86400000),
        NUM("input.dir.settle.ms", input_dir_settle_ms, 0, 3600000),
        NUM("input.dir.scan.ms", input_dir_scan_ms, 10, 3600000),
        CHOICE("input.dir.once", input_dir_once, bool_names),
        /* The enrich stage: defaults in enrich.c (NULL: not set) */
        STR("enrich.fields", enrich_fields),
        PATH("enrich.geoip.country", enrich_geoip_country),
        PATH("enrich.geoip.asn", enrich_geoip_asn),
        PATH("enrich.net.file", enrich_net_file),
        STR("enrich.name.country", enrich_name_country),
        STR("enrich.name.as", enrich_name_as),
        STR("enrich.name.as_name", enrich_name_as_name),
        STR("enrich.name.net", enrich_name_net),
        STR("enrich.name.ip_version", enrich_name_ip_version),
        /* anonymize: the fixed keys; anonymize.FIELD is a rule */
        NUM("anonymize.ipv4.prefix", anon_ipv4_prefix, 0, 32),
        NUM("anonymize.ipv6.prefix", anon_ipv6_prefix, 0, 128),
        NUM("anonymize.hash.length", anon_hash_length, 8, 64),
        PATH("anonymize.salt.file", anon_salt_file),
        SECONDS("anonymize.salt.rotate", anon_salt_rotate_s, 0,
                366LL * 86400),
        STR("anonymize.salt.field", anon_salt_field),
        CHOICE("anonymize.raw", anon_raw, anon_raw_names),
        /* the encode stage: avro.field.NAME is an extension's source */
        CHOICE("encoding", encoding, encoding_names),
        PATH("avro.schema", avro_schema),
        STR("avro.source", avro_source),
        CHOICE("avro.rawdata", avro_rawdata, rawdata_names),
        CHOICE("avro.timestamp", avro_timestamp, timestamp_names),
        NUM("avro.registry.id", avro_registry_id, 0, 2147483647),
};

/* Old names, still accepted (deprecated in kafkatee-pipe(1)). */
static const struct {
        const char *alias, *name;
} aliases[] = {
        { "dead_letter", "deadletter.file" },
};

static const struct {
        const char *prefix;
        size_t      offset;
        const char *const *choices; /* the values allowed, or NULL: any */
} prefixed[] = {
        { "kafka.", offsetof(struct conf, kafka), NULL },
        { "field.rename.", offsetof(struct conf, rename), NULL },
        { "field.const.", offsetof(struct conf, constant), NULL },
        { "header.", offsetof(struct conf, header), NULL },
        { "anonymize.", offsetof(struct conf, anonymize), anon_rule_names },
        { "avro.field.", offsetof(struct conf, avro_field), NULL },
};

void conf_init(struct conf *c)
{
        static const struct { const char *key, *value; } defaults[] = {
                { "stream", "netflow" },
                { "schema", "/netflow/flow/1.1.0" },
                { "error.schema", "/error/1.0.0" },
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
                { "sequence", "on" },
                { "sequence.field", "sequence" },
                { "sequence.run.field", "sequence_run" },
                { "line.max", "1048576" },
                { "flush.timeout.ms", "60000" },
                { "drain.timeout.ms", "10000" },
                { "queue.high.messages", "100000" },
                { "queue.high.bytes", "16777216" },
                { "stats.interval.ms", "10000" },
                { "stats.rdkafka", "false" },
                { "stall.timeout.ms", "60000" },
                { "loss.report.interval.ms", "60000" },
                { "topic.max", "64" },
                { "spool.max.bytes", "1073741824" },
                { "spool.segment.bytes", "16777216" },
                { "spool.fsync", "interval" },
                { "spool.fsync.interval.ms", "1000" },
                { "spool.mode", "overflow" },
                { "input.dir.quiet.ms", "60000" },
                { "input.dir.settle.ms", "2000" },
                { "input.dir.scan.ms", "1000" },
                { "input.dir.once", "false" },
                { "anonymize.ipv4.prefix", "24" },
                { "anonymize.ipv6.prefix", "48" },
                { "anonymize.hash.length", "16" },
                { "anonymize.salt.rotate", "24h" },
                { "anonymize.salt.field", "anon_salt" },
                { "anonymize.raw", "withhold" },
                { "encoding", "json" },
                { "avro.rawdata", "event" },
                { "avro.timestamp", "dt" },
        };
        char err[256];
        size_t i;

        memset(c, 0, sizeof(*c));
        c->verbosity = 1;
        c->avro_registry_id = -1; /* no framing unless an id is given */
        for (i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
                if (conf_set(c, defaults[i].key, defaults[i].value, err,
                             sizeof(err)) == -1)
                        abort(); /* a bad default is a bug */
}

void conf_kvlist_free(struct kvlist *l)
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
                if (keys[i].type == K_STRING || keys[i].type == K_PATH)
                        free(*(char **)((char *)c + keys[i].offset));
        for (i = 0; i < sizeof(prefixed) / sizeof(*prefixed); i++)
                conf_kvlist_free((struct kvlist *)((char *)c +
                                              prefixed[i].offset));
        conf_kvlist_free(&c->origin);
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

/* The index of value in the NULL-terminated choices, or -1. */
static int choice_index(const char *const *choices, const char *value)
{
        int i;

        for (i = 0; choices[i] != NULL; i++)
                if (strcmp(choices[i], value) == 0)
                        return i;
        return -1;
}

static int set_choice(const struct key *k, int *field, const char *value,
                      char *err, size_t errlen)
{
        int i = choice_index(k->choices, value);
        size_t len;

        if (i >= 0) {
                *field = i;
                return 0;
        }
        len = (size_t)snprintf(err, errlen, "%s: '%s' is not one of ",
                               k->name, value);
        for (i = 0; k->choices[i] != NULL && len < errlen; i++)
                len += (size_t)snprintf(err + len, errlen - len, "%s%s",
                                        i > 0 ? "|" : "", k->choices[i]);
        return -1;
}

static int set_number(const struct key *k, long long *field,
                      const char *value, char *err, size_t errlen)
{
        long long n;

        if (parse_number(value, &n) == -1 || n < k->min || n > k->max) {
                snprintf(err, errlen, "%s: '%s' is not a number from %lld "
                         "to %lld", k->name, value, k->min, k->max);
                return -1;
        }
        *field = n;
        return 0;
}

/* A K_SECONDS value: digits and an optional unit (s, m, h, d). */
static int set_seconds(const struct key *k, long long *field,
                       const char *value, char *err, size_t errlen)
{
        static const struct { char unit; long long s; } units[] = {
                { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
        };
        char *end;
        long long n;
        size_t i;

        errno = 0;
        n = strtoll(value, &end, 10);
        for (i = 0; end != value && *end != '\0' && end[1] == '\0' && i < 4;
             i++)
                if (*end == units[i].unit && n <= k->max) {
                        n *= units[i].s;
                        end++;
                }
        if (errno != 0 || end == value || *end != '\0' || n < k->min ||
            n > k->max || value[0] == '-' || value[0] == '+') {
                snprintf(err, errlen, "%s: '%s' is not a duration (a number "
                         "with s, m, h or d, up to %lld s)", k->name, value,
                         k->max);
                return -1;
        }
        *field = n;
        return 0;
}

/* value as a K_PATH: taken from base (a directory) unless absolute. */
static char *path_from(const char *base, const char *value)
{
        char *p;

        if (base == NULL || value[0] == '/' || value[0] == '\0')
                return strdup(value);
        if (asprintf(&p, "%s/%s", base, value) == -1)
                return NULL;
        return p;
}

static int set_known(struct conf *c, const struct key *k, const char *value,
                     char *err, size_t errlen)
{
        void *field = (char *)c + k->offset;
        char *dup;

        if (k->type == K_NUMBER)
                return set_number(k, field, value, err, errlen);
        if (k->type == K_CHOICE)
                return set_choice(k, field, value, err, errlen);
        if (k->type == K_SECONDS)
                return set_seconds(k, field, value, err, errlen);
        dup = k->type == K_PATH ? path_from(c->base_dir, value)
                                : strdup(value);
        if (dup == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        free(*(char **)field);
        *(char **)field = dup;
        return 0;
}

/* key under its name of today (an alias's is older). */
static const char *canonical(const char *key)
{
        size_t i;

        for (i = 0; i < sizeof(aliases) / sizeof(*aliases); i++)
                if (strcmp(aliases[i].alias, key) == 0)
                        return aliases[i].name;
        return key;
}

/* Keys whose value is read as JSON when it is JSON. */
static int takes_json(const char *key)
{
        return strncmp(key, "field.const.", 12) == 0 ||
               strncmp(key, "avro.field.", 11) == 0;
}

/*
 * A JSON-taking value that opens an object, an array or a string must
 * be JSON: '{bad' or '"unterminated' would quietly become a string.
 */
static int json_or_text(const char *key, const char *value, char *err,
                        size_t errlen)
{
        const char *p = value + strspn(value, " \t\r\n");
        char why[128];

        if (!takes_json(key) || (*p != '{' && *p != '[' && *p != '"') ||
            kt_json_check(value, strlen(value), why, sizeof(why)) == 0)
                return 0;
        snprintf(err, errlen, "%s: %s: a value that begins with %c must be "
                 "JSON (other text becomes a string)", key, why, *p);
        return -1;
}

static int set_prefixed(struct conf *c, size_t i, const char *key,
                        const char *value, char *err, size_t errlen)
{
        size_t n = strlen(prefixed[i].prefix);

        if (key[n] == '\0') {
                snprintf(err, errlen, "%s: a name must follow '%s'", key,
                         prefixed[i].prefix);
                return -1;
        }
        if (prefixed[i].choices != NULL &&
            choice_index(prefixed[i].choices, value) < 0) {
                const struct key k = { key, K_CHOICE, 0, 0, 0,
                                       prefixed[i].choices };
                int ignored;

                return set_choice(&k, &ignored, value, err, errlen);
        }
        if (json_or_text(key, value, err, errlen) == -1)
                return -1;
        if (kvlist_set((struct kvlist *)((char *)c + prefixed[i].offset),
                       key + n, value) == -1) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

/* The byte offset of the first invalid UTF-8 sequence in s, or -1. */
static long bad_utf8(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        const unsigned char *end = p + strlen(s);
        int n;

        for (; p < end; p += n)
                if ((n = kt_utf8_len(p, end)) == 0)
                        return (long)(p - (const unsigned char *)s);
        return -1;
}

/*
 * Keys and values end up in events, topics and messages, which are UTF-8:
 * a stray Latin-1 byte in a field.const would make every event invalid
 * JSON.  librdkafka's own properties are its business.
 */
static int utf8_ok(const char *key, const char *value, char *err,
                   size_t errlen)
{
        long at;

        if ((at = bad_utf8(key)) >= 0) {
                snprintf(err, errlen, "a key must be UTF-8 (invalid byte "
                         "at offset %ld)", at);
                return -1;
        }
        if (strncmp(key, "kafka.", 6) == 0 || (at = bad_utf8(value)) < 0)
                return 0;
        snprintf(err, errlen, "%s: the value must be UTF-8 (invalid byte "
                 "at offset %ld)", key, at);
        return -1;
}

int conf_set(struct conf *c, const char *key, const char *value, char *err,
             size_t errlen)
{
        size_t i;

        if (utf8_ok(key, value, err, errlen) == -1)
                return -1;
        key = canonical(key);
        for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
                if (strcmp(keys[i].name, key) == 0)
                        return set_known(c, &keys[i], value, err, errlen);
        for (i = 0; i < sizeof(prefixed) / sizeof(*prefixed); i++)
                if (strncmp(key, prefixed[i].prefix,
                            strlen(prefixed[i].prefix)) == 0)
                        return set_prefixed(c, i, key, value, err, errlen);
        snprintf(err, errlen, "unknown key '%s'", key);
        return -1;
}

int conf_set_at(struct conf *c, const char *where, const char *key,
                const char *value, char *err, size_t errlen)
{
        char msg[512];

        if (conf_set(c, key, value, msg, sizeof(msg)) == -1) {
                snprintf(err, errlen, "%s: %s", where, msg);
                return -1;
        }
        if (kvlist_set(&c->origin, canonical(key), where) == -1) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

const char *conf_where(const struct conf *c, const char *key)
{
        size_t i;

        key = canonical(key);
        for (i = 0; i < c->origin.n; i++)
                if (strcmp(c->origin.v[i].key, key) == 0)
                        return c->origin.v[i].value;
        return NULL;
}

/*
 * librdkafka's creation errors name properties in backquotes ("`acks`
 * must be set to `all` when ..."): the first one set by the user.
 */
static const char *rdkafka_where(const struct conf *c, const char *err)
{
        const char *p = err, *end, *w;
        char key[160];

        while ((p = strchr(p, '`')) != NULL &&
               (end = strchr(p + 1, '`')) != NULL) {
                snprintf(key, sizeof(key), "kafka.%.*s",
                         (int)(end - p - 1 < 150 ? end - p - 1 : 150), p + 1);
                if ((w = conf_where(c, key)) != NULL)
                        return w;
                p = end + 1;
        }
        return NULL;
}

void conf_place_key(const struct conf *c, const char *key, char *err,
                    size_t errlen)
{
        const char *where = conf_where(c, key);
        char *msg;

        if (where == NULL || (msg = strdup(err)) == NULL)
                return;
        snprintf(err, errlen, "%s: %s", where, msg);
        free(msg);
}

/* Whether s begins with key, then ':' or ' '. */
static int begins_with_key(const char *s, const char *key)
{
        size_t n = strlen(key);

        return strncmp(s, key, n) == 0 && (s[n] == ':' || s[n] == ' ');
}

/*
 * A module's message may name its own part first ("avro.schema (built
 * in): avro.field.x: ..."): the first key set by the user after a ": ".
 */
static const char *inner_where(const struct conf *c, const char *err)
{
        const char *p, *where = NULL, *first = NULL;
        size_t i;

        for (i = 0; i < c->origin.n; i++)
                for (p = err; (p = strstr(p, ": ")) != NULL; p++)
                        if (begins_with_key(p + 2, c->origin.v[i].key) &&
                            (first == NULL || p < first)) {
                                first = p;
                                where = c->origin.v[i].value;
                                break;
                        }
        return where;
}

void conf_place(const struct conf *c, char *err, size_t errlen)
{
        const struct kv *best = NULL;
        const char *where = NULL;
        char *msg;
        size_t i;

        for (i = 0; i < c->origin.n; i++)
                if (begins_with_key(err, c->origin.v[i].key) &&
                    (best == NULL ||
                     strlen(c->origin.v[i].key) > strlen(best->key)))
                        best = &c->origin.v[i];
        if (best != NULL)
                where = best->value;
        else if (strncmp(err, "kafka: ", 7) == 0)
                where = rdkafka_where(c, err);
        else
                where = inner_where(c, err);
        if (where == NULL || (msg = strdup(err)) == NULL)
                return;
        snprintf(err, errlen, "%s: %s", where, msg);
        free(msg);
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

/*
 * What a file's value cannot hold: quotes around it (values are written
 * bare), a '#' after a blank (a comment takes a line of its own).  A
 * JSON-taking key's JSON value holds what it likes.
 */
static int value_pitfall(const char *key, const char *value, char *err,
                         size_t errlen)
{
        size_t len = strlen(value);
        const char *hash = strstr(value, " #"), *tab = strstr(value, "\t#");
        int secret = strncmp(key, "kafka.", 6) == 0;

        if (takes_json(key) && kt_json_check(value, len, NULL, 0) == 0)
                return 0;
        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
                snprintf(err, errlen, "%s: values are written without "
                         "quotes%s%.*s%s%s", key, secret ? "" : ": ",
                         secret ? 0 : (int)len - 2, value + 1,
                         secret ? "" : ", not ", secret ? "" : value);
                return -1;
        }
        if (hash != NULL || tab != NULL) {
                snprintf(err, errlen, "%s: '#' after a blank in the value: "
                         "a comment takes a line of its own", key);
                return -1;
        }
        return 0;
}

static int conf_line(struct conf *c, const char *where, char *line,
                     char *err, size_t errlen)
{
        char *eq, *key, *value, msg[512];

        line = trim(line);
        if (*line == '\0' || *line == '#')
                return 0;
        if ((eq = strchr(line, '=')) == NULL) {
                snprintf(err, errlen, "%s: expected 'key = value'", where);
                return -1;
        }
        *eq = '\0';
        key = trim(line);
        value = trim(eq + 1);
        if (value_pitfall(key, value, msg, sizeof(msg)) == -1) {
                snprintf(err, errlen, "%s: %s", where, msg);
                return -1;
        }
        return conf_set_at(c, where, key, value, err, errlen);
}

/* The directory of path: "." for a bare name. */
static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');

        if (slash == NULL)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t)(slash - path));
}

int conf_read_file(struct conf *c, const char *path, char *err,
                   size_t errlen)
{
        FILE *fp = fopen(path, "r");
        char *line = NULL, *where = NULL;
        size_t cap = 0;
        int lineno = 0, r = 0;

        if (fp == NULL) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        if ((c->base_dir = dir_of(path)) == NULL) {
                snprintf(err, errlen, "out of memory");
                fclose(fp);
                return -1;
        }
        while (r == 0 && getline(&line, &cap, fp) != -1) {
                free(where);
                if (asprintf(&where, "%s:%d", path, ++lineno) == -1) {
                        where = NULL;
                        snprintf(err, errlen, "out of memory");
                        r = -1;
                        break;
                }
                r = conf_line(c, where, line, err, errlen);
        }
        if (r == 0 && ferror(fp)) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                r = -1;
        }
        free(line);
        free(where);
        fclose(fp);
        free(c->base_dir);
        c->base_dir = NULL;
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

/* One key's value as the file would write it, in buf; NULL: unset. */
static const char *setting_text(const struct conf *c, const struct key *k,
                                char *buf, size_t len)
{
        static const struct { char unit; long long s; } units[] = {
                { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 },
        };
        const void *field = (const char *)c + k->offset;
        long long n = k->type == K_NUMBER || k->type == K_SECONDS ?
                      *(const long long *)field : 0;
        size_t i;

        if (k->type == K_STRING || k->type == K_PATH)
                return *(char *const *)field;
        if (k->type == K_CHOICE)
                return k->choices[*(const int *)field];
        if (n < k->min) /* avro.registry.id's -1: not set */
                return NULL;
        for (i = 0; k->type == K_SECONDS && n > 0 && i < 3; i++)
                if (n % units[i].s == 0) {
                        snprintf(buf, len, "%lld%c", n / units[i].s,
                                 units[i].unit);
                        return buf;
                }
        snprintf(buf, len, "%lld", n);
        return buf;
}

int conf_each_setting(const struct conf *c,
                      int (*fn)(void *arg, const char *key,
                                const char *value),
                      void *arg)
{
        const struct kvlist *l;
        const char *value;
        char buf[32], *name;
        size_t i, j;
        int r = 0;

        for (i = 0; r == 0 && i < sizeof(keys) / sizeof(*keys); i++)
                if ((value = setting_text(c, &keys[i], buf,
                                          sizeof(buf))) != NULL)
                        r = fn(arg, keys[i].name, value);
        for (i = 0; r == 0 && i < sizeof(prefixed) / sizeof(*prefixed); i++) {
                l = (const struct kvlist *)((const char *)c +
                                            prefixed[i].offset);
                for (j = 0; r == 0 && j < l->n; j++) {
                        if (asprintf(&name, "%s%s", prefixed[i].prefix,
                                     l->v[j].key) == -1)
                                return -1;
                        r = fn(arg, name, l->v[j].value);
                        free(name);
                }
        }
        return r;
}

static int has_datacenter(const struct conf *c)
{
        return c->datacenter != NULL && *c->datacenter != '\0';
}

const char *conf_avro_source(const struct conf *c)
{
        if (c->avro_source != NULL)
                return c->avro_source;
        return c->stream != NULL ? c->stream : "";
}

void conf_route_vars(const struct conf *c, struct route_vars *v)
{
        v->schema = c->schema;
        v->stream = c->stream != NULL ? c->stream : "";
        v->datacenter = c->datacenter;
        v->domain = c->domain;
        v->format = c->encoding == CONF_ENCODING_PNDA_AVRO ? "avro" : "json";
        v->source = conf_avro_source(c);
}

/* With fields, the fixed text must fit in a topic name, or none would. */
static int topic_text_ok(const struct route_tmpl *t, char *err,
                         size_t errlen)
{
        size_t i, j, fixed = 0;
        const struct route_part *p;

        for (i = 0; i < t->n; i++) {
                p = &t->part[i];
                if (p->type != ROUTE_TEXT)
                        continue;
                fixed += p->len;
                for (j = 0; t->n_fields > 0 && j < p->len; j++) {
                        if (route_topic_legal(p->text + j, 1) ||
                            p->text[j] == '.')
                                continue;
                        snprintf(err, errlen, "topic: '%c' cannot be in a "
                                 "Kafka topic name ([a-zA-Z0-9._-])",
                                 p->text[j] >= 0x20 ? p->text[j] : '?');
                        return -1;
                }
        }
        if (fixed > CONF_TOPIC_MAX) {
                snprintf(err, errlen, "topic: longer than %d characters, "
                         "Kafka's limit", CONF_TOPIC_MAX);
                return -1;
        }
        if (t->n == 0) {
                snprintf(err, errlen, "topic: empty");
                return -1;
        }
        return 0;
}

int conf_topic_compile(const struct conf *c, struct route_tmpl *t,
                       struct route_fields *f, char *err, size_t errlen)
{
        const char *tmpl = c->topic;
        struct route_vars v;

        if (tmpl == NULL)
                tmpl = has_datacenter(c) ? "%{datacenter}.%{stream}"
                                         : "%{stream}";
        conf_route_vars(c, &v);
        if (route_compile(t, ROUTE_TOPIC, "topic", tmpl, &v, f, err,
                          errlen) == -1 ||
            topic_text_ok(t, err, errlen) == -1) {
                route_tmpl_free(t);
                return -1;
        }
        return 0;
}

char *conf_topic(const struct conf *c, char *err, size_t errlen)
{
        struct route_tmpl t;
        struct route_fields f = { NULL, 0 };
        char *topic = NULL;

        if (conf_topic_compile(c, &t, &f, err, errlen) == 0 &&
            (topic = route_label(&t, &f)) == NULL)
                snprintf(err, errlen, "out of memory");
        route_tmpl_free(&t);
        route_fields_free(&f);
        return topic;
}

/*
 * A template whose value is fixed for the run (error.topic, a header),
 * expanded: a string to free, or NULL with a message.  %{field:...} has
 * no value at start: refused, saying why.
 */
static char *fixed_template(enum route_kind kind, const char *what,
                            const char *text, const struct route_vars *v,
                            const char *no_fields, char *err, size_t errlen)
{
        struct route_tmpl t;
        struct route_fields f = { NULL, 0 };
        char *value = NULL;

        memset(&t, 0, sizeof(t));
        if (route_compile(&t, kind, what, text, v, &f, err, errlen) == -1)
                goto out;
        if (t.n_fields > 0) {
                snprintf(err, errlen, "%s: %%{field:...} is not allowed: %s",
                         what, no_fields);
                goto out;
        }
        if ((value = route_label(&t, &f)) == NULL)
                snprintf(err, errlen, "out of memory");
out:
        route_tmpl_free(&t);
        route_fields_free(&f);
        return value;
}

char *conf_error_topic(const struct conf *c, char *err, size_t errlen)
{
        struct route_vars v;
        char *topic;

        conf_route_vars(c, &v);
        topic = fixed_template(ROUTE_TOPIC, "error.topic", c->error_topic,
                               &v, "error events go to one topic", err,
                               errlen);
        if (topic != NULL && !route_topic_legal(topic, strlen(topic))) {
                snprintf(err, errlen, "error.topic: '%s' is not a topic name "
                         "Kafka takes ([a-zA-Z0-9._-], 1 to %d bytes)",
                         topic, ROUTE_TOPIC_MAX);
                free(topic);
                topic = NULL;
        }
        return topic;
}

/* One header's value, expanded: a string to free, or NULL. */
static char *header_value(const struct kv *h, const struct route_vars *v,
                          char *err, size_t errlen)
{
        char what[128];

        snprintf(what, sizeof(what), "header.%.100s", h->key);
        return fixed_template(ROUTE_HEADER, what, h->value, v,
                             "headers are made once, at start", err, errlen);
}

int conf_headers(const struct conf *c, struct kvlist *out, char *err,
                 size_t errlen)
{
        struct route_vars v;
        size_t i;
        char *value;

        memset(out, 0, sizeof(*out));
        conf_route_vars(c, &v);
        for (i = 0; i < c->header.n; i++) {
                if ((value = header_value(&c->header.v[i], &v, err,
                                          errlen)) == NULL) {
                        conf_kvlist_free(out);
                        return -1;
                }
                if (kvlist_set(out, c->header.v[i].key, value) == -1) {
                        free(value);
                        conf_kvlist_free(out);
                        snprintf(err, errlen, "out of memory");
                        return -1;
                }
                free(value);
        }
        return 0;
}

int conf_has_brokers(const struct conf *c)
{
        static const char *const props[] = { "bootstrap.servers",
                "metadata.broker.list", "test.mock.num.brokers" };
        size_t i, j;

        if (c->brokers != NULL)
                return 1;
        for (i = 0; i < c->kafka.n; i++)
                for (j = 0; j < sizeof(props) / sizeof(*props); j++)
                        if (strcmp(c->kafka.v[i].key, props[j]) == 0)
                                return 1;
        return 0;
}

static int is_item(void *name, const char *item)
{
        return strcmp(name, item) == 0;
}

/* Whether list (comma-separated) holds name. */
static int list_has(const char *list, const char *name)
{
        return conf_each_item(list, is_item, (void *)name) == 1;
}

/*
 * field.keep and field.drop match input names: one that names a
 * rename's target and not its source keeps or drops nothing of it.
 */
static int rules_by_input_name(const struct conf *c, char *err,
                               size_t errlen)
{
        static const char *const lists[] = { "field.keep", "field.drop" };
        const char *list;
        const struct kv *r;
        size_t i, j;

        for (i = 0; i < c->rename.n; i++) {
                r = &c->rename.v[i];
                for (j = 0; j < 2; j++) {
                        list = j == 0 ? c->keep : c->drop;
                        if (!list_has(list, r->value) ||
                            list_has(list, r->key))
                                continue;
                        snprintf(err, errlen, "%s: '%s' is the new name of "
                                 "field.rename.%s; %s matches input names: "
                                 "write '%s'", lists[j], r->value, r->key,
                                 lists[j], r->key);
                        return -1;
                }
        }
        return 0;
}

/* The last value of librdkafka property name (or its alias), or NULL. */
static const struct kv *kafka_prop(const struct conf *c, const char *name,
                                   const char *alias)
{
        const struct kv *found = NULL;
        size_t i;

        for (i = 0; i < c->kafka.n; i++)
                if (strcmp(c->kafka.v[i].key, name) == 0 ||
                    (alias != NULL && strcmp(c->kafka.v[i].key, alias) == 0))
                        found = &c->kafka.v[i];
        return found;
}

/* librdkafka's true for a boolean property (rdkafka_conf.c). */
static int rdkafka_true(const char *v)
{
        return strcasecmp(v, "true") == 0 || strcasecmp(v, "t") == 0 ||
               strcmp(v, "1") == 0;
}

/*
 * The producer is idempotent by default (output.c), which needs acks =
 * all: an acks set otherwise means what it says, and idempotence goes.
 */
static int acks_and_idempotence(struct conf *c, char *notice,
                                size_t noticelen, char *err, size_t errlen)
{
        const struct kv *acks = kafka_prop(c, "acks", "request.required.acks");
        const struct kv *idem = kafka_prop(c, "enable.idempotence", NULL);
        char k[128];

        if (acks == NULL || strcasecmp(acks->value, "all") == 0 ||
            strcmp(acks->value, "-1") == 0 ||
            (idem != NULL && !rdkafka_true(idem->value)))
                return 0;
        snprintf(k, sizeof(k), "kafka.%.100s", acks->key);
        if (idem != NULL) {
                const char *w = conf_where(c, "kafka.enable.idempotence");

                snprintf(err, errlen, "%s = %s and kafka.enable.idempotence "
                         "= %s%s%s%s: idempotence needs acks = all; set one "
                         "of them otherwise", k, acks->value,
                         idem->value, w != NULL ? " (" : "",
                         w != NULL ? w : "", w != NULL ? ")" : "");
                return -1;
        }
        /* said first: acks points into the list kvlist_set() grows */
        snprintf(notice, noticelen, "%s = %s: kafka.enable.idempotence "
                 "turned off (it needs acks = all): a retry may write an "
                 "event twice or out of order (the audit counts the "
                 "duplicates); set kafka.enable.idempotence = false to say "
                 "so", k, acks->value);
        conf_place(c, notice, noticelen);
        if (kvlist_set(&c->kafka, "enable.idempotence", "false") == -1) {
                snprintf(err, errlen, "out of memory");
                return -1;
        }
        return 0;
}

int conf_check(struct conf *c, char *notice, size_t noticelen, char *err,
               size_t errlen)
{
        *notice = '\0';
        if (rules_by_input_name(c, err, errlen) == -1 ||
            acks_and_idempotence(c, notice, noticelen, err, errlen) == -1) {
                conf_place(c, err, errlen);
                return -1;
        }
        return 0;
}
