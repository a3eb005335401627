/* Group name templates: the subset of Go's text/template that process-exporter's `name` uses.
 *
 *   {{.Comm}} {{.ExeBase}} {{.ExeFull}} {{.Username}} {{.PID}} {{.StartTime}} {{.Cgroups}}
 *   {{.Matches.NAME}} {{index .Matches "NAME"}}      and kobsd's {{.Unit}} {{.Cgroup}}
 *
 * Spaces inside the braces are allowed ({{ .Comm }}), and so are Go's trim markers: "{{- " drops
 * the whitespace before the action, " -}}" the whitespace after it. Text outside the braces is
 * copied. Anything else Go would accept (other fields, pipelines, functions, comments) is a parse
 * error here, so that a template never silently expands differently from process-exporter.
 *
 * A missing key expands as Go expands it: {{.Matches.NAME}} to "<no value>", {{index .Matches
 * "NAME"}} to "" (index returns the map's zero value). {{.StartTime}} is whole seconds since the
 * epoch (process-exporter prints Go's time.Time format, "2006-01-02 15:04:05.999 -0700 MST");
 * {{.Cgroups}} and {{.Cgroup}} are both the cgroup v2 path (process-exporter prints its list of
 * cgroup paths in brackets). */
#ifndef KOBS_NAME_TEMPLATE_H
#define KOBS_NAME_TEMPLATE_H

#include <stddef.h>

#include "buf.h"

struct name_template;

/* One named capture: `value` is `len` bytes, not NUL-terminated. */
struct name_match {
	const char *name;
	const char *value;
	size_t len;
};

/* What a template can refer to. NULL strings expand to nothing. When a name appears more than
 * once in `matches`, the last one counts. */
struct name_values {
	const char *comm;
	const char *exe_base;
	const char *exe_full;
	const char *username;
	const char *cgroup;
	const char *unit;
	long long pid;
	long long start_time; /* whole seconds since the epoch */
	const struct name_match *matches;
	size_t nmatches;
};

/* Compile `len` bytes of `text` (any bytes). Returns the template, or NULL with the byte offset
 * of the problem in *err_offset and a message (without the offset) in `err`. */
struct name_template *name_template_parse(const char *text, size_t len, size_t *err_offset,
                                          char *err, size_t errlen);
void name_template_free(struct name_template *t);

/* Append the expansion to `out`, at most `limit` bytes of it. A cut never splits a UTF-8
 * character when the text there is valid UTF-8; invalid bytes are copied as they are. */
void name_template_expand(const struct name_template *t, const struct name_values *v, size_t limit,
                          struct buf *out);

#endif
