/*
 * test_account.c: where every line ends.  The counters and their
 * invariant, the dead-letter record of each reason (written to a file
 * and read back), the reports through the log callback and their limit,
 * pmacct's purge markers, and a dead-letter file that cannot be written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "account.h"

/* What the callbacks were told. */
struct heard {
        int  logs, fatals;
        int  last_level;
        char first_log[256], last_log[256], fatal[1024];
};

static void heard_log(void *opaque, int level, const char *text)
{
        struct heard *h = opaque;

        if (h->logs++ == 0)
                snprintf(h->first_log, sizeof(h->first_log), "%s", text);
        snprintf(h->last_log, sizeof(h->last_log), "%s", text);
        h->last_level = level;
}

static void heard_fatal(void *opaque, const char *why)
{
        struct heard *h = opaque;

        h->fatals++;
        snprintf(h->fatal, sizeof(h->fatal), "%s", why);
}

static void open_account(struct account *acc, struct heard *h,
                         const char *dead_letter, int report_all)
{
        const struct account_cb cb = {
                .log = heard_log, .fatal = heard_fatal, .opaque = h,
        };
        char err[256];

        memset(h, 0, sizeof(*h));
        assert_int_equal(account_open(acc, dead_letter, report_all, &cb, err,
                                      sizeof(err)), 0);
}

static struct line text_line(const char *text, uint64_t no)
{
        struct line l = { .data = text, .len = strlen(text), .no = no };

        return l;
}

static void assert_invariant(const struct counters *c)
{
        assert_int_equal(c->read, c->delivered + c->failed + c->invalid +
                         c->skipped);
}

static void test_reason_names(void **state)
{
        (void)state;
        assert_string_equal(loss_reason_name(LOSS_INVALID), "invalid");
        assert_string_equal(loss_reason_name(LOSS_TOO_LONG), "too_long");
        assert_string_equal(loss_reason_name(LOSS_DELIVERY), "delivery");
        assert_string_equal(loss_reason_name(LOSS_SHUTDOWN), "shutdown");
}

/* Each outcome lands in its counter; the sum is what was read. */
static void test_counting(void **state)
{
        struct account acc;
        struct heard h;
        struct line bad = text_line("x", 2);
        struct line gone = text_line("{}", 4);
        const struct counters *c = account_counters(&acc);
        int i;

        (void)state;
        open_account(&acc, &h, NULL, 0);
        for (i = 0; i < 5; i++)
                account_read(&acc);
        account_skipped(&acc);
        account_invalid(&acc, &bad, "not JSON");
        account_produced(&acc);
        account_produced(&acc);
        account_produced(&acc);
        account_delivered(&acc, 1000, 3000, 1795370460123);
        account_delivered(&acc, 0, 4000, 1795370460124); /* no read time */
        account_failed(&acc, LOSS_DELIVERY, &gone, "Broker: timed out",
                       "REQUEST_TIMED_OUT");
        assert_int_equal(c->read, 5);
        assert_int_equal(c->skipped, 1);
        assert_int_equal(c->invalid, 1);
        assert_int_equal(c->produced, 3);
        assert_int_equal(c->delivered, 2);
        assert_int_equal(c->failed, 1);
        assert_int_equal(c->dead_lettered, 0);
        assert_invariant(c);
        assert_int_equal(account_latency(&acc)->count, 1);
        assert_int_equal(account_latency(&acc)->sum_us, 2000);
        assert_int_equal(account_progress_us(&acc), 4000);
        assert_int_equal(account_last_delivery_ms(&acc), 1795370460124);
        account_idle(&acc, 9000);
        assert_int_equal(account_progress_us(&acc), 9000);
        account_close(&acc);
        /* The summary reads them after the close. */
        assert_int_equal(c->read, 5);
}

static char *temp_path(void)
{
        char *path = strdup("/tmp/test_account.XXXXXX");
        int fd;

        assert_non_null(path);
        assert_true((fd = mkstemp(path)) >= 0);
        close(fd);
        return path;
}

/* The dead-letter file's records, one json-c object each. */
static int read_records(const char *path, json_object **rec, int max)
{
        FILE *fp = fopen(path, "r");
        char buf[8192];
        int n = 0;

        assert_non_null(fp);
        while (n < max && fgets(buf, sizeof(buf), fp) != NULL) {
                assert_non_null(strchr(buf, '\n'));
                assert_non_null(rec[n] = json_tokener_parse(buf));
                n++;
        }
        fclose(fp);
        return n;
}

static const char *field(json_object *o, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || v == NULL)
                return NULL;
        return json_object_get_string(v);
}

static void assert_record(json_object *o, const char *reason,
                          const char *message, const char *error,
                          const char *line, const char *truncated,
                          const char *raw)
{
        assert_string_equal(field(o, "reason"), reason);
        assert_string_equal(field(o, "message"), message);
        if (error == NULL)
                assert_null(field(o, "error"));
        else
                assert_string_equal(field(o, "error"), error);
        assert_string_equal(field(o, "line"), line);
        assert_string_equal(field(o, "truncated"), truncated);
        assert_string_equal(field(o, "raw"), raw);
        assert_non_null(field(o, "time"));
        assert_int_equal(json_object_object_length(o), 7);
}

static void write_each_reason(struct account *acc)
{
        struct line bad = text_line("not json", 1);
        struct line cut = text_line("{\"a\": 1", 2);
        struct line late = text_line("{\"b\": 2}", 3);
        struct line left = text_line("{\"c\": 3}", 4);

        cut.too_long = 1;
        account_invalid(acc, &bad, "not JSON");
        account_invalid(acc, &cut, "line longer than line.max");
        account_failed(acc, LOSS_DELIVERY, &late, "Local: Message timed out",
                       "_MSG_TIMED_OUT");
        account_failed(acc, LOSS_SHUTDOWN, &left, "stopped before producing",
                       NULL);
}

/* The record of each reason, as kafkatee-pipe(1) describes it. */
static void test_dead_letter_records(void **state)
{
        char *path = temp_path();
        json_object *rec[8];
        struct account acc;
        struct heard h;
        int i;

        (void)state;
        open_account(&acc, &h, path, 0);
        write_each_reason(&acc);
        account_close(&acc);
        assert_int_equal(read_records(path, rec, 8), 4);
        assert_record(rec[0], "invalid", "not JSON", NULL, "1", "false",
                      "not json");
        assert_record(rec[1], "too_long", "line longer than line.max", NULL,
                      "2", "true", "{\"a\": 1");
        assert_record(rec[2], "delivery", "Local: Message timed out",
                      "_MSG_TIMED_OUT", "3", "false", "{\"b\": 2}");
        assert_record(rec[3], "shutdown", "stopped before producing", NULL,
                      "4", "false", "{\"c\": 3}");
        assert_int_equal(account_counters(&acc)->dead_lettered, 4);
        /* Dead-lettered: nothing said, unless asked to. */
        assert_int_equal(h.logs, 0);
        assert_int_equal(h.fatals, 0);
        for (i = 0; i < 4; i++)
                json_object_put(rec[i]);
        unlink(path);
        free(path);
}

/* report_all (-vv): the dead-lettered losses are said too. */
static void test_report_all(void **state)
{
        char *path = temp_path();
        struct account acc;
        struct heard h;

        (void)state;
        open_account(&acc, &h, path, 1);
        write_each_reason(&acc);
        account_close(&acc);
        assert_int_equal(h.logs, 4);
        assert_string_equal(h.first_log, "stdin:1: invalid: not JSON");
        assert_string_equal(h.last_log,
                            "stdin:4: shutdown: stopped before producing");
        assert_int_equal(account_counters(&acc)->dead_lettered, 4);
        unlink(path);
        free(path);
}

/*
 * Without a dead-letter file: 100 reports an interval, then one line;
 * the interval's end says how many were not shown, and the next
 * interval reports again.
 */
static void test_report_limit(void **state)
{
        struct account acc;
        struct heard h;
        struct line bad;
        int i;

        (void)state;
        open_account(&acc, &h, NULL, 0);
        for (i = 1; i <= 250; i++) {
                bad = text_line("x", (uint64_t)i);
                account_read(&acc);
                account_invalid(&acc, &bad, "not JSON");
        }
        assert_int_equal(h.logs, 101);
        assert_string_equal(h.first_log, "stdin:1: invalid: not JSON");
        assert_string_equal(h.last_log, "more records lost: over 100 in "
                            "this interval, the rest counted and said at "
                            "its end");
        assert_int_equal(h.last_level, 1);
        account_reports_end(&acc);
        assert_int_equal(h.logs, 102);
        assert_string_equal(h.last_log, "150 more records lost, not shown "
                            "(invalid: 150)");
        /* the next interval: reported again */
        bad = text_line("x", 251);
        account_read(&acc);
        account_failed(&acc, LOSS_DELIVERY, &bad, "Local: Message timed out",
                       "_MSG_TIMED_OUT");
        assert_int_equal(h.logs, 103);
        assert_string_equal(h.last_log,
                            "stdin:251: delivery: Local: Message timed out");
        /* nothing unsaid: nothing said */
        account_reports_end(&acc);
        assert_int_equal(h.logs, 103);
        assert_int_equal(account_counters(&acc)->invalid, 250);
        assert_invariant(account_counters(&acc));
        account_close(&acc);
}

/* With -v and a dead-letter file: the reasons, and where they are. */
static void test_report_limit_reasons(void **state)
{
        char *path = temp_path();
        static const enum loss_reason reasons[] = {
                LOSS_INVALID, LOSS_DELIVERY, LOSS_TOO_LONG,
        };
        struct account acc;
        struct heard h;
        struct line bad;
        int i;

        (void)state;
        open_account(&acc, &h, path, 1);
        for (i = 1; i <= 130; i++) {
                bad = text_line("x", (uint64_t)i);
                account_read(&acc);
                if (i % 3 == 1)
                        account_failed(&acc, reasons[i % 3], &bad, "no",
                                       NULL);
                else
                        account_invalid_reason(&acc, reasons[i % 3], &bad,
                                               "no");
        }
        account_error_outcome(&acc, 0, 131, "Local: Message timed out");
        account_reports_end(&acc);
        /* 101..130: 10 of each reason, then the error event */
        assert_string_equal(h.last_log, "31 more records lost, not shown "
                            "(invalid: 10, too_long: 10, delivery: 10, "
                            "error_event: 1); the dead-letter file has "
                            "them");
        assert_int_equal(account_counters(&acc)->dead_lettered, 130);
        account_close(&acc);
        unlink(path);
        free(path);
}

static struct kt_event marker(enum kt_marker m, int64_t purged)
{
        struct kt_event ev = { .marker = m, .purged_entries = purged };

        return ev;
}

/* A purge of n records framed by its markers, as handle_line counts;
 * writer: the markers' writer_id, or NULL for none. */
static void purge_of(struct account *acc, int n, int64_t announced,
                     const char *writer)
{
        struct kt_event ev = marker(KT_MARKER_PURGE_INIT, -1);
        struct line bad = text_line("x", 1);
        int i;

        ev.writer_id = writer;
        ev.writer_id_len = writer != NULL ? strlen(writer) : 0;
        account_read(acc);
        account_skipped(acc);
        account_marker(acc, &ev);
        for (i = 0; i < n; i++) {
                account_read(acc);
                if (i == 0) {
                        account_invalid(acc, &bad, "not JSON");
                        continue;
                }
                account_produced(acc);
                account_delivered(acc, 0, 1, 1);
        }
        account_read(acc); /* a blank line: not a record */
        account_skipped(acc);
        ev = marker(KT_MARKER_PURGE_CLOSE, announced);
        ev.writer_id = writer;
        ev.writer_id_len = writer != NULL ? strlen(writer) : 0;
        account_read(acc);
        account_skipped(acc);
        account_marker(acc, &ev);
}

static void purge(struct account *acc, int n, int64_t announced)
{
        purge_of(acc, n, announced, NULL);
}

static void test_purge_markers(void **state)
{
        struct account acc;
        struct heard h;
        struct kt_event ev;

        (void)state;
        open_account(&acc, &h, "/dev/null", 0);
        purge(&acc, 3, 3);
        assert_int_equal(account_counters(&acc)->purge_mismatches, 0);
        assert_int_equal(h.logs, 0);
        purge(&acc, 3, 4);
        assert_int_equal(account_counters(&acc)->purge_mismatches, 1);
        assert_int_equal(h.logs, 1);
        assert_string_equal(h.last_log,
                            "pmacct purge: 4 records announced, 3 read");
        /* No count announced, or a close without its init: no check. */
        purge(&acc, 2, -1);
        ev = marker(KT_MARKER_PURGE_CLOSE, 7);
        account_marker(&acc, &ev);
        assert_int_equal(account_counters(&acc)->purge_mismatches, 1);
        assert_invariant(account_counters(&acc));
        account_close(&acc);
}

/*
 * pmacct 1.7.7 splits a purge at each second's turn when the file name
 * has time variables: the pieces' markers have the writer's writer_id,
 * and each purge_close counts the pieces before it too.
 */
static void test_purge_pieces(void **state)
{
        struct account acc;
        struct heard h;

        (void)state;
        open_account(&acc, &h, "/dev/null", 0);
        purge_of(&acc, 4, 4, "nf/100");
        purge_of(&acc, 3, 7, "nf/100");     /* a later piece: 4 + 3 */
        purge_of(&acc, 2, 9, "nf/100");
        assert_int_equal(account_counters(&acc)->purge_mismatches, 0);
        purge_of(&acc, 5, 5, "nf/200");     /* the next purge */
        assert_int_equal(account_counters(&acc)->purge_mismatches, 0);
        purge_of(&acc, 2, 8, "nf/200");     /* a piece that lost a line */
        assert_int_equal(account_counters(&acc)->purge_mismatches, 1);
        assert_string_equal(h.last_log,
                            "pmacct purge: 3 records announced, 2 read");
        /* another writer carries nothing over */
        purge_of(&acc, 2, 10, "nf/300");
        assert_int_equal(account_counters(&acc)->purge_mismatches, 2);
        assert_string_equal(h.last_log,
                            "pmacct purge: 10 records announced, 2 read");
        /* without a writer_id, every purge stands alone */
        purge(&acc, 2, 2);
        purge(&acc, 2, 4);
        assert_int_equal(account_counters(&acc)->purge_mismatches, 3);
        assert_invariant(account_counters(&acc));
        account_close(&acc);
}

/*
 * A dead-letter file that cannot be written: fatal, said once; the
 * record in hand and every later loss are reported through the log.
 */
static void test_dead_letter_fails(void **state)
{
        struct account acc;
        struct heard h;
        struct line bad = text_line("x", 1);
        struct line gone = text_line("{}", 2);

        (void)state;
        open_account(&acc, &h, "/dev/full", 0);
        account_invalid(&acc, &bad, "not JSON");
        assert_int_equal(h.fatals, 1);
        assert_non_null(strstr(h.fatal, "cannot write to dead-letter file "
                               "/dev/full: No space left on device"));
        assert_int_equal(h.logs, 1);
        assert_string_equal(h.last_log, "stdin:1: invalid: not JSON");
        account_failed(&acc, LOSS_DELIVERY, &gone, "Broker: refused",
                       "MSG_SIZE_TOO_LARGE");
        assert_int_equal(h.fatals, 1);
        assert_int_equal(h.logs, 2);
        assert_string_equal(h.last_log, "stdin:2: delivery: Broker: refused");
        assert_int_equal(account_counters(&acc)->dead_lettered, 0);
        assert_int_equal(account_counters(&acc)->invalid, 1);
        assert_int_equal(account_counters(&acc)->failed, 1);
        account_close(&acc);
}

/* SIGHUP after logrotate: the next records go to a new file. */
static void test_reopen(void **state)
{
        char *path = temp_path(), moved[64];
        struct account acc;
        struct heard h;
        struct line bad = text_line("x", 1);
        json_object *rec[2];

        (void)state;
        snprintf(moved, sizeof(moved), "%s.1", path);
        open_account(&acc, &h, path, 0);
        account_invalid(&acc, &bad, "first");
        assert_int_equal(rename(path, moved), 0);
        account_reopen(&acc);
        assert_int_equal(h.fatals, 0);
        assert_string_equal(h.last_log, "SIGHUP: dead-letter file reopened");
        account_invalid(&acc, &bad, "second");
        account_close(&acc);
        assert_int_equal(read_records(path, rec, 2), 1);
        assert_string_equal(field(rec[0], "message"), "second");
        json_object_put(rec[0]);
        assert_int_equal(read_records(moved, rec, 2), 1);
        assert_string_equal(field(rec[0], "message"), "first");
        json_object_put(rec[0]);
        unlink(path);
        unlink(moved);
        free(path);
}

/* A failed setup closes an account that was never opened. */
static void test_close_unopened(void **state)
{
        static struct account acc;

        (void)state;
        account_close(&acc);
        account_close(&acc);
        assert_int_equal(account_counters(&acc)->read, 0);
}

/* An argument runs only the tests whose names match it (* and ? work). */
int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reason_names),
                cmocka_unit_test(test_counting),
                cmocka_unit_test(test_dead_letter_records),
                cmocka_unit_test(test_report_all),
                cmocka_unit_test(test_report_limit),
                cmocka_unit_test(test_report_limit_reasons),
                cmocka_unit_test(test_purge_markers),
                cmocka_unit_test(test_purge_pieces),
                cmocka_unit_test(test_dead_letter_fails),
                cmocka_unit_test(test_reopen),
                cmocka_unit_test(test_close_unopened),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
