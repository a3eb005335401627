/* parse_proc_stat on any bytes. Beyond "no crash, no read past len":
 * - the result depends on the input alone (the output struct is filled with different garbage
 *   before each call) and only on its complete lines (an unterminated last line is ignored);
 * - on success the "cpu" line had 4 to 10 columns, the modes it did not have are 0, only known
 *   `present` bits are set and every value whose bit is not set is 0;
 * - a value is only marked present when its key is in the input. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_stat s, again;
	int rc = parse(data, size, &s, 0xa5);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);

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
