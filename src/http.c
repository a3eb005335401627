#include "http.h"

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "landing.h"
#include "log.h"
#include "negotiate.h"
#include "request_deadline.h"
#include "xalloc.h"

#define MAX_LISTENERS 16
/* Worker threads per listening socket. Scrapes are coalesced, so more threads would only wait
 * for the same collection; a few let health checks and the landing page answer meanwhile. */
#define THREADS_PER_LISTENER 4
#define THREAD_STACK_SIZE    (256 * 1024)
/* Request line and headers must fit here; larger requests get 431. */
#define CONNECTION_MEMORY_LIMIT (32 * 1024)
#define AUTH_REALM              "kobsd"

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result handler_result;
#else
typedef int handler_result;
#endif

/* One set of libmicrohttpd daemons serving one web configuration. A reload starts a new
 * generation on the same sockets and retires the old one, so no request ever sees a half-changed
 * configuration and nothing needs a lock. */
struct generation {
	struct http *h;
	struct web_config web;
	struct MHD_Daemon *daemons[MAX_LISTENERS];
	size_t ndaemons;
	/* The last password each user was verified with, as a salted SHA-256, so that a scraper
	 * sending the same credentials every few seconds costs one bcrypt, not one per scrape. */
	pthread_mutex_t cache_lock;
	unsigned char (*verified)[32];
	unsigned char salt[16];
};

struct http {
	struct generation *current;
	int fds[MAX_LISTENERS];
	size_t nfds;
	struct http_config config;
	struct scrape *scrape;
	atomic_bool ready;
	atomic_uint in_flight; /* requests whose answer is not fully sent yet */
	struct request_deadlines *deadlines;
};

static void add_configured_headers(const struct generation *g, struct MHD_Response *r)
{
	for (size_t i = 0; i < g->web.nheaders; i++)
		MHD_add_response_header(r, g->web.headers[i].name, g->web.headers[i].value);
}

/* A response with its content type and the web config's headers; NULL when out of memory. */
static struct MHD_Response *new_response(const struct generation *g, const void *body, size_t len,
                                         enum MHD_ResponseMemoryMode mode, const char *content_type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (!r)
		return NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	add_configured_headers(g, r);
	return r;
}

static handler_result queue_text(const struct generation *g, struct MHD_Connection *c,
                                 unsigned status, const char *body)
{
	struct MHD_Response *r = new_response(g, body, strlen(body), MHD_RESPMEM_PERSISTENT,
	                                      "text/plain; charset=utf-8");
	if (!r)
		return MHD_NO;
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	handler_result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

struct metrics_reply {
	struct MHD_Response *response;
};

static void copy_into_response(const char *body, size_t len, void *arg)
{
	struct metrics_reply *reply = arg;
	reply->response = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
}

static handler_result serve_metrics(const struct generation *g, struct MHD_Connection *c)
{
	const char *accept =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *encoding =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	enum expo_format format = negotiate_format(accept);
	bool gzip = negotiate_gzip(encoding);

	struct metrics_reply reply = {NULL};
	if (scrape_serve(g->h->scrape, format, gzip, copy_into_response, &reply) < 0) {
		gzip = false;
		scrape_serve(g->h->scrape, format, false, copy_into_response, &reply);
	}
	if (!reply.response)
		return queue_text(g, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory\n");
	MHD_add_response_header(reply.response, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        expo_content_type(format));
	if (gzip)
		MHD_add_response_header(reply.response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(reply.response, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	add_configured_headers(g, reply.response);
	handler_result ret = MHD_queue_response(c, MHD_HTTP_OK, reply.response);
	MHD_destroy_response(reply.response);
	return ret;
}

static handler_result serve_landing(const struct generation *g, struct MHD_Connection *c)
{
	struct collector_status status[32];
	size_t n = scrape_status(g->h->scrape, status, 32);
	struct buf page;
	buf_init(&page);
	landing_render(&page, g->h->config.telemetry_path, g->h->config.privileges, status, n,
	               atomic_load(&g->h->ready));
	struct MHD_Response *r =
	    new_response(g, page.data, page.len, MHD_RESPMEM_MUST_COPY, "text/html; charset=utf-8");
	buf_free(&page);
	if (!r)
		return MHD_NO;
	handler_result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void password_digest(const struct generation *g, const char *password, unsigned char out[32])
{
	gnutls_hash_hd_t hd;
	memset(out, 0, 32);
	if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) < 0)
		return;
	gnutls_hash(hd, g->salt, sizeof(g->salt));
	gnutls_hash(hd, password, strlen(password));
	gnutls_hash_deinit(hd, out);
}

static bool digests_equal(const unsigned char *a, const unsigned char *b)
{
	volatile unsigned char diff = 0;
	for (int i = 0; i < 32; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static bool password_ok(struct generation *g, size_t user, const char *password)
{
	unsigned char digest[32];
	password_digest(g, password, digest);
	pthread_mutex_lock(&g->cache_lock);
	bool cached = digests_equal(g->verified[user], digest);
	pthread_mutex_unlock(&g->cache_lock);
	if (cached)
		return true;
	if (!web_config_check_password(&g->web.users[user], password))
		return false;
	pthread_mutex_lock(&g->cache_lock);
	memcpy(g->verified[user], digest, 32);
	pthread_mutex_unlock(&g->cache_lock);
	return true;
}

/* Basic authentication, when users are configured. Unknown users cost a bcrypt too, so that
 * timing does not tell which user names exist. */
static bool authorized(struct generation *g, struct MHD_Connection *c)
{
	if (!g->web.nusers)
		return true;
	char *password = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &password);
	bool ok = false;
	if (user && password) {
		size_t i = 0;
		while (i < g->web.nusers && strcmp(g->web.users[i].name, user) != 0)
			i++;
		if (i < g->web.nusers)
			ok = password_ok(g, i, password);
		else
			web_config_check_password(&g->web.users[0], password);
	}
	if (password) {
		explicit_bzero(password, strlen(password));
		MHD_free(password);
	}
	if (user)
		MHD_free(user);
	return ok;
}

static handler_result refuse_unauthorized(const struct generation *g, struct MHD_Connection *c)
{
	static const char body[] = "Unauthorized\n";
	struct MHD_Response *r = new_response(g, body, sizeof(body) - 1, MHD_RESPMEM_PERSISTENT,
	                                      "text/plain; charset=utf-8");
	if (!r)
		return MHD_NO;
	handler_result ret = MHD_queue_basic_auth_fail_response(c, AUTH_REALM, r);
	MHD_destroy_response(r);
	return ret;
}

/* Client certificates, for the client_auth_type values that ask for more than a handshake. */
static bool client_certificate_ok(const struct generation *g, struct MHD_Connection *c)
{
	enum client_auth want = g->web.client_auth;
	if (!g->web.tls || want == CLIENT_AUTH_NONE || want == CLIENT_AUTH_REQUEST)
		return true;
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!info || !info->tls_session)
		return false;
	gnutls_session_t session = (gnutls_session_t)info->tls_session;
	unsigned ncerts = 0;
	bool given = gnutls_certificate_get_peers(session, &ncerts) != NULL && ncerts > 0;
	if (!given)
		return want == CLIENT_AUTH_VERIFY_IF_GIVEN;
	if (want == CLIENT_AUTH_REQUIRE_ANY)
		return true;
	unsigned status = 0;
	return gnutls_certificate_verify_peers2(session, &status) == 0 && status == 0;
}

static struct request_deadline *deadline_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

static handler_result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct generation *g = cls;
	struct http *h = g->h;
	(void)version;
	(void)upload_data;

	bool get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!*con_cls) {
		*con_cls = h;
		atomic_fetch_add(&h->in_flight, 1);
		/* This first call has the headers only. libmicrohttpd 0.9.75 closes the connection
		 * after an answer queued now, which would cost a scraper a new TCP (and TLS)
		 * handshake per scrape: GET and HEAD are answered on the next call, so the
		 * connection stays open for the next scrape. Other methods are refused at once,
		 * their bodies unread. */
		if (get)
			return MHD_YES;
	}
	/* A GET with a body: let it be read (and dropped) before answering. */
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	request_deadline_received(h->deadlines, deadline_of(c));
	if (!client_certificate_ok(g, c))
		return queue_text(g, c, MHD_HTTP_FORBIDDEN,
		                  "A valid client certificate is required\n");
	/* Nothing, not even which paths exist, is told before authentication. */
	if (!authorized(g, c))
		return refuse_unauthorized(g, c);
	if (!get)
		return queue_text(g, c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
	if (strcmp(url, h->config.telemetry_path) == 0)
		return serve_metrics(g, c);
	if (strcmp(url, "/") == 0)
		return serve_landing(g, c);
	if (strcmp(url, "/-/healthy") == 0)
		return queue_text(g, c, MHD_HTTP_OK, "Healthy\n");
	if (strcmp(url, "/-/ready") == 0) {
		if (atomic_load(&h->ready))
			return queue_text(g, c, MHD_HTTP_OK, "Ready\n");
		return queue_text(g, c, MHD_HTTP_SERVICE_UNAVAILABLE, "Not ready\n");
	}
	return queue_text(g, c, MHD_HTTP_NOT_FOUND, "Not Found\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
	struct generation *g = cls;
	(void)why;
	if (*con_cls) {
		atomic_fetch_sub(&g->h->in_flight, 1);
		*con_cls = NULL;
		request_deadline_answered(g->h->deadlines, deadline_of(c));
	}
}

/* Every connection is on the clock from the moment it opens (see request_deadline.h).
 * libmicrohttpd reports the close before it closes the socket, as request_deadline_remove
 * requires. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode what)
{
	struct generation *g = cls;
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info)
			*socket_context = request_deadline_add(g->h->deadlines, info->connect_fd);
		return;
	}
	request_deadline_remove(g->h->deadlines, *socket_context);
	*socket_context = NULL;
}

/* libmicrohttpd's own complaints are about single connections (a client that hung up, a
 * malformed request, a failed TLS handshake): worth seeing when debugging, noise otherwise. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", line);
}

static struct MHD_Daemon *start_daemon(struct generation *g, int fd)
{
	const struct http_config *cfg = &g->h->config;
	unsigned flags =
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[5];
	size_t n = 0;
	char priorities[128];
	if (g->web.tls) {
		flags |= MHD_USE_TLS;
		web_config_tls_priorities(&g->web, priorities, sizeof(priorities));
		tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, g->web.cert_pem};
		tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, g->web.key_pem};
		tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, priorities};
		/* Giving a trust list makes libmicrohttpd ask clients for a certificate. */
		if (g->web.client_ca_pem && g->web.client_auth != CLIENT_AUTH_NONE)
			tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0,
			                                   g->web.client_ca_pem};
	}
	tls[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	/* The logger first: libmicrohttpd uses it only for messages after the option is read. */
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, g, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)THREADS_PER_LISTENER, MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_SIZE,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    cfg->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_seconds,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, g, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, g, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

static struct generation *generation_new(struct http *h, struct web_config *web)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	g->h = h;
	if (web)
		g->web = *web; /* take over its allocations */
	if (web)
		memset(web, 0, sizeof(*web));
	pthread_mutex_init(&g->cache_lock, NULL);
	g->verified = xcalloc(g->web.nusers ? g->web.nusers : 1, sizeof(*g->verified));
	gnutls_rnd(GNUTLS_RND_NONCE, g->salt, sizeof(g->salt));
	return g;
}

static void generation_free(struct generation *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->ndaemons; i++)
		MHD_stop_daemon(g->daemons[i]);
	explicit_bzero(g->verified, (g->web.nusers ? g->web.nusers : 1) * sizeof(*g->verified));
	free(g->verified);
	pthread_mutex_destroy(&g->cache_lock);
	web_config_free(&g->web);
	free(g);
}

/* Start daemons for `g` on every socket; on failure stop those started. */
static int generation_start(struct generation *g, const int *fds, size_t nfds, char *err,
                            size_t errlen)
{
	for (size_t i = 0; i < nfds; i++) {
		struct MHD_Daemon *d = start_daemon(g, fds[i]);
		if (!d) {
			snprintf(err, errlen, "libmicrohttpd could not serve socket %d%s", fds[i],
			         g->web.tls ? " with TLS: are cert_file and key_file a matching "
			                      "PEM certificate and unencrypted key?"
			                    : " (out of threads or file descriptors?)");
			for (size_t j = 0; j < g->ndaemons; j++)
				MHD_quiesce_daemon(g->daemons[j]); /* keep the socket open */
			for (size_t j = 0; j < g->ndaemons; j++)
				MHD_stop_daemon(g->daemons[j]);
			g->ndaemons = 0;
			return -1;
		}
		g->daemons[g->ndaemons++] = d;
	}
	return 0;
}

/* Stop accepting on `g` without closing the sockets, then wait (bounded by the connection
 * timeout) for requests under way to be answered. */
static void generation_retire(struct generation *g)
{
	for (size_t i = 0; i < g->ndaemons; i++)
		MHD_quiesce_daemon(g->daemons[i]);
	struct timespec tick = {0, 10 * 1000 * 1000};
	for (unsigned waited = 0;
	     atomic_load(&g->h->in_flight) > 0 && waited < g->h->config.timeout_seconds * 100;
	     waited++)
		nanosleep(&tick, NULL);
	generation_free(g);
}

struct http *http_start(const int *fds, size_t nfds, const struct http_config *config,
                        struct web_config *web, struct scrape *scrape, char *err, size_t errlen)
{
	if (nfds > MAX_LISTENERS) {
		snprintf(err, errlen, "at most %d listening sockets", MAX_LISTENERS);
		if (web)
			web_config_free(web);
		return NULL;
	}
	struct http *h = xcalloc(1, sizeof(*h));
	h->config = *config;
	h->scrape = scrape;
	memcpy(h->fds, fds, nfds * sizeof(*fds));
	h->nfds = nfds;
	atomic_init(&h->ready, false);
	atomic_init(&h->in_flight, 0);
	h->deadlines = request_deadlines_start(config->timeout_seconds);
	h->current = generation_new(h, web);
	if (generation_start(h->current, h->fds, h->nfds, err, errlen) < 0) {
		generation_free(h->current);
		request_deadlines_stop(h->deadlines);
		for (size_t i = 0; i < h->nfds; i++)
			close(h->fds[i]);
		free(h);
		return NULL;
	}
	return h;
}

int http_reload(struct http *h, struct web_config *web, char *err, size_t errlen)
{
	struct generation *old = h->current;
	for (size_t i = 0; i < old->ndaemons; i++)
		MHD_quiesce_daemon(old->daemons[i]);
	struct generation *next = generation_new(h, web);
	if (generation_start(next, h->fds, h->nfds, err, errlen) < 0) {
		generation_free(next);
		/* Back to the old settings, on fresh daemons since the old ones stopped accepting.
		 */
		struct web_config keep = old->web;
		memset(&old->web, 0, sizeof(old->web));
		struct generation *again = generation_new(h, &keep);
		char again_err[256];
		if (generation_start(again, h->fds, h->nfds, again_err, sizeof(again_err)) < 0) {
			log_error("cannot serve with the old settings either: %s", again_err);
			generation_free(again);
			again = NULL;
		}
		h->current = again;
		generation_retire(old);
		return -1;
	}
	h->current = next;
	generation_retire(old);
	return 0;
}

void http_set_ready(struct http *h, bool ready)
{
	atomic_store(&h->ready, ready);
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	if (h->current)
		generation_retire(h->current);
	request_deadlines_stop(h->deadlines);
	for (size_t i = 0; i < h->nfds; i++)
		close(h->fds[i]);
	free(h);
}
