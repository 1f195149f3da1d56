/*
 * config — sac's one configuration model.  Each program describes its
 * [section] in one table of keys (config_keys.c): name, type, default,
 * bounds, and whether SIGHUP may change it.  config_load reads a file
 * against such a table into the program's struct and records every problem
 * with file and line, so that --check-config can print them all;
 * config_reload is the one meaning of SIGHUP.
 *
 * Below the table layer, config_read (libinih) only collects key = value
 * pairs, and the typed getters turn them into values.
 */
#ifndef SAC_CONFIG_H
#define SAC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
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

/* --- the table layer ------------------------------------------------------ */

/* The one return contract of every program's configuration load: the value
 * is also the exit status of --check-config. */
enum config_status {
	CONFIG_OK = 0,	       /* usable */
	CONFIG_INVALID = 2,    /* problems were recorded */
	CONFIG_UNREADABLE = 3, /* the file itself cannot be read */
};

enum config_type {
	CONFIG_STRING,	    /* char *; bound max = longest length (0: no limit) */
	CONFIG_IDENT,	    /* char *; sac's identifier rule (1-64 of [A-Za-z0-9._-]) */
	CONFIG_CHOICE,	    /* int: index into choices */
	CONFIG_DURATION,    /* int64_t seconds within [min, max] (max 0: no limit) */
	CONFIG_ENDPOINTS,   /* struct config_endpoints, at most max (<= CONFIG_ENDPOINTS_MAX) */
	CONFIG_FILE,	    /* char *: an existing readable regular file */
	CONFIG_PRIVATE_KEY, /* char *: a CONFIG_FILE not accessible by group or others */
	CONFIG_SECRET_HEX,  /* struct config_secret: a CONFIG_PRIVATE_KEY of exactly max
			       bytes as hex digits, held in locked memory */
	CONFIG_DIRECTORY,   /* char *: an absolute path to an existing directory */
	CONFIG_STATE_FILE,  /* char *: a file (it may not exist yet) in an existing,
			       writable directory; if present, a regular file */
};

#define CONFIG_ENDPOINTS_MAX 16

struct config_endpoints {
	char *host[CONFIG_ENDPOINTS_MAX];
	int port[CONFIG_ENDPOINTS_MAX];
	int count;
};

struct config_secret {
	char *path;
	uint8_t *bytes; /* secret_alloc'd; NULL when the key is absent */
	size_t len;
};

/* Flags of a key. */
#define CONFIG_REQUIRED 0x1   /* absent or empty is a problem */
#define CONFIG_RELOADABLE 0x2 /* SIGHUP applies a new value; otherwise a restart does */
#define CONFIG_QUIET 0x4      /* the value may hold a password: never logged */

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset; /* of the value in the program's struct */
	unsigned flags;
	const char *def;	    /* default, parsed like a value; NULL: none */
	int64_t min, max;	    /* bounds, meaning per type (above) */
	const char *const *choices; /* CONFIG_CHOICE: NULL-terminated names */
};

struct config_schema {
	const char *section;
	const struct config_key *keys; /* terminated by a key with name NULL */
	size_t size;		       /* of the program's struct */
	/* Rules between keys, run when every key parsed; records problems. */
	void (*check)(const void *cfg, const struct config_file *cf, struct config_problems *problems);
};

/* Reads [schema->section] of path into *cfg (zeroed first), applying
 * defaults and recording every problem.  *cfg must be freed with
 * config_free whatever the result. */
enum config_status config_load(const struct config_schema *schema, const char *path, void *cfg,
			       struct config_problems *problems) __attribute__((warn_unused_result));

/* Frees what config_load allocated in *cfg (wiping secrets) and zeroes it.
 * Accepts a zeroed cfg. */
void config_free(const struct config_schema *schema, void *cfg);

/* SIGHUP, step one: reads path into *fresh.  On any problem, every problem
 * is logged with "reload refused", *fresh is freed and zeroed, and
 * CONFIG_INVALID or CONFIG_UNREADABLE is returned: the caller keeps running
 * on what it has.  The caller may then check more (build a TLS context from
 * *fresh) and refuse by config_free'ing *fresh. */
enum config_status config_reload(const struct config_schema *schema, const char *path, void *fresh)
	__attribute__((warn_unused_result));

/* SIGHUP, step two: logs every key that differs between *running and
 * *fresh.  A changed key that is not reloadable is swapped back, so that
 * *fresh holds its running value (a warning says the new one needs a
 * restart) and *running the unused one.  The caller then switches to
 * *fresh and config_free's *running.  Returns the number of keys applied. */
int config_commit(const struct config_schema *schema, const char *path, void *running, void *fresh);

/* Whether key holds the same value in a and b (a secret: the same bytes). */
bool config_same(const struct config_schema *schema, const char *key, const void *a, const void *b);

/* Swaps the value of key between a and b. */
void config_swap(const struct config_schema *schema, const char *key, void *a, void *b);

/* The key of schema called name, or NULL. */
const struct config_key *config_schema_key(const struct config_schema *schema, const char *name);

#endif
