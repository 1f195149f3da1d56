/*
 * badgeuid — the badge UID as an operator types it for `badge enroll` and
 * `badge revoke`: hex digits, optionally ':' between bytes.  Parsing only;
 * the UID is input, never printed (not even in an error message).
 */
#ifndef SAC_CTL_BADGEUID_H
#define SAC_CTL_BADGEUID_H

#include <stddef.h>
#include <stdint.h>

#include "credential.h"

/* Longest accepted text: 10 bytes as "04:A2:…" are 29 characters. */
#define BADGEUID_TEXT_MAX 32

/* Parses "04A21B7C" or "04:a2:1b:7c" (upper or lower case) into uid; the UID
 * must be 4, 7 or 10 bytes (ISO 14443-A).  Returns 0 with *len set, or -1. */
int badgeuid_parse(const char *text, uint8_t uid[CREDENTIAL_UID_MAX], size_t *len)
	__attribute__((warn_unused_result));

#endif
