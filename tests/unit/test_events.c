/* Slow events on their way out (src/events.c): the JSON of an event, the SSE frames a stream
 * reads, the ring that lets a stream resume, and the listener that wakes the streams. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "events.h"
#include "log.h"

#define RC "\xef\xbf\xbd" /* U+FFFD */

static struct buf out;

static int setup(void **state)
{
	(void)state;
	buf_init(&out);
	/* The events are logged too: keep the test's output to cmocka's. */
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	buf_free(&out);
	return 0;
}

static const struct event_field runq_fields[] = {
    {"cpu", "3", true},       {"pid", "1234", true},     {"tid", "1240", true},
    {"comm", "myapp", false}, {"group", "myapp", false}, {"latency_seconds", "0.00245", true},
};

static struct event runq_event(void)
{
	return (struct event){EVENT_RUNQUEUE, 1700000000.25, runq_fields, 6, "slow"};
}

static const char *json(const struct event *e)
{
	buf_reset(&out);
	events_render_json(&out, 7, e);
	return out.data;
}

static void an_event_is_one_json_object_with_id_time_kind_and_fields(void **state)
{
	(void)state;
	struct event e = runq_event();
	assert_string_equal(json(&e), "{\"id\":7,\"time\":\"2023-11-14T22:13:20.250Z\","
	                              "\"kind\":\"runqueue\",\"cpu\":3,\"pid\":1234,\"tid\":1240,"
	                              "\"comm\":\"myapp\",\"group\":\"myapp\","
	                              "\"latency_seconds\":0.00245}");
}

static void strings_are_escaped_and_made_valid_utf8(void **state)
{
	(void)state;
	struct event_field f[] = {{"comm", "a\"b\\c\nd\x01\x7f\xff\xc3\xa9", false}};
	struct event e = {EVENT_SYSCALL, 0, f, 1, ""};
	assert_non_null(
	    strstr(json(&e), "\"comm\":\"a\\\"b\\\\c\\u000ad\\u0001\\u007f" RC "\xc3\xa9\"}"));
}

static void a_number_field_that_is_not_a_number_is_written_as_a_string(void **state)
{
	(void)state;
	struct event_field f[] = {
	    {"pid", "12x", true}, {"cpu", "-0.5e3", true}, {"tid", "007", true}};
	struct event e = {EVENT_SYSCALL, 0, f, 3, ""};
	assert_non_null(strstr(json(&e), "\"pid\":\"12x\",\"cpu\":-0.5e3,\"tid\":\"007\""));
}

static void every_kind_has_a_name_and_a_message_id_of_its_own(void **state)
{
	(void)state;
	for (int i = 0; i < EVENT_KINDS; i++) {
		assert_non_null(event_kind_names[i]);
		assert_int_equal(strlen(event_message_ids[i]), 32);
		for (int j = 0; j < i; j++) {
			assert_string_not_equal(event_kind_names[i], event_kind_names[j]);
			assert_string_not_equal(event_message_ids[i], event_message_ids[j]);
		}
	}
	assert_string_equal(event_message_ids[EVENT_OOM_KILL], LOG_ID_OOM_KILL);
}

static void ids_grow_by_one_and_frames_carry_them(void **state)
{
	(void)state;
	struct events *ev = events_new();
	struct event e = runq_event();
	uint64_t first = events_next_id(ev);
	assert_true(events_publish(ev, &e) == first);
	assert_true(events_publish(ev, &e) == first + 1);
	uint64_t next = first, missed = 9;
	buf_reset(&out);
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 2);
	assert_true(next == first + 2);
	assert_true(missed == 0);
	char head[64];
	snprintf(head, sizeof(head), "id: %llu\ndata: {\"id\":%llu,", (unsigned long long)first,
	         (unsigned long long)first);
	assert_memory_equal(out.data, head, strlen(head));
	assert_non_null(strstr(out.data, "}\n\nid: "));
	assert_memory_equal(out.data + out.len - 3, "}\n\n", 3);
	events_free(ev);
}

static void a_reader_gets_only_what_is_new(void **state)
{
	(void)state;
	struct events *ev = events_new();
	struct event e = runq_event();
	events_publish(ev, &e);
	uint64_t next = events_next_id(ev), missed;
	buf_reset(&out);
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 0);
	assert_int_equal(out.len, 0);
	events_publish(ev, &e);
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 1);
	events_free(ev);
}

static void a_read_stops_at_the_room_given_but_takes_one_at_least(void **state)
{
	(void)state;
	struct events *ev = events_new();
	struct event e = runq_event();
	uint64_t first = events_next_id(ev);
	for (int i = 0; i < 3; i++)
		events_publish(ev, &e);
	uint64_t next = first, missed;
	buf_reset(&out);
	assert_int_equal(events_read(ev, &next, &out, 1, &missed), 1);
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 2);
	assert_true(next == first + 3);
	events_free(ev);
}

static void a_reader_overtaken_by_the_ring_is_told_how_many_it_missed(void **state)
{
	(void)state;
	struct events *ev = events_new();
	struct event e = runq_event();
	uint64_t first = events_next_id(ev);
	for (int i = 0; i < EVENTS_RING + 10; i++)
		events_publish(ev, &e);
	uint64_t next = first + 3, missed = 0;
	buf_reset(&out);
	assert_int_equal(events_read(ev, &next, &out, 1 << 30, &missed), EVENTS_RING);
	assert_true(missed == 7);
	assert_true(next == first + EVENTS_RING + 10);
	events_free(ev);
}

static void an_id_from_an_earlier_daemon_resumes_from_the_oldest_held(void **state)
{
	(void)state;
	struct events *ev = events_new();
	struct event e = runq_event();
	uint64_t first = events_next_id(ev);
	events_publish(ev, &e);
	events_publish(ev, &e);
	/* Ids grow across restarts: an earlier daemon's are smaller than this one's first. */
	assert_true(first > 1000000);
	uint64_t next = first - 5, missed = 1;
	buf_reset(&out);
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 2);
	assert_true(missed == 0);
	/* 0, as a stream without Last-Event-ID asks: the same. */
	next = 0;
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 2);
	events_free(ev);
}

static void an_id_not_given_yet_reads_from_now_on(void **state)
{
	(void)state;
	struct events *ev = events_new();
	struct event e = runq_event();
	events_publish(ev, &e);
	uint64_t next = events_next_id(ev) + 100, missed;
	buf_reset(&out);
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 0);
	assert_true(next == events_next_id(ev));
	events_publish(ev, &e);
	assert_int_equal(events_read(ev, &next, &out, 1 << 20, &missed), 1);
	events_free(ev);
}

static int woken;

static void count_wake(void *arg)
{
	assert_ptr_equal(arg, &woken);
	woken++;
}

static void the_listener_is_woken_for_each_event(void **state)
{
	(void)state;
	struct events *ev = events_new();
	struct event e = runq_event();
	woken = 0;
	events_set_listener(ev, count_wake, &woken);
	events_publish(ev, &e);
	events_publish(ev, &e);
	assert_int_equal(woken, 2);
	events_set_listener(ev, NULL, NULL);
	events_publish(ev, &e);
	assert_int_equal(woken, 2);
	events_free(ev);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(an_event_is_one_json_object_with_id_time_kind_and_fields),
	    T(strings_are_escaped_and_made_valid_utf8),
	    T(a_number_field_that_is_not_a_number_is_written_as_a_string),
	    T(every_kind_has_a_name_and_a_message_id_of_its_own),
	    T(ids_grow_by_one_and_frames_carry_them),
	    T(a_reader_gets_only_what_is_new),
	    T(a_read_stops_at_the_room_given_but_takes_one_at_least),
	    T(a_reader_overtaken_by_the_ring_is_told_how_many_it_missed),
	    T(an_id_from_an_earlier_daemon_resumes_from_the_oldest_held),
	    T(an_id_not_given_yet_reads_from_now_on),
	    T(the_listener_is_woken_for_each_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
