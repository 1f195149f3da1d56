/*
 * proto — see proto.h.  The parser accepts exactly the grammar of SPEC §3 and
 * nothing else: printable ASCII only, one space between fields, no leading or
 * trailing space, fixed-length lowercase hex, decimal times without sign or
 * leading zeros.  It never reads past len and never needs a NUL.
 */
#include "proto.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"

#define PROTO_VERSION "sac/1"
#define PROTO_FIELDS_MAX 4
/* Unix milliseconds: at most 15 digits (year 33658), so no int64 overflow. */
#define PROTO_MS_DIGITS_MAX 15

struct proto_field {
	const char *p;
	size_t len;
};

static bool proto_field_is(const struct proto_field *f, const char *word)
{
	size_t n = strlen(word);

	return f->len == n && memcmp(f->p, word, n) == 0;
}

/* A reader id has the form of sac.ident: [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
static bool proto_reader_id_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > PROTO_READER_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static bool proto_err_code_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 31)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* ERR text: printable ASCII, may contain single or repeated spaces but must
 * not start or end with one. */
static bool proto_err_text_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > PROTO_ERR_TEXT_MAX || s[0] == ' ' || s[len - 1] == ' ')
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static bool proto_ms_parse(const struct proto_field *f, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (f->len == 0 || f->len > PROTO_MS_DIGITS_MAX || (f->len > 1 && f->p[0] == '0'))
		return false;
	for (i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return false;
		v = v * 10 + (f->p[i] - '0');
	}
	*out = v;
	return true;
}

static void proto_copy(char *dst, const struct proto_field *f)
{
	memcpy(dst, f->p, f->len);
	dst[f->len] = '\0';
}

/* Splits at single spaces into at most max fields; the rest of the line after
 * the last split goes into the last field unsplit (only ERR text uses that).
 * Returns the field count, or -1 on an empty field (double, leading or
 * trailing space). */
static int proto_split(const char *line, size_t len, struct proto_field *fields, int max)
{
	size_t start = 0, i;
	int n = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && (line[i] != ' ' || n == max - 1))
			continue;
		if (i == start)
			return -1;
		fields[n].p = line + start;
		fields[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

#define PROTO_WRONG_COUNT "wrong number of fields"

/* The parsers of each verb: the fields after validation of the line;
 * each returns NULL, or why the message is refused. */
static const char *proto_parse_hello(const struct proto_field *f, int n, struct proto_msg *msg)
{
	msg->verb = PROTO_HELLO;
	if (n != 3)
		return PROTO_WRONG_COUNT;
	if (!proto_field_is(&f[1], PROTO_VERSION))
		return "unsupported protocol version";
	if (!proto_reader_id_valid(f[2].p, f[2].len))
		return "bad reader id";
	proto_copy(msg->reader_id, &f[2]);
	return NULL;
}

static const char *proto_parse_time_reply(const struct proto_field *f, int n, struct proto_msg *msg)
{
	bool welcome = f[0].len == strlen("WELCOME");

	msg->verb = welcome ? PROTO_WELCOME : PROTO_PONG;
	if (n != (welcome ? 3 : 2))
		return PROTO_WRONG_COUNT;
	if (welcome && !proto_field_is(&f[1], PROTO_VERSION))
		return "unsupported protocol version";
	if (!proto_ms_parse(&f[welcome ? 2 : 1], &msg->unix_ms))
		return "bad time";
	return NULL;
}

static const char *proto_parse_event(const struct proto_field *f, int n, struct proto_msg *msg)
{
	msg->verb = PROTO_EVENT;
	if (n != 4)
		return PROTO_WRONG_COUNT;
	if (f[1].len != PROTO_EVENT_ID_HEX || !hex_is_lower(f[1].p, f[1].len))
		return "bad event id";
	if (!proto_ms_parse(&f[2], &msg->unix_ms))
		return "bad time";
	if (f[3].len != PROTO_CREDENTIAL_HEX || !hex_is_lower(f[3].p, f[3].len))
		return "bad credential";
	proto_copy(msg->event_id, &f[1]);
	proto_copy(msg->credential, &f[3]);
	return NULL;
}

static const char *proto_parse_ack(const struct proto_field *f, int n, struct proto_msg *msg)
{
	msg->verb = PROTO_ACK;
	if (n != 3)
		return PROTO_WRONG_COUNT;
	if (f[1].len != PROTO_EVENT_ID_HEX || !hex_is_lower(f[1].p, f[1].len))
		return "bad event id";
	if (proto_field_is(&f[2], "GRANT"))
		msg->verdict = PROTO_GRANT;
	else if (proto_field_is(&f[2], "DENY"))
		msg->verdict = PROTO_DENY;
	else if (proto_field_is(&f[2], "EXPIRED"))
		msg->verdict = PROTO_EXPIRED;
	else
		return "bad verdict";
	proto_copy(msg->event_id, &f[1]);
	return NULL;
}

static const char *proto_parse_err(const struct proto_field *f, int n, struct proto_msg *msg)
{
	msg->verb = PROTO_ERR;
	if (n != 3)
		return PROTO_WRONG_COUNT;
	if (!proto_err_code_valid(f[1].p, f[1].len))
		return "bad error code";
	if (!proto_err_text_valid(f[2].p, f[2].len))
		return "bad error text";
	proto_copy(msg->err_code, &f[1]);
	proto_copy(msg->err_text, &f[2]);
	return NULL;
}

/* Checks the line as a whole and splits it into fields.  Returns the
 * number of fields, or -1 with *why set. */
static int proto_fields(const char *line, size_t len, struct proto_field *f, const char **why)
{
	size_t i;
	int n;

	if (len == 0) {
		*why = "empty line";
		return -1;
	}
	if (len > PROTO_LINE_MAX - 1) {
		*why = "line too long";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (line[i] < 0x20 || line[i] > 0x7e) {
			*why = "non-printable byte";
			return -1;
		}
	}
	/* ERR keeps spaces inside its text: split it into 3 fields at most. */
	if (len > 4 && memcmp(line, "ERR ", 4) == 0)
		n = proto_split(line, len, f, 3);
	else
		n = proto_split(line, len, f, PROTO_FIELDS_MAX);
	if (n < 0) {
		*why = "bad spacing";
		return -1;
	}
	/* A line with more fields than any verb takes shows up as a wrong count. */
	if (n == PROTO_FIELDS_MAX && memchr(f[3].p, ' ', f[3].len) != NULL) {
		*why = PROTO_WRONG_COUNT;
		return -1;
	}
	return n;
}

int proto_parse(const char *line, size_t len, struct proto_msg *msg, const char **why)
{
	struct proto_field f[PROTO_FIELDS_MAX];
	const char *refused;
	int n;

	memset(msg, 0, sizeof(*msg));
	n = proto_fields(line, len, f, why);
	if (n < 0)
		return -1;
	if (proto_field_is(&f[0], "HELLO")) {
		refused = proto_parse_hello(f, n, msg);
	} else if (proto_field_is(&f[0], "WELCOME") || proto_field_is(&f[0], "PONG")) {
		refused = proto_parse_time_reply(f, n, msg);
	} else if (proto_field_is(&f[0], "EVENT")) {
		refused = proto_parse_event(f, n, msg);
	} else if (proto_field_is(&f[0], "ACK")) {
		refused = proto_parse_ack(f, n, msg);
	} else if (proto_field_is(&f[0], "PING")) {
		msg->verb = PROTO_PING;
		refused = n != 1 ? PROTO_WRONG_COUNT : NULL;
	} else if (proto_field_is(&f[0], "ERR")) {
		refused = proto_parse_err(f, n, msg);
	} else {
		refused = "unknown verb";
	}
	if (refused != NULL) {
		*why = refused;
		return -1;
	}
	return 0;
}

const char *proto_verdict_name(enum proto_verdict verdict)
{
	switch (verdict) {
	case PROTO_GRANT:
		return "GRANT";
	case PROTO_DENY:
		return "DENY";
	case PROTO_EXPIRED:
		return "EXPIRED";
	}
	return "?";
}

static bool proto_ms_valid(int64_t ms)
{
	return ms >= 0 && ms <= 999999999999999LL;
}

static bool proto_hex_field_valid(const char *s, size_t want)
{
	return strnlen(s, want + 1) == want && hex_is_lower(s, want);
}

int proto_format(const struct proto_msg *msg, char *buf, size_t size)
{
	int n;

	switch (msg->verb) {
	case PROTO_HELLO:
		if (!proto_reader_id_valid(msg->reader_id,
					   strnlen(msg->reader_id, sizeof(msg->reader_id))))
			return -1;
		n = snprintf(buf, size, "HELLO " PROTO_VERSION " %s\n", msg->reader_id);
		break;
	case PROTO_WELCOME:
		if (!proto_ms_valid(msg->unix_ms))
			return -1;
		n = snprintf(buf, size, "WELCOME " PROTO_VERSION " %lld\n", (long long)msg->unix_ms);
		break;
	case PROTO_EVENT:
		if (!proto_hex_field_valid(msg->event_id, PROTO_EVENT_ID_HEX) ||
		    !proto_hex_field_valid(msg->credential, PROTO_CREDENTIAL_HEX) ||
		    !proto_ms_valid(msg->unix_ms))
			return -1;
		n = snprintf(buf, size, "EVENT %s %lld %s\n", msg->event_id, (long long)msg->unix_ms,
			     msg->credential);
		break;
	case PROTO_ACK:
		if (!proto_hex_field_valid(msg->event_id, PROTO_EVENT_ID_HEX) ||
		    (msg->verdict != PROTO_GRANT && msg->verdict != PROTO_DENY &&
		     msg->verdict != PROTO_EXPIRED))
			return -1;
		n = snprintf(buf, size, "ACK %s %s\n", msg->event_id, proto_verdict_name(msg->verdict));
		break;
	case PROTO_PING:
		n = snprintf(buf, size, "PING\n");
		break;
	case PROTO_PONG:
		if (!proto_ms_valid(msg->unix_ms))
			return -1;
		n = snprintf(buf, size, "PONG %lld\n", (long long)msg->unix_ms);
		break;
	case PROTO_ERR:
		if (!proto_err_code_valid(msg->err_code,
					  strnlen(msg->err_code, sizeof(msg->err_code))) ||
		    !proto_err_text_valid(msg->err_text, strnlen(msg->err_text, sizeof(msg->err_text))))
			return -1;
		n = snprintf(buf, size, "ERR %s %s\n", msg->err_code, msg->err_text);
		break;
	default:
		return -1;
	}
	if (n < 0 || (size_t)n >= size || n > PROTO_LINE_MAX)
		return -1;
	return n;
}

enum proto_frame proto_next_line(const char *buf, size_t len, size_t *pos, const char **line,
				 size_t *line_len)
{
	const char *start = buf + *pos;
	size_t left = len - *pos;
	const char *nl = memchr(start, '\n', left);

	if (nl == NULL)
		return left >= PROTO_LINE_MAX ? PROTO_FRAME_TOO_LONG : PROTO_FRAME_NONE;
	if ((size_t)(nl - start) + 1 > PROTO_LINE_MAX)
		return PROTO_FRAME_TOO_LONG;
	*line = start;
	*line_len = (size_t)(nl - start);
	*pos += *line_len + 1;
	return PROTO_FRAME_LINE;
}
