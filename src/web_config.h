/* The web configuration file (--web.config.file): TLS and basic authentication, with the keys of
 * Prometheus' exporter-toolkit so that users reuse their files. */
#ifndef KOBS_WEB_CONFIG_H
#define KOBS_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum client_auth {
	CLIENT_AUTH_NONE,               /* NoClientCert */
	CLIENT_AUTH_REQUEST,            /* RequestClientCert */
	CLIENT_AUTH_REQUIRE_ANY,        /* RequireAnyClientCert */
	CLIENT_AUTH_VERIFY_IF_GIVEN,    /* VerifyClientCertIfGiven */
	CLIENT_AUTH_REQUIRE_AND_VERIFY, /* RequireAndVerifyClientCert */
};

enum tls_version {
	TLS_VERSION_10 = 10,
	TLS_VERSION_11 = 11,
	TLS_VERSION_12 = 12,
	TLS_VERSION_13 = 13,
};

struct web_user {
	char *name;
	char *hash; /* bcrypt */
};

struct web_header {
	char *name;
	char *value;
};

/* Where in the file a setting was given (1-based), for messages about what it names. */
struct web_config_place {
	size_t line;
	size_t column;
};

struct web_config {
	/* tls_server_config; paths are absolute or relative to the file's directory */
	bool tls;
	char *cert_file;
	char *key_file;
	char *client_ca_file;
	struct web_config_place cert_file_at, key_file_at, client_ca_file_at;
	enum client_auth client_auth;
	enum tls_version min_version;
	enum tls_version max_version;
	/* The PEM contents, filled by web_config_load (not by web_config_parse). */
	char *cert_pem;
	char *key_pem;
	char *client_ca_pem;
	/* basic_auth_users */
	struct web_user *users;
	size_t nusers;
	/* http_server_config.headers */
	struct web_header *headers;
	size_t nheaders;
	/* Settings accepted for compatibility but without effect here, for one warning each. */
	char ignored[256];
};

/* Parse the YAML text. `name` stands for the file in messages ("FILE:LINE:COLUMN: ...") and
 * `basedir` resolves relative paths. Reads no files. Returns 0, or -1 with a message. */
int web_config_parse(const char *name, const char *text, size_t len, const char *basedir,
                     struct web_config *out, char *err, size_t errlen);

/* Read and parse the file, then read the certificate, key and CA files it names. Each must be a
 * regular file of at most 1 MiB (regular_file.h); a message about one of them starts with the
 * web config's "FILE:LINE:COLUMN:" where it is named. */
int web_config_load(const char *path, struct web_config *out, char *err, size_t errlen);

void web_config_free(struct web_config *c);

/* The GnuTLS priority string for the configured versions, e.g. "NORMAL:-VERS-ALL:+VERS-TLS1.3:
 * +VERS-TLS1.2". */
void web_config_tls_priorities(const struct web_config *c, char *out, size_t len);

/* Whether `password` is the user's: bcrypt through libcrypt, the comparison in constant time. */
bool web_config_check_password(const struct web_user *user, const char *password);

#endif
