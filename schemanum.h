/*
 * schemanum.h: JSON numbers as the validator compares them, from their
 * text: comparisons exact for every number of up to 38 significant
 * digits (the integers of 64 bits, u64 counters, and what just overflows
 * them), multipleOf for up to 19; long double beyond that.  Shared by
 * schema.c and its tests; not for other modules.
 */
#ifndef KT_SCHEMANUM_H
#define KT_SCHEMANUM_H

#include <stddef.h>
#include <stdint.h>

struct kt_num {
        unsigned char neg;      /* a minus sign (also on -0) */
        unsigned char integral; /* no fractional part: 1.0 is one */
        unsigned char exact;    /* |value| == mag, an integer < 2^64 */
        unsigned char dec;      /* |value| == sig * 10^exp10, sig < 10^38 */
        uint64_t      mag;
        __extension__ unsigned __int128 sig;
        int           exp10;
        long double   ld;       /* the value when !exact */
};

/* Parses n bytes of number text (RFC 8259; else what strtold makes). */
void kt_num_parse(const char *s, size_t n, struct kt_num *x);

/* -1, 0, 1 as a < b, a == b, a > b; 2 when either is NaN. */
int kt_num_cmp(const struct kt_num *a, const struct kt_num *b);

/* 1 when a is an integer multiple of b (b > 0). */
int kt_num_multiple(const struct kt_num *a, const struct kt_num *b);

#endif /* KT_SCHEMANUM_H */
