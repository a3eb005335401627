/* config_check_buffer (the --config.file loader, libyaml underneath) on any bytes. Beyond "no
 * crash, no leak, no read past len" (the text is passed as is, without a NUL after it):
 * - it returns 0 or -1, and the same on a second call;
 * - on -1, `err` is a NUL-terminated, non-empty message that starts with "NAME:" and says more
 *   than that, and nothing past `errlen` is written;
 * - a tiny `errlen` truncates the message but still terminates it. */
#include <stdint.h>
#include <string.h>

#include "config_file.h"

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
	return 0;
}
