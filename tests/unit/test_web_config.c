#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_config.h"

static int parse(const char *text, struct web_config *c, char *err, size_t errlen)
{
	return web_config_parse("web.yml", text, strlen(text), "/etc/kobsd", c, err, errlen);
}

static void exporter_toolkit_file_is_read_as_is(void **state)
{
	(void)state;
	const char *text = "tls_server_config:\n"
	                   "  cert_file: server.crt\n"
	                   "  key_file: /secure/server.key\n"
	                   "  client_auth_type: RequireAndVerifyClientCert\n"
	                   "  client_ca_file: ca.crt\n"
	                   "  min_version: TLS13\n"
	                   "basic_auth_users:\n"
	                   "  alice: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n"
	                   "http_server_config:\n"
	                   "  headers:\n"
	                   "    X-Frame-Options: deny\n";
	struct web_config c;
	char err[256];
	assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
	assert_true(c.tls);
	assert_string_equal(c.cert_file, "/etc/kobsd/server.crt");
	assert_string_equal(c.key_file, "/secure/server.key");
	assert_string_equal(c.client_ca_file, "/etc/kobsd/ca.crt");
	assert_int_equal(c.client_auth, CLIENT_AUTH_REQUIRE_AND_VERIFY);
	assert_int_equal(c.min_version, TLS_VERSION_13);
	assert_int_equal(c.nusers, 1);
	assert_string_equal(c.users[0].name, "alice");
	assert_int_equal(c.nheaders, 1);
	web_config_free(&c);
}

static void empty_file_means_plain_http(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("", &c, err, sizeof(err)), 0);
	assert_false(c.tls);
	assert_int_equal(c.nusers, 0);
	web_config_free(&c);
}

static void unknown_key_is_an_error_with_position(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(
	    parse("tls_server_config:\n  cert_file: a\n  kee_file: b\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "web.yml:3:3:"));
	assert_non_null(strstr(err, "kee_file"));
}

static void wrong_type_is_an_error(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("basic_auth_users: [alice]\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mapping"));
	assert_int_equal(
	    parse("tls_server_config:\n  cert_file: [a]\n  key_file: b\n", &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "cert_file must be a string"));
}

static void plain_password_is_refused(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("basic_auth_users:\n  bob: hunter2\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bcrypt"));
	assert_non_null(strstr(err, ":2:"));
}

static void tls_needs_cert_and_key(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("tls_server_config:\n  cert_file: a.crt\n", &c, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "key_file"));
}

static void verifying_clients_needs_a_ca(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n"
	                       "  client_auth_type: RequireAndVerifyClientCert\n",
	                       &c, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "client_ca_file"));
}

static void bad_enum_values_are_named(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n"
	                       "  min_version: SSL3\n",
	                       &c, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "SSL3"));
	assert_int_equal(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n"
	                       "  client_auth_type: Maybe\n",
	                       &c, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "Maybe"));
}

static void go_only_settings_are_accepted_and_noted(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n"
	                       "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"
	                       "http_server_config:\n  http2: false\n",
	                       &c, err, sizeof(err)),
	                 0);
	assert_non_null(strstr(c.ignored, "cipher_suites"));
	assert_non_null(strstr(c.ignored, "http2"));
	web_config_free(&c);
}

static void header_injection_is_refused(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(
	    parse("http_server_config:\n  headers:\n    Set-Cookie: x\n", &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "Set-Cookie"));
	assert_int_equal(parse("http_server_config:\n  headers:\n"
	                       "    X-Frame-Options: \"deny\\r\\nX: y\"\n",
	                       &c, err, sizeof(err)),
	                 -1);
}

/* A section given twice used to be built twice: the second basic_auth_users wrote past the
 * users array of its own size (found by tests/fuzz/fuzz_web_config.c), a second headers mapping
 * leaked the first. exporter-toolkit refuses repeated keys, and so do we. */
static void repeated_keys_are_refused(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(
	    parse("basic_auth_users:\n"
	          "  a: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n"
	          "  b: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n"
	          "basic_auth_users:\n"
	          "  c: $2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n",
	          &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "web.yml:4:1: basic_auth_users is given twice"));
	assert_int_equal(parse("http_server_config:\n"
	                       "  headers: {X-Frame-Options: deny}\n"
	                       "  headers: {X-XSS-Protection: \"0\"}\n",
	                       &c, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "web.yml:3:3: http_server_config.headers is given twice"));
	assert_int_equal(
	    parse("tls_server_config:\n  cert_file: a\n  key_file: b\n  cert_file: c\n", &c, err,
	          sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "web.yml:4:3: tls_server_config.cert_file is given twice"));
}

static void priorities_follow_versions(void **state)
{
	(void)state;
	struct web_config c = {.min_version = TLS_VERSION_12};
	char p[128];
	web_config_tls_priorities(&c, p, sizeof(p));
	assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	c.min_version = TLS_VERSION_13;
	web_config_tls_priorities(&c, p, sizeof(p));
	assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
}

static void bcrypt_password_check(void **state)
{
	(void)state;
	char salt[64];
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	assert_non_null(crypt_gensalt_rn("$2y$", 4, NULL, 0, salt, sizeof(salt)));
	const char *hash = crypt_r("correct horse", salt, &data);
	assert_non_null(hash);
	struct web_user u = {.name = "alice", .hash = (char *)hash};
	assert_true(web_config_check_password(&u, "correct horse"));
	assert_false(web_config_check_password(&u, "correct hors"));
	assert_false(web_config_check_password(&u, ""));
}

static void yaml_syntax_error_has_position(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	assert_int_equal(parse("basic_auth_users:\n  a: [\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "web.yml:"));
}

static void nul_byte_is_reported_at_its_line_and_column(void **state)
{
	(void)state;
	struct web_config c;
	char err[256];
	const char text[] = "basic_auth_users:\n  al\0ice: x\n";
	assert_int_equal(
	    web_config_parse("web.yml", text, sizeof(text) - 1, "/etc/kobsd", &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "web.yml:2:5: "));
	assert_non_null(strstr(err, "NUL"));
}

/* ---- web_config_load: the files, in a directory of their own ---- */

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/kobs-web-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static const char *const names[] = {"web.yml", "server.crt", "server.key", "ca.crt"};

static int remove_dir(void **state)
{
	(void)state;
	char path[128];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

static const char *in_dir(const char *name)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void put(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(in_dir(name), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_string(const char *name, const char *text)
{
	put(name, text, strlen(text));
}

static const char tls_yml[] = "tls_server_config:\n"
                              "  cert_file: server.crt\n"
                              "  key_file: server.key\n";
/* Not a real certificate: web_config_load reads the files; GnuTLS judges them later. */
static const char pem[] = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";

static void files_named_by_the_web_config_are_read(void **state)
{
	(void)state;
	struct web_config c;
	char err[512];
	put_string("web.yml", tls_yml);
	put_string("server.crt", pem);
	put_string("server.key", pem);
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), 0);
	assert_string_equal(c.cert_pem, pem);
	assert_string_equal(c.key_pem, pem);
	web_config_free(&c);
}

static void empty_web_config_file_means_plain_http(void **state)
{
	(void)state;
	struct web_config c;
	char err[512];
	put_string("web.yml", "");
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), 0);
	assert_false(c.tls);
	web_config_free(&c);
}

static void missing_certificate_is_reported_where_the_web_config_names_it(void **state)
{
	(void)state;
	struct web_config c;
	char err[512], want[256];
	put_string("web.yml", tls_yml);
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/web.yml:2:14: cert_file %s/server.crt: No such file", dir,
	         dir);
	assert_non_null(strstr(err, want));
}

/* The alarm turns a hang in open(2) into a failure. */
static void key_that_is_a_fifo_is_refused_at_once(void **state)
{
	(void)state;
	struct web_config c;
	char err[512], want[256];
	put_string("web.yml", tls_yml);
	put_string("server.crt", pem);
	assert_int_equal(mkfifo(in_dir("server.key"), 0600), 0);
	alarm(10);
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), -1);
	alarm(0);
	snprintf(want, sizeof(want),
	         "%s/web.yml:3:13: key_file %s/server.key: is a named pipe (FIFO), not a regular "
	         "file",
	         dir, dir);
	assert_string_equal(err, want);
}

static void web_config_that_is_a_fifo_is_refused_at_once(void **state)
{
	(void)state;
	struct web_config c;
	char err[512], want[256];
	assert_int_equal(mkfifo(in_dir("web.yml"), 0600), 0);
	alarm(10);
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), -1);
	alarm(0);
	snprintf(want, sizeof(want), "%s/web.yml: is a named pipe (FIFO), not a regular file", dir);
	assert_string_equal(err, want);
}

static void ca_file_that_is_a_directory_is_refused(void **state)
{
	(void)state;
	struct web_config c;
	char err[512];
	put_string("web.yml", "tls_server_config:\n"
	                      "  cert_file: server.crt\n"
	                      "  key_file: server.key\n"
	                      "  client_ca_file: /tmp\n"
	                      "  client_auth_type: RequireAndVerifyClientCert\n");
	put_string("server.crt", pem);
	put_string("server.key", pem);
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "web.yml:4:19: client_ca_file /tmp: is a directory"));
}

/* The file was read as a C string, so everything after a NUL byte was silently dropped. */
static void nul_byte_in_the_file_is_not_its_end(void **state)
{
	(void)state;
	struct web_config c;
	char err[512];
	const char text[] = "basic_auth_users: {}\n\0tls_server_config: 1\n";
	put("web.yml", text, sizeof(text) - 1);
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "web.yml:2:1: "));
	assert_non_null(strstr(err, "NUL"));
}

static void der_certificate_is_named_as_such(void **state)
{
	(void)state;
	struct web_config c;
	char err[512];
	put_string("web.yml", tls_yml);
	put("server.crt", "\x30\x82\x01\x00\x00\x01", 6);
	put_string("server.key", pem);
	assert_int_equal(web_config_load(in_dir("web.yml"), &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "web.yml:2:14: cert_file "));
	assert_non_null(strstr(err, "is not PEM text (a DER file?"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exporter_toolkit_file_is_read_as_is),
	    cmocka_unit_test(empty_file_means_plain_http),
	    cmocka_unit_test(unknown_key_is_an_error_with_position),
	    cmocka_unit_test(wrong_type_is_an_error),
	    cmocka_unit_test(plain_password_is_refused),
	    cmocka_unit_test(tls_needs_cert_and_key),
	    cmocka_unit_test(verifying_clients_needs_a_ca),
	    cmocka_unit_test(bad_enum_values_are_named),
	    cmocka_unit_test(go_only_settings_are_accepted_and_noted),
	    cmocka_unit_test(header_injection_is_refused),
	    cmocka_unit_test(repeated_keys_are_refused),
	    cmocka_unit_test(priorities_follow_versions),
	    cmocka_unit_test(bcrypt_password_check),
	    cmocka_unit_test(yaml_syntax_error_has_position),
	    cmocka_unit_test(nul_byte_is_reported_at_its_line_and_column),
	    cmocka_unit_test_setup_teardown(files_named_by_the_web_config_are_read, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(empty_web_config_file_means_plain_http, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(
	        missing_certificate_is_reported_where_the_web_config_names_it, make_dir,
	        remove_dir),
	    cmocka_unit_test_setup_teardown(key_that_is_a_fifo_is_refused_at_once, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(web_config_that_is_a_fifo_is_refused_at_once, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(ca_file_that_is_a_directory_is_refused, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(nul_byte_in_the_file_is_not_its_end, make_dir,
	                                    remove_dir),
	    cmocka_unit_test_setup_teardown(der_certificate_is_named_as_such, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
