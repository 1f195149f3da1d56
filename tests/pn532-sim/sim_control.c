/*
 * sim_control — see sim_control.h.
 */
#include "sim_control.h"

#include <string.h>

#include "hex.h"

#define SIM_MAX_WORDS 6

/* Splits line into at most SIM_MAX_WORDS words separated by single spaces.
 * Returns the word count, or -1 when there are more or a word is empty. */
static int sim_split(const char *line, size_t len, const char **words, size_t *lens)
{
	size_t start = 0, i;
	int n = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (i == start || n == SIM_MAX_WORDS)
			return -1;
		words[n] = line + start;
		lens[n++] = i - start;
		start = i + 1;
	}
	return n;
}

static int sim_word_is(const char *word, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(word, name, len) == 0;
}

int sim_control_parse(const char *line, size_t len, struct sim_control_cmd *cmd, const char **why)
{
	static const struct {
		const char *name;
		enum sim_control_verb verb;
	} simple[] = {
		{"remove", SIM_REMOVE}, {"mute", SIM_MUTE},	  {"unmute", SIM_UNMUTE},
		{"error", SIM_ERROR},	{"garbage", SIM_GARBAGE}, {"status", SIM_STATUS},
		{"quit", SIM_QUIT},
	};
	const char *words[SIM_MAX_WORDS];
	size_t lens[SIM_MAX_WORDS], i;
	uint8_t uid[PN532_UID_MAX], atqa[2], sak;
	int n, uid_len;

	memset(cmd, 0, sizeof(*cmd));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || len > SIM_CONTROL_LINE_MAX) {
		*why = "empty or overlong line";
		return -1;
	}
	for (i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x7e) {
			*why = "not printable ASCII";
			return -1;
		}
	n = sim_split(line, len, words, lens);
	if (n < 1) {
		*why = "bad spacing or too many words";
		return -1;
	}
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		if (sim_word_is(words[0], lens[0], simple[i].name)) {
			if (n != 1) {
				*why = "this command takes no argument";
				return -1;
			}
			cmd->verb = simple[i].verb;
			return 0;
		}
	if (sim_word_is(words[0], lens[0], "wait-polls") ||
	    sim_word_is(words[0], lens[0], "cut-after")) {
		bool wait = words[0][0] == 'w';
		const char *usage = wait ? "usage: wait-polls <1..999999>"
					 : "usage: cut-after <0..999999>";
		uint32_t v = 0;

		if (n != 2 || lens[1] == 0 || lens[1] > 6) {
			*why = usage;
			return -1;
		}
		for (i = 0; i < lens[1]; i++) {
			if (words[1][i] < '0' || words[1][i] > '9') {
				*why = usage;
				return -1;
			}
			v = v * 10 + (uint32_t)(words[1][i] - '0');
		}
		if (v == 0 && wait) {
			*why = usage;
			return -1;
		}
		cmd->verb = wait ? SIM_WAIT_POLLS : SIM_CUT_AFTER;
		cmd->count = v;
		return 0;
	}
	if (sim_word_is(words[0], lens[0], "desfire") ||
	    sim_word_is(words[0], lens[0], "present-card") ||
	    sim_word_is(words[0], lens[0], "secret") || sim_word_is(words[0], lens[0], "downgrade")) {
		static const char create_usage[] =
			"usage: desfire <name> <uid-hex> [random] [ev1] [des]";
		bool create = words[0][1] == 'e' && lens[0] == 7;
		bool secret = words[0][0] == 's';
		bool downgrade = words[0][0] == 'd' && lens[0] == 9;
		int w;

		if ((create && (n < 3 || n > 6)) || (!create && n != 2)) {
			*why = create ? create_usage : "usage: present-card|secret|downgrade <name>";
			return -1;
		}
		if (lens[1] > SIM_CARD_NAME_MAX) {
			*why = "a card name has at most 16 characters";
			return -1;
		}
		memcpy(cmd->name, words[1], lens[1]);
		cmd->name[lens[1]] = '\0';
		cmd->verb = create	? SIM_DESFIRE
			    : secret	? SIM_SECRET
			    : downgrade ? SIM_DOWNGRADE
					: SIM_PRESENT_CARD;
		if (!create)
			return 0;
		uid_len = hex_decode(words[2], lens[2], cmd->uid, sizeof(cmd->uid));
		if (uid_len != 7 && uid_len != 10) {
			*why = "a DESFire UID is 7 or 10 bytes of hex";
			return -1;
		}
		cmd->uid_len = (size_t)uid_len;
		for (w = 3; w < n; w++) {
			bool *flag = sim_word_is(words[w], lens[w], "random") ? &cmd->random_id
				     : sim_word_is(words[w], lens[w], "ev1")  ? &cmd->ev1
				     : sim_word_is(words[w], lens[w], "des")  ? &cmd->des
									      : NULL;

			if (flag == NULL || *flag) {
				*why = create_usage;
				return -1;
			}
			*flag = true;
		}
		return 0;
	}
	if (!sim_word_is(words[0], lens[0], "present")) {
		*why = "unknown command";
		return -1;
	}
	if (n != 2 && n != 4) {
		*why = "usage: present <uid-hex> [<atqa-hex4> <sak-hex2>]";
		return -1;
	}
	uid_len = hex_decode(words[1], lens[1], uid, sizeof(uid));
	if (uid_len < 0 || pn532_card_default(&cmd->card, uid, (size_t)uid_len) != 0) {
		*why = "the UID must be 4, 7 or 10 bytes of hex";
		return -1;
	}
	if (n == 4) {
		if (lens[2] != 4 || hex_decode(words[2], 4, atqa, sizeof(atqa)) != 2 || lens[3] != 2 ||
		    hex_decode(words[3], 2, &sak, 1) != 1) {
			*why = "ATQA is 4 and SAK 2 hex digits";
			return -1;
		}
		memcpy(cmd->card.atqa, atqa, sizeof(atqa));
		cmd->card.sak = sak;
	}
	cmd->verb = SIM_PRESENT;
	return 0;
}
