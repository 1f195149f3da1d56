/*
 * board — see board.h.
 */
#include "board.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "daemon.h"
#include "session.h"
#include "webdb.h"

#define BOARD_POLL_MS 1000
#define BOARD_KEEPALIVE_MS 15000
#define BOARD_STEP_MS 100

static atomic_bool board_stopping;

struct board_stream {
	char session_id[SESSION_TOKEN_SIZE];
	char emergency_id[24];
	char *last;    /* the last board sent */
	char *pending; /* text not yet sent */
	size_t pending_len, pending_off;
	int64_t next_poll_ms, last_send_ms;
	bool finished; /* the last event is queued */
};

void board_stop_all(void)
{
	atomic_store(&board_stopping, true);
}

struct board_stream *board_stream_new(const char *session_id, const char *emergency_id)
{
	struct board_stream *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	snprintf(b->session_id, sizeof(b->session_id), "%s", session_id);
	snprintf(b->emergency_id, sizeof(b->emergency_id), "%s", emergency_id);
	return b;
}

void board_stream_free(void *cls)
{
	struct board_stream *b = cls;

	if (b == NULL)
		return;
	free(b->last);
	free(b->pending);
	explicit_bzero(b->session_id, sizeof(b->session_id));
	free(b);
}

/* Queues one event (data on one line: JSON from the database never holds a
 * raw newline).  Returns 0 or -1. */
static int board_queue(struct board_stream *b, const char *event, const char *data)
{
	char *text;
	int n;

	if (event != NULL)
		n = asprintf(&text, "event: %s\ndata: %s\n\n", event, data);
	else
		n = asprintf(&text, ": %s\n\n", data);
	if (n < 0)
		return -1;
	free(b->pending);
	b->pending = text;
	b->pending_len = (size_t)n;
	b->pending_off = 0;
	return 0;
}

/* An `ended` event saying why, as JSON built by the library. */
static int board_end(struct board_stream *b, const char *reason, const char *message)
{
	json_t *o = json_pack("{s:s, s:s}", "reason", reason, "message", message);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = text != NULL ? board_queue(b, "ended", text) : -1;

	json_decref(o);
	free(text);
	b->finished = true;
	return rc;
}

/* Asks the database for the board and queues it if it changed. */
static int board_poll(struct board_stream *b)
{
	struct web_reply reply = {0};
	struct session *s = session_acquire(b->session_id, false);
	const char *values[] = {b->emergency_id};
	json_t *doc = NULL, *refusal;
	char *text;
	int rc = 0;

	if (s == NULL)
		return board_end(b, "session", "the session ended: sign in again");
	text = webdb_json(session_conn(s), "SELECT sac.muster_board($1::bigint)", 1, values,
			  "read the muster board", &reply);
	session_release(s);
	if (text == NULL) {
		json_t *err = json_loadb(reply.body, reply.body_len, 0, NULL);
		const char *why = json_string_value(json_object_get(err, "error"));

		rc = board_end(b, "error", why != NULL ? why : "the database failed");
		json_decref(err);
		api_reply_free(&reply);
		return rc;
	}
	api_reply_free(&reply);
	doc = json_loads(text, 0, NULL);
	refusal = json_object_get(doc, "refusal");
	if (doc == NULL) {
		rc = board_end(b, "error", "unexpected answer from the database");
	} else if (json_is_string(refusal)) {
		rc = board_end(b, "refused", json_string_value(refusal));
	} else if (b->last == NULL || strcmp(b->last, text) != 0) {
		rc = board_queue(b, "board", text);
		free(b->last);
		b->last = text;
		text = NULL;
		/* A closed emergency's board is final. */
		if (rc == 0 && !json_is_null(json_object_get(doc, "closed_at")))
			b->finished = true;
	}
	json_decref(doc);
	free(text);
	return rc;
}

ssize_t board_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct board_stream *b = cls;

	(void)pos;
	for (;;) {
		int64_t now;

		if (b->pending != NULL && b->pending_off < b->pending_len) {
			size_t n = b->pending_len - b->pending_off;

			if (n > max)
				n = max;
			memcpy(buf, b->pending + b->pending_off, n);
			b->pending_off += n;
			b->last_send_ms = daemon_monotonic_ms();
			return (ssize_t)n;
		}
		if (b->finished || atomic_load(&board_stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		now = daemon_monotonic_ms();
		if (now >= b->next_poll_ms) {
			b->next_poll_ms = now + BOARD_POLL_MS;
			if (board_poll(b) != 0)
				return MHD_CONTENT_READER_END_OF_STREAM;
			continue;
		}
		if (now - b->last_send_ms >= BOARD_KEEPALIVE_MS) {
			if (board_queue(b, NULL, "keep-alive") != 0)
				return MHD_CONTENT_READER_END_OF_STREAM;
			continue;
		}
		{
			struct timespec step = {0, BOARD_STEP_MS * 1000 * 1000};

			nanosleep(&step, NULL);
		}
	}
}
