#include "http.h"

#include <ctype.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "conn_table.h"
#include "event_stream.h"
#include "landing.h"
#include "live_page.h"
#include "log.h"
#include "negotiate.h"
#include "xalloc.h"

#define MAX_LISTENERS 16
/* Worker threads per listening socket. Scrapes are coalesced, so more threads would only wait
 * for the same collection; a few let health checks and the landing page answer meanwhile. */
#define THREADS_PER_LISTENER 4
#define THREAD_STACK_SIZE    (256 * 1024)
/* Request line and headers must fit here; larger requests get 431. */
#define CONNECTION_MEMORY_LIMIT (32 * 1024)
#define AUTH_REALM              "kobsd"

/* Descriptors the daemon needs besides its connections and its servers' (below): /proc files,
 * BPF maps, the journal, the listening sockets. */
#define OWN_FILES 128
/* The default --web.max-connections at most. */
#define DEFAULT_MAX_CONNECTIONS 4096

/* Configurations a reload has replaced that still finish their requests. Each keeps its threads
 * (THREADS_PER_LISTENER per listening socket) until then; a reload beyond this waits for one to
 * finish (see http_reload). */
#define MAX_FINISHING 8
/* A replaced configuration is stopped no sooner than this after it stopped accepting, so that
 * a connection one of its threads accepted just before is seen (and finished) first. */
#define FINISHING_GRACE_SECONDS 1.0
/* How often the reaper looks at the configurations still finishing. */
#define REAP_TICK_MS 100

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result handler_result;
#else
typedef int handler_result;
#endif

/* One set of libmicrohttpd daemons serving one web configuration. A reload starts a new
 * generation on the same sockets and retires the old one: it stops accepting, answers the
 * requests of the connections it has (closing each after its answer), and is stopped once they
 * are all gone. No request ever sees a half-changed configuration, and none is cut short. */
struct generation {
	struct http *h;
	struct web_config web;
	struct MHD_Daemon *daemons[MAX_LISTENERS];
	size_t ndaemons;
	atomic_uint connections; /* open on its daemons */
	atomic_bool retired;
	double retired_at;       /* CLOCK_MONOTONIC seconds */
	struct generation *next; /* among the finishing ones */
	/* The last password each user was verified with, as a salted SHA-256, so that a scraper
	 * sending the same credentials every few seconds costs one bcrypt, not one per scrape. */
	pthread_mutex_t cache_lock;
	unsigned char (*verified)[32];
	unsigned char salt[16];
};

/* What the server keeps of each connection, from its start to its close. */
struct connection {
	struct conn *slot; /* in the connection table; NULL when refused */
	size_t target_len; /* of the request under way, as received */
	bool escaped_nul;  /* its path has %00 */
	bool in_request;   /* its headers have arrived; not answered yet */
};

struct http {
	pthread_mutex_t lock; /* current, finishing and pending: reloads and the reaper */
	struct generation *current;
	struct generation *finishing;
	size_t nfinishing;
	struct web_config *pending; /* a reload waiting for a finishing generation to end */

	pthread_t reaper;
	bool reaper_running;
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	bool woken;
	bool stopping;

	int fds[MAX_LISTENERS];
	size_t nfds;
	struct http_config config;
	unsigned server_connection_limit; /* libmicrohttpd's own, above ours */
	struct scrape *scrape;
	atomic_bool ready;
	atomic_uint in_flight; /* requests whose answer is not fully sent yet */
	struct conn_table *conns;
	struct event_streams *streams; /* /api/events */
};

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- answers ---- */

/* One request being answered. */
struct request {
	struct generation *g;
	struct MHD_Connection *c;
	bool close; /* close the connection after the answer */
};

/* The web config's headers, and "Connection: close" when the connection must end after this
 * answer: asked by the caller, or because a reload has retired the configuration. */
static void finish_response(const struct request *rq, struct MHD_Response *r)
{
	for (size_t i = 0; i < rq->g->web.nheaders; i++)
		MHD_add_response_header(r, rq->g->web.headers[i].name, rq->g->web.headers[i].value);
	if (rq->close || atomic_load(&rq->g->retired))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static handler_result send_response(const struct request *rq, unsigned status,
                                    struct MHD_Response *r)
{
	finish_response(rq, r);
	handler_result ret = MHD_queue_response(rq->c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A plain-text answer; `mode` says whether `body` outlives the response or must be copied. */
static handler_result queue_plain(const struct request *rq, unsigned status, const char *body,
                                  enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, mode);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return send_response(rq, status, r);
}

static handler_result queue_text(const struct request *rq, unsigned status, const char *body)
{
	return queue_plain(rq, status, body, MHD_RESPMEM_PERSISTENT);
}

static handler_result queue_copied_text(const struct request *rq, unsigned status, const char *body)
{
	return queue_plain(rq, status, body, MHD_RESPMEM_MUST_COPY);
}

struct metrics_reply {
	struct MHD_Response *response;
};

static void copy_into_response(const char *body, size_t len, void *arg)
{
	struct metrics_reply *reply = arg;
	reply->response = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
}

static handler_result select_collector(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
	(void)kind;
	if (strcmp(key, "collect[]") == 0)
		scrape_select(cls, value);
	return MHD_YES;
}

static handler_result serve_metrics(const struct request *rq)
{
	const char *accept =
	    MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *encoding =
	    MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	enum expo_format format = negotiate_format(accept);
	bool gzip = negotiate_gzip(encoding);

	/* collect[]=NAME, repeatable, picks collectors as node_exporter's does. */
	struct scrape_selection sel;
	scrape_selection_init(&sel, rq->g->h->scrape);
	MHD_get_connection_values(rq->c, MHD_GET_ARGUMENT_KIND, select_collector, &sel);
	if (sel.error[0])
		return queue_copied_text(rq, MHD_HTTP_BAD_REQUEST, sel.error);

	struct metrics_reply reply = {NULL};
	if (scrape_serve(rq->g->h->scrape, &sel, format, gzip, copy_into_response, &reply) < 0) {
		gzip = false;
		scrape_serve(rq->g->h->scrape, &sel, format, false, copy_into_response, &reply);
	}
	if (!reply.response)
		return queue_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory\n");
	MHD_add_response_header(reply.response, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        expo_content_type(format));
	if (gzip)
		MHD_add_response_header(reply.response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(reply.response, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	return send_response(rq, MHD_HTTP_OK, reply.response);
}

static handler_result serve_landing(const struct request *rq)
{
	struct http *h = rq->g->h;
	struct collector_status status[32];
	size_t n = scrape_status(h->scrape, status, 32);
	struct buf page;
	buf_init(&page);
	landing_render(&page, h->config.telemetry_path, h->config.privileges, status, n,
	               atomic_load(&h->ready));
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(page.len, page.data, MHD_RESPMEM_MUST_COPY);
	buf_free(&page);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	return send_response(rq, MHD_HTTP_OK, r);
}

static void wake_reaper(struct http *h);

/* GET /api/events: a stream of the slow events (event_stream.h), on a connection closed when it
 * ends. A stream opened under a configuration a reload has replaced ends at once, after telling
 * the client to reconnect, which it does on a new connection, under the new one. */
static handler_result serve_events(const struct request *rq, bool head)
{
	struct http *h = rq->g->h;
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	if (head)
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else
		r = event_streams_open(h->streams, rq->c, rq->g, &status);
	if (!r && status == MHD_HTTP_SERVICE_UNAVAILABLE) {
		static const char body[] =
		    "Too many event streams open (--web.max-event-streams)\n";
		r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
		                                    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        "text/plain; charset=utf-8");
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
		return send_response(rq, status, r);
	}
	if (!r)
		return queue_text(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory\n");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Accel-Buffering", "no"); /* nginx: pass it on as it comes */
	struct request closing = *rq;
	closing.close = true;
	handler_result ret = send_response(&closing, status, r);
	if (!head && atomic_load(&rq->g->retired))
		event_streams_end(h->streams, rq->g);
	wake_reaper(h); /* it beats the streams' hearts */
	return ret;
}

static handler_result serve_live(const struct request *rq)
{
	struct buf page;
	buf_init(&page);
	live_page_render(&page, rq->g->h->config.telemetry_path);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(page.len, page.data, MHD_RESPMEM_MUST_COPY);
	buf_free(&page);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	/* Everything the page needs is in it, or comes from this server. */
	MHD_add_response_header(r, "Content-Security-Policy",
	                        "default-src 'self'; script-src 'unsafe-inline'; style-src "
	                        "'unsafe-inline'; img-src 'self' data:");
	return send_response(rq, MHD_HTTP_OK, r);
}

/* ---- authentication ---- */

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

static handler_result refuse_unauthorized(const struct request *rq)
{
	static const char body[] = "Unauthorized\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	finish_response(rq, r);
	handler_result ret = MHD_queue_basic_auth_fail_response(rq->c, AUTH_REALM, r);
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

/* ---- what libmicrohttpd 0.9.75 gets wrong about requests ----
 *
 * Its parser is worked around at the one point where it lets us in before it goes on: the
 * request-target callback (MHD_OPTION_URI_LOG_CALLBACK), called once the request line has
 * arrived, before the query is parsed and before the headers are read. Everything else is
 * checked when the headers have arrived, before anything is answered. */

/* libmicrohttpd takes the first Content-Length header of a request as the length of its body,
 * and answers a malformed one (-1, say) with its 400 header block twice. Each request therefore
 * gets this header first, so that libmicrohttpd always finds a valid length of 0 and leaves the
 * client's Content-Length headers to check_framing(). A request that has a body is answered at
 * once and its connection closed, the body unread: it is never taken for the next request. The
 * header is recognised by this very string. */
static const char assumed_length[] = "0";

/* Whether `p` is an HTTP version as libmicrohttpd accepts it, "HTTP/d.d", ending there. */
static bool is_http_version(const char *p)
{
	return strncmp(p, "HTTP/", 5) == 0 && isdigit((unsigned char)p[5]) && p[6] == '.' &&
	       isdigit((unsigned char)p[7]) && p[8] == '\0';
}

/* libmicrohttpd stores each query argument in the connection's memory and, when they do not fit
 * (from about 450 arguments on), neither answers nor closes: the request sits until the
 * deadline. kobsd takes a few (collect[]=NAME, one per collector), so the query is cut after
 * QUERY_ARGS_MAX arguments before libmicrohttpd parses it, in its own buffer. libmicrohttpd finds
 * the query at the first '?' of the whole target, which may lie beyond a NUL byte: the target is
 * followed by the NUL that ends it and the HTTP version libmicrohttpd has already checked, so the
 * search goes on from NUL to NUL until that version. (Only a target that itself contains a NUL and
 * then "HTTP/d.d" and a NUL before its '?' can stop the search early; the deadline then closes it,
 * as before.) */
#define QUERY_ARGS_MAX 16
static void bound_query(char *target)
{
	char *p = target;
	for (size_t seen = 0; seen < CONNECTION_MEMORY_LIMIT;) {
		char *q = strchr(p, '?');
		if (q) {
			unsigned args = 1;
			for (q++; *q; q++)
				if (*q == '&' && ++args > QUERY_ARGS_MAX)
					*q = '\0';
			return;
		}
#if MHD_VERSION < 0x01000000
		size_t len = strlen(p);
		if (is_http_version(p + len + 1))
			return;
		seen += len + 1;
		p += len + 1;
#else
		(void)seen;
		return; /* beyond the first NUL only where the layout above is known */
#endif
	}
}

static bool path_has_escaped_nul(const char *target)
{
	size_t path_len = strcspn(target, "?");
	for (const char *p = strstr(target, "%00"); p; p = strstr(p + 1, "%00"))
		if ((size_t)(p - target) < path_len)
			return true;
	return false;
}

static struct connection *connection_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/* The request line has arrived (see above). What is returned is the request's context in the
 * calls that follow: the connection's. */
static void *on_target(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	/* The target lies in libmicrohttpd's read buffer, which it hands over as const but
	 * parses only after this call. */
	char *target = (char *)uri;
	struct connection *conn = connection_of(c);
	if (conn) {
		conn->target_len = strlen(target);
		conn->escaped_nul = path_has_escaped_nul(target);
		conn->in_request = false;
	}
	bound_query(target);
	MHD_set_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH,
	                         assumed_length);
	return conn;
}

/* libmicrohttpd hands the target over up to its first NUL byte, so that "/metrics\0abc" looks
 * like "/metrics". The whole target ends where the HTTP version begins, in the same buffer:
 * a target longer than the string seen in on_target() has a NUL in it. */
static bool target_has_nul(const struct connection *conn, const char *url, const char *version)
{
	uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
	if (!url || !version || v <= u || v - u > CONNECTION_MEMORY_LIMIT)
		return false; /* not laid out as in libmicrohttpd 0.9.75: cannot tell */
	return v - u - 1 != conn->target_len;
}

/* How the client says its body is framed. */
struct framing {
	unsigned lengths; /* Content-Length headers */
	unsigned long long length;
	bool bad_length;    /* not a number, or two that differ */
	unsigned encodings; /* Transfer-Encoding headers */
	bool chunked;       /* the (only) one is "chunked" */
};

static bool parse_length(const char *s, unsigned long long *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
		return false;
	*out = strtoull(s, NULL, 10);
	return true;
}

static handler_result note_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (!key || !value || value == assumed_length)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		unsigned long long n = 0;
		if (!parse_length(value, &n) || (f->lengths && n != f->length))
			f->bad_length = true;
		f->length = n;
		f->lengths++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encodings++;
		f->chunked = strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/* Why the request is malformed, as the body of its 400; NULL when it is not. */
static const char *malformed(const struct connection *conn, const struct framing *f,
                             const char *url, const char *version)
{
	if (target_has_nul(conn, url, version))
		return "Bad Request: a NUL byte in the request target\n";
	if (conn->escaped_nul)
		return "Bad Request: %00 in the request path\n";
	if (f->bad_length)
		return "Bad Request: invalid or conflicting Content-Length\n";
	if (f->encodings && f->lengths)
		return "Bad Request: both Transfer-Encoding and Content-Length\n";
	if (f->encodings > 1 || (f->encodings && !f->chunked))
		return "Bad Request: unsupported Transfer-Encoding\n";
	return NULL;
}

/* ---- requests ---- */

static handler_result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct generation *g = cls;
	struct http *h = g->h;
	struct connection *conn = *con_cls; /* set by on_target */
	struct request rq = {g, c, false};
	(void)upload_data;
	if (!conn)
		return MHD_NO; /* a connection without its context: close it */

	bool get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool body = false;
	if (!conn->in_request) {
		/* This first call has the headers only. */
		conn->in_request = true;
		atomic_fetch_add(&h->in_flight, 1);
		conn_request_received(h->conns, conn->slot);
		struct framing f = {0};
		MHD_get_connection_values(c, MHD_HEADER_KIND, note_framing, &f);
		const char *why = malformed(conn, &f, url, version);
		rq.close = true;
		if (why)
			return queue_text(&rq, MHD_HTTP_BAD_REQUEST, why);
		body = f.encodings || f.length > 0;
		/* libmicrohttpd 0.9.75 closes the connection after an answer queued now, which
		 * would cost a scraper a new TCP (and TLS) handshake per scrape: a GET or HEAD is
		 * answered on the next call, so the connection stays open for the next scrape.
		 * Anything else is answered at once, any body unread, and the connection closed. */
		if (get && !body)
			return MHD_YES;
	} else if (*upload_data_size) {
		*upload_data_size = 0; /* not reached: bodies are refused in the first call */
		return MHD_YES;
	}
	if (!client_certificate_ok(g, c))
		return queue_text(&rq, MHD_HTTP_FORBIDDEN,
		                  "A valid client certificate is required\n");
	/* Nothing, not even which paths exist, is told before authentication. */
	if (!authorized(g, c))
		return refuse_unauthorized(&rq);
	if (!get)
		return queue_text(&rq, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
	if (body)
		return queue_text(&rq, MHD_HTTP_BAD_REQUEST,
		                  "Bad Request: GET and HEAD take no body\n");
	if (strcmp(url, h->config.telemetry_path) == 0)
		return serve_metrics(&rq);
	if (strcmp(url, "/") == 0)
		return serve_landing(&rq);
	if (strcmp(url, "/api/events") == 0)
		return serve_events(&rq, strcmp(method, MHD_HTTP_METHOD_HEAD) == 0);
	if (strcmp(url, "/live") == 0)
		return serve_live(&rq);
	if (strcmp(url, "/-/healthy") == 0)
		return queue_text(&rq, MHD_HTTP_OK, "Healthy\n");
	if (strcmp(url, "/-/ready") == 0) {
		if (atomic_load(&h->ready))
			return queue_text(&rq, MHD_HTTP_OK, "Ready\n");
		return queue_text(&rq, MHD_HTTP_SERVICE_UNAVAILABLE, "Not ready\n");
	}
	return queue_text(&rq, MHD_HTTP_NOT_FOUND, "Not Found\n");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
	struct generation *g = cls;
	struct connection *conn = *con_cls;
	(void)c;
	(void)why;
	if (!conn || !conn->in_request)
		return;
	conn->in_request = false;
	atomic_fetch_sub(&g->h->in_flight, 1);
	conn_request_answered(g->h->conns, conn->slot);
}

static void wake_reaper(struct http *h)
{
	pthread_mutex_lock(&h->wake_lock);
	h->woken = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->wake_lock);
}

/* Every connection goes through the connection table from the moment it opens (see
 * conn_table.h). libmicrohttpd reports the close before it closes the socket, as
 * conn_table_remove requires. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode what)
{
	struct generation *g = cls;
	struct http *h = g->h;
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		struct connection *conn = xcalloc(1, sizeof(*conn));
		atomic_fetch_add(&g->connections, 1);
		const union MHD_ConnectionInfo *fd =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *peer =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (fd)
			conn->slot = conn_table_admit(h->conns, fd->connect_fd,
			                              peer ? peer->client_addr : NULL);
		*socket_context = conn;
		return;
	}
	struct connection *conn = *socket_context;
	*socket_context = NULL;
	if (!conn)
		return;
	conn_table_remove(h->conns, conn->slot);
	free(conn);
	if (atomic_fetch_sub(&g->connections, 1) == 1 && atomic_load(&g->retired))
		wake_reaper(h);
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

/* ---- generations ---- */

static struct MHD_Daemon *start_daemon(struct generation *g, int fd)
{
	const struct http *h = g->h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
	                 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
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
	/* The logger first: libmicrohttpd uses it only for messages after the option is read.
	 * The connection limits are the connection table's; libmicrohttpd's own limit only keeps
	 * it from running out of descriptors. */
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, g, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)THREADS_PER_LISTENER, MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_SIZE,
	    MHD_OPTION_CONNECTION_LIMIT, h->server_connection_limit, MHD_OPTION_CONNECTION_TIMEOUT,
	    h->config.timeout_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONNECTION_MEMORY_LIMIT, MHD_OPTION_URI_LOG_CALLBACK, on_target, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, g, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, g, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

static struct generation *generation_new(struct http *h, struct web_config *web)
{
	struct generation *g = xcalloc(1, sizeof(*g));
	g->h = h;
	if (web) {
		g->web = *web; /* take over its allocations */
		memset(web, 0, sizeof(*web));
	}
	atomic_init(&g->connections, 0);
	atomic_init(&g->retired, false);
	pthread_mutex_init(&g->cache_lock, NULL);
	g->verified = xcalloc(g->web.nusers ? g->web.nusers : 1, sizeof(*g->verified));
	gnutls_rnd(GNUTLS_RND_NONCE, g->salt, sizeof(g->salt));
	return g;
}

/* Stop its daemons (a retired generation's sockets stay open: they were quiesced) and free it. */
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

/* Start daemons for `g` on every socket. On failure, those started are left in `g` (and may
 * have accepted connections already). */
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
			return -1;
		}
		g->daemons[g->ndaemons++] = d;
	}
	return 0;
}

/* Called with h->lock held: `g` stops accepting, keeps the sockets open and finishes the
 * requests of its connections, each closed after its answer; the reaper stops it when none is
 * left. */
static void retire(struct http *h, struct generation *g)
{
	for (size_t i = 0; i < g->ndaemons; i++)
		MHD_quiesce_daemon(g->daemons[i]);
	g->retired_at = monotonic_seconds();
	atomic_store(&g->retired, true);
	/* Streams never finish by themselves: they end, and their clients come back. */
	event_streams_end(h->streams, g);
	g->next = h->finishing;
	h->finishing = g;
	h->nfinishing++;
	wake_reaper(h);
}

/* Called with h->lock held: serve `web` (taken over) on new daemons, and retire the running
 * ones. On failure the running ones stay and -1 is returned with a message. */
static int switch_to(struct http *h, struct web_config *web, char *err, size_t errlen)
{
	struct generation *next = generation_new(h, web);
	if (generation_start(next, h->fds, h->nfds, err, errlen) < 0) {
		if (next->ndaemons)
			retire(h, next); /* it may have accepted connections: let them finish */
		else
			generation_free(next);
		return -1;
	}
	if (h->current)
		retire(h, h->current);
	h->current = next;
	return 0;
}

/* Stop the retired generations that have no connection left. */
static void reap_finished(struct http *h)
{
	double now = monotonic_seconds();
	struct generation *done = NULL;
	pthread_mutex_lock(&h->lock);
	for (struct generation **p = &h->finishing; *p;) {
		struct generation *g = *p;
		if (atomic_load(&g->connections) == 0 &&
		    now - g->retired_at >= FINISHING_GRACE_SECONDS) {
			*p = g->next;
			h->nfinishing--;
			g->next = done;
			done = g;
		} else {
			p = &g->next;
		}
	}
	pthread_mutex_unlock(&h->lock);
	while (done) {
		struct generation *next = done->next;
		generation_free(done);
		done = next;
	}
}

/* Apply the reload that waited for a finishing generation to end, if one has. */
static void apply_pending(struct http *h)
{
	pthread_mutex_lock(&h->lock);
	if (h->pending && h->nfinishing < MAX_FINISHING) {
		struct web_config *web = h->pending;
		h->pending = NULL;
		char err[256];
		if (switch_to(h, web, err, sizeof(err)) < 0)
			log_error("reload failed, keeping the running web configuration: %s", err);
		else
			log_info("the web configuration of the last reload is in force");
		free(web);
	}
	pthread_mutex_unlock(&h->lock);
}

/* How long the reaper may sleep, in ms: REAP_TICK_MS while configurations finish or a reload
 * waits, a second while event streams may need their heartbeat, for ever (0) otherwise. */
static long reaper_tick_ms(struct http *h)
{
	pthread_mutex_lock(&h->lock);
	bool work = h->finishing || h->pending;
	pthread_mutex_unlock(&h->lock);
	if (work)
		return REAP_TICK_MS;
	return event_streams_count(h->streams) > 0 ? 1000 : 0;
}

static void *reap(void *arg)
{
	struct http *h = arg;
	for (;;) {
		long tick = reaper_tick_ms(h);
		pthread_mutex_lock(&h->wake_lock);
		if (!h->woken && !h->stopping) {
			if (tick) {
				struct timespec until;
				clock_gettime(CLOCK_MONOTONIC, &until);
				until.tv_sec += tick / 1000;
				until.tv_nsec += (tick % 1000) * 1000000L;
				if (until.tv_nsec >= 1000000000L) {
					until.tv_sec++;
					until.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&h->wake, &h->wake_lock, &until);
			} else {
				pthread_cond_wait(&h->wake, &h->wake_lock);
			}
		}
		h->woken = false;
		bool stopping = h->stopping;
		pthread_mutex_unlock(&h->wake_lock);
		if (stopping)
			return NULL;
		reap_finished(h);
		apply_pending(h);
		event_streams_tick(h->streams);
	}
}

/* ---- limits ---- */

/* The open-files limit, after raising the soft limit to the hard one: every connection is a
 * descriptor, and the soft limit is often 1,024 where the hard one is far higher. */
static rlim_t raise_open_files_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = {rl.rlim_max, rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl.rlim_cur = rl.rlim_max;
		else
			log_debug("cannot raise the open-files limit from %llu to %llu",
			          (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 24))
		return 1u << 24;
	return rl.rlim_cur;
}

/* Descriptors that are not connections: the daemon's own, and an epoll and an event descriptor
 * for each server thread (and a daemon's own two), for the running configuration and those
 * still finishing. */
static rlim_t own_files(const struct http *h)
{
	return OWN_FILES + h->nfds * (MAX_FINISHING + 1) * (2 * THREADS_PER_LISTENER + 2);
}

/* --web.max-connections when not given: three quarters of the descriptors left besides the
 * daemon's own (the rest are for connections being closed), up to DEFAULT_MAX_CONNECTIONS. */
static unsigned default_max_connections(rlim_t open_files, rlim_t own)
{
	rlim_t usable = open_files > own ? (open_files - own) * 3 / 4 : 0;
	if (usable > DEFAULT_MAX_CONNECTIONS)
		usable = DEFAULT_MAX_CONNECTIONS;
	return usable < 16 ? 16 : (unsigned)usable;
}

/* The connection table's limits, and libmicrohttpd's own, from the flags and the open-files
 * limit. */
static struct conn_limits connection_limits(struct http *h)
{
	rlim_t open_files = raise_open_files_limit();
	rlim_t own = own_files(h);
	struct conn_limits limits = {
	    .max_connections = h->config.max_connections,
	    .max_per_address = h->config.max_connections_per_ip,
	    .request_seconds = h->config.timeout_seconds,
	};
	if (!limits.max_connections)
		limits.max_connections = default_max_connections(open_files, own);
	else if (limits.max_connections + own > open_files)
		log_warn("--web.max-connections=%u is more than the open-files limit (%llu) allows "
		         "besides the daemon's own files: connections beyond about %llu will wait; "
		         "raise the limit (LimitNOFILE= in the unit)",
		         limits.max_connections, (unsigned long long)open_files,
		         (unsigned long long)(open_files > own ? open_files - own : 0));
	/* libmicrohttpd splits its limit among a daemon's threads, and each thread accepts on its
	 * own: each gets as many as there are descriptors. */
	h->server_connection_limit = (unsigned)(open_files * THREADS_PER_LISTENER);
	return limits;
}

/* ---- the server ---- */

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
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->wake_lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &attr);
	pthread_condattr_destroy(&attr);
	struct conn_limits limits = connection_limits(h);
	h->config.max_connections = limits.max_connections;
	h->conns = conn_table_start(&limits);
	h->streams = event_streams_new(config->events, config->max_event_streams);
	log_debug("at most %u connections, %u from one address", limits.max_connections,
	          limits.max_per_address);
	h->current = generation_new(h, web);
	if (generation_start(h->current, h->fds, h->nfds, err, errlen) < 0) {
		/* Quiesced, so that stopping them leaves the sockets to be closed below. */
		for (size_t i = 0; i < h->current->ndaemons; i++)
			MHD_quiesce_daemon(h->current->daemons[i]);
		generation_free(h->current);
		conn_table_stop(h->conns);
		event_streams_free(h->streams);
		for (size_t i = 0; i < h->nfds; i++)
			close(h->fds[i]);
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->wake_lock);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	h->reaper_running = pthread_create(&h->reaper, NULL, reap, h) == 0;
	if (!h->reaper_running)
		log_warn("cannot start the thread that stops replaced web configurations; they are "
		         "stopped when the daemon stops");
	return h;
}

int http_reload(struct http *h, struct web_config *web, char *err, size_t errlen)
{
	pthread_mutex_lock(&h->lock);
	if (h->pending) { /* superseded by this one */
		web_config_free(h->pending);
		free(h->pending);
		h->pending = NULL;
	}
	if (h->nfinishing >= MAX_FINISHING && h->reaper_running) {
		h->pending = xmalloc(sizeof(*h->pending));
		*h->pending = *web; /* take over its allocations */
		memset(web, 0, sizeof(*web));
		size_t n = h->nfinishing;
		pthread_mutex_unlock(&h->lock);
		log_info("the new web configuration applies once the connections of an earlier one "
		         "have ended (%zu still finishing their requests)",
		         n);
		return 0;
	}
	int rc = switch_to(h, web, err, errlen);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

void http_set_ready(struct http *h, bool ready)
{
	atomic_store(&h->ready, ready);
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	if (h->current)
		retire(h, h->current);
	h->current = NULL;
	if (h->pending) {
		web_config_free(h->pending);
		free(h->pending);
		h->pending = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	/* Requests under way are answered, for at most the connection timeout. */
	struct timespec tick = {0, 10 * 1000 * 1000};
	for (unsigned waited = 0;
	     atomic_load(&h->in_flight) > 0 && waited < h->config.timeout_seconds * 100; waited++)
		nanosleep(&tick, NULL);
	if (h->reaper_running) {
		pthread_mutex_lock(&h->wake_lock);
		h->stopping = true;
		pthread_cond_signal(&h->wake);
		pthread_mutex_unlock(&h->wake_lock);
		pthread_join(h->reaper, NULL);
	}
	while (h->finishing) {
		struct generation *next = h->finishing->next;
		generation_free(h->finishing);
		h->finishing = next;
	}
	conn_table_stop(h->conns);
	event_streams_free(h->streams);
	for (size_t i = 0; i < h->nfds; i++)
		close(h->fds[i]);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->wake_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
