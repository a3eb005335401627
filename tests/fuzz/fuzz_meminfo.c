/* parse_meminfo on any bytes: "Key:   123 kB" lines (kB converted to bytes). Beyond "no crash, no
 * read past len", every field is compared with a plain reference implementation of the same rules
 * (kv_reference.h): whether it was found, its value, and the return code. So, among others: a value
 * is only set when its key was found (fields are filled with garbage first), the key "" is never
 * found, and an unterminated last line never counts. */
#include <stdint.h>
#include <string.h>

#include "procfs_parse.h"

#include "fuzz_common.h"
#include "kv_reference.h"

static const char *const keys[] = {
    "MemTotal", "MemFree",         "MemAvailable", "Buffers",     "Cached", "SwapTotal", "SwapFree",
    "Dirty",    "HugePages_Total", "Hugepagesize", "DirectMap4k", "kB",     "x",         ""};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_field fields[NKEYS];
	for (size_t i = 0; i < NKEYS; i++) {
		fields[i].key = keys[i];
		fields[i].value = 0xa5a5a5a5a5a5a5a5ull;
		fields[i].found = i & 1;
	}
	const char *buf = (const char *)data;
	int rc = parse_meminfo(buf, size, fields, NKEYS);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);

	bool found[NKEYS];
	uint64_t value[NKEYS];
	bool any = ref_kv(buf, size, true, keys, NKEYS, found, value);
	for (size_t i = 0; i < NKEYS; i++) {
		FUZZ_CHECK(fields[i].key == keys[i], "the key pointer of %s was changed", keys[i]);
		FUZZ_CHECK(fields[i].found == found[i], "%s: found=%d, reference says %d", keys[i],
		           fields[i].found, found[i]);
		FUZZ_CHECK(fields[i].value == value[i], "%s: %llu, reference says %llu", keys[i],
		           (unsigned long long)fields[i].value, (unsigned long long)value[i]);
	}
	FUZZ_CHECK(rc == (any ? 0 : -1), "returned %d, reference says %d", rc, any ? 0 : -1);
	if (rc == -1)
		for (size_t i = 0; i < NKEYS; i++)
			FUZZ_CHECK(!fields[i].found, "%s found although no line was valid",
			           keys[i]);
	return 0;
}
