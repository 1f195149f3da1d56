/*
 * timearg — see timearg.h.
 */
#include "timearg.h"

#include <string.h>
#include <time.h>

#define TIMEARG_MAX_LEN 40

/* Consumes exactly n digits. */
static bool timearg_digits(const char **p, int n)
{
	for (; n > 0; n--, (*p)++)
		if (**p < '0' || **p > '9')
			return false;
	return true;
}

static bool timearg_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

bool timearg_is_iso8601(const char *s)
{
	const char *p = s;

	if (strnlen(s, TIMEARG_MAX_LEN + 1) > TIMEARG_MAX_LEN)
		return false;
	if (!timearg_digits(&p, 4) || !timearg_char(&p, '-') || !timearg_digits(&p, 2) ||
	    !timearg_char(&p, '-') || !timearg_digits(&p, 2))
		return false;
	if (*p == '\0')
		return true;
	if (*p != 'T' && *p != ' ')
		return false;
	p++;
	if (!timearg_digits(&p, 2) || !timearg_char(&p, ':') || !timearg_digits(&p, 2))
		return false;
	if (timearg_char(&p, ':')) {
		if (!timearg_digits(&p, 2))
			return false;
		if (timearg_char(&p, '.')) {
			if (!timearg_digits(&p, 1))
				return false;
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0'))
		return true;
	if (*p != '+' && *p != '-')
		return false;
	p++;
	if (!timearg_digits(&p, 2))
		return false;
	if (*p == '\0')
		return true;
	timearg_char(&p, ':');
	return timearg_digits(&p, 2) && *p == '\0';
}

int timearg_iso_utc(int64_t unix_s, char out[TIMEARG_ISO_SIZE])
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	if ((int64_t)t != unix_s || gmtime_r(&t, &tm) == NULL ||
	    strftime(out, TIMEARG_ISO_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) != TIMEARG_ISO_SIZE - 1)
		return -1;
	return 0;
}
