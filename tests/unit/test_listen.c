#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

static void host_and_port_are_split(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256];
	assert_int_equal(listen_parse("127.0.0.1:9477", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_string_equal(a.port, "9477");
}

static void bracketed_ipv6_is_accepted(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256];
	assert_int_equal(listen_parse("[::1]:80", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "::1");
	assert_string_equal(a.port, "80");
}

static void bare_port_means_every_address(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256];
	assert_int_equal(listen_parse(":9477", &a, err, sizeof(err)), 0);
	assert_string_equal(a.host, "");
	assert_string_equal(a.port, "9477");
}

static void unbracketed_ipv6_is_rejected(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256];
	assert_int_equal(listen_parse("::1:80", &a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[address]:port"));
}

static void bad_ports_are_rejected(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256];
	const char *bad[] = {"host", "host:",   "host:65536", "host:-1",    "host:http",
	                     ":1x",  "[::1]80", "[]:80",      "host:123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(listen_parse(bad[i], &a, err, sizeof(err)), -1);
}

static void port_zero_binds_a_free_port(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256], where[80];
	assert_int_equal(listen_parse("127.0.0.1:0", &a, err, sizeof(err)), 0);
	int fd = listen_open(&a, err, sizeof(err));
	assert_true(fd >= 0);
	listen_describe(fd, where, sizeof(where));
	assert_true(strncmp(where, "127.0.0.1:", 10) == 0);
	assert_string_not_equal(where, "127.0.0.1:0");
	close(fd);
}

static void address_in_use_is_explained(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256], where[80];
	assert_int_equal(listen_parse("127.0.0.1:0", &a, err, sizeof(err)), 0);
	int fd = listen_open(&a, err, sizeof(err));
	assert_true(fd >= 0);
	listen_describe(fd, where, sizeof(where));
	assert_int_equal(listen_parse(where, &a, err, sizeof(err)), 0);
	assert_int_equal(listen_open(&a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in use"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(host_and_port_are_split),
	    cmocka_unit_test(bracketed_ipv6_is_accepted),
	    cmocka_unit_test(bare_port_means_every_address),
	    cmocka_unit_test(unbracketed_ipv6_is_rejected),
	    cmocka_unit_test(bad_ports_are_rejected),
	    cmocka_unit_test(port_zero_binds_a_free_port),
	    cmocka_unit_test(address_in_use_is_explained),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
