/* Spans: pieces of a buffer that is not NUL-terminated, and the few ways the /proc parsers
 * (procfs_parse.c, procfs_pid_parse.c) cut them: lines, blank-separated tokens, a separator.
 * Header-only, so that each parser and its fuzz harness stays one compilation unit. */
#ifndef KOBS_SPAN_H
#define KOBS_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A piece of the input, [p, end). Never built from NULL, so pointer arithmetic stays defined. */
struct span {
	const char *p;
	const char *end;
};

static inline struct span span_of(const char *buf, size_t len)
{
	if (!buf)
		return (struct span){"", ""};
	return (struct span){buf, buf + len};
}

static inline size_t span_len(struct span s)
{
	return (size_t)(s.end - s.p);
}

static inline bool span_empty(struct span s)
{
	return s.p == s.end;
}

static inline bool span_equals(struct span s, const char *literal)
{
	size_t n = strlen(literal);
	return span_len(s) == n && memcmp(s.p, literal, n) == 0;
}

/* Take the next complete line (without its '\n') off the front of *rest. */
static inline bool next_line(struct span *rest, struct span *line)
{
	if (span_empty(*rest))
		return false;
	const char *nl = memchr(rest->p, '\n', span_len(*rest));
	if (!nl)
		return false;
	*line = (struct span){rest->p, nl};
	rest->p = nl + 1;
	return true;
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Take the next run of non-blank bytes off the front of *s; empty when none is left. */
static inline struct span next_token(struct span *s)
{
	const char *p = s->p;
	while (p < s->end && is_blank(*p))
		p++;
	const char *start = p;
	while (p < s->end && !is_blank(*p))
		p++;
	s->p = p;
	return (struct span){start, p};
}

/* Split *s at the first `sep`: *head gets what precedes it, *s keeps what follows. */
static inline bool split_at(struct span *s, char sep, struct span *head)
{
	if (span_empty(*s))
		return false;
	const char *at = memchr(s->p, sep, span_len(*s));
	if (!at)
		return false;
	*head = (struct span){s->p, at};
	s->p = at + 1;
	return true;
}

/* The whole of `s` as a decimal number without sign that fits in 64 bits. */
static inline bool span_to_u64(struct span s, uint64_t *out)
{
	uint64_t v = 0;
	if (span_empty(s))
		return false;
	for (const char *p = s.p; p < s.end; p++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned digit = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

#endif
