/* gzip compression of response bodies. */
#ifndef KOBS_GZIP_H
#define KOBS_GZIP_H

#include <stddef.h>

#include "buf.h"

/* Compress `len` bytes into `out` (reset first) as one gzip member. Returns 0 or -1. zlib's
 * state (about 160 KiB) lives only during the call, so that it is not resident between scrapes;
 * setting it up costs far less than compressing an exposition. */
int gzip_compress(const char *in, size_t len, struct buf *out);

#endif
