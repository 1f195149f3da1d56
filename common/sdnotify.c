/*
 * sdnotify — the daemon_notify_* and watchdog part of daemon.h, on
 * libsystemd.  A file of its own so that a program that never talks to
 * systemd (sacctl) does not load libsystemd and its dependencies.
 */
#include "daemon.h"

#include <systemd/sd-daemon.h>

void daemon_notify_ready(const char *status)
{
	if (status != NULL)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
}

void daemon_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void daemon_notify_reloading(void)
{
	sd_notify(0, "RELOADING=1");
}

void daemon_notify_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void daemon_notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t daemon_watchdog_interval_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2;
}
