/*
 * config.h: settings from the config file and the command line.
 *
 * One syntax for both: "key = value".  The command line is applied after
 * the file, so it wins.  Every key is documented in kafkatee-pipe(1).
 */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stddef.h>

#define KTP_NAME    "kafkatee-pipe"
#define KTP_VERSION "0.1.0"

/* Kafka refuses longer topic names (and librdkafka with them). */
#define CONF_TOPIC_MAX 249

/* The choice keys, parsed once: each value is its name's index. */
enum conf_output { CONF_OUTPUT_KAFKA, CONF_OUTPUT_STDOUT };
enum conf_timestamp { CONF_TIMESTAMP_DT, CONF_TIMESTAMP_INGEST };
enum conf_dt_fallback { CONF_DT_FALLBACK_INGEST, CONF_DT_FALLBACK_REJECT };

struct kv {
        char *key;
        char *value;
};

struct kvlist {
        struct kv *v;
        size_t     n;
};

struct conf {
        char *brokers, *topic, *stream, *schema, *datacenter, *domain;
        char *dead_letter;      /* deadletter.file */
        char *timezone, *key;
        char *dt_fields, *drop, *keep, *integer, *time; /* comma lists */
        char *stats_file, *metrics_file;
        char *schema_dir;       /* schema.dir: validation on when set */
        char *error_topic, *error_stream, *error_schema; /* error events */
        enum conf_output      output;
        enum conf_timestamp   timestamp;   /* the Kafka timestamp */
        enum conf_dt_fallback dt_fallback;
        int                   stats_rdkafka; /* 0 false, 1 true */
        long long line_max;
        long long flush_timeout_ms, drain_timeout_ms;
        long long queue_high_messages, queue_high_bytes;
        long long stats_interval_ms, stall_timeout_ms;
        struct kvlist kafka;    /* kafka.PROP: librdkafka properties */
        struct kvlist rename;   /* field.rename.FROM = TO */
        struct kvlist constant; /* field.const.NAME = VALUE */
        int verbosity;          /* -q: 0, default 1, -v: 2 and more */
        char *base_dir;         /* while a file is read: its directory */
};

void conf_init(struct conf *c);
void conf_free(struct conf *c);

/* Sets one key.  Returns 0, or -1 with a message in err. */
int conf_set(struct conf *c, const char *key, const char *value, char *err,
             size_t errlen);

/* Reads a file of "key = value" lines.  Errors read "path:line: ...". */
int conf_read_file(struct conf *c, const char *path, char *err,
                   size_t errlen);

/*
 * The topic template expanded ("%{datacenter}.%{stream}" by default), a
 * string to free; NULL with a message in err when it is empty, longer
 * than CONF_TOPIC_MAX, or names a datacenter that is not set.
 */
char *conf_topic(const struct conf *c, char *err, size_t errlen);

/* Whether the settings name Kafka brokers (or a mock cluster). */
int conf_has_brokers(const struct conf *c);

/*
 * Calls fn for each item of a comma-separated list, trimmed, skipping
 * empty items.  Stops at the first non-zero return and returns it.
 */
int conf_each_item(const char *list, int (*fn)(void *arg, const char *item),
                   void *arg);

#endif /* KT_CONFIG_H */
