/*
 * duration — "90s", "15m", "24h", "30d" to seconds.
 */
#ifndef SAC_DURATION_H
#define SAC_DURATION_H

#include <stdint.h>

/* Parses a positive whole number followed by one of s, m, h, d (a bare number
 * means seconds).  Returns 0 and sets *seconds, or -1 for anything else: empty,
 * sign, spaces inside, unknown suffix, zero, or a value beyond 100 years. */
int duration_parse(const char *text, int64_t *seconds) __attribute__((warn_unused_result));

/* Formats seconds in the largest unit that divides it exactly ("24h", "90s"). */
void duration_format(int64_t seconds, char *out, unsigned out_size);

#endif
