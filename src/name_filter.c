#include "name_filter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>

#include "xalloc.h"

/* Names are short (an interface name is at most 15 bytes, a mount point at most 4 KiB), and the
 * patterns come from the operator: the limits only keep a pathological pattern from stalling a
 * scrape. */
#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 1000

struct name_filter {
	pcre2_code *include;
	pcre2_code *exclude;
	pcre2_match_data *match;
	pcre2_match_context *context;
};

static pcre2_code *compile(const char *pattern, const char *what, const char *flag, char *err,
                           size_t errlen)
{
	int code;
	PCRE2_SIZE offset;
	/* PCRE2_MATCH_INVALID_UTF: names are any bytes the kernel was given. DOLLAR_ENDONLY: $ is
	 * the end, as in Go. */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	                               PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
	                               &code, &offset, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "%s %s regex does not compile: %s (at offset %zu of '%s')",
		         what, flag, (const char *)msg, (size_t)offset, pattern);
	}
	return re;
}

struct name_filter *name_filter_new(const char *include, const char *exclude, const char *what,
                                    char *err, size_t errlen)
{
	struct name_filter *f = xcalloc(1, sizeof(*f));
	if (include && !(f->include = compile(include, what, "include", err, errlen)))
		goto fail;
	if (exclude && !(f->exclude = compile(exclude, what, "exclude", err, errlen)))
		goto fail;
	f->match = pcre2_match_data_create(1, NULL);
	f->context = pcre2_match_context_create(NULL);
	if (!f->match || !f->context) {
		snprintf(err, errlen, "%s: out of memory", what);
		goto fail;
	}
	pcre2_set_match_limit(f->context, MATCH_LIMIT);
	pcre2_set_depth_limit(f->context, DEPTH_LIMIT);
	return f;
fail:
	name_filter_free(f);
	return NULL;
}

void name_filter_free(struct name_filter *f)
{
	if (!f)
		return;
	pcre2_code_free(f->include);
	pcre2_code_free(f->exclude);
	pcre2_match_data_free(f->match);
	pcre2_match_context_free(f->context);
	free(f);
}

static bool matches(struct name_filter *f, const pcre2_code *re, const char *name)
{
	return pcre2_match(re, (PCRE2_SPTR)name, PCRE2_ZERO_TERMINATED, 0, 0, f->match,
	                   f->context) >= 0;
}

bool name_filter_accepts(struct name_filter *f, const char *name)
{
	if (f->include && !matches(f, f->include, name))
		return false;
	return !(f->exclude && matches(f, f->exclude, name));
}
