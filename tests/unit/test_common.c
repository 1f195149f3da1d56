/*
 * Unit tests for common/: hex, durations, HMAC-SHA256 (RFC 4231 vectors),
 * the credential key file, the configuration reader and the key tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "credential.h"
#include "duration.h"
#include "hex.h"
#include "log.h"
#include "tls.h"

static void test_hex_roundtrip(void **state)
{
	const uint8_t in[] = {0x00, 0x7f, 0x80, 0xff, 0x12};
	uint8_t out[8];
	char text[16];

	(void)state;
	assert_int_equal(hex_encode(in, sizeof(in), text, sizeof(text)), 0);
	assert_string_equal(text, "007f80ff12");
	assert_int_equal(hex_decode("007F80ff12", 10, out, sizeof(out)), 5);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(hex_encode(in, sizeof(in), text, 10), -1);
}

static void test_hex_rejects(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(hex_decode("abc", 3, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("zz", 2, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("0a\0b", 4, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("0011223344", 10, out, sizeof(out)), -1);
	assert_true(hex_is_lower("09af", 4));
	assert_false(hex_is_lower("09aF", 4));
	assert_false(hex_is_lower("09ag", 4));
}

static void test_duration(void **state)
{
	int64_t s = 0;

	(void)state;
	assert_int_equal(duration_parse("60s", &s), 0);
	assert_int_equal(s, 60);
	assert_int_equal(duration_parse("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(duration_parse("24h", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(duration_parse("30d", &s), 0);
	assert_int_equal(s, 2592000);
	assert_int_equal(duration_parse("45", &s), 0);
	assert_int_equal(s, 45);
	assert_int_equal(duration_parse("", &s), -1);
	assert_int_equal(duration_parse("0s", &s), -1);
	assert_int_equal(duration_parse("-5s", &s), -1);
	assert_int_equal(duration_parse("5 s", &s), -1);
	assert_int_equal(duration_parse("5w", &s), -1);
	assert_int_equal(duration_parse("5sx", &s), -1);
	assert_int_equal(duration_parse("h", &s), -1);
	assert_int_equal(duration_parse("99999999999999999999d", &s), -1);
	assert_int_equal(duration_parse("9223372036854775807s", &s), -1);
	assert_int_equal(duration_parse("36000d", &s), 0);
	assert_int_equal(duration_parse("40000000d", &s), -1);
}

static void test_duration_format(void **state)
{
	char out[16];

	(void)state;
	duration_format(86400, out, sizeof(out));
	assert_string_equal(out, "24h");
	duration_format(30 * 86400, out, sizeof(out));
	assert_string_equal(out, "30d");
	duration_format(7200, out, sizeof(out));
	assert_string_equal(out, "2h");
	duration_format(90, out, sizeof(out));
	assert_string_equal(out, "90s");
}

struct hmac_vector {
	uint8_t key[131];
	size_t key_len;
	const char *data;
	size_t data_len;
	const char *mac;
};

/* RFC 4231, test cases 1-4, 6 and 7 (case 5 is a truncated output). */
static void test_hmac_rfc4231(void **state)
{
	static struct hmac_vector v[6];
	uint8_t data3[50], data4[50], mac[32];
	char hex[65];
	size_t i;

	(void)state;
	memset(v, 0, sizeof(v));
	memset(v[0].key, 0x0b, 20);
	v[0].key_len = 20;
	v[0].data = "Hi There";
	v[0].data_len = 8;
	v[0].mac = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
	memcpy(v[1].key, "Jefe", 4);
	v[1].key_len = 4;
	v[1].data = "what do ya want for nothing?";
	v[1].data_len = 28;
	v[1].mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	memset(v[2].key, 0xaa, 20);
	v[2].key_len = 20;
	memset(data3, 0xdd, sizeof(data3));
	v[2].data = (const char *)data3;
	v[2].data_len = 50;
	v[2].mac = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
	for (i = 0; i < 25; i++)
		v[3].key[i] = (uint8_t)(i + 1);
	v[3].key_len = 25;
	memset(data4, 0xcd, sizeof(data4));
	v[3].data = (const char *)data4;
	v[3].data_len = 50;
	v[3].mac = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
	memset(v[4].key, 0xaa, 131);
	v[4].key_len = 131;
	v[4].data = "Test Using Larger Than Block-Size Key - Hash Key First";
	v[4].data_len = strlen(v[4].data);
	v[4].mac = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
	memset(v[5].key, 0xaa, 131);
	v[5].key_len = 131;
	v[5].data = "This is a test using a larger than block-size key and a larger than "
		    "block-size data. The key needs to be hashed before being used by the HMAC "
		    "algorithm.";
	v[5].data_len = strlen(v[5].data);
	v[5].mac = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";

	for (i = 0; i < 6; i++) {
		assert_int_equal(tls_hmac_sha256(v[i].key, v[i].key_len, (const uint8_t *)v[i].data,
						 v[i].data_len, mac),
				 0);
		assert_int_equal(hex_encode(mac, sizeof(mac), hex, sizeof(hex)), 0);
		assert_string_equal(hex, v[i].mac);
	}
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sac-unit.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_credential_key(void **state)
{
	const char *good = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	uint8_t key[CREDENTIAL_KEY_LEN];
	char path[128], err[256], cred[CREDENTIAL_HEX_LEN + 1];
	const uint8_t uid[] = {0x04, 0xa2, 0x2b, 0x1c};

	(void)state;
	snprintf(path, sizeof(path), "%s/credential.key", tmpdir);
	write_file(path, good, 0600);
	assert_int_equal(credential_key_load(path, key, err, sizeof(err)), 0);
	assert_int_equal(key[31], 0x1f);
	assert_int_equal(credential_compute_hex(key, uid, sizeof(uid), cred), 0);
	assert_int_equal(strlen(cred), 64);
	assert_true(hex_is_lower(cred, 64));
	assert_int_equal(credential_compute_hex(key, uid, 0, cred), -1);
	assert_int_equal(credential_compute_hex(key, uid, 11, cred), -1);

	write_file(path, good, 0640);
	assert_int_equal(credential_key_load(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too open"));

	write_file(path, "00010203", 0600);
	assert_int_equal(credential_key_load(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "64 hexadecimal digits"));

	write_file(path, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0600);
	assert_int_equal(credential_key_load(path, key, err, sizeof(err)), -1);

	snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
	assert_int_equal(credential_key_load(path, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

static const char *const purge_keys[] = {"database",  "interval",      "access_max_age",
					 "video_dir", "video_max_age", NULL};

static void test_config_good(void **state)
{
	struct config_problems problems = {0};
	struct config_file *cf = NULL;
	char path[128];
	int64_t seconds = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/purge.conf", tmpdir);
	write_file(path,
		   "; sac purge\n"
		   "[purge]\n"
		   "database = host=/run/postgresql dbname=sac user=sac_purger ; a comment\n"
		   "interval=30s\n"
		   "\n"
		   "# another comment\n"
		   "access_max_age = 12h\n"
		   "[controller]\n"
		   "listen = 127.0.0.1:7443\n",
		   0644);
	assert_int_equal(config_read(path, "purge", purge_keys, &cf, &problems), CONFIG_READ_OK);
	assert_int_equal(problems.count, 0);
	assert_string_equal(config_get_string(cf, "database", true, &problems),
			    "host=/run/postgresql dbname=sac user=sac_purger");
	assert_int_equal(config_find(cf, "interval")->line, 4);
	assert_int_equal(config_get_duration(cf, "interval", 60, 0, &seconds, &problems), 0);
	assert_int_equal(seconds, 30);
	assert_int_equal(config_get_duration(cf, "access_max_age", 86400, 86400, &seconds, &problems),
			 0);
	assert_int_equal(seconds, 43200);
	assert_int_equal(
		config_get_duration(cf, "video_max_age", 2592000, 2592000, &seconds, &problems), 0);
	assert_int_equal(seconds, 2592000);
	assert_null(config_get_string(cf, "video_dir", false, &problems));
	assert_int_equal(problems.count, 0);
	config_file_free(cf);
	config_problems_free(&problems);
}

static void test_config_every_problem(void **state)
{
	struct config_problems problems = {0};
	struct config_file *cf = NULL;
	char path[128];
	int64_t seconds = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	write_file(path,
		   "stray = 1\n"
		   "[purge]\n"
		   "colour = blue\n"
		   "this line has no equals sign\n"
		   "access_max_age = 25h\n"
		   "interval = soon\n"
		   "interval = 10s\n"
		   "[printer]\n",
		   0644);
	assert_int_equal(config_read(path, "purge", purge_keys, &cf, &problems), CONFIG_READ_OK);
	assert_int_equal(config_get_duration(cf, "access_max_age", 86400, 86400, &seconds, &problems),
			 -1);
	assert_int_equal(config_get_duration(cf, "interval", 60, 0, &seconds, &problems), -1);
	assert_null(config_get_string(cf, "database", true, &problems));
	config_problems_print(&problems);
	assert_int_equal(problems.count, 8);
	assert_non_null(strstr(problems.items[0], ":1: 'stray' is outside any [section]"));
	assert_non_null(strstr(problems.items[1], ":3: unknown key 'colour'"));
	assert_non_null(strstr(problems.items[2], ":4: syntax error"));
	assert_non_null(strstr(problems.items[3], ":7: 'interval' is set again (first set on line 6)"));
	assert_non_null(strstr(problems.items[4], ":8: unknown section [printer]"));
	assert_non_null(strstr(problems.items[5],
			       ":5: 'access_max_age' is 25h, longer than the legal limit of 24h"));
	assert_non_null(strstr(problems.items[6], ":6: 'interval' must be a positive duration"));
	assert_non_null(strstr(problems.items[7], "missing required key 'database' in [purge]"));
	config_file_free(cf);
	config_problems_free(&problems);
}

static void test_config_unreadable(void **state)
{
	struct config_problems problems = {0};
	struct config_file *cf = NULL;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
	assert_int_equal(config_read(path, "purge", purge_keys, &cf, &problems),
			 CONFIG_READ_UNREADABLE);
	assert_int_equal(problems.count, 1);
	assert_non_null(strstr(problems.items[0], "cannot read configuration"));
	config_file_free(cf);
	config_problems_free(&problems);
	assert_int_equal(config_read(tmpdir, "purge", purge_keys, &cf, &problems),
			 CONFIG_READ_UNREADABLE);
	config_file_free(cf);
	config_problems_free(&problems);
}

static void test_config_endpoints_and_files(void **state)
{
	static const char *const keys[] = {"controllers", "certificate", "bad", NULL};
	struct config_problems problems = {0};
	struct config_file *cf = NULL;
	char path[128], text[512];
	char *hosts[4];
	int ports[4];
	int n;

	(void)state;
	snprintf(path, sizeof(path), "%s/reader.conf", tmpdir);
	snprintf(text, sizeof(text),
		 "[reader]\ncontrollers = 127.0.0.1:7443, [::1]:7444 ,ctl.example:1\n"
		 "certificate = %s/nothing.crt\nbad = host:99999\n",
		 tmpdir);
	write_file(path, text, 0644);
	assert_int_equal(config_read(path, "reader", keys, &cf, &problems), CONFIG_READ_OK);
	n = config_get_endpoints(cf, "controllers", true, hosts, ports, 4, &problems);
	assert_int_equal(n, 3);
	assert_string_equal(hosts[0], "127.0.0.1");
	assert_int_equal(ports[0], 7443);
	assert_string_equal(hosts[1], "::1");
	assert_int_equal(ports[1], 7444);
	assert_string_equal(hosts[2], "ctl.example");
	while (n > 0)
		free(hosts[--n]);
	assert_int_equal(config_get_endpoints(cf, "bad", true, hosts, ports, 4, &problems), -1);
	assert_null(config_get_file(cf, "certificate", true, &problems));
	assert_int_equal(problems.count, 2);
	assert_non_null(strstr(problems.items[0], ":4: 'bad': bad port"));
	assert_non_null(strstr(problems.items[1], ":3: 'certificate': cannot use"));
	config_file_free(cf);
	config_problems_free(&problems);
}

/* The reader's table: defaults, the private-key rule for TLS and card keys,
 * choices, and the cross-key rule for card = desfire. */
static void test_config_reader_table(void **state)
{
	struct config_problems problems = {0};
	struct reader_config rc;
	char path[128], text[2048];
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/cred.key", tmpdir);
	write_file(path, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
	snprintf(path, sizeof(path), "%s/tls.key", tmpdir);
	write_file(path, "not really a key\n", 0600);
	snprintf(path, sizeof(path), "%s/tls.crt", tmpdir);
	write_file(path, "not really a certificate\n", 0644);
	snprintf(path, sizeof(path), "%s/card.key", tmpdir);
	write_file(path, "00112233445566778899aabbccddeeff\n", 0644);
	snprintf(path, sizeof(path), "%s/r.conf", tmpdir);
	snprintf(text, sizeof(text),
		 "[reader]\nid = gate-1\ndevice = pn532_uart:/dev/null\n"
		 "controllers = 127.0.0.1:7443\ncertificate = %1$s/tls.crt\n"
		 "private_key = %1$s/tls.key\ncontroller_ca = %1$s/tls.crt\n"
		 "credential_key = %1$s/cred.key\nspool = %1$s/r.spool\n",
		 tmpdir);
	write_file(path, text, 0644);
	assert_int_equal(config_load(&config_reader, path, &rc, &problems), CONFIG_OK);
	assert_int_equal(problems.count, 0);
	assert_string_equal(rc.id, "gate-1");
	assert_int_equal(rc.controllers.count, 1);
	assert_int_equal(rc.controllers.port[0], 7443);
	assert_int_equal(rc.card, READER_CARD_UID); /* the default */
	assert_null(rc.crl);
	assert_null(rc.card_key.bytes);
	assert_int_equal(rc.credential_key.len, CREDENTIAL_KEY_LEN);
	assert_int_equal(rc.credential_key.bytes[31], 0x1f);
	config_free(&config_reader, &rc);

	/* A group-readable TLS key, an unknown card type, a card key open to
	 * others and of the wrong length: each one a problem naming the file. */
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
		 "card = mifare\ncard_key = %s/card.key\n", tmpdir);
	write_file(path, text, 0644);
	snprintf(text, sizeof(text), "%s/tls.key", tmpdir);
	chmod(text, 0640);
	assert_int_equal(config_load(&config_reader, path, &rc, &problems), CONFIG_INVALID);
	for (i = 0; i < problems.count; i++)
		print_message("%s\n", problems.items[i]);
	assert_int_equal(problems.count, 3);
	assert_non_null(strstr(problems.items[0], ":6: 'private_key': private key "));
	assert_non_null(strstr(problems.items[0], "tls.key has permissions 0640, too open"));
	assert_non_null(strstr(problems.items[1], ":10: 'card' must be uid|desfire, not 'mifare'"));
	assert_non_null(strstr(problems.items[2], ":11: 'card_key': private key "));
	config_free(&config_reader, &rc);
	config_problems_free(&problems);
	chmod(text, 0600);
	snprintf(text, sizeof(text), "%s/card.key", tmpdir);
	chmod(text, 0600);
	write_file(path, "", 0644); /* rewritten below */
	snprintf(text, sizeof(text),
		 "[reader]\nid = gate-1\ndevice = pn532_uart:/dev/null\n"
		 "controllers = 127.0.0.1:7443\ncertificate = %1$s/tls.crt\n"
		 "private_key = %1$s/tls.key\ncontroller_ca = %1$s/tls.crt\n"
		 "credential_key = %1$s/card.key\nspool = %1$s/r.spool\ncard = desfire\n",
		 tmpdir);
	write_file(path, text, 0644);
	assert_int_equal(config_load(&config_reader, path, &rc, &problems), CONFIG_INVALID);
	assert_int_equal(problems.count, 2);
	assert_non_null(strstr(problems.items[0], ":8: 'credential_key': key "));
	assert_non_null(strstr(problems.items[0], "exactly 64 hexadecimal digits"));
	assert_non_null(strstr(problems.items[1], ":10: 'card = desfire' needs 'card_key'"));
	config_free(&config_reader, &rc);
	config_problems_free(&problems);
}

/* SIGHUP's contract: a reloadable key changes, one that is not keeps its
 * running value, and the file's value ends up in the old struct. */
static void test_config_reload_keeps_restart_keys(void **state)
{
	struct config_problems problems = {0};
	struct purge_config running, fresh;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/p.conf", tmpdir);
	write_file(path, "[purge]\ndatabase = dbname=a\nvideo_max_age = 10d\n", 0644);
	assert_int_equal(config_load(&config_purge, path, &running, &problems), CONFIG_OK);
	assert_int_equal(running.video_max_age_s, 10 * 86400);
	config_free(&config_purge, &running);
	/* The access-data limit and the interval are database settings. */
	write_file(path, "[purge]\ndatabase = dbname=a\ninterval = 1s\naccess_max_age = 1h\n", 0644);
	assert_int_equal(config_load(&config_purge, path, &running, &problems), CONFIG_INVALID);
	assert_int_equal(problems.count, 2);
	assert_non_null(strstr(problems.items[0], ":3: unknown key 'interval' in [purge]"));
	assert_non_null(strstr(problems.items[1], ":4: unknown key 'access_max_age' in [purge]"));
	config_free(&config_purge, &running);
	config_problems_free(&problems);
	write_file(path, "[purge]\ndatabase = dbname=a\nvideo_max_age = 10d\n", 0644);
	assert_int_equal(config_load(&config_purge, path, &running, &problems), CONFIG_OK);
	write_file(path, "[purge]\ndatabase = dbname=b\nvideo_max_age = 31d\n", 0644);
	assert_int_equal(config_reload(&config_purge, path, &fresh), CONFIG_INVALID);
	assert_null(fresh.database);
	write_file(path, "[purge]\ndatabase = dbname=b\nvideo_max_age = 20d\n", 0644);
	assert_int_equal(config_reload(&config_purge, path, &fresh), CONFIG_OK);
	assert_false(config_same(&config_purge, "database", &running, &fresh));
	assert_int_equal(config_commit(&config_purge, path, &running, &fresh), 2);
	assert_string_equal(fresh.database, "dbname=b");
	assert_int_equal(fresh.video_max_age_s, 20 * 86400);
	config_free(&config_purge, &running);
	config_free(&config_purge, &fresh);
	config_problems_free(&problems);
}

static void test_config_reload_controller_listen(void **state)
{
	struct config_problems problems = {0};
	struct settings running, fresh;
	char path[128], text[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s/c.conf", tmpdir);
	snprintf(text, sizeof(text),
		 "[controller]\nlisten = 127.0.0.1:7443\ncertificate = %1$s/tls.crt\n"
		 "private_key = %1$s/tls.key\nreader_ca = %1$s/tls.crt\ndatabase = dbname=sac\n",
		 tmpdir);
	write_file(path, text, 0644);
	assert_int_equal(config_load(&config_controller, path, &running, &problems), CONFIG_OK);
	snprintf(text, sizeof(text),
		 "[controller]\nlisten = 127.0.0.1:7444\ncertificate = %1$s/tls.crt\n"
		 "private_key = %1$s/tls.key\nreader_ca = %1$s/tls.crt\ndatabase = dbname=sac\n"
		 "crl = %1$s/tls.crt\n",
		 tmpdir);
	write_file(path, text, 0644);
	assert_int_equal(config_reload(&config_controller, path, &fresh), CONFIG_OK);
	assert_int_equal(config_commit(&config_controller, path, &running, &fresh), 1);
	assert_int_equal(fresh.listen.port[0], 7443); /* needs a restart */
	assert_int_equal(running.listen.port[0], 7444);
	assert_non_null(fresh.crl);
	config_free(&config_controller, &running);
	config_free(&config_controller, &fresh);
	config_problems_free(&problems);
}

/* Every line of a multi-line message (libpq: ERROR, DETAIL, HINT) carries
 * the priority prefix, so journald files each at the message's level. */
static void test_log_every_line_prefixed(void **state)
{
	char path[128], text[512];
	int fd, saved;
	FILE *fp;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/log.out", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	log_init("t", LOG_LEVEL_INFO);
	log_error("query failed: %s", "ERROR:  boom\nDETAIL:  why\nHINT:  what\n");
	log_debug("not written at the default level");
	log_notice("%s", "one line");
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(fd);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	assert_string_equal(text, "<3>t: query failed: ERROR:  boom\n"
				  "<3>t: DETAIL:  why\n"
				  "<3>t: HINT:  what\n"
				  "<5>t: one line\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_roundtrip),
		cmocka_unit_test(test_hex_rejects),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_credential_key),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_every_problem),
		cmocka_unit_test(test_config_unreadable),
		cmocka_unit_test(test_config_endpoints_and_files),
		cmocka_unit_test(test_config_reader_table),
		cmocka_unit_test(test_log_every_line_prefixed),
		cmocka_unit_test(test_config_reload_keeps_restart_keys),
		cmocka_unit_test(test_config_reload_controller_listen),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
