/* group_link: the ids of the groups the kernel counts by, and the pid -> group words the BPF
 * programs read, as both collectors use them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "group_link.h"

/* The kernel's map, as the bpf collector reaches it: 16 words, 64 pids. */
struct fake_map {
	uint64_t words[16];
	unsigned writes;
};

static int fake_read(void *ctx, uint32_t word, uint64_t *value)
{
	struct fake_map *m = ctx;
	assert_true(word < 16);
	*value = m->words[word];
	return 0;
}

static int fake_write(void *ctx, uint32_t word, uint64_t value)
{
	struct fake_map *m = ctx;
	assert_true(word < 16);
	m->words[word] = value;
	m->writes++;
	return 0;
}

static struct group_link *attached(struct fake_map *m, unsigned ids)
{
	struct group_link *l = group_link_new();
	struct group_link_map map = {m, fake_read, fake_write};
	group_link_attach(l, &map, 64, ids);
	return l;
}

static unsigned group_in(const uint64_t *words, int pid)
{
	return (unsigned)(words[pid / 4] >> (16 * (pid % 4))) & 0xffff;
}

static void nothing_is_written_before_the_map_is_attached(void **state)
{
	(void)state;
	struct group_link *l = group_link_new();
	assert_false(group_link_attached(l));
	assert_int_equal(group_link_id(l, "a"), 0);
	group_link_set(l, 1, 1); /* no map: dropped, no crash */
	assert_int_equal(group_link_get(l, 1), 0);
	group_link_free(l);
}

static void ids_belong_to_names_until_the_table_is_full(void **state)
{
	(void)state;
	struct fake_map m = {0};
	struct group_link *l = attached(&m, 4); /* ids 1 .. 3 */
	assert_true(group_link_attached(l));
	assert_int_equal(group_link_id(l, "a"), 1);
	assert_int_equal(group_link_id(l, "b"), 2);
	assert_int_equal(group_link_id(l, "a"), 1);
	assert_int_equal(group_link_id(l, "c"), 3);
	assert_int_equal(group_link_id(l, "d"), 0);
	group_link_lock(l);
	assert_string_equal(group_link_name(l, 2), "b");
	assert_null(group_link_name(l, 0));
	assert_null(group_link_name(l, 4));
	group_link_unlock(l);
	group_link_free(l);
}

static void a_pid_is_written_without_touching_its_neighbours(void **state)
{
	(void)state;
	struct fake_map m = {0};
	struct group_link *l = attached(&m, 1000);
	uint64_t *words = m.words;
	group_link_set(l, 4, 1);
	group_link_set(l, 5, 999);
	group_link_set(l, 6, 3);
	group_link_set(l, 7, 65535);
	assert_int_equal(group_in(words, 4), 1);
	assert_int_equal(group_in(words, 5), 999);
	assert_int_equal(group_in(words, 7), 65535);
	group_link_set(l, 5, 2);
	group_link_set(l, 6, 0);
	assert_int_equal(group_in(words, 4), 1);
	assert_int_equal(group_in(words, 5), 2);
	assert_int_equal(group_in(words, 6), 0);
	assert_int_equal(group_in(words, 7), 65535);
	assert_int_equal(group_link_get(l, 5), 2);
	assert_int_equal(group_link_get(l, 7), 65535);
	unsigned writes = m.writes;
	group_link_set(l, 5, 2); /* no change, no write */
	assert_int_equal(m.writes, writes);
	group_link_set(l, 64, 1); /* beyond pid_max */
	group_link_set(l, -1, 1);
	group_link_set(l, 8, 70000); /* beyond 16 bits: outside every group */
	assert_int_equal(group_in(words, 8), 0);
	for (int i = 9; i < 64; i++)
		assert_int_equal(group_in(words, i), 0);
	group_link_free(l);
}

static void ids_of_groups_gone_are_freed_unless_an_exec_used_them(void **state)
{
	(void)state;
	struct fake_map m = {0};
	struct group_link *l = attached(&m, 10);
	assert_int_equal(group_link_id(l, "a"), 1);
	assert_int_equal(group_link_id(l, "b"), 2);
	assert_int_equal(group_link_exec_id(l, 4242, "short-lived"), 3);
	const char *have[] = {"a", NULL};
	group_link_publish(l, have, 2, 12.5, 300);
	group_link_lock(l);
	assert_string_equal(group_link_name(l, 1), "a");
	assert_null(group_link_name(l, 2)); /* the processes collector dropped it */
	assert_string_equal(group_link_name(l, 3), "short-lived"); /* kept for the expiry */
	assert_true(group_link_listed_boot(l) == 12.5);
	group_link_unlock(l);
	assert_int_equal(group_link_id(l, "c"), 2); /* the freed id is given again */
	group_link_publish(l, have, 2, 13, 0);
	group_link_lock(l);
	assert_null(group_link_name(l, 3));
	group_link_unlock(l);
	group_link_free(l);
}

static void execs_of_one_process_make_at_most_four_new_groups(void **state)
{
	(void)state;
	struct fake_map m = {0};
	struct group_link *l = attached(&m, 20);
	const char *names[] = {"n1", "n2", "n3", "n4", "n5", "n6"};
	for (int i = 0; i < 4; i++)
		assert_int_equal(group_link_exec_id(l, 7, names[i]), (unsigned)i + 1);
	assert_int_equal(group_link_exec_id(l, 7, "n5"), 0);
	assert_int_equal(group_link_exec_id(l, 7, "n6"), 0);
	assert_int_equal(group_link_exec_refused(l), 2);
	/* A group that has an id already is no new group. */
	assert_int_equal(group_link_exec_id(l, 7, "n2"), 2);
	/* Another process has its own four. */
	assert_int_equal(group_link_exec_id(l, 8, "n5"), 5);
	/* Once the process has exited, its pid starts again. */
	group_link_exit(l, 7);
	assert_int_equal(group_link_exec_id(l, 7, "n6"), 6);
	assert_int_equal(group_link_exec_refused(l), 2);
	group_link_free(l);
}

static void a_reset_frees_every_id_and_bumps_the_epoch(void **state)
{
	(void)state;
	struct fake_map m = {0};
	struct group_link *l = attached(&m, 10);
	group_link_id(l, "a");
	unsigned epoch = group_link_epoch(l);
	group_link_reset(l);
	assert_int_equal(group_link_epoch(l), epoch + 1);
	group_link_lock(l);
	assert_null(group_link_name(l, 1));
	group_link_unlock(l);
	struct proc_identity id = {.comm = "x"};
	struct group_match match;
	struct buf name;
	buf_init(&name);
	assert_false(group_link_match(l, &id, &match, &name)); /* no configuration yet */
	struct groups_config *c = groups_config_default();
	group_link_set_config(l, c);
	assert_true(group_link_match(l, &id, &match, &name));
	assert_string_equal(name.data, "x");
	buf_free(&name);
	groups_config_free(c);
	group_link_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nothing_is_written_before_the_map_is_attached),
	    cmocka_unit_test(ids_belong_to_names_until_the_table_is_full),
	    cmocka_unit_test(a_pid_is_written_without_touching_its_neighbours),
	    cmocka_unit_test(ids_of_groups_gone_are_freed_unless_an_exec_used_them),
	    cmocka_unit_test(execs_of_one_process_make_at_most_four_new_groups),
	    cmocka_unit_test(a_reset_frees_every_id_and_bumps_the_epoch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
