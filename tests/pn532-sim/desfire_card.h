/*
 * desfire_card — an emulated MIFARE DESFire EV2 card for pn532-sim: the
 * card level with an AES or DES master key, applications with AES keys,
 * standard data files, AuthenticateEV2First and EV2 secure messaging,
 * AuthenticateAES / AuthenticateISO and EV1 secure messaging, in the ISO
 * 7816-4 wrapping (90 CMD 00 00 Lc data 00 → data 91 status).  It does the
 * native commands sac uses and answers "illegal command" to the rest.
 *
 * A new card has no application and a master key of zeros at card level:
 * AES (what sac's first emulated cards had), or with des DES, as NXP ships
 * real cards.  With ev1_only it answers "illegal command" to
 * AuthenticateEV2First, as an EV1 card does — or as an EV2 card seems to
 * through a man in the middle who wants to force the EV1 protocol.  In a DES
 * session it only changes its own key (what issuing does with it).  It
 * shares the primitives of common/desfire (checked against NXP's examples
 * and real EV1 traces).
 */
#ifndef DESFIRE_CARD_H
#define DESFIRE_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desfire.h"

#define DESFIRE_CARD_APPS 4
#define DESFIRE_CARD_FILES 4
#define DESFIRE_CARD_KEYS 14
#define DESFIRE_CARD_FILE_MAX 64

struct desfire_card_file {
	bool used;
	uint8_t no, comm;
	uint8_t access[2];
	uint32_t size;
	uint8_t data[DESFIRE_CARD_FILE_MAX];
};

struct desfire_card_app {
	bool used;
	uint8_t aid[3];
	uint8_t key_settings;
	uint8_t nkeys;
	uint8_t keys[DESFIRE_CARD_KEYS][16];
	struct desfire_card_file files[DESFIRE_CARD_FILES];
};

struct desfire_card {
	uint8_t uid[10];
	size_t uid_len; /* 7 or 10 */
	bool random_id; /* shows a random 4-byte UID (08 xx xx xx) in anticollision */
	bool picc_des;	/* the card master key is a DES key (K1 = K2) */
	bool ev1_only;	/* answers 1C to AuthenticateEV2First */
	uint8_t picc_key[16];
	struct desfire_card_app apps[DESFIRE_CARD_APPS];

	/* the session (reset when the card leaves the field) */
	int app;	 /* -1: card level */
	uint8_t pending; /* the authentication awaiting its second part, or 0 */
	bool authenticated;
	enum desfire_session session;
	uint8_t key_no, rndb[16], key[16];
	uint8_t ses_enc[16], ses_mac[16], ti[4];
	uint16_t ctr;
	uint8_t iv[16]; /* EV1 */
};

/* A factory-fresh card with this UID (7 or 10 bytes).  Returns 0 or -1. */
int desfire_card_new(struct desfire_card *card, const uint8_t *uid, size_t uid_len, bool random_id)
	__attribute__((warn_unused_result));

/* The card enters the field: a new session (and anticollision UID). */
void desfire_card_reset(struct desfire_card *card);

/* Answers one APDU.  Returns the answer's length in out, or -1 when the
 * APDU is too long for out (the card stays silent). */
int desfire_card_apdu(struct desfire_card *card, const uint8_t *in, size_t len, uint8_t *out,
		      size_t out_size) __attribute__((warn_unused_result));

#endif
