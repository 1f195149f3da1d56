/*
 * server — the controller's network side: TLS listeners and reader
 * connections served by one non-blocking epoll loop (no thread per
 * connection), the sac/1 state machine of each connection, timeouts, and the
 * daemon's signal handling (SIGHUP rereads the configuration: the TLS files apply to new connections,
 * SIGTERM drains).  Storing events is the ingest module's job; this module
 * sends an ACK only when ingest hands back the committed verdict.
 *
 * A failure on one connection (bad TLS, bad line, slow or silent peer)
 * closes that connection and never delays the others.
 */
#ifndef SAC_CONTROLLER_SERVER_H
#define SAC_CONTROLLER_SERVER_H

#include "config_keys.h"

/* Loads the certificate, key, CA and CRL of s as a server TLS context, to
 * check them.  Returns 0, or -1 with the failing step printed to stderr
 * after path. */
int server_tls_check(const char *path, const struct settings *s) __attribute__((warn_unused_result));

/* Runs the controller until SIGTERM/SIGINT.  Returns the exit status:
 * 0 after a clean drain, 3 when the environment failed at start (a listen
 * address cannot be bound, TLS files unusable, the database thread cannot
 * start). */
int server_run(const char *config_path, struct settings *s);

#endif
