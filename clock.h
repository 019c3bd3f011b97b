/*
 * clock.h: the two clocks of the program.  The monotonic one measures
 * (latency, backpressure, stalls); the wall clock stamps (event ingest
 * time, stats and dead-letter times).
 */
#ifndef KT_CLOCK_H
#define KT_CLOCK_H

#include <stdint.h>

/* Microseconds on a clock that never jumps (CLOCK_MONOTONIC). */
uint64_t mono_us(void);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t now_ms(void);

#endif /* KT_CLOCK_H */
