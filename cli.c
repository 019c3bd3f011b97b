/*
 * cli.c: the command line.  Options are kept as "key = value" settings of
 * the config file, applied after it, so that the command line wins.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "cli.h"

struct cli {
        const char   *config_path;
        struct kvlist sets;  /* in their order: a later one wins */
        char        **where; /* sets.v[i]'s option as written */
        char         *opt;   /* the option being read, as written */
        int           verbosity;
        const char   *replay;  /* --replay: not a setting of FILE */
};

static void cli_error(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

static void cli_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs(KTP_NAME ": ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
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
"  -o, --set KEY=VALUE     any setting of FILE, e.g. -o field.drop=label\n"
"      --stream NAME       meta.stream (default netflow)\n"
"      --schema URI        $schema of the events\n"
"      --dead-letter FILE  append undeliverable and invalid records to FILE\n"
"      --replay FILE       produce a dead-letter FILE's records again\n"
"      --stdout            write the events to stdout instead of Kafka\n"
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

/* "name=value" into cli as prefix+name = value. */
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
       OPT_METRICS, OPT_REPLAY };

static const struct option long_options[] = {
        { "config", required_argument, NULL, 'c' },
        { "brokers", required_argument, NULL, 'b' },
        { "topic", required_argument, NULL, 't' },
        { "set", required_argument, NULL, 'o' },
        { "stream", required_argument, NULL, OPT_STREAM },
        { "schema", required_argument, NULL, OPT_SCHEMA },
        { "dead-letter", required_argument, NULL, OPT_DEAD },
        { "stdout", no_argument, NULL, OPT_STDOUT },
        { "stats-file", required_argument, NULL, OPT_STATS },
        { "metrics-file", required_argument, NULL, OPT_METRICS },
        { "replay", required_argument, NULL, OPT_REPLAY },
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
};

/* One option: CLI_EXIT after -h and -V. */
static enum cli_result parse_option(struct cli *cli, int c)
{
        size_t i;

        for (i = 0; i < sizeof(option_keys) / sizeof(*option_keys); i++)
                if (option_keys[i].opt == c)
                        return cli_set(cli, option_keys[i].key, optarg);
        switch (c) {
        case 'c': cli->config_path = optarg; return CLI_RUN;
        case 'X': return cli_set_pair(cli, "kafka.", optarg);
        case 'o': return cli_set_pair(cli, "", optarg);
        case OPT_STDOUT: return cli_set(cli, "output", "stdout");
        case OPT_REPLAY: cli->replay = optarg; return CLI_RUN;
        case 'q': cli->verbosity = 0; return CLI_RUN;
        case 'v': cli->verbosity++; return CLI_RUN;
        case 'V': version(); return CLI_EXIT;
        case 'h': usage(stdout); return CLI_EXIT;
        default: usage(stderr); return CLI_ERROR;
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
        while (r == CLI_RUN && (c = getopt_long(argc, argv, "c:b:t:X:o:qvVh",
                                                long_options, NULL)) != -1) {
                free(cli->opt);
                cli->opt = NULL;
                if (c != '?' && (cli->opt = option_text(argv)) == NULL) {
                        cli_error("out of memory");
                        return CLI_ERROR;
                }
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

enum cli_result cli_load(int argc, char **argv, struct conf *conf)
{
        struct cli cli = { .verbosity = 1 };
        enum cli_result r;

        conf_init(conf);
        r = parse_args(argc, argv, &cli);
        if (r == CLI_RUN)
                r = load_conf(conf, &cli);
        cli_free(&cli);
        return r;
}
