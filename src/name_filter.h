/* Which names (devices, interfaces, mount points, filesystem types) a collector serves: an
 * include regex, an exclude regex, both or neither (PCRE2, searched anywhere in the name as Go's
 * regexp.MatchString does, so node_exporter's patterns work as they are). */
#ifndef KOBS_NAME_FILTER_H
#define KOBS_NAME_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct name_filter;

/* Compile the filter; either pattern may be NULL. Returns NULL with a message naming `what` and
 * the offset in `err` when a pattern does not compile. */
struct name_filter *name_filter_new(const char *include, const char *exclude, const char *what,
                                    char *err, size_t errlen);
void name_filter_free(struct name_filter *f);
/* Whether `name` passes: it matches the include (when there is one) and not the exclude. A match
 * that runs out of its step budget counts as no match. */
bool name_filter_accepts(struct name_filter *f, const char *name);

#endif
