/*
 * server_state — the state the controller's network side shares between its
 * three files: server.c (the event loop, results from the database thread,
 * timeouts, reload and the drain at SIGTERM), conn.c (one connection's
 * sac/1 state machine and its I/O) and listener.c (listening sockets,
 * accepting, and the admission limits of admission.h).  Not used outside
 * them.
 */
#ifndef SAC_CONTROLLER_SERVER_STATE_H
#define SAC_CONTROLLER_SERVER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admission.h"
#include "ingest.h"
#include "proto.h"
#include "config_keys.h"
#include "tls.h"

#define SERVER_HELLO_MS 10000
#define SERVER_CLOCK_SKEW_MS 5000 /* as in sac.ingest */
#define SERVER_IDLE_MS 120000
#define SERVER_CLOSING_MS 2000
#define SERVER_DRAIN_MS 10000
#define SERVER_INFLIGHT_MAX 1024
#define SERVER_OUT_MAX 65536
#define SERVER_READ_CHUNK 16384
#define SERVER_IN_MAX (SERVER_READ_CHUNK + PROTO_LINE_MAX)
#define SERVER_EVENTS_MAX 256
#define SERVER_LISTEN_MAX_FDS 64
#define SERVER_CN_MAX 256

enum conn_state {
	CONN_HANDSHAKE,
	CONN_AWAIT_HELLO,
	CONN_HELLO_PENDING,
	CONN_READY,
	CONN_CLOSING,
};

struct conn {
	int fd;
	uint64_t serial;
	enum conn_state state;
	struct tls_conn *tls;
	char peer[64];
	char cn[SERVER_CN_MAX];
	char reader_id[PROTO_READER_ID_MAX + 1];
	int64_t deadline_ms;
	int64_t accepted_ms;
	struct admission_entry adm; /* pending until welcomed */
	uint32_t epoll_mask;
	bool dirty; /* on the server's dirty list: flush and maybe resume reading */
	bool eof;   /* the peer closed its side */
	bool read_wants_write;
	bool clock_warned; /* the reader's clock ahead: logged once per connection */
	size_t inflight;
	char *in; /* unprocessed input, SERVER_IN_MAX bytes, allocated while needed */
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
};

struct server {
	struct settings *settings;
	const char *config_path;
	int epfd;
	int listen_fds[SERVER_LISTEN_MAX_FDS];
	int listen_count;
	bool accepting;
	int64_t accept_resume_ms;
	struct tls_context *tls;
	struct ingest *ingest;
	struct conn **conns; /* indexed by fd */
	size_t conns_cap;
	size_t conns_end; /* above the highest fd ever in conns: where scans stop */
	size_t conn_count;
	uint64_t next_serial;
	int *dirty; /* fds */
	size_t dirty_count, dirty_cap;
	bool draining;
	struct admission adm;
	int64_t next_flood_log_ms;
	uint64_t flood_logged_evicted, flood_logged_refused;
};

#endif
