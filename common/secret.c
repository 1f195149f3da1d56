/*
 * secret — see secret.h.  Each allocation has pages of its own, so that
 * mlock and madvise cover it and nothing else.
 */
#include "secret.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static size_t secret_span(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

void *secret_alloc(size_t len, bool *locked)
{
	size_t span = secret_span(len > 0 ? len : 1);
	void *p;

	if (locked != NULL)
		*locked = false;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, span, MADV_DONTDUMP);
	/* The system call itself: AddressSanitizer replaces mlock() by a no-op,
	 * and the tests run under it. */
	if (syscall(SYS_mlock, p, span) == 0 && locked != NULL)
		*locked = true;
	return p;
}

void secret_free(void *p, size_t len)
{
	size_t span;

	if (p == NULL)
		return;
	span = secret_span(len > 0 ? len : 1);
	OPENSSL_cleanse(p, span);
	(void)syscall(SYS_munlock, p, span);
	(void)munmap(p, span);
}

void secret_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}
