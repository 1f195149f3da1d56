/*
 * config — see config.h.  libinih does the INI syntax; a counting line reader
 * gives each key its line number, and any non-blank line that produced no
 * key/section is reported as a syntax error (so all of them are reported, not
 * just the first).
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "credential.h"
#include "duration.h"
#include "log.h"
#include "secret.h"

static const char *const config_sac_sections[] = {"controller", "reader", "purge", "web", NULL};

struct config_parse {
	FILE *fp;
	struct config_file *cf;
	struct config_problems *problems;
	const char *const *known_keys;
	int line;
	bool line_used;	       /* the handler saw the current line */
	bool line_significant; /* the current line is not blank or a comment */
	bool line_section;     /* the current line is a [section] header */
	bool line_too_long;
	char current_section[64];
	bool in_unknown_section;
};

void config_problem(struct config_problems *problems, const char *path, int line, const char *fmt, ...)
{
	char message[512];
	char *item = NULL;
	va_list ap;

	if (problems->count >= CONFIG_MAX_PROBLEMS) {
		problems->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (line > 0) {
		if (asprintf(&item, "%s:%d: %s", path, line, message) < 0)
			item = NULL;
	} else if (asprintf(&item, "%s: %s", path, message) < 0) {
		item = NULL;
	}
	if (item == NULL) {
		problems->dropped++;
		return;
	}
	problems->items[problems->count++] = item;
}

void config_problems_print(const struct config_problems *problems)
{
	int i;

	for (i = 0; i < problems->count; i++)
		fprintf(stderr, "%s\n", problems->items[i]);
	if (problems->dropped > 0)
		fprintf(stderr, "(%d more problems not shown)\n", problems->dropped);
}

void config_problems_free(struct config_problems *problems)
{
	int i;

	for (i = 0; i < problems->count; i++)
		free(problems->items[i]);
	problems->count = 0;
	problems->dropped = 0;
}

static void config_check_previous_line(struct config_parse *cp)
{
	if (cp->line == 0)
		return;
	if (cp->line_too_long)
		config_problem(cp->problems, cp->cf->path, cp->line, "line longer than %d characters",
			       ini_max_line - 3);
	else if (cp->line_significant && !cp->line_used && !cp->line_section)
		config_problem(cp->problems, cp->cf->path, cp->line,
			       "syntax error: expected 'key = value' or '[section]'");
}

/* fgets-style reader for ini_parse_stream that tracks the line number. */
static char *config_read_line(char *str, int num, void *stream)
{
	struct config_parse *cp = stream;
	const char *p;
	size_t len;

	config_check_previous_line(cp);
	if (fgets(str, num, cp->fp) == NULL)
		return NULL;
	cp->line++;
	cp->line_used = false;
	cp->line_too_long = false;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(cp->fp)) {
		int c;

		/* Skip the rest of an overlong line and blank what we pass on. */
		cp->line_too_long = true;
		while ((c = fgetc(cp->fp)) != EOF && c != '\n')
			;
		str[0] = '\n';
		str[1] = '\0';
	}
	for (p = str; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
		;
	cp->line_significant = *p != '\0' && *p != ';' && *p != '#';
	cp->line_section = *p == '[';
	if (cp->line_section) {
		const char *end = strchr(p, ']');

		if (end == NULL) {
			config_problem(cp->problems, cp->cf->path, cp->line,
				       "syntax error: unclosed '['");
		} else {
			size_t n = (size_t)(end - p - 1);
			bool known = false;
			int i;

			if (n >= sizeof(cp->current_section))
				n = sizeof(cp->current_section) - 1;
			memcpy(cp->current_section, p + 1, n);
			cp->current_section[n] = '\0';
			for (i = 0; config_sac_sections[i] != NULL; i++)
				if (strcmp(cp->current_section, config_sac_sections[i]) == 0)
					known = true;
			cp->in_unknown_section = !known;
			if (!known)
				config_problem(cp->problems, cp->cf->path, cp->line,
					       "unknown section [%s]", cp->current_section);
		}
	}
	return str;
}

static bool config_key_known(const char *const *known, const char *key)
{
	for (; *known != NULL; known++)
		if (strcmp(*known, key) == 0)
			return true;
	return false;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_parse *cp = user;
	struct config_file *cf = cp->cf;
	const struct config_entry *prev;
	struct config_entry *e;

	cp->line_used = true;
	if (section[0] == '\0') {
		config_problem(cp->problems, cf->path, cp->line, "'%s' is outside any [section]", name);
		return 1;
	}
	if (strcmp(section, cf->section) != 0)
		return 1; /* another program's section, or an unknown one (reported) */
	if (!config_key_known(cp->known_keys, name)) {
		config_problem(cp->problems, cf->path, cp->line, "unknown key '%s' in [%s]", name,
			       section);
		return 1;
	}
	prev = config_find(cf, name);
	if (prev != NULL) {
		config_problem(cp->problems, cf->path, cp->line,
			       "'%s' is set again (first set on line %d)", name, prev->line);
		return 1;
	}
	if (cf->count >= CONFIG_MAX_ENTRIES) {
		config_problem(cp->problems, cf->path, cp->line, "too many keys");
		return 1;
	}
	e = &cf->entries[cf->count];
	e->key = strdup(name);
	e->value = strdup(value);
	e->line = cp->line;
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		config_problem(cp->problems, cf->path, cp->line, "out of memory");
		return 1;
	}
	cf->count++;
	return 1;
}

enum config_read_result config_read(const char *path, const char *section,
				    const char *const *known_keys, struct config_file **out,
				    struct config_problems *problems)
{
	struct config_parse cp;
	struct config_file *cf = NULL;
	struct stat st;

	*out = NULL;
	memset(&cp, 0, sizeof(cp));
	cf = calloc(1, sizeof(*cf));
	if (cf == NULL)
		goto unreadable;
	cf->path = strdup(path);
	cf->section = strdup(section);
	if (cf->path == NULL || cf->section == NULL)
		goto unreadable;
	*out = cf;
	cp.fp = fopen(path, "r");
	if (cp.fp == NULL) {
		config_problem(problems, path, 0, "cannot read configuration: %s", strerror(errno));
		return CONFIG_READ_UNREADABLE;
	}
	if (fstat(fileno(cp.fp), &st) == 0 && !S_ISREG(st.st_mode)) {
		config_problem(problems, path, 0, "cannot read configuration: not a regular file");
		fclose(cp.fp);
		return CONFIG_READ_UNREADABLE;
	}
	cp.cf = cf;
	cp.problems = problems;
	cp.known_keys = known_keys;
	ini_allow_multiline = false;
	ini_use_stack = false;
	ini_max_line = 1027;
	ini_parse_stream(config_read_line, &cp, config_handler, &cp);
	config_check_previous_line(&cp);
	if (ferror(cp.fp)) {
		config_problem(problems, path, 0, "cannot read configuration: read error");
		fclose(cp.fp);
		return CONFIG_READ_UNREADABLE;
	}
	fclose(cp.fp);
	return CONFIG_READ_OK;

unreadable:
	config_problem(problems, path, 0, "out of memory");
	return CONFIG_READ_UNREADABLE;
}

void config_file_free(struct config_file *cf)
{
	int i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->count; i++) {
		free(cf->entries[i].key);
		free(cf->entries[i].value);
	}
	free(cf->path);
	free(cf->section);
	free(cf);
}

const struct config_entry *config_find(const struct config_file *cf, const char *key)
{
	int i;

	for (i = 0; i < cf->count; i++)
		if (strcmp(cf->entries[i].key, key) == 0)
			return &cf->entries[i];
	return NULL;
}

const char *config_get_string(const struct config_file *cf, const char *key, bool required,
			      struct config_problems *problems)
{
	const struct config_entry *e = config_find(cf, key);

	if (e == NULL || e->value[0] == '\0') {
		if (e != NULL && required)
			config_problem(problems, cf->path, e->line, "'%s' is empty", key);
		else if (required)
			config_problem(problems, cf->path, 0, "missing required key '%s' in [%s]", key,
				       cf->section);
		return NULL;
	}
	return e->value;
}

int config_get_duration(const struct config_file *cf, const char *key, int64_t default_seconds,
			int64_t max_seconds, int64_t *out, struct config_problems *problems)
{
	const struct config_entry *e = config_find(cf, key);
	int64_t seconds;
	char limit[32];

	*out = default_seconds;
	if (e == NULL)
		return 0;
	if (duration_parse(e->value, &seconds) != 0) {
		config_problem(problems, cf->path, e->line,
			       "'%s' must be a positive duration like 60s, 15m, 24h or 30d, not '%s'",
			       key, e->value);
		return -1;
	}
	if (max_seconds > 0 && seconds > max_seconds) {
		duration_format(max_seconds, limit, sizeof(limit));
		config_problem(problems, cf->path, e->line,
			       "'%s' is %s, longer than the legal limit of %s", key, e->value, limit);
		return -1;
	}
	*out = seconds;
	return 0;
}

const char *config_get_file(const struct config_file *cf, const char *key, bool required,
			    struct config_problems *problems)
{
	const char *path = config_get_string(cf, key, required, problems);
	const struct config_entry *e = config_find(cf, key);
	struct stat st;

	if (path == NULL)
		return NULL;
	if (stat(path, &st) != 0) {
		config_problem(problems, cf->path, e->line, "'%s': cannot use %s: %s", key, path,
			       strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		config_problem(problems, cf->path, e->line, "'%s': %s is not a regular file", key,
			       path);
		return NULL;
	}
	if (access(path, R_OK) != 0) {
		config_problem(problems, cf->path, e->line, "'%s': cannot read %s: %s", key, path,
			       strerror(errno));
		return NULL;
	}
	return path;
}

int config_get_endpoints(const struct config_file *cf, const char *key, bool required, char **hosts,
			 int *ports, int max, struct config_problems *problems)
{
	const char *value = config_get_string(cf, key, required, problems);
	const struct config_entry *e = config_find(cf, key);
	const char *p;
	int n = 0;

	if (value == NULL)
		return required ? -1 : 0;
	p = value;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *colon;
		char item[300];
		char *port_end;
		long port;
		size_t start = 0;

		while (len > 0 && (p[start] == ' ' || p[start] == '\t')) {
			start++;
			len--;
		}
		while (len > 0 && (p[start + len - 1] == ' ' || p[start + len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(item)) {
			config_problem(problems, cf->path, e->line, "'%s': empty or overlong entry",
				       key);
			goto fail;
		}
		memcpy(item, p + start, len);
		item[len] = '\0';
		colon = strrchr(item, ':');
		if (colon == NULL || colon == item) {
			config_problem(problems, cf->path, e->line, "'%s': '%s' is not host:port", key,
				       item);
			goto fail;
		}
		errno = 0;
		port = strtol(colon + 1, &port_end, 10);
		if (errno != 0 || *port_end != '\0' || colon[1] == '\0' || port < 1 || port > 65535) {
			config_problem(problems, cf->path, e->line, "'%s': bad port in '%s'", key,
				       item);
			goto fail;
		}
		if (n >= max) {
			config_problem(problems, cf->path, e->line, "'%s': more than %d entries", key,
				       max);
			goto fail;
		}
		hosts[n] = strndup(item, (size_t)(colon - item));
		if (hosts[n] == NULL)
			goto fail;
		/* [::1]:7443 */
		if (hosts[n][0] == '[' && hosts[n][strlen(hosts[n]) - 1] == ']') {
			memmove(hosts[n], hosts[n] + 1, strlen(hosts[n]));
			hosts[n][strlen(hosts[n]) - 1] = '\0';
		}
		ports[n] = (int)port;
		n++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (n == 0) {
		config_problem(problems, cf->path, e->line, "'%s' lists no endpoint", key);
		return -1;
	}
	return n;

fail:
	while (n > 0)
		free(hosts[--n]);
	return -1;
}

/* --- the table layer (see config.h) --------------------------------------- */

#define CONFIG_FIELD(cfg, key, type) ((type *)(void *)((char *)(cfg) + (key)->offset))

const struct config_key *config_schema_key(const struct config_schema *schema, const char *name)
{
	const struct config_key *k;

	for (k = schema->keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* The same rule as the database's sac.ident. */
static bool config_ident_valid(const char *id)
{
	size_t i, len = strlen(id);

	if (len == 0 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		char c = id[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* An existing, readable regular file; with private, one that group and
 * others cannot access (like ssh refuses a private key). */
static bool config_check_file(const char *file, int line, const struct config_key *k, const char *value,
			      bool private, struct config_problems *problems)
{
	struct stat st;

	if (stat(value, &st) != 0) {
		config_problem(problems, file, line, "'%s': cannot use %s: %s", k->name, value,
			       strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		config_problem(problems, file, line, "'%s': %s is not a regular file", k->name, value);
		return false;
	}
	if (access(value, R_OK) != 0) {
		config_problem(problems, file, line, "'%s': cannot read %s: %s", k->name, value,
			       strerror(errno));
		return false;
	}
	if (private && (st.st_mode & 077) != 0) {
		config_problem(problems, file, line,
			       "'%s': private key %s has permissions %04o, too open; it must not "
			       "be accessible by group or others (chmod 600)",
			       k->name, value, (unsigned)(st.st_mode & 07777));
		return false;
	}
	return true;
}

static bool config_check_state_file(const char *file, int line, const struct config_key *k,
				    const char *value, struct config_problems *problems)
{
	char *copy = strdup(value);
	const char *dir;
	struct stat st;
	bool ok = false;

	if (copy == NULL) {
		config_problem(problems, file, line, "out of memory");
		return false;
	}
	dir = dirname(copy);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		config_problem(problems, file, line, "'%s': directory %s does not exist", k->name, dir);
	else if (access(dir, W_OK | X_OK) != 0)
		config_problem(problems, file, line, "'%s': cannot write in %s: %s", k->name, dir,
			       strerror(errno));
	else if (lstat(value, &st) == 0 && !S_ISREG(st.st_mode))
		config_problem(problems, file, line, "'%s': %s is not a regular file", k->name, value);
	else
		ok = true;
	free(copy);
	return ok;
}

static bool config_parse_endpoints(const char *file, int line, const struct config_key *k,
				   const char *value, struct config_endpoints *out,
				   struct config_problems *problems)
{
	struct config_file one = {.path = (char *)file, .section = (char *)"", .count = 1};
	int max = k->max > 0 && k->max < CONFIG_ENDPOINTS_MAX ? (int)k->max : CONFIG_ENDPOINTS_MAX;
	int n;

	one.entries[0].key = (char *)k->name;
	one.entries[0].value = (char *)value;
	one.entries[0].line = line;
	n = config_get_endpoints(&one, k->name, true, out->host, out->port, max, problems);
	out->count = n > 0 ? n : 0;
	return n > 0;
}

static bool config_parse_secret(const char *file, int line, const struct config_key *k,
				const char *value, struct config_secret *out,
				struct config_problems *problems)
{
	char err[512];
	size_t len = (size_t)k->max;

	if (!config_check_file(file, line, k, value, true, problems))
		return false;
	out->bytes = secret_alloc(len, NULL);
	if (out->bytes == NULL) {
		config_problem(problems, file, line, "'%s': out of memory", k->name);
		return false;
	}
	out->len = len;
	if (credential_hex_key_load(value, out->bytes, len, err, sizeof(err)) != 0) {
		config_problem(problems, file, line, "'%s': %s", k->name, err);
		return false;
	}
	out->path = strdup(value);
	return out->path != NULL;
}

/* Parses value (from the file at line, or the default when line is 0) into
 * the field of key k in cfg. */
static void config_parse_value(const char *file, int line, const struct config_key *k,
			       const char *value, void *cfg, struct config_problems *problems)
{
	char **str = CONFIG_FIELD(cfg, k, char *);
	int64_t seconds;
	char limit[32];
	int i;

	switch (k->type) {
	case CONFIG_STRING:
		if (k->max > 0 && strlen(value) > (size_t)k->max) {
			config_problem(problems, file, line, "'%s' is longer than %lld characters",
				       k->name, (long long)k->max);
			return;
		}
		break;
	case CONFIG_IDENT:
		if (!config_ident_valid(value)) {
			config_problem(problems, file, line,
				       "'%s' must be 1-64 letters, digits, '.', '_' or '-' starting "
				       "with a letter or digit, not '%s'",
				       k->name, value);
			return;
		}
		break;
	case CONFIG_CHOICE:
		for (i = 0; k->choices[i] != NULL; i++) {
			if (strcmp(k->choices[i], value) == 0) {
				*CONFIG_FIELD(cfg, k, int) = i;
				return;
			}
		}
		{
			char names[256] = "";

			for (i = 0; k->choices[i] != NULL; i++) {
				if (i > 0)
					strncat(names, "|", sizeof(names) - strlen(names) - 1);
				strncat(names, k->choices[i], sizeof(names) - strlen(names) - 1);
			}
			config_problem(problems, file, line, "'%s' must be %s, not '%s'", k->name,
				       names, value);
		}
		return;
	case CONFIG_DURATION:
		if (duration_parse(value, &seconds) != 0) {
			config_problem(problems, file, line,
				       "'%s' must be a positive duration like 60s, 15m, 24h or 30d, "
				       "not '%s'",
				       k->name, value);
			return;
		}
		if (k->max > 0 && seconds > k->max) {
			duration_format(k->max, limit, sizeof(limit));
			config_problem(problems, file, line,
				       "'%s' is %s, longer than the legal limit of %s", k->name, value,
				       limit);
			return;
		}
		if (seconds < k->min) {
			duration_format(k->min, limit, sizeof(limit));
			config_problem(problems, file, line, "'%s' is %s, shorter than %s", k->name,
				       value, limit);
			return;
		}
		*CONFIG_FIELD(cfg, k, int64_t) = seconds;
		return;
	case CONFIG_ENDPOINTS:
		(void)config_parse_endpoints(file, line, k, value,
					     CONFIG_FIELD(cfg, k, struct config_endpoints), problems);
		return;
	case CONFIG_FILE:
	case CONFIG_PRIVATE_KEY:
		if (!config_check_file(file, line, k, value, k->type == CONFIG_PRIVATE_KEY, problems))
			return;
		break;
	case CONFIG_SECRET_HEX:
		(void)config_parse_secret(file, line, k, value,
					  CONFIG_FIELD(cfg, k, struct config_secret), problems);
		return;
	case CONFIG_DIRECTORY: {
		struct stat st;

		if (value[0] != '/') {
			config_problem(problems, file, line, "'%s' must be an absolute path", k->name);
			return;
		}
		if (stat(value, &st) != 0) {
			config_problem(problems, file, line, "'%s': cannot use %s: %s", k->name, value,
				       strerror(errno));
			return;
		}
		if (!S_ISDIR(st.st_mode)) {
			config_problem(problems, file, line, "'%s': %s is not a directory", k->name,
				       value);
			return;
		}
		break;
	}
	case CONFIG_STATE_FILE:
		if (!config_check_state_file(file, line, k, value, problems))
			return;
		break;
	}
	*str = strdup(value);
	if (*str == NULL)
		config_problem(problems, file, line, "out of memory");
}

enum config_status config_load(const struct config_schema *schema, const char *path, void *cfg,
			       struct config_problems *problems)
{
	const char *names[CONFIG_MAX_ENTRIES + 1];
	struct config_file *cf = NULL;
	const struct config_key *k;
	enum config_status status = CONFIG_UNREADABLE;
	int before = problems->count + problems->dropped;
	size_t n = 0;

	memset(cfg, 0, schema->size);
	for (k = schema->keys; k->name != NULL && n < CONFIG_MAX_ENTRIES; k++)
		names[n++] = k->name;
	names[n] = NULL;
	if (config_read(path, schema->section, names, &cf, problems) != CONFIG_READ_OK)
		goto out;
	for (k = schema->keys; k->name != NULL; k++) {
		const struct config_entry *e = config_find(cf, k->name);
		const char *value = e != NULL && e->value[0] != '\0' ? e->value : k->def;
		int line = e != NULL ? e->line : 0;

		if (value == NULL) {
			if (e != NULL && (k->flags & CONFIG_REQUIRED))
				config_problem(problems, path, line, "'%s' is empty", k->name);
			else if (k->flags & CONFIG_REQUIRED)
				config_problem(problems, path, 0, "missing required key '%s' in [%s]",
					       k->name, schema->section);
			continue;
		}
		config_parse_value(path, line, k, value, cfg, problems);
	}
	if (schema->check != NULL)
		schema->check(cfg, cf, problems);
	status = problems->count + problems->dropped == before ? CONFIG_OK : CONFIG_INVALID;
out:
	config_file_free(cf);
	return status;
}

void config_free(const struct config_schema *schema, void *cfg)
{
	const struct config_key *k;
	int i;

	for (k = schema->keys; k->name != NULL; k++) {
		switch (k->type) {
		case CONFIG_CHOICE:
		case CONFIG_DURATION:
			break;
		case CONFIG_ENDPOINTS: {
			struct config_endpoints *ep = CONFIG_FIELD(cfg, k, struct config_endpoints);

			for (i = 0; i < ep->count; i++)
				free(ep->host[i]);
			break;
		}
		case CONFIG_SECRET_HEX: {
			struct config_secret *sec = CONFIG_FIELD(cfg, k, struct config_secret);

			secret_free(sec->bytes, sec->len);
			free(sec->path);
			break;
		}
		default:
			free(*CONFIG_FIELD(cfg, k, char *));
			break;
		}
	}
	secret_wipe(cfg, schema->size);
}

static size_t config_value_size(const struct config_key *k)
{
	switch (k->type) {
	case CONFIG_CHOICE:
		return sizeof(int);
	case CONFIG_DURATION:
		return sizeof(int64_t);
	case CONFIG_ENDPOINTS:
		return sizeof(struct config_endpoints);
	case CONFIG_SECRET_HEX:
		return sizeof(struct config_secret);
	default:
		return sizeof(char *);
	}
}

static bool config_strings_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool config_key_same(const struct config_key *k, const void *a, const void *b)
{
	int i;

	switch (k->type) {
	case CONFIG_CHOICE:
		return *CONFIG_FIELD(a, k, int) == *CONFIG_FIELD(b, k, int);
	case CONFIG_DURATION:
		return *CONFIG_FIELD(a, k, int64_t) == *CONFIG_FIELD(b, k, int64_t);
	case CONFIG_ENDPOINTS: {
		const struct config_endpoints *x = CONFIG_FIELD(a, k, struct config_endpoints);
		const struct config_endpoints *y = CONFIG_FIELD(b, k, struct config_endpoints);

		if (x->count != y->count)
			return false;
		for (i = 0; i < x->count; i++)
			if (x->port[i] != y->port[i] || strcmp(x->host[i], y->host[i]) != 0)
				return false;
		return true;
	}
	case CONFIG_SECRET_HEX: {
		const struct config_secret *x = CONFIG_FIELD(a, k, struct config_secret);
		const struct config_secret *y = CONFIG_FIELD(b, k, struct config_secret);

		if (!config_strings_same(x->path, y->path) || x->len != y->len ||
		    (x->bytes == NULL) != (y->bytes == NULL))
			return false;
		return x->bytes == NULL || memcmp(x->bytes, y->bytes, x->len) == 0;
	}
	default:
		return config_strings_same(*CONFIG_FIELD(a, k, char *), *CONFIG_FIELD(b, k, char *));
	}
}

bool config_same(const struct config_schema *schema, const char *key, const void *a, const void *b)
{
	const struct config_key *k = config_schema_key(schema, key);

	return k == NULL || config_key_same(k, a, b);
}

void config_swap(const struct config_schema *schema, const char *key, void *a, void *b)
{
	const struct config_key *k = config_schema_key(schema, key);
	unsigned char tmp[sizeof(struct config_endpoints)];
	size_t size;

	if (k == NULL)
		return;
	size = config_value_size(k);
	memcpy(tmp, CONFIG_FIELD(a, k, char), size);
	memcpy(CONFIG_FIELD(a, k, char), CONFIG_FIELD(b, k, char), size);
	memcpy(CONFIG_FIELD(b, k, char), tmp, size);
}

/* The value of k for the log: secrets and quiet keys are not shown. */
static void config_describe(const struct config_key *k, const void *cfg, char *out, size_t size)
{
	int i;
	size_t used;

	out[0] = '\0';
	if (k->flags & CONFIG_QUIET) {
		snprintf(out, size, "(not shown)");
		return;
	}
	switch (k->type) {
	case CONFIG_CHOICE:
		snprintf(out, size, "%s", k->choices[*CONFIG_FIELD(cfg, k, int)]);
		break;
	case CONFIG_DURATION:
		duration_format(*CONFIG_FIELD(cfg, k, int64_t), out, size);
		break;
	case CONFIG_ENDPOINTS: {
		const struct config_endpoints *ep = CONFIG_FIELD(cfg, k, struct config_endpoints);

		for (i = 0; i < ep->count; i++) {
			used = strlen(out);
			snprintf(out + used, size - used, "%s%s:%d", i > 0 ? "," : "", ep->host[i],
				 ep->port[i]);
		}
		break;
	}
	case CONFIG_SECRET_HEX: {
		const struct config_secret *sec = CONFIG_FIELD(cfg, k, struct config_secret);

		snprintf(out, size, "%s (key not shown)", sec->path != NULL ? sec->path : "(none)");
		break;
	}
	default: {
		const char *s = *CONFIG_FIELD(cfg, k, char *);

		snprintf(out, size, "%s", s != NULL ? s : "(none)");
		break;
	}
	}
}

enum config_status config_reload(const struct config_schema *schema, const char *path, void *fresh)
{
	struct config_problems problems = {0};
	enum config_status status;
	int i;

	status = config_load(schema, path, fresh, &problems);
	if (status != CONFIG_OK) {
		for (i = 0; i < problems.count; i++)
			log_error("reload: %s", problems.items[i]);
		if (problems.dropped > 0)
			log_error("reload: (%d more problems not shown)", problems.dropped);
		log_error("reload refused: %s has problems; keeping the running configuration", path);
		config_free(schema, fresh);
	}
	config_problems_free(&problems);
	return status;
}

int config_commit(const struct config_schema *schema, const char *path, void *running, void *fresh)
{
	const struct config_key *k;
	char was[512], now[512];
	int changed = 0;

	for (k = schema->keys; k->name != NULL; k++) {
		if (config_key_same(k, running, fresh))
			continue;
		config_describe(k, running, was, sizeof(was));
		config_describe(k, fresh, now, sizeof(now));
		if (k->flags & CONFIG_RELOADABLE) {
			log_notice("reload: '%s' changed from %s to %s", k->name, was, now);
			changed++;
		} else {
			log_warning("reload: '%s' changed to %s; that takes effect after a restart, "
				    "keeping %s",
				    k->name, now, was);
			config_swap(schema, k->name, running, fresh);
		}
	}
	log_notice("configuration reloaded from %s (%d key%s changed)", path, changed,
		   changed == 1 ? "" : "s");
	return changed;
}
