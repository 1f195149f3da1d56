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

static void log_vwrite(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	if (level > log_max)
		return;
	n = snprintf(line, sizeof(line), "<%d>%s: ", (int)level, log_progname);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (suffix != NULL) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s", suffix);
		if (m > 0)
			n += m;
		if ((size_t)n >= sizeof(line) - 2)
			n = (int)sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
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
