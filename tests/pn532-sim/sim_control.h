/*
 * sim_control — the control language of pn532-sim: one command per line,
 * parsed strictly with length limits.  It only parses; main.c acts.
 *
 *   present <uid-hex> [<atqa-hex4> <sak-hex2>]   a card enters the field
 *   remove                                        the card leaves
 *   mute | unmute                                 stop / resume answering
 *   error                                         answer the next command with the error frame
 *   garbage                                       answer the next command with a corrupt frame
 *   status                                        "ok card=… muted=… commands=N polls=N"
 *   wait-polls <n>                                reply once n more polls were answered
 *   desfire <name> <uid-hex> [random] [ev1] [des] a new factory-fresh DESFire EV2 card
 *                                                 (7 or 10-byte UID; random: shows a random
 *                                                 4-byte UID in anticollision; ev1: an EV1
 *                                                 card, answering 1C to AuthenticateEV2First;
 *                                                 des: its card master key is DES zeros, as
 *                                                 NXP ships cards, instead of AES zeros)
 *   downgrade <name>                              that card answers 1C to AuthenticateEV2First
 *                                                 from now on (a man in the middle forcing EV1)
 *   present-card <name>                           that DESFire card enters the field
 *   secret <name>                                 "ok <hex>": the first file of the card's
 *                                                 first application (for privacy tests)
 *   cut-after <n>                                 the card leaves the field after answering
 *                                                 n more exchanges (0: at the next one)
 *   quit                                          exit
 */
#ifndef SIM_CONTROL_H
#define SIM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pn532_chip.h"

#define SIM_CONTROL_LINE_MAX 128

enum sim_control_verb {
	SIM_PRESENT,
	SIM_REMOVE,
	SIM_MUTE,
	SIM_UNMUTE,
	SIM_ERROR,
	SIM_GARBAGE,
	SIM_STATUS,
	SIM_WAIT_POLLS,
	SIM_QUIT,
	SIM_DESFIRE,
	SIM_PRESENT_CARD,
	SIM_CUT_AFTER,
	SIM_SECRET,
	SIM_DOWNGRADE,
};

#define SIM_CARD_NAME_MAX 16

struct sim_control_cmd {
	enum sim_control_verb verb;
	struct pn532_card card;		  /* SIM_PRESENT */
	uint32_t count;			  /* SIM_WAIT_POLLS, SIM_CUT_AFTER */
	char name[SIM_CARD_NAME_MAX + 1]; /* SIM_DESFIRE, SIM_PRESENT_CARD, SIM_DOWNGRADE */
	uint8_t uid[PN532_UID_MAX];	  /* SIM_DESFIRE */
	size_t uid_len;
	bool random_id, ev1, des;
};

/* Parses one line of len bytes (without its LF; a trailing CR is allowed).
 * Returns 0, or -1 with *why set to a static reason. */
int sim_control_parse(const char *line, size_t len, struct sim_control_cmd *cmd, const char **why)
	__attribute__((warn_unused_result));

#endif
