/*
 * Unit tests for common/proto: every verb of sac/1 parsed and formatted, and
 * each class of malformed line refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proto.h"

#define EID "0123456789abcdef0123456789abcdef"
#define CRED "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static int parse(const char *line, struct proto_msg *msg, const char **why)
{
	return proto_parse(line, strlen(line), msg, why);
}

static void assert_refused(const char *line, const char *want_why)
{
	struct proto_msg msg;
	const char *why = NULL;

	if (parse(line, &msg, &why) != -1)
		fail_msg("accepted: \"%s\"", line);
	assert_non_null(why);
	if (want_why != NULL)
		assert_string_equal(why, want_why);
}

static void test_parse_valid(void **state)
{
	struct proto_msg m;
	const char *why = NULL;

	(void)state;
	assert_int_equal(parse("HELLO sac/1 hq-gate-1.in_2", &m, &why), 0);
	assert_int_equal(m.verb, PROTO_HELLO);
	assert_string_equal(m.reader_id, "hq-gate-1.in_2");

	assert_int_equal(parse("EVENT " EID " 1795000000123 " CRED, &m, &why), 0);
	assert_int_equal(m.verb, PROTO_EVENT);
	assert_string_equal(m.event_id, EID);
	assert_string_equal(m.credential, CRED);
	assert_int_equal(m.unix_ms, 1795000000123LL);

	assert_int_equal(parse("EVENT " EID " 0 " CRED, &m, &why), 0);
	assert_int_equal(m.unix_ms, 0);

	assert_int_equal(parse("PING", &m, &why), 0);
	assert_int_equal(m.verb, PROTO_PING);

	assert_int_equal(parse("PONG 42", &m, &why), 0);
	assert_int_equal(m.verb, PROTO_PONG);
	assert_int_equal(m.unix_ms, 42);

	assert_int_equal(parse("WELCOME sac/1 1795000000000", &m, &why), 0);
	assert_int_equal(m.verb, PROTO_WELCOME);
	assert_int_equal(m.unix_ms, 1795000000000LL);

	assert_int_equal(parse("ACK " EID " EXPIRED", &m, &why), 0);
	assert_int_equal(m.verb, PROTO_ACK);
	assert_int_equal(m.verdict, PROTO_EXPIRED);
	assert_int_equal(parse("ACK " EID " GRANT", &m, &why), 0);
	assert_int_equal(m.verdict, PROTO_GRANT);
	assert_int_equal(parse("ACK " EID " DENY", &m, &why), 0);
	assert_int_equal(m.verdict, PROTO_DENY);

	assert_int_equal(parse("ERR protocol bad event id: too short", &m, &why), 0);
	assert_int_equal(m.verb, PROTO_ERR);
	assert_string_equal(m.err_code, "protocol");
	assert_string_equal(m.err_text, "bad event id: too short");
}

static void test_parse_refuses(void **state)
{
	char longline[300];
	char nul_line[] = "EVENT " EID " 1 " CRED;

	(void)state;
	assert_refused("", "empty line");
	assert_refused("HELLO", "wrong number of fields");
	assert_refused("HELLO sac/2 r1", "unsupported protocol version");
	assert_refused("HELLO sac/1 -r1", "bad reader id");
	assert_refused("HELLO sac/1 r1 extra", "wrong number of fields");
	assert_refused("HELLO  sac/1 r1", "bad spacing");
	assert_refused(" PING", "bad spacing");
	assert_refused("PING ", "bad spacing");
	assert_refused("PING\r", "non-printable byte");
	assert_refused("ping", "unknown verb");
	assert_refused("BYE", "unknown verb");
	assert_refused("EVENT " EID " 1 " CRED " x", "wrong number of fields");
	assert_refused("EVENT " EID " 1 " CRED " ", "wrong number of fields");
	assert_refused("EVENT 0123456789ABCDEF0123456789abcdef 1 " CRED, "bad event id");
	assert_refused("EVENT 0123456789abcdef0123456789abcde 1 " CRED, "bad event id");
	assert_refused("EVENT 0123456789abcdef0123456789abcdeg 1 " CRED, "bad event id");
	assert_refused("EVENT " EID " 01 " CRED, "bad time");
	assert_refused("EVENT " EID " -1 " CRED, "bad time");
	assert_refused("EVENT " EID " 1234567890123456 " CRED, "bad time");
	assert_refused("EVENT " EID " 1 " CRED "0", "bad credential");
	assert_refused("EVENT " EID
		       " 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
		       "bad credential");
	assert_refused("ACK " EID " MAYBE", "bad verdict");
	assert_refused("ERR x", "wrong number of fields");
	assert_refused("ERR BAD text", "bad error code");

	memset(longline, 'A', sizeof(longline));
	{
		struct proto_msg m;
		const char *why = NULL;

		assert_int_equal(proto_parse(longline, 256, &m, &why), -1);
		assert_string_equal(why, "line too long");
	}
	/* A NUL inside the line must not end it early. */
	nul_line[10] = '\0';
	{
		struct proto_msg m;
		const char *why = NULL;

		assert_int_equal(proto_parse(nul_line, sizeof(nul_line) - 1, &m, &why), -1);
		assert_string_equal(why, "non-printable byte");
	}
	assert_refused("EVENT " EID " 1 " CRED "\x80", "non-printable byte");
}

static void test_format_roundtrip(void **state)
{
	struct proto_msg m, back;
	const char *why = NULL;
	char buf[PROTO_LINE_MAX + 1];
	int n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.verb = PROTO_EVENT;
	strcpy(m.event_id, EID);
	strcpy(m.credential, CRED);
	m.unix_ms = 1795000000123LL;
	n = proto_format(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(proto_parse(buf, (size_t)n - 1, &back, &why), 0);
	assert_string_equal(back.event_id, EID);
	assert_string_equal(back.credential, CRED);
	assert_int_equal(back.unix_ms, m.unix_ms);

	m.verb = PROTO_ACK;
	m.verdict = PROTO_DENY;
	n = proto_format(&m, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen("ACK " EID " DENY\n"));
	assert_string_equal(buf, "ACK " EID " DENY\n");

	m.verb = PROTO_WELCOME;
	m.unix_ms = 7;
	assert_true(proto_format(&m, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "WELCOME sac/1 7\n");

	m.verb = PROTO_PONG;
	assert_true(proto_format(&m, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "PONG 7\n");

	m.verb = PROTO_PING;
	assert_true(proto_format(&m, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "PING\n");

	m.verb = PROTO_HELLO;
	strcpy(m.reader_id, "gate-1");
	assert_true(proto_format(&m, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "HELLO sac/1 gate-1\n");

	m.verb = PROTO_ERR;
	strcpy(m.err_code, "unknown-reader");
	strcpy(m.err_text, "reader is not enrolled");
	assert_true(proto_format(&m, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "ERR unknown-reader reader is not enrolled\n");
}

static void test_format_refuses(void **state)
{
	struct proto_msg m;
	char buf[PROTO_LINE_MAX + 1];

	(void)state;
	memset(&m, 0, sizeof(m));
	m.verb = PROTO_EVENT;
	strcpy(m.event_id, "XYZ");
	strcpy(m.credential, CRED);
	assert_int_equal(proto_format(&m, buf, sizeof(buf)), -1);
	strcpy(m.event_id, EID);
	m.unix_ms = -5;
	assert_int_equal(proto_format(&m, buf, sizeof(buf)), -1);
	m.unix_ms = 5;
	assert_int_equal(proto_format(&m, buf, 20), -1);
	m.verb = PROTO_HELLO;
	strcpy(m.reader_id, "bad id");
	assert_int_equal(proto_format(&m, buf, sizeof(buf)), -1);
	m.verb = PROTO_ERR;
	strcpy(m.err_code, "x");
	strcpy(m.err_text, "tab\there");
	assert_int_equal(proto_format(&m, buf, sizeof(buf)), -1);
	assert_string_equal(proto_verdict_name(PROTO_GRANT), "GRANT");
}

/* The framer: lines in order, a partial line kept, overlong lines refused
 * with or without their LF. */
static void test_next_line(void **state)
{
	char buf[3 * PROTO_LINE_MAX];
	const char *line;
	size_t pos = 0, len;

	(void)state;
	memcpy(buf, "PING\nPONG 1\nPAR", 16);
	assert_int_equal(proto_next_line(buf, 16, &pos, &line, &len), PROTO_FRAME_LINE);
	assert_int_equal(len, 4);
	assert_memory_equal(line, "PING", 4);
	assert_int_equal(proto_next_line(buf, 16, &pos, &line, &len), PROTO_FRAME_LINE);
	assert_memory_equal(line, "PONG 1", 6);
	assert_int_equal(pos, 12);
	assert_int_equal(proto_next_line(buf, 16, &pos, &line, &len), PROTO_FRAME_NONE);
	assert_int_equal(pos, 12);

	memset(buf, 'x', sizeof(buf));
	pos = 0;
	buf[PROTO_LINE_MAX - 1] = '\n'; /* exactly PROTO_LINE_MAX with its LF */
	assert_int_equal(proto_next_line(buf, PROTO_LINE_MAX, &pos, &line, &len), PROTO_FRAME_LINE);
	buf[PROTO_LINE_MAX - 1] = 'x';
	buf[PROTO_LINE_MAX] = '\n'; /* one more */
	pos = 0;
	assert_int_equal(proto_next_line(buf, PROTO_LINE_MAX + 1, &pos, &line, &len),
			 PROTO_FRAME_TOO_LONG);
	pos = 0; /* no LF yet, but already too long */
	assert_int_equal(proto_next_line(buf, PROTO_LINE_MAX, &pos, &line, &len), PROTO_FRAME_TOO_LONG);
	assert_int_equal(proto_next_line(buf, PROTO_LINE_MAX - 1, &pos, &line, &len), PROTO_FRAME_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),	 cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_format_roundtrip), cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_next_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
