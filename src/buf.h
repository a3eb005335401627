/* A growable byte buffer. Scrapes reuse them: buf_reset keeps the capacity. */
#ifndef KOBS_BUF_H
#define KOBS_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Empty the buffer but keep its memory for the next use. */
void buf_reset(struct buf *b);
/* Make room for `extra` more bytes (plus the terminating NUL). Aborts when memory runs out. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
