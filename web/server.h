/*
 * server — sac-web's HTTPS side on libmicrohttpd (TLS by GnuTLS): one
 * daemon per listen address, a thread per connection (the live board's
 * stream waits in its own thread), request bodies of at most 16 KiB, and
 * the same protective headers on every answer (no-store, a strict
 * Content-Security-Policy without inline script, HSTS, no framing, no
 * referrer).  Routing and answers are api.c's; assets are assets.c's.
 * Nothing of a request — path, query, body, address — is logged.
 */
#ifndef SAC_WEB_SERVER_H
#define SAC_WEB_SERVER_H

#include "config_keys.h"

struct server;

/* Reads the certificate and key, binds every listen address and starts
 * serving.  Returns the server, or NULL after logging which step failed. */
struct server *server_start(const struct web_config *cfg);

/* Stops accepting, ends live streams and waits for every connection. */
void server_stop(struct server *srv);

#endif
