/*
 * watch — see watch.h.
 */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "spool.h"
#include "tls.h"

int watch_init(struct watch *w, const struct device_ops *ops, void *ctx, const char *connstring,
	       const uint8_t key[CREDENTIAL_KEY_LEN])
{
	memset(w, 0, sizeof(*w));
	w->wake[0] = w->wake[1] = -1;
	w->event_fd = -1;
	w->ops = ops;
	w->ctx = ctx;
	backoff_init(&w->backoff, WATCH_BACKOFF_MIN_MS, WATCH_BACKOFF_MAX_MS);
	memcpy(w->key, key, CREDENTIAL_KEY_LEN);
	w->connstring = strdup(connstring);
	atomic_init(&w->stop, false);
	return w->connstring != NULL ? 0 : -1;
}

void watch_destroy(struct watch *w)
{
	if (w->ops != NULL && w->handle != NULL)
		w->ops->close(w->handle);
	w->handle = NULL;
	free(w->connstring);
	w->connstring = NULL;
	if (w->wake[0] >= 0)
		close(w->wake[0]);
	if (w->wake[1] >= 0)
		close(w->wake[1]);
	w->wake[0] = w->wake[1] = -1;
	explicit_bzero(w->key, sizeof(w->key));
	explicit_bzero(w->card_credential, sizeof(w->card_credential));
}

/* Closes the device after a fault and schedules the next attempt. */
static void watch_fault(struct watch *w, int64_t now_ms, const char *what, const char *err)
{
	int64_t delay_ms;

	if (w->handle != NULL)
		w->ops->close(w->handle);
	w->handle = NULL;
	w->card_in_field = false;
	explicit_bzero(w->card_credential, sizeof(w->card_credential));
	w->misses = 0;
	w->failures++;
	delay_ms = backoff_failed(&w->backoff);
	/* First fault and then every tenth: a dead device must not flood the log. */
	if (w->failures == 1 || w->failures % 10 == 0)
		log_warning("device %s: %s: %s; trying again in %lld ms (failure %u in a row)",
			    w->connstring, what, err, (long long)delay_ms, w->failures);
	w->next_open_ms = now_ms + delay_ms;
}

enum watch_result watch_step(struct watch *w, int64_t now_ms, uint8_t credential[CREDENTIAL_LEN],
			     int64_t *delay_ms)
{
	uint8_t uid[DEVICE_UID_MAX];
	uint8_t cred[CREDENTIAL_LEN];
	size_t uid_len = 0;
	char err[256] = "";
	enum watch_result result = WATCH_NOTHING;
	enum device_poll polled;

	*delay_ms = WATCH_POLL_MS;
	if (w->handle == NULL) {
		if (now_ms < w->next_open_ms) {
			*delay_ms = w->next_open_ms - now_ms;
			return WATCH_NOTHING;
		}
		w->handle = w->ops->open(w->ctx, w->connstring, err, sizeof(err));
		if (w->handle == NULL) {
			watch_fault(w, now_ms, "cannot open", err);
			*delay_ms = w->next_open_ms - now_ms;
			return WATCH_NOTHING;
		}
		log_info("device %s: open%s", w->connstring,
			 w->failures > 0 ? " again after a fault" : "");
	}
	polled = w->ops->poll(w->handle, uid, &uid_len, err, sizeof(err));
	if (polled == DEVICE_FAILED) {
		watch_fault(w, now_ms, "poll failed", err);
		*delay_ms = w->next_open_ms - now_ms;
		goto out;
	}
	w->failures = 0;
	backoff_reset(&w->backoff);
	if (polled == DEVICE_NO_CARD) {
		if (w->card_in_field && ++w->misses >= WATCH_REMOVE_MISSES) {
			w->card_in_field = false;
			explicit_bzero(w->card_credential, sizeof(w->card_credential));
			log_debug("card left the field");
		}
		goto out;
	}
	if (credential_compute(w->key, uid, uid_len, cred) != 0) {
		log_error("cannot compute a credential (UID of %zu bytes)", uid_len);
		goto out;
	}
	w->misses = 0;
	if (w->card_in_field && memcmp(cred, w->card_credential, CREDENTIAL_LEN) == 0)
		goto out; /* still held: the same presentation */
	w->card_in_field = true;
	memcpy(w->card_credential, cred, CREDENTIAL_LEN);
	memcpy(credential, cred, CREDENTIAL_LEN);
	result = WATCH_TAP;
out:
	explicit_bzero(uid, sizeof(uid));
	explicit_bzero(cred, sizeof(cred));
	return result;
}

static int watch_emit(struct watch *w, const uint8_t credential[CREDENTIAL_LEN])
{
	struct spool_event ev;
	ssize_t n;
	int rc = -1;

	memset(&ev, 0, sizeof(ev));
	ev.unix_ms = daemon_unix_ms();
	memcpy(ev.credential, credential, CREDENTIAL_LEN);
	if (tls_random_bytes(ev.id, sizeof(ev.id)) != 0) {
		log_error("no random bytes for an event id: tap dropped");
		goto out;
	}
	/* One write of less than PIPE_BUF bytes is atomic. */
	do
		n = write(w->event_fd, &ev, sizeof(ev));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(ev)) {
		log_err("cannot hand a tap to the main loop");
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(&ev, sizeof(ev));
	return rc;
}

static void *watch_thread(void *arg)
{
	struct watch *w = arg;
	uint8_t credential[CREDENTIAL_LEN];
	int64_t delay = 0;

	while (!atomic_load(&w->stop)) {
		struct pollfd pfd = {.fd = w->wake[0], .events = POLLIN};

		if (delay > 0 && poll(&pfd, 1, (int)delay) > 0)
			break;
		if (atomic_load(&w->stop))
			break;
		if (watch_step(w, daemon_monotonic_ms(), credential, &delay) == WATCH_TAP) {
			if (watch_emit(w, credential) == 0)
				log_debug("card presented");
			explicit_bzero(credential, sizeof(credential));
		}
	}
	if (w->handle != NULL)
		w->ops->close(w->handle);
	w->handle = NULL;
	return NULL;
}

int watch_start(struct watch *w, int event_fd)
{
	sigset_t all, old;
	int rc;

	if (pipe2(w->wake, O_CLOEXEC) != 0)
		return -1;
	w->event_fd = event_fd;
	atomic_store(&w->stop, false);
	/* Signals go to the main thread, whose poll() they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, watch_thread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	w->running = true;
	return 0;
}

int watch_stop(struct watch *w, int timeout_ms)
{
	struct timespec deadline;
	char byte = 1;

	if (!w->running)
		return 0;
	atomic_store(&w->stop, true);
	if (write(w->wake[1], &byte, 1) < 0) {
		/* The flag alone stops it at the next step. */
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(w->thread, NULL, &deadline) != 0)
		return -1;
	w->running = false;
	close(w->wake[0]);
	close(w->wake[1]);
	w->wake[0] = w->wake[1] = -1;
	return 0;
}

bool watch_abandoned(const struct watch *w)
{
	return w->running && atomic_load(&w->stop);
}
