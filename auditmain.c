/*
 * auditmain.c: kafkatee-pipe --audit FILE: reads events one a line (a
 * kcat -C dump, an export), feeds them to the audit (audit.h) and prints
 * its report, as text or, with --json, one JSON document.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "auditscan.h"
#include "auditmain.h"
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

/* Every line of fp: 0, -1 on a read error, -2 out of memory. */
static int audit_read(struct audit *a, FILE *fp)
{
        struct audit_scan scan = { NULL, 0 };
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int r = 0;

        while (r == 0 && (n = getline(&line, &cap, fp)) != -1) {
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        n--;
                if (n == 0)
                        continue; /* a blank line is no event */
                if (audit_line(a, &scan, line, (size_t)n) == -1)
                        r = -2;
        }
        if (r == 0 && ferror(fp))
                r = -1;
        free(line);
        audit_scan_free(&scan);
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

static int print_run(const struct audit_run *r)
{
        char *ranges = audit_ranges(r);
        unsigned long long last = audit_last(r), miss = audit_missing(r);

        if (ranges == NULL)
                return -1;
        printf("producer %s run %s\n", r->domain, r->run);
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
"Reads events one a line from FILE (- for stdin) and reports, per producer\n"
"and run, the sequence numbers missing and seen twice.\n"
"\n"
"      --audit FILE        the events to audit (- for stdin)\n"
"      --json              the report as one JSON document\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0 nothing missing, 1 usage or read error (or no line was an\n"
"event), 2 out of memory, 3 numbers missing.  See kafkatee-pipe(1).\n");
}

static const struct option audit_options[] = {
        { "audit", required_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
};

/* The options: 0 to run, -1 after --help, else the exit status. */
static int audit_args(int argc, char **argv, const char **path, int *json)
{
        int c;

        argv[0] = (char *)KTP_NAME;
        while ((c = getopt_long(argc, argv, "h", audit_options, NULL)) != -1) {
                switch (c) {
                case 'a': *path = optarg; break;
                case 'j': *json = 1; break;
                case 'h': audit_usage(stdout); return -1;
                default: audit_usage(stderr); return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, KTP_NAME ": --audit: unexpected argument "
                        "'%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        return 0;
}

static int audit_file(struct audit *a, const char *path)
{
        FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
        int r;

        if (fp == NULL) {
                fprintf(stderr, KTP_NAME ": %s: %s\n", path, strerror(errno));
                return EXIT_USAGE;
        }
        r = audit_read(a, fp);
        if (r == -1)
                fprintf(stderr, KTP_NAME ": %s: %s\n", path, strerror(errno));
        if (r == -2)
                fprintf(stderr, KTP_NAME ": out of memory\n");
        if (fp != stdin)
                fclose(fp);
        return r == 0 ? 0 : r == -1 ? EXIT_USAGE : EXIT_FATAL;
}

int audit_main(int argc, char **argv)
{
        struct audit a;
        const char *path = NULL;
        int json = 0, r;

        if ((r = audit_args(argc, argv, &path, &json)) != 0)
                return r < 0 ? EXIT_DELIVERED : r;
        audit_init(&a, 0);
        r = audit_file(&a, path);
        if (r == 0 && (json ? print_json(&a) : print_text(&a)) == -1) {
                fprintf(stderr, KTP_NAME ": out of memory\n");
                r = EXIT_FATAL;
        }
        if (r == 0 && fflush(stdout) == EOF) {
                fprintf(stderr, KTP_NAME ": standard output: %s\n",
                        strerror(errno));
                r = EXIT_FATAL;
        }
        if (r == 0 && a.nruns == 0 && a.unreadable > 0) {
                fprintf(stderr, KTP_NAME ": %s: no line is an event with "
                        "meta.domain, meta.id, sequence and sequence_run\n",
                        path);
                r = EXIT_USAGE;
        }
        if (r == 0 && total_missing(&a) > 0)
                r = EXIT_LOST;
        audit_free(&a);
        return r;
}
