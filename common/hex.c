/*
 * hex — see hex.h.
 */
#include "hex.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (out_size < 2 * len + 1)
		return -1;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return 0;
}

int hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size)
{
	size_t i;

	if (in_len % 2 != 0 || in_len / 2 > out_size)
		return -1;
	for (i = 0; i < in_len; i += 2) {
		int hi = hex_value(in[i]);
		int lo = hex_value(in[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(in_len / 2);
}

bool hex_is_lower(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}
