/*
 * hex — lowercase hexadecimal encoding and strict decoding.
 */
#ifndef SAC_HEX_H
#define SAC_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase digits and a NUL to out (out_size >= 2*len+1).
 * Returns 0, or -1 if out is too small. */
int hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
	__attribute__((warn_unused_result));

/* Decodes exactly in_len characters (upper or lower case, no separators).
 * Returns the number of bytes written, or -1 if in_len is odd, a character
 * is not a hex digit, or the result would not fit in out_size. */
int hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size)
	__attribute__((warn_unused_result));

/* True if s[0..len) are all lowercase hex digits (the wire form). */
bool hex_is_lower(const char *s, size_t len);

#endif
