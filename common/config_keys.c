/*
 * config_keys — see config_keys.h.  Rules that tie two keys together are the
 * schemas' check functions, below each table.
 */
#include "config_keys.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <string.h>

#include "credential.h"

/* Connstrings longer than libnfc's buffer (NFC_BUFSIZE_CONNSTRING) are refused. */
#define READER_DEVICE_MAX 1023

#define RELOAD CONFIG_RELOADABLE
#define REQUIRED CONFIG_REQUIRED

/* --- [controller] --------------------------------------------------------- */

static const struct config_key controller_keys[] = {
	{"listen", CONFIG_ENDPOINTS, offsetof(struct settings, listen), REQUIRED, NULL, 0,
	 CONFIG_ENDPOINTS_MAX, NULL},
	{"certificate", CONFIG_FILE, offsetof(struct settings, certificate), REQUIRED | RELOAD, NULL, 0,
	 0, NULL},
	{"private_key", CONFIG_PRIVATE_KEY, offsetof(struct settings, private_key), REQUIRED | RELOAD,
	 NULL, 0, 0, NULL},
	{"reader_ca", CONFIG_FILE, offsetof(struct settings, reader_ca), REQUIRED | RELOAD, NULL, 0, 0,
	 NULL},
	{"crl", CONFIG_FILE, offsetof(struct settings, crl), RELOAD, NULL, 0, 0, NULL},
	{"database", CONFIG_STRING, offsetof(struct settings, database), REQUIRED | CONFIG_QUIET, NULL,
	 0, 0, NULL},
	{NULL, CONFIG_STRING, 0, 0, NULL, 0, 0, NULL},
};

const struct config_schema config_controller = {
	"controller",
	controller_keys,
	sizeof(struct settings),
	NULL,
};

/* --- [reader] ------------------------------------------------------------- */

static const char *const reader_cards[] = {"uid", "desfire", NULL};

static const struct config_key reader_keys[] = {
	{"id", CONFIG_IDENT, offsetof(struct reader_config, id), REQUIRED, NULL, 0, 0, NULL},
	{"device", CONFIG_STRING, offsetof(struct reader_config, device), REQUIRED | RELOAD, NULL, 0,
	 READER_DEVICE_MAX, NULL},
	{"controllers", CONFIG_ENDPOINTS, offsetof(struct reader_config, controllers),
	 REQUIRED | RELOAD, NULL, 0, READER_CONTROLLERS_MAX, NULL},
	{"certificate", CONFIG_FILE, offsetof(struct reader_config, certificate), REQUIRED | RELOAD,
	 NULL, 0, 0, NULL},
	{"private_key", CONFIG_PRIVATE_KEY, offsetof(struct reader_config, private_key),
	 REQUIRED | RELOAD, NULL, 0, 0, NULL},
	{"controller_ca", CONFIG_FILE, offsetof(struct reader_config, controller_ca), REQUIRED | RELOAD,
	 NULL, 0, 0, NULL},
	{"crl", CONFIG_FILE, offsetof(struct reader_config, crl), RELOAD, NULL, 0, 0, NULL},
	{"credential_key", CONFIG_SECRET_HEX, offsetof(struct reader_config, credential_key),
	 REQUIRED | RELOAD, NULL, 0, CREDENTIAL_KEY_LEN, NULL},
	{"spool", CONFIG_STATE_FILE, offsetof(struct reader_config, spool), REQUIRED, NULL, 0, 0, NULL},
	{"card", CONFIG_CHOICE, offsetof(struct reader_config, card), RELOAD, "uid", 0, 0,
	 reader_cards},
	{"card_key", CONFIG_SECRET_HEX, offsetof(struct reader_config, card_key), RELOAD, NULL, 0,
	 READER_CARD_KEY_LEN, NULL},
	{NULL, CONFIG_STRING, 0, 0, NULL, 0, 0, NULL},
};

static void reader_check(const void *cfg, const struct config_file *cf,
			 struct config_problems *problems)
{
	const struct reader_config *rc = cfg;
	const struct config_entry *e = config_find(cf, "card");

	if (rc->card == READER_CARD_DESFIRE && config_find(cf, "card_key") == NULL)
		config_problem(problems, cf->path, e != NULL ? e->line : 0,
			       "'card = desfire' needs 'card_key'");
}

const struct config_schema config_reader = {
	"reader",
	reader_keys,
	sizeof(struct reader_config),
	reader_check,
};

/* --- [purge] -------------------------------------------------------------- */

static const struct config_key purge_keys[] = {
	{"database", CONFIG_STRING, offsetof(struct purge_config, database), RELOAD | CONFIG_QUIET, "",
	 0, 0, NULL},
	{"video_dir", CONFIG_DIRECTORY, offsetof(struct purge_config, video_dir), RELOAD, NULL, 0, 0,
	 NULL},
	{"video_max_age", CONFIG_DURATION, offsetof(struct purge_config, video_max_age_s), RELOAD,
	 "30d", 1, PURGE_VIDEO_MAX_AGE_LIMIT, NULL},
	{NULL, CONFIG_STRING, 0, 0, NULL, 0, 0, NULL},
};

const struct config_schema config_purge = {
	"purge",
	purge_keys,
	sizeof(struct purge_config),
	NULL,
};

/* --- [web] ---------------------------------------------------------------- */

static const struct config_key web_keys[] = {
	{"listen", CONFIG_ENDPOINTS, offsetof(struct web_config, listen), REQUIRED, NULL, 0,
	 WEB_LISTEN_MAX, NULL},
	{"certificate", CONFIG_FILE, offsetof(struct web_config, certificate), REQUIRED, NULL, 0, 0,
	 NULL},
	{"private_key", CONFIG_PRIVATE_KEY, offsetof(struct web_config, private_key), REQUIRED, NULL, 0,
	 0, NULL},
	{"database", CONFIG_STRING, offsetof(struct web_config, database), REQUIRED | CONFIG_QUIET,
	 NULL, 0, 0, NULL},
	{"session_idle", CONFIG_DURATION, offsetof(struct web_config, session_idle_s), RELOAD, "10m", 1,
	 WEB_SESSION_IDLE_LIMIT_S, NULL},
	{NULL, CONFIG_STRING, 0, 0, NULL, 0, 0, NULL},
};

/* sac-web has no database role of its own: each person signs in as their
 * own, so the conninfo names no user and carries no password. */
static void web_check(const void *cfg, const struct config_file *cf, struct config_problems *problems)
{
	const struct web_config *wc = cfg;
	const struct config_entry *e = config_find(cf, "database");
	int line = e != NULL ? e->line : 0;
	PQconninfoOption *opts, *o;
	char *err = NULL;

	if (wc->database == NULL)
		return;
	opts = PQconninfoParse(wc->database, &err);
	if (opts == NULL) {
		config_problem(problems, cf->path, line, "'database' is not a libpq connection string");
		PQfreemem(err);
		return;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && o->val[0] != '\0' &&
		    (strcmp(o->keyword, "user") == 0 || strcmp(o->keyword, "password") == 0 ||
		     strcmp(o->keyword, "passfile") == 0))
			config_problem(problems, cf->path, line,
				       "'database' must not name a %s: each person signs in as their "
				       "own role",
				       o->keyword);
	PQconninfoFree(opts);
}

const struct config_schema config_web = {
	"web",
	web_keys,
	sizeof(struct web_config),
	web_check,
};
