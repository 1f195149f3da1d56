/*
 * daemon — what every sac daemon does the same way: signal handlers that only
 * set flags, and the systemd notification protocol (READY, STOPPING,
 * WATCHDOG) when NOTIFY_SOCKET is set.  It does not fork or drop privileges:
 * systemd runs the daemons as their own user.
 */
#ifndef SAC_DAEMON_H
#define SAC_DAEMON_H

#include <signal.h>
#include <stdint.h>

/* Keeps secrets out of core dumps: the process becomes non-dumpable
 * (PR_SET_DUMPABLE 0: no core, no ptrace by other users, /proc/PID/mem
 * closed) and RLIMIT_CORE is 0, hard limit included.  Every sac program
 * calls it first.  Returns 0, or -1 (errno set) when either step failed. */
int daemon_harden(void) __attribute__((warn_unused_result));

/* Set by the handlers; read and cleared by the main loop. */
extern volatile sig_atomic_t daemon_terminate; /* SIGTERM, SIGINT */
extern volatile sig_atomic_t daemon_reload;    /* SIGHUP */

/* Installs the handlers (without SA_RESTART, so blocking calls return EINTR)
 * and ignores SIGPIPE.  Returns 0 or -1. */
int daemon_signals_install(void) __attribute__((warn_unused_result));

/* sd_notify wrappers (common/sdnotify.c); no-ops without NOTIFY_SOCKET. */
void daemon_notify_ready(const char *status);
void daemon_notify_stopping(void);
void daemon_notify_reloading(void);
void daemon_notify_status(const char *status);
void daemon_notify_watchdog(void);

/* Half the watchdog interval systemd asked for, in microseconds, or 0 when
 * no watchdog is requested: ping at least this often. */
uint64_t daemon_watchdog_interval_usec(void);

/* Monotonic time in milliseconds and wall-clock Unix time in milliseconds. */
int64_t daemon_monotonic_ms(void);
int64_t daemon_unix_ms(void);

#endif
