/*
 * signin — POST /api/session: a person signs in with their own database
 * role and password.  sac-web opens a connection as that role (the server's
 * pg_hba.conf chooses SCRAM) and keeps it as the session; it has no role of
 * its own.  Every kind of failure — wrong password, unknown role, a role in
 * no sac group, a server that did not ask for a password — gets the same
 * answer, and failures are limited per source address and per role name.
 */
#ifndef SAC_WEB_SIGNIN_H
#define SAC_WEB_SIGNIN_H

#include "api.h"

/* The conninfo people connect through (no user). */
void signin_init(const char *database);

void signin_handle(const struct web_request *req, struct web_reply *reply);

#endif
