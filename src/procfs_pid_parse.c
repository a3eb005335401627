/* Parsers for the per-process files of /proc/<pid> (contract in procfs_pid_parse.h).
 *
 * The rules are those of procfs_parse.c, for the same reason (a wrong value is worse than a
 * missing one):
 * - Only lines that end in '\n' are used; a cut last line is ignored, even when it looks whole.
 * - Numbers are plain decimal digits that fit in 64 bits; anything else makes the line invalid.
 * - A line without the expected shape is skipped as a whole; when a key appears twice, the first
 *   valid line wins. Outputs are cleared first.
 * Decisions of this file:
 * - status: a Vm* line counts only as "Key: N kB", the one form the kernel prints. One whose
 *   bytes (N * 1024) do not fit in 64 bits is treated as absent, as meminfo's are: the other
 *   figures of the file are still good, so failing the whole file would lose them.
 * - schedstat: the first three numbers of the first line; numbers a future kernel might append
 *   are ignored, as /proc/stat's extra cpu columns are.
 * - limits: "Max open files" must be followed by a soft and a hard limit, each a number or
 *   "unlimited". A soft limit printed as the number 18446744073709551615 is RLIM_INFINITY,
 *   which the kernel prints as "unlimited"; both give PID_LIMIT_UNLIMITED.
 * - cgroup: the path is everything after the second ':' up to the newline, and must not be
 *   empty. The kernel does not escape cgroup names, so a name holding '\n' cuts the path short
 *   there; nothing in the file tells such a cut from a real path.
 * The span helpers are shared with procfs_parse.c (span.h). */
#include "procfs_pid_parse.h"

#include <stdbool.h>
#include <string.h>

#include "span.h"

/* Take the first token of *line as a key: "Name:" gives "Name"; anything else is no key. */
static bool colon_key(struct span *line, struct span *key)
{
	struct span token = next_token(line);
	if (span_len(token) < 2 || token.end[-1] != ':')
		return false;
	*key = (struct span){token.p, token.end - 1};
	return true;
}

/* What follows a key: "N" or, with `kb`, "N kB" (then converted to bytes), and nothing more. */
static bool parse_value(struct span rest, bool kb, uint64_t *value)
{
	if (!span_to_u64(next_token(&rest), value))
		return false;
	if (kb) {
		if (!span_equals(next_token(&rest), "kB") || *value > UINT64_MAX / 1024)
			return false;
		*value *= 1024;
	}
	return span_empty(next_token(&rest));
}

/* ---- /proc/<pid>/status ---- */

struct status_key {
	const char *name;
	unsigned bit; /* in `seen`; also the PID_STATUS_* bit for the Vm* keys */
	bool kb;
	size_t offset; /* of the uint64_t in struct pid_status */
};

/* Two bits of their own for the context switch lines, beyond the PID_STATUS_* ones. */
#define SEEN_VOLUNTARY    (1u << 8)
#define SEEN_NONVOLUNTARY (1u << 9)

static const struct status_key status_keys[] = {
    {"voluntary_ctxt_switches", SEEN_VOLUNTARY, false, offsetof(struct pid_status, voluntary_ctxt)},
    {"nonvoluntary_ctxt_switches", SEEN_NONVOLUNTARY, false,
     offsetof(struct pid_status, nonvoluntary_ctxt)},
    {"VmHWM", PID_STATUS_HWM, true, offsetof(struct pid_status, hwm_bytes)},
    {"VmRSS", PID_STATUS_RSS, true, offsetof(struct pid_status, rss_bytes)},
    {"VmSwap", PID_STATUS_SWAP, true, offsetof(struct pid_status, swap_bytes)},
};

static const struct status_key *status_key_of(struct span name)
{
	for (size_t i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]); i++)
		if (span_equals(name, status_keys[i].name))
			return &status_keys[i];
	return NULL;
}

int parse_pid_status(const char *buf, size_t len, struct pid_status *out)
{
	memset(out, 0, sizeof(*out));
	unsigned seen = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		struct span key;
		if (!colon_key(&line, &key))
			continue;
		const struct status_key *k = status_key_of(key);
		uint64_t value;
		if (!k || (seen & k->bit) || !parse_value(line, k->kb, &value))
			continue;
		seen |= k->bit;
		memcpy((char *)out + k->offset, &value, sizeof(value));
	}
	out->present = seen & (PID_STATUS_HWM | PID_STATUS_RSS | PID_STATUS_SWAP);
	if ((seen & (SEEN_VOLUNTARY | SEEN_NONVOLUNTARY)) != (SEEN_VOLUNTARY | SEEN_NONVOLUNTARY))
		return -1;
	out->present |= PID_STATUS_CTXT;
	return 0;
}

/* ---- /proc/<pid>/io ---- */

int parse_pid_io(const char *buf, size_t len, struct pid_io *out)
{
	memset(out, 0, sizeof(*out));
	struct {
		const char *name;
		uint64_t *value;
	} fields[] = {
	    {"rchar", &out->rchar},           {"wchar", &out->wchar},
	    {"syscr", &out->syscr},           {"syscw", &out->syscw},
	    {"read_bytes", &out->read_bytes}, {"write_bytes", &out->write_bytes},
	};
	const size_t nfields = sizeof(fields) / sizeof(fields[0]);
	unsigned seen = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		struct span key;
		uint64_t value;
		if (!colon_key(&line, &key) || !parse_value(line, false, &value))
			continue;
		for (size_t i = 0; i < nfields; i++) {
			if (!(seen & (1u << i)) && span_equals(key, fields[i].name)) {
				*fields[i].value = value;
				seen |= 1u << i;
				break;
			}
		}
	}
	return seen == (1u << nfields) - 1 ? 0 : -1;
}

/* ---- /proc/<pid>/schedstat ---- */

int parse_pid_schedstat(const char *buf, size_t len, struct pid_schedstat *out)
{
	memset(out, 0, sizeof(*out));
	struct span rest = span_of(buf, len);
	struct span line;
	struct pid_schedstat s;
	if (!next_line(&rest, &line) || !span_to_u64(next_token(&line), &s.oncpu_ns) ||
	    !span_to_u64(next_token(&line), &s.wait_ns) ||
	    !span_to_u64(next_token(&line), &s.timeslices))
		return -1;
	*out = s;
	return 0;
}

/* ---- /proc/<pid>/limits ---- */

static bool parse_limit(struct span token, uint64_t *out)
{
	if (span_equals(token, "unlimited")) {
		*out = PID_LIMIT_UNLIMITED;
		return true;
	}
	return span_to_u64(token, out);
}

int parse_pid_limits_nofile(const char *buf, size_t len, uint64_t *soft)
{
	static const char label[] = "Max open files";
	const size_t label_len = sizeof(label) - 1;
	*soft = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		if (span_len(line) <= label_len || memcmp(line.p, label, label_len) != 0 ||
		    !is_blank(line.p[label_len]))
			continue;
		line.p += label_len;
		uint64_t s, hard;
		if (parse_limit(next_token(&line), &s) && parse_limit(next_token(&line), &hard)) {
			*soft = s;
			return 0;
		}
	}
	return -1;
}

/* ---- /proc/<pid>/cgroup ---- */

/* "ID:CONTROLLERS:PATH" with a numeric ID and a non-empty PATH, which may hold ':'. */
static bool parse_cgroup_line(struct span line, uint64_t *id, struct span *controllers,
                              struct span *path)
{
	struct span id_text;
	if (!split_at(&line, ':', &id_text) || !span_to_u64(id_text, id) ||
	    !split_at(&line, ':', controllers) || span_empty(line))
		return false;
	*path = line;
	return true;
}

/* Whether a cgroup v1 hierarchy is systemd's own: named "name=systemd" (alone or in a
 * comma-separated list), or with no controller at all. */
static bool is_systemd_hierarchy(struct span controllers)
{
	if (span_empty(controllers))
		return true;
	struct span item;
	while (split_at(&controllers, ',', &item))
		if (span_equals(item, "name=systemd"))
			return true;
	return span_equals(controllers, "name=systemd");
}

int parse_pid_cgroup(const char *buf, size_t len, const char **path, size_t *path_len)
{
	*path = NULL;
	*path_len = 0;
	struct span first = {NULL, NULL}, systemd = {NULL, NULL};
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		uint64_t id;
		struct span controllers, p;
		if (!parse_cgroup_line(line, &id, &controllers, &p))
			continue;
		if (id == 0 && span_empty(controllers)) {
			first = p;
			systemd.p = NULL;
			break;
		}
		if (!systemd.p && is_systemd_hierarchy(controllers))
			systemd = p;
		if (!first.p)
			first = p;
	}
	struct span chosen = systemd.p ? systemd : first;
	if (!chosen.p)
		return -1;
	*path = chosen.p;
	*path_len = span_len(chosen);
	return 0;
}

size_t split_pid_cmdline(const char *buf, size_t len, const char **argv, size_t max)
{
	if (len && buf[len - 1] == '\0')
		len--;
	if (len == 0)
		return 0;
	size_t argc = 0;
	const char *arg = buf;
	for (size_t i = 0; i <= len && argc < max; i++)
		if (i == len || buf[i] == '\0') {
			argv[argc++] = arg;
			arg = buf + i + 1;
		}
	return argc;
}

int parse_pid_stat_start(const char *buf, size_t len, char comm[16], uint64_t *start_ticks)
{
	comm[0] = '\0';
	*start_ticks = 0;
	struct span in = span_of(buf, len);
	const char *open = memchr(in.p, '(', len);
	const char *close = NULL;
	for (const char *c = in.end; c > in.p; c--)
		if (c[-1] == ')') {
			close = c - 1;
			break;
		}
	if (!open || !close || close < open)
		return -1;
	/* After the name: state (field 3) ... starttime (field 22). */
	struct span rest = {close + 1, in.end};
	struct span line;
	if (!next_line(&rest, &line))
		line = (struct span){close + 1, in.end};
	struct span field = {0};
	for (int i = 3; i <= 22; i++) {
		field = next_token(&line);
		if (span_empty(field))
			return -1;
	}
	if (!span_to_u64(field, start_ticks))
		return -1;
	size_t n = (size_t)(close - open - 1);
	if (n > 15)
		n = 15;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	return 0;
}

int parse_pid_status_euid(const char *buf, size_t len, unsigned *euid)
{
	*euid = 0;
	struct span rest = span_of(buf, len), line, key;
	while (next_line(&rest, &line)) {
		if (!colon_key(&line, &key) || !span_equals(key, "Uid"))
			continue;
		next_token(&line); /* the real uid */
		uint64_t v;
		if (!span_to_u64(next_token(&line), &v) || v > UINT32_MAX)
			return -1;
		*euid = (unsigned)v;
		return 0;
	}
	return -1;
}
