/*
 * output — see output.h.
 */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timearg.h"

struct out_column {
	char *name;
	enum out_type type;
};

struct out_child {
	char *key;
	struct out_table *table;
};

struct out_table {
	struct out_column *columns;
	size_t ncolumns;
	char **cells; /* rows * ncolumns values; NULL = null */
	size_t nrows;
	size_t ncells; /* cells filled so far, over all rows */
	size_t cap;
	struct out_child *children;
	size_t nchildren;
	bool no_header;
};

int out_format_parse(const char *name, enum out_format *format)
{
	if (strcmp(name, "text") == 0)
		*format = OUT_TEXT;
	else if (strcmp(name, "json") == 0)
		*format = OUT_JSON;
	else if (strcmp(name, "csv") == 0)
		*format = OUT_CSV;
	else
		return -1;
	return 0;
}

struct out_table *out_table_new(void)
{
	return calloc(1, sizeof(struct out_table));
}

void out_table_free(struct out_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncolumns; i++)
		free(t->columns[i].name);
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	for (i = 0; i < t->nchildren; i++) {
		free(t->children[i].key);
		out_table_free(t->children[i].table);
	}
	free(t->columns);
	free(t->cells);
	free(t->children);
	free(t);
}

int out_column(struct out_table *t, const char *name, enum out_type type)
{
	struct out_column *grown;
	char *copy;

	if (t->nrows > 0)
		return -1;
	copy = strdup(name);
	if (copy == NULL)
		return -1;
	grown = realloc(t->columns, (t->ncolumns + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	t->columns = grown;
	t->columns[t->ncolumns].name = copy;
	t->columns[t->ncolumns].type = type;
	t->ncolumns++;
	return 0;
}

static int out_push(struct out_table *t, char *value)
{
	if (t->ncells == t->cap) {
		size_t cap = t->cap == 0 ? 16 : t->cap * 2;
		char **grown = realloc(t->cells, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		t->cells = grown;
		t->cap = cap;
	}
	t->cells[t->ncells++] = value;
	return 0;
}

int out_row(struct out_table *t)
{
	/* Complete the previous row with NULLs. */
	while (t->ncells < t->nrows * t->ncolumns)
		if (out_push(t, NULL) != 0)
			return -1;
	t->nrows++;
	return 0;
}

/* "2026-11-23 10:00:00.123+00" -> "2026-11-23T10:00:00Z" (through
 * timearg_iso_utc, sacctl's one time format); anything else (infinity,
 * another zone) is kept as PostgreSQL printed it. */
static char *out_iso_time(const char *pg)
{
	struct tm tm;
	const char *zone;
	char iso[TIMEARG_ISO_SIZE];
	time_t t;

	memset(&tm, 0, sizeof(tm));
	zone = strptime(pg, "%Y-%m-%d %H:%M:%S", &tm);
	if (zone == NULL || strlen(pg) < 22)
		return strdup(pg);
	if (*zone == '.') {
		zone++;
		while (*zone >= '0' && *zone <= '9')
			zone++;
	}
	if (strcmp(zone, "+00") != 0)
		return strdup(pg);
	t = timegm(&tm);
	if (t == (time_t)-1 || timearg_iso_utc((int64_t)t, iso) != 0)
		return strdup(pg);
	return strdup(iso);
}

static char *out_normalise(enum out_type type, const char *value)
{
	switch (type) {
	case OUT_BOOL:
		if (strcmp(value, "t") == 0 || strcmp(value, "true") == 0)
			return strdup("true");
		if (strcmp(value, "f") == 0 || strcmp(value, "false") == 0)
			return strdup("false");
		return strdup(value);
	case OUT_TIME:
		return out_iso_time(value);
	case OUT_STRING:
	case OUT_NUMBER:
		break;
	}
	return strdup(value);
}

int out_cell(struct out_table *t, const char *value)
{
	size_t column;
	char *copy = NULL;

	if (t->nrows == 0 || t->ncells >= t->nrows * t->ncolumns)
		return -1;
	column = t->ncells % t->ncolumns;
	if (value != NULL) {
		copy = out_normalise(t->columns[column].type, value);
		if (copy == NULL)
			return -1;
	}
	if (out_push(t, copy) != 0) {
		free(copy);
		return -1;
	}
	return 0;
}

int out_attach(struct out_table *t, const char *key, struct out_table *child)
{
	struct out_child *grown;
	char *copy = strdup(key);

	if (copy == NULL)
		goto fail;
	grown = realloc(t->children, (t->nchildren + 1) * sizeof(*grown));
	if (grown == NULL)
		goto fail;
	t->children = grown;
	t->children[t->nchildren].key = copy;
	t->children[t->nchildren].table = child;
	t->nchildren++;
	return 0;
fail:
	free(copy);
	out_table_free(child);
	return -1;
}

size_t out_rows(const struct out_table *t)
{
	return t->nrows;
}

void out_set_header(struct out_table *t, bool header)
{
	t->no_header = !header;
}

/* The value of row r, column c (NULL when null or not given). */
static const char *out_value(const struct out_table *t, size_t r, size_t c)
{
	size_t i = r * t->ncolumns + c;

	return i < t->ncells ? t->cells[i] : NULL;
}

/* --- JSON --------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_is_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static void json_value(FILE *f, enum out_type type, const char *v)
{
	if (v == NULL)
		fputs("null", f);
	else if (type == OUT_NUMBER && json_is_number(v))
		fputs(v, f);
	else if (type == OUT_BOOL && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0))
		fputs(v, f);
	else
		json_string(f, v);
}

static void json_list(FILE *f, const struct out_table *t);

static void json_object(FILE *f, const struct out_table *t, size_t r, bool with_children)
{
	size_t c;

	fputc('{', f);
	for (c = 0; c < t->ncolumns; c++) {
		if (c > 0)
			fputs(", ", f);
		json_string(f, t->columns[c].name);
		fputs(": ", f);
		json_value(f, t->columns[c].type, out_value(t, r, c));
	}
	if (with_children) {
		for (c = 0; c < t->nchildren; c++) {
			if (c > 0 || t->ncolumns > 0)
				fputs(", ", f);
			json_string(f, t->children[c].key);
			fputs(": ", f);
			json_list(f, t->children[c].table);
		}
	}
	fputc('}', f);
}

static void json_list(FILE *f, const struct out_table *t)
{
	size_t r;

	fputc('[', f);
	for (r = 0; r < t->nrows; r++) {
		fputs(r > 0 ? ",\n " : "", f);
		json_object(f, t, r, false);
	}
	fputc(']', f);
}

/* --- CSV (RFC 4180: CRLF line ends, quotes doubled) ---------------------- */

static void csv_field(FILE *f, const char *v)
{
	const char *p;

	if (v == NULL)
		return;
	if (strpbrk(v, ",\"\r\n") == NULL && v[0] != ' ' && (v[0] == '\0' || v[strlen(v) - 1] != ' ')) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (p = v; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void csv_table(FILE *f, const struct out_table *t, size_t first, size_t last)
{
	size_t r, c;

	for (c = 0; c < t->ncolumns; c++) {
		if (c > 0)
			fputc(',', f);
		csv_field(f, t->columns[c].name);
	}
	fputs("\r\n", f);
	for (r = first; r < last; r++) {
		for (c = 0; c < t->ncolumns; c++) {
			if (c > 0)
				fputc(',', f);
			csv_field(f, out_value(t, r, c));
		}
		fputs("\r\n", f);
	}
}

/* --- text ------------------------------------------------------------------ */

/* Display width of a UTF-8 string: continuation bytes take no column. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Control characters in stored text must not drive the terminal. */
static void text_field(FILE *f, const char *v, size_t pad)
{
	const char *p;

	for (p = v; *p != '\0'; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	while (pad-- > 0)
		fputc(' ', f);
}

#define TEXT_NULL "-"

static void text_table(FILE *f, const struct out_table *t, const char *indent)
{
	size_t *width = calloc(t->ncolumns + 1, sizeof(size_t));
	size_t r, c;

	if (width == NULL)
		return;
	for (c = 0; c < t->ncolumns; c++) {
		if (!t->no_header)
			width[c] = text_width(t->columns[c].name);
		for (r = 0; r < t->nrows; r++) {
			const char *v = out_value(t, r, c);
			size_t w = text_width(v != NULL ? v : TEXT_NULL);

			if (w > width[c])
				width[c] = w;
		}
	}
	if (!t->no_header) {
		fputs(indent, f);
		for (c = 0; c < t->ncolumns; c++) {
			bool last = c + 1 == t->ncolumns;

			text_field(f, t->columns[c].name,
				   last ? 0 : width[c] - text_width(t->columns[c].name) + 2);
		}
		fputc('\n', f);
	}
	for (r = 0; r < t->nrows; r++) {
		fputs(indent, f);
		for (c = 0; c < t->ncolumns; c++) {
			const char *v = out_value(t, r, c);
			bool last = c + 1 == t->ncolumns;

			if (v == NULL)
				v = TEXT_NULL;
			text_field(f, v, last ? 0 : width[c] - text_width(v) + 2);
		}
		fputc('\n', f);
	}
	free(width);
}

static void text_record(FILE *f, const struct out_table *t)
{
	size_t c, width = 0;

	for (c = 0; c < t->ncolumns; c++)
		if (text_width(t->columns[c].name) > width)
			width = text_width(t->columns[c].name);
	for (c = 0; c < t->ncolumns; c++) {
		const char *v = out_value(t, 0, c);

		text_field(f, t->columns[c].name, 0);
		fputc(':', f);
		text_field(f, "", width - text_width(t->columns[c].name) + 1);
		text_field(f, v != NULL ? v : TEXT_NULL, 0);
		fputc('\n', f);
	}
	for (c = 0; c < t->nchildren; c++) {
		const struct out_table *child = t->children[c].table;

		text_field(f, t->children[c].key, 0);
		fputs(child->nrows == 0 ? ": none\n" : ":\n", f);
		if (child->nrows > 0)
			text_table(f, child, "  ");
	}
}

/* --- printing ---------------------------------------------------------------- */

static int out_flush(FILE *f)
{
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int out_print_list(FILE *f, enum out_format format, const struct out_table *t)
{
	switch (format) {
	case OUT_JSON:
		json_list(f, t);
		fputc('\n', f);
		break;
	case OUT_CSV:
		csv_table(f, t, 0, t->nrows);
		break;
	case OUT_TEXT:
		text_table(f, t, "");
		break;
	}
	return out_flush(f);
}

int out_print_record(FILE *f, enum out_format format, const struct out_table *t)
{
	size_t c;

	if (t->nrows == 0)
		return -1;
	switch (format) {
	case OUT_JSON:
		json_object(f, t, 0, true);
		fputc('\n', f);
		break;
	case OUT_CSV:
		csv_table(f, t, 0, 1);
		for (c = 0; c < t->nchildren; c++) {
			fputs("\r\n", f);
			csv_table(f, t->children[c].table, 0, t->children[c].table->nrows);
		}
		break;
	case OUT_TEXT:
		text_record(f, t);
		break;
	}
	return out_flush(f);
}
