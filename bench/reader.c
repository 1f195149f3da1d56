/*
 * bench/reader — latency of sac-reader from a card presented on pn532-sim to
 * the event created (spooled) and to the controller's ACK, and the spool's
 * append+fdatasync rate.  Run by bench/reader.sh, which starts PostgreSQL,
 * the controller and pn532-sim:
 *
 *   reader --control SOCKET --uid HEX --count N --spool-dir DIR -- sac-reader -c FILE
 *
 * It starts the reader itself, reading its log from a pipe, and times each
 * presentation from the `present` control line to the reader's log lines
 * "event <id> created" and "event <id>: GRANT|DENY".
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reader/spool.h"

static double bench_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* One control line to pn532-sim; 0 when it answered "ok". */
static int bench_sim(const char *control, const char *line)
{
	struct sockaddr_un sa;
	char reply[128];
	ssize_t n;
	int fd, rc = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", control);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto out;
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) || write(fd, "\n", 1) != 1)
		goto out;
	n = read(fd, reply, sizeof(reply) - 1);
	if (n >= 2 && strncmp(reply, "ok", 2) == 0)
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_pct(double *v, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);

	return v[i];
}

static void bench_report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp);
	printf("%-28s n=%d  p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n", what, n,
	       bench_pct(v, n, 0.50), bench_pct(v, n, 0.90), bench_pct(v, n, 0.99), v[n - 1]);
}

/* Reads log lines until one contains needle (and, if id is given, the id
 * after "event ").  Copies the 32-digit id of the matching line to id_out. */
static int bench_wait_line(FILE *log, const char *needle, const char *id, char *id_out)
{
	char line[1024];

	while (fgets(line, sizeof(line), log) != NULL) {
		const char *ev = strstr(line, "event ");

		if (strstr(line, needle) == NULL || ev == NULL)
			continue;
		if (id != NULL && strncmp(ev + 6, id, 32) != 0)
			continue;
		if (id_out != NULL) {
			memcpy(id_out, ev + 6, 32);
			id_out[32] = '\0';
		}
		return 0;
	}
	return -1;
}

static void bench_spool_rate(const char *dir)
{
	char path[512];
	struct spool *sp = NULL;
	struct spool_stats st;
	struct spool_event ev;
	double start, elapsed;
	int i, n = 500;

	snprintf(path, sizeof(path), "%s/bench.spool", dir);
	unlink(path);
	if (spool_open(path, &sp, &st) != 0)
		return;
	memset(&ev, 0x5a, sizeof(ev));
	start = bench_now_ms();
	for (i = 0; i < n; i++) {
		ev.id[0] = (uint8_t)i;
		ev.id[1] = (uint8_t)(i >> 8);
		if (spool_append(sp, &ev) != 0)
			break;
	}
	elapsed = bench_now_ms() - start;
	printf("spool append+fdatasync       n=%d  %.0f events/s  (%.2f ms each)\n", i,
	       i / (elapsed / 1000.0), elapsed / i);
	spool_close(sp);
	unlink(path);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{"control", required_argument, NULL, 'c'},
		{"uid", required_argument, NULL, 'u'},
		{"count", required_argument, NULL, 'n'},
		{"spool-dir", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	const char *control = NULL, *uid = NULL, *spool_dir = NULL;
	int count = 200, opt, pipefd[2], i, done = 0, status;
	double *created, *acked;
	char line[160], id[33];
	FILE *log;
	pid_t pid;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			control = optarg;
			break;
		case 'u':
			uid = optarg;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 's':
			spool_dir = optarg;
			break;
		default:
			return 2;
		}
	}
	if (control == NULL || uid == NULL || spool_dir == NULL || count < 1 || optind >= argc) {
		fprintf(stderr,
			"usage: reader --control S --uid HEX --count N --spool-dir D -- CMD...\n");
		return 2;
	}
	created = calloc((size_t)count, sizeof(double));
	acked = calloc((size_t)count, sizeof(double));
	if (created == NULL || acked == NULL || pipe(pipefd) != 0)
		return 3;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(pipefd[1]);
	log = fdopen(pipefd[0], "r");
	if (pid < 0 || log == NULL)
		return 3;
	/* Time presentations only once the reader is connected. */
	while (fgets(line, sizeof(line), log) != NULL &&
	       strstr(line, "connected to controller") == NULL)
		;
	for (i = 0; i < count; i++) {
		double t0;

		snprintf(line, sizeof(line), "present %s", uid);
		t0 = bench_now_ms();
		if (bench_sim(control, line) != 0 || bench_wait_line(log, " created", NULL, id) != 0)
			break;
		created[i] = bench_now_ms() - t0;
		if (bench_wait_line(log, ": ", id, NULL) != 0)
			break;
		acked[i] = bench_now_ms() - t0;
		done++;
		if (bench_sim(control, "remove") != 0 || bench_sim(control, "wait-polls 3") != 0)
			break;
	}
	kill(pid, SIGTERM);
	while (fgets(line, sizeof(line), log) != NULL)
		;
	waitpid(pid, &status, 0);
	if (done < count) {
		fprintf(stderr, "only %d of %d presentations completed\n", done, count);
		return 1;
	}
	bench_report("presented -> event created", created, done);
	bench_report("presented -> ACK received", acked, done);
	bench_spool_rate(spool_dir);
	free(created);
	free(acked);
	return 0;
}
