#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_table.h"

/* Each connection is a socket pair: the daemon's end goes in the table, and the client's end
 * sees EOF once the table shuts the daemon's end down. The addresses are made up: the table
 * only compares them. */
struct pair {
	int daemon_end;
	int client_end;
};

static struct pair open_pair(void)
{
	int fds[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	return (struct pair){fds[0], fds[1]};
}

static void close_pair(struct pair p)
{
	close(p.daemon_end);
	if (p.client_end >= 0)
		close(p.client_end);
}

/* Whether the client's end reads EOF within `ms`. */
static bool hung_up_within(struct pair p, int ms)
{
	struct pollfd pfd = {.fd = p.client_end, .events = POLLIN};
	if (poll(&pfd, 1, ms) != 1)
		return false;
	char c;
	return recv(p.client_end, &c, 1, MSG_DONTWAIT) == 0;
}

static struct sockaddr_in ipv4(const char *address)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(40000)};
	assert_int_equal(inet_pton(AF_INET, address, &in.sin_addr), 1);
	return in;
}

static struct sockaddr_in6 ipv6(const char *address)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
	assert_int_equal(inet_pton(AF_INET6, address, &in6.sin6_addr), 1);
	return in6;
}

#define ADDR(a) ((const struct sockaddr *)&(a))

static struct conn_table *table(unsigned max, unsigned per_address, unsigned seconds)
{
	struct conn_limits limits = {max, per_address, seconds};
	return conn_table_start(&limits);
}

/* ---- the request deadline ---- */

static void connection_without_a_request_is_shut_down_after_the_deadline(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 10, 1);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p = open_pair();
	struct conn *c = conn_table_admit(t, p.daemon_end, ADDR(a));
	assert_non_null(c);
	assert_false(hung_up_within(p, 500));
	assert_true(hung_up_within(p, 5000));
	conn_table_remove(t, c);
	close_pair(p);
	conn_table_stop(t);
}

static void request_being_answered_is_not_shut_down(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 10, 1);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p = open_pair();
	struct conn *c = conn_table_admit(t, p.daemon_end, ADDR(a));
	conn_request_received(t, c);
	assert_false(hung_up_within(p, 1500));
	conn_table_remove(t, c);
	close_pair(p);
	conn_table_stop(t);
}

static void clock_starts_again_for_the_next_request(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 10, 1);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p = open_pair();
	struct conn *c = conn_table_admit(t, p.daemon_end, ADDR(a));
	conn_request_received(t, c);
	assert_false(hung_up_within(p, 1500));
	conn_request_answered(t, c);
	assert_false(hung_up_within(p, 500));
	assert_true(hung_up_within(p, 5000));
	conn_table_remove(t, c);
	close_pair(p);
	conn_table_stop(t);
}

static void removed_connection_is_never_touched(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 10, 1);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p = open_pair();
	struct conn *c = conn_table_admit(t, p.daemon_end, ADDR(a));
	conn_table_remove(t, c);
	assert_false(hung_up_within(p, 1500));
	close_pair(p);
	conn_table_stop(t);
}

/* ---- the limit per client address ---- */

static void connection_over_the_address_limit_is_refused(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 2, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p[3] = {open_pair(), open_pair(), open_pair()};
	struct conn *c[3];
	for (int i = 0; i < 3; i++)
		c[i] = conn_table_admit(t, p[i].daemon_end, ADDR(a));
	assert_non_null(c[0]);
	assert_non_null(c[1]);
	assert_null(c[2]);
	assert_true(hung_up_within(p[2], 1000));
	assert_false(hung_up_within(p[0], 0));
	for (int i = 0; i < 3; i++) {
		conn_table_remove(t, c[i]);
		close_pair(p[i]);
	}
	conn_table_stop(t);
}

static void other_addresses_have_limits_of_their_own(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 1, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct sockaddr_in b = ipv4("192.0.2.2");
	struct sockaddr_in6 v6 = ipv6("2001:db8::1");
	struct pair p[3] = {open_pair(), open_pair(), open_pair()};
	struct conn *c[3] = {
	    conn_table_admit(t, p[0].daemon_end, ADDR(a)),
	    conn_table_admit(t, p[1].daemon_end, ADDR(b)),
	    conn_table_admit(t, p[2].daemon_end, ADDR(v6)),
	};
	for (int i = 0; i < 3; i++) {
		assert_non_null(c[i]);
		conn_table_remove(t, c[i]);
		close_pair(p[i]);
	}
	conn_table_stop(t);
}

static void ipv4_mapped_ipv6_address_is_the_same_client_as_ipv4(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 1, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct sockaddr_in6 mapped = ipv6("::ffff:192.0.2.1");
	struct pair p[2] = {open_pair(), open_pair()};
	struct conn *first = conn_table_admit(t, p[0].daemon_end, ADDR(a));
	struct conn *second = conn_table_admit(t, p[1].daemon_end, ADDR(mapped));
	assert_non_null(first);
	assert_null(second);
	conn_table_remove(t, first);
	close_pair(p[0]);
	close_pair(p[1]);
	conn_table_stop(t);
}

static void connection_closed_by_its_client_no_longer_counts(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 2, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p[3] = {open_pair(), open_pair(), open_pair()};
	struct conn *c[3];
	c[0] = conn_table_admit(t, p[0].daemon_end, ADDR(a));
	c[1] = conn_table_admit(t, p[1].daemon_end, ADDR(a));
	/* The client closes; the server has not read the end of the stream yet (CLOSE-WAIT). */
	close(p[0].client_end);
	p[0].client_end = -1;
	c[2] = conn_table_admit(t, p[2].daemon_end, ADDR(a));
	assert_non_null(c[2]);
	for (int i = 0; i < 3; i++) {
		conn_table_remove(t, c[i]);
		close_pair(p[i]);
	}
	conn_table_stop(t);
}

static void removed_connection_no_longer_counts(void **state)
{
	(void)state;
	struct conn_table *t = table(10, 1, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p[2] = {open_pair(), open_pair()};
	struct conn *first = conn_table_admit(t, p[0].daemon_end, ADDR(a));
	conn_table_remove(t, first);
	struct conn *second = conn_table_admit(t, p[1].daemon_end, ADDR(a));
	assert_non_null(second);
	conn_table_remove(t, second);
	close_pair(p[0]);
	close_pair(p[1]);
	conn_table_stop(t);
}

/* ---- the limit on all connections ---- */

static void when_full_the_connection_waiting_longest_for_its_request_makes_room(void **state)
{
	(void)state;
	struct conn_table *t = table(3, 10, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct sockaddr_in b = ipv4("192.0.2.2");
	struct pair p[4] = {open_pair(), open_pair(), open_pair(), open_pair()};
	struct conn *c[4];
	c[0] = conn_table_admit(t, p[0].daemon_end, ADDR(a));
	usleep(2000);
	c[1] = conn_table_admit(t, p[1].daemon_end, ADDR(a));
	usleep(2000);
	c[2] = conn_table_admit(t, p[2].daemon_end, ADDR(a));
	/* The oldest is being answered: the next oldest waits longest for its request. */
	conn_request_received(t, c[0]);
	c[3] = conn_table_admit(t, p[3].daemon_end, ADDR(b));
	assert_non_null(c[3]);
	assert_true(hung_up_within(p[1], 1000));
	assert_false(hung_up_within(p[0], 0));
	assert_false(hung_up_within(p[2], 0));
	assert_false(hung_up_within(p[3], 0));
	for (int i = 0; i < 4; i++) {
		conn_table_remove(t, c[i]);
		close_pair(p[i]);
	}
	conn_table_stop(t);
}

/* A flood from one address churns the table; a lone client's connection, though it has waited
 * longest, is not the one closed while the flooding address holds several. */
static void when_full_the_address_holding_most_makes_room(void **state)
{
	(void)state;
	struct conn_table *t = table(4, 10, 60);
	struct sockaddr_in lone = ipv4("192.0.2.1");
	struct sockaddr_in flood = ipv4("192.0.2.2");
	struct pair p[5] = {open_pair(), open_pair(), open_pair(), open_pair(), open_pair()};
	struct conn *c[5];
	c[0] = conn_table_admit(t, p[0].daemon_end, ADDR(lone));
	for (int i = 1; i < 5; i++) {
		usleep(2000);
		c[i] = conn_table_admit(t, p[i].daemon_end, ADDR(flood));
		assert_non_null(c[i]);
	}
	/* The fifth made room: the flood's oldest went, the lone client's stayed. */
	assert_true(hung_up_within(p[1], 1000));
	assert_false(hung_up_within(p[0], 0));
	for (int i = 2; i < 5; i++)
		assert_false(hung_up_within(p[i], 0));
	for (int i = 0; i < 5; i++) {
		conn_table_remove(t, c[i]);
		close_pair(p[i]);
	}
	conn_table_stop(t);
}

static void when_full_a_connection_closed_by_its_client_makes_room_first(void **state)
{
	(void)state;
	struct conn_table *t = table(2, 10, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p[3] = {open_pair(), open_pair(), open_pair()};
	struct conn *c[3];
	c[0] = conn_table_admit(t, p[0].daemon_end, ADDR(a));
	usleep(2000);
	c[1] = conn_table_admit(t, p[1].daemon_end, ADDR(a));
	close(p[1].client_end);
	p[1].client_end = -1;
	c[2] = conn_table_admit(t, p[2].daemon_end, ADDR(a));
	assert_non_null(c[2]);
	assert_false(hung_up_within(p[0], 200)); /* the oldest stays */
	for (int i = 0; i < 3; i++) {
		conn_table_remove(t, c[i]);
		close_pair(p[i]);
	}
	conn_table_stop(t);
}

static void when_full_of_requests_being_answered_a_new_connection_is_refused(void **state)
{
	(void)state;
	struct conn_table *t = table(2, 10, 60);
	struct sockaddr_in a = ipv4("192.0.2.1");
	struct pair p[3] = {open_pair(), open_pair(), open_pair()};
	struct conn *c[3];
	c[0] = conn_table_admit(t, p[0].daemon_end, ADDR(a));
	c[1] = conn_table_admit(t, p[1].daemon_end, ADDR(a));
	conn_request_received(t, c[0]);
	conn_request_received(t, c[1]);
	c[2] = conn_table_admit(t, p[2].daemon_end, ADDR(a));
	assert_null(c[2]);
	assert_true(hung_up_within(p[2], 1000));
	assert_false(hung_up_within(p[0], 0));
	assert_false(hung_up_within(p[1], 0));
	for (int i = 0; i < 3; i++) {
		conn_table_remove(t, c[i]);
		close_pair(p[i]);
	}
	conn_table_stop(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(connection_without_a_request_is_shut_down_after_the_deadline),
	    cmocka_unit_test(request_being_answered_is_not_shut_down),
	    cmocka_unit_test(clock_starts_again_for_the_next_request),
	    cmocka_unit_test(removed_connection_is_never_touched),
	    cmocka_unit_test(connection_over_the_address_limit_is_refused),
	    cmocka_unit_test(other_addresses_have_limits_of_their_own),
	    cmocka_unit_test(ipv4_mapped_ipv6_address_is_the_same_client_as_ipv4),
	    cmocka_unit_test(connection_closed_by_its_client_no_longer_counts),
	    cmocka_unit_test(removed_connection_no_longer_counts),
	    cmocka_unit_test(when_full_the_connection_waiting_longest_for_its_request_makes_room),
	    cmocka_unit_test(when_full_the_address_holding_most_makes_room),
	    cmocka_unit_test(when_full_a_connection_closed_by_its_client_makes_room_first),
	    cmocka_unit_test(when_full_of_requests_being_answered_a_new_connection_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
