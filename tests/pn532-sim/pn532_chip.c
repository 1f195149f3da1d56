/*
 * pn532_chip — see pn532_chip.h.  Command codes and answer layouts follow
 * NXP UM0701-02 §7; the values libnfc checks are noted where they matter.
 */
#include "pn532_chip.h"

#include <string.h>

enum {
	CMD_DIAGNOSE = 0x00,
	CMD_GET_FIRMWARE_VERSION = 0x02,
	CMD_GET_GENERAL_STATUS = 0x04,
	CMD_READ_REGISTER = 0x06,
	CMD_WRITE_REGISTER = 0x08,
	CMD_SET_PARAMETERS = 0x12,
	CMD_SAM_CONFIGURATION = 0x14,
	CMD_POWER_DOWN = 0x16,
	CMD_RF_CONFIGURATION = 0x32,
	CMD_IN_DATA_EXCHANGE = 0x40,
	CMD_IN_COMMUNICATE_THRU = 0x42,
	CMD_IN_DESELECT = 0x44,
	CMD_IN_JUMP_FOR_PSL = 0x46,
	CMD_IN_LIST_PASSIVE_TARGET = 0x4A,
	CMD_IN_PSL = 0x4E,
	CMD_IN_ATR = 0x50,
	CMD_IN_RELEASE = 0x52,
	CMD_IN_JUMP_FOR_DEP = 0x56,
	CMD_IN_SELECT = 0x58,
	CMD_IN_AUTO_POLL = 0x60,
};

/* Status bytes (UM0701 §7.1): no error, and "time out" (no target answered). */
#define STATUS_OK 0x00
#define STATUS_TIMEOUT 0x01

/* ISO/IEC 14443-4 ATS sent when SAK says the card speaks it: TL, T0, TA, TB, TC. */
static const uint8_t pn532_ats[] = {0x05, 0x78, 0x80, 0x70, 0x02};

int pn532_card_default(struct pn532_card *card, const uint8_t *uid, size_t uid_len)
{
	memset(card, 0, sizeof(*card));
	switch (uid_len) {
	case 4:
		card->atqa[1] = 0x04;
		card->sak = 0x08;
		break;
	case 7:
		card->atqa[1] = 0x44;
		break;
	case 10:
		card->atqa[0] = 0x03;
		card->atqa[1] = 0x44;
		break;
	default:
		return -1;
	}
	memcpy(card->uid, uid, uid_len);
	card->uid_len = uid_len;
	return 0;
}

/* Writes the target data of the card (ATQA SAK len UID [ATS]) to out. */
static size_t pn532_target_data(const struct pn532_card *card, uint8_t *out)
{
	size_t n = 0;

	out[n++] = card->atqa[0];
	out[n++] = card->atqa[1];
	out[n++] = card->sak;
	out[n++] = (uint8_t)card->uid_len;
	memcpy(out + n, card->uid, card->uid_len);
	n += card->uid_len;
	if (card->sak & 0x20) {
		memcpy(out + n, pn532_ats, sizeof(pn532_ats));
		n += sizeof(pn532_ats);
	}
	return n;
}

static uint8_t pn532_register_read(const struct pn532_chip *chip, uint16_t addr)
{
	size_t i;

	for (i = 0; i < chip->reg_count; i++)
		if (chip->reg_addr[i] == addr)
			return chip->reg_value[i];
	return 0x00;
}

static void pn532_register_write(struct pn532_chip *chip, uint16_t addr, uint8_t value)
{
	size_t i;

	for (i = 0; i < chip->reg_count; i++)
		if (chip->reg_addr[i] == addr) {
			chip->reg_value[i] = value;
			return;
		}
	if (chip->reg_count < PN532_REGISTERS) {
		chip->reg_addr[chip->reg_count] = addr;
		chip->reg_value[chip->reg_count++] = value;
	}
}

/* InListPassiveTarget MaxTg BrTy [InitiatorData]: only 106 kbps type A
 * (BrTy 0) can find the card; initiator data, when given, is the UID the
 * host wants selected. */
static int pn532_list_passive(struct pn532_chip *chip, const uint8_t *p, size_t n, uint8_t *out)
{
	const struct pn532_card *card = &chip->card;
	size_t len = 1;

	chip->polls++;
	out[0] = CMD_IN_LIST_PASSIVE_TARGET + 1;
	if (n < 2 || p[0] < 1 || p[0] > 2)
		return -1;
	if (p[1] == 0x00 && chip->card_present &&
	    (n == 2 || (n - 2 == card->uid_len && memcmp(p + 2, card->uid, card->uid_len) == 0))) {
		chip->selected = true;
		out[len++] = 1;	   /* NbTg */
		out[len++] = 0x01; /* Tg */
		len += pn532_target_data(card, out + len);
	} else {
		chip->selected = false;
		out[len++] = 0; /* no target */
	}
	return (int)len;
}

/* InAutoPoll PollNr Period Type…: type 0x00/0x10/0x20 cover ISO 14443-A. */
static int pn532_auto_poll(struct pn532_chip *chip, const uint8_t *p, size_t n, uint8_t *out)
{
	size_t len = 1, i;
	bool wants_a = false;

	chip->polls++;
	out[0] = CMD_IN_AUTO_POLL + 1;
	if (n < 3)
		return -1;
	for (i = 2; i < n; i++)
		if (p[i] == 0x00 || p[i] == 0x10 || p[i] == 0x20)
			wants_a = true;
	if (!wants_a || !chip->card_present) {
		out[len++] = 0;
		return (int)len;
	}
	out[len++] = 1;
	out[len++] = (chip->card.sak & 0x20) ? 0x20 : 0x10;
	out[len] = 0; /* length of what follows, set below */
	len++;
	out[len++] = 0x01; /* Tg */
	i = pn532_target_data(&chip->card, out + len);
	out[len - 2] = (uint8_t)(i + 1);
	len += i;
	return (int)len;
}

int pn532_chip_answer(struct pn532_chip *chip, const uint8_t *cmd, size_t len, uint8_t *out,
		      size_t out_size)
{
	const uint8_t *p = cmd + 1;
	size_t n, i, r = 0;

	/* The longest answer: GetFirmwareVersion-sized headers plus a target
	 * with a 10-byte UID and ATS, or a Diagnose echo of the whole body. */
	if (len == 0 || out_size < len + 32)
		return -1;
	n = len - 1;
	chip->commands++;
	out[r++] = (uint8_t)(cmd[0] + 1);
	switch (cmd[0]) {
	case CMD_DIAGNOSE:
		/* Communication line test: echo the parameters (libnfc checks them). */
		memcpy(out + r, p, n);
		r += n;
		break;
	case CMD_GET_FIRMWARE_VERSION:
		/* IC 0x32 is what libnfc expects of a PN532; Ver 1.6, Support 07. */
		out[r++] = 0x32;
		out[r++] = 0x01;
		out[r++] = 0x06;
		out[r++] = 0x07;
		break;
	case CMD_GET_GENERAL_STATUS:
		out[r++] = STATUS_OK;
		out[r++] = chip->field_on ? 1 : 0;
		out[r++] = 0; /* NbTg */
		out[r++] = 0; /* SAM status */
		break;
	case CMD_READ_REGISTER:
		if (n % 2 != 0)
			return -1;
		for (i = 0; i < n; i += 2)
			out[r++] = pn532_register_read(chip, (uint16_t)(p[i] << 8 | p[i + 1]));
		break;
	case CMD_WRITE_REGISTER:
		if (n % 3 != 0)
			return -1;
		for (i = 0; i < n; i += 3)
			pn532_register_write(chip, (uint16_t)(p[i] << 8 | p[i + 1]), p[i + 2]);
		break;
	case CMD_SET_PARAMETERS:
	case CMD_SAM_CONFIGURATION:
		break;
	case CMD_POWER_DOWN:
		out[r++] = STATUS_OK;
		break;
	case CMD_RF_CONFIGURATION:
		/* Item 1 is the RF field: bit 0 of the value switches it. */
		if (n >= 2 && p[0] == 0x01) {
			chip->field_on = (p[1] & 0x01) != 0;
			if (!chip->field_on)
				chip->selected = false;
		}
		break;
	case CMD_IN_LIST_PASSIVE_TARGET:
		return pn532_list_passive(chip, p, n, out);
	case CMD_IN_AUTO_POLL:
		return pn532_auto_poll(chip, p, n, out);
	case CMD_IN_DATA_EXCHANGE:
		/* Tg, then the card's APDU (the chip does the ISO 14443-4 block
		 * framing and chaining itself). */
		if (chip->apdu != NULL && chip->card_present && chip->selected && n >= 2) {
			int a = chip->apdu(chip->apdu_ctx, p + 1, n - 1, out + r + 1, out_size - r - 1);

			if (a < 0) {
				out[r++] = STATUS_TIMEOUT;
				break;
			}
			out[r++] = STATUS_OK;
			r += (size_t)a;
			break;
		}
		/* fall through */
	case CMD_IN_COMMUNICATE_THRU:
		/* The selected card answers (with nothing); without one the
		 * exchange times out, which is how libnfc's presence check learns
		 * that the card left and its probes for other card types find
		 * nothing. */
		out[r++] = chip->card_present && chip->selected ? STATUS_OK : STATUS_TIMEOUT;
		break;
	case CMD_IN_DESELECT:
	case CMD_IN_RELEASE:
		chip->selected = false;
		out[r++] = STATUS_OK;
		break;
	case CMD_IN_SELECT:
	case CMD_IN_PSL:
		out[r++] = STATUS_OK;
		break;
	case CMD_IN_JUMP_FOR_DEP:
	case CMD_IN_JUMP_FOR_PSL:
	case CMD_IN_ATR:
		/* No DEP target in the field. */
		out[r++] = STATUS_TIMEOUT;
		break;
	default:
		return -1;
	}
	return (int)r;
}
