/*
 * badgeuid — see badgeuid.h.
 */
#include "badgeuid.h"

#include <string.h>

#include "hex.h"

int badgeuid_parse(const char *text, uint8_t uid[CREDENTIAL_UID_MAX], size_t *len)
{
	const char *p = text;

	*len = 0;
	if (strnlen(text, BADGEUID_TEXT_MAX + 1) > BADGEUID_TEXT_MAX || *p == '\0')
		return -1;
	while (*p != '\0') {
		/* p[0] is not NUL, so p[1] is readable; a NUL there fails to decode. */
		if (*len == CREDENTIAL_UID_MAX || hex_decode(p, 2, &uid[*len], 1) != 1)
			return -1;
		(*len)++;
		p += 2;
		if (*p == ':' && *++p == '\0')
			return -1;
	}
	return *len == 4 || *len == 7 || *len == 10 ? 0 : -1;
}
