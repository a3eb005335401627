/* Shared by the /proc parser tests: inputs as heap blocks of exactly their length, with no NUL
 * after them, so that AddressSanitizer and valgrind catch a parser that reads one byte too far.
 * Include after <cmocka.h>. */
#ifndef KOBS_TEST_BYTES_H
#define KOBS_TEST_BYTES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bytes {
	char *data;
	size_t len;
};

/* An exact-size copy: malloc(0) may return NULL, so empty input gets a one-byte block. */
static struct bytes copy_bytes(const char *data, size_t len)
{
	struct bytes b = {malloc(len ? len : 1), len};
	assert_non_null(b.data);
	if (len)
		memcpy(b.data, data, len);
	return b;
}

static struct bytes fixture(const char *relpath)
{
	const char *dir = getenv("KOBS_FIXTURES");
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "tests/fixtures", relpath);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s (set KOBS_FIXTURES)", path);
	char chunk[65536];
	size_t len = fread(chunk, 1, sizeof(chunk), f);
	assert_true(feof(f));
	fclose(f);
	return copy_bytes(chunk, len);
}

#endif
