/*
 * listener — the controller's listening sockets and what it accepts: each
 * new connection passes admission (admission.h) first, and when the process
 * runs out of descriptors the quietest unauthenticated connection makes
 * room.  Accepting pauses for 1 s only when there is none to close.
 */
#ifndef SAC_CONTROLLER_LISTENER_H
#define SAC_CONTROLLER_LISTENER_H

#include "server_state.h"

void listener_accept(struct server *sv, int lfd);
void listener_resume(struct server *sv);
int listener_open(struct server *sv);
bool listener_is(const struct server *sv, int fd);
void listener_close(struct server *sv);

#endif
