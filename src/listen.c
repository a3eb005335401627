#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 511

static int parse_port(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s);
	if (n == 0 || n > 5 || n >= outlen)
		return -1;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	snprintf(out, outlen, "%lu", v);
	return 0;
}

int listen_parse(const char *spec, struct listen_addr *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *colon;
	const char *host = spec;
	size_t host_len;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errlen, "bad listen address '%s': expected [v6address]:port",
			         spec);
			return -1;
		}
		host = spec + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
		if (host_len == 0) {
			snprintf(err, errlen, "bad listen address '%s': empty IPv6 address", spec);
			return -1;
		}
	} else {
		colon = strrchr(spec, ':');
		if (!colon) {
			snprintf(err, errlen,
			         "bad listen address '%s': expected host:port or :port", spec);
			return -1;
		}
		host_len = (size_t)(colon - spec);
		if (memchr(spec, ':', host_len)) {
			snprintf(err, errlen,
			         "bad listen address '%s': write IPv6 addresses as [address]:port",
			         spec);
			return -1;
		}
	}
	if (host_len >= sizeof(out->host)) {
		snprintf(err, errlen, "bad listen address '%s': host name too long", spec);
		return -1;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	if (parse_port(colon + 1, out->port, sizeof(out->port)) < 0) {
		snprintf(err, errlen,
		         "bad listen address '%s': port must be a number from 0 to 65535", spec);
		return -1;
	}
	return 0;
}

/* A host as the kernel will see it, to tell which addresses one socket's bind covers. */
struct host {
	enum { HOST_EVERY, HOST_IPV4, HOST_IPV6, HOST_NAME } kind;
	bool any; /* 0.0.0.0 or :: */
	unsigned char addr[16];
	const char *name;
};

static struct host classify(const char *name)
{
	struct host h = {.kind = HOST_NAME, .name = name};
	static const unsigned char zero[16];
	if (!name[0])
		h.kind = HOST_EVERY, h.any = true;
	else if (inet_pton(AF_INET, name, h.addr) == 1)
		h.kind = HOST_IPV4, h.any = memcmp(h.addr, zero, 4) == 0;
	else if (inet_pton(AF_INET6, name, h.addr) == 1)
		h.kind = HOST_IPV6, h.any = memcmp(h.addr, zero, 16) == 0;
	return h;
}

/* Whether a socket bound to `wide` takes every address `narrow` names. Explicit IPv6 sockets are
 * IPv6-only (open_bound), so "[::]" does not take IPv4 addresses; ":port" takes all. */
static bool covers(const struct host *wide, const struct host *narrow)
{
	if (wide->kind == HOST_EVERY)
		return true;
	if (wide->kind != narrow->kind)
		return false;
	if (wide->kind == HOST_NAME)
		return strcasecmp(wide->name, narrow->name) == 0;
	return wide->any || memcmp(wide->addr, narrow->addr, wide->kind == HOST_IPV4 ? 4 : 16) == 0;
}

static const char *every_what(const struct host *h)
{
	return h->kind == HOST_EVERY  ? "every address, IPv4 and IPv6"
	       : h->kind == HOST_IPV4 ? "every IPv4 address"
	                              : "every IPv6 address";
}

int listen_check_repeats(const struct listen_addr *addrs, const char *const *specs, size_t n,
                         char *err, size_t errlen)
{
	for (size_t i = 1; i < n; i++) {
		if (strcmp(addrs[i].port, "0") == 0)
			continue;
		struct host later = classify(addrs[i].host);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(addrs[i].port, addrs[j].port) != 0)
				continue;
			struct host earlier = classify(addrs[j].host);
			bool wider = covers(&earlier, &later), narrower = covers(&later, &earlier);
			if (wider && narrower && strcmp(specs[i], specs[j]) == 0)
				snprintf(err, errlen, "--web.listen-address=%s is given twice",
				         specs[i]);
			else if (wider && narrower)
				snprintf(
				    err, errlen,
				    "--web.listen-address=%s and --web.listen-address=%s are the "
				    "same address; give it once",
				    specs[j], specs[i]);
			else if (wider || narrower)
				snprintf(
				    err, errlen,
				    "--web.listen-address=%s and --web.listen-address=%s overlap: "
				    "%s takes port %s on %s; give only one of them",
				    specs[j], specs[i], wider ? specs[j] : specs[i], addrs[i].port,
				    every_what(wider ? &earlier : &later));
			else
				continue;
			return -1;
		}
	}
	return 0;
}

static int open_bound(const struct sockaddr *sa, socklen_t salen, bool dual_stack)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int));
	if (bind(fd, sa, salen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Where a socket is bound, and whether it is an IPv6 one that also takes IPv4. */
struct bound {
	struct sockaddr_storage ss;
	bool dual;
};

static in_port_t port_of(const struct bound *b)
{
	return b->ss.ss_family == AF_INET ? ((const struct sockaddr_in *)&b->ss)->sin_port
	                                  : ((const struct sockaddr_in6 *)&b->ss)->sin6_port;
}

static const void *addr_of(const struct bound *b, size_t *len)
{
	if (b->ss.ss_family == AF_INET) {
		*len = sizeof(struct in_addr);
		return &((const struct sockaddr_in *)&b->ss)->sin_addr;
	}
	*len = sizeof(struct in6_addr);
	return &((const struct sockaddr_in6 *)&b->ss)->sin6_addr;
}

static bool is_any(const struct bound *b)
{
	static const unsigned char zero[sizeof(struct in6_addr)];
	size_t len;
	const void *addr = addr_of(b, &len);
	return memcmp(addr, zero, len) == 0;
}

/* Whether sockets bound to `a` and `b` cannot both listen: the same port, and one of them takes
 * the other's address. */
static bool collide(const struct bound *a, const struct bound *b)
{
	if (port_of(a) != port_of(b))
		return false;
	if (a->ss.ss_family == b->ss.ss_family) {
		size_t len;
		const void *addr = addr_of(a, &len);
		return is_any(a) || is_any(b) || memcmp(addr, addr_of(b, &len), len) == 0;
	}
	const struct bound *v6 = a->ss.ss_family == AF_INET6 ? a : b;
	return v6->dual && is_any(v6);
}

/* The socket of ours that binding `sa` failed on, or -1 when none explains it: then the address
 * is another process's. */
static int own_collision(const struct sockaddr *sa, socklen_t salen, bool dual, const int *ours,
                         size_t nours)
{
	struct bound want = {.dual = dual};
	if (salen > sizeof(want.ss) || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return -1;
	memcpy(&want.ss, sa, salen);
	for (size_t i = 0; i < nours; i++) {
		struct bound have = {0};
		socklen_t len = sizeof(have.ss);
		if (getsockname(ours[i], (struct sockaddr *)&have.ss, &len) < 0 ||
		    (have.ss.ss_family != AF_INET && have.ss.ss_family != AF_INET6))
			continue;
		if (have.ss.ss_family == AF_INET6) {
			int v6only = 1;
			socklen_t optlen = sizeof(v6only);
			getsockopt(ours[i], IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen);
			have.dual = !v6only;
		}
		if (collide(&want, &have))
			return ours[i];
	}
	return -1;
}

/* Bind and listen on `sa`. On failure, note the reason (one that says more than "no such address
 * family here" when an earlier attempt gave one) and which socket of ours, if any, holds the
 * address. */
static int try_bind(const struct sockaddr *sa, socklen_t salen, bool dual, const int *ours,
                    size_t nours, int *error, int *own)
{
	int fd = open_bound(sa, salen, dual);
	if (fd >= 0)
		return fd;
	if (*error == 0 || *error == EAFNOSUPPORT || *error == EADDRNOTAVAIL)
		*error = errno;
	if (errno == EADDRINUSE && *own < 0)
		*own = own_collision(sa, salen, dual, ours, nours);
	return -1;
}

/* ":port": one IPv6 socket that also takes IPv4, or plain IPv4 where IPv6 is switched off. */
static int open_wildcard(const struct listen_addr *addr, const int *ours, size_t nours, int *error,
                         int *own)
{
	uint16_t port = (uint16_t)atoi(addr->port);
	struct sockaddr_in6 v6 = {
	    .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
	int fd = try_bind((struct sockaddr *)&v6, sizeof(v6), true, ours, nours, error, own);
	if (fd >= 0 || (*error != EAFNOSUPPORT && *error != EADDRNOTAVAIL))
		return fd;
	struct sockaddr_in v4 = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
	*error = 0;
	return try_bind((struct sockaddr *)&v4, sizeof(v4), false, ours, nours, error, own);
}

int listen_open(const struct listen_addr *addr, const int *ours, size_t nours, char *err,
                size_t errlen)
{
	char shown[sizeof(addr->host) + sizeof(addr->port) + 4];
	snprintf(shown, sizeof(shown), strchr(addr->host, ':') ? "[%s]:%s" : "%s:%s", addr->host,
	         addr->port);
	int fd = -1, error = 0, own = -1;
	if (!addr->host[0]) {
		fd = open_wildcard(addr, ours, nours, &error, &own);
	} else {
		struct addrinfo hints = {.ai_family = AF_UNSPEC,
		                         .ai_socktype = SOCK_STREAM,
		                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
		struct addrinfo *res = NULL;
		int gai = getaddrinfo(addr->host, addr->port, &hints, &res);
		if (gai != 0) {
			snprintf(err, errlen, "cannot resolve listen address %s: %s", addr->host,
			         gai_strerror(gai));
			return -1;
		}
		for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
			fd =
			    try_bind(ai->ai_addr, ai->ai_addrlen, false, ours, nours, &error, &own);
		freeaddrinfo(res);
	}
	if (fd >= 0)
		return fd;
	if (own >= 0) {
		char where[80];
		listen_describe(own, where, sizeof(where));
		snprintf(err, errlen,
		         "cannot listen on %s: an earlier --web.listen-address already takes it "
		         "(kobsd listens on %s); give each address once",
		         shown, where);
		return -1;
	}
	snprintf(err, errlen, "cannot listen on %s: %s%s", shown, strerror(error),
	         error == EADDRINUSE ? " (is another kobsd running? pick another port with "
	                               "--web.listen-address)"
	         : error == EACCES   ? " (ports below 1024 need CAP_NET_BIND_SERVICE)"
	                             : "");
	return -1;
}

void listen_describe(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			port = ntohs(in6->sin6_port);
			snprintf(out, len, "[%s]:%u", host, port);
			return;
		}
	}
	snprintf(out, len, "%s:%u", host, port);
}
