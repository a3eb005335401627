/* The /proc/<pid> parsers (src/procfs_pid_parse.c) on any bytes: each input goes to all of
 * them, since their files share a shape ("Key: N" lines, numbers, ':'-separated fields) and seeds
 * of one kind grow inputs for the others. Beyond "no crash, no read past len", every result is
 * compared with a plain reference implementation of the rules, written here separately:
 * - status: both context switch lines "key: N", Vm* lines "key: N kB" with N * 1024 in 64 bits,
 *   first valid line of each key; -1 exactly when a context switch line is missing.
 * - io: the six "key: N" lines, all required.
 * - schedstat: three numbers opening the first complete line.
 * - limits: the first "Max open files" line with two valid limits, the first "unlimited" or N.
 * - cgroup: "ID:CONTROLLERS:PATH"; 0:: first, then name=systemd or no controllers, then any; the
 *   path lies within the input, holds no '\n' and is exactly what follows the second ':'.
 * - stat: comm between the first '(' and the last ')', field 22 of that line the start ticks.
 * - status's effective uid: the third token of the first "Uid:" line.
 * On -1, the outputs are the cleared values the contract promises. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "procfs_pid_parse.h"

#include "fuzz_common.h"

#define REF_MAX_TOKENS 4

struct ref_tok {
	const char *p;
	size_t len;
};

/* The complete lines of the input, one at a time: false when none is left. */
struct ref_lines {
	const char *p, *end;
};

static bool ref_next_line(struct ref_lines *l, const char **start, size_t *len)
{
	if (l->p >= l->end)
		return false;
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (!nl)
		return false;
	*start = l->p;
	*len = (size_t)(nl - l->p);
	l->p = nl + 1;
	return true;
}

/* Up to REF_MAX_TOKENS + 1 blank-separated tokens: one more than any valid line has. */
static size_t ref_tokens(const char *p, size_t len, struct ref_tok *t)
{
	size_t n = 0, i = 0;
	while (n <= REF_MAX_TOKENS) {
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && p[i] != ' ' && p[i] != '\t')
			i++;
		t[n].p = p + start;
		t[n].len = i - start;
		n++;
	}
	return n;
}

static bool ref_is(struct ref_tok t, const char *s)
{
	return t.len == strlen(s) && memcmp(t.p, s, t.len) == 0;
}

static bool ref_number(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(p[i] - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

/* "key: N" (kb false) or "key: N kB" (kb true, N converted to bytes), nothing more. */
static bool ref_key_line(const char *p, size_t len, const char *key, bool kb, uint64_t *value)
{
	struct ref_tok t[REF_MAX_TOKENS + 1];
	size_t n = ref_tokens(p, len, t);
	size_t klen = strlen(key);
	if (n != (kb ? 3u : 2u) || t[0].len != klen + 1 || memcmp(t[0].p, key, klen) != 0 ||
	    t[0].p[klen] != ':' || !ref_number(t[1].p, t[1].len, value))
		return false;
	if (!kb)
		return true;
	return ref_is(t[2], "kB") && !__builtin_mul_overflow(*value, 1024, value);
}

/* Fill value[i]/found[i] for each of `n` keys from the first valid line of each. */
static void ref_keys(const uint8_t *data, size_t size, const char *const *keys, const bool *kb,
                     size_t n, uint64_t *value, bool *found)
{
	struct ref_lines l = {(const char *)data, (const char *)data + size};
	const char *p;
	size_t len;
	for (size_t i = 0; i < n; i++) {
		value[i] = 0;
		found[i] = false;
	}
	while (ref_next_line(&l, &p, &len)) {
		for (size_t i = 0; i < n; i++) {
			uint64_t v;
			if (!found[i] && ref_key_line(p, len, keys[i], kb[i], &v)) {
				found[i] = true;
				value[i] = v;
			}
		}
	}
}

static void check_status(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
	                                   "VmHWM", "VmRSS", "VmSwap"};
	static const bool kb[] = {false, false, true, true, true};
	uint64_t v[5];
	bool f[5];
	ref_keys(data, size, keys, kb, 5, v, f);

	struct pid_status s;
	memset(&s, 0xa5, sizeof(s));
	int rc = parse_pid_status((const char *)data, size, &s);
	bool ok = f[0] && f[1];
	unsigned present = (ok ? PID_STATUS_CTXT : 0) | (f[2] ? PID_STATUS_HWM : 0) |
	                   (f[3] ? PID_STATUS_RSS : 0) | (f[4] ? PID_STATUS_SWAP : 0);
	FUZZ_CHECK(rc == (ok ? 0 : -1), "status returned %d, reference says %d", rc, ok ? 0 : -1);
	FUZZ_CHECK(s.present == present, "status present %#x, reference says %#x", s.present,
	           present);
	uint64_t got[5] = {s.voluntary_ctxt, s.nonvoluntary_ctxt, s.hwm_bytes, s.rss_bytes,
	                   s.swap_bytes};
	for (size_t i = 0; i < 5; i++)
		FUZZ_CHECK(got[i] == v[i], "status %s: %llu, reference says %llu", keys[i],
		           (unsigned long long)got[i], (unsigned long long)v[i]);
}

static void check_io(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"rchar", "wchar",      "syscr",
	                                   "syscw", "read_bytes", "write_bytes"};
	static const bool kb[6] = {false};
	uint64_t v[6];
	bool f[6];
	ref_keys(data, size, keys, kb, 6, v, f);
	bool ok = true;
	for (size_t i = 0; i < 6; i++)
		ok = ok && f[i];

	struct pid_io io;
	memset(&io, 0xa5, sizeof(io));
	int rc = parse_pid_io((const char *)data, size, &io);
	FUZZ_CHECK(rc == (ok ? 0 : -1), "io returned %d, reference says %d", rc, ok ? 0 : -1);
	if (!ok)
		return;
	uint64_t got[6] = {io.rchar, io.wchar, io.syscr, io.syscw, io.read_bytes, io.write_bytes};
	for (size_t i = 0; i < 6; i++)
		FUZZ_CHECK(got[i] == v[i], "io %s: %llu, reference says %llu", keys[i],
		           (unsigned long long)got[i], (unsigned long long)v[i]);
}

static void check_schedstat(const uint8_t *data, size_t size)
{
	struct ref_lines l = {(const char *)data, (const char *)data + size};
	const char *p;
	size_t len;
	struct ref_tok t[REF_MAX_TOKENS + 1];
	uint64_t v[3] = {0, 0, 0};
	bool ok = ref_next_line(&l, &p, &len) && ref_tokens(p, len, t) >= 3;
	for (size_t i = 0; ok && i < 3; i++)
		ok = ref_number(t[i].p, t[i].len, &v[i]);

	struct pid_schedstat s;
	memset(&s, 0xa5, sizeof(s));
	int rc = parse_pid_schedstat((const char *)data, size, &s);
	FUZZ_CHECK(rc == (ok ? 0 : -1), "schedstat returned %d, reference says %d", rc,
	           ok ? 0 : -1);
	if (!ok) {
		FUZZ_CHECK(s.oncpu_ns == 0 && s.wait_ns == 0 && s.timeslices == 0,
		           "schedstat failed but left values behind");
		return;
	}
	FUZZ_CHECK(s.oncpu_ns == v[0] && s.wait_ns == v[1] && s.timeslices == v[2],
	           "schedstat %llu %llu %llu, reference says %llu %llu %llu",
	           (unsigned long long)s.oncpu_ns, (unsigned long long)s.wait_ns,
	           (unsigned long long)s.timeslices, (unsigned long long)v[0],
	           (unsigned long long)v[1], (unsigned long long)v[2]);
}

static bool ref_limit(struct ref_tok t, uint64_t *v)
{
	if (ref_is(t, "unlimited")) {
		*v = UINT64_MAX;
		return true;
	}
	return ref_number(t.p, t.len, v);
}

static void check_limits(const uint8_t *data, size_t size)
{
	static const char label[] = "Max open files";
	struct ref_lines l = {(const char *)data, (const char *)data + size};
	const char *p;
	size_t len;
	bool ok = false;
	uint64_t want = 0;
	while (!ok && ref_next_line(&l, &p, &len)) {
		size_t n = strlen(label);
		if (len <= n || memcmp(p, label, n) != 0 || (p[n] != ' ' && p[n] != '\t'))
			continue;
		struct ref_tok t[REF_MAX_TOKENS + 1];
		uint64_t soft, hard;
		if (ref_tokens(p + n, len - n, t) >= 2 && ref_limit(t[0], &soft) &&
		    ref_limit(t[1], &hard)) {
			ok = true;
			want = soft;
		}
	}

	uint64_t soft = 0xa5a5a5a5a5a5a5a5ull;
	int rc = parse_pid_limits_nofile((const char *)data, size, &soft);
	FUZZ_CHECK(rc == (ok ? 0 : -1), "limits returned %d, reference says %d", rc, ok ? 0 : -1);
	FUZZ_CHECK(soft == want, "limits soft %llu, reference says %llu", (unsigned long long)soft,
	           (unsigned long long)want);
}

/* One "ID:CONTROLLERS:PATH" line: the offsets of the two colons, when it has that form. */
static bool ref_cgroup_line(const char *p, size_t len, size_t *c1, size_t *c2)
{
	size_t i = 0;
	while (i < len && p[i] != ':')
		i++;
	uint64_t id;
	if (i == len || !ref_number(p, i, &id))
		return false;
	size_t j = i + 1;
	while (j < len && p[j] != ':')
		j++;
	if (j >= len || j + 1 == len)
		return false;
	*c1 = i;
	*c2 = j;
	return true;
}

static bool ref_systemd_controllers(const char *p, size_t len)
{
	if (len == 0)
		return true;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == ',') {
			if (i - start == 12 && memcmp(p + start, "name=systemd", 12) == 0)
				return true;
			start = i + 1;
		}
	}
	return false;
}

static void check_cgroup(const uint8_t *data, size_t size)
{
	struct ref_lines l = {(const char *)data, (const char *)data + size};
	const char *p, *want[3] = {NULL, NULL, NULL}; /* unified, systemd, first */
	size_t len, want_len[3] = {0, 0, 0};
	while (!want[0] && ref_next_line(&l, &p, &len)) {
		size_t c1, c2;
		if (!ref_cgroup_line(p, len, &c1, &c2))
			continue;
		const char *path = p + c2 + 1;
		size_t path_len = len - c2 - 1;
		uint64_t id = 1;
		ref_number(p, c1, &id);
		int rank = id == 0 && c2 == c1 + 1                            ? 0
		           : ref_systemd_controllers(p + c1 + 1, c2 - c1 - 1) ? 1
		                                                              : 2;
		for (int r = rank; r < 3; r++) {
			if (!want[r]) {
				want[r] = path;
				want_len[r] = path_len;
			}
		}
	}
	const char *best = want[0] ? want[0] : want[1] ? want[1] : want[2];
	size_t best_len = want[0] ? want_len[0] : want[1] ? want_len[1] : want_len[2];

	const char *path = (const char *)data;
	size_t path_len = 12345;
	int rc = parse_pid_cgroup((const char *)data, size, &path, &path_len);
	FUZZ_CHECK(rc == (best ? 0 : -1), "cgroup returned %d, reference says %d", rc,
	           best ? 0 : -1);
	if (!best) {
		FUZZ_CHECK(path == NULL && path_len == 0, "cgroup failed but left a path");
		return;
	}
	FUZZ_CHECK(path >= (const char *)data && path_len <= size &&
	               (size_t)(path - (const char *)data) <= size - path_len,
	           "cgroup path outside the input");
	FUZZ_CHECK(!memchr(path, '\n', path_len), "cgroup path holds a newline");
	if (path != best || path_len != best_len) {
		fuzz_print_bytes("path", path, path_len);
		fuzz_print_bytes("reference", best, best_len);
		FUZZ_CHECK(false, "cgroup path differs from the reference");
	}
}

/* stat: comm between the first '(' and the last ')', then the rest of that line (or of the input
 * when no '\n' follows), blank-separated: token 20 (field 22) is the start, a 64-bit number. */
static void check_stat_start(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *open = NULL, *close = NULL;
	for (size_t i = 0; i < size; i++) {
		if (p[i] == '(' && !open)
			open = p + i;
		if (p[i] == ')')
			close = p + i;
	}
	bool ok = open && close && close > open;
	uint64_t want = 0;
	if (ok) {
		const char *rest = close + 1, *end = p + size;
		const char *nl = memchr(rest, '\n', (size_t)(end - rest));
		if (nl)
			end = nl;
		/* the tokens, by hand: REF_MAX_TOKENS is too few here */
		size_t n = 0;
		const char *tok = NULL;
		size_t toklen = 0;
		for (const char *c = rest; c < end && n < 20;) {
			while (c < end && (*c == ' ' || *c == '\t'))
				c++;
			if (c == end)
				break;
			const char *start = c;
			while (c < end && *c != ' ' && *c != '\t')
				c++;
			n++;
			tok = start;
			toklen = (size_t)(c - start);
		}
		ok = n == 20 && ref_number(tok, toklen, &want);
	}
	char comm[16];
	uint64_t start;
	memset(comm, 0xa5, sizeof(comm));
	int rc = parse_pid_stat_start(p, size, comm, &start);
	FUZZ_CHECK(rc == (ok ? 0 : -1), "stat returned %d, reference says %d", rc, ok ? 0 : -1);
	FUZZ_CHECK(start == (ok ? want : 0), "stat start %llu, reference says %llu",
	           (unsigned long long)start, (unsigned long long)(ok ? want : 0));
	size_t clen = ok ? (size_t)(close - open - 1) : 0;
	if (clen > 15)
		clen = 15;
	FUZZ_CHECK(comm[clen] == '\0' && (!ok || memcmp(comm, open + 1, clen) == 0),
	           "stat comm is not the reference's %zu bytes", clen);
}

/* status: the first complete line whose first token is "Uid:"; its third token is the effective
 * uid, at most 2^32 - 1. */
static void check_euid(const uint8_t *data, size_t size)
{
	struct ref_lines l = {(const char *)data, (const char *)data + size};
	const char *p;
	size_t len;
	int want_rc = -1;
	uint64_t want = 0;
	while (ref_next_line(&l, &p, &len)) {
		struct ref_tok t[REF_MAX_TOKENS + 1];
		size_t n = ref_tokens(p, len, t);
		if (n == 0 || !ref_is(t[0], "Uid:"))
			continue;
		if (n >= 3 && ref_number(t[2].p, t[2].len, &want) && want <= UINT32_MAX)
			want_rc = 0;
		else
			want = 0;
		break;
	}
	unsigned uid = 7;
	int rc = parse_pid_status_euid((const char *)data, size, &uid);
	FUZZ_CHECK(rc == want_rc, "euid returned %d, reference says %d", rc, want_rc);
	FUZZ_CHECK(uid == (unsigned)want, "euid %u, reference says %llu", uid,
	           (unsigned long long)want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_status(data, size);
	check_io(data, size);
	check_schedstat(data, size);
	check_limits(data, size);
	check_cgroup(data, size);
	check_stat_start(data, size);
	check_euid(data, size);
	return 0;
}
