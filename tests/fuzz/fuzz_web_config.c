/* web_config_parse (the --web.config.file loader, libyaml underneath; it reads no files) on any
 * bytes. Beyond "no crash, no leak, no read past len":
 * - on -1 the message is "NAME:..." and the output is all zero (nothing half-built is handed
 *   back, and LeakSanitizer sees that what was built is freed);
 * - on 0 the result keeps the promises the HTTP layer relies on: TLS has a certificate and a key,
 *   a CA when clients are verified, min_version <= max_version; users have non-empty names
 *   without ':', appear once and have bcrypt-shaped hashes; headers are ones exporter-toolkit
 *   allows, with one-line values; no PEM is loaded; `ignored` is terminated;
 * - relative paths are resolved against basedir, absolute ones kept: parsing with basedir NULL
 *   and with BASEDIR gives the same result, the paths differing by exactly "BASEDIR/";
 * - the GnuTLS priority string lists the configured versions, highest first. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "web_config.h"

#include "fuzz_common.h"

#define NAME    "web.yml"
#define BASEDIR "/etc/kobsd"

static const char *const allowed_headers[] = {
    "Strict-Transport-Security", "X-Content-Type-Options",  "X-Frame-Options",
    "X-XSS-Protection",          "Content-Security-Policy",
};

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static void check_tls(const struct web_config *c)
{
	if (!c->tls) {
		FUZZ_CHECK(!c->cert_file && !c->key_file && !c->client_ca_file,
		           "paths without tls_server_config");
		return;
	}
	FUZZ_CHECK(c->cert_file && c->key_file, "TLS without a certificate or a key");
	FUZZ_CHECK(c->client_auth <= CLIENT_AUTH_REQUIRE_AND_VERIFY, "client_auth %d",
	           (int)c->client_auth);
	if (c->client_auth == CLIENT_AUTH_VERIFY_IF_GIVEN ||
	    c->client_auth == CLIENT_AUTH_REQUIRE_AND_VERIFY)
		FUZZ_CHECK(c->client_ca_file, "verifying clients without a CA");
	FUZZ_CHECK(c->min_version >= TLS_VERSION_10 && c->min_version <= TLS_VERSION_13,
	           "min_version %d", (int)c->min_version);
	FUZZ_CHECK(c->max_version == 0 ||
	               (c->max_version >= c->min_version && c->max_version <= TLS_VERSION_13),
	           "max_version %d with min_version %d", (int)c->max_version, (int)c->min_version);

	char want[128], got[128];
	int n = snprintf(want, sizeof(want), "NORMAL:-VERS-ALL");
	int max = c->max_version ? (int)c->max_version : TLS_VERSION_13;
	for (int v = max; v >= (int)c->min_version; v--)
		n += snprintf(want + n, sizeof(want) - (size_t)n, ":+VERS-TLS1.%d", v - 10);
	web_config_tls_priorities(c, got, sizeof(got));
	FUZZ_CHECK(strcmp(got, want) == 0, "priorities \"%s\", expected \"%s\"", got, want);
}

static void check_valid(const struct web_config *c)
{
	check_tls(c);
	FUZZ_CHECK(!c->cert_pem && !c->key_pem && !c->client_ca_pem, "a PEM was loaded");
	FUZZ_CHECK(memchr(c->ignored, '\0', sizeof(c->ignored)), "ignored not terminated");

	FUZZ_CHECK(c->nusers <= 1024 && (c->nusers == 0 || c->users), "%zu users", c->nusers);
	for (size_t i = 0; i < c->nusers; i++) {
		const struct web_user *u = &c->users[i];
		FUZZ_CHECK(u->name && u->name[0] && !strchr(u->name, ':'), "user %zu: bad name", i);
		FUZZ_CHECK(u->hash && strlen(u->hash) == 60 && strncmp(u->hash, "$2", 2) == 0,
		           "user %s: not a bcrypt hash", u->name);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->users[j].name, u->name) != 0, "user %s twice",
			           u->name);
	}

	FUZZ_CHECK(c->nheaders <= 16 && (c->nheaders == 0 || c->headers), "%zu headers",
	           c->nheaders);
	for (size_t i = 0; i < c->nheaders; i++) {
		const struct web_header *h = &c->headers[i];
		bool allowed = false;
		for (size_t j = 0; j < sizeof(allowed_headers) / sizeof(allowed_headers[0]); j++)
			allowed |= strcasecmp(h->name, allowed_headers[j]) == 0;
		FUZZ_CHECK(allowed, "header \"%s\" may not be set", h->name);
		FUZZ_CHECK(!strpbrk(h->value, "\r\n"), "header %s: value of more than one line",
		           h->name);
	}
}

/* `resolved` is `raw` made relative to BASEDIR, unless `raw` is absolute. */
static void check_path(const char *raw, const char *resolved, const char *what)
{
	FUZZ_CHECK(!raw == !resolved, "%s set with one basedir only", what);
	if (!raw)
		return;
	if (raw[0] == '/') {
		FUZZ_CHECK(strcmp(raw, resolved) == 0, "absolute %s \"%s\" became \"%s\"", what,
		           raw, resolved);
		return;
	}
	size_t n = strlen(BASEDIR);
	FUZZ_CHECK(strncmp(resolved, BASEDIR "/", n + 1) == 0 && strcmp(resolved + n + 1, raw) == 0,
	           "relative %s \"%s\" became \"%s\"", what, raw, resolved);
}

static void check_same_but_paths(const struct web_config *raw, const struct web_config *c)
{
	FUZZ_CHECK(raw->tls == c->tls && raw->client_auth == c->client_auth &&
	               raw->min_version == c->min_version && raw->max_version == c->max_version &&
	               raw->nusers == c->nusers && raw->nheaders == c->nheaders &&
	               strcmp(raw->ignored, c->ignored) == 0,
	           "basedir changed more than the paths");
	for (size_t i = 0; i < c->nusers; i++)
		FUZZ_CHECK(strcmp(raw->users[i].name, c->users[i].name) == 0 &&
		               strcmp(raw->users[i].hash, c->users[i].hash) == 0,
		           "basedir changed user %zu", i);
	for (size_t i = 0; i < c->nheaders; i++)
		FUZZ_CHECK(strcmp(raw->headers[i].name, c->headers[i].name) == 0 &&
		               strcmp(raw->headers[i].value, c->headers[i].value) == 0,
		           "basedir changed header %zu", i);
	check_path(raw->cert_file, c->cert_file, "cert_file");
	check_path(raw->key_file, c->key_file, "key_file");
	check_path(raw->client_ca_file, c->client_ca_file, "client_ca_file");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct web_config c, raw;
	char err[256], raw_err[256];
	memset(&c, 0xa5, sizeof(c));
	memset(err, 0, sizeof(err));

	int rc = web_config_parse(NAME, text, size, BASEDIR, &c, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	int raw_rc = web_config_parse(NAME, text, size, NULL, &raw, raw_err, sizeof(raw_err));
	FUZZ_CHECK(raw_rc == rc, "returned %d with basedir " BASEDIR ", %d without", rc, raw_rc);

	if (rc == -1) {
		FUZZ_CHECK(all_zero(&c, sizeof(c)), "the output is not cleared after an error");
		FUZZ_CHECK(strncmp(err, NAME ":", strlen(NAME ":")) == 0 &&
		               strlen(err) > strlen(NAME ":"),
		           "message \"%s\"", err);
		FUZZ_CHECK(strcmp(err, raw_err) == 0,
		           "the message depends on basedir: \"%s\", \"%s\"", err, raw_err);
		return 0;
	}
	check_valid(&c);
	check_same_but_paths(&raw, &c);
	web_config_free(&c);
	web_config_free(&raw);
	FUZZ_CHECK(all_zero(&c, sizeof(c)), "web_config_free left something");
	return 0;
}
