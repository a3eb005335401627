/* Allocation that never returns NULL: a daemon that cannot get a few KiB has nothing sensible
 * left to do, so running out of memory aborts with a message instead of spreading NULL checks
 * through every scrape path. */
#ifndef KOBS_XALLOC_H
#define KOBS_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* Grow an array of `n` elements of `size` bytes, checking for overflow. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);

#endif
