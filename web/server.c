/*
 * server — see server.h.
 */
#include "server.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "assets.h"
#include "board.h"
#include "log.h"

#define SERVER_MAX_BODY 16384
#define SERVER_MAX_CONNECTIONS 128
#define SERVER_CONNECTION_TIMEOUT_S 60
/* TLS 1.3 only, as between readers and controllers; every browser sac
 * supports speaks it. */
#define SERVER_TLS_PRIORITIES "SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:%SERVER_PRECEDENCE"

struct server {
	struct MHD_Daemon *daemons[WEB_LISTEN_MAX];
	int count;
	char *cert_pem;
	char *key_pem;
};

/* Per-request state kept by libmicrohttpd between calls of the handler. */
struct server_request {
	char *body;
	size_t len;
	bool too_large;
};

/* Reads a whole PEM file.  Returns it (malloc'd, NUL-terminated) or NULL. */
static char *server_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && size < 1024 * 1024 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
		len = fread(text, 1, (size_t)size, f);
		text[len] = '\0';
		if (len != (size_t)size) {
			free(text);
			text = NULL;
		}
	}
	fclose(f);
	return text;
}

static void server_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char message[512];
	size_t len;

	(void)cls;
	vsnprintf(message, sizeof(message), fmt, ap);
	len = strlen(message);
	while (len > 0 && message[len - 1] == '\n')
		message[--len] = '\0';
	log_debug("libmicrohttpd: %s", message);
}

static const char *server_query(void *cls, const char *key)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

/* The client's address as text, for rate limiting only. */
static void server_source(struct MHD_Connection *conn, char *out, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	socklen_t len = sizeof(struct sockaddr_storage);

	out[0] = '\0';
	if (info == NULL || info->client_addr == NULL)
		return;
	if (info->client_addr->sa_family == AF_INET)
		len = sizeof(struct sockaddr_in);
	else if (info->client_addr->sa_family == AF_INET6)
		len = sizeof(struct sockaddr_in6);
	if (getnameinfo(info->client_addr, len, out, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
		out[0] = '\0';
}

/* The headers every answer carries. */
static int server_add_headers(struct MHD_Response *r, const char *content_type)
{
	static const char *const headers[][2] = {
		{"Cache-Control", "no-store"},
		{"Pragma", "no-cache"},
		{"Content-Security-Policy",
		 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
		 "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
		{"Strict-Transport-Security", "max-age=31536000"},
		{"X-Content-Type-Options", "nosniff"},
		{"X-Frame-Options", "DENY"},
		{"Referrer-Policy", "no-referrer"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Cross-Origin-Resource-Policy", "same-origin"},
		{"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
	};
	size_t i;

	for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		if (MHD_add_response_header(r, headers[i][0], headers[i][1]) != MHD_YES)
			return -1;
	if (content_type != NULL && MHD_add_response_header(r, "Content-Type", content_type) != MHD_YES)
		return -1;
	return 0;
}

static enum MHD_Result server_queue(struct MHD_Connection *conn, unsigned status,
				    struct MHD_Response *r, const char *content_type,
				    const char *set_cookie)
{
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	if (server_add_headers(r, content_type) != 0 ||
	    (set_cookie != NULL && set_cookie[0] != '\0' &&
	     MHD_add_response_header(r, "Set-Cookie", set_cookie) != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result server_static(struct MHD_Connection *conn, const char *method, const char *path)
{
	struct asset a;
	struct web_reply reply = {0};
	enum MHD_Result rc;

	if (assets_find(path, &a) == 0 && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
		return server_queue(conn, 200,
				    MHD_create_response_from_buffer(a.size, (void *)a.data,
								    MHD_RESPMEM_PERSISTENT),
				    a.content_type, NULL);
	if (assets_find(path, &a) == 0)
		api_error(&reply, 405, "method not allowed");
	else
		api_error(&reply, 404, "no such page");
	rc = server_queue(conn, reply.status,
			  MHD_create_response_from_buffer(reply.body_len, reply.body,
							  MHD_RESPMEM_MUST_COPY),
			  "application/json", NULL);
	api_reply_free(&reply);
	return rc;
}

static enum MHD_Result server_api(struct MHD_Connection *conn, const char *method, const char *path,
				  struct server_request *sr)
{
	struct web_request req = {0};
	struct web_reply reply;
	struct MHD_Response *r;
	char source[64];
	enum MHD_Result rc;

	server_source(conn, source, sizeof(source));
	req.method = method;
	req.path = path;
	req.body = sr->body;
	req.body_len = sr->len;
	req.session_id = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, API_SESSION_COOKIE);
	req.csrf_token = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
	req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	req.source = source;
	req.query = server_query;
	req.query_cls = conn;
	api_handle(&req, &reply);
	if (reply.stream != NULL) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, board_stream_read,
						      reply.stream, board_stream_free);
		if (r == NULL)
			board_stream_free(reply.stream);
	} else {
		r = MHD_create_response_from_buffer(reply.body_len, reply.body, MHD_RESPMEM_MUST_COPY);
	}
	rc = server_queue(conn, reply.status, r, reply.status == 204 ? NULL : reply.content_type,
			  reply.set_cookie);
	api_reply_free(&reply);
	return rc;
}

static enum MHD_Result server_handle(void *cls, struct MHD_Connection *conn, const char *url,
				     const char *method, const char *version, const char *upload_data,
				     size_t *upload_data_size, void **req_cls)
{
	struct server_request *sr = *req_cls;

	(void)cls;
	(void)version;
	if (sr == NULL) {
		sr = calloc(1, sizeof(*sr));
		if (sr == NULL)
			return MHD_NO;
		*req_cls = sr;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!sr->too_large && sr->len + *upload_data_size <= SERVER_MAX_BODY) {
			char *grown = realloc(sr->body, sr->len + *upload_data_size + 1);

			if (grown == NULL)
				return MHD_NO;
			sr->body = grown;
			memcpy(sr->body + sr->len, upload_data, *upload_data_size);
			sr->len += *upload_data_size;
			sr->body[sr->len] = '\0';
		} else {
			sr->too_large = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (sr->too_large) {
		struct web_reply reply = {0};
		enum MHD_Result rc;

		api_error(&reply, 413, "the request body is too large");
		rc = server_queue(conn, 413,
				  MHD_create_response_from_buffer(reply.body_len, reply.body,
								  MHD_RESPMEM_MUST_COPY),
				  "application/json", NULL);
		api_reply_free(&reply);
		return rc;
	}
	if (strncmp(url, "/api/", 5) == 0)
		return server_api(conn, method, url, sr);
	return server_static(conn, method, url);
}

static void server_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			     enum MHD_RequestTerminationCode toe)
{
	struct server_request *sr = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (sr == NULL)
		return;
	if (sr->body != NULL)
		explicit_bzero(sr->body, sr->len); /* may hold a password */
	free(sr->body);
	free(sr);
	*req_cls = NULL;
}

/* A listening socket for host:port.  Returns the fd or -1 after logging. */
static int server_listen(const char *host, int port)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	char service[16];
	int fd = -1, rc, one = 1;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		log_error("cannot listen on %s:%d: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
			log_warn("cannot listen on %s:%d", host, port);
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

struct server *server_start(const struct web_config *cfg)
{
	struct server *srv = calloc(1, sizeof(*srv));
	int i;

	if (srv == NULL)
		return NULL;
	srv->cert_pem = server_read_file(cfg->certificate);
	srv->key_pem = server_read_file(cfg->private_key);
	if (srv->cert_pem == NULL || srv->key_pem == NULL) {
		log_error("cannot read the %s %s",
			  srv->cert_pem == NULL ? "certificate" : "private key",
			  srv->cert_pem == NULL ? cfg->certificate : cfg->private_key);
		goto fail;
	}
	for (i = 0; i < cfg->listen.count && i < WEB_LISTEN_MAX; i++) {
		int fd = server_listen(cfg->listen.host[i], cfg->listen.port[i]);

		if (fd < 0)
			goto fail;
		srv->daemons[i] = MHD_start_daemon(
			MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				MHD_USE_ERROR_LOG,
			0, NULL, NULL, server_handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
			srv->key_pem, MHD_OPTION_HTTPS_PRIORITIES, SERVER_TLS_PRIORITIES,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVER_MAX_CONNECTIONS,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_CONNECTION_TIMEOUT_S,
			MHD_OPTION_NOTIFY_COMPLETED, server_completed, NULL, MHD_OPTION_EXTERNAL_LOGGER,
			server_mhd_log, NULL, MHD_OPTION_END);
		if (srv->daemons[i] == NULL) {
			close(fd);
			log_error("cannot serve HTTPS on %s:%d (libmicrohttpd refused the TLS "
				  "certificate, key or settings)",
				  cfg->listen.host[i], cfg->listen.port[i]);
			goto fail;
		}
		srv->count++;
		log_info("serving https://%s:%d/", cfg->listen.host[i], cfg->listen.port[i]);
	}
	return srv;
fail:
	server_stop(srv);
	return NULL;
}

void server_stop(struct server *srv)
{
	int i;

	if (srv == NULL)
		return;
	board_stop_all();
	for (i = 0; i < WEB_LISTEN_MAX; i++)
		if (srv->daemons[i] != NULL)
			MHD_stop_daemon(srv->daemons[i]); /* closes the listening socket too */
	if (srv->key_pem != NULL)
		explicit_bzero(srv->key_pem, strlen(srv->key_pem));
	free(srv->key_pem);
	free(srv->cert_pem);
	free(srv);
}
