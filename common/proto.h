/*
 * proto — the sac/1 line protocol between reader and controller (SPEC §3):
 * strict parsing of one line and formatting of one line.  It does no I/O.
 *
 *   HELLO sac/1 <reader-id>            WELCOME sac/1 <server-unix-ms>
 *   EVENT <event-id> <unix-ms> <cred>  ACK <event-id> GRANT|DENY|EXPIRED
 *   PING                               PONG <server-unix-ms>
 *   ERR <code> <text>
 *
 * A line is ASCII, at most PROTO_LINE_MAX bytes including its LF; fields are
 * separated by exactly one space; event ids are 32 and credentials 64
 * lowercase hex digits; times are decimal Unix milliseconds.
 */
#ifndef SAC_PROTO_H
#define SAC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_LINE_MAX 256
#define PROTO_READER_ID_MAX 64
#define PROTO_EVENT_ID_HEX 32
#define PROTO_CREDENTIAL_HEX 64
#define PROTO_ERR_TEXT_MAX 200

enum proto_verb {
	PROTO_HELLO,
	PROTO_WELCOME,
	PROTO_EVENT,
	PROTO_ACK,
	PROTO_PING,
	PROTO_PONG,
	PROTO_ERR,
};

enum proto_verdict {
	PROTO_GRANT,
	PROTO_DENY,
	PROTO_EXPIRED,
};

struct proto_msg {
	enum proto_verb verb;
	char reader_id[PROTO_READER_ID_MAX + 1];   /* HELLO */
	char event_id[PROTO_EVENT_ID_HEX + 1];	   /* EVENT, ACK */
	char credential[PROTO_CREDENTIAL_HEX + 1]; /* EVENT */
	int64_t unix_ms;			   /* EVENT, WELCOME, PONG */
	enum proto_verdict verdict;		   /* ACK */
	char err_code[32];			   /* ERR */
	char err_text[PROTO_ERR_TEXT_MAX + 1];	   /* ERR */
};

/* Parses one line of len bytes WITHOUT its terminating LF.  Returns 0 and
 * fills *msg, or -1 with *why pointing to a static reason ("unknown verb",
 * "bad event id", …) suitable for an ERR text. */
int proto_parse(const char *line, size_t len, struct proto_msg *msg, const char **why)
	__attribute__((warn_unused_result));

/* Formats msg as one line including its LF into buf.  Returns the length, or
 * -1 if a field is invalid or buf is too small. */
int proto_format(const struct proto_msg *msg, char *buf, size_t size)
	__attribute__((warn_unused_result));

const char *proto_verdict_name(enum proto_verdict verdict);

enum proto_frame {
	PROTO_FRAME_LINE,     /* a complete line */
	PROTO_FRAME_NONE,     /* no complete line in what is buffered yet */
	PROTO_FRAME_TOO_LONG, /* a line longer than PROTO_LINE_MAX with its LF */
};

/* The line framer of both ends of sac/1: the next line of buf[*pos..len).
 * On PROTO_FRAME_LINE, *line and *line_len (without the LF) are set and *pos
 * is moved past the LF; the caller then keeps buf[*pos..len) for later.
 * PROTO_FRAME_TOO_LONG also when no LF is among PROTO_LINE_MAX buffered
 * bytes. */
enum proto_frame proto_next_line(const char *buf, size_t len, size_t *pos, const char **line,
				 size_t *line_len);

#endif
