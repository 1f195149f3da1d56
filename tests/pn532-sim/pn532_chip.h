/*
 * pn532_chip — what an emulated PN532 answers to each command, with at most
 * one ISO 14443-A card in its field.  Enough of the chip for libnfc 1.8's
 * pn532_uart driver (nfc_open, nfc-list, select, poll, presence checks,
 * close); other modulations always find no target.  It does no I/O and knows
 * nothing of frames (pn532_frame) or of the control channel.
 *
 * Never answers with a status byte that has bit 0x80 set: libnfc aborts on it.
 */
#ifndef PN532_CHIP_H
#define PN532_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PN532_UID_MAX 10
#define PN532_REGISTERS 32

struct pn532_card {
	uint8_t uid[PN532_UID_MAX];
	size_t uid_len; /* 4, 7 or 10 */
	uint8_t atqa[2];
	uint8_t sak;
};

struct pn532_chip {
	bool card_present;
	struct pn532_card card;
	bool field_on;
	bool selected;			    /* the card was activated by the last InListPassiveTarget */
	uint64_t commands;		    /* every command answered */
	uint64_t polls;			    /* InListPassiveTarget and InAutoPoll answered */
	uint16_t reg_addr[PN532_REGISTERS]; /* registers written, for ReadRegister */
	uint8_t reg_value[PN532_REGISTERS];
	size_t reg_count;
};

/* Fills card with uid and the usual ATQA/SAK for its length (4: 00 04/08,
 * 7: 00 44/00, 10: 03 44/00).  Returns 0, or -1 for another length. */
int pn532_card_default(struct pn532_card *card, const uint8_t *uid, size_t uid_len)
	__attribute__((warn_unused_result));

/* The answer to one command body (CMD and parameters, after TFI D4) into
 * out (CMD+1 and data, without TFI).  Returns its length, or -1 when the
 * chip would answer with the application error frame (unknown or malformed
 * command). */
int pn532_chip_answer(struct pn532_chip *chip, const uint8_t *cmd, size_t len, uint8_t *out,
		      size_t out_size) __attribute__((warn_unused_result));

#endif
