/*
 * secret — memory for keys and credentials: page-aligned, locked in RAM
 * (mlock) where RLIMIT_MEMLOCK allows so it is never written to swap,
 * excluded from core dumps (MADV_DONTDUMP), and wiped before it is
 * released.  It does not decide what is secret; callers put key bytes here.
 */
#ifndef SAC_SECRET_H
#define SAC_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* len zeroed bytes, or NULL (errno set).  *locked (may be NULL) tells
 * whether mlock succeeded; the memory is usable either way. */
void *secret_alloc(size_t len, bool *locked) __attribute__((warn_unused_result));

/* Wipes len bytes at p, unlocks and releases them.  Accepts NULL. */
void secret_free(void *p, size_t len);

/* Wipes len bytes (OPENSSL_cleanse: not optimised away). */
void secret_wipe(void *p, size_t len);

#endif
