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

/* True if s is YYYY-MM-DD, optionally followed by T (or one space)
 * HH:MM[:SS[.fraction]] and an optional zone Z, ±HH, ±HHMM or ±HH:MM. */
bool timearg_is_iso8601(const char *s);

#endif
