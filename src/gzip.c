#include "gzip.h"

#include <zlib.h>

/* Level 1: metrics text compresses about 8x even at the fastest level; higher levels cost CPU on
 * every scrape for a few percent less traffic. */
#define GZIP_LEVEL 1
/* windowBits 15 plus 16 asks zlib for a gzip header and trailer. */
#define GZIP_WINDOW_BITS (15 + 16)
/* zlib's hash tables take 2^(memLevel + 9) bytes: 6 takes 32 KiB instead of the default 8's
 * 128 KiB, and an exposition, whose lines repeat their metric names, compresses about as
 * well (within 1% at level 1). */
#define GZIP_MEM_LEVEL 6

int gzip_compress(const char *in, size_t len, struct buf *out)
{
	z_stream z = {0};
	if (deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	buf_reset(out);
	buf_reserve(out, deflateBound(&z, len));
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)(out->cap - 1);
	/* deflateBound guarantees one call with Z_FINISH completes. */
	int rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	out->data[out->len] = '\0';
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}
