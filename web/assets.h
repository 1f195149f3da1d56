/*
 * assets — the pages, script and style sheet of the console, compiled into
 * the program (the files of web/assets): nothing is fetched from anywhere else, and
 * what is served is what was built and tested.
 */
#ifndef SAC_WEB_ASSETS_H
#define SAC_WEB_ASSETS_H

#include <stddef.h>

struct asset {
	const char *path; /* the URL path, e.g. "/app.js" */
	const char *content_type;
	const unsigned char *data;
	size_t size;
};

/* Fills *out with the asset served at path.  Returns 0, or -1 when none. */
int assets_find(const char *path, struct asset *out) __attribute__((warn_unused_result));

#endif
