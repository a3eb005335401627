/* Parsers for the system-wide /proc files (contract in procfs_parse.h).
 *
 * Rules shared by every parser here, all chosen because a wrong value is worse than a missing one:
 * - Only lines that end in '\n' are used. The kernel ends every line with one, so a last line
 *   without it was cut (by a read limit, or by hand) and may stop mid-number: "ctxt 4734" from
 *   "ctxt 473474". Such a line is ignored, even when it happens to be complete.
 * - Numbers are plain decimal digits, no sign. One that does not fit in 64 bits is rejected, not
 *   saturated: a saturated counter would pass for a real, huge value.
 * - A line without the expected shape is skipped as a whole; the other lines still count.
 * - When a key appears twice, the first valid line wins.
 * - Outputs are cleared first, so what a parser returns depends on the input alone.
 * Every parser is one pass over the buffer (memchr to each line end), so a huge line such as
 * /proc/stat's "intr" costs only its length. */
#include "procfs_parse.h"

#include <limits.h>
#include <string.h>

#include "span.h"

/* A token "Name:" gives "Name"; anything else is not a key. */
static bool colon_key(struct span token, struct span *key)
{
	if (span_len(token) < 2 || token.end[-1] != ':')
		return false;
	*key = (struct span){token.p, token.end - 1};
	return true;
}

/* Append the digits of `s` to *v, refusing anything else and any overflow. */
static bool accumulate_digits(struct span s, uint64_t *v)
{
	for (const char *p = s.p; p < s.end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned digit = (unsigned)(*p - '0');
		if (*v > (UINT64_MAX - digit) / 10)
			return false;
		*v = *v * 10 + digit;
	}
	return true;
}

/* The whole token must be a decimal number that fits in 64 bits. */
static bool parse_u64(struct span s, uint64_t *out)
{
	uint64_t v = 0;
	if (span_empty(s) || !accumulate_digits(s, &v))
		return false;
	*out = v;
	return true;
}

/* "12" or "12.34", the way the kernel prints loads and PSI averages. Done by hand rather than
 * with strtod so that the locale cannot move the decimal point and "nan", "inf", "1e9" or hex
 * are refused. All digits are read as one integer and divided once by an exact power of ten,
 * which rounds correctly whenever that integer is below 2^53 (any value the kernel prints). */
static bool parse_decimal(struct span s, double *out)
{
	static const double powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
	                                       1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
	                                       1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
	struct span whole = s;
	struct span fraction = {s.end, s.end};
	const char *dot = span_empty(s) ? NULL : memchr(s.p, '.', span_len(s));
	if (dot) {
		whole.end = dot;
		fraction.p = dot + 1;
		if (span_empty(fraction))
			return false;
	}
	uint64_t digits = 0;
	if (span_empty(whole) || !accumulate_digits(whole, &digits) ||
	    !accumulate_digits(fraction, &digits))
		return false;
	size_t scale = span_len(fraction);
	if (scale >= sizeof(powers_of_ten) / sizeof(powers_of_ten[0]))
		return false;
	*out = (double)digits / powers_of_ten[scale];
	return true;
}

/* ---- /proc/stat ---- */

/* "cpu" followed by at least one digit: one line per CPU. Its number goes to `n`. */
static bool is_per_cpu_key(struct span key, uint64_t *n)
{
	return span_len(key) > 3 && memcmp(key.p, "cpu", 3) == 0 &&
	       parse_u64((struct span){key.p + 3, key.end}, n);
}

/* The tick columns of a "cpu" or "cpuN" line: 4 to 10. Columns past the tenth (a newer
 * kernel's) are ignored; a column that is not a number makes the whole line invalid. */
static bool parse_ticks(struct span rest, uint64_t ticks[CPU_MODE__COUNT], unsigned *modes)
{
	uint64_t got[CPU_MODE__COUNT] = {0};
	unsigned n = 0;
	for (struct span t = next_token(&rest); !span_empty(t); t = next_token(&rest)) {
		uint64_t v;
		if (!parse_u64(t, &v))
			return false;
		if (n < CPU_MODE__COUNT)
			got[n++] = v;
	}
	if (n < 4)
		return false;
	memcpy(ticks, got, sizeof(got));
	*modes = n;
	return true;
}

static bool parse_cpu_line(struct span rest, struct proc_stat *out)
{
	return parse_ticks(rest, out->cpu_ticks, &out->cpu_modes);
}

/* Where the single-value line named `key` goes, or NULL for a line we do not use. */
static uint64_t *stat_value(struct proc_stat *s, struct span key, unsigned *bit)
{
	if (span_equals(key, "ctxt")) {
		*bit = PROC_STAT_CTXT;
		return &s->ctxt;
	}
	if (span_equals(key, "intr")) {
		*bit = PROC_STAT_INTR;
		return &s->intr;
	}
	if (span_equals(key, "processes")) {
		*bit = PROC_STAT_PROCESSES;
		return &s->processes;
	}
	if (span_equals(key, "btime")) {
		*bit = PROC_STAT_BTIME;
		return &s->btime;
	}
	if (span_equals(key, "procs_running")) {
		*bit = PROC_STAT_PROCS_RUNNING;
		return &s->procs_running;
	}
	if (span_equals(key, "procs_blocked")) {
		*bit = PROC_STAT_PROCS_BLOCKED;
		return &s->procs_blocked;
	}
	return NULL;
}

/* "key N ...": only the first number is used ("intr" goes on with one count per interrupt). */
static void parse_stat_value(struct span key, struct span rest, struct proc_stat *out)
{
	unsigned bit = 0;
	uint64_t *value = stat_value(out, key, &bit);
	if (!value || (out->present & bit))
		return;
	if (parse_u64(next_token(&rest), value))
		out->present |= bit;
}

int parse_proc_stat(const char *buf, size_t len, struct proc_stat *out)
{
	memset(out, 0, sizeof(*out));
	bool have_cpu = false;
	struct span rest = span_of(buf, len);
	struct span line;
	uint64_t n;
	while (next_line(&rest, &line)) {
		struct span key = next_token(&line);
		if (span_equals(key, "cpu")) {
			if (!have_cpu)
				have_cpu = parse_cpu_line(line, out);
		} else if (is_per_cpu_key(key, &n)) {
			if (out->cpus < UINT_MAX)
				out->cpus++;
		} else {
			parse_stat_value(key, line, out);
		}
	}
	return have_cpu ? 0 : -1;
}

size_t parse_proc_stat_cpus(const char *buf, size_t len, struct cpu_line *out, size_t max)
{
	size_t kept = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	while (kept < max && next_line(&rest, &line)) {
		uint64_t n;
		struct cpu_line *c = &out[kept];
		if (!is_per_cpu_key(next_token(&line), &n) || n > UINT_MAX ||
		    (kept && n <= out[kept - 1].cpu) || !parse_ticks(line, c->ticks, &c->modes))
			continue;
		c->cpu = (unsigned)n;
		kept++;
	}
	return kept;
}

/* ---- /proc/meminfo and /proc/vmstat ---- */

typedef bool (*kv_line_parser)(struct span line, struct span *key, uint64_t *value);

/* "Key:   123 kB" (converted to bytes) or "Key:   123". An unknown unit is refused rather than
 * passed on unconverted. */
static bool parse_meminfo_line(struct span line, struct span *key, uint64_t *value)
{
	if (!colon_key(next_token(&line), key) || !parse_u64(next_token(&line), value))
		return false;
	struct span unit = next_token(&line);
	if (span_equals(unit, "kB")) {
		if (*value > UINT64_MAX / 1024)
			return false;
		*value *= 1024;
		unit = next_token(&line);
	}
	return span_empty(unit);
}

/* "key 123" and nothing more. */
static bool parse_vmstat_line(struct span line, struct span *key, uint64_t *value)
{
	*key = next_token(&line);
	return !span_empty(*key) && parse_u64(next_token(&line), value) &&
	       span_empty(next_token(&line));
}

static void store_kv(struct kv_field *fields, size_t nfields, struct span key, uint64_t value)
{
	for (size_t i = 0; i < nfields; i++) {
		if (!fields[i].found && span_equals(key, fields[i].key)) {
			fields[i].value = value;
			fields[i].found = true;
			return;
		}
	}
}

static int parse_kv(const char *buf, size_t len, struct kv_field *fields, size_t nfields,
                    kv_line_parser parse_line)
{
	for (size_t i = 0; i < nfields; i++) {
		fields[i].value = 0;
		fields[i].found = false;
	}
	bool any = false;
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		struct span key;
		uint64_t value;
		if (!parse_line(line, &key, &value))
			continue;
		any = true;
		store_kv(fields, nfields, key, value);
	}
	return any ? 0 : -1;
}

int parse_meminfo(const char *buf, size_t len, struct kv_field *fields, size_t nfields)
{
	return parse_kv(buf, len, fields, nfields, parse_meminfo_line);
}

int parse_vmstat(const char *buf, size_t len, struct kv_field *fields, size_t nfields)
{
	return parse_kv(buf, len, fields, nfields, parse_vmstat_line);
}

/* ---- /proc/loadavg ---- */

/* The first line: three loads and "runnable/threads"; the last PID and anything after it are
 * not used. */
int parse_loadavg(const char *buf, size_t len, struct loadavg *out)
{
	memset(out, 0, sizeof(*out));
	struct span rest = span_of(buf, len);
	struct span line;
	if (!next_line(&rest, &line))
		return -1;
	if (!parse_decimal(next_token(&line), &out->load1) ||
	    !parse_decimal(next_token(&line), &out->load5) ||
	    !parse_decimal(next_token(&line), &out->load15))
		return -1;
	struct span entities = next_token(&line);
	struct span runnable;
	if (!split_at(&entities, '/', &runnable) || !parse_u64(runnable, &out->runnable) ||
	    !parse_u64(entities, &out->threads))
		return -1;
	return 0;
}

/* ---- /proc/pressure/{cpu,memory,io} ---- */

#define PSI_AVG10  (1u << 0)
#define PSI_AVG60  (1u << 1)
#define PSI_AVG300 (1u << 2)
#define PSI_TOTAL  (1u << 3)
#define PSI_ALL    (PSI_AVG10 | PSI_AVG60 | PSI_AVG300 | PSI_TOTAL)

/* One "name=value" field into *out; names we do not know (a newer kernel's) are skipped. */
static bool parse_psi_field(struct span field, struct pressure_line *out, unsigned *seen)
{
	struct span name;
	if (!split_at(&field, '=', &name))
		return false;
	if (span_equals(name, "avg10")) {
		*seen |= PSI_AVG10;
		return parse_decimal(field, &out->avg10);
	}
	if (span_equals(name, "avg60")) {
		*seen |= PSI_AVG60;
		return parse_decimal(field, &out->avg60);
	}
	if (span_equals(name, "avg300")) {
		*seen |= PSI_AVG300;
		return parse_decimal(field, &out->avg300);
	}
	if (span_equals(name, "total")) {
		*seen |= PSI_TOTAL;
		return parse_u64(field, &out->total_us);
	}
	return true;
}

/* What follows "some" or "full": all four known fields, each well-formed. */
static bool parse_psi_line(struct span rest, struct pressure_line *out)
{
	struct pressure_line line = {0};
	unsigned seen = 0;
	for (struct span t = next_token(&rest); !span_empty(t); t = next_token(&rest))
		if (!parse_psi_field(t, &line, &seen))
			return false;
	if (seen != PSI_ALL)
		return false;
	line.present = true;
	*out = line;
	return true;
}

int parse_pressure(const char *buf, size_t len, struct pressure *out)
{
	memset(out, 0, sizeof(*out));
	struct span rest = span_of(buf, len);
	struct span line;
	while (next_line(&rest, &line)) {
		struct span kind = next_token(&line);
		struct pressure_line *target = NULL;
		if (span_equals(kind, "some"))
			target = &out->some;
		else if (span_equals(kind, "full"))
			target = &out->full;
		if (target && !target->present)
			parse_psi_line(line, target);
	}
	return out->some.present ? 0 : -1;
}

/* ---- /proc/softirqs ---- */

/* "CPU0 CPU1 ...": at least one column, each "CPU<n>". */
static bool parse_softirq_header(struct span line)
{
	size_t columns = 0;
	for (struct span t = next_token(&line); !span_empty(t); t = next_token(&line)) {
		uint64_t n;
		if (span_len(t) < 4 || memcmp(t.p, "CPU", 3) != 0 ||
		    !parse_u64((struct span){t.p + 3, t.end}, &n))
			return false;
		columns++;
	}
	return columns > 0;
}

/* Kernel softirq names are identifiers ("NET_RX"); anything else is not a row. */
static bool is_softirq_name(struct span name)
{
	for (const char *p = name.p; p < name.end; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/* "   NET_RX:   1085   1213": the name and the sum of at least one per-CPU count. A sum that
 * would overflow makes the row invalid, as an overflowing number does. */
static bool parse_softirq_row(struct span line, struct softirq_total *out)
{
	struct span name;
	if (!colon_key(next_token(&line), &name) || !is_softirq_name(name))
		return false;
	uint64_t sum = 0;
	size_t columns = 0;
	for (struct span t = next_token(&line); !span_empty(t); t = next_token(&line)) {
		uint64_t v;
		if (!parse_u64(t, &v) || v > UINT64_MAX - sum)
			return false;
		sum += v;
		columns++;
	}
	if (columns == 0)
		return false;
	size_t n = span_len(name) < SOFTIRQ_NAME_MAX ? span_len(name) : SOFTIRQ_NAME_MAX - 1;
	memcpy(out->name, name.p, n);
	out->name[n] = '\0';
	out->total = sum;
	return true;
}

int parse_softirqs(const char *buf, size_t len, struct softirq_total *out, size_t max, size_t *n)
{
	*n = 0;
	struct span rest = span_of(buf, len);
	struct span line;
	if (!next_line(&rest, &line) || !parse_softirq_header(line))
		return -1;
	size_t valid = 0;
	while (next_line(&rest, &line)) {
		struct softirq_total row;
		if (!parse_softirq_row(line, &row))
			continue;
		valid++;
		if (*n < max)
			out[(*n)++] = row;
	}
	return valid > 0 ? 0 : -1;
}
