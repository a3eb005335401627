/* config_check_buffer (the --config.file check: the YAML limits and the process groups'
 * schema) on any bytes. Beyond "no crash, no leak, no read past len" (the text is passed as is,
 * without a NUL after it):
 * - it returns 0 or -1, and the same on a second call;
 * - on -1, `err` is a NUL-terminated, non-empty message that starts with "NAME:" and says more
 *   than that, and nothing past `errlen` is written;
 * - a tiny `errlen` truncates the message but still terminates it.
 * When the text is valid, groups_config_parse loads it, and groups_config_match on a few hostile
 * processes (kernel thread, invalid UTF-8, quotes and newlines, a 64 KiB command line that
 * tempts catastrophic backtracking) names each matched one with 1 to 255 bytes, from an entry
 * that exists, the same way twice; two loads of one text are the same config. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "groups_config.h"

#include "fuzz_common.h"

#define NAME    "fuzz.yml"
#define ERRLEN  200
#define GUARD   56
#define GARBAGE 0xa5

static int check(const uint8_t *data, size_t size, char *err, size_t errlen)
{
	memset(err, GARBAGE, errlen + GUARD);
	int rc = config_check_buffer(NAME, (const char *)data, size, err, errlen);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	for (size_t i = errlen; i < errlen + GUARD; i++)
		FUZZ_CHECK((unsigned char)err[i] == GARBAGE, "wrote err[%zu] with errlen=%zu", i,
		           errlen);
	if (rc == 0)
		return rc;
	FUZZ_CHECK(memchr(err, '\0', errlen), "message not NUL-terminated within %zu bytes",
	           errlen);
	size_t len = strlen(err);
	if (errlen > strlen(NAME) + 2) {
		FUZZ_CHECK(strncmp(err, NAME ":", strlen(NAME ":")) == 0,
		           "message does not start with \"" NAME ":\": \"%s\"", err);
		FUZZ_CHECK(len > strlen(NAME ":"), "message says nothing: \"%s\"", err);
	} else {
		FUZZ_CHECK(strncmp(err, NAME, len) == 0, "truncated message \"%s\"", err);
	}
	return rc;
}

#define LONG_ARG (64 * 1024)

static void check_match(struct groups_config *c, const struct proc_identity *p)
{
	struct buf name, again;
	buf_init(&name);
	buf_init(&again);
	struct group_match m, m2;
	bool matched = groups_config_match(c, p, &m, &name);
	bool matched2 = groups_config_match(c, p, &m2, &again);
	FUZZ_CHECK(matched == matched2, "matched once, not the second time");
	if (matched) {
		FUZZ_CHECK(m.entry < groups_config_entries(c), "entry %zu of %zu", m.entry,
		           groups_config_entries(c));
		FUZZ_CHECK(name.len > 0 && name.len <= 255, "a name of %zu bytes", name.len);
		FUZZ_CHECK(name.data[name.len] == '\0', "name not NUL-terminated");
		FUZZ_CHECK(m.entry == m2.entry && name.len == again.len &&
		               memcmp(name.data, again.data, name.len) == 0,
		           "two matches differ");
	}
	buf_free(&name);
	buf_free(&again);
}

static void check_schema(const uint8_t *data, size_t size)
{
	struct groups_config *c, *c2;
	char err[ERRLEN];
	FUZZ_CHECK(groups_config_parse(NAME, (const char *)data, size, &c, err, sizeof(err)) == 0,
	           "config_check_buffer accepts what groups_config_parse refuses: %s", err);
	FUZZ_CHECK(groups_config_parse(NAME, (const char *)data, size, &c2, err, sizeof(err)) == 0,
	           "loads once, not the second time: %s", err);
	FUZZ_CHECK(groups_config_same(c, c2), "two loads of one text differ");
	/* The default: kernel threads, then every other process by name. */
	FUZZ_CHECK(size > 0 || groups_config_entries(c) == 2, "an empty text is not the default");
	const struct groups_settings *s = groups_config_settings(c);
	FUZZ_CHECK(s->group_limit >= 1, "group_limit %u", s->group_limit);

	char *arg = malloc(LONG_ARG + 1);
	FUZZ_CHECK(arg, "out of memory");
	for (size_t i = 0; i < LONG_ARG; i++)
		arg[i] = "aaaaaaa-\xff"[i % 9];
	arg[LONG_ARG] = '\0';
	const char *java[] = {"/usr/bin/java", "-jar", "/opt/app/x.jar", "--name=\"a\nb\\\""};
	const char *bad[] = {"\xff\xfe/\xc0\x80", "caf\xc3\xa9", "\xe2\x82"};
	const char *empty[] = {"", ""};
	const char *longer[] = {"sh", arg};
	const struct proc_identity people[] = {
	    {.pid = 2, .comm = "kthreadd", .cgroup = "/"},
	    {.pid = 1234,
	     .start_time = 1.7e9,
	     .comm = "java",
	     .argv = java,
	     .argc = 4,
	     .cgroup = "/system.slice/app.service",
	     .unit = "app.service",
	     .user = "www-data",
	     .uid = 33},
	    {.pid = -1,
	     .start_time = -1e300,
	     .comm = "\xff\xfe",
	     .argv = bad,
	     .argc = 3,
	     .cgroup = "/\xff/\n\"",
	     .unit = "\xff.service",
	     .uid = 4294967295u},
	    {.pid = 7, .start_time = NAN, .comm = "", .argv = empty, .argc = 2},
	    {.pid = 8, .comm = NULL, .argv = longer, .argc = 2, .cgroup = arg, .user = "0"},
	};
	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
		check_match(c, &people[i]);
	free(arg);
	groups_config_free(c);
	groups_config_free(c2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERRLEN + GUARD];
	int rc = check(data, size, err, ERRLEN);
	char first[ERRLEN];
	memcpy(first, err, sizeof(first));

	int rc2 = check(data, size, err, ERRLEN);
	FUZZ_CHECK(rc2 == rc, "returned %d, then %d", rc, rc2);
	if (rc == -1)
		FUZZ_CHECK(strcmp(err, first) == 0, "message changed: \"%s\", then \"%s\"", first,
		           err);

	int rc3 = check(data, size, err, 4);
	FUZZ_CHECK(rc3 == rc, "returned %d with errlen=%d, %d with errlen=4", rc, ERRLEN, rc3);
	if (rc == 0)
		check_schema(data, size);
	return 0;
}
