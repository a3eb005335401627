/* parse_snmp (/proc/net/snmp, /proc/net/netstat) on any bytes. Beyond "no crash, no read past
 * len":
 * - the result depends only on the complete lines: the same on the input cut after its last
 *   '\n';
 * - on -1 no field is found; a field found has a value that stands in the input as a whole token
 *   of digits, on a line that starts with "Group:" for its group, below a line with the same
 *   prefix that holds its key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host_parse.h"

#include "fuzz_common.h"

#define NFIELDS 6

static void fields_init(struct group_field *f)
{
	static const char *const keys[NFIELDS][2] = {
	    {"Tcp", "RetransSegs"},    {"Tcp", "A"}, {"Udp", "InErrors"},
	    {"TcpExt", "ListenDrops"}, {"A", "B"},   {"Ip", "Forwarding"},
	};
	for (size_t i = 0; i < NFIELDS; i++) {
		f[i].group = keys[i][0];
		f[i].key = keys[i][1];
		f[i].value = 0xdeadbeef;
		f[i].found = true;
	}
}

/* Whether `line` (NUL-terminated) starts with "group:" and holds `word` as a blank-separated
 * token after it; with `number`, a token of digits equal to it ("07" is 7 to the parser). */
static bool line_has(const char *line, const char *group, const char *word, const uint64_t *number)
{
	size_t g = strlen(group);
	line += strspn(line, " \t");
	if (strncmp(line, group, g) != 0 || line[g] != ':')
		return false;
	if (number) {
		for (const char *p = line + g + 1; *p;) {
			p += strspn(p, " \t");
			size_t n = strcspn(p, " \t");
			if (n && strspn(p, "0123456789") == n && strtoull(p, NULL, 10) == *number)
				return true;
			p += n;
		}
		return false;
	}
	size_t w = strlen(word);
	for (const char *p = line + g + 1; (p = strstr(p, word)); p++)
		if ((p[-1] == ' ' || p[-1] == '\t') && (p[w] == ' ' || p[w] == '\t' || !p[w]))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct group_field f[NFIELDS], cut[NFIELDS];
	fields_init(f);
	int rc = parse_snmp((const char *)data, size, f, NFIELDS);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	fields_init(cut);
	int rc2 = parse_snmp((const char *)data, fuzz_complete_lines(data, size), cut, NFIELDS);
	FUZZ_CHECK(rc == rc2, "%d on the whole input, %d on its complete lines", rc, rc2);
	for (size_t i = 0; i < NFIELDS; i++)
		FUZZ_CHECK(f[i].found == cut[i].found &&
		               (!f[i].found || f[i].value == cut[i].value),
		           "field %zu depends on the cut line", i);
	if (rc == -1)
		for (size_t i = 0; i < NFIELDS; i++)
			FUZZ_CHECK(!f[i].found, "field %zu found after a failure", i);

	/* The input as lines of C strings (a NUL ends a line's string early: then no token after
	 * it can have been used, since NUL is no digit or key character a field asks for...
	 * except that the parser sees past it, so such lines are skipped by this check). */
	char *copy = fuzz_strndup(data, fuzz_complete_lines(data, size));
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!f[i].found || memchr(data, '\0', size))
			continue;
		bool key_line = false, seen = false;
		for (char *line = copy, *next; line && *line && !seen; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			if (key_line && line_has(line, f[i].group, NULL, &f[i].value))
				seen = true;
			key_line = line_has(line, f[i].group, f[i].key, NULL);
			if (next)
				next[-1] = '\n';
		}
		FUZZ_CHECK(seen, "%s %s = %llu: no such line pair", f[i].group, f[i].key,
		           (unsigned long long)f[i].value);
	}
	free(copy);
	return 0;
}
