/*
 * board — the live muster board: GET /api/muster/stream?emergency=N answers
 * with Server-Sent Events.  About once a second the stream asks the database
 * for the board (sac.muster_board, sql/060_web.sql) as the session's role
 * and sends an `event: board` whenever it changed, so a tap at a muster
 * reader shows on the officer's phone within about two seconds, without a
 * reload.  The database audits one record per minute of live board per
 * officer and emergency (not one per update).
 *
 * The stream ends — with `event: ended` — when the emergency is closed,
 * when the session ends (sign-out, idle timeout: the board itself is not
 * activity), when the database refuses, or when sac-web stops.
 */
#ifndef SAC_WEB_BOARD_H
#define SAC_WEB_BOARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct board_stream;

/* A stream for the session with this id and the emergency (digits).  NULL
 * when out of memory. */
struct board_stream *board_stream_new(const char *session_id, const char *emergency_id);

/* libmicrohttpd's content reader: blocks (in this connection's own thread)
 * until there is something to send.  Returns bytes written to buf, or -1 at
 * the end of the stream. */
ssize_t board_stream_read(void *cls, uint64_t pos, char *buf, size_t max);

/* libmicrohttpd's free callback. */
void board_stream_free(void *cls);

/* Makes every stream end soon (shutdown). */
void board_stop_all(void);

#endif
