/*
 * config.h: settings from the config file and the command line.
 *
 * One syntax for both: "key = value".  The command line is applied after
 * the file, so it wins.  Every key is documented in kafkatee-pipe(1).
 */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stddef.h>

#include "route.h"

#define KTP_NAME    "kafkatee-pipe"
#define KTP_VERSION "0.1.0"

/* Kafka refuses longer topic names (and librdkafka with them). */
#define CONF_TOPIC_MAX ROUTE_TOPIC_MAX

/*
 * topic.max's ceiling.  Each topic costs librdkafka a handle, metadata
 * and per-partition queues and batches: a template over a field with
 * many values (an address) would open thousands.  The default, 64,
 * covers routing by exporter or by tag at one site.
 */
#define CONF_TOPICS_LIMIT 4096

/* The choice keys, parsed once: each value is its name's index. */
enum conf_output { CONF_OUTPUT_KAFKA, CONF_OUTPUT_STDOUT };
enum conf_timestamp { CONF_TIMESTAMP_DT, CONF_TIMESTAMP_INGEST };
enum conf_dt_fallback { CONF_DT_FALLBACK_INGEST, CONF_DT_FALLBACK_REJECT };
enum conf_onoff { CONF_OFF, CONF_ON };
/* spool.fsync and spool.mode, in the order of their names. */
enum conf_fsync { CONF_FSYNC_INTERVAL, CONF_FSYNC_ALWAYS, CONF_FSYNC_NEVER };
enum conf_spool_mode { CONF_SPOOL_OVERFLOW, CONF_SPOOL_ALWAYS };
/* anonymize.raw: what the dead-letter file keeps of an input line. */
enum conf_anon_raw { CONF_ANON_WITHHOLD, CONF_ANON_REWRITE };
/* encoding: the message value's form; avro.rawdata: what PNDA's rawdata
 * holds (the values are avroenc.h's enum avro_rawdata). */
enum conf_encoding { CONF_ENCODING_JSON, CONF_ENCODING_PNDA_AVRO };
enum conf_avro_rawdata { CONF_AVRO_RAWDATA_EVENT, CONF_AVRO_RAWDATA_RAW };

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
        char *sequence_field, *sequence_run_field; /* their names */
        char *stats_file, *metrics_file;
        char *stdout_format;    /* stdout.format: kcat's -f tokens */
        char *schema_dir;       /* schema.dir: validation on when set */
        char *error_topic, *error_stream, *error_schema; /* error events */
        enum conf_output      output;
        enum conf_timestamp   timestamp;   /* the Kafka timestamp */
        enum conf_dt_fallback dt_fallback;
        enum conf_onoff       sequence;    /* the event's number and run */
        int                   stats_rdkafka; /* 0 false, 1 true */
        long long line_max;
        long long flush_timeout_ms, drain_timeout_ms;
        long long queue_high_messages, queue_high_bytes;
        long long stats_interval_ms, stall_timeout_ms;
        long long loss_report_interval_ms; /* loss reports' limit, each */
        long long topic_max;    /* distinct topics a run produces to */
        char     *spool_dir;    /* spool.dir: the disk spool when set */
        long long spool_max_bytes, spool_segment_bytes;
        enum conf_fsync      spool_fsync;
        long long            spool_fsync_interval_ms;
        enum conf_spool_mode spool_mode;
        /* input.dir: pmacct's files, one a purge (indir.h); NULL: stdin */
        char     *input_dir;
        long long input_dir_quiet_ms, input_dir_settle_ms, input_dir_scan_ms;
        int       input_dir_once; /* 0 false, 1 true */
        /* The enrich stage (enrich.h, geoip.h): NULL, the default */
        char *enrich_fields;
        char *enrich_geoip_country, *enrich_geoip_asn, *enrich_net_file;
        char *enrich_name_country, *enrich_name_as, *enrich_name_as_name;
        char *enrich_name_net, *enrich_name_ip_version;
        struct kvlist kafka;    /* kafka.PROP: librdkafka properties */
        struct kvlist rename;   /* field.rename.FROM = TO */
        struct kvlist constant; /* field.const.NAME = VALUE */
        struct kvlist header;   /* header.NAME = VALUE: Kafka headers */
        /* the anonymize stage: anonymize.FIELD = truncate|hash|drop */
        struct kvlist anonymize;
        long long anon_ipv4_prefix, anon_ipv6_prefix, anon_hash_length;
        char     *anon_salt_file, *anon_salt_field;
        long long anon_salt_rotate_s; /* 0: never */
        enum conf_anon_raw anon_raw;
        /* the encode stage (avroenc.h) */
        enum conf_encoding     encoding;
        char                  *avro_schema; /* NULL: the built-in one */
        char                  *avro_source; /* NULL: the stream */
        enum conf_avro_rawdata avro_rawdata;
        enum conf_timestamp    avro_timestamp;
        long long              avro_registry_id; /* -1: no framing */
        struct kvlist          avro_field;   /* avro.field.NAME = VALUE */
        int verbosity;          /* -q: 0, default 1, -v: 2 and more */
        const char *replay;     /* --replay FILE ("-": stdin), not a key:
                                 * argv's string */
        char *base_dir;         /* while a file is read: its directory */
        /* Where each key was set, for the errors found later: key (as
         * "kafka.acks", "header.x") = "FILE:LINE" or the option, as
         * "-o topic=x".  A default has none. */
        struct kvlist origin;
};

void conf_init(struct conf *c);
void conf_free(struct conf *c);

/* Sets one key.  Returns 0, or -1 with a message in err. */
int conf_set(struct conf *c, const char *key, const char *value, char *err,
             size_t errlen);

/*
 * conf_set(), and where records where key was set (conf_where()): a
 * file's "FILE:LINE", an option's text.  An error reads "where: ...".
 */
int conf_set_at(struct conf *c, const char *where, const char *key,
                const char *value, char *err, size_t errlen);

/*
 * Reads a file of "key = value" lines.  Errors read "path:line: ...".
 * Refused besides what conf_set() refuses: a value in double quotes and
 * a '#' after a blank inside a value (a comment takes a line of its
 * own), unless the key takes JSON (field.const.*, avro.field.*) and the
 * value is JSON.
 */
int conf_read_file(struct conf *c, const char *path, char *err,
                   size_t errlen);

/* Where key was set, or NULL: a default, or set by the program. */
const char *conf_where(const struct conf *c, const char *key);

/*
 * A message about a setting, err, begins with the key ("topic: ...",
 * "avro.rawdata = raw: ..."): prefixes it with where that key was set,
 * when it was (the longest key that fits wins).  Every error found at
 * start goes through it, so that it names the file and line.
 */
void conf_place(const struct conf *c, char *err, size_t errlen);
/* The same for a message about key that does not begin with it. */
void conf_place_key(const struct conf *c, const char *key, char *err,
                    size_t errlen);

/*
 * The checks of the settings as a whole, at start: field.keep or
 * field.drop naming a field.rename target (they match input names), and
 * kafka.acks against enable.idempotence: acks other than all turns
 * idempotence off, unless that is set too, with notice saying what that
 * costs; both set and at odds is an error.  Returns 0 (notice "" or a
 * message to print) or -1 with a message in err, placed (conf_place()).
 */
int conf_check(struct conf *c, char *notice, size_t noticelen, char *err,
               size_t errlen);

/*
 * The topic template ("%{datacenter}.%{stream}" by default) compiled
 * (route.h), its field names appended to f.  -1 with a message in err
 * when it is empty, its fixed text is longer than CONF_TOPIC_MAX, it
 * names a datacenter that is not set or an unknown placeholder, or, with
 * fields, its fixed text holds a character no topic name may.
 */
int conf_topic_compile(const struct conf *c, struct route_tmpl *t,
                       struct route_fields *f, char *err, size_t errlen);

/*
 * The topic template expanded, a string to free: the topic, or with
 * %{field:NAME} placeholders the template (route_label()).  NULL with a
 * message in err, as conf_topic_compile().
 */
char *conf_topic(const struct conf *c, char *err, size_t errlen);

/* error.topic expanded (set: c->error_topic != NULL), as conf_topic(); a
 * %{field:...} is refused. */
char *conf_error_topic(const struct conf *c, char *err, size_t errlen);

/* avro.source, else the stream: PNDA's source field and %{source}. */
const char *conf_avro_source(const struct conf *c);

/* The placeholders' values fixed for the run, from c. */
void conf_route_vars(const struct conf *c, struct route_vars *v);

/*
 * The header.NAME values expanded (%{schema}, %{stream}, %{datacenter},
 * %{domain}), in out (to kvlist_free... through conf_kvlist_free()).
 * -1 with a message in err ("header.x: unknown placeholder %{y}").
 */
int conf_headers(const struct conf *c, struct kvlist *out, char *err,
                 size_t errlen);
void conf_kvlist_free(struct kvlist *l);

/* Whether the settings name Kafka brokers (or a mock cluster). */
int conf_has_brokers(const struct conf *c);

/*
 * Calls fn for each item of a comma-separated list, trimmed, skipping
 * empty items.  Stops at the first non-zero return and returns it.
 */
int conf_each_item(const char *list, int (*fn)(void *arg, const char *item),
                   void *arg);

/*
 * Calls fn for each setting, as a config file would write it: the keys
 * in the order of config.c's table, each with its value (a choice by
 * its name, a duration in its largest whole unit; a path as resolved),
 * then the NAME keys (kafka.*, field.rename.*, ...); unset ones left out.
 * Stops at the first non-zero return and returns it (-1: out of memory).
 */
int conf_each_setting(const struct conf *c,
                      int (*fn)(void *arg, const char *key,
                                const char *value),
                      void *arg);

#endif /* KT_CONFIG_H */
