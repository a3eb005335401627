/* gzip compression of response bodies, reusing zlib's state between scrapes. */
#ifndef KOBS_GZIP_H
#define KOBS_GZIP_H

#include <stddef.h>

#include "buf.h"

struct gzipper;

struct gzipper *gzipper_new(void);
void gzipper_free(struct gzipper *g);
/* Compress `len` bytes into `out` (reset first) as one gzip member. Returns 0 or -1. */
int gzipper_compress(struct gzipper *g, const char *in, size_t len, struct buf *out);

#endif
