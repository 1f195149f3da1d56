/*
 * cmd_badge — `sacctl badge enroll|revoke`: sacctl computes the badge's
 * credential here, HMAC-SHA256(credential key, UID), exactly as sac-reader
 * does, and sends only that to the database.  The UID is input only: it is
 * never printed, logged or sent, and neither is the credential.  `--uid -`
 * reads the UID from standard input, out of sight of `ps`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "badgeuid.h"
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

/* The credential for the UID under the key file (--key, else
 * $SAC_CREDENTIAL_KEY_FILE, else BADGE_DEFAULT_KEY).  An unreadable key file
 * is exit 3; one that is readable but unfit (too open, malformed) exit 2. */
static int badge_credential(const struct ctl *ctl, const char *key_path, const char *uid_arg,
			    uint8_t credential[CREDENTIAL_LEN])
{
	uint8_t key[CREDENTIAL_KEY_LEN];
	uint8_t uid[CREDENTIAL_UID_MAX];
	size_t uid_len = 0;
	char err[512];
	int status;

	status = badge_read_uid(ctl, uid_arg, uid, &uid_len);
	if (status != CTL_EXIT_OK)
		goto out;
	if (key_path == NULL)
		key_path = getenv("SAC_CREDENTIAL_KEY_FILE");
	if (key_path == NULL || key_path[0] == '\0')
		key_path = BADGE_DEFAULT_KEY;
	if (access(key_path, R_OK) != 0) {
		status = ctl_fail(CTL_EXIT_ENV, "credential key %s: %s", key_path, strerror(errno));
		goto out;
	}
	if (credential_key_load(key_path, key, err, sizeof(err)) != 0) {
		status = ctl_fail(CTL_EXIT_USAGE, "%s", err);
		goto out;
	}
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

int cmd_badge_enroll(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"enroll badges", "sac_admin"};
	const char *person = NULL, *uid = NULL, *key = NULL, *valid_until = NULL;
	bool pool = false;
	const struct ctl_arg args[] = {
		{.name = "person", .value = &person},
		{.name = "pool", .flag = &pool},
		{.name = "uid", .required = true, .value = &uid},
		{.name = "key", .value = &key},
		{.name = "valid-until", .value = &valid_until},
		{0},
	};
	uint8_t credential[CREDENTIAL_LEN];
	PGresult *res = NULL;
	const char *id;
	int status;

	memset(credential, 0, sizeof(credential));
	if (!ctl_args_parse(ctl, argc, argv, args, &status))
		return status;
	if ((person == NULL) == !pool)
		return ctl_usage_error(ctl, "give either --person ID or --pool");
	if (person != NULL && !badge_is_id(person))
		return ctl_usage_error(ctl, "--person must be a person id (a positive number)");
	if (valid_until != NULL && !timearg_is_iso8601(valid_until))
		return ctl_usage_error(ctl, "--valid-until must be an ISO-8601 date or date-time, "
					    "e.g. 2026-12-31 or 2026-12-31T18:00:00Z");
	status = badge_credential(ctl, key, uid, credential);
	if (status != CTL_EXIT_OK)
		goto out;
	{
		const char *values[] = {(const char *)credential, person, valid_until};
		const int lengths[] = {CREDENTIAL_LEN, 0, 0};
		const int formats[] = {1, 0, 0};

		status = ctldb_call_params(ctl, &purpose,
					   "SELECT sac.badge_enroll($1::bytea, $2::bigint, "
					   "$3::timestamptz)",
					   3, values, lengths, formats, &res);
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

int cmd_badge_revoke(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctldb_purpose purpose = {"revoke badges", "sac_admin"};
	const char *uid = NULL, *key = NULL;
	const struct ctl_arg args[] = {
		{.name = "uid", .required = true, .value = &uid},
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
