/*
 * sac-reader — one daemon per physical NFC reader (SPEC §2): watches the
 * device for badge presentations, turns each into an event (random id, time,
 * credential = HMAC of the UID; the UID itself never leaves this process),
 * spools it durably and delivers it to a controller over sac/1.
 *
 * Threads: the watch thread owns the device (libnfc calls block); the main
 * thread owns the spool and the uplink and handles signals.  Taps cross from
 * one to the other through a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "daemon.h"
#include "device.h"
#include "hex.h"
#include "log.h"
#include "secret.h"
#include "spool.h"
#include "tls.h"
#include "uplink.h"
#include "watch.h"

#define READER_DEFAULT_CONFIG "/etc/sac/sac-reader.conf"
/* The 24-hour rule, with a margin for the time between two checks. */
#define READER_SPOOL_MAX_AGE_MS (24LL * 3600 * 1000 - 60 * 1000)
#define READER_EXPIRE_EVERY_MS 10000
#define READER_COMPACT_EVERY_MS 1000
#define READER_WATCH_STOP_MS 600
#define READER_DRAIN_MS 500 /* on SIGTERM: how long to wait for ACKs in flight */

struct reader {
	struct reader_config cfg;
	struct tls_context *tls;
	struct spool *spool;
	void *nfc;
	struct watch watch;
	bool watch_initialised;
	struct uplink uplink;
	bool uplink_initialised;
	int taps[2]; /* watch thread -> main loop */
	int64_t next_expire_ms;
	int64_t next_compact_ms;
	int64_t next_watchdog_ms;
	uint64_t watchdog_usec;
};

static const char reader_usage[] =
	"usage: sac-reader [-c FILE] [--check-config]\n"
	"       sac-reader --help | --version\n"
	"Reads badges on one NFC reader (libnfc) and reports each presentation to a\n"
	"controller over mutual TLS.  Configuration: the [reader] section of FILE\n"
	"(default " READER_DEFAULT_CONFIG ").\n"
	"  -c, --config FILE   configuration file\n"
	"  --check-config      check the configuration and the files it names, print\n"
	"                      every problem, exit 0 (good) or 2 (problems)\n";

/* Builds the TLS context of cfg, recording a problem when it cannot. */
static struct tls_context *reader_tls(const char *path, const struct reader_config *cfg,
				      struct config_problems *problems)
{
	struct tls_context *tls;
	char err[512];

	tls = tls_client_context_new(cfg->certificate, cfg->private_key, cfg->controller_ca, cfg->crl,
				     err, sizeof(err));
	if (tls == NULL)
		config_problem(problems, path, 0,
			       "certificate, private_key, controller_ca and crl are unusable: %s", err);
	return tls;
}

/* The check of daemon_start: builds r->tls from the configuration, so that
 * --check-config refuses what the first handshake would. */
static enum config_status reader_check(void *ctx, const char *path, void *cfg,
				       struct config_problems *problems)
{
	struct reader *r = ctx;

	r->tls = reader_tls(path, cfg, problems);
	return r->tls != NULL ? CONFIG_OK : CONFIG_INVALID;
}

/* Per-event lines are access data (an event id, a gate, a time): they are
 * written at debug level only, which is off unless SAC_DEBUG=1. */
static void reader_log_event(const char *what, const struct spool_event *ev)
{
	char id[SPOOL_ID_LEN * 2 + 1];

	if (hex_encode(ev->id, SPOOL_ID_LEN, id, sizeof(id)) == 0)
		log_debug("event %s %s", id, what);
}

/* Moves the taps the watch thread handed over into the spool (durable
 * before they can be sent). */
static void reader_take_taps(struct reader *r)
{
	struct spool_event ev;
	ssize_t n;

	for (;;) {
		n = read(r->taps[0], &ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(ev))
			break;
		if (spool_append(r->spool, &ev) == 0) {
			reader_log_event("created", &ev);
		} else {
			log_error("a badge presentation could not be spooled and is lost");
			reader_log_event("LOST: could not be spooled", &ev);
		}
	}
	explicit_bzero(&ev, sizeof(ev));
}

static void reader_housekeeping(struct reader *r, int64_t now)
{
	if (now >= r->next_expire_ms) {
		size_t n = spool_expire(r->spool, daemon_unix_ms(), READER_SPOOL_MAX_AGE_MS);

		if (n > 0)
			log_warning("removed %zu spooled events older than 24 h without sending them "
				    "(the controllers were unreachable)",
				    n);
		r->next_expire_ms = now + READER_EXPIRE_EVERY_MS;
	}
	if (now >= r->next_compact_ms) {
		/* A failed compaction is logged and leaves the old file valid;
		 * the uplink's cursor survives either way. */
		if (spool_wants_compaction(r->spool) && spool_compact(r->spool) != 0)
			log_debug("spool compaction postponed");
		r->next_compact_ms = now + READER_COMPACT_EVERY_MS;
	}
	if (r->watchdog_usec > 0 && now >= r->next_watchdog_ms) {
		daemon_notify_watchdog();
		r->next_watchdog_ms = now + (int64_t)(r->watchdog_usec / 1000);
	}
}

/* The card mode of cfg for the device layer ([reader] card, card_key). */
static void reader_card(const struct reader_config *cfg, struct device_card *card)
{
	memset(card, 0, sizeof(*card));
	card->mode = cfg->card == READER_CARD_DESFIRE ? DEVICE_CARD_DESFIRE : DEVICE_CARD_UID;
	if (cfg->card_key.bytes != NULL && cfg->card_key.len == sizeof(card->key))
		memcpy(card->key, cfg->card_key.bytes, sizeof(card->key));
}

static int reader_start_watch(struct reader *r)
{
	struct device_card card;

	reader_card(&r->cfg, &card);
	device_libnfc_set_card(r->nfc, &card);
	explicit_bzero(&card, sizeof(card));
	if (watch_init(&r->watch, &device_libnfc_ops, r->nfc, r->cfg.device,
		       r->cfg.credential_key.bytes) != 0)
		return -1;
	r->watch_initialised = true;
	return watch_start(&r->watch, r->taps[1]);
}

/* SIGHUP: rereads the configuration.  Everything but id and spool applies
 * at once (config_keys.c); a file with any problem changes nothing. */
static void reader_reload(struct reader *r, const char *path)
{
	struct config_problems problems = {0};
	struct reader_config cfg;
	struct tls_context *tls = NULL;
	bool restart_watch;
	int i;

	daemon_notify_reloading();
	if (config_reload(&config_reader, path, &cfg) != CONFIG_OK)
		goto out;
	tls = reader_tls(path, &cfg, &problems);
	if (tls == NULL) {
		for (i = 0; i < problems.count; i++)
			log_error("reload: %s", problems.items[i]);
		log_error("reload refused: keeping the running configuration");
		goto out;
	}
	restart_watch = !config_same(&config_reader, "device", &cfg, &r->cfg) ||
			!config_same(&config_reader, "credential_key", &cfg, &r->cfg) ||
			!config_same(&config_reader, "card", &cfg, &r->cfg) ||
			!config_same(&config_reader, "card_key", &cfg, &r->cfg);
	if (uplink_reconfigure(&r->uplink, cfg.controllers.host, cfg.controllers.port,
			       cfg.controllers.count, tls) != 0) {
		log_error("reload refused: cannot apply the controllers list");
		goto out;
	}
	tls_context_free(r->tls);
	r->tls = tls;
	tls = NULL;
	if (restart_watch && watch_stop(&r->watch, 3000) != 0) {
		log_error("reload: the device thread does not stop; device and key unchanged");
		restart_watch = false;
		config_swap(&config_reader, "device", &cfg, &r->cfg);
		config_swap(&config_reader, "credential_key", &cfg, &r->cfg);
		config_swap(&config_reader, "card", &cfg, &r->cfg);
		config_swap(&config_reader, "card_key", &cfg, &r->cfg);
	}
	(void)config_commit(&config_reader, path, &r->cfg, &cfg);
	config_free(&config_reader, &r->cfg);
	r->cfg = cfg;
	memset(&cfg, 0, sizeof(cfg));
	if (restart_watch) {
		watch_destroy(&r->watch);
		r->watch_initialised = false;
		if (reader_start_watch(r) != 0)
			log_error("reload: cannot restart the device thread");
	}
out:
	tls_context_free(tls);
	config_free(&config_reader, &cfg);
	config_problems_free(&problems);
	daemon_notify_ready(NULL);
}

/* After SIGTERM: spool what the watch thread still had, and give the
 * controller a moment to acknowledge what is in flight. */
static void reader_finish(struct reader *r)
{
	int64_t end = daemon_monotonic_ms() + READER_DRAIN_MS;

	if (r->watch_initialised && watch_stop(&r->watch, READER_WATCH_STOP_MS) != 0)
		log_warning("the device thread is inside a slow device call; not waiting for it");
	reader_take_taps(r);
	while (uplink_awaiting_acks(&r->uplink)) {
		struct pollfd pfd;
		int64_t now = daemon_monotonic_ms();

		if (now >= end)
			break;
		pfd.fd = uplink_pollfd(&r->uplink, &pfd.events);
		if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR)
			break;
		uplink_run(&r->uplink, r->spool, daemon_monotonic_ms());
	}
	if (spool_pending_count(r->spool) > 0)
		log_notice("%zu events stay in the spool for the next start",
			   spool_pending_count(r->spool));
}

/* The run of daemon_start; r->cfg is the configuration it loaded. */
static int reader_run(void *ctx, const char *config_path, void *cfg)
{
	struct reader *r = ctx;
	struct spool_stats stats;
	int rc = 3;

	(void)cfg;
	r->taps[0] = r->taps[1] = -1;
	if (spool_open(r->cfg.spool, &r->spool, &stats) != 0)
		goto out;
	if (stats.loaded > 0 || stats.corrupt > 0)
		log_notice("spool: %zu events to deliver from before, %zu corrupt records skipped",
			   stats.loaded, stats.corrupt);
	{
		struct device_card card;

		reader_card(&r->cfg, &card);
		r->nfc = device_libnfc_context_new(&card);
		explicit_bzero(&card, sizeof(card));
	}
	if (r->nfc == NULL) {
		log_error("cannot initialise libnfc");
		goto out;
	}
	if (pipe2(r->taps, O_CLOEXEC | O_NONBLOCK) != 0) {
		log_err("pipe");
		goto out;
	}
	/* The watch thread's writes may block; only the main loop's reads must not. */
	if (fcntl(r->taps[1], F_SETFL, 0) != 0 ||
	    uplink_init(&r->uplink, r->cfg.id, r->cfg.controllers.host, r->cfg.controllers.port,
			r->cfg.controllers.count, r->tls) != 0) {
		log_error("cannot set up the uplink");
		goto out;
	}
	r->uplink_initialised = true;
	if (reader_start_watch(r) != 0) {
		log_error("cannot start the device thread");
		goto out;
	}
	r->watchdog_usec = daemon_watchdog_interval_usec();
	log_info("reader %s on %s, %d controller(s), %s cards", r->cfg.id, r->cfg.device,
		 r->cfg.controllers.count, r->cfg.card == READER_CARD_DESFIRE ? "DESFire" : "UID");
	daemon_notify_ready("reading badges");
	while (!daemon_terminate) {
		struct pollfd pfd[2];
		int64_t now = daemon_monotonic_ms(), timeout;

		if (daemon_reload) {
			daemon_reload = 0;
			reader_reload(r, config_path);
		}
		reader_housekeeping(r, now);
		timeout = uplink_timeout_ms(&r->uplink, now);
		if (timeout > READER_COMPACT_EVERY_MS)
			timeout = READER_COMPACT_EVERY_MS;
		pfd[0].fd = r->taps[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = uplink_pollfd(&r->uplink, &pfd[1].events);
		if (poll(pfd, 2, (int)timeout) < 0 && errno != EINTR) {
			log_err("poll");
			goto out;
		}
		reader_take_taps(r);
		uplink_run(&r->uplink, r->spool, daemon_monotonic_ms());
	}
	daemon_notify_stopping();
	log_info("stopping");
	reader_finish(r);
	rc = 0;
out:
	if (r->watch_initialised &&
	    (watch_abandoned(&r->watch) || watch_stop(&r->watch, READER_WATCH_STOP_MS) != 0)) {
		/* Still inside a device call (nfc_open of a mute chip takes over a
		 * second): leave its memory alone and let exit end the thread. */
		return rc;
	}
	if (r->watch_initialised)
		watch_destroy(&r->watch);
	if (r->uplink_initialised)
		uplink_destroy(&r->uplink);
	device_libnfc_context_free(r->nfc);
	if (r->spool != NULL && spool_wants_compaction(r->spool) && spool_compact(r->spool) != 0)
		log_warning("spool not compacted at exit");
	spool_close(r->spool);
	if (r->taps[0] >= 0)
		close(r->taps[0]);
	if (r->taps[1] >= 0)
		close(r->taps[1]);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct daemon_program reader = {
		.name = "sac-reader",
		.default_config = READER_DEFAULT_CONFIG,
		.usage = reader_usage,
		.schema = &config_reader,
		.check = reader_check,
		.run = reader_run,
	};
	struct reader *r;
	int rc;

	log_init("sac-reader", LOG_LEVEL_INFO);
	/* The device thread keeps a copy of the credential key in *r. */
	r = secret_alloc(sizeof(*r), NULL);
	if (r == NULL) {
		log_err("cannot allocate the reader's state");
		return 3;
	}
	rc = daemon_start(&reader, &r->cfg, r, argc, argv);
	tls_context_free(r->tls);
	/* A device thread stuck in a device call may still read r until exit. */
	if (!(r->watch_initialised && r->watch.running))
		secret_free(r, sizeof(*r));
	return rc;
}
