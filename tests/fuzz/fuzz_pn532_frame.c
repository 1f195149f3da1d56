/*
 * fuzz_pn532_frame — pn532-sim's frame parser and chip on arbitrary host
 * bytes: every input is consumed to the end without a crash or overread,
 * every command gets an answer that frames correctly, and no answer ever
 * carries a status byte with bit 0x80 (libnfc aborts on those).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/pn532-sim/pn532_chip.h"
#include "tests/pn532-sim/pn532_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t uid[4] = {0x04, 0xa1, 0xb2, 0xc3};
	struct pn532_chip chip;
	struct pn532_frame frame, echo;
	uint8_t answer[PN532_BODY_MAX + 64], out[PN532_FRAME_MAX + 64];
	size_t pos = 0, used;

	memset(&chip, 0, sizeof(chip));
	chip.card_present = size > 0 && (data[0] & 1);
	if (pn532_card_default(&chip.card, uid, sizeof(uid)) != 0)
		abort();
	while (pos < size && (used = pn532_frame_parse(data + pos, size - pos, &frame)) > 0) {
		if (used > size - pos)
			abort();
		pos += used;
		if (frame.kind == PN532_FRAME_COMMAND) {
			int n = pn532_chip_answer(&chip, frame.body, frame.body_len, answer,
						  sizeof(answer));
			int len;

			if (n < 0)
				continue;
			if (n < 1 || answer[0] != (uint8_t)(frame.body[0] + 1))
				abort();
			/* Commands whose second byte is a status must not set 0x80. */
			if ((frame.body[0] == 0x40 || frame.body[0] == 0x42 || frame.body[0] == 0x44 ||
			     frame.body[0] == 0x52 || frame.body[0] == 0x16) &&
			    (n < 2 || (answer[1] & 0x80)))
				abort();
			len = pn532_frame_build(answer, (size_t)n, out, sizeof(out));
			if (len < 9)
				abort();
			/* The chip's frame must parse back as a frame once its TFI D5
			 * is made the host's D4 (and the data checksum one larger);
			 * out[0] is the preamble, which the parser skips. */
			out[len - 2] = (uint8_t)(out[len - 2] + 1);
			out[(size_t)len > (size_t)n + 9 ? 8 : 5] = 0xD4;
			if (pn532_frame_parse(out + 1, (size_t)len - 1, &echo) == 0 ||
			    echo.kind != PN532_FRAME_COMMAND || echo.body_len != (size_t)n ||
			    memcmp(echo.body, answer, (size_t)n) != 0)
				abort();
		}
	}
	return 0;
}
