/*
 * journal.h: the program's lines on stderr, every one of them written
 * here.  Under systemd, stderr is often a stream to the journal
 * (JOURNAL_STREAM names its device and inode): each line then starts
 * with sd-daemon(3)'s "<N>" (syslog's priority), so the journal keeps
 * errors apart from notices.  Elsewhere the lines are as they always
 * were: "kafkatee-pipe: TEXT".
 *
 * Owns: whether stderr is the journal's stream, found once (fstat of
 * descriptor 2 against JOURNAL_STREAM) at the first line.
 */
#ifndef KT_JOURNAL_H
#define KT_JOURNAL_H

#include <stdarg.h>
#include <stdio.h>

/* syslog's priorities, the numbers of sd-daemon(3)'s prefixes. */
enum log_prio {
        PRIO_ERR = 3,
        PRIO_WARNING = 4,
        PRIO_NOTICE = 5,
        PRIO_INFO = 6,
        PRIO_DEBUG = 7,
};

/*
 * The priority of a line said at a verbosity level (0: always, 1: by
 * default, 2: -v, 3: -vv), when its caller names none: an error, a
 * warning, information, debugging.
 */
enum log_prio journal_prio(int level);

/* "kafkatee-pipe: TEXT\n" on stderr, "<N>" first under the journal. */
void journal_say(enum log_prio prio, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void journal_vsay(enum log_prio prio, const char *fmt, va_list ap);

/* Text of several lines as it is (a usage), each line prefixed under
 * the journal. */
void journal_text(enum log_prio prio, const char *text);

/* A usage printed by print(fp), on stderr: an error's. */
void journal_usage(void (*print)(FILE *fp));

/*
 * getopt(3) says a bad option on stderr itself, without a prefix: under
 * the journal, journal_getopt() turns that off (before the first
 * getopt_long()) and journal_bad_option() says it instead, from the '?'
 * case (arg: argv[optind - 1]).  Elsewhere getopt's words stay.
 */
void journal_getopt(void);
void journal_bad_option(int opt, const char *arg);

/* 1 when stderr is the journal's stream (JOURNAL_STREAM names it). */
int journal_stream(void);

#endif /* KT_JOURNAL_H */
