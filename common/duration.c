/*
 * duration — see duration.h.
 */
#include "duration.h"

#include <stdio.h>

#define DURATION_MAX_SECONDS ((int64_t)100 * 366 * 86400)

int duration_parse(const char *text, int64_t *seconds)
{
	int64_t value = 0, unit = 1;
	const char *p = text;

	if (p == NULL || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		value = value * 10 + (*p - '0');
		if (value > DURATION_MAX_SECONDS)
			return -1;
	}
	switch (*p) {
	case '\0':
		break;
	case 's':
		p++;
		break;
	case 'm':
		unit = 60;
		p++;
		break;
	case 'h':
		unit = 3600;
		p++;
		break;
	case 'd':
		unit = 86400;
		p++;
		break;
	default:
		return -1;
	}
	if (*p != '\0' || value == 0 || value > DURATION_MAX_SECONDS / unit)
		return -1;
	*seconds = value * unit;
	return 0;
}

void duration_format(int64_t seconds, char *out, unsigned out_size)
{
	if (seconds % 86400 == 0 && seconds > 86400)
		snprintf(out, out_size, "%lldd", (long long)(seconds / 86400));
	else if (seconds % 3600 == 0)
		snprintf(out, out_size, "%lldh", (long long)(seconds / 3600));
	else if (seconds % 60 == 0)
		snprintf(out, out_size, "%lldm", (long long)(seconds / 60));
	else
		snprintf(out, out_size, "%llds", (long long)seconds);
}
