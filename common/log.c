/*
 * log — see log.h.  One line per message, written with a single write(2) so
 * that lines from several threads do not interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_progname = "sac";
static enum log_level log_max = LOG_LEVEL_INFO;

void log_init(const char *progname, enum log_level max_level)
{
	const char *debug = getenv("SAC_DEBUG");

	log_progname = progname;
	log_max = max_level;
	if (debug != NULL && strcmp(debug, "1") == 0)
		log_max = LOG_LEVEL_DEBUG;
}

/* Formats one message and writes it with a single write(2).  A message of
 * several lines (libpq's errors have a DETAIL and a HINT line) gets the
 * priority prefix on every line, so that journald keeps the level of each. */
static void log_vwrite(enum log_level level, const char *suffix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_vwrite(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char text[1024], line[2048], prefix[96];
	size_t n = 0, plen;
	const char *p;
	int m;

	if (level > log_max)
		return;
	m = vsnprintf(text, sizeof(text), fmt, ap);
	if (m < 0)
		return;
	if (suffix != NULL) {
		size_t used = strlen(text);

		snprintf(text + used, sizeof(text) - used, ": %s", suffix);
	}
	m = snprintf(prefix, sizeof(prefix), "<%d>%s: ", (int)level, log_progname);
	if (m < 0 || (size_t)m >= sizeof(prefix))
		return;
	plen = (size_t)m;
	/* Trailing newlines (libpq ends its messages with one) make no line. */
	m = (int)strlen(text);
	while (m > 0 && (text[m - 1] == '\n' || text[m - 1] == '\r'))
		text[--m] = '\0';
	p = text;
	do {
		const char *end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n + plen + len + 1 > sizeof(line))
			break;
		memcpy(line + n, prefix, plen);
		n += plen;
		memcpy(line + n, p, len);
		n += len;
		line[n++] = '\n';
		p = end != NULL ? end + 1 : NULL;
	} while (p != NULL);
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_err(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERR, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}
