#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
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
	int fd = listen_open(&a, NULL, 0, err, sizeof(err));
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
	int fd = listen_open(&a, NULL, 0, err, sizeof(err));
	assert_true(fd >= 0);
	listen_describe(fd, where, sizeof(where));
	assert_int_equal(listen_parse(where, &a, err, sizeof(err)), 0);
	assert_int_equal(listen_open(&a, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in use"));
	assert_non_null(strstr(err, "is another kobsd running?"));
	close(fd);
}

/* repeats(A, B): listen_check_repeats on the two addresses as given, with its message. */
static int repeats(const char *a, const char *b, char *err, size_t errlen)
{
	struct listen_addr addrs[2];
	const char *specs[2] = {a, b};
	assert_int_equal(listen_parse(a, &addrs[0], err, errlen), 0);
	assert_int_equal(listen_parse(b, &addrs[1], err, errlen), 0);
	return listen_check_repeats(addrs, specs, 2, err, errlen);
}

static void address_given_twice_is_named(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(repeats("127.0.0.1:9477", "127.0.0.1:9477", err, sizeof(err)), -1);
	assert_string_equal(err, "--web.listen-address=127.0.0.1:9477 is given twice");
}

static void same_address_written_two_ways_is_named(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(repeats("[::1]:9477", "[0:0::1]:09477", err, sizeof(err)), -1);
	assert_string_equal(err, "--web.listen-address=[::1]:9477 and --web.listen-address="
	                         "[0:0::1]:09477 are the same address; give it once");
	assert_int_equal(repeats("LocalHost:80", "localhost:80", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "are the same address"));
}

static void every_address_overlaps_each_address(void **state)
{
	(void)state;
	char err[256];
	const char *others[] = {"0.0.0.0:9477", "[::]:9477", "127.0.0.1:9477", "[::1]:9477",
	                        "localhost:9477"};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_int_equal(repeats(":9477", others[i], err, sizeof(err)), -1);
		assert_non_null(strstr(err, ":9477 takes port 9477 on every address, IPv4 and "
		                            "IPv6; give only one of them"));
		assert_int_equal(repeats(others[i], ":9477", err, sizeof(err)), -1);
	}
	assert_int_equal(repeats("0.0.0.0:9477", ":9477", err, sizeof(err)), -1);
	assert_string_equal(err, "--web.listen-address=0.0.0.0:9477 and --web.listen-address=:9477 "
	                         "overlap: :9477 takes port 9477 on every address, IPv4 and IPv6; "
	                         "give only one of them");
}

static void ipv4_wildcard_overlaps_ipv4_addresses_only(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(repeats("127.0.0.1:9477", "0.0.0.0:9477", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0.0.0.0:9477 takes port 9477 on every IPv4 address"));
	assert_int_equal(repeats("0.0.0.0:9477", "[::1]:9477", err, sizeof(err)), 0);
	assert_int_equal(repeats("0.0.0.0:9477", "localhost:9477", err, sizeof(err)), 0);
}

/* "[::]" is IPv6-only (open_bound), so it and "0.0.0.0" listen side by side. */
static void ipv6_wildcard_overlaps_ipv6_addresses_only(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(repeats("[::]:9477", "[::1]:9477", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[::]:9477 takes port 9477 on every IPv6 address"));
	assert_int_equal(repeats("[::]:9477", "0.0.0.0:9477", err, sizeof(err)), 0);
	assert_int_equal(repeats("[::]:9477", "127.0.0.1:9477", err, sizeof(err)), 0);
}

static void different_ports_and_port_zero_never_overlap(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(repeats(":9477", ":9478", err, sizeof(err)), 0);
	assert_int_equal(repeats("127.0.0.1:0", "127.0.0.1:0", err, sizeof(err)), 0);
	assert_int_equal(repeats(":0", "0.0.0.0:0", err, sizeof(err)), 0);
	assert_int_equal(repeats("127.0.0.1:9477", "127.0.0.2:9477", err, sizeof(err)), 0);
}

/* What the addresses as written cannot tell (a host name, say) shows when binding: a socket of
 * our own in the way is not blamed on another process. */
static void own_earlier_socket_is_not_blamed_on_another_kobsd(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256], where[80], want[320];
	assert_int_equal(listen_parse("127.0.0.1:0", &a, err, sizeof(err)), 0);
	int fd = listen_open(&a, NULL, 0, err, sizeof(err));
	assert_true(fd >= 0);
	listen_describe(fd, where, sizeof(where));
	assert_int_equal(listen_parse(where, &a, err, sizeof(err)), 0);
	assert_int_equal(listen_open(&a, &fd, 1, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	         "cannot listen on %s: an earlier --web.listen-address already takes it (kobsd "
	         "listens on %s); give each address once",
	         where, where);
	assert_string_equal(err, want);
	close(fd);
}

/* A ":port" socket takes IPv4 too (IPv6 with IPV6_V6ONLY off, or IPv4 where IPv6 is off). */
static void own_wildcard_socket_is_found_for_an_ipv4_address(void **state)
{
	(void)state;
	struct listen_addr a;
	char err[256], where[80], spec[96];
	assert_int_equal(listen_parse(":0", &a, err, sizeof(err)), 0);
	int fd = listen_open(&a, NULL, 0, err, sizeof(err));
	assert_true(fd >= 0);
	listen_describe(fd, where, sizeof(where));
	snprintf(spec, sizeof(spec), "127.0.0.1:%s", strrchr(where, ':') + 1);
	assert_int_equal(listen_parse(spec, &a, err, sizeof(err)), 0);
	assert_int_equal(listen_open(&a, &fd, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "an earlier --web.listen-address already takes it"));
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
	    cmocka_unit_test(address_given_twice_is_named),
	    cmocka_unit_test(same_address_written_two_ways_is_named),
	    cmocka_unit_test(every_address_overlaps_each_address),
	    cmocka_unit_test(ipv4_wildcard_overlaps_ipv4_addresses_only),
	    cmocka_unit_test(ipv6_wildcard_overlaps_ipv6_addresses_only),
	    cmocka_unit_test(different_ports_and_port_zero_never_overlap),
	    cmocka_unit_test(own_earlier_socket_is_not_blamed_on_another_kobsd),
	    cmocka_unit_test(own_wildcard_socket_is_found_for_an_ipv4_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
