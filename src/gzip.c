#include "gzip.h"

#include <stdlib.h>
#include <zlib.h>

#include "xalloc.h"

/* Level 1: metrics text compresses about 8x even at the fastest level; higher levels cost CPU on
 * every scrape for a few percent less traffic. */
#define GZIP_LEVEL 1
/* windowBits 15 plus 16 asks zlib for a gzip header and trailer. */
#define GZIP_WINDOW_BITS (15 + 16)
/* zlib's hash tables take 2^(memLevel + 9) bytes: 6 keeps 32 KiB resident instead of the default
 * 8's 128 KiB, and an exposition, whose lines repeat their metric names, compresses about as
 * well (within 1% at level 1). */
#define GZIP_MEM_LEVEL 6

struct gzipper {
	z_stream z;
};

struct gzipper *gzipper_new(void)
{
	struct gzipper *g = xcalloc(1, sizeof(*g));
	if (deflateInit2(&g->z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
	                 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		return NULL;
	}
	return g;
}

void gzipper_free(struct gzipper *g)
{
	if (!g)
		return;
	deflateEnd(&g->z);
	free(g);
}

int gzipper_compress(struct gzipper *g, const char *in, size_t len, struct buf *out)
{
	if (deflateReset(&g->z) != Z_OK)
		return -1;
	buf_reset(out);
	buf_reserve(out, deflateBound(&g->z, len));
	g->z.next_in = (Bytef *)in;
	g->z.avail_in = (uInt)len;
	g->z.next_out = (Bytef *)out->data;
	g->z.avail_out = (uInt)(out->cap - 1);
	/* deflateBound guarantees one call with Z_FINISH completes. */
	if (deflate(&g->z, Z_FINISH) != Z_STREAM_END)
		return -1;
	out->len = g->z.total_out;
	out->data[out->len] = '\0';
	return 0;
}
