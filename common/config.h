/*
 * config — reads one program's [section] of an INI file (libinih) and records
 * every problem with file and line, so that --check-config can print them all.
 *
 * The parser only collects key = value pairs; each program turns them into its
 * own configuration struct with the typed getters below, which add a problem
 * for every missing, malformed or out-of-range value.
 */
#ifndef SAC_CONFIG_H
#define SAC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_MAX_PROBLEMS 64
#define CONFIG_MAX_ENTRIES 64

struct config_problems {
	char *items[CONFIG_MAX_PROBLEMS];
	int count;
	int dropped; /* problems past CONFIG_MAX_PROBLEMS, counted only */
};

struct config_entry {
	char *key;
	char *value;
	int line;
	bool used;
};

struct config_file {
	char *path;
	char *section;
	struct config_entry entries[CONFIG_MAX_ENTRIES];
	int count;
};

enum config_read_result {
	CONFIG_READ_OK = 0,	     /* parsed; problems may still have been recorded */
	CONFIG_READ_UNREADABLE = -1, /* the file itself cannot be opened or read */
};

/* Parses path, keeping the pairs of [section].  known_keys is a NULL-terminated
 * list: any other key in [section] is a problem, as is a syntax error, a key
 * outside any section, a repeated key, or a section that is not one of sac's
 * (controller, reader, purge).  The caller owns *out and frees it with
 * config_file_free, also when problems were recorded. */
enum config_read_result config_read(const char *path, const char *section,
				    const char *const *known_keys, struct config_file **out,
				    struct config_problems *problems)
	__attribute__((warn_unused_result));

void config_file_free(struct config_file *cf);

/* Records "path:line: message" (line 0: "path: message"). */
void config_problem(struct config_problems *problems, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void config_problems_print(const struct config_problems *problems);
void config_problems_free(struct config_problems *problems);

/* The entry for key, or NULL when absent. */
const struct config_entry *config_find(const struct config_file *cf, const char *key);

/* Value of key, or NULL if absent (a problem when required). */
const char *config_get_string(const struct config_file *cf, const char *key, bool required,
			      struct config_problems *problems);

/* Duration of key in seconds ("60s", "24h"), or default_seconds if absent.
 * A malformed value or one above max_seconds is a problem.  Returns 0 when the
 * value is usable, -1 when a problem was recorded. */
int config_get_duration(const struct config_file *cf, const char *key, int64_t default_seconds,
			int64_t max_seconds, int64_t *out, struct config_problems *problems);

/* Path of key that must name an existing, readable regular file. */
const char *config_get_file(const struct config_file *cf, const char *key, bool required,
			    struct config_problems *problems);

/* Splits a comma-separated list into at most max items of host:port form,
 * each written to hosts[i] (malloc'd) and ports[i].  Returns the number of
 * items, or -1 after recording a problem. */
int config_get_endpoints(const struct config_file *cf, const char *key, bool required, char **hosts,
			 int *ports, int max, struct config_problems *problems);

#endif
