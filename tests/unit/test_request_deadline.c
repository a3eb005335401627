#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "request_deadline.h"

/* Each test watches a socket pair: the daemon's end is registered, and the client's end sees EOF
 * once the watcher shuts the daemon's end down. The deadline is 1 s, watched every 250 ms. */
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

static void connection_without_a_request_is_shut_down_after_the_deadline(void **state)
{
	(void)state;
	struct request_deadlines *d = request_deadlines_start(1);
	struct pair p = open_pair();
	struct request_deadline *c = request_deadline_add(d, p.daemon_end);
	assert_false(hung_up_within(p, 500));
	assert_true(hung_up_within(p, 5000));
	request_deadline_remove(d, c);
	close_pair(p);
	request_deadlines_stop(d);
}

static void request_being_answered_is_not_shut_down(void **state)
{
	(void)state;
	struct request_deadlines *d = request_deadlines_start(1);
	struct pair p = open_pair();
	struct request_deadline *c = request_deadline_add(d, p.daemon_end);
	request_deadline_received(d, c);
	assert_false(hung_up_within(p, 1500));
	request_deadline_remove(d, c);
	close_pair(p);
	request_deadlines_stop(d);
}

static void clock_starts_again_for_the_next_request(void **state)
{
	(void)state;
	struct request_deadlines *d = request_deadlines_start(1);
	struct pair p = open_pair();
	struct request_deadline *c = request_deadline_add(d, p.daemon_end);
	request_deadline_received(d, c);
	assert_false(hung_up_within(p, 1500));
	request_deadline_answered(d, c);
	assert_false(hung_up_within(p, 500));
	assert_true(hung_up_within(p, 5000));
	request_deadline_remove(d, c);
	close_pair(p);
	request_deadlines_stop(d);
}

static void removed_connection_is_never_touched(void **state)
{
	(void)state;
	struct request_deadlines *d = request_deadlines_start(1);
	struct pair p = open_pair();
	struct request_deadline *c = request_deadline_add(d, p.daemon_end);
	request_deadline_remove(d, c);
	assert_false(hung_up_within(p, 1500));
	close_pair(p);
	request_deadlines_stop(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(connection_without_a_request_is_shut_down_after_the_deadline),
	    cmocka_unit_test(request_being_answered_is_not_shut_down),
	    cmocka_unit_test(clock_starts_again_for_the_next_request),
	    cmocka_unit_test(removed_connection_is_never_touched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
