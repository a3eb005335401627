/* parse_loadavg on any bytes ("0.52 0.58 0.59 3/1075 123456"). Beyond "no crash, no read past
 * len":
 * - only the first line is used, and only when it is complete: the result is the same on the
 *   input cut right after its first '\n', and a failure without any '\n';
 * - on success the loads are finite and non-negative, each token is plain "digits[.digits]", and
 *   each load equals what strtod reads from the same token to within the two roundings the
 *   parser allows (the C locale is in force: the harness never calls setlocale);
 * - on success runnable and threads are the numbers either side of the '/'. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs_parse.h"

#include "fuzz_common.h"

static int parse(const uint8_t *data, size_t size, struct loadavg *out, int garbage)
{
	memset(out, garbage, sizeof(*out));
	return parse_loadavg((const char *)data, size, out);
}

/* The next blank-separated token of [*p, end) as a NUL-terminated heap copy. */
static char *next_token(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	const char *start = *p;
	while (*p < end && **p != ' ' && **p != '\t')
		(*p)++;
	return fuzz_strndup((const uint8_t *)start, (size_t)(*p - start));
}

static void check_load(const char **p, const char *end, double load, const char *which)
{
	char *tok = next_token(p, end);
	FUZZ_CHECK(isfinite(load) && load >= 0, "%s = %g", which, load);
	FUZZ_CHECK(tok[0] >= '0' && tok[0] <= '9' && strspn(tok, "0123456789.") == strlen(tok) &&
	               (!strchr(tok, '.') || strchr(tok, '.') == strrchr(tok, '.')),
	           "%s accepted from token \"%s\"", which, tok);
	double want = strtod(tok, NULL);
	FUZZ_CHECK(fabs(load - want) <= want * 1e-15, "%s = %.17g from \"%s\", strtod says %.17g",
	           which, load, tok, want);
	free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loadavg l, first_line;
	int rc = parse(data, size, &l, 0xa5);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);

	const uint8_t *nl = memchr(data, '\n', size);
	if (!nl) {
		FUZZ_CHECK(rc == -1, "success without a complete line");
		return 0;
	}
	size_t line_len = (size_t)(nl - data);
	int rc2 = parse(data, line_len + 1, &first_line, 0x5a);
	FUZZ_CHECK(rc2 == rc, "%d on the whole input, %d on its first line", rc, rc2);
	if (rc != 0)
		return 0;
	FUZZ_CHECK(memcmp(&l, &first_line, sizeof(l)) == 0, "result depends on later lines");

	const char *p = (const char *)data, *end = p + line_len;
	check_load(&p, end, l.load1, "load1");
	check_load(&p, end, l.load5, "load5");
	check_load(&p, end, l.load15, "load15");

	char *tok = next_token(&p, end);
	char *slash = strchr(tok, '/');
	FUZZ_CHECK(slash && slash != tok, "entities accepted from \"%s\"", tok);
	*slash = '\0';
	FUZZ_CHECK(strspn(tok, "0123456789") == strlen(tok) &&
	               strspn(slash + 1, "0123456789") == strlen(slash + 1) && slash[1],
	           "entities accepted from \"%s/%s\"", tok, slash + 1);
	FUZZ_CHECK(strtoull(tok, NULL, 10) == l.runnable, "runnable %llu from \"%s\"",
	           (unsigned long long)l.runnable, tok);
	FUZZ_CHECK(strtoull(slash + 1, NULL, 10) == l.threads, "threads %llu from \"%s\"",
	           (unsigned long long)l.threads, slash + 1);
	free(tok);
	return 0;
}
