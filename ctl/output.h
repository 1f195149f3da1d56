/*
 * output — how sacctl prints results: the same rows as an aligned text table
 * (the default), as JSON or as CSV (RFC 4180).  A table is built column by
 * column and row by row from text values (as libpq returns them), then
 * printed either as a list (JSON: one array of objects) or as a single
 * record (JSON: one object), optionally with nested lists attached to the
 * record (JSON: arrays under a key).
 *
 * It does not talk to the database and does not decide what to print: the
 * commands do.  Nothing here ever sees a credential or a badge UID.
 */
#ifndef SAC_CTL_OUTPUT_H
#define SAC_CTL_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

enum out_format {
	OUT_TEXT,
	OUT_JSON,
	OUT_CSV
};

/* How a column's values are typed in JSON (and normalised everywhere). */
enum out_type {
	OUT_STRING,
	OUT_NUMBER, /* a JSON number; a value that is not a number is printed as a string */
	OUT_BOOL,   /* "t"/"true" and "f"/"false" (libpq's text form) -> true/false */
	OUT_TIME,   /* PostgreSQL's timestamptz text in UTC -> ISO-8601 "…T…Z" */
};

struct out_table;

/* Parses "text", "json" or "csv".  Returns 0, or -1 for anything else. */
int out_format_parse(const char *name, enum out_format *format) __attribute__((warn_unused_result));

/* A new empty table, or NULL when out of memory.  Free with out_table_free,
 * which also frees attached tables and accepts NULL. */
struct out_table *out_table_new(void);
void out_table_free(struct out_table *t);

/* Adds a column; only before the first row.  name is copied.  Returns 0 or -1. */
int out_column(struct out_table *t, const char *name, enum out_type type)
	__attribute__((warn_unused_result));

/* Starts a new row; its cells are then given in column order with out_cell
 * (value NULL means SQL NULL / JSON null; the value is copied).  A row with
 * fewer cells than columns is completed with NULLs.  Return 0 or -1 (out of
 * memory, or more cells than columns). */
int out_row(struct out_table *t) __attribute__((warn_unused_result));
int out_cell(struct out_table *t, const char *value) __attribute__((warn_unused_result));

/* Attaches child as the list `key` of a record: it is printed after the
 * record's fields (JSON: "key": [ … ]).  t takes ownership of child, also on
 * failure.  Returns 0 or -1. */
int out_attach(struct out_table *t, const char *key, struct out_table *child)
	__attribute__((warn_unused_result));

/* Number of rows so far. */
size_t out_rows(const struct out_table *t);

/* Text tables print a header line unless turned off (for plain messages). */
void out_set_header(struct out_table *t, bool header);

/* Prints every row: text = aligned table, JSON = one array of objects,
 * CSV = a header line and one line per row.  Returns 0, or -1 on a write error. */
int out_print_list(FILE *f, enum out_format format, const struct out_table *t)
	__attribute__((warn_unused_result));

/* Prints the first row as one record: text = "field: value" lines, JSON = one
 * object, CSV = header and one line; then the attached lists (text: a heading
 * and an indented table; CSV: a blank line and the list).  Returns 0, or -1 on
 * a write error or when the table has no row. */
int out_print_record(FILE *f, enum out_format format, const struct out_table *t)
	__attribute__((warn_unused_result));

#endif
