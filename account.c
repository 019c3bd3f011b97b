/*
 * account.c: counts, dead-letters and reports; only the counting runs
 * for every line, the rest for losses, which are rare.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "account.h"

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

/*
 * Without a working dead-letter file, stderr is a lost record's trace:
 * ACCOUNT_REPORTS_MAX an interval, the rest counted by reason (kept: the
 * dead-letter file has it, with -v) and said by account_reports_end().
 */
static void report(struct account *acc, const struct dead_record *r,
                   int reason, int kept)
{
        char text[1024];

        if (acc->reports >= ACCOUNT_REPORTS_MAX) {
                if (acc->reports == ACCOUNT_REPORTS_MAX) { /* once */
                        acc->reports++;
                        snprintf(text, sizeof(text), "more records lost: "
                                 "over %d in this interval, the rest counted "
                                 "and said at its end", ACCOUNT_REPORTS_MAX);
                        say(acc, 1, text);
                }
                acc->unshown[reason]++;
                acc->unshown_kept += kept != 0;
                return;
        }
        acc->reports++;
        snprintf(text, sizeof(text), "%s:%llu: %s: %s",
                 r->input != NULL ? r->input : "stdin",
                 (unsigned long long)r->line_no, r->reason, r->message);
        say(acc, 1, text);
}

/* "; the dead-letter file has them" (or N of them), or nothing. */
static void unshown_where(const struct account *acc, uint64_t n, char *buf,
                          size_t len)
{
        if (acc->unshown_kept == 0)
                snprintf(buf, len, "%s", "");
        else if (acc->unshown_kept == n)
                snprintf(buf, len, "; the dead-letter file has them");
        else
                snprintf(buf, len, "; the dead-letter file has %llu of them",
                         (unsigned long long)acc->unshown_kept);
}

void account_reports_end(struct account *acc)
{
        char by[512] = "", where[128], text[768];
        size_t at = 0;
        uint64_t n = 0;
        int i;

        /* 8 reasons of at most 35 bytes each: by never fills */
        for (i = 0; i <= LOSS_REASONS; i++) {
                if (acc->unshown[i] == 0)
                        continue;
                if (at < sizeof(by))
                        at += (size_t)snprintf(by + at, sizeof(by) - at,
                                "%s%s: %llu", n > 0 ? ", " : "",
                                i == LOSS_REASONS ? "error_event" :
                                loss_reason_name((enum loss_reason)i),
                                (unsigned long long)acc->unshown[i]);
                n += acc->unshown[i];
        }
        if (n > 0) {
                unshown_where(acc, n, where, sizeof(where));
                snprintf(text, sizeof(text), "%llu more records lost, not "
                         "shown (%s)%s", (unsigned long long)n, by, where);
                say(acc, 1, text);
        }
        memset(acc->unshown, 0, sizeof(acc->unshown));
        acc->unshown_kept = 0;
        acc->reports = 0;
}

/*
 * A dead-letter file that cannot be written is fatal (EXIT STATUS in the
 * man page): the record in hand and every later loss are reported.
 */
static void lose(struct account *acc, const struct dead_record *r,
                 int reason)
{
        int usable = dl_usable(&acc->dl), failed;
        char why[768];

        failed = usable && dl_write(&acc->dl, r) == -1;
        if (usable && !failed)
                acc->c.dead_lettered++;
        if (!usable || failed || acc->report_all)
                report(acc, r, reason, usable && !failed);
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
                .input = acc->input,
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
        lose(acc, &r, (int)reason);
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
        /* its line was dead-lettered when it was refused */
        report(acc, &r, LOSS_REASONS, dl_usable(&acc->dl));
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

/* The same writer as the last purge_close's: a later piece of its purge. */
static int same_writer(const struct account *acc, const struct kt_event *ev)
{
        return ev->writer_id != NULL && acc->last_writer_len != 0 &&
               ev->writer_id_len == acc->last_writer_len &&
               memcmp(ev->writer_id, acc->last_writer, ev->writer_id_len) == 0;
}

static void remember_writer(struct account *acc, const struct kt_event *ev)
{
        acc->last_writer_len = 0;
        acc->last_announced = ev->purged_entries;
        if (ev->writer_id == NULL || ev->writer_id_len == 0 ||
            ev->writer_id_len > sizeof(acc->last_writer))
                return;
        memcpy(acc->last_writer, ev->writer_id, ev->writer_id_len);
        acc->last_writer_len = ev->writer_id_len;
}

/*
 * pmacct frames each purge: check it printed what we read.  The records
 * of a purge are the lines read and not skipped since its purge_init
 * (blank lines, pmacct's log lines and markers are skipped).  A piece of
 * a purge split across files (see struct account) announces its own
 * records plus those of the pieces before it.
 */
void account_marker(struct account *acc, const struct kt_event *ev)
{
        uint64_t seen = acc->c.read - acc->c.skipped - acc->purge_base;
        int64_t own = ev->purged_entries - acc->carried;
        char text[256];

        if (ev->marker == KT_MARKER_PURGE_INIT) {
                acc->in_purge = 1;
                acc->purge_base = acc->c.read - acc->c.skipped;
                acc->carried = same_writer(acc, ev) &&
                               acc->last_announced > 0 ?
                               acc->last_announced : 0;
                return;
        }
        if (acc->in_purge && ev->purged_entries >= 0 &&
            (own < 0 || (uint64_t)own != seen)) {
                acc->c.purge_mismatches++;
                snprintf(text, sizeof(text), "pmacct purge: %lld records "
                         "announced, %llu read", (long long)own,
                         (unsigned long long)seen);
                say(acc, 1, text);
        }
        remember_writer(acc, ev);
        acc->in_purge = 0;
        acc->carried = 0;
}
