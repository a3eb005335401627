/* A reference implementation of the meminfo/vmstat line rules (src/procfs_parse.c), written
 * plainly and separately so that the fuzzers can compare the two on every input:
 * complete lines only; blank-separated tokens; meminfo "Key: N" or "Key: N kB" (times 1024),
 * vmstat "key N"; nothing else on the line; N plain decimal digits that fit in 64 bits; the
 * first valid line of a key wins; the call fails when no line at all is valid. fuzz_kv_check
 * runs a parser and this reference side by side on one input. */
#ifndef KOBS_FUZZ_KV_REFERENCE_H
#define KOBS_FUZZ_KV_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "procfs_parse.h"

#include "fuzz_common.h"

#define REF_MAX_TOKENS 4

struct ref_token {
	const char *p;
	size_t len;
};

/* Up to REF_MAX_TOKENS + 1 tokens of [p, end): one more than any valid line has. */
static size_t ref_tokens(const char *p, const char *end, struct ref_token *t)
{
	size_t n = 0;
	while (n <= REF_MAX_TOKENS) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		const char *start = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		t[n].p = start;
		t[n].len = (size_t)(p - start);
		n++;
	}
	return n;
}

static bool ref_number(struct ref_token t, uint64_t *out)
{
	uint64_t v = 0;
	if (t.len == 0)
		return false;
	for (size_t i = 0; i < t.len; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(t.p[i] - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

/* One line; on success the key (without meminfo's colon) and the value. */
static bool ref_kv_line(const char *p, const char *end, bool meminfo, struct ref_token *key,
                        uint64_t *value)
{
	struct ref_token t[REF_MAX_TOKENS + 1];
	size_t n = ref_tokens(p, end, t);
	if (n < 2 || !ref_number(t[1], value))
		return false;
	*key = t[0];
	if (!meminfo)
		return n == 2;
	if (key->len < 2 || key->p[key->len - 1] != ':')
		return false;
	key->len--;
	if (n == 2)
		return true;
	return n == 3 && t[2].len == 2 && memcmp(t[2].p, "kB", 2) == 0 &&
	       !__builtin_mul_overflow(*value, 1024, value);
}

/* Returns whether any line was valid; found[i] and value[i] for each of the `n` keys. */
static bool ref_kv(const char *buf, size_t len, bool meminfo, const char *const *keys, size_t n,
                   bool *found, uint64_t *value)
{
	bool any = false;
	const char *p = buf, *end = buf + len;
	for (size_t i = 0; i < n; i++) {
		found[i] = false;
		value[i] = 0;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		struct ref_token key;
		uint64_t v;
		if (ref_kv_line(p, nl, meminfo, &key, &v)) {
			any = true;
			for (size_t i = 0; i < n; i++) {
				if (!found[i] && key.len == strlen(keys[i]) &&
				    memcmp(key.p, keys[i], key.len) == 0) {
					found[i] = true;
					value[i] = v;
				}
			}
		}
		p = nl + 1;
	}
	return any;
}

/* The whole check of a key/value parser (parse_meminfo or parse_vmstat) on one input: fields
 * filled with garbage first, then compared with ref_kv one by one, and the return code. */
typedef int kv_parse_fn(const char *buf, size_t len, struct kv_field *fields, size_t n);

#define KV_MAX_KEYS 32

static void fuzz_kv_check(kv_parse_fn *parse, bool meminfo, const char *const *keys, size_t n,
                          const uint8_t *data, size_t size)
{
	struct kv_field fields[KV_MAX_KEYS];
	FUZZ_CHECK(n <= KV_MAX_KEYS, "%zu keys, at most %d", n, KV_MAX_KEYS);
	for (size_t i = 0; i < n; i++) {
		fields[i].key = keys[i];
		fields[i].value = 0xa5a5a5a5a5a5a5a5ull;
		fields[i].found = i & 1;
	}
	const char *buf = (const char *)data;
	int rc = parse(buf, size, fields, n);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);

	bool found[KV_MAX_KEYS];
	uint64_t value[KV_MAX_KEYS];
	bool any = ref_kv(buf, size, meminfo, keys, n, found, value);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(fields[i].key == keys[i], "the key pointer of %s was changed", keys[i]);
		FUZZ_CHECK(fields[i].found == found[i], "%s: found=%d, reference says %d", keys[i],
		           fields[i].found, found[i]);
		FUZZ_CHECK(fields[i].value == value[i], "%s: %llu, reference says %llu", keys[i],
		           (unsigned long long)fields[i].value, (unsigned long long)value[i]);
	}
	FUZZ_CHECK(rc == (any ? 0 : -1), "returned %d, reference says %d", rc, any ? 0 : -1);
	if (rc == -1)
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(!fields[i].found, "%s found although no line was valid",
			           keys[i]);
}

#endif
