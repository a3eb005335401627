/* parse_proc_stat on any bytes. Beyond "no crash, no read past len":
 * - the result depends on the input alone (the output struct is filled with different garbage
 *   before each call) and only on its complete lines (an unterminated last line is ignored);
 * - on success the "cpu" line had 4 to 10 columns, the modes it did not have are 0, only known
 *   `present` bits are set and every value whose bit is not set is 0;
 * - a value is only marked present when its key is in the input;
 * - parse_proc_stat_cpus keeps at most `max` lines, of strictly ascending CPU numbers, each with
 *   4 to 10 modes and zeros past them, no more than parse_proc_stat counted, and the same from the
 *   input's complete lines alone. */
#include <stdint.h>
#include <string.h>

#include "procfs_parse.h"

#include "fuzz_common.h"

static int parse(const uint8_t *data, size_t size, struct proc_stat *out, int garbage)
{
	memset(out, garbage, sizeof(*out));
	return parse_proc_stat((const char *)data, size, out);
}

static bool input_has(const uint8_t *data, size_t size, const char *key)
{
	return memmem(data, size, key, strlen(key)) != NULL;
}

static void check_optional(const struct proc_stat *s, const uint8_t *data, size_t size,
                           unsigned bit, uint64_t value, const char *key)
{
	if (s->present & bit)
		FUZZ_CHECK(input_has(data, size, key), "%s marked present but not in the input",
		           key);
	else
		FUZZ_CHECK(value == 0, "%s not present but set to %llu", key,
		           (unsigned long long)value);
}

#define CPUS_MAX 64

static void check_cpus(const uint8_t *data, size_t size, const struct proc_stat *s, int rc)
{
	struct cpu_line c[CPUS_MAX], again[CPUS_MAX];
	memset(c, 0xa5, sizeof(c));
	memset(again, 0x5a, sizeof(again));
	size_t max = size % (CPUS_MAX + 1); /* every limit from 0 to CPUS_MAX */
	size_t n = parse_proc_stat_cpus((const char *)data, size, c, max);
	FUZZ_CHECK(n <= max, "%zu lines kept with a max of %zu", n, max);
	size_t n2 =
	    parse_proc_stat_cpus((const char *)data, fuzz_complete_lines(data, size), again, max);
	FUZZ_CHECK(n2 == n && memcmp(c, again, n * sizeof(c[0])) == 0,
	           "the unterminated tail changed the cpu lines");
	if (rc == 0)
		FUZZ_CHECK(n <= s->cpus, "%zu cpu lines kept, %u counted", n, s->cpus);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(!i || c[i].cpu > c[i - 1].cpu, "cpu%u after cpu%u", c[i].cpu,
		           c[i - 1].cpu);
		FUZZ_CHECK(c[i].modes >= 4 && c[i].modes <= CPU_MODE__COUNT, "cpu%u: %u modes",
		           c[i].cpu, c[i].modes);
		for (unsigned m = c[i].modes; m < CPU_MODE__COUNT; m++)
			FUZZ_CHECK(c[i].ticks[m] == 0, "cpu%u: mode %u absent but set", c[i].cpu,
			           m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_stat s, again;
	int rc = parse(data, size, &s, 0xa5);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);

	check_cpus(data, size, &s, rc);
	int rc2 = parse(data, fuzz_complete_lines(data, size), &again, 0x5a);
	FUZZ_CHECK(rc2 == rc, "%d on the whole input, %d on its complete lines", rc, rc2);
	FUZZ_CHECK(memcmp(&s, &again, sizeof(s)) == 0,
	           "output depends on the unterminated tail or on the output's old contents");
	if (rc != 0)
		return 0;

	FUZZ_CHECK(s.cpu_modes >= 4 && s.cpu_modes <= CPU_MODE__COUNT, "cpu_modes=%u", s.cpu_modes);
	for (unsigned m = s.cpu_modes; m < CPU_MODE__COUNT; m++)
		FUZZ_CHECK(s.cpu_ticks[m] == 0, "mode %u absent but %llu ticks", m,
		           (unsigned long long)s.cpu_ticks[m]);
	FUZZ_CHECK((s.present & ~0x3fu) == 0, "unknown present bits %#x", s.present);
	FUZZ_CHECK(input_has(data, size, "cpu"), "success without a cpu line");
	check_optional(&s, data, size, PROC_STAT_CTXT, s.ctxt, "ctxt");
	check_optional(&s, data, size, PROC_STAT_INTR, s.intr, "intr");
	check_optional(&s, data, size, PROC_STAT_PROCESSES, s.processes, "processes");
	check_optional(&s, data, size, PROC_STAT_BTIME, s.btime, "btime");
	check_optional(&s, data, size, PROC_STAT_PROCS_RUNNING, s.procs_running, "procs_running");
	check_optional(&s, data, size, PROC_STAT_PROCS_BLOCKED, s.procs_blocked, "procs_blocked");

	size_t lines = 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	/* The aggregate line is one of them and is not counted as a CPU. */
	FUZZ_CHECK(s.cpus < lines, "%u cpus from %zu lines", s.cpus, lines);
	return 0;
}
