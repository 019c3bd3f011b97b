/*
 * account.c: counts, dead-letters and reports; only the counting runs
 * for every line, the rest for losses, which are rare.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "account.h"

/* Losses reported one by one through cb.log before going quiet. */
#define MAX_REPORTS 100

static const char *const reason_names[] = {
        [LOSS_INVALID] = "invalid",
        [LOSS_TOO_LONG] = "too_long",
        [LOSS_SCHEMA] = "schema",
        [LOSS_ENCODE] = "encode",
        [LOSS_DELIVERY] = "delivery",
        [LOSS_SHUTDOWN] = "shutdown",
        [LOSS_ROUTE] = "route",
};

const char *loss_reason_name(enum loss_reason reason)
{
        if ((size_t)reason >= sizeof(reason_names) / sizeof(*reason_names))
                return "unknown";
        return reason_names[reason];
}

int account_open(struct account *acc, const char *dead_letter,
                 int report_all, const struct account_cb *cb, char *err,
                 size_t errlen)
{
        memset(acc, 0, sizeof(*acc));
        acc->cb = *cb;
        acc->report_all = report_all;
        return dl_open(&acc->dl, dead_letter, err, errlen);
}

void account_close(struct account *acc)
{
        dl_close(&acc->dl);
}

static void say(const struct account *acc, int level, const char *text)
{
        if (acc->cb.log != NULL)
                acc->cb.log(acc->cb.opaque, level, text);
}

static void fatal(const struct account *acc, const char *why)
{
        if (acc->cb.fatal != NULL)
                acc->cb.fatal(acc->cb.opaque, why);
}

void account_reopen(struct account *acc)
{
        char why[768];

        if (dl_reopen(&acc->dl) == -1) {
                snprintf(why, sizeof(why), "cannot reopen dead-letter file "
                         "%s: %s", acc->dl.path, strerror(errno));
                fatal(acc, why);
                return;
        }
        say(acc, 2, "SIGHUP: dead-letter file reopened");
}

/* Without a working dead-letter file, stderr is a lost record's trace. */
static void report(struct account *acc, const struct dead_record *r)
{
        char text[1024];

        if (++acc->reports > MAX_REPORTS) {
                if (acc->reports == MAX_REPORTS + 1)
                        say(acc, 1, "more records lost: see the summary");
                return;
        }
        snprintf(text, sizeof(text), "stdin:%llu: %s: %s",
                 (unsigned long long)r->line_no, r->reason, r->message);
        say(acc, 1, text);
}

/*
 * A dead-letter file that cannot be written is fatal (EXIT STATUS in the
 * man page): the record in hand and every later loss are reported.
 */
static void lose(struct account *acc, const struct dead_record *r)
{
        int usable = dl_usable(&acc->dl), failed;
        char why[768];

        failed = usable && dl_write(&acc->dl, r) == -1;
        if (usable && !failed)
                acc->c.dead_lettered++;
        if (!usable || failed || acc->report_all)
                report(acc, r);
        if (!failed)
                return;
        snprintf(why, sizeof(why), "cannot write to dead-letter file %s: "
                 "%s; lost records are reported here from now on",
                 acc->dl.path, strerror(acc->dl.error));
        fatal(acc, why);
}

static void lose_line(struct account *acc, enum loss_reason reason,
                      const struct line *l, const struct dead_event *ev,
                      const char *message, const char *error)
{
        struct dead_record r = {
                .reason = loss_reason_name(reason), .message = message,
                .error = error, .line_no = l->no, .raw = l->data,
                .raw_len = l->len, .truncated = l->too_long, .event = ev,
        };
        long n;

        if (acc->cb.raw != NULL) {
                n = acc->cb.raw(acc->cb.opaque, l->data, l->len,
                                l->too_long, &r.raw);
                r.raw_len = n >= 0 ? (size_t)n : 0;
                if (n < 0) {
                        r.raw = NULL;
                        r.withheld = "anonymize.raw";
                }
        }
        lose(acc, &r);
}

void account_invalid(struct account *acc, const struct line *l,
                     const char *why)
{
        account_invalid_reason(acc, l->too_long ? LOSS_TOO_LONG
                                                : LOSS_INVALID, l, why);
}

void account_invalid_reason(struct account *acc, enum loss_reason reason,
                            const struct line *l, const char *why)
{
        acc->c.invalid++;
        lose_line(acc, reason, l, NULL, why, NULL);
}

void account_failed(struct account *acc, enum loss_reason reason,
                    const struct line *l, const char *message,
                    const char *error)
{
        account_failed_event(acc, reason, l, NULL, message, error);
}

void account_failed_event(struct account *acc, enum loss_reason reason,
                          const struct line *l, const struct dead_event *ev,
                          const char *message, const char *error)
{
        acc->c.failed++;
        lose_line(acc, reason, l, ev, message, error);
}

void account_error_outcome(struct account *acc, int delivered,
                           uint64_t line_no, const char *error)
{
        struct dead_record r = { .reason = "error_event", .line_no = line_no };
        char message[512];

        if (delivered) {
                acc->c.error_delivered++;
                return;
        }
        acc->c.error_failed++;
        snprintf(message, sizeof(message), "its error event was not "
                 "delivered: %s", error != NULL ? error : "unknown error");
        r.message = message;
        report(acc, &r);
}

void account_delivered(struct account *acc, uint64_t read_us,
                       uint64_t now_us, int64_t now_ms)
{
        acc->c.delivered++;
        if (read_us != 0 && now_us >= read_us)
                latency_add(&acc->latency, now_us - read_us);
        acc->progress_us = now_us;
        acc->last_delivery_ms = now_ms;
}

/*
 * pmacct frames each purge: check it printed what we read.  The records
 * of a purge are the lines read and not skipped since its purge_init
 * (blank lines, pmacct's log lines and markers are skipped).
 */
void account_marker(struct account *acc, const struct kt_event *ev)
{
        uint64_t seen = acc->c.read - acc->c.skipped - acc->purge_base;
        char text[256];

        if (ev->marker == KT_MARKER_PURGE_INIT) {
                acc->in_purge = 1;
                acc->purge_base = acc->c.read - acc->c.skipped;
                return;
        }
        if (acc->in_purge && ev->purged_entries >= 0 &&
            (uint64_t)ev->purged_entries != seen) {
                acc->c.purge_mismatches++;
                snprintf(text, sizeof(text), "pmacct purge: %lld records "
                         "announced, %llu read", (long long)ev->purged_entries,
                         (unsigned long long)seen);
                say(acc, 1, text);
        }
        acc->in_purge = 0;
}
