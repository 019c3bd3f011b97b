/*
 * auditmain.c: kafkatee-pipe --audit FILE or --audit -b BROKERS -t TOPIC:
 * reads events one a line (a kcat -C dump, an export) or one a message
 * (auditkafka.h), parses each the same way, feeds them to the audit
 * (audit.h) and prints its report, as text or, with --json, one JSON
 * document.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "auditkafka.h"
#include "auditscan.h"
#include "avroenc.h"
#include "auditmain.h"
#include "journal.h"
#include "config.h"
#include "kafkatee-pipe.h"

int audit_wanted(int argc, char **argv)
{
        int i;

        for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
                if (strcmp(argv[i], "--audit") == 0 ||
                    strncmp(argv[i], "--audit=", 8) == 0)
                        return 1;
        return 0;
}

/* One line: 0 counted (maybe as unreadable), -1 out of memory. */
static int audit_line(struct audit *a, struct audit_scan *scan,
                      const char *line, size_t len)
{
        struct audit_event ev;

        switch (audit_scan_line(scan, line, len, &ev)) {
        case AUDIT_SCAN_NOMEM:
                return -1;
        case AUDIT_SCAN_NONE:
                audit_unreadable(a);
                return 0;
        case AUDIT_SCAN_EVENT:
                break;
        }
        return audit_add(a, ev.domain, ev.run, ev.seq, ev.id) ==
               AUDIT_ERROR ? -1 : 0;
}

/*
 * One line of a file or one message of a topic: 0 counted (maybe as
 * unreadable), -1 out of memory.  A blank one is no event.
 */
static int audit_value(struct audit *a, struct audit_scan *scan,
                       const char *buf, size_t len)
{
        if (len == 0)
                return 0;
        return audit_line(a, scan, buf, len);
}

/* Every line of fp: 0, -1 on a read error, -2 out of memory. */
static int audit_read(struct audit *a, struct audit_scan *scan, FILE *fp)
{
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int r = 0;

        while (r == 0 && (n = getline(&line, &cap, fp)) != -1) {
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        n--;
                if (audit_value(a, scan, line, (size_t)n) == -1)
                        r = -2;
        }
        if (r == 0 && ferror(fp))
                r = -1;
        free(line);
        return r;
}

static uint64_t total_missing(const struct audit *a)
{
        uint64_t n = 0;
        size_t i;

        for (i = 0; i < a->nruns; i++)
                n += audit_missing(a->runs[i]);
        return n;
}

static uint64_t total_events(const struct audit *a, uint64_t *dups)
{
        uint64_t n = 0;
        size_t i;

        *dups = 0;
        for (i = 0; i < a->nruns; i++) {
                n += a->runs[i]->events;
                *dups += audit_duplicates(a->runs[i]);
        }
        return n;
}

/*
 * A name as the text report shows it: bytes below 0x20 and DEL as \xNN,
 * and a backslash doubled, so that a name cannot forge a line of the
 * report or move the terminal's cursor (--json has them escaped).
 */
static void print_name(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        for (; *p != '\0'; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        printf("\\x%02x", *p);
                else if (*p == '\\')
                        fputs("\\\\", stdout);
                else
                        putchar(*p);
        }
}

static int print_run(const struct audit_run *r)
{
        char *ranges = audit_ranges(r);
        unsigned long long last = audit_last(r), miss = audit_missing(r);

        if (ranges == NULL)
                return -1;
        fputs("producer ", stdout);
        print_name(r->domain);
        fputs(" run ", stdout);
        print_name(r->run);
        putchar('\n');
        printf("  events %llu\n", (unsigned long long)r->events);
        printf("  numbers %llu-%llu (last seen %llu: events after it "
               "cannot be judged)\n",
               (unsigned long long)audit_first(r), last, last);
        printf("  missing %llu%s%s\n", miss, miss ? ": " : "", ranges);
        printf("  duplicates %llu: %llu same id, %llu other id, "
               "%llu not compared\n",
               (unsigned long long)audit_duplicates(r),
               (unsigned long long)r->dup[0], (unsigned long long)r->dup[1],
               (unsigned long long)r->dup[2]);
        free(ranges);
        return 0;
}

static int print_text(const struct audit *a)
{
        uint64_t dups, events = total_events(a, &dups);
        size_t i;

        for (i = 0; i < a->nruns; i++)
                if (print_run(a->runs[i]) == -1)
                        return -1;
        printf("total: %zu producers, %zu runs, %llu events, %llu missing, "
               "%llu duplicates, %llu unreadable lines\n",
               audit_producers(a), a->nruns, (unsigned long long)events,
               (unsigned long long)total_missing(a),
               (unsigned long long)dups, (unsigned long long)a->unreadable);
        return 0;
}

/* A JSON string, escaped by json-c. */
static int put_str(const char *s)
{
        struct json_object *o = json_object_new_string(s);

        if (o == NULL)
                return -1;
        fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                             JSON_C_TO_STRING_NOSLASHESCAPE),
              stdout);
        json_object_put(o);
        return 0;
}

static void put_gap(uint64_t lo, uint64_t hi, void *arg)
{
        int *first = arg;

        printf("%s[%llu,%llu]", *first ? "" : ",", (unsigned long long)lo,
               (unsigned long long)hi);
        *first = 0;
}

/*
 * One run's object, written as it goes: the gaps may be many, and a
 * json-c document of them would cost some 300 bytes each.
 */
static int put_run(const struct audit_run *r)
{
        char *ranges = audit_ranges(r); /* digits, '-', ',' and ' ' */
        int err, first = 1;

        fputs("{\"domain\":", stdout);
        err = put_str(r->domain);
        fputs(",\"sequence_run\":", stdout);
        err |= put_str(r->run);
        printf(",\"events\":%llu,\"first\":%llu,\"last\":%llu,"
               "\"missing\":%llu,\"gaps\":[",
               (unsigned long long)r->events,
               (unsigned long long)audit_first(r),
               (unsigned long long)audit_last(r),
               (unsigned long long)audit_missing(r));
        audit_gaps(r, put_gap, &first);
        printf("],\"missing_ranges\":\"%s\",\"duplicates\":{\"total\":%llu,"
               "\"same_id\":%llu,\"other_id\":%llu,\"not_compared\":%llu}}",
               ranges ? ranges : "", (unsigned long long)audit_duplicates(r),
               (unsigned long long)r->dup[0], (unsigned long long)r->dup[1],
               (unsigned long long)r->dup[2]);
        err |= ranges == NULL;
        free(ranges);
        return err ? -1 : 0;
}

static int print_json(const struct audit *a)
{
        uint64_t dups, events = total_events(a, &dups);
        size_t i;

        printf("{\"producers\":%zu,\"runs_count\":%zu,\"events\":%llu,"
               "\"missing\":%llu,\"duplicates\":%llu,\"unreadable\":%llu,"
               "\"runs\":[", audit_producers(a), a->nruns,
               (unsigned long long)events,
               (unsigned long long)total_missing(a),
               (unsigned long long)dups, (unsigned long long)a->unreadable);
        for (i = 0; i < a->nruns; i++) {
                if (i > 0)
                        putchar(',');
                if (put_run(a->runs[i]) == -1)
                        return -1;
        }
        puts("]}");
        return 0;
}

static void audit_usage(FILE *fp)
{
        fprintf(fp,
"Usage: " KTP_NAME " --audit FILE [--json]\n"
"       " KTP_NAME " --audit -b BROKERS -t TOPIC [-t TOPIC]... [-X key=value]...\n"
"                     [--since TIME] [--avro] [--json]\n"
"Reads events one a line from FILE (- for stdin), or the messages of TOPIC\n"
"from each partition's start to its end at start, and reports, per\n"
"producer and run, the sequence numbers missing and seen twice.\n"
"\n"
"      --audit [FILE]      audit the events of FILE (- for stdin)\n"
"  -b, --brokers LIST      audit a topic of these brokers (host:port,...)\n"
"  -t, --topic TOPIC       the topic (more than once: one audit of them all)\n"
"  -X key=value            a librdkafka property (socket.timeout.ms bounds\n"
"                          every wait, default 10000)\n"
"      --since TIME        from the first message at or after TIME:\n"
"                          2026-11-30T12:00:00Z or milliseconds since 1970\n"
"      --avro              the messages are PNDA's Avro envelope\n"
"                          (encoding = pnda-avro): audit their rawdata\n"
"      --json              the report as one JSON document\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0 nothing missing, 1 usage, read or connection error (or no\n"
"event was read), 2 out of memory, 3 numbers missing.  See kafkatee-pipe(1).\n");
}

static const struct option audit_options[] = {
        { "audit", optional_argument, NULL, 'a' },
        { "brokers", required_argument, NULL, 'b' },
        { "topic", required_argument, NULL, 't' },
        { "since", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "avro", no_argument, NULL, 'A' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
};

struct audit_args {
        const char    *path;   /* the file, or NULL: Kafka */
        const char    *since;
        int            json;
        int            avro;   /* --avro: the events are PNDA's rawdata */
        struct ak_opts kafka;
};

static int args_usage(const char *why, const char *what)
{
        journal_say(PRIO_ERR, "--audit: %s%s", why, what);
        return EXIT_USAGE;
}

/* FILE or -b and -t, and --since's TIME: 0, or the exit status. */
static int args_check(int argc, char **argv, struct audit_args *aa)
{
        struct ak_opts *k = &aa->kafka;
        size_t i, j;

        if (aa->path == NULL && optind < argc)
                aa->path = argv[optind++];
        if (optind < argc)
                return args_usage("unexpected argument ", argv[optind]);
        if (aa->path != NULL && (k->brokers || k->ntopics || k->nprops ||
                                 aa->since))
                return args_usage("a file, or -b and -t: not both", "");
        if (aa->path != NULL && aa->avro)
                return args_usage("--avro reads topics (-b and -t), not a "
                                  "file", "");
        if (aa->path != NULL)
                return 0;
        if (k->brokers == NULL || k->ntopics == 0)
                return args_usage("a file, or -b BROKERS and -t TOPIC", "");
        for (i = 0; i < k->ntopics; i++)
                for (j = 0; j < i; j++)
                        if (strcmp(k->topics[i], k->topics[j]) == 0)
                                return args_usage("-t given twice: ",
                                                  k->topics[i]);
        if (aa->since != NULL && ak_parse_since(aa->since, &k->since_ms) != 0)
                return args_usage("--since: not 2026-11-30T12:00:00Z nor "
                                  "milliseconds since 1970: ", aa->since);
        return 0;
}

/* The options: 0 to run, -1 after --help, else the exit status. */
static int audit_args(int argc, char **argv, struct audit_args *aa)
{
        struct ak_opts *k = &aa->kafka;
        int c;

        argv[0] = (char *)KTP_NAME;
        k->since_ms = AK_SINCE_NONE;
        /* argc bounds each list: one option, one value */
        k->topics = calloc((size_t)argc, sizeof(*k->topics));
        k->props = calloc((size_t)argc, sizeof(*k->props));
        if (k->topics == NULL || k->props == NULL)
                return EXIT_FATAL;
        journal_getopt();
        while ((c = getopt_long(argc, argv, "b:t:X:h", audit_options,
                                NULL)) != -1) {
                switch (c) {
                case 'a': aa->path = optarg; break;
                case 'b': k->brokers = optarg; break;
                case 't': k->topics[k->ntopics++] = optarg; break;
                case 'X': k->props[k->nprops++] = optarg; break;
                case 's': aa->since = optarg; break;
                case 'j': aa->json = 1; break;
                case 'A': aa->avro = 1; break;
                case 'h': audit_usage(stdout); return -1;
                default:
                        journal_bad_option(optopt, argv[optind - 1]);
                        journal_usage(audit_usage);
                        return EXIT_USAGE;
                }
        }
        return args_check(argc, argv, aa);
}

static int audit_file(struct audit *a, struct audit_scan *scan,
                      const char *path)
{
        FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
        int r;

        if (fp == NULL) {
                journal_say(PRIO_ERR, "%s: %s", path, strerror(errno));
                return EXIT_USAGE;
        }
        r = audit_read(a, scan, fp);
        if (r == -1)
                journal_say(PRIO_ERR, "%s: %s", path, strerror(errno));
        if (fp != stdin)
                fclose(fp);
        return r == 0 ? 0 : r == -1 ? EXIT_USAGE : EXIT_FATAL;
}

struct audit_sink {
        struct audit      *a;
        struct audit_scan *scan;
        struct avroread   *avro;   /* --avro: PNDA's envelope, or NULL */
};

static int audit_message(const char *buf, size_t len, void *arg)
{
        struct audit_sink *s = arg;
        const char *raw;
        size_t n;

        if (s->avro == NULL)
                return audit_value(s->a, s->scan, buf, len);
        if (avroread_rawdata(s->avro, buf, len, &raw, &n) == -1) {
                audit_unreadable(s->a);
                return 0;
        }
        return audit_value(s->a, s->scan, raw, n);
}

/* The topics: numbers before a run's first are before --since. */
static int audit_kafka(struct audit *a, struct audit_scan *scan,
                       const struct audit_args *aa)
{
        struct audit_sink s = { a, scan, NULL };
        int r;

        if (aa->avro && (s.avro = avroread_open()) == NULL)
                return EXIT_FATAL;
        a->from_first = aa->kafka.since_ms != AK_SINCE_NONE;
        r = ak_read(&aa->kafka, audit_message, &s);
        avroread_close(s.avro);
        return r == 0 ? 0 : r == -1 ? EXIT_USAGE : EXIT_FATAL;
}

/* The source's events into a: 0, or the exit status. */
static int audit_source(struct audit *a, const struct audit_args *aa)
{
        struct audit_scan scan = { NULL, 0 };
        int r;

        if (aa->path != NULL)
                r = audit_file(a, &scan, aa->path);
        else
                r = audit_kafka(a, &scan, aa);
        if (r == EXIT_FATAL)
                journal_say(PRIO_ERR, "out of memory");
        audit_scan_free(&scan);
        return r;
}

/* After the report: 2 when it could not be written, 1 when nothing was an
 * event, 3 when numbers are missing. */
static int audit_report(const struct audit *a, const struct audit_args *aa)
{
        if ((aa->json ? print_json(a) : print_text(a)) == -1) {
                journal_say(PRIO_ERR, "out of memory");
                return EXIT_FATAL;
        }
        if (fflush(stdout) == EOF) {
                journal_say(PRIO_ERR, "standard output: %s",
                        strerror(errno));
                return EXIT_FATAL;
        }
        if (a->nruns == 0 && a->unreadable > 0) {
                journal_say(PRIO_ERR, "%s: no %s is an event with "
                        "meta.domain, meta.id, sequence and sequence_run",
                        aa->path ? aa->path : aa->kafka.topics[0],
                        aa->path ? "line" : "message");
                return EXIT_USAGE;
        }
        return total_missing(a) > 0 ? EXIT_LOST : EXIT_DELIVERED;
}

int audit_main(int argc, char **argv)
{
        struct audit_args aa = { 0 };
        struct audit a;
        int r;

        if ((r = audit_args(argc, argv, &aa)) == 0) {
                audit_init(&a, 0);
                r = audit_source(&a, &aa);
                if (r == 0)
                        r = audit_report(&a, &aa);
                audit_free(&a);
        }
        free(aa.kafka.topics);
        free(aa.kafka.props);
        return r < 0 ? EXIT_DELIVERED : r;
}
