/*
 * daemon — what every sac daemon does the same way: the start-up sequence
 * (daemon_start: hardening, the common options, the configuration, the
 * signal handlers), signal handlers that only set flags, and the systemd
 * notification protocol (READY, STOPPING, WATCHDOG) when NOTIFY_SOCKET is
 * set.  It does not fork or drop privileges: systemd runs the daemons as
 * their own user.
 */
#ifndef SAC_DAEMON_H
#define SAC_DAEMON_H

#include <getopt.h>
#include <signal.h>
#include <stdint.h>

#include "config.h"

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

/* What daemon_start needs to know about one daemon.  ctx is the program's
 * own state, passed to every hook unchanged. */
struct daemon_program {
	const char *name;	    /* "sac-web": the log identity and --version */
	const char *default_config; /* the file read without -c */
	const char *usage;	    /* --help text, also printed on bad usage */
	const struct config_schema *schema;
	/* The program's own options besides -c/--config, --check-config,
	 * --version and --help: letters appended to the short options "c:"
	 * (NULL: none) and long options ending with a zeroed entry (NULL:
	 * none).  Their values must not be 'c', 'k', 'V' or 'h' unless they
	 * mean the same (the controller accepts -h for --help). */
	const char *extra_short;
	const struct option *extra_long;
	/* Takes one of those options (optarg in arg) into ctx. */
	void (*option)(void *ctx, int opt, const char *arg);
	/* Runs only on a configuration that loaded without problems, also for
	 * --check-config: checks more than the table can (that the TLS files
	 * make a context), recording every problem.  Returns CONFIG_OK or
	 * CONFIG_INVALID.  NULL: nothing more to check. */
	enum config_status (*check)(void *ctx, const char *path, void *cfg,
				    struct config_problems *problems);
	/* The daemon itself, with the signal handlers installed; its return
	 * value is the exit status.  cfg stays the program's until it returns
	 * (a SIGHUP may replace its contents). */
	int (*run)(void *ctx, const char *path, void *cfg);
};

/* The whole life of a daemon, in this order: log_init(name), daemon_harden,
 * the options, config_load of the file into *cfg (program->schema; the
 * struct is program->schema->size bytes) and program->check, then
 * daemon_signals_install and program->run.  Every problem is printed on
 * stderr with its file and line.  *cfg is zeroed first and, once loaded,
 * config_free'd on every path before daemon_start returns; whatever the
 * hooks put in ctx is the caller's to free.  Returns the exit status
 * (SPEC §2):
 *   0  --help, --version, --check-config on a good file, or run's 0;
 *   2  bad usage (the usage on stderr) or problems in the configuration;
 *   3  the file cannot be read, or hardening or the signal handlers failed;
 *   otherwise what run returned. */
int daemon_start(const struct daemon_program *program, void *cfg, void *ctx, int argc, char **argv)
	__attribute__((warn_unused_result));

#endif
