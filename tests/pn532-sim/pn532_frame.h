/*
 * pn532_frame — the PN532 serial frame format (UM0701 §6.2), as the chip sees
 * it: finding host frames in a byte stream and building the chip's frames.
 * It knows nothing about what a command means (pn532_chip does that) and does
 * no I/O.
 *
 *   host -> chip: 00 00 FF LEN LCS D4 CMD data… DCS 00   (or the extended
 *                 00 00 FF FF FF LENm LENl LCS D4 … for longer bodies)
 *   chip -> host: 00 00 FF 00 FF 00 (ACK), then 00 00 FF LEN LCS D5 CMD+1 … DCS 00
 */
#ifndef PN532_FRAME_H
#define PN532_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Largest command body (CMD + parameters) accepted from the host; the
 * longest real command (InDataExchange with a 262-byte payload) fits. */
#define PN532_BODY_MAX 300
/* Room for the longest frame pn532_frame_build writes. */
#define PN532_FRAME_MAX (PN532_BODY_MAX + 12)

enum pn532_frame_kind {
	PN532_FRAME_SKIP,    /* bytes that are not a frame (wakeup, postamble, noise) */
	PN532_FRAME_COMMAND, /* a well-formed host frame: body holds CMD and parameters */
	PN532_FRAME_ACK,     /* the host's ACK: abort the pending command */
	PN532_FRAME_NACK,    /* the host asks for the last answer again */
	PN532_FRAME_BAD,     /* a start code followed by a broken length or checksum */
};

struct pn532_frame {
	enum pn532_frame_kind kind;
	uint8_t body[PN532_BODY_MAX]; /* after the TFI byte D4 */
	size_t body_len;
};

/* Looks at the start of buf[0..len).  Returns the number of bytes the caller
 * should drop from the front (>0) with *frame saying what they were, or 0 when
 * more bytes are needed to decide.  Never reads past len. */
size_t pn532_frame_parse(const uint8_t *buf, size_t len, struct pn532_frame *frame);

/* Writes the chip's frame carrying body (CMD+1 and data; TFI D5 is added)
 * into out.  Uses the extended form for bodies over 254 bytes.  Returns the
 * frame length, or -1 if body_len is 0 or too long or out is too small. */
int pn532_frame_build(const uint8_t *body, size_t body_len, uint8_t *out, size_t out_size)
	__attribute__((warn_unused_result));

/* The 6-byte ACK frame and the application-level error frame. */
extern const uint8_t pn532_frame_ack[6];
extern const uint8_t pn532_frame_error[8];

#endif
