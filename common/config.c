/*
 * config — see config.h.  libinih does the INI syntax; a counting line reader
 * gives each key its line number, and any non-blank line that produced no
 * key/section is reported as a syntax error (so all of them are reported, not
 * just the first).
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "duration.h"

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
