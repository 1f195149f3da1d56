/*
 * pn532-sim — an emulated PN532 NFC chip on a pseudo-terminal, so that the
 * real libnfc (and sac-reader, nfc-list, nfc-poll) can be tested without
 * hardware.  A test drives the card in its field through a unix socket.
 *
 *   pn532-sim --pty-file PATH --control SOCKET [--uid HEX]
 *   pn532-sim --control SOCKET --send "present 04a1b2c3"
 *
 * The first form runs the emulator: it writes the pty path ("/dev/pts/N")
 * to PATH once it is ready and serves until `quit`, SIGTERM or SIGINT.  The
 * second is a client: it sends one control line (sim_control.h), prints the
 * reply and exits 0 when it was "ok…", 1 on "error…", 3 when the emulator
 * cannot be reached.  See docs/reader.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cardcrypto.h"
#include "daemon.h"
#include "desfire_card.h"
#include "hex.h"
#include "log.h"
#include "pn532_chip.h"
#include "pn532_frame.h"
#include "sim_control.h"

#define SIM_CLIENTS 8
#define SIM_IN_MAX 2048
#define SIM_OUT_MAX 8192
#define SIM_WAIT_LIMIT_MS 10000
#define SIM_CARDS 8

enum sim_fault {
	SIM_FAULT_NONE,
	SIM_FAULT_ERROR,
	SIM_FAULT_GARBAGE,
};

struct sim_client {
	int fd;
	char line[SIM_CONTROL_LINE_MAX + 2];
	size_t len;
	bool overlong;
	bool waiting;
	uint64_t wait_polls; /* reply when chip.polls reaches this */
	int64_t wait_deadline_ms;
};

struct sim {
	int master;
	int slave; /* kept open: without it reads on master fail while no client is attached */
	int listen_fd;
	struct sim_client clients[SIM_CLIENTS];
	struct pn532_chip chip;
	bool muted;
	enum sim_fault fault;
	bool quit;
	/* DESFire cards, kept (with what was written to them) while out of the field */
	struct {
		bool used;
		char name[SIM_CARD_NAME_MAX + 1];
		struct desfire_card card;
	} cards[SIM_CARDS];
	int current; /* the DESFire card in the field, or -1 */
	bool cut_armed;
	uint32_t cut_left;
	uint8_t in[SIM_IN_MAX];
	size_t in_len;
	uint8_t out[SIM_OUT_MAX];
	size_t out_len;
};

static void sim_usage(FILE *fp)
{
	fprintf(fp, "usage: pn532-sim --pty-file PATH --control SOCKET [--uid HEX]\n"
		    "       pn532-sim --control SOCKET --send LINE\n"
		    "       pn532-sim --help | --version\n"
		    "Emulates a PN532 chip on a pseudo-terminal; control lines:\n"
		    "  present <uid-hex> [<atqa-hex4> <sak-hex2>] | remove | mute | unmute |\n"
		    "  error | garbage | status | wait-polls <n> | quit |\n"
		    "  desfire <name> <uid-hex> [random] [ev1] [des] | present-card <name> |\n"
		    "  downgrade <name> | cut-after <n>\n");
}

static void sim_queue(struct sim *sim, const uint8_t *bytes, size_t len)
{
	if (len > sizeof(sim->out) - sim->out_len) {
		/* Nobody reads the pty: what is queued is stale anyway. */
		sim->out_len = 0;
		tcflush(sim->slave, TCIFLUSH);
		if (len > sizeof(sim->out))
			return;
	}
	memcpy(sim->out + sim->out_len, bytes, len);
	sim->out_len += len;
}

static void sim_flush(struct sim *sim)
{
	while (sim->out_len > 0) {
		ssize_t n = write(sim->master, sim->out, sim->out_len);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				sim->out_len = 0;
			return;
		}
		memmove(sim->out, sim->out + n, sim->out_len - (size_t)n);
		sim->out_len -= (size_t)n;
	}
}

static void sim_answer(struct sim *sim, const struct pn532_frame *frame)
{
	uint8_t body[PN532_BODY_MAX + 64];
	uint8_t out[PN532_FRAME_MAX + 64];
	int n, len;

	if (sim->muted)
		return;
	sim_queue(sim, pn532_frame_ack, sizeof(pn532_frame_ack));
	if (sim->fault == SIM_FAULT_ERROR) {
		sim->fault = SIM_FAULT_NONE;
		sim_queue(sim, pn532_frame_error, sizeof(pn532_frame_error));
		return;
	}
	n = pn532_chip_answer(&sim->chip, frame->body, frame->body_len, body, sizeof(body));
	if (n < 0) {
		log_debug("command %02x: answered with the error frame", frame->body[0]);
		sim_queue(sim, pn532_frame_error, sizeof(pn532_frame_error));
		return;
	}
	len = pn532_frame_build(body, (size_t)n, out, sizeof(out));
	if (len < 0)
		return;
	if (sim->fault == SIM_FAULT_GARBAGE) {
		/* A frame whose checksum is wrong, then some noise. */
		sim->fault = SIM_FAULT_NONE;
		out[len - 2] ^= 0x5A;
		out[len - 1] = 0xA5;
	}
	sim_queue(sim, out, (size_t)len);
}

static void sim_read_pty(struct sim *sim)
{
	struct pn532_frame frame;
	ssize_t n;
	size_t used;

	n = read(sim->master, sim->in + sim->in_len, sizeof(sim->in) - sim->in_len);
	if (n <= 0)
		return;
	sim->in_len += (size_t)n;
	while ((used = pn532_frame_parse(sim->in, sim->in_len, &frame)) > 0) {
		if (frame.kind == PN532_FRAME_COMMAND)
			sim_answer(sim, &frame);
		memmove(sim->in, sim->in + used, sim->in_len - used);
		sim->in_len -= used;
	}
	if (sim->in_len == sizeof(sim->in))
		sim->in_len = 0; /* a frame cannot be this long: drop the noise */
}

static void sim_reply(struct sim_client *client, const char *text)
{
	size_t len = strlen(text);

	/* Replies are short and the socket buffer is empty: a failed write
	 * only means the client went away. */
	if (write(client->fd, text, len) != (ssize_t)len) {
		close(client->fd);
		client->fd = -1;
	}
}

/* InDataExchange to the DESFire card in the field. */
static int sim_card_apdu(void *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t out_size)
{
	struct sim *sim = ctx;

	if (sim->current < 0)
		return -1;
	if (sim->cut_armed) {
		if (sim->cut_left == 0) {
			/* Pulled away in the middle of the exchange. */
			sim->cut_armed = false;
			sim->chip.card_present = false;
			sim->chip.selected = false;
			sim->current = -1;
			log_debug("card pulled away");
			return -1;
		}
		sim->cut_left--;
	}
	return desfire_card_apdu(&sim->cards[sim->current].card, in, len, out, out_size);
}

static int sim_find_card(const struct sim *sim, const char *name)
{
	int i;

	for (i = 0; i < SIM_CARDS; i++)
		if (sim->cards[i].used && strcmp(sim->cards[i].name, name) == 0)
			return i;
	return -1;
}

/* `desfire` and `present-card`.  Returns NULL or the error reply. */
static const char *sim_desfire(struct sim *sim, const struct sim_control_cmd *cmd)
{
	struct desfire_card *card;
	struct pn532_card *pc = &sim->chip.card;
	int i = sim_find_card(sim, cmd->name);

	if (cmd->verb == SIM_DESFIRE) {
		if (i >= 0)
			return "error a card of that name exists\n";
		for (i = 0; i < SIM_CARDS && sim->cards[i].used; i++)
			;
		if (i == SIM_CARDS)
			return "error too many cards\n";
		if (desfire_card_new(&sim->cards[i].card, cmd->uid, cmd->uid_len, cmd->random_id) != 0)
			return "error bad UID\n";
		sim->cards[i].card.ev1_only = cmd->ev1;
		sim->cards[i].card.picc_des = cmd->des;
		sim->cards[i].used = true;
		strcpy(sim->cards[i].name, cmd->name);
		return NULL;
	}
	if (i < 0)
		return "error no card of that name\n";
	card = &sim->cards[i].card;
	if (cmd->verb == SIM_DOWNGRADE) {
		card->ev1_only = true;
		return NULL;
	}
	desfire_card_reset(card);
	memset(pc, 0, sizeof(*pc));
	if (card->random_id) {
		pc->uid[0] = 0x08;
		if (cardcrypto_random(pc->uid + 1, 3) != 0)
			return "error no random bytes\n";
		pc->uid_len = 4;
		pc->atqa[1] = 0x04;
	} else {
		memcpy(pc->uid, card->uid, card->uid_len);
		pc->uid_len = card->uid_len;
		pc->atqa[1] = 0x44;
	}
	pc->atqa[0] = 0x03;
	pc->sak = 0x20; /* ISO 14443-4 */
	sim->current = i;
	sim->chip.apdu = sim_card_apdu;
	sim->chip.apdu_ctx = sim;
	sim->chip.card_present = true;
	return NULL;
}

static void sim_execute(struct sim *sim, struct sim_client *client, const char *line, size_t len)
{
	struct sim_control_cmd cmd;
	const char *why = NULL;
	char reply[160];

	if (sim_control_parse(line, len, &cmd, &why) != 0) {
		snprintf(reply, sizeof(reply), "error %s\n", why);
		sim_reply(client, reply);
		return;
	}
	switch (cmd.verb) {
	case SIM_DESFIRE:
	case SIM_DOWNGRADE:
	case SIM_PRESENT_CARD: {
		const char *err = sim_desfire(sim, &cmd);

		if (err != NULL) {
			sim_reply(client, err);
			return;
		}
		break;
	}
	case SIM_SECRET: {
		/* The test's view of what the card stores (its first file), to
		 * prove that it appears nowhere else. */
		const struct desfire_card_file *f;
		char hex[2 * DESFIRE_CARD_FILE_MAX + 1];
		int c = sim_find_card(sim, cmd.name);

		if (c < 0 || !sim->cards[c].card.apps[0].used ||
		    !(f = &sim->cards[c].card.apps[0].files[0])->used ||
		    hex_encode(f->data, f->size, hex, sizeof(hex)) != 0) {
			sim_reply(client, "error no such card or file\n");
			return;
		}
		snprintf(reply, sizeof(reply), "ok %s\n", hex);
		sim_reply(client, reply);
		return;
	}
	case SIM_CUT_AFTER:
		sim->cut_armed = true;
		sim->cut_left = cmd.count;
		break;
	case SIM_PRESENT:
		sim->chip.apdu = NULL;
		sim->current = -1;
		sim->chip.card = cmd.card;
		sim->chip.card_present = true;
		explicit_bzero(&cmd, sizeof(cmd));
		log_debug("card present");
		break;
	case SIM_REMOVE:
		sim->chip.apdu = NULL;
		sim->current = -1;
		sim->cut_armed = false;
		sim->chip.card_present = false;
		sim->chip.selected = false;
		explicit_bzero(&sim->chip.card, sizeof(sim->chip.card));
		log_debug("card removed");
		break;
	case SIM_MUTE:
		sim->muted = true;
		break;
	case SIM_UNMUTE:
		sim->muted = false;
		break;
	case SIM_ERROR:
		sim->fault = SIM_FAULT_ERROR;
		break;
	case SIM_GARBAGE:
		sim->fault = SIM_FAULT_GARBAGE;
		break;
	case SIM_STATUS:
		snprintf(reply, sizeof(reply), "ok card=%s muted=%d commands=%llu polls=%llu\n",
			 sim->chip.card_present ? "present" : "absent", sim->muted ? 1 : 0,
			 (unsigned long long)sim->chip.commands, (unsigned long long)sim->chip.polls);
		sim_reply(client, reply);
		return;
	case SIM_WAIT_POLLS:
		client->waiting = true;
		client->wait_polls = sim->chip.polls + cmd.count;
		client->wait_deadline_ms = daemon_monotonic_ms() + SIM_WAIT_LIMIT_MS;
		return;
	case SIM_QUIT:
		sim->quit = true;
		break;
	}
	sim_reply(client, "ok\n");
}

static void sim_read_client(struct sim *sim, struct sim_client *client)
{
	char buf[256];
	ssize_t n;
	size_t i;

	n = read(client->fd, buf, sizeof(buf));
	if (n <= 0) {
		close(client->fd);
		client->fd = -1;
		return;
	}
	for (i = 0; i < (size_t)n && client->fd >= 0; i++) {
		if (buf[i] != '\n') {
			if (client->len < SIM_CONTROL_LINE_MAX + 1)
				client->line[client->len++] = buf[i];
			else
				client->overlong = true;
			continue;
		}
		if (client->overlong)
			sim_reply(client, "error line too long\n");
		else if (client->waiting)
			sim_reply(client, "error busy: a wait-polls is pending\n");
		else
			sim_execute(sim, client, client->line, client->len);
		client->len = 0;
		client->overlong = false;
	}
}

static void sim_check_waits(struct sim *sim)
{
	int64_t now = daemon_monotonic_ms();
	int i;

	for (i = 0; i < SIM_CLIENTS; i++) {
		struct sim_client *c = &sim->clients[i];

		if (c->fd < 0 || !c->waiting)
			continue;
		if (sim->chip.polls >= c->wait_polls) {
			c->waiting = false;
			sim_reply(c, "ok\n");
		} else if (now >= c->wait_deadline_ms) {
			c->waiting = false;
			sim_reply(c, "error timeout: the host did not poll\n");
		}
	}
}

static void sim_accept(struct sim *sim)
{
	int fd = accept4(sim->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	int i;

	if (fd < 0)
		return;
	for (i = 0; i < SIM_CLIENTS; i++)
		if (sim->clients[i].fd < 0) {
			memset(&sim->clients[i], 0, sizeof(sim->clients[i]));
			sim->clients[i].fd = fd;
			return;
		}
	if (write(fd, "error too many control clients\n", 31) < 0) {
		/* The client is dropped either way. */
	}
	close(fd);
}

static int sim_open_pty(struct sim *sim, char *path, size_t path_size)
{
	struct termios tio;
	const char *name;

	sim->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sim->master < 0 || grantpt(sim->master) != 0 || unlockpt(sim->master) != 0) {
		log_err("cannot create a pseudo-terminal");
		return -1;
	}
	name = ptsname(sim->master);
	if (name == NULL || strlen(name) >= path_size) {
		log_err("ptsname");
		return -1;
	}
	strcpy(path, name);
	sim->slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sim->slave < 0 || tcgetattr(sim->slave, &tio) != 0) {
		log_err("cannot open %s", path);
		return -1;
	}
	/* Raw, or the line discipline would echo our answers back to us. */
	cfmakeraw(&tio);
	cfsetspeed(&tio, B115200);
	if (tcsetattr(sim->slave, TCSANOW, &tio) != 0 ||
	    fcntl(sim->master, F_SETFL, fcntl(sim->master, F_GETFL) | O_NONBLOCK) != 0) {
		log_err("cannot set up %s", path);
		return -1;
	}
	return 0;
}

static int sim_listen(struct sim *sim, const char *path)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	sim->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sim->listen_fd < 0 || bind(sim->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(sim->listen_fd, SIM_CLIENTS) != 0) {
		log_err("cannot listen on %s", path);
		return -1;
	}
	return 0;
}

/* Writes the pty path to path atomically (temporary file, then rename), so
 * that whoever waits for the file never reads half of it. */
static int sim_write_pty_file(const char *path, const char *pty)
{
	char tmp[4096];
	FILE *fp;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	fp = fopen(tmp, "w");
	if (fp == NULL) {
		log_err("cannot write %s", tmp);
		return -1;
	}
	fprintf(fp, "%s\n", pty);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		log_err("cannot write %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int sim_run(const char *pty_file, const char *control, const char *uid_hex)
{
	struct sim sim;
	struct pollfd pfd[2 + SIM_CLIENTS];
	char pty[256];
	int rc = 3, i;

	memset(&sim, 0, sizeof(sim));
	sim.master = sim.slave = sim.listen_fd = -1;
	sim.current = -1;
	for (i = 0; i < SIM_CLIENTS; i++)
		sim.clients[i].fd = -1;
	if (uid_hex != NULL) {
		struct sim_control_cmd cmd;
		const char *why;
		char line[SIM_CONTROL_LINE_MAX + 1];

		snprintf(line, sizeof(line), "present %s", uid_hex);
		if (sim_control_parse(line, strlen(line), &cmd, &why) != 0) {
			fprintf(stderr, "pn532-sim: --uid: %s\n", why);
			rc = 2;
			goto out;
		}
		sim.chip.card = cmd.card;
		sim.chip.card_present = true;
	}
	if (daemon_signals_install() != 0 || sim_open_pty(&sim, pty, sizeof(pty)) != 0 ||
	    sim_listen(&sim, control) != 0 || sim_write_pty_file(pty_file, pty) != 0)
		goto out;
	log_info("emulating a PN532 on %s, control socket %s", pty, control);
	while (!sim.quit && !daemon_terminate) {
		int n = 0;

		pfd[n].fd = sim.master;
		pfd[n++].events = (short)(POLLIN | (sim.out_len > 0 ? POLLOUT : 0));
		pfd[n].fd = sim.listen_fd;
		pfd[n++].events = POLLIN;
		for (i = 0; i < SIM_CLIENTS; i++) {
			pfd[n].fd = sim.clients[i].fd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, 50) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll");
			goto out;
		}
		if (pfd[0].revents & POLLIN)
			sim_read_pty(&sim);
		sim_flush(&sim);
		if (pfd[1].revents & POLLIN)
			sim_accept(&sim);
		for (i = 0; i < SIM_CLIENTS; i++)
			if (sim.clients[i].fd >= 0 && pfd[2 + i].fd == sim.clients[i].fd &&
			    (pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				sim_read_client(&sim, &sim.clients[i]);
		sim_check_waits(&sim);
	}
	log_info("stopping");
	rc = 0;
out:
	for (i = 0; i < SIM_CLIENTS; i++)
		if (sim.clients[i].fd >= 0)
			close(sim.clients[i].fd);
	if (sim.listen_fd >= 0) {
		close(sim.listen_fd);
		unlink(control);
	}
	if (sim.slave >= 0)
		close(sim.slave);
	if (sim.master >= 0)
		close(sim.master);
	explicit_bzero(&sim.chip, sizeof(sim.chip));
	explicit_bzero(sim.cards, sizeof(sim.cards));
	return rc;
}

/* Client mode: one line to the emulator, its reply to stdout. */
static int sim_send(const char *control, const char *line)
{
	struct sockaddr_un sa;
	char reply[256];
	size_t len = 0;
	int fd, rc = 3;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(control) >= sizeof(sa.sun_path) || strlen(line) > SIM_CONTROL_LINE_MAX) {
		fprintf(stderr, "pn532-sim: control path or line too long\n");
		return 2;
	}
	strcpy(sa.sun_path, control);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "pn532-sim: %s: %s\n", control, strerror(errno));
		goto out;
	}
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "pn532-sim: %s: %s\n", control, strerror(errno));
		goto out;
	}
	while (len < sizeof(reply) - 1) {
		ssize_t n = read(fd, reply + len, sizeof(reply) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(reply, '\n', len) != NULL)
			break;
	}
	reply[len] = '\0';
	if (len == 0) {
		/* `quit` may close before the reply is read. */
		rc = strcmp(line, "quit") == 0 ? 0 : 3;
		goto out;
	}
	fputs(reply, stdout);
	rc = strncmp(reply, "ok", 2) == 0 ? 0 : 1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"pty-file", required_argument, NULL, 'p'},
		{"control", required_argument, NULL, 'c'},
		{"uid", required_argument, NULL, 'u'},
		{"send", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *pty_file = NULL, *control = NULL, *uid = NULL, *send = NULL;
	int opt;

	log_init("pn532-sim", LOG_LEVEL_INFO);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			pty_file = optarg;
			break;
		case 'c':
			control = optarg;
			break;
		case 'u':
			uid = optarg;
			break;
		case 's':
			send = optarg;
			break;
		case 'h':
			sim_usage(stdout);
			return 0;
		case 'V':
			printf("pn532-sim %s\n", SAC_VERSION);
			return 0;
		default:
			sim_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || control == NULL || (send == NULL) == (pty_file == NULL)) {
		sim_usage(stderr);
		return 2;
	}
	if (send != NULL)
		return sim_send(control, send);
	return sim_run(pty_file, control, uid);
}
