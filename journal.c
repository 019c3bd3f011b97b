/*
 * journal.c: stderr lines, with the journal's priority prefix when
 * stderr is the journal's stream (see journal.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h> /* opterr */

#include "config.h" /* KTP_NAME */
#include "journal.h"

/*
 * systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream it
 * connected stdout or stderr to.  A child that inherited the variable
 * but had stderr redirected (2>file) must not prefix: hence the fstat.
 */
static int stream_is_stderr(void)
{
        const char *env = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        int end = 0;

        if (env == NULL ||
            sscanf(env, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
            env[end] != '\0' || fstat(2, &st) == -1)
                return 0;
        return (unsigned long long)st.st_dev == dev &&
               (unsigned long long)st.st_ino == ino;
}

int journal_stream(void)
{
        static int known = -1; /* stderr is not re-pointed while we run */

        if (known == -1)
                known = stream_is_stderr();
        return known;
}

enum log_prio journal_prio(int level)
{
        switch (level) {
        case 0: return PRIO_ERR;
        case 1: return PRIO_WARNING;
        case 2: return PRIO_INFO;
        default: return level < 0 ? PRIO_ERR : PRIO_DEBUG;
        }
}

/*
 * Each line of text with the prefix, the whole in one write when it fits:
 * librdkafka's threads say things too (output.c's log callback), and
 * stderr is unbuffered.
 */
void journal_text(enum log_prio prio, const char *text)
{
        char buf[8192];
        size_t at = 0, n;
        const char *nl;

        if (!journal_stream()) {
                fputs(text, stderr);
                return;
        }
        for (; *text != '\0'; text += n) {
                nl = strchr(text, '\n');
                n = nl != NULL ? (size_t)(nl - text) + 1 : strlen(text);
                if (at + n + 4 > sizeof(buf)) {
                        fwrite(buf, 1, at, stderr);
                        at = 0;
                }
                at += (size_t)snprintf(buf + at, 5, "<%d>", (int)prio);
                if (at + n > sizeof(buf)) { /* a line longer than buf */
                        fwrite(buf, 1, at, stderr);
                        fwrite(text, 1, n, stderr);
                        at = 0;
                        continue;
                }
                memcpy(buf + at, text, n);
                at += n;
        }
        fwrite(buf, 1, at, stderr);
}

/* "kafkatee-pipe: TEXT\n" in a new string, or NULL (out of memory). */
static char *line_of(const char *fmt, va_list ap)
{
        char *msg, *line;

        if (vasprintf(&msg, fmt, ap) == -1)
                return NULL;
        if (asprintf(&line, "%s: %s\n", KTP_NAME, msg) == -1)
                line = NULL;
        free(msg);
        return line;
}

void journal_vsay(enum log_prio prio, const char *fmt, va_list ap)
{
        char *line = NULL;
        va_list again;

        va_copy(again, ap);
        if (journal_stream() && (line = line_of(fmt, ap)) != NULL) {
                journal_text(prio, line);
        } else { /* byte for byte as before (or out of memory) */
                if (journal_stream())
                        fprintf(stderr, "<%d>", (int)prio);
                fputs(KTP_NAME ": ", stderr);
                vfprintf(stderr, fmt, again);
                fputc('\n', stderr);
        }
        va_end(again);
        free(line);
}

void journal_say(enum log_prio prio, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        journal_vsay(prio, fmt, ap);
        va_end(ap);
}

void journal_usage(void (*print)(FILE *fp))
{
        char *text = NULL;
        size_t len = 0;
        FILE *mem;

        if (!journal_stream() || (mem = open_memstream(&text, &len)) == NULL) {
                print(stderr);
                return;
        }
        print(mem);
        if (fclose(mem) == 0)
                journal_text(PRIO_ERR, text);
        else
                print(stderr);
        free(text);
}

void journal_getopt(void)
{
        if (journal_stream())
                opterr = 0;
}

void journal_bad_option(int opt, const char *arg)
{
        if (!journal_stream())
                return;
        if (arg != NULL && strncmp(arg, "--", 2) == 0)
                journal_say(PRIO_ERR, "%s: unknown option, or its value is "
                            "missing", arg);
        else
                journal_say(PRIO_ERR, "-%c: unknown option, or its value is "
                            "missing", opt > 0 && opt < 127 ? opt : '?');
}
