/*
 * desfire — the MIFARE DESFire native commands sac uses, wrapped in ISO
 * 7816-4 APDUs (CLA 0x90), in two secure-messaging families:
 *
 *   EV2  AuthenticateEV2First (71): command counter, transaction identifier,
 *        truncated CMAC, AES-CBC with per-command IVs, ISO 9797-1 padding
 *        method 2 (DESFire EV2/EV3);
 *   EV1  AuthenticateAES (AA), and AuthenticateISO (1A) for the DES keys of
 *        factory-fresh cards: one running IV over the session, CMAC of every
 *        command and answer chained through it, full mode as CBC over
 *        data || CRC32 || zero padding (DESFire EV1, and later cards too).
 *
 * desfire_authenticate picks the family per card: EV2 first; a card that
 * answers "illegal command" (1C) to AuthenticateEV2First is an EV1 card and
 * gets AuthenticateAES instead (and from then on in this presentation).  An
 * authentication *error* (AE) is never a reason to try the other family: it
 * is a refused card.  Both families prove the same AES-128 key.
 *
 * The card is reached through a transceive function, so the same code runs
 * against libnfc (sac-reader, sacctl badge issue) and in tests.  Every
 * answer is parsed with explicit limits: a length, status or MAC that is not
 * exactly what the protocol allows is refused, never trusted.  The pure
 * functions (session keys, IVs, MACs, encryption) are public so that known
 * answers from NXP's notes can be checked and the emulated card can share
 * them.
 *
 * d->why names the last failure for logs; it never holds card data.
 */
#ifndef SAC_DESFIRE_H
#define SAC_DESFIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DESFIRE_KEY_LEN 16
#define DESFIRE_AID_LEN 3
#define DESFIRE_TI_LEN 4
#define DESFIRE_MACT_LEN 8
#define DESFIRE_UID_MAX 10
#define DESFIRE_DATA_MAX 64    /* plain data of one command or answer */
#define DESFIRE_APDU_MAX 128   /* a command APDU as sent */
#define DESFIRE_ANSWER_MAX 128 /* the longest answer accepted */

/* Card status codes (the byte after 0x91). */
enum {
	DESFIRE_ST_OK = 0x00,
	DESFIRE_ST_NO_CHANGES = 0x0C,
	DESFIRE_ST_OUT_OF_MEMORY = 0x0E,
	DESFIRE_ST_ILLEGAL_COMMAND = 0x1C,
	DESFIRE_ST_INTEGRITY_ERROR = 0x1E,
	DESFIRE_ST_NO_SUCH_KEY = 0x40,
	DESFIRE_ST_LENGTH_ERROR = 0x7E,
	DESFIRE_ST_PERMISSION_DENIED = 0x9D,
	DESFIRE_ST_PARAMETER_ERROR = 0x9E,
	DESFIRE_ST_APPLICATION_NOT_FOUND = 0xA0,
	DESFIRE_ST_AUTHENTICATION_ERROR = 0xAE,
	DESFIRE_ST_ADDITIONAL_FRAME = 0xAF,
	DESFIRE_ST_BOUNDARY_ERROR = 0xBE,
	DESFIRE_ST_COMMAND_ABORTED = 0xCA,
	DESFIRE_ST_DUPLICATE_ERROR = 0xDE,
	DESFIRE_ST_FILE_NOT_FOUND = 0xF0,
};

/* Native command codes. */
enum {
	DESFIRE_CMD_AUTH_EV2_FIRST = 0x71,
	DESFIRE_CMD_AUTH_AES = 0xAA, /* EV1 */
	DESFIRE_CMD_AUTH_ISO = 0x1A, /* EV1, DES/3DES keys */
	DESFIRE_CMD_GET_KEY_SETTINGS = 0x45,
	DESFIRE_CMD_ADDITIONAL_FRAME = 0xAF,
	DESFIRE_CMD_SELECT_APPLICATION = 0x5A,
	DESFIRE_CMD_GET_CARD_UID = 0x51,
	DESFIRE_CMD_CREATE_APPLICATION = 0xCA,
	DESFIRE_CMD_DELETE_APPLICATION = 0xDA,
	DESFIRE_CMD_CREATE_STD_DATA_FILE = 0xCD,
	DESFIRE_CMD_CHANGE_KEY = 0xC4,
	DESFIRE_CMD_READ_DATA = 0xAD,
	DESFIRE_CMD_WRITE_DATA = 0x3D,
};

enum desfire_comm {
	DESFIRE_COMM_PLAIN,
	DESFIRE_COMM_MAC,  /* data in clear, truncated CMAC appended */
	DESFIRE_COMM_FULL, /* data encrypted, truncated CMAC appended */
};

enum desfire_result {
	DESFIRE_OK = 0,
	DESFIRE_GONE = -1,	/* no answer: the card left the field or the link failed */
	DESFIRE_MALFORMED = -2, /* an answer whose framing or length breaks the protocol */
	DESFIRE_REFUSED = -3,	/* the card answered with an error status (d->status) */
	DESFIRE_INTEGRITY = -4, /* a MAC, the returned challenge or the padding is wrong */
	DESFIRE_INTERNAL = -5,	/* bad arguments, or the crypto library failed */
};

/* The session's secure messaging. */
enum desfire_session {
	DESFIRE_SESSION_NONE,
	DESFIRE_SESSION_EV2,	 /* AuthenticateEV2First, AES */
	DESFIRE_SESSION_EV1_AES, /* AuthenticateAES */
	DESFIRE_SESSION_EV1_DES, /* AuthenticateISO with a DES / 2-key 3DES key */
};

/* The cipher of an EV1 authentication key. */
enum desfire_cipher {
	DESFIRE_CIPHER_AES,    /* AES-128, 16-byte blocks and randoms */
	DESFIRE_CIPHER_2K3DES, /* 2-key 3DES (K1 = K2: single DES), 8-byte blocks */
};

/* Sends tx (an APDU) and receives the card's answer into rx.  Returns 0 with
 * *rx_len set, or -1 when no answer came. */
typedef int (*desfire_xfer_fn)(void *io, const uint8_t *tx, size_t tx_len, uint8_t *rx, size_t rx_size,
			       size_t *rx_len);

struct desfire {
	desfire_xfer_fn xfer;
	void *io;
	bool authenticated;
	enum desfire_session session;
	/* The card answered 1C to AuthenticateEV2First: EV1 from then on.  Kept
	 * by desfire_clear (it is the card's family, not a session). */
	bool card_ev1;
	uint8_t key_no;
	uint8_t ses_enc[DESFIRE_KEY_LEN]; /* EV2 KSesAuthENC; EV1: the one session key */
	uint8_t ses_mac[DESFIRE_KEY_LEN]; /* EV2 KSesAuthMAC */
	uint8_t ti[DESFIRE_TI_LEN];
	uint16_t cmd_ctr;
	uint8_t iv[16]; /* EV1: the running IV */
	uint8_t status; /* the card's status byte in the last answer */
	char why[128];
};

/* Starts a session over xfer/io (not authenticated). */
void desfire_init(struct desfire *d, desfire_xfer_fn xfer, void *io);
/* Wipes the session keys (the card's family stays known).  Accepts a
 * zeroed d. */
void desfire_clear(struct desfire *d);

/* --- card operations (each returns a desfire_result) ---------------------- */

/* SelectApplication (plain); AID in wire order (least significant byte
 * first); 00 00 00 is the card level.  Ends any authentication. */
int desfire_select(struct desfire *d, const uint8_t aid[DESFIRE_AID_LEN])
	__attribute__((warn_unused_result));
/* Authenticates with AES key key_no of the selected application: EV2First
 * with key, or AuthenticateAES with key_ev1 for a card that answered 1C to
 * it (see above).  Two keys, so that a caller can bind the family into its
 * keys: an EV2 card's key then never works over EV1, whoever makes the card
 * look like an EV1 card.  Pass the same key twice for a default key. */
int desfire_authenticate(struct desfire *d, uint8_t key_no, const uint8_t key[DESFIRE_KEY_LEN],
			 const uint8_t key_ev1[DESFIRE_KEY_LEN]) __attribute__((warn_unused_result));
/* AuthenticateEV2First only. */
int desfire_authenticate_ev2(struct desfire *d, uint8_t key_no, const uint8_t key[DESFIRE_KEY_LEN])
	__attribute__((warn_unused_result));
/* EV1: AuthenticateAES (AES key) or AuthenticateISO (2K3DES key: 16 bytes,
 * K1 = K2 for a single DES key).  In a DES session only ChangeKey of the
 * session's own key is supported (the factory-key step of issuing). */
int desfire_authenticate_ev1(struct desfire *d, uint8_t key_no, const uint8_t key[DESFIRE_KEY_LEN],
			     enum desfire_cipher cipher) __attribute__((warn_unused_result));
/* GetKeySettings of the selected level: KeySett1 and the key count byte
 * (at card level bits 7..6 are the master key's type: 00 DES/2K3DES, 01
 * 3K3DES, 10 AES).  Works unauthenticated unless the settings forbid it. */
int desfire_get_key_settings(struct desfire *d, uint8_t *settings, uint8_t *nkeys)
	__attribute__((warn_unused_result));
/* GetCardUID (full encryption; needs authentication): the real UID, also
 * of a card that shows a random one during anticollision. */
int desfire_get_card_uid(struct desfire *d, uint8_t uid[DESFIRE_UID_MAX], size_t *uid_len)
	__attribute__((warn_unused_result));
/* ReadData of len bytes (1..DESFIRE_DATA_MAX-1) from a standard file in
 * full mode; exactly len bytes must come back. */
int desfire_read_full(struct desfire *d, uint8_t file, uint32_t offset, uint8_t *out, size_t len)
	__attribute__((warn_unused_result));
/* WriteData to a standard file in full mode. */
int desfire_write_full(struct desfire *d, uint8_t file, uint32_t offset, const uint8_t *data,
		       size_t len) __attribute__((warn_unused_result));
/* CreateApplication with AES keys: key_settings is KeySett1, nkeys 1..14. */
int desfire_create_application(struct desfire *d, const uint8_t aid[DESFIRE_AID_LEN],
			       uint8_t key_settings, uint8_t nkeys) __attribute__((warn_unused_result));
int desfire_delete_application(struct desfire *d, const uint8_t aid[DESFIRE_AID_LEN])
	__attribute__((warn_unused_result));
/* CreateStdDataFile: comm 0 plain, 1 MAC, 3 full; access rights as on the
 * wire (2 bytes, little-endian: RW|Change, Read|Write nibbles). */
int desfire_create_std_file(struct desfire *d, uint8_t file, uint8_t comm, const uint8_t access[2],
			    uint32_t size) __attribute__((warn_unused_result));
/* ChangeKey key_byte (the key number; at card level with 0x80 for AES).
 * Changing the key of the session (same number) ends the session; old_key
 * is used (and needed) only for another key. */
int desfire_change_key(struct desfire *d, uint8_t key_byte, const uint8_t new_key[DESFIRE_KEY_LEN],
		       const uint8_t *old_key, uint8_t version) __attribute__((warn_unused_result));

/* --- the pieces, public for known-answer tests and the emulated card ------ */

/* The answer's status (last two bytes 0x91 SW2) and data length.  Returns 0,
 * or -1 when it is shorter than 2 bytes, longer than DESFIRE_ANSWER_MAX or
 * does not end in 0x91 xx. */
int desfire_answer_parse(const uint8_t *rx, size_t rx_len, uint8_t *status, size_t *data_len)
	__attribute__((warn_unused_result));
/* Builds 90 cmd 00 00 [Lc body] 00.  Returns the length, or -1 when it does
 * not fit. */
int desfire_apdu(uint8_t cmd, const uint8_t *body, size_t body_len, uint8_t *out, size_t out_size)
	__attribute__((warn_unused_result));

/* AuthenticateEV2First step 2 on the PCD side: from the card's E(K, RndB)
 * and our RndA, the 32 bytes E(K, RndA || RndB<<<8) to send; rndb gets RndB. */
int desfire_auth_step2(const uint8_t key[DESFIRE_KEY_LEN], const uint8_t ek_rndb[16],
		       const uint8_t rnda[16], uint8_t rndb[16], uint8_t out[32])
	__attribute__((warn_unused_result));
/* Step 3: checks the card's 32-byte answer (TI || RndA<<<8 || PDcap2 ||
 * PCDcap2) and derives the session.  Returns DESFIRE_OK or DESFIRE_INTEGRITY. */
int desfire_auth_finish(struct desfire *d, const uint8_t key[DESFIRE_KEY_LEN], const uint8_t rnda[16],
			const uint8_t rndb[16], const uint8_t answer[32])
	__attribute__((warn_unused_result));
/* KSesAuthENC and KSesAuthMAC (CMAC of SV1 / SV2 under the key). */
int desfire_session_keys(const uint8_t key[DESFIRE_KEY_LEN], const uint8_t rnda[16],
			 const uint8_t rndb[16], uint8_t enc[DESFIRE_KEY_LEN],
			 uint8_t mac[DESFIRE_KEY_LEN]) __attribute__((warn_unused_result));
/* The truncated MAC (odd bytes of the CMAC) of code || ctr || TI || a || b,
 * code being the command (ctr = CmdCtr) or the status (ctr = CmdCtr + 1). */
int desfire_sm_mact(const uint8_t ses_mac[DESFIRE_KEY_LEN], uint8_t code, uint16_t ctr,
		    const uint8_t ti[DESFIRE_TI_LEN], const uint8_t *a, size_t a_len, const uint8_t *b,
		    size_t b_len, uint8_t mact[DESFIRE_MACT_LEN]) __attribute__((warn_unused_result));
/* Pads (always: 0x80 then zeros to a multiple of 16) and encrypts, IV
 * E(KSesAuthENC, A5 5A||TI||ctr||0…) for a command, 5A A5… for an answer.
 * Returns the ciphertext length, or -1. */
int desfire_sm_encrypt(const uint8_t ses_enc[DESFIRE_KEY_LEN], const uint8_t ti[DESFIRE_TI_LEN],
		       uint16_t ctr, bool answer, const uint8_t *in, size_t len, uint8_t *out,
		       size_t out_size) __attribute__((warn_unused_result));
/* Decrypts and removes the padding.  Returns the plain length, or -1 when
 * the length or the padding is wrong. */
int desfire_sm_decrypt(const uint8_t ses_enc[DESFIRE_KEY_LEN], const uint8_t ti[DESFIRE_TI_LEN],
		       uint16_t ctr, bool answer, const uint8_t *in, size_t len, uint8_t *out,
		       size_t out_size) __attribute__((warn_unused_result));
/* --- EV1 pieces (block = 16 for AES, 8 for 2K3DES) --------------------- */

/* CBC over the running IV: iv becomes the last ciphertext block (sent or
 * received), as EV1 chains every encryption of a session. */
int desfire_ev1_cbc(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN], uint8_t iv[16],
		    bool encrypt, const uint8_t *in, size_t len, uint8_t *out)
	__attribute__((warn_unused_result));
/* The CMAC (AES sessions) of a || b from the running IV; iv becomes the
 * full CMAC, mac (may be NULL) gets its first 8 bytes as sent on the air. */
int desfire_ev1_cmac(const uint8_t ses[DESFIRE_KEY_LEN], uint8_t iv[16], const uint8_t *a, size_t a_len,
		     const uint8_t *b, size_t b_len, uint8_t *mac) __attribute__((warn_unused_result));
/* Authentication step 2 on the PCD side: from E(K, RndB) and RndA (block
 * bytes each) the 2 * block bytes E(K, RndA || RndB<<<8) to send, chained:
 * RndB is decrypted from a zero IV, the answer encrypted with IV =
 * E(K, RndB), and iv ends as the last block sent. */
int desfire_ev1_auth_step2(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN],
			   const uint8_t *ek_rndb, const uint8_t *rnda, uint8_t *rndb, uint8_t *out,
			   uint8_t iv[16]) __attribute__((warn_unused_result));
/* Step 3: decrypts the card's E(K, RndA<<<8) with iv and checks it.
 * Returns DESFIRE_OK, DESFIRE_INTEGRITY or DESFIRE_INTERNAL. */
int desfire_ev1_auth_check(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN],
			   const uint8_t *answer, const uint8_t *rnda, uint8_t iv[16])
	__attribute__((warn_unused_result));
/* The session key: AES RndA[0..3] || RndB[0..3] || RndA[12..15] ||
 * RndB[12..15]; 2K3DES RndA[0..3] || RndB[0..3] || RndA[4..7] || RndB[4..7],
 * and for a single DES key (K1 = K2) RndA[0..3] || RndB[0..3] twice. */
void desfire_ev1_session_key(enum desfire_cipher cipher, const uint8_t key[DESFIRE_KEY_LEN],
			     const uint8_t *rnda, const uint8_t *rndb, uint8_t ses[DESFIRE_KEY_LEN]);
/* Pads with zeros to the block and encrypts over the running IV.  Returns
 * the ciphertext length, or -1. */
int desfire_ev1_encrypt(enum desfire_cipher cipher, const uint8_t ses[DESFIRE_KEY_LEN], uint8_t iv[16],
			const uint8_t *in, size_t len, uint8_t *out, size_t out_size)
	__attribute__((warn_unused_result));
/* A full-mode answer: decrypts over the running IV and checks data || CRC32
 * (data || status) || zeros for the plain length want (want 0: a UID, 7,
 * 10 or 4 bytes, whichever the CRC confirms).  Returns the plain length, or
 * -1 when no length fits (a wrong key, a corrupted or forged answer). */
int desfire_ev1_decrypt_answer(enum desfire_cipher cipher, const uint8_t ses[DESFIRE_KEY_LEN],
			       uint8_t iv[16], const uint8_t *in, size_t len, uint8_t status,
			       size_t want, uint8_t *out, size_t out_size)
	__attribute__((warn_unused_result));
/* The ChangeKey cryptogram, encrypted over the running IV: own key
 * new || [version] || CRC32(C4 || key_byte || new || [version]); another key
 * (new ^ old) || [version] || CRC32(C4 || key_byte || …) || CRC32(new).
 * version < 0: none (a DES key).  Returns the length, or -1. */
int desfire_ev1_key_cryptogram(enum desfire_cipher cipher, const uint8_t ses[DESFIRE_KEY_LEN],
			       uint8_t iv[16], uint8_t key_byte, const uint8_t new_key[DESFIRE_KEY_LEN],
			       const uint8_t *old_key, int version, uint8_t *out, size_t out_size)
	__attribute__((warn_unused_result));

/* The CRC32 DESFire puts in key cryptograms (IEEE polynomial, preset
 * 0xFFFFFFFF, no final inversion), least significant byte first. */
void desfire_crc32(const uint8_t *p, size_t len, uint8_t out[4]);

#endif
