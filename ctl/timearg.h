/*
 * timearg — the TIME arguments of sacctl (--valid-until, --since,
 * --expires …): ISO-8601 dates or date-times, "2026-12-31",
 * "2026-12-31T18:00:00Z", "2026-12-31T18:00+03:00"; without a zone they mean
 * UTC.  This module checks the shape only; the text is then passed as a
 * parameter to PostgreSQL, whose sessions run with TimeZone=UTC and which
 * rejects impossible values (2026-02-30) with a data error (exit 2).
 * PostgreSQL alone would also accept words such as "tomorrow"; we do not.
 */
#ifndef SAC_CTL_TIMEARG_H
#define SAC_CTL_TIMEARG_H

#include <stdbool.h>
#include <stdint.h>

/* "2026-11-23T10:00:00Z" and its NUL. */
#define TIMEARG_ISO_SIZE 21

/* True if s is YYYY-MM-DD, optionally followed by T (or one space)
 * HH:MM[:SS[.fraction]] and an optional zone Z, ±HH, ±HHMM or ±HH:MM. */
bool timearg_is_iso8601(const char *s);

/* The one way sacctl prints a time: unix_s as ISO-8601 UTC to the second,
 * "2026-11-23T10:00:00Z", in out.  Returns 0, or -1 when out of range. */
int timearg_iso_utc(int64_t unix_s, char out[TIMEARG_ISO_SIZE]) __attribute__((warn_unused_result));

#endif
