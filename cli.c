/*
 * cli.c: the command line.  Options are kept as "key = value" settings of
 * the config file, applied after it, so that the command line wins.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "cli.h"
#include "journal.h"
#include "output.h"

struct cli {
        const char   *config_path;
        struct kvlist sets;  /* in their order: a later one wins */
        char        **where; /* sets.v[i]'s option as written */
        char         *opt;   /* the option being read, as written */
        int           verbosity;
        const char   *replay;  /* --replay: not a setting of FILE */
        int           dump;    /* -X dump: print the settings, exit */
};

static void cli_error(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

static void cli_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        journal_vsay(PRIO_ERR, fmt, ap);
        va_end(ap);
}

static void usage(FILE *fp)
{
        fprintf(fp,
"Usage: " KTP_NAME " [-c FILE] [-b BROKERS] [-t TOPIC] [-X PROP=VALUE]... [options]\n"
"Reads pmacct JSON lines on stdin, produces enveloped events to Kafka.\n"
"\n"
"  -c, --config FILE       read settings from FILE (key = value)\n"
"  -b, --brokers LIST      Kafka bootstrap brokers (host:port,...)\n"
"  -t, --topic TOPIC       topic name (overrides the topic setting)\n"
"  -X PROP=VALUE           librdkafka property (same as kafka.PROP in FILE)\n"
"  -X list                 print librdkafka's properties and exit\n"
"  -X dump                 print the settings in effect (secrets masked), exit\n"
"  -z, --compression CODEC none, gzip, snappy, lz4 or zstd (kcat's -z)\n"
"  -H, --header NAME=VALUE a Kafka header (same as header.NAME in FILE)\n"
"  -o, --set KEY=VALUE     any setting of FILE, e.g. -o field.drop=label\n"
"      --stream NAME       meta.stream (default netflow)\n"
"      --schema URI        $schema of the events\n"
"      --dead-letter FILE  append undeliverable and invalid records to FILE\n"
"      --replay FILE       produce a dead-letter FILE's records again\n"
"      --input-dir DIR     read pmacct's files from DIR, not stdin\n"
"      --stdout            write the events to stdout instead of Kafka\n"
"      --stdout-format FMT --stdout, each event as FMT (kcat -f: %%t %%k %%s)\n"
"      --stats-file FILE   write JSON stats to FILE every stats.interval.ms\n"
"      --metrics-file FILE write Prometheus metrics (textfile collector)\n"
"      --audit FILE        audit the events of FILE for loss, and exit\n"
"      --audit -t TOPIC    the same of a topic of -b (--audit -h: more)\n"
"      --json              with --audit: the report as JSON\n"
"  -q, --quiet             only errors\n"
"  -v, --verbose           more messages (twice: librdkafka debug)\n"
"  -V, --version           print versions and exit\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0 all delivered, 1 usage or config error, 2 fatal runtime\n"
"error, 3 records not delivered or invalid.  See kafkatee-pipe(1).\n");
}

static void version(void)
{
        printf(KTP_NAME " %s (librdkafka %s, json-c %s, libev %d.%d)\n",
               KTP_VERSION, rd_kafka_version_str(), json_c_version(),
               ev_version_major(), ev_version_minor());
}

/* Appends prefix + the n bytes of name = value: no length limit. */
static enum cli_result cli_add(struct cli *cli, const char *prefix, const char *name,
                   size_t n, const char *value)
{
        size_t plen = strlen(prefix);
        struct kv *v = realloc(cli->sets.v, (cli->sets.n + 1) * sizeof(*v));
        char **w = realloc(cli->where, (cli->sets.n + 1) * sizeof(*w));
        char *key = NULL, *dup = NULL, *where = NULL;

        if (v != NULL)
                cli->sets.v = v;
        if (w != NULL)
                cli->where = w;
        if (v != NULL && w != NULL) {
                key = malloc(plen + n + 1);
                dup = strdup(value);
                where = strdup(cli->opt != NULL ? cli->opt : "");
        }
        if (key == NULL || dup == NULL || where == NULL) {
                free(key);
                free(dup);
                free(where);
                cli_error("out of memory");
                return CLI_ERROR;
        }
        memcpy(key, prefix, plen);
        memcpy(key + plen, name, n);
        key[plen + n] = '\0';
        v[cli->sets.n].key = key;
        v[cli->sets.n].value = dup;
        w[cli->sets.n] = where;
        cli->sets.n++;
        return CLI_RUN;
}

static enum cli_result cli_set(struct cli *cli, const char *key, const char *value)
{
        return cli_add(cli, "", key, strlen(key), value);
}

/* "name=value" of the option being read into cli as prefix+name = value. */
static enum cli_result cli_set_pair(struct cli *cli, const char *prefix,
                                    const char *arg)
{
        const char *eq = strchr(arg, '=');

        if (eq == NULL || eq == arg) {
                cli_error("%s: expected NAME=VALUE", cli->opt);
                return CLI_ERROR;
        }
        return cli_add(cli, prefix, arg, (size_t)(eq - arg), eq + 1);
}

static void cli_free(struct cli *cli)
{
        size_t i;

        for (i = 0; i < cli->sets.n; i++) {
                free(cli->sets.v[i].key);
                free(cli->sets.v[i].value);
                free(cli->where[i]);
        }
        free(cli->sets.v);
        free(cli->where);
        free(cli->opt);
}

enum { OPT_STREAM = 256, OPT_SCHEMA, OPT_DEAD, OPT_STDOUT, OPT_STATS,
       OPT_METRICS, OPT_REPLAY, OPT_STDOUT_FORMAT, OPT_INPUT_DIR };

static const struct option long_options[] = {
        { "config", required_argument, NULL, 'c' },
        { "brokers", required_argument, NULL, 'b' },
        { "topic", required_argument, NULL, 't' },
        { "set", required_argument, NULL, 'o' },
        { "stream", required_argument, NULL, OPT_STREAM },
        { "schema", required_argument, NULL, OPT_SCHEMA },
        { "dead-letter", required_argument, NULL, OPT_DEAD },
        { "stdout", no_argument, NULL, OPT_STDOUT },
        { "stdout-format", required_argument, NULL, OPT_STDOUT_FORMAT },
        { "compression", required_argument, NULL, 'z' },
        { "header", required_argument, NULL, 'H' },
        { "stats-file", required_argument, NULL, OPT_STATS },
        { "metrics-file", required_argument, NULL, OPT_METRICS },
        { "replay", required_argument, NULL, OPT_REPLAY },
        { "input-dir", required_argument, NULL, OPT_INPUT_DIR },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
};

/* The options that are settings: the key each one sets. */
static const struct {
        int         opt;
        const char *key;
} option_keys[] = {
        { 'b', "brokers" },
        { 't', "topic" },
        { OPT_STREAM, "stream" },
        { OPT_SCHEMA, "schema" },
        { OPT_DEAD, "deadletter.file" },
        { OPT_STATS, "stats.file" },
        { OPT_METRICS, "metrics.file" },
        { OPT_INPUT_DIR, "input.dir" },
};

/* -z: librdkafka says whether it knows the codec (and was built with it). */
static enum cli_result compression(struct cli *cli, const char *codec)
{
        rd_kafka_conf_t *kc = rd_kafka_conf_new();
        char msg[512];
        rd_kafka_conf_res_t res = rd_kafka_conf_set(kc, "compression.codec",
                                                    codec, msg, sizeof(msg));

        rd_kafka_conf_destroy(kc);
        if (res != RD_KAFKA_CONF_OK) {
                cli_error("%s: %s (none, gzip, snappy, lz4 or zstd)", cli->opt,
                          msg);
                return CLI_ERROR;
        }
        return cli_set(cli, "kafka.compression.codec", codec);
}

/* --stdout-format: checked here, so that the error names the option. */
static enum cli_result stdout_format(struct cli *cli, const char *format)
{
        char err[256];

        if (output_format_check(format, err, sizeof(err)) == -1) {
                cli_error("%s: %s", cli->opt, err);
                return CLI_ERROR;
        }
        if (cli_set(cli, "output", "stdout") == CLI_ERROR)
                return CLI_ERROR;
        return cli_set(cli, "stdout.format", format);
}

/* -X list and -X dump, as kcat has them; else PROP=VALUE. */
static enum cli_result kafka_option(struct cli *cli, const char *arg)
{
        if (strcmp(arg, "list") == 0) {
                rd_kafka_conf_properties_show(stdout);
                return CLI_EXIT;
        }
        if (strcmp(arg, "dump") == 0) {
                cli->dump = 1;
                return CLI_RUN;
        }
        return cli_set_pair(cli, "kafka.", arg);
}

/* One option: CLI_EXIT after -h, -V and -X list. */
static enum cli_result parse_option(struct cli *cli, int c)
{
        size_t i;

        for (i = 0; i < sizeof(option_keys) / sizeof(*option_keys); i++)
                if (option_keys[i].opt == c)
                        return cli_set(cli, option_keys[i].key, optarg);
        switch (c) {
        case 'c': cli->config_path = optarg; return CLI_RUN;
        case 'X': return kafka_option(cli, optarg);
        case 'o': return cli_set_pair(cli, "", optarg);
        case 'z': return compression(cli, optarg);
        case 'H': return cli_set_pair(cli, "header.", optarg);
        case OPT_STDOUT: return cli_set(cli, "output", "stdout");
        case OPT_STDOUT_FORMAT: return stdout_format(cli, optarg);
        case OPT_REPLAY: cli->replay = optarg; return CLI_RUN;
        case 'q': cli->verbosity = 0; return CLI_RUN;
        case 'v': cli->verbosity++; return CLI_RUN;
        case 'V': version(); return CLI_EXIT;
        case 'h': usage(stdout); return CLI_EXIT;
        default: journal_usage(usage); return CLI_ERROR;
        }
}

/*
 * The option just read as it was written, for its errors: "-o k=v",
 * "--stream x", "-Xk=v"; NULL when out of memory.
 */
static char *option_text(char **argv)
{
        char *text;

        if (optind < 2 || optarg == NULL || optarg != argv[optind - 1])
                return strdup(argv[optind - 1]);
        if (asprintf(&text, "%s %s", argv[optind - 2], optarg) == -1)
                return NULL;
        return text;
}

static enum cli_result parse_args(int argc, char **argv, struct cli *cli)
{
        enum cli_result r = CLI_RUN;
        int c;

        argv[0] = (char *)KTP_NAME; /* getopt's messages use it */
        journal_getopt();
        while (r == CLI_RUN && (c = getopt_long(argc, argv, "c:b:t:X:o:z:H:qvVh",
                                                long_options, NULL)) != -1) {
                free(cli->opt);
                cli->opt = NULL;
                if (c != '?' && (cli->opt = option_text(argv)) == NULL) {
                        cli_error("out of memory");
                        return CLI_ERROR;
                }
                if (c == '?')
                        journal_bad_option(optopt, argv[optind - 1]);
                r = parse_option(cli, c);
        }
        if (r == CLI_RUN && optind < argc) {
                cli_error("unexpected argument '%s'", argv[optind]);
                return CLI_ERROR;
        }
        return r;
}

static enum cli_result load_conf(struct conf *conf, const struct cli *cli)
{
        char err[512];
        size_t i;

        if (cli->config_path != NULL &&
            conf_read_file(conf, cli->config_path, err, sizeof(err)) == -1) {
                cli_error("%s", err);
                return CLI_ERROR;
        }
        for (i = 0; i < cli->sets.n; i++) {
                if (conf_set_at(conf, cli->where[i], cli->sets.v[i].key,
                                cli->sets.v[i].value, err,
                                sizeof(err)) == -1) {
                        cli_error("%s", err);
                        return CLI_ERROR;
                }
        }
        conf->verbosity = cli->verbosity;
        conf->replay = cli->replay;
        if (conf->verbosity >= 3 &&
            conf_set(conf, "kafka.debug", "broker,topic,msg", err,
                     sizeof(err)) == -1) {
                cli_error("%s", err);
                return CLI_ERROR;
        }
        return CLI_RUN;
}

/* --- -X dump --------------------------------------------------------- */

int cli_is_secret(const char *name)
{
        static const char *const words[] = { "password", "secret", "key",
                "token", "credential", "authorization" };
        static const char *const free_form[] = { "sasl.oauthbearer.config",
                "sasl.oauthbearer.extensions" };
        size_t i;

        if (strcmp(name, "key") == 0) /* the message key's template */
                return 0;
        if (strncmp(name, "kafka.", 6) == 0)
                name += 6;
        for (i = 0; i < sizeof(free_form) / sizeof(*free_form); i++)
                if (strcmp(name, free_form[i]) == 0)
                        return 1;
        for (i = 0; i < sizeof(words) / sizeof(*words); i++)
                if (strcasestr(name, words[i]) != NULL)
                        return 1;
        return 0;
}

/* An empty value stays empty: it says that nothing is set. */
static int print_setting(void *arg, const char *name, const char *value)
{
        (void)arg;
        printf("%s = %s\n", name,
               *value != '\0' && cli_is_secret(name) ? "[redacted]" : value);
        return 0;
}

/*
 * A property of librdkafka's C API (log_cb, default_topic_conf, ...): an
 * address of this process, not a setting; left out, so that two dumps
 * compare.
 */
static int is_pointer(const char *name, const char *value)
{
        return strchr(name, '_') != NULL && strncmp(value, "0x", 2) == 0 &&
               value[2 + strspn(value + 2, "0123456789abcdefABCDEF")] == '\0';
}

static void print_props(const char *title, const char **arr, size_t n)
{
        size_t i;

        printf("\n# %s\n", title);
        for (i = 0; i + 1 < n; i += 2)
                if (!is_pointer(arr[i], arr[i + 1]))
                        print_setting(NULL, arr[i], arr[i + 1]);
        rd_kafka_conf_dump_free(arr, n);
}

/* librdkafka's properties as a producer of c would have them. */
static void print_kafka(rd_kafka_conf_t *kc)
{
        rd_kafka_topic_conf_t *tc = rd_kafka_conf_get_default_topic_conf(kc);
        rd_kafka_topic_conf_t *fresh = tc == NULL ? rd_kafka_topic_conf_new()
                                                 : NULL;
        size_t n;
        const char **arr = rd_kafka_conf_dump(kc, &n);

        print_props("librdkafka global properties", arr, n);
        arr = rd_kafka_topic_conf_dump(tc != NULL ? tc : fresh, &n);
        print_props("librdkafka topic properties", arr, n);
        if (fresh != NULL)
                rd_kafka_topic_conf_destroy(fresh);
}

/*
 * -X dump: the settings (as a config file would write them), then
 * librdkafka's effective properties; nothing is opened or connected.
 */
static enum cli_result dump(struct conf *c)
{
        struct output_opts opts = { .mode = OUTPUT_KAFKA };
        char err[512], notice[512];
        rd_kafka_conf_t *kc;

        output_kafka_opts(&opts, c);

        /* as a run would have them: acks = 1 turns idempotence off */
        if (conf_check(c, notice, sizeof(notice), err, sizeof(err)) == -1 ||
            (kc = output_kafka_conf(&opts, err, sizeof(err))) == NULL) {
                cli_error("%s", err);
                return CLI_ERROR;
        }
        if (notice[0] != '\0')
                cli_error("%s", notice);
        printf("# " KTP_NAME " settings\n");
        if (conf_each_setting(c, print_setting, NULL) != 0) {
                rd_kafka_conf_destroy(kc);
                cli_error("out of memory");
                return CLI_ERROR;
        }
        print_kafka(kc);
        rd_kafka_conf_destroy(kc);
        /* a reader that had enough (| head) is not an error */
        if (fflush(stdout) != 0 && errno != EPIPE) {
                cli_error("-X dump: stdout: %s", strerror(errno));
                return CLI_ERROR;
        }
        return CLI_EXIT;
}

enum cli_result cli_load(int argc, char **argv, struct conf *conf)
{
        struct cli cli = { .verbosity = 1 };
        enum cli_result r;

        conf_init(conf);
        r = parse_args(argc, argv, &cli);
        if (r == CLI_RUN)
                r = load_conf(conf, &cli);
        if (r == CLI_RUN && cli.dump)
                r = dump(conf);
        cli_free(&cli);
        return r;
}
