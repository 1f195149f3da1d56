/*
 * pn532_frame — see pn532_frame.h.
 */
#include "pn532_frame.h"

#include <string.h>

#define PN532_TFI_HOST 0xD4
#define PN532_TFI_CHIP 0xD5

const uint8_t pn532_frame_ack[6] = {0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00};
const uint8_t pn532_frame_error[8] = {0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00};

/* Index of the first 00 FF start code in buf, or len when there is none. */
static size_t pn532_find_start(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (buf[i] == 0x00 && buf[i + 1] == 0xFF)
			return i;
	return len;
}

size_t pn532_frame_parse(const uint8_t *buf, size_t len, struct pn532_frame *frame)
{
	size_t start, header, body_len, i, need;
	uint8_t sum;

	frame->kind = PN532_FRAME_SKIP;
	frame->body_len = 0;
	if (len == 0)
		return 0;
	start = pn532_find_start(buf, len);
	if (start == len) {
		/* Keep a trailing 00: it may be the first half of a start code. */
		return buf[len - 1] == 0x00 ? len - 1 : len;
	}
	if (start > 0)
		return start;
	/* buf[0..1] is 00 FF. */
	if (len < 4)
		return 0;
	if (buf[2] == 0x00 && buf[3] == 0xFF) {
		frame->kind = PN532_FRAME_ACK;
		return 4;
	}
	if (buf[2] == 0xFF && buf[3] == 0x00) {
		frame->kind = PN532_FRAME_NACK;
		return 4;
	}
	if (buf[2] == 0xFF && buf[3] == 0xFF) {
		if (len < 7)
			return 0;
		if ((uint8_t)(buf[4] + buf[5] + buf[6]) != 0) {
			frame->kind = PN532_FRAME_BAD;
			return 2;
		}
		body_len = ((size_t)buf[4] << 8) | buf[5];
		header = 7;
	} else {
		if ((uint8_t)(buf[2] + buf[3]) != 0) {
			frame->kind = PN532_FRAME_BAD;
			return 2;
		}
		body_len = buf[2];
		header = 4;
	}
	/* body_len counts TFI and CMD at least; the body we keep excludes TFI. */
	if (body_len < 2 || body_len - 1 > PN532_BODY_MAX) {
		frame->kind = PN532_FRAME_BAD;
		return 2;
	}
	need = header + body_len + 1; /* + DCS */
	if (len < need)
		return 0;
	sum = 0;
	for (i = header; i < need; i++)
		sum = (uint8_t)(sum + buf[i]);
	if (sum != 0 || buf[header] != PN532_TFI_HOST) {
		frame->kind = PN532_FRAME_BAD;
		return 2;
	}
	frame->kind = PN532_FRAME_COMMAND;
	frame->body_len = body_len - 1;
	memcpy(frame->body, buf + header + 1, frame->body_len);
	return need;
}

int pn532_frame_build(const uint8_t *body, size_t body_len, uint8_t *out, size_t out_size)
{
	size_t len = body_len + 1; /* + TFI */
	size_t pos = 0, i;
	uint8_t sum = PN532_TFI_CHIP;

	if (body_len == 0 || body_len > PN532_BODY_MAX)
		return -1;
	if (out_size < len + (len > 255 ? 10 : 7))
		return -1;
	out[pos++] = 0x00;
	out[pos++] = 0x00;
	out[pos++] = 0xFF;
	if (len > 255) {
		out[pos++] = 0xFF;
		out[pos++] = 0xFF;
		out[pos++] = (uint8_t)(len >> 8);
		out[pos++] = (uint8_t)(len & 0xFF);
		out[pos++] = (uint8_t)(0x100 - (((len >> 8) + (len & 0xFF)) & 0xFF));
	} else {
		out[pos++] = (uint8_t)len;
		out[pos++] = (uint8_t)(0x100 - len);
	}
	out[pos++] = PN532_TFI_CHIP;
	for (i = 0; i < body_len; i++) {
		out[pos++] = body[i];
		sum = (uint8_t)(sum + body[i]);
	}
	out[pos++] = (uint8_t)(0x100 - sum);
	out[pos++] = 0x00;
	return (int)pos;
}
