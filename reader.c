/*
 * reader.c: newline framing, see reader.h.
 */
#include <stdlib.h>
#include <string.h>

#include "reader.h"

/* Reads are at most this large: a bound on work between two polls. */
#define LR_READ_SIZE (64 * 1024)

int lr_init(struct line_reader *lr, size_t max_line)
{
        memset(lr, 0, sizeof(*lr));
        lr->max_line = max_line;
        lr->cap = 2 * LR_READ_SIZE;
        lr->buf = malloc(lr->cap);
        return lr->buf == NULL ? -1 : 0;
}

void lr_free(struct line_reader *lr)
{
        free(lr->buf);
        memset(lr, 0, sizeof(*lr));
}

void lr_reset(struct line_reader *lr, uint64_t line_no)
{
        lr->start = lr->scan = lr->len = 0;
        lr->skipping = 0;
        lr->line_no = line_no;
}

size_t lr_pending(const struct line_reader *lr)
{
        return lr->len - lr->start;
}

int lr_space(struct line_reader *lr, char **p, size_t *n)
{
        size_t held = lr->len - lr->start, cap;
        char *b;

        /* Move the partial line to the front before growing. */
        if (lr->start > 0) {
                memmove(lr->buf, lr->buf + lr->start, held);
                lr->scan -= lr->start;
                lr->len = held;
                lr->start = 0;
        }
        if (lr->cap - lr->len < LR_READ_SIZE) {
                cap = lr->cap * 2;
                if ((b = realloc(lr->buf, cap)) == NULL)
                        return -1;
                lr->buf = b;
                lr->cap = cap;
        }
        *p = lr->buf + lr->len;
        *n = LR_READ_SIZE;
        return 0;
}

void lr_commit(struct line_reader *lr, size_t n)
{
        lr->len += n;
}

static void hand_out(struct line_reader *lr, size_t len, size_t next,
                     struct line *out)
{
        out->data = lr->buf + lr->start;
        out->len = len;
        out->too_long = 0;
        out->no = ++lr->line_no;
        if (len > 0 && out->data[len - 1] == '\r')
                out->len--;
        lr->start = next;
        lr->scan = next;
}

/*
 * Over max_line without a newline: hand out a prefix as too long, then
 * drop bytes up to the next newline, keeping memory bounded.
 */
static int too_long(struct line_reader *lr, const char *nl,
                    struct line *out)
{
        out->data = lr->buf + lr->start;
        out->len = LR_LONG_PREFIX < lr->max_line ? LR_LONG_PREFIX
                                                 : lr->max_line;
        out->too_long = 1;
        out->no = ++lr->line_no;
        /* The prefix stays in place until the next lr_space(). */
        if (nl != NULL) {
                lr->start = lr->scan = (size_t)(nl - lr->buf) + 1;
                return 1;
        }
        lr->skipping = 1;
        lr->start = lr->scan = lr->len;
        return 1;
}

/* While skipping, drop everything up to and including the next newline. */
static void skip_rest(struct line_reader *lr)
{
        char *nl = memchr(lr->buf + lr->start, '\n', lr->len - lr->start);

        if (nl == NULL) {
                lr->start = lr->scan = lr->len;
                return;
        }
        lr->start = lr->scan = (size_t)(nl - lr->buf) + 1;
        lr->skipping = 0;
}

int lr_next(struct line_reader *lr, int at_eof, struct line *out)
{
        char *nl;
        size_t len;

        if (lr->skipping)
                skip_rest(lr);
        if (lr->skipping)
                return 0;
        nl = memchr(lr->buf + lr->scan, '\n', lr->len - lr->scan);
        if (nl != NULL) {
                len = (size_t)(nl - (lr->buf + lr->start));
                if (len > lr->max_line + 1 ||
                    (len == lr->max_line + 1 && nl[-1] != '\r'))
                        return too_long(lr, nl, out);
                hand_out(lr, len, (size_t)(nl - lr->buf) + 1, out);
                return 1;
        }
        lr->scan = lr->len;
        if (lr->len - lr->start > lr->max_line + 1)
                return too_long(lr, NULL, out);
        if (at_eof && lr->len > lr->start) {
                len = lr->len - lr->start;
                /* The same bound as above: a CR before the end is no byte. */
                if (len - (lr->buf[lr->len - 1] == '\r') > lr->max_line)
                        return too_long(lr, NULL, out);
                hand_out(lr, len, lr->len, out);
                return 1;
        }
        return 0;
}
