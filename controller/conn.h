/*
 * conn — one reader connection of the controller: the sac/1 state machine
 * and its non-blocking TLS I/O.
 *
 * Connection life: HANDSHAKE (TLS, 10 s deadline, down to 1 s under a flood
 * of connections that do not authenticate: admission.h) -> AWAIT_HELLO (HELLO id
 * must equal the certificate CN) -> HELLO_PENDING (the database says whether
 * the reader is known and enabled) -> READY (EVENT, PING) -> CLOSING (an ERR
 * being flushed, 2 s at most).  A connection that completes no line for
 * SERVER_IDLE_MS is closed, so a byte-a-second sender cannot hold a slot.
 *
 * Backpressure instead of buffering without bound: a connection is not read
 * while it has SERVER_INFLIGHT_MAX unanswered events or SERVER_OUT_MAX bytes
 * of unsent output; the peer's own TCP window then slows it down.
 *
 * Every function may close the connection (conn_close frees it); those that
 * return int return -1 when they did.
 */
#ifndef SAC_CONTROLLER_CONN_H
#define SAC_CONTROLLER_CONN_H

#include "server_state.h"

struct conn *conn_lookup(struct server *sv, struct ingest_peer p);
void conn_mark_dirty(struct server *sv, struct conn *c);
void conn_close(struct server *sv, struct conn *c);
void conn_send(struct server *sv, struct conn *c, const struct proto_msg *m);
void conn_fail(struct server *sv, struct conn *c, const char *code, const char *text);
int conn_flush(struct server *sv, struct conn *c);
bool conn_paused(const struct conn *c);
void conn_update_mask(struct server *sv, struct conn *c);
void conn_process(struct server *sv, struct conn *c);
int conn_read(struct server *sv, struct conn *c);
void conn_ready_io(struct server *sv, struct conn *c, uint32_t events);

#endif
