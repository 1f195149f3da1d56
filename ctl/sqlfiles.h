/*
 * sqlfiles — the migrations sql/NNN_*.sql, compiled into sacctl so that
 * `sacctl db migrate` needs no file on disk.  The table is generated at
 * build time by tools/embed-sql (build/…/gen/sqlfiles.c); every build
 * regenerates it from the sql/ folder of the source tree.
 */
#ifndef SAC_SQLFILES_H
#define SAC_SQLFILES_H

#include <stddef.h>

struct sql_file {
	const char *name; /* "001_foundation.sql" */
	const char *text; /* the file's bytes, NUL-terminated */
	size_t len;	  /* without the terminating NUL */
};

/* In name order; sql_files_count may be 0. */
extern const struct sql_file sql_files[];
extern const size_t sql_files_count;

#endif
