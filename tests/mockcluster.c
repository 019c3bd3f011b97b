/*
 * mockcluster: a librdkafka mock cluster that other processes reach over
 * loopback TCP, steered by commands on stdin.
 *
 * The end-to-end tests need a Kafka cluster whose faults they can script
 * while the program under test runs as a separate process.  The mock
 * cluster only lives inside an rd_kafka_t, so this program hosts one on a
 * throwaway handle and turns stdin lines into mock API calls.
 *
 * Usage: mockcluster [-b BROKERS] [-d DEBUG] [-t TOPIC:PARTITIONS]...
 *
 * The first line on stdout is the bootstrap servers string.  Each command
 * line then gets exactly one reply line, "ok" or "error: ...", so a driver
 * can wait for it before going on:
 *
 *	down ID | up ID		broker down / up (ID -1: all brokers)
 *	rtt ID MS		broker round-trip time
 *	errors COUNT ERR	fail the next COUNT Produce requests with ERR
 *	clear_errors		drop Produce errors not yet returned
 *	topic NAME PARTITIONS	create a topic
 *	topic_error NAME ERR	error for the topic in Metadata (NO_ERROR: clear)
 *	quit			exit
 *
 * ERR is an error name as in RD_KAFKA_RESP_ERR_<name>, with or without
 * that prefix, in any case, or its number.
 *
 * Exits 0 on quit, end of input, SIGINT or SIGTERM.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Not in the public headers: the protocol's ApiKey for ProduceRequest. */
#define APIKEY_PRODUCE 0

#define MAX_ARGS  4
#define CMDLINE_MAX 4096
#define ERRSTR_SZ 256

struct cmd {
        const char *name;
        int argc; /* including the command name */
        int (*fn)(rd_kafka_mock_cluster_t *mc, char **argv, char *errstr,
                  size_t errsz);
};

static volatile sig_atomic_t got_signal;
static int broker_cnt = 1;

static _Noreturn void usage(void) {
        fprintf(stderr, "usage: mockcluster [-b brokers] [-d debug] "
                        "[-t topic:partitions]...\n");
        exit(2);
}

static void on_signal(int sig) {
        got_signal = sig;
}

/* Parses all of s as a long in [min, max]: 0, or -1 on any junk. */
static int parse_long(const char *s, long min, long max, long *out) {
        char *end;
        long v;

        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

/*
 * Maps an error name to its code through librdkafka's own table, so every
 * error the library knows is available without a hand-kept list.
 */
static int err_by_name(const char *name, rd_kafka_resp_err_t *errp) {
        static const char prefix[] = "RD_KAFKA_RESP_ERR_";
        const struct rd_kafka_err_desc *descs;
        size_t cnt, i;
        long code;

        if (parse_long(name, INT_MIN, INT_MAX, &code) == 0) {
                *errp = (rd_kafka_resp_err_t)code;
                return 0;
        }
        if (strncasecmp(name, prefix, sizeof(prefix) - 1) == 0)
                name += sizeof(prefix) - 1;

        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                /* The table has holes: unassigned codes have no name. */
                if (descs[i].name == NULL)
                        continue;
                if (strcasecmp(descs[i].name, name) == 0) {
                        *errp = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

static int parse_broker(const char *s, int32_t *idp, char *errstr,
                        size_t errsz) {
        long id;

        if (parse_long(s, -1, INT32_MAX, &id) == -1) {
                snprintf(errstr, errsz, "bad broker id \"%s\"", s);
                return -1;
        }
        *idp = (int32_t)id;
        return 0;
}

static int parse_err(const char *s, rd_kafka_resp_err_t *errp, char *errstr,
                     size_t errsz) {
        if (err_by_name(s, errp) == -1) {
                snprintf(errstr, errsz, "unknown error \"%s\"", s);
                return -1;
        }
        return 0;
}

/* Turns a mock API result into the command's outcome. */
static int check(rd_kafka_resp_err_t err, char *errstr, size_t errsz) {
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                return 0;
        snprintf(errstr, errsz, "%s", rd_kafka_err2str(err));
        return -1;
}

/*
 * The mock replicates nothing, but mirror what its auto-creation does so
 * pre-created and auto-created topics look alike in Metadata.
 */
static int replication_factor(void) {
        return broker_cnt < 3 ? broker_cnt : 3;
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *name,
                        const char *parts, char *errstr, size_t errsz) {
        long n;

        if (*name == '\0') {
                snprintf(errstr, errsz, "empty topic name");
                return -1;
        }
        if (parse_long(parts, 1, 100000, &n) == -1) {
                snprintf(errstr, errsz, "bad partition count \"%s\"", parts);
                return -1;
        }
        return check(rd_kafka_mock_topic_create(mc, name, (int)n,
                                                replication_factor()),
                     errstr, errsz);
}

static int cmd_down(rd_kafka_mock_cluster_t *mc, char **argv, char *errstr,
                    size_t errsz) {
        int32_t id;

        if (parse_broker(argv[1], &id, errstr, errsz) == -1)
                return -1;
        return check(rd_kafka_mock_broker_set_down(mc, id), errstr, errsz);
}

static int cmd_up(rd_kafka_mock_cluster_t *mc, char **argv, char *errstr,
                  size_t errsz) {
        int32_t id;

        if (parse_broker(argv[1], &id, errstr, errsz) == -1)
                return -1;
        return check(rd_kafka_mock_broker_set_up(mc, id), errstr, errsz);
}

static int cmd_rtt(rd_kafka_mock_cluster_t *mc, char **argv, char *errstr,
                   size_t errsz) {
        int32_t id;
        long ms;

        if (parse_broker(argv[1], &id, errstr, errsz) == -1)
                return -1;
        if (parse_long(argv[2], 0, INT_MAX, &ms) == -1) {
                snprintf(errstr, errsz, "bad rtt \"%s\"", argv[2]);
                return -1;
        }
        return check(rd_kafka_mock_broker_set_rtt(mc, id, (int)ms), errstr,
                     errsz);
}

static int cmd_errors(rd_kafka_mock_cluster_t *mc, char **argv, char *errstr,
                      size_t errsz) {
        rd_kafka_resp_err_t err, *errs;
        long cnt, i;

        if (parse_long(argv[1], 1, 1000000, &cnt) == -1) {
                snprintf(errstr, errsz, "bad count \"%s\"", argv[1]);
                return -1;
        }
        if (parse_err(argv[2], &err, errstr, errsz) == -1)
                return -1;
        if ((errs = calloc((size_t)cnt, sizeof(*errs))) == NULL) {
                snprintf(errstr, errsz, "out of memory");
                return -1;
        }
        for (i = 0; i < cnt; i++)
                errs[i] = err;
        rd_kafka_mock_push_request_errors_array(mc, APIKEY_PRODUCE,
                                                (size_t)cnt, errs);
        free(errs);
        return 0;
}

static int cmd_clear_errors(rd_kafka_mock_cluster_t *mc, char **argv,
                            char *errstr, size_t errsz) {
        (void)argv;
        (void)errstr;
        (void)errsz;
        rd_kafka_mock_clear_request_errors(mc, APIKEY_PRODUCE);
        return 0;
}

static int cmd_topic(rd_kafka_mock_cluster_t *mc, char **argv, char *errstr,
                     size_t errsz) {
        return create_topic(mc, argv[1], argv[2], errstr, errsz);
}

static int cmd_topic_error(rd_kafka_mock_cluster_t *mc, char **argv,
                           char *errstr, size_t errsz) {
        rd_kafka_resp_err_t err;

        if (parse_err(argv[2], &err, errstr, errsz) == -1)
                return -1;
        rd_kafka_mock_topic_set_error(mc, argv[1], err);
        return 0;
}

/* quit is handled by the caller: it ends the loop rather than acting. */
static const struct cmd cmds[] = {
    {"down", 2, cmd_down},
    {"up", 2, cmd_up},
    {"rtt", 3, cmd_rtt},
    {"errors", 3, cmd_errors},
    {"clear_errors", 1, cmd_clear_errors},
    {"topic", 3, cmd_topic},
    {"topic_error", 3, cmd_topic_error},
};

/* A reply that cannot be written leaves no one to serve: give up. */
static void reply(const char *errstr) {
        int r;

        if (errstr == NULL)
                r = printf("ok\n");
        else
                r = printf("error: %s\n", errstr);
        if (r < 0 || fflush(stdout) == EOF)
                exit(1);
}

static void run_cmd(rd_kafka_mock_cluster_t *mc, int argc, char **argv) {
        char errstr[ERRSTR_SZ];
        size_t i;

        for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                if (strcmp(cmds[i].name, argv[0]) != 0)
                        continue;
                if (argc != cmds[i].argc) {
                        snprintf(errstr, sizeof(errstr),
                                 "%s takes %d argument(s)", argv[0],
                                 cmds[i].argc - 1);
                        reply(errstr);
                } else if (cmds[i].fn(mc, argv, errstr, sizeof(errstr)) ==
                           -1)
                        reply(errstr);
                else
                        reply(NULL);
                return;
        }
        snprintf(errstr, sizeof(errstr), "unknown command \"%.64s\"", argv[0]);
        reply(errstr);
}

/* Runs one command line.  Returns 1 when it was quit. */
static int handle_line(rd_kafka_mock_cluster_t *mc, char *line) {
        char *argv[MAX_ARGS + 1], *last, *tok;
        int argc = 0;

        for (tok = strtok_r(line, " \t\r", &last); tok != NULL;
             tok = strtok_r(NULL, " \t\r", &last)) {
                if (argc == MAX_ARGS) {
                        reply("too many arguments");
                        return 0;
                }
                argv[argc++] = tok;
        }
        /* Every line gets a reply, or a waiting driver would hang. */
        if (argc == 0) {
                reply("empty command");
                return 0;
        }
        if (strcmp(argv[0], "quit") == 0) {
                reply(argc == 1 ? NULL : "quit takes no arguments");
                return argc == 1;
        }
        run_cmd(mc, argc, argv);
        return 0;
}

/*
 * Waits for input or a signal.  The signals are blocked except inside
 * pselect(), so one arriving between checks cannot be lost.
 * Returns 1 when stdin is readable, 0 on a signal.
 */
static int wait_input(const sigset_t *waitmask) {
        fd_set rfds;

        for (;;) {
                if (got_signal)
                        return 0;
                FD_ZERO(&rfds);
                FD_SET(STDIN_FILENO, &rfds);
                if (pselect(STDIN_FILENO + 1, &rfds, NULL, NULL, NULL,
                            waitmask) > 0)
                        return 1;
                if (errno != EINTR) {
                        perror("mockcluster: pselect");
                        return 0;
                }
        }
}

/*
 * Reads commands until quit, end of input or a signal.  read(2) rather
 * than stdio: buffered lines would be invisible to pselect().
 */
static void serve(rd_kafka_mock_cluster_t *mc, const sigset_t *waitmask) {
        char buf[CMDLINE_MAX], *nl;
        size_t len  = 0;
        int discard = 0;
        ssize_t n;

        while (wait_input(waitmask)) {
                if ((n = read(STDIN_FILENO, buf + len,
                              sizeof(buf) - 1 - len)) <= 0) {
                        if (n == -1 && errno == EINTR)
                                continue;
                        /* A last line without its newline still counts. */
                        if (len > 0 && !discard) {
                                buf[len] = '\0';
                                handle_line(mc, buf);
                        }
                        return;
                }
                len += (size_t)n;
                while ((nl = memchr(buf, '\n', len)) != NULL) {
                        *nl = '\0';
                        if (!discard && handle_line(mc, buf))
                                return;
                        discard = 0;
                        len -= (size_t)(nl + 1 - buf);
                        memmove(buf, nl + 1, len);
                }
                /* Answer an overlong line once, then skip to its end. */
                if (len == sizeof(buf) - 1) {
                        if (!discard)
                                reply("line too long");
                        discard = 1;
                        len     = 0;
                }
        }
}

/* -t TOPIC:PARTITIONS.  Works on a copy: argv shows up in ps(1). */
static int add_topic_arg(rd_kafka_mock_cluster_t *mc, const char *arg) {
        char errstr[ERRSTR_SZ], *name, *colon;
        int ret = 0;

        if ((name = strdup(arg)) == NULL)
                return -1;
        if ((colon = strrchr(name, ':')) == NULL) {
                snprintf(errstr, sizeof(errstr), "want TOPIC:PARTITIONS");
                ret = -1;
        } else {
                *colon = '\0';
                ret = create_topic(mc, name, colon + 1, errstr,
                                   sizeof(errstr));
        }
        if (ret == -1)
                fprintf(stderr, "mockcluster: -t %s: %s\n", arg, errstr);
        free(name);
        return ret;
}

/*
 * The handle only hosts the cluster: it never connects anywhere, as it
 * has no bootstrap servers.  Unless debugging, keep it from saying so on
 * every start (a NOTICE) lest it clutter test logs.
 */
static rd_kafka_t *new_handle(const char *debug) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        if (rd_kafka_conf_set(conf, "client.id", "mockcluster", errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "log_level", debug != NULL ? "7" : "4",
                              errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            (debug != NULL &&
             rd_kafka_conf_set(conf, "debug", debug, errstr, sizeof(errstr)) !=
                 RD_KAFKA_CONF_OK)) {
                fprintf(stderr, "mockcluster: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (rk == NULL) {
                fprintf(stderr, "mockcluster: rd_kafka_new: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
        }
        return rk;
}

/*
 * SIGINT and SIGTERM stay blocked outside pselect(): blocking them before
 * any thread exists also keeps librdkafka's threads from taking them.
 * A shell starts background jobs with SIGINT ignored; handle it anyway.
 */
static void setup_signals(sigset_t *waitmask) {
        struct sigaction sa;
        sigset_t block;

        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, waitmask);
        sigdelset(waitmask, SIGINT);
        sigdelset(waitmask, SIGTERM);

        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* A vanished reader shows up as a write error in reply(). */
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

int main(int argc, char **argv) {
        rd_kafka_mock_cluster_t *mc;
        rd_kafka_t *rk;
        sigset_t waitmask;
        const char *debug = NULL;
        long n;
        int ch, i, ntopics = 0, ret = 0;
        char **topics;

        if ((topics = calloc((size_t)argc, sizeof(*topics))) == NULL)
                return 1;
        while ((ch = getopt(argc, argv, "b:d:t:")) != -1) {
                switch (ch) {
                case 'b':
                        if (parse_long(optarg, 1, 100, &n) == -1)
                                usage();
                        broker_cnt = (int)n;
                        break;
                case 'd':
                        debug = optarg;
                        break;
                case 't':
                        topics[ntopics++] = optarg;
                        break;
                default:
                        usage();
                }
        }
        if (optind != argc)
                usage();

        setup_signals(&waitmask);
        if ((rk = new_handle(debug)) == NULL)
                return 1;
        if ((mc = rd_kafka_mock_cluster_new(rk, broker_cnt)) == NULL) {
                fprintf(stderr, "mockcluster: cannot create mock cluster\n");
                rd_kafka_destroy(rk);
                return 1;
        }
        for (i = 0; i < ntopics && ret == 0; i++)
                if (add_topic_arg(mc, topics[i]) == -1)
                        ret = 1;
        if (ret == 0) {
                printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
                if (fflush(stdout) == EOF)
                        ret = 1;
        }
        if (ret == 0)
                serve(mc, &waitmask);

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        free(topics);
        return ret;
}
