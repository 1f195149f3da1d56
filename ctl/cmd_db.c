/*
 * cmd_db — `sacctl db migrate`: applies the numbered SQL files
 * (sql/NNN_*.sql, in name order) that the database has not seen yet.
 *
 * The files are compiled into sacctl (sqlfiles.h), so migrating needs no
 * file on disk wherever sacctl was installed.  SAC_SQL_DIR=DIR reads them
 * from DIR instead (for developing a new migration).
 *
 * All pending files run in ONE transaction under an advisory lock, so two
 * concurrent migrations serialise and a failure leaves the database as it
 * was.  Each applied file is recorded in public.sac_migrations with the
 * SHA-256 of its content; a recorded file is skipped, and a recorded file
 * whose content has changed since is an error (exit 2) — a migration is
 * never silently re-applied or edited after the fact.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "ctldb.h"
#include "sqlfiles.h"

#define MIGRATE_LOCK_CLASS "7300" /* advisory lock keys 7301, 7302 are in sql/001 */
#define MIGRATE_MAX_FILE (8 * 1024 * 1024)
#define MIGRATE_MAX_FILES 1000

static const struct ctldb_purpose migrate_purpose = {"migrate the database", "a superuser"};

struct migration {
	char *name;
	char *path;
	char *text;
	size_t len;
};

/* NNN_anything.sql */
static bool migrate_is_migration(const char *name)
{
	size_t len = strlen(name);

	return len > 8 && name[0] >= '0' && name[0] <= '9' && name[1] >= '0' && name[1] <= '9' &&
	       name[2] >= '0' && name[2] <= '9' && name[3] == '_' &&
	       strcmp(name + len - 4, ".sql") == 0;
}

static int migrate_compare(const void *a, const void *b)
{
	return strcmp(((const struct migration *)a)->name, ((const struct migration *)b)->name);
}

static void migrate_free(struct migration *m, size_t n)
{
	size_t i;

	for (i = 0; m != NULL && i < n; i++) {
		free(m[i].name);
		free(m[i].path);
		free(m[i].text);
	}
	free(m);
}

/* Reads a whole file (at most MIGRATE_MAX_FILE bytes, no NUL byte). */
static int migrate_read(struct migration *m)
{
	FILE *f = fopen(m->path, "rb");
	size_t cap = 64 * 1024;
	char *grown;
	int rc = -1;

	if (f == NULL) {
		ctl_fail(CTL_EXIT_ENV, "%s: %s", m->path, strerror(errno));
		return -1;
	}
	m->text = malloc(cap + 1);
	if (m->text == NULL)
		goto out;
	for (;;) {
		size_t n = fread(m->text + m->len, 1, cap - m->len, f);

		m->len += n;
		if (m->len < cap)
			break;
		if (cap >= MIGRATE_MAX_FILE) {
			ctl_fail(CTL_EXIT_ENV, "%s: larger than %d bytes", m->path, MIGRATE_MAX_FILE);
			goto out;
		}
		cap *= 2;
		grown = realloc(m->text, cap + 1);

		if (grown == NULL)
			goto out;
		m->text = grown;
	}
	if (ferror(f)) {
		ctl_fail(CTL_EXIT_ENV, "%s: read error", m->path);
		goto out;
	}
	m->text[m->len] = '\0';
	if (strlen(m->text) != m->len) {
		ctl_fail(CTL_EXIT_ENV, "%s: contains a NUL byte", m->path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

/* The migration files of dir, read and sorted by name.  Returns the count,
 * or -1 after printing why. */
static int migrate_load(const char *dir, struct migration **out)
{
	struct migration *m = NULL;
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(dir);

	*out = NULL;
	if (d == NULL) {
		ctl_fail(CTL_EXIT_ENV, "SQL directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct migration *grown;
		struct stat st;

		if (!migrate_is_migration(e->d_name))
			continue;
		if (n >= MIGRATE_MAX_FILES) {
			ctl_fail(CTL_EXIT_ENV, "SQL directory %s: more than %d files", dir,
				 MIGRATE_MAX_FILES);
			goto fail;
		}
		grown = realloc(m, (n + 1) * sizeof(*m));
		if (grown == NULL)
			goto fail;
		m = grown;
		memset(&m[n], 0, sizeof(m[n]));
		n++;
		m[n - 1].name = strdup(e->d_name);
		if (m[n - 1].name == NULL || asprintf(&m[n - 1].path, "%s/%s", dir, e->d_name) < 0) {
			m[n - 1].path = NULL;
			goto fail;
		}
		if (stat(m[n - 1].path, &st) != 0 || !S_ISREG(st.st_mode)) {
			ctl_fail(CTL_EXIT_ENV, "%s: not a regular file", m[n - 1].path);
			goto fail;
		}
		if (migrate_read(&m[n - 1]) != 0)
			goto fail;
	}
	closedir(d);
	d = NULL;
	if (n > 0)
		qsort(m, n, sizeof(*m), migrate_compare);
	*out = m;
	return (int)n;
fail:
	if (d != NULL)
		closedir(d);
	migrate_free(m, n);
	return -1;
}

/* The migrations compiled into sacctl, copied so that they are freed like
 * loaded ones.  Returns the count, or -1 after printing why. */
static int migrate_embedded(struct migration **out)
{
	struct migration *m = NULL;
	size_t i;

	*out = NULL;
	if (sql_files_count == 0)
		return 0;
	m = calloc(sql_files_count, sizeof(*m));
	if (m == NULL)
		goto fail;
	for (i = 0; i < sql_files_count; i++) {
		m[i].name = strdup(sql_files[i].name);
		m[i].text = malloc(sql_files[i].len + 1);
		if (m[i].name == NULL || m[i].text == NULL)
			goto fail;
		memcpy(m[i].text, sql_files[i].text, sql_files[i].len + 1);
		m[i].len = sql_files[i].len;
	}
	*out = m;
	return (int)sql_files_count;
fail:
	migrate_free(m, sql_files_count);
	ctl_fail(CTL_EXIT_ENV, "out of memory");
	return -1;
}

/* Runs one parameterless statement. */
static int migrate_simple(struct ctl *ctl, const char *sql)
{
	PGresult *res = NULL;
	int status = ctldb_call(ctl, &migrate_purpose, sql, 0, NULL, &res);

	PQclear(res);
	return status;
}

/* Applies m unless recorded; adds a row to t when applied. */
static int migrate_one(struct ctl *ctl, const struct migration *m, struct out_table *t)
{
	const char *values[2] = {m->text, m->name};
	const int lengths[2] = {(int)m->len, 0};
	const int formats[2] = {1, 0};
	struct ctldb_purpose apply = {NULL, migrate_purpose.needs};
	char action[300], sha[65];
	PGresult *res = NULL;
	int status;

	status = ctldb_call_params(ctl, &migrate_purpose,
				   "SELECT encode(pg_catalog.sha256($1::bytea), 'hex'), "
				   "(SELECT sha256 FROM public.sac_migrations WHERE name = $2)",
				   2, values, lengths, formats, &res);
	if (status != CTL_EXIT_OK)
		return status;
	if (PQntuples(res) != 1 || PQnfields(res) != 2) {
		PQclear(res);
		return ctl_fail(CTL_EXIT_ENV, "unexpected answer while checking %s", m->name);
	}
	snprintf(sha, sizeof(sha), "%s", PQgetvalue(res, 0, 0));
	if (!PQgetisnull(res, 0, 1)) {
		bool same = strcmp(sha, PQgetvalue(res, 0, 1)) == 0;

		PQclear(res);
		if (same)
			return CTL_EXIT_OK;
		return ctl_fail(CTL_EXIT_USAGE,
				"%s has changed since it was applied (sha256 differs); a migration "
				"must not be edited: add a new file instead",
				m->name);
	}
	PQclear(res);

	snprintf(action, sizeof(action), "apply %s", m->name);
	apply.action = action;
	status = ctldb_exec_script(ctl, &apply, m->text, &res);
	PQclear(res);
	if (status != CTL_EXIT_OK)
		return status;
	if (PQtransactionStatus(ctl->conn) != PQTRANS_INTRANS)
		return ctl_fail(CTL_EXIT_USAGE,
				"%s ends the transaction; migrations must not "
				"COMMIT or ROLLBACK",
				m->name);
	/* Each file starts as the migrating role, whatever the previous one set. */
	status = migrate_simple(ctl, "RESET ROLE");
	if (status != CTL_EXIT_OK)
		return status;
	values[0] = m->name;
	values[1] = sha;
	status = ctldb_call(ctl, &migrate_purpose,
			    "INSERT INTO public.sac_migrations (name, sha256) VALUES ($1, $2)", 2,
			    values, &res);
	PQclear(res);
	if (status != CTL_EXIT_OK)
		return status;
	if (out_row(t) != 0 || out_cell(t, "applied") != 0 || out_cell(t, m->name) != 0 ||
	    out_cell(t, sha) != 0)
		return ctl_fail(CTL_EXIT_ENV, "out of memory");
	return CTL_EXIT_OK;
}

static const char *const migrate_prologue[] = {
	"BEGIN",
	"SET LOCAL client_min_messages = warning",
	"SELECT pg_catalog.pg_advisory_xact_lock(" MIGRATE_LOCK_CLASS ", 0)",
	"CREATE TABLE IF NOT EXISTS public.sac_migrations ("
	" name text PRIMARY KEY,"
	" sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),"
	" applied_at timestamptz NOT NULL DEFAULT now())",
	"REVOKE ALL ON public.sac_migrations FROM PUBLIC",
};

int cmd_db_migrate(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_arg args[] = {{0}};
	const char *dir = getenv("SAC_SQL_DIR");
	const char *source = "sacctl";
	struct migration *m = NULL;
	struct out_table *t = NULL;
	int n = 0, i, status;
	size_t k;

	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if (dir != NULL && dir[0] != '\0') {
		n = migrate_load(dir, &m);
		source = dir;
	} else {
		n = migrate_embedded(&m);
	}
	if (n < 0)
		return CTL_EXIT_ENV;
	if (n == 0) {
		status = ctl_fail(CTL_EXIT_ENV, "%s%s holds no NNN_*.sql file",
				  dir != NULL && dir[0] != '\0' ? "SQL directory " : "", source);
		goto out;
	}
	t = out_table_new();
	if (t == NULL || out_column(t, "action", OUT_STRING) != 0 ||
	    out_column(t, "file", OUT_STRING) != 0 || out_column(t, "sha256", OUT_STRING) != 0) {
		status = ctl_fail(CTL_EXIT_ENV, "out of memory");
		goto out;
	}
	out_set_header(t, false);
	status = ctldb_connect(ctl, &migrate_purpose);
	for (k = 0; status == CTL_EXIT_OK && k < sizeof(migrate_prologue) / sizeof(*migrate_prologue);
	     k++)
		status = migrate_simple(ctl, migrate_prologue[k]);
	for (i = 0; status == CTL_EXIT_OK && i < n; i++)
		status = migrate_one(ctl, &m[i], t);
	if (status == CTL_EXIT_OK)
		status = migrate_simple(ctl, "COMMIT");
	if (status != CTL_EXIT_OK)
		goto out;
	if (out_rows(t) == 0 && ctl->format == OUT_TEXT)
		printf("nothing to apply: all %d migrations in %s are already applied\n", n, source);
	else
		status = ctl_print_list(ctl, t);
out:
	out_table_free(t);
	migrate_free(m, (size_t)n);
	return status;
}
