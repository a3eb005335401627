#include "web_config.h"

#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_yaml.h"
#include "regular_file.h"
#include "xalloc.h"

#define WEB_CONFIG_MAX_BYTES (1024 * 1024)
#define PEM_MAX_BYTES        (1024 * 1024)
#define WEB_MAX_USERS        1024
#define WEB_MAX_HEADERS      16

/* What one parse needs: the document, where to report, and the output. */
struct parse {
	yaml_document_t doc;
	const char *name;
	const char *basedir;
	struct web_config *out;
	char *err;
	size_t errlen;
};

static int fail_at(struct parse *p, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct parse *p, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	config_yaml_error(p->err, p->errlen, p->name, node ? &node->start_mark : NULL, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *scalar(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value
	                                              : NULL;
}

/* A scalar value, or an error naming the key when the value is a list or mapping. */
static int want_string(struct parse *p, const yaml_node_t *node, const char *key, const char **out)
{
	*out = scalar(node);
	if (!*out)
		return fail_at(p, node, "%s must be a string", key);
	if (strlen(*out) != node->data.scalar.length)
		return fail_at(p, node, "%s must not contain NUL bytes", key);
	return 0;
}

static char *resolve_path(const char *basedir, const char *path)
{
	if (path[0] == '/' || !basedir || !basedir[0])
		return xstrdup(path);
	size_t n = strlen(basedir) + strlen(path) + 2;
	char *full = xmalloc(n);
	snprintf(full, n, "%s/%s", basedir, path);
	return full;
}

/* Whether the key of `pair` is also the key of an earlier pair of `map`. YAML leaves repeated
 * keys to the application; exporter-toolkit refuses them, and here a section given twice would be
 * built twice over the first. Only called on mappings whose keys are known names, so the scan is
 * short: an unknown key or the first repeat ends the parse. */
static bool key_repeated(struct parse *p, const yaml_node_t *map, const yaml_node_pair_t *pair)
{
	const char *k = scalar(yaml_document_get_node(&p->doc, pair->key));
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; k && q < pair; q++) {
		const char *prev = scalar(yaml_document_get_node(&p->doc, q->key));
		if (prev && strcmp(prev, k) == 0)
			return true;
	}
	return false;
}

static void note_ignored(struct parse *p, const char *key)
{
	size_t used = strlen(p->out->ignored);
	snprintf(p->out->ignored + used, sizeof(p->out->ignored) - used, "%s%s", used ? ", " : "",
	         key);
}

static int parse_version(struct parse *p, const yaml_node_t *node, const char *key,
                         enum tls_version *out)
{
	static const struct {
		const char *name;
		enum tls_version v;
	} versions[] = {{"TLS10", TLS_VERSION_10},
	                {"TLS11", TLS_VERSION_11},
	                {"TLS12", TLS_VERSION_12},
	                {"TLS13", TLS_VERSION_13}};
	const char *s;
	if (want_string(p, node, key, &s) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (strcmp(s, versions[i].name) == 0) {
			*out = versions[i].v;
			return 0;
		}
	}
	return fail_at(p, node, "%s must be TLS10, TLS11, TLS12 or TLS13 (got '%s')", key, s);
}

static int parse_client_auth(struct parse *p, const yaml_node_t *node)
{
	static const struct {
		const char *name;
		enum client_auth v;
	} kinds[] = {{"NoClientCert", CLIENT_AUTH_NONE},
	             {"RequestClientCert", CLIENT_AUTH_REQUEST},
	             {"RequireAnyClientCert", CLIENT_AUTH_REQUIRE_ANY},
	             {"VerifyClientCertIfGiven", CLIENT_AUTH_VERIFY_IF_GIVEN},
	             {"RequireAndVerifyClientCert", CLIENT_AUTH_REQUIRE_AND_VERIFY}};
	const char *s;
	if (want_string(p, node, "client_auth_type", &s) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(s, kinds[i].name) == 0) {
			p->out->client_auth = kinds[i].v;
			return 0;
		}
	}
	return fail_at(p, node,
	               "client_auth_type must be NoClientCert, RequestClientCert, "
	               "RequireAnyClientCert, VerifyClientCertIfGiven or "
	               "RequireAndVerifyClientCert (got '%s')",
	               s);
}

static int parse_path(struct parse *p, const yaml_node_t *node, const char *key, char **out,
                      struct web_config_place *at)
{
	const char *s;
	if (want_string(p, node, key, &s) < 0)
		return -1;
	if (!s[0])
		return 0; /* empty means unset, as in exporter-toolkit */
	free(*out);
	*out = resolve_path(p->basedir, s);
	at->line = node->start_mark.line + 1;
	at->column = node->start_mark.column + 1;
	return 0;
}

static int parse_tls(struct parse *p, const yaml_node_t *map)
{
	struct web_config *c = p->out;
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map, "tls_server_config must be a mapping");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *knode = yaml_document_get_node(&p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
		const char *k = scalar(knode);
		int rc = 0;
		if (!k)
			return fail_at(p, knode, "keys must be strings");
		if (key_repeated(p, map, pair))
			return fail_at(p, knode, "tls_server_config.%s is given twice", k);
		if (strcmp(k, "cert_file") == 0)
			rc = parse_path(p, v, k, &c->cert_file, &c->cert_file_at);
		else if (strcmp(k, "key_file") == 0)
			rc = parse_path(p, v, k, &c->key_file, &c->key_file_at);
		else if (strcmp(k, "client_ca_file") == 0)
			rc = parse_path(p, v, k, &c->client_ca_file, &c->client_ca_file_at);
		else if (strcmp(k, "client_auth_type") == 0)
			rc = parse_client_auth(p, v);
		else if (strcmp(k, "min_version") == 0)
			rc = parse_version(p, v, k, &c->min_version);
		else if (strcmp(k, "max_version") == 0)
			rc = parse_version(p, v, k, &c->max_version);
		else if (strcmp(k, "cipher_suites") == 0 || strcmp(k, "curve_preferences") == 0 ||
		         strcmp(k, "prefer_server_cipher_suites") == 0)
			note_ignored(p, k); /* GnuTLS's secure defaults apply */
		else if (strcmp(k, "cert") == 0 || strcmp(k, "key") == 0 ||
		         strcmp(k, "client_allowed_sans") == 0)
			return fail_at(p, knode,
			               "tls_server_config.%s is not supported by kobsd; use "
			               "cert_file/key_file and client_ca_file",
			               k);
		else
			return fail_at(p, knode, "unknown key tls_server_config.%s", k);
		if (rc < 0)
			return -1;
	}
	if (!c->cert_file || !c->key_file)
		return fail_at(p, map, "tls_server_config needs both cert_file and key_file");
	if ((c->client_auth == CLIENT_AUTH_VERIFY_IF_GIVEN ||
	     c->client_auth == CLIENT_AUTH_REQUIRE_AND_VERIFY) &&
	    !c->client_ca_file)
		return fail_at(p, map, "client_auth_type needs client_ca_file to verify against");
	if (c->max_version && c->max_version < c->min_version)
		return fail_at(p, map, "max_version is lower than min_version");
	c->tls = true;
	return 0;
}

static bool is_bcrypt(const char *hash)
{
	/* $2a$, $2b$ or $2y$, two cost digits, '$', 53 characters of salt and hash */
	return strlen(hash) == 60 && hash[0] == '$' && hash[1] == '2' &&
	       (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$' &&
	       hash[6] == '$';
}

static int parse_users(struct parse *p, const yaml_node_t *map)
{
	struct web_config *c = p->out;
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map, "basic_auth_users must be a mapping of user: bcrypt-hash");
	size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
	if (n > WEB_MAX_USERS)
		return fail_at(p, map, "more than %d basic_auth_users", WEB_MAX_USERS);
	c->users = xcalloc(n ? n : 1, sizeof(*c->users));
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *knode = yaml_document_get_node(&p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
		const char *user, *hash;
		if (want_string(p, knode, "a user name", &user) < 0 ||
		    want_string(p, v, "a password hash", &hash) < 0)
			return -1;
		if (!user[0] || strchr(user, ':'))
			return fail_at(p, knode, "user names must be non-empty and without ':'");
		if (!is_bcrypt(hash))
			return fail_at(p, v,
			               "the password of '%s' must be a bcrypt hash ($2y$...; make "
			               "one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')",
			               user);
		for (size_t i = 0; i < c->nusers; i++)
			if (strcmp(c->users[i].name, user) == 0)
				return fail_at(p, knode, "user '%s' is listed twice", user);
		c->users[c->nusers].name = xstrdup(user);
		c->users[c->nusers].hash = xstrdup(hash);
		c->nusers++;
	}
	return 0;
}

/* exporter-toolkit allows only these response headers to be set. */
static const char *const settable_headers[] = {
    "Strict-Transport-Security", "X-Content-Type-Options",  "X-Frame-Options",
    "X-XSS-Protection",          "Content-Security-Policy",
};

static int parse_headers(struct parse *p, const yaml_node_t *map)
{
	struct web_config *c = p->out;
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map, "http_server_config.headers must be a mapping");
	c->headers = xcalloc(WEB_MAX_HEADERS, sizeof(*c->headers));
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *knode = yaml_document_get_node(&p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
		const char *name, *value;
		if (want_string(p, knode, "a header name", &name) < 0 ||
		    want_string(p, v, name, &value) < 0)
			return -1;
		bool allowed = false;
		for (size_t i = 0; i < sizeof(settable_headers) / sizeof(settable_headers[0]); i++)
			allowed = allowed || strcasecmp(name, settable_headers[i]) == 0;
		if (!allowed)
			return fail_at(p, knode, "header '%s' cannot be set here", name);
		if (strpbrk(value, "\r\n"))
			return fail_at(p, v, "header values must be one line");
		if (c->nheaders == WEB_MAX_HEADERS)
			return fail_at(p, knode, "too many headers");
		c->headers[c->nheaders].name = xstrdup(name);
		c->headers[c->nheaders].value = xstrdup(value);
		c->nheaders++;
	}
	return 0;
}

static int parse_http(struct parse *p, const yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map, "http_server_config must be a mapping");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *knode = yaml_document_get_node(&p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
		const char *k = scalar(knode);
		if (!k)
			return fail_at(p, knode, "keys must be strings");
		if (key_repeated(p, map, pair))
			return fail_at(p, knode, "http_server_config.%s is given twice", k);
		if (strcmp(k, "headers") == 0) {
			if (parse_headers(p, v) < 0)
				return -1;
		} else if (strcmp(k, "http2") == 0) {
			note_ignored(p, "http2"); /* libmicrohttpd speaks HTTP/1.1 */
		} else {
			return fail_at(p, knode, "unknown key http_server_config.%s", k);
		}
	}
	return 0;
}

static int parse_root(struct parse *p)
{
	yaml_node_t *root = yaml_document_get_root_node(&p->doc);
	if (!root)
		return 0; /* an empty file: plain HTTP, no authentication */
	if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return fail_at(p, root, "the top level must be a mapping");
	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *knode = yaml_document_get_node(&p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&p->doc, pair->value);
		const char *k = scalar(knode);
		int rc;
		if (!k)
			return fail_at(p, knode, "keys must be strings");
		if (key_repeated(p, root, pair))
			return fail_at(p, knode, "%s is given twice", k);
		if (strcmp(k, "tls_server_config") == 0)
			rc = parse_tls(p, v);
		else if (strcmp(k, "basic_auth_users") == 0)
			rc = parse_users(p, v);
		else if (strcmp(k, "http_server_config") == 0)
			rc = parse_http(p, v);
		else
			return fail_at(p, knode,
			               "unknown key '%s' (expected tls_server_config, "
			               "http_server_config or basic_auth_users)",
			               k);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int web_config_parse(const char *name, const char *text, size_t len, const char *basedir,
                     struct web_config *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->min_version = TLS_VERSION_12;
	struct parse p = {
	    .name = name, .basedir = basedir, .out = out, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return fail_at(&p, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int rc;
	if (!yaml_parser_load(&parser, &p.doc)) {
		config_yaml_parser_error(&parser, name, text, len, err, errlen);
		rc = -1;
	} else {
		rc = parse_root(&p);
		yaml_document_delete(&p.doc);
	}
	yaml_parser_delete(&parser);
	if (rc < 0)
		web_config_free(out);
	return rc;
}

/* The PEM text of a file the web config names at `at` under `key`. MHD takes it as a C string,
 * so a NUL byte (a DER file, most likely) would cut it short. */
static char *read_pem(const char *config, const char *key, const char *path,
                      const struct web_config_place *at, char *err, size_t errlen)
{
	char why[384];
	size_t len = 0;
	char *pem = regular_file_read(path, PEM_MAX_BYTES, &len, why, sizeof(why));
	if (pem && len == 0)
		snprintf(why, sizeof(why), "%s: is empty", path);
	else if (pem && memchr(pem, '\0', len))
		snprintf(
		    why, sizeof(why),
		    "%s: is not PEM text (a DER file? convert it with openssl x509 -inform der "
		    "or openssl pkey -inform der)",
		    path);
	else if (pem)
		return pem;
	if (pem && strcmp(key, "key_file") == 0)
		explicit_bzero(pem, len);
	free(pem);
	snprintf(err, errlen, "%s:%zu:%zu: %s %s", config, at->line, at->column, key, why);
	return NULL;
}

int web_config_load(const char *path, struct web_config *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	size_t len;
	char *text = regular_file_read(path, WEB_CONFIG_MAX_BYTES, &len, err, errlen);
	if (!text)
		return -1;
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	int rc = web_config_parse(path, text, len, dir, out, err, errlen);
	free(dir);
	free(text);
	if (rc < 0 || !out->tls)
		return rc;

	out->cert_pem =
	    read_pem(path, "cert_file", out->cert_file, &out->cert_file_at, err, errlen);
	if (out->cert_pem)
		out->key_pem =
		    read_pem(path, "key_file", out->key_file, &out->key_file_at, err, errlen);
	if (out->key_pem && out->client_ca_file)
		out->client_ca_pem = read_pem(path, "client_ca_file", out->client_ca_file,
		                              &out->client_ca_file_at, err, errlen);
	if (!out->cert_pem || !out->key_pem || (out->client_ca_file && !out->client_ca_pem)) {
		web_config_free(out);
		return -1;
	}
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void web_config_free(struct web_config *c)
{
	free(c->cert_file);
	free(c->key_file);
	free(c->client_ca_file);
	free(c->cert_pem);
	free_secret(c->key_pem);
	free(c->client_ca_pem);
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	for (size_t i = 0; i < c->nheaders; i++) {
		free(c->headers[i].name);
		free(c->headers[i].value);
	}
	free(c->headers);
	memset(c, 0, sizeof(*c));
}

void web_config_tls_priorities(const struct web_config *c, char *out, size_t len)
{
	enum tls_version max = c->max_version ? c->max_version : TLS_VERSION_13;
	size_t used = (size_t)snprintf(out, len, "NORMAL:-VERS-ALL");
	for (int v = (int)max; v >= (int)c->min_version && used < len; v--)
		used += (size_t)snprintf(out + used, len - used, ":+VERS-TLS1.%d", v - 10);
}

static bool equal_in_constant_time(const char *a, const char *b, size_t n)
{
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

bool web_config_check_password(const struct web_user *user, const char *password)
{
	void *scratch = NULL;
	int size = 0;
	const char *got = crypt_ra(password, user->hash, &scratch, &size);
	size_t n = strlen(user->hash);
	bool ok =
	    got && got[0] != '*' && strlen(got) == n && equal_in_constant_time(got, user->hash, n);
	free(scratch);
	return ok;
}
