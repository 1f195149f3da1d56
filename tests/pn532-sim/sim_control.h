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
 *   quit                                          exit
 */
#ifndef SIM_CONTROL_H
#define SIM_CONTROL_H

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
};

struct sim_control_cmd {
	enum sim_control_verb verb;
	struct pn532_card card; /* SIM_PRESENT */
	uint32_t count;		/* SIM_WAIT_POLLS */
};

/* Parses one line of len bytes (without its LF; a trailing CR is allowed).
 * Returns 0, or -1 with *why set to a static reason. */
int sim_control_parse(const char *line, size_t len, struct sim_control_cmd *cmd, const char **why)
	__attribute__((warn_unused_result));

#endif
