/* Reference tokenizing for the host parsers' harnesses (fuzz_diskstats.c, fuzz_netdev.c):
 * written apart from src/span.h and src/host_parse.c, with strtoull and explicit checks, so that
 * the parsers are compared against a second reading of the same rules. Header-only. */
#ifndef KOBS_FUZZ_HOST_REFERENCE_H
#define KOBS_FUZZ_HOST_REFERENCE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ref_line {
	const char **tok; /* each a NUL-terminated copy inside `copy` */
	size_t ntok;
	bool too_many; /* never: room is made for every token a line can hold */
	char *copy;
};

static inline void ref_free(struct ref_line *l)
{
	free(l->copy);
	free(l->tok);
}

/* Split one line (without its '\n') at spaces and tabs. */
static inline void ref_split(const uint8_t *line, size_t len, struct ref_line *out)
{
	out->copy = malloc(len + 1);
	out->tok = malloc((len / 2 + 1) * sizeof(*out->tok));
	FUZZ_CHECK(out->copy && out->tok, "out of memory");
	if (len)
		memcpy(out->copy, line, len);
	out->copy[len] = '\0';
	out->ntok = 0;
	out->too_many = false;
	size_t i = 0;
	while (i < len) {
		while (i < len && (out->copy[i] == ' ' || out->copy[i] == '\t'))
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && out->copy[i] != ' ' && out->copy[i] != '\t')
			i++;
		out->tok[out->ntok++] = out->copy + start;
		if (i < len)
			out->copy[i++] = '\0';
	}
}

/* A token of `len` bytes (it may hold NULs, which end it early as a C string). */
static inline bool ref_u64(const char *tok, size_t len, uint64_t *out)
{
	if (len == 0 || len != strlen(tok) || strspn(tok, "0123456789") != len)
		return false;
	errno = 0;
	unsigned long long v = strtoull(tok, NULL, 10);
	if (errno == ERANGE)
		return false;
	*out = v;
	return true;
}

#endif
