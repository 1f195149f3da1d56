/*
 * daemon — see daemon.h.
 */
#include "daemon.h"

#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

volatile sig_atomic_t daemon_terminate;
volatile sig_atomic_t daemon_reload;

int daemon_harden(void)
{
	struct rlimit none = {0, 0}, now;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -1;
	if (setrlimit(RLIMIT_CORE, &none) == 0)
		return 0;
	/* A system call filter may forbid setrlimit; a limit of 0 set by the
	 * service manager (LimitCORE=0) is as good. */
	if (getrlimit(RLIMIT_CORE, &now) == 0 && now.rlim_cur == 0 && now.rlim_max == 0)
		return 0;
	return -1;
}

static void daemon_on_signal(int signo)
{
	if (signo == SIGHUP)
		daemon_reload = 1;
	else
		daemon_terminate = 1;
}

int daemon_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	return 0;
}

int64_t daemon_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t daemon_unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
