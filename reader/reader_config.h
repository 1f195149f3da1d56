/*
 * reader_config — the [reader] section (SPEC §2), parsed and validated in
 * one place.  Every problem is recorded with file and line so that
 * --check-config can print them all.  It loads the credential key (refusing a
 * key file that is group/world accessible or not 64 hex digits) but does not
 * open the device, the spool or a connection.
 */
#ifndef SAC_READER_CONFIG_H
#define SAC_READER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "credential.h"
#include "device.h"

#define READER_CONTROLLERS_MAX 8

struct reader_config {
	char *id;
	char *device;
	char *controller_host[READER_CONTROLLERS_MAX];
	int controller_port[READER_CONTROLLERS_MAX];
	int controller_count;
	char *certificate;
	char *private_key;
	char *controller_ca;
	char *credential_key_file;
	uint8_t credential_key[CREDENTIAL_KEY_LEN];
	char *spool;
	struct device_card card; /* card = uid|desfire, and card_key for desfire */
	char *card_key_file;
};

/* Reads [reader] of path into *cfg.  Returns CONFIG_READ_OK (the
 * configuration is usable only if problems->count is still 0) or
 * CONFIG_READ_UNREADABLE.  Referenced files are checked to exist and be
 * readable; whether the certificate, key and CA make a TLS context is
 * checked by the caller.  *cfg must be freed with reader_config_free either
 * way. */
enum config_read_result reader_config_load(const char *path, struct reader_config *cfg,
					   struct config_problems *problems)
	__attribute__((warn_unused_result));

/* Frees the strings and wipes the key.  Accepts a zeroed cfg. */
void reader_config_free(struct reader_config *cfg);

#endif
