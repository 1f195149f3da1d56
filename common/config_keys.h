/*
 * config_keys — every key of every sac daemon, one table per program
 * (SPEC §2), and the struct each table fills.  The tables say type,
 * default, bounds and whether SIGHUP applies a change (config.h); the man
 * pages describe the same keys.  Adding a key is one line in a table and
 * one field in a struct.
 */
#ifndef SAC_CONFIG_KEYS_H
#define SAC_CONFIG_KEYS_H

#include <stdint.h>

#include "config.h"

/* --- [controller] --------------------------------------------------------- */

struct settings {
	struct config_endpoints listen; /* restart */
	char *certificate;		/* reloadable, like the key, CA and CRL */
	char *private_key;
	char *reader_ca;
	char *crl;	/* NULL: no revocation list */
	char *database; /* restart */
};

extern const struct config_schema config_controller;

/* --- [reader] ------------------------------------------------------------- */

#define READER_CONTROLLERS_MAX 8
#define READER_CARD_KEY_LEN 16 /* AES-128 */

enum reader_card {
	READER_CARD_UID = 0, /* the credential is the HMAC of the card's UID */
	READER_CARD_DESFIRE, /* DESFire EV mutual authentication with a diversified key */
};

struct reader_config {
	char *id;    /* restart */
	char *spool; /* restart */
	char *device;
	struct config_endpoints controllers;
	char *certificate;
	char *private_key;
	char *controller_ca;
	char *crl;
	struct config_secret credential_key; /* CREDENTIAL_KEY_LEN bytes */
	int card;			     /* enum reader_card */
	struct config_secret card_key;	     /* READER_CARD_KEY_LEN bytes; card = desfire */
};

extern const struct config_schema config_reader;

/* --- [purge] -------------------------------------------------------------- */

/* The access-data limit and the purge interval are not keys: they are
 * database settings (sacctl retention set), read by the database at every
 * pass, so that no host chooses its own limits. */
#define PURGE_VIDEO_MAX_AGE_LIMIT ((int64_t)30 * 86400)
/* The longest purge interval the database accepts (sac.settings): the video
 * cut-off assumes it until the database has given the interval in force. */
#define PURGE_INTERVAL_LIMIT ((int64_t)30 * 60)

struct purge_config {
	char *database;	 /* libpq conninfo; "" means libpq's environment */
	char *video_dir; /* NULL when there is no video store */
	int64_t video_max_age_s;
};

extern const struct config_schema config_purge;

/* --- [web] ---------------------------------------------------------------- */

#define WEB_LISTEN_MAX 4
/* An idle session may not outlive a working day. */
#define WEB_SESSION_IDLE_LIMIT_S ((int64_t)8 * 3600)

struct web_config {
	struct config_endpoints listen; /* restart */
	char *certificate;		/* restart, like the key */
	char *private_key;
	char *database; /* libpq conninfo without user or password; restart */
	int64_t session_idle_s;
};

extern const struct config_schema config_web;

#endif
