/* Shared by the /proc parser tests: inputs as heap blocks of exactly their length, with no NUL
 * after them, so that AddressSanitizer and valgrind catch a parser that reads one byte too far.
 * Include after <cmocka.h>. */
#ifndef KOBS_TEST_BYTES_H
#define KOBS_TEST_BYTES_H

#include <stdint.h>
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

/* A small deterministic generator, so that a failing garbage input can be reproduced. */
static uint32_t next_random(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return *seed >> 8;
}

/* 20,000 random inputs of up to 511 bytes, each in its own exact-size block, passed to `each`:
 * mostly bytes of `alphabet` (what makes a parser go deep), one in eight any byte at all. */
static void for_each_garbage_input(const char *alphabet, uint32_t seed,
                                   void (*each)(const struct bytes *b))
{
	size_t nalpha = strlen(alphabet);
	char raw[512];
	for (int round = 0; round < 20000; round++) {
		size_t len = next_random(&seed) % sizeof(raw);
		for (size_t i = 0; i < len; i++) {
			uint32_t r = next_random(&seed);
			raw[i] = r % 8 ? alphabet[r % nalpha] : (char)(r >> 4);
		}
		struct bytes b = copy_bytes(raw, len);
		each(&b);
		free(b.data);
	}
}

#endif
