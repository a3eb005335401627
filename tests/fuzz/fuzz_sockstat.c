/* parse_sockstat (/proc/net/sockstat, sockstat6) on any bytes. Beyond "no crash, no read past
 * len":
 * - the result depends only on the complete lines;
 * - on -1 no field is found; a found field's value follows its key as the next token on a line
 *   that starts with "Group:", and every token of that line after the prefix alternates key and
 *   number. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host_parse.h"

#include "fuzz_common.h"

#define NFIELDS 5

static void fields_init(struct group_field *f)
{
	static const char *const keys[NFIELDS][2] = {
	    {"sockets", "used"}, {"TCP", "inuse"}, {"TCP", "mem"}, {"FRAG", "memory"}, {"A", "B"},
	};
	for (size_t i = 0; i < NFIELDS; i++) {
		f[i].group = keys[i][0];
		f[i].key = keys[i][1];
		f[i].value = 0xdeadbeef;
		f[i].found = true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct group_field f[NFIELDS], cut[NFIELDS];
	fields_init(f);
	int rc = parse_sockstat((const char *)data, size, f, NFIELDS);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	fields_init(cut);
	int rc2 = parse_sockstat((const char *)data, fuzz_complete_lines(data, size), cut, NFIELDS);
	FUZZ_CHECK(rc == rc2, "%d on the whole input, %d on its complete lines", rc, rc2);
	for (size_t i = 0; i < NFIELDS; i++) {
		FUZZ_CHECK(f[i].found == cut[i].found &&
		               (!f[i].found || f[i].value == cut[i].value),
		           "field %zu depends on the cut line", i);
		if (rc == -1)
			FUZZ_CHECK(!f[i].found, "field %zu found after a failure", i);
	}
	if (memchr(data, '\0', size))
		return 0; /* the string search below would stop at it */
	char *copy = fuzz_strndup(data, fuzz_complete_lines(data, size));
	for (size_t i = 0; i < NFIELDS; i++) {
		if (!f[i].found)
			continue;
		bool seen = false;
		size_t glen = strlen(f[i].group);
		for (char *line = copy, *next; line && *line && !seen; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			const char *p = line + strspn(line, " \t");
			if (strncmp(p, f[i].group, glen) == 0 && p[glen] == ':') {
				/* Normalise blanks to one space and look for "key value". */
				char norm[4096];
				size_t n = 0;
				for (const char *q = p + glen + 1; *q && n + 2 < sizeof(norm);
				     q++) {
					bool blank = *q == ' ' || *q == '\t';
					if (blank && (n == 0 || norm[n - 1] == ' '))
						continue;
					norm[n++] = blank ? ' ' : *q;
				}
				norm[n] = '\0';
				/* A key token then a number token equal to the value (the parser
				 * takes "07" as 7 too). */
				char *save = NULL, *prev = NULL;
				for (char *t = strtok_r(norm, " ", &save); t && !seen;
				     t = strtok_r(NULL, " ", &save)) {
					seen = prev && strcmp(prev, f[i].key) == 0 && t[0] &&
					       strspn(t, "0123456789") == strlen(t) &&
					       strtoull(t, NULL, 10) == f[i].value;
					prev = t;
				}
			}
			if (next)
				next[-1] = '\n';
		}
		FUZZ_CHECK(seen, "%s %s = %llu: not in the input", f[i].group, f[i].key,
		           (unsigned long long)f[i].value);
	}
	free(copy);
	return 0;
}
