/*
 * cmd_badge — `sacctl badge enroll|revoke|issue`: sacctl computes the badge's
 * credential here, HMAC-SHA256(credential key, UID), exactly as sac-reader
 * does, and sends only that to the database.  The UID is input only: it is
 * never printed, logged or sent, and neither is the credential.  `--uid -`
 * reads the UID from standard input, out of sight of `ps`.
 *
 * `badge issue` personalises a DESFire card on an NFC reader (card_nfc.h)
 * and enrolls HMAC-SHA256(credential key, card number): the card number is
 * random, lives only on the card, and is never printed or stored.  So a
 * lost DESFire badge is revoked by its badge id (`badge revoke --badge ID`).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badgecard.h"
#include "badgeuid.h"
#include "card_nfc.h"
#include "commands.h"
#include "credential.h"
#include "ctldb.h"
#include "timearg.h"

#define BADGE_DEFAULT_KEY "/etc/sac/credential.key"
#define BADGE_UID_HELP "--uid must be 4, 7 or 10 bytes in hex, e.g. 04A21B7C or 04:A2:1B:7C"

/* The UID from --uid: the argument itself, or one line of standard input
 * for "-".  The argument's text in argv is overwritten once parsed, so it
 * does not linger in /proc/PID/cmdline.  Returns the exit status. */
static int badge_read_uid(const struct ctl *ctl, const char *arg, uint8_t uid[CREDENTIAL_UID_MAX],
			  size_t *len)
{
	char line[BADGEUID_TEXT_MAX + 2];
	int rc;

	if (strcmp(arg, "-") != 0) {
		rc = badgeuid_parse(arg, uid, len);
		/* argv strings are writable (C11 5.1.2.2.1). */
		memset((char *)arg, 'x', strlen(arg));
		return rc == 0 ? CTL_EXIT_OK : ctl_usage_error(ctl, BADGE_UID_HELP);
	}
	if (fgets(line, sizeof(line), stdin) == NULL)
		return ctl_usage_error(ctl, "--uid -: no UID on standard input");
	line[strcspn(line, "\r\n")] = '\0';
	rc = badgeuid_parse(line, uid, len);
	explicit_bzero(line, sizeof(line));
	return rc == 0 ? CTL_EXIT_OK : ctl_usage_error(ctl, BADGE_UID_HELP);
}

/* Loads the credential key (--key, else $SAC_CREDENTIAL_KEY_FILE, else
 * BADGE_DEFAULT_KEY).  Unreadable: exit 3; readable but unfit: exit 2. */
static int badge_load_key(const char *key_path, uint8_t key[CREDENTIAL_KEY_LEN])
{
	char err[512];

	if (key_path == NULL)
		key_path = getenv("SAC_CREDENTIAL_KEY_FILE");
	if (key_path == NULL || key_path[0] == '\0')
		key_path = BADGE_DEFAULT_KEY;
	if (access(key_path, R_OK) != 0)
		return ctl_fail(CTL_EXIT_ENV, "credential key %s: %s", key_path, strerror(errno));
	if (credential_key_load(key_path, key, err, sizeof(err)) != 0)
		return ctl_fail(CTL_EXIT_USAGE, "%s", err);
	return CTL_EXIT_OK;
}

/* The credential for the UID under the key file (--key, else
 * $SAC_CREDENTIAL_KEY_FILE, else BADGE_DEFAULT_KEY).  An unreadable key file
 * is exit 3; one that is readable but unfit (too open, malformed) exit 2. */
static int badge_credential(const struct ctl *ctl, const char *key_path, const char *uid_arg,
			    uint8_t credential[CREDENTIAL_LEN])
{
	uint8_t key[CREDENTIAL_KEY_LEN];
	uint8_t uid[CREDENTIAL_UID_MAX];
	size_t uid_len = 0;
	int status;

	status = badge_read_uid(ctl, uid_arg, uid, &uid_len);
	if (status != CTL_EXIT_OK)
		goto out;
	status = badge_load_key(key_path, key);
	if (status != CTL_EXIT_OK)
		goto out;
	if (credential_compute(key, uid, uid_len, credential) != 0)
		status = ctl_fail(CTL_EXIT_ENV, "cannot compute the credential");
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(uid, sizeof(uid));
	return status;
}

/* A person id: 1 to 18 decimal digits, not all zero. */
static bool badge_is_id(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0") == n)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* What `badge enroll` and `badge issue` share: whose badge it is (a person
 * or the pool), until when, and the credential key file. */
struct badge_owner {
	const char *person, *valid_until, *key;
	bool pool;
};

/* The owner's entries in a command's ctl_arg table. */
enum {
	BADGE_OWNER_NARGS = 4
};

/* Fills them in. */
static void badge_owner_args(struct badge_owner *o, struct ctl_arg args[BADGE_OWNER_NARGS])
{
	args[0] = (struct ctl_arg){.name = "person", .value = &o->person};
	args[1] = (struct ctl_arg){.name = "pool", .flag = &o->pool};
	args[2] = (struct ctl_arg){.name = "key", .value = &o->key};
	args[3] = (struct ctl_arg){.name = "valid-until", .value = &o->valid_until};
}

/* Checks the parsed owner options.  Returns CTL_EXIT_OK, or the usage
 * error's status (after saying what is wrong). */
static int badge_owner_check(const struct ctl *ctl, const struct badge_owner *o)
{
	if ((o->person == NULL) == !o->pool)
		return ctl_usage_error(ctl, "give either --person ID or --pool");
	if (o->person != NULL && !badge_is_id(o->person))
		return ctl_usage_error(ctl, "--person must be a person id (a positive number)");
	if (o->valid_until != NULL && !timearg_is_iso8601(o->valid_until))
		return ctl_usage_error(ctl, "--valid-until must be an ISO-8601 date or date-time, "
					    "e.g. 2026-12-31 or 2026-12-31T18:00:00Z");
	return CTL_EXIT_OK;
}

/* Enrolls credential for the owner and, when old_credential is given (a
 * re-issued card's earlier number), retires that number's badge first.
 * Prints the new badge id. */
static int badge_enroll_credential(struct ctl *ctl, const struct ctldb_purpose *purpose,
				   const uint8_t credential[CREDENTIAL_LEN],
				   const uint8_t *old_credential, const struct badge_owner *o)
{
	PGresult *res = NULL;
	const char *id;
	int status;

	if (old_credential != NULL) {
		const char *values[] = {(const char *)old_credential};
		const int lengths[] = {CREDENTIAL_LEN};
		const int formats[] = {1};

		status = ctldb_call_params(ctl, purpose, "SELECT sac.badge_retire($1::bytea)", 1,
					   values, lengths, formats, &res);
		if (status != CTL_EXIT_OK)
			goto out;
		if (!PQgetisnull(res, 0, 0))
			fprintf(stderr, "sacctl: the card's previous badge %s is revoked\n",
				PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
	}
	{
		const char *values[] = {(const char *)credential, o->person, o->valid_until};
		const int lengths[] = {CREDENTIAL_LEN, 0, 0};
		const int formats[] = {1, 0, 0};

		status = ctldb_call_params(ctl, purpose,
					   "SELECT sac.badge_enroll($1::bytea, $2::bigint, "
					   "$3::timestamptz)",
					   3, values, lengths, formats, &res);
	}
	if (status != CTL_EXIT_OK)
		goto out;
	id = ctldb_single_value(res);
	status = id != NULL ? ctl_print_id(ctl, "badge_id", id) : CTL_EXIT_ENV;
out:
	PQclear(res);
	return status;
}

int cmd_badge_enroll(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"enroll badges", "sac_admin"};
	struct badge_owner owner = {0};
	const char *uid = NULL;
	struct ctl_arg args[1 + BADGE_OWNER_NARGS + 1] = {
		{.name = "uid", .required = true, .value = &uid},
	};
	uint8_t credential[CREDENTIAL_LEN];
	int status;

	memset(credential, 0, sizeof(credential));
	badge_owner_args(&owner, args + 1);
	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = badge_owner_check(ctl, &owner);
	if (status != CTL_EXIT_OK)
		return status;
	status = badge_credential(ctl, owner.key, uid, credential);
	if (status == CTL_EXIT_OK)
		status = badge_enroll_credential(ctl, &purpose, credential, NULL, &owner);
	explicit_bzero(credential, sizeof(credential));
	return status;
}

int cmd_badge_revoke(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"revoke badges", "sac_admin"};
	const char *uid = NULL, *key = NULL, *badge = NULL;
	const struct ctl_arg args[] = {
		{.name = "uid", .value = &uid},
		{.name = "badge", .value = &badge},
		{.name = "key", .value = &key},
		{0},
	};
	uint8_t credential[CREDENTIAL_LEN];
	PGresult *res = NULL;
	const char *id;
	int status;

	memset(credential, 0, sizeof(credential));
	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if ((uid == NULL) == (badge == NULL))
		return ctl_usage_error(ctl, "give either --uid HEX|- or --badge ID");
	if (badge != NULL) {
		const char *values[] = {badge};

		if (!badge_is_id(badge))
			return ctl_usage_error(ctl, "--badge must be a badge id (a positive number)");
		status = ctldb_call(ctl, &purpose, "SELECT sac.badge_revoke_id($1::bigint)", 1, values,
				    &res);
		if (status != CTL_EXIT_OK)
			goto out;
		id = ctldb_single_value(res);
		status = id != NULL ? ctl_print_id(ctl, "badge_id", id) : CTL_EXIT_ENV;
		goto out;
	}
	status = badge_credential(ctl, key, uid, credential);
	if (status != CTL_EXIT_OK)
		goto out;
	{
		const char *values[] = {(const char *)credential};
		const int lengths[] = {CREDENTIAL_LEN};
		const int formats[] = {1};

		status = ctldb_call_params(ctl, &purpose, "SELECT sac.badge_revoke($1::bytea)", 1,
					   values, lengths, formats, &res);
	}
	if (status != CTL_EXIT_OK)
		goto out;
	id = ctldb_single_value(res);
	status = id != NULL ? ctl_print_id(ctl, "badge_id", id) : CTL_EXIT_ENV;
out:
	explicit_bzero(credential, sizeof(credential));
	PQclear(res);
	return status;
}

static const struct ctldb_purpose badge_issue_purpose = {"issue badges", "sac_admin"};

int cmd_badge_issue(struct ctl *ctl, int argc, char **argv)
{
	const char *device = NULL, *card_key_path = NULL, *old_key_path = NULL;
	struct badge_owner owner = {0};
	struct ctl_arg args[3 + BADGE_OWNER_NARGS + 1] = {
		{.name = "device", .required = true, .value = &device},
		{.name = "card-key", .required = true, .value = &card_key_path},
		{.name = "old-card-key", .value = &old_key_path},
	};
	uint8_t key_bytes[CREDENTIAL_KEY_LEN], card_key[BADGECARD_KEY_LEN];
	uint8_t old_card_key[BADGECARD_KEY_LEN];
	uint8_t number[BADGECARD_NUMBER_LEN], old_number[BADGECARD_NUMBER_LEN];
	uint8_t credential[CREDENTIAL_LEN], old_credential[CREDENTIAL_LEN];
	char err[512];
	bool had_old = false;
	int status;

	memset(credential, 0, sizeof(credential));
	memset(old_credential, 0, sizeof(old_credential));
	memset(number, 0, sizeof(number));
	memset(old_number, 0, sizeof(old_number));
	memset(card_key, 0, sizeof(card_key));
	memset(old_card_key, 0, sizeof(old_card_key));
	memset(key_bytes, 0, sizeof(key_bytes));
	badge_owner_args(&owner, args + 3);
	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	status = badge_owner_check(ctl, &owner);
	if (status != CTL_EXIT_OK)
		return status;
	status = badge_load_key(owner.key, key_bytes);
	if (status != CTL_EXIT_OK)
		goto out;
	if (access(card_key_path, R_OK) != 0) {
		status = ctl_fail(CTL_EXIT_ENV, "card key %s: %s", card_key_path, strerror(errno));
		goto out;
	}
	if (badgecard_key_load(card_key_path, card_key, err, sizeof(err)) != 0) {
		status = ctl_fail(CTL_EXIT_USAGE, "%s", err);
		goto out;
	}
	if (old_key_path != NULL && access(old_key_path, R_OK) != 0) {
		status = ctl_fail(CTL_EXIT_ENV, "card key %s: %s", old_key_path, strerror(errno));
		goto out;
	}
	if (old_key_path != NULL &&
	    badgecard_key_load(old_key_path, old_card_key, err, sizeof(err)) != 0) {
		status = ctl_fail(CTL_EXIT_USAGE, "%s", err);
		goto out;
	}
	/* The database first: a caller who may not enroll finds out before a
	 * card is written. */
	status = ctldb_connect(ctl, &badge_issue_purpose);
	if (status != CTL_EXIT_OK)
		goto out;
	switch (card_nfc_issue(device, card_key, old_key_path != NULL ? old_card_key : NULL, number,
			       old_number, &had_old, err, sizeof(err))) {
	case CARD_NFC_OK:
		break;
	case CARD_NFC_DEVICE:
		status = ctl_fail(CTL_EXIT_ENV, "%s", err);
		goto out;
	default:
		status = ctl_fail(CTL_EXIT_USAGE, "the card cannot be issued: %s", err);
		goto out;
	}
	if (credential_compute(key_bytes, number, sizeof(number), credential) != 0 ||
	    (had_old &&
	     credential_compute(key_bytes, old_number, sizeof(old_number), old_credential) != 0)) {
		status = ctl_fail(CTL_EXIT_ENV, "cannot compute the credential");
		goto out;
	}
	status = badge_enroll_credential(ctl, &badge_issue_purpose, credential,
					 had_old ? old_credential : NULL, &owner);
	if (status != CTL_EXIT_OK)
		fprintf(stderr, "sacctl: the card is personalised but not enrolled; issue it again\n");
out:
	explicit_bzero(key_bytes, sizeof(key_bytes));
	explicit_bzero(card_key, sizeof(card_key));
	explicit_bzero(old_card_key, sizeof(old_card_key));
	explicit_bzero(number, sizeof(number));
	explicit_bzero(old_number, sizeof(old_number));
	explicit_bzero(credential, sizeof(credential));
	explicit_bzero(old_credential, sizeof(old_credential));
	return status;
}
