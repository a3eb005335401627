/* The textfile parser (see textfile_parse.h).
 *
 * Lines are read into raw samples that refer to their family and hold their labels, sorted, as
 * a key; every string lives in one arena, referred to by offset while it grows. Once the whole
 * file is read, each family's samples are sorted by key, which puts a histogram's or summary's
 * samples of one series side by side and a repeated series next to its twin, and the result is
 * built with pointers into the arena, which no longer moves. */
#include "textfile_parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"
#include "utf8.h"

/* 2^53: counts above it are not exact in a double. */
#define EXACT_INT_LIMIT 9007199254740992.0
/* Longer numbers are not numbers anyone writes; refusing them keeps the copy on the stack. */
#define NUMBER_MAX 64

enum kind {
	KIND_PLAIN,  /* counter, gauge, untyped; a summary's quantile */
	KIND_BUCKET, /* histogram _bucket */
	KIND_SUM,    /* histogram or summary _sum */
	KIND_COUNT,  /* histogram or summary _count */
	KIND_INF,    /* histogram _bucket{le="+Inf"}: sorted after the finite bounds */
};

struct raw_label {
	size_t name, value; /* arena offsets of NUL-terminated strings */
};

struct raw_sample {
	size_t family;
	enum kind kind;
	size_t labels, nlabels; /* in t->labels */
	size_t key, key_len;    /* arena: the sorted labels as name\xff value\xff ... */
	double special;         /* le or quantile */
	double value;
	unsigned line;
};

struct raw_family {
	size_t name; /* arena */
	size_t help; /* arena, when has_help */
	bool has_help;
	bool typed;
	enum textfile_type type;
	size_t nsamples;
	unsigned line;
};

/* An open-addressing table of arena strings to indexes. */
struct table {
	size_t *slots; /* index + 1; 0 is free */
	size_t cap;    /* a power of two */
	size_t n;
};

struct sort_entry;

struct textfile {
	struct buf arena;
	struct raw_family *families;
	size_t nfamilies, families_cap;
	struct table by_name; /* family names */
	struct raw_sample *samples;
	size_t nsamples, samples_cap;
	struct raw_label *labels;
	size_t nlabels, labels_cap;

	/* Scratch for one sample line. */
	struct raw_label *line_labels;
	size_t nline_labels, line_labels_cap;

	/* The result. */
	struct textfile_family *out;
	size_t nout, out_cap;
	struct textfile_series *series;
	size_t nseries, series_cap;
	struct label *out_labels;
	size_t nout_labels, out_labels_cap;
	double *doubles;
	size_t ndoubles, doubles_cap;
	uint64_t *counts;
	size_t ncounts, counts_cap;
	struct sort_entry *order; /* the samples, grouped by family and sorted */
	size_t order_cap;
	struct textfile_names *claims;
	struct buf name; /* textfile_expose's scratch */
};

/* ---- small helpers ---- */

static void *grow(void *array, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return array;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	*cap = n;
	return xreallocarray(array, n, size);
}

static const char *at(const struct textfile *t, size_t off)
{
	return t->arena.data + off;
}

static size_t store(struct textfile *t, const char *s, size_t len)
{
	size_t off = t->arena.len;
	buf_append(&t->arena, s, len);
	buf_putc(&t->arena, '\0');
	return off;
}

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* ---- the table ---- */

typedef const char *(*key_of)(const void *owner, size_t index);

static size_t *table_find(const struct table *tb, const void *owner, key_of key, const char *s,
                          size_t len)
{
	if (!tb->cap)
		return NULL;
	for (size_t i = hash(s, len) & (tb->cap - 1);; i = (i + 1) & (tb->cap - 1)) {
		size_t *slot = &tb->slots[i];
		if (!*slot)
			return slot;
		const char *k = key(owner, *slot - 1);
		if (strncmp(k, s, len) == 0 && k[len] == '\0')
			return slot;
	}
}

static void table_add(struct table *tb, const void *owner, key_of key, size_t index)
{
	if (2 * (tb->n + 1) > tb->cap) {
		struct table bigger = {xcalloc(tb->cap ? 2 * tb->cap : 64, sizeof(size_t)),
		                       tb->cap ? 2 * tb->cap : 64, 0};
		for (size_t i = 0; i < tb->cap; i++)
			if (tb->slots[i])
				table_add(&bigger, owner, key, tb->slots[i] - 1);
		free(tb->slots);
		*tb = bigger;
	}
	const char *k = key(owner, index);
	*table_find(tb, owner, key, k, strlen(k)) = index + 1;
	tb->n++;
}

static void table_reset(struct table *tb)
{
	if (tb->cap)
		memset(tb->slots, 0, tb->cap * sizeof(size_t));
	tb->n = 0;
}

/* ---- the names families take ---- */

struct textfile_names {
	struct buf arena;
	struct buf scratch; /* the clashing name textfile_names_clash returns */
	size_t *names;      /* arena offsets */
	size_t *owners;
	size_t n, cap;
	struct table table;
};

static const char *name_key(const void *owner, size_t i)
{
	const struct textfile_names *n = owner;
	return n->arena.data + n->names[i];
}

struct textfile_names *textfile_names_new(void)
{
	struct textfile_names *n = xcalloc(1, sizeof(*n));
	buf_init(&n->arena);
	buf_reserve(&n->arena, 256);
	buf_init(&n->scratch);
	return n;
}

void textfile_names_free(struct textfile_names *n)
{
	if (!n)
		return;
	buf_free(&n->arena);
	buf_free(&n->scratch);
	free(n->names);
	free(n->owners);
	free(n->table.slots);
	free(n);
}

void textfile_names_reset(struct textfile_names *n)
{
	buf_reset(&n->arena);
	n->n = 0;
	table_reset(&n->table);
}

static const char *const histogram_suffixes[] = {"", "_bucket", "_sum", "_count", "_created"};
static const char *const summary_suffixes[] = {"", "_sum", "_count", "_created"};
static const char *const counter_suffixes[] = {"", "_total", "_created"};
static const char *const plain_suffixes[] = {""};

/* A family's names are a base and its suffixes: a counter foo_total is the OpenMetrics family
 * foo, with samples foo_total and foo_created. */
static size_t family_names(const struct textfile_family *f, size_t *base_len,
                           const char *const **suffixes)
{
	size_t len = strlen(f->name);
	*base_len = len;
	switch (f->type) {
	case TEXTFILE_HISTOGRAM:
		*suffixes = histogram_suffixes;
		return sizeof(histogram_suffixes) / sizeof(histogram_suffixes[0]);
	case TEXTFILE_SUMMARY:
		*suffixes = summary_suffixes;
		return sizeof(summary_suffixes) / sizeof(summary_suffixes[0]);
	case TEXTFILE_COUNTER:
		if (len > 6 && strcmp(f->name + len - 6, "_total") == 0) {
			*base_len = len - 6;
			*suffixes = counter_suffixes;
			return sizeof(counter_suffixes) / sizeof(counter_suffixes[0]);
		}
		break;
	default:
		break;
	}
	*suffixes = plain_suffixes;
	return 1;
}

/* The first name of `f` ("base" + suffix, written in `scratch`) that is taken, or NULL. */
static const char *find_clash(const struct textfile_names *n, const struct textfile_family *f,
                              struct buf *scratch, size_t *owner)
{
	size_t base_len;
	const char *const *suffixes;
	size_t count = family_names(f, &base_len, &suffixes);
	for (size_t i = 0; i < count; i++) {
		buf_reset(scratch);
		buf_append(scratch, f->name, base_len);
		buf_puts(scratch, suffixes[i]);
		size_t *slot = table_find(&n->table, n, name_key, scratch->data, scratch->len);
		if (slot && *slot) {
			*owner = n->owners[*slot - 1];
			return scratch->data;
		}
	}
	return NULL;
}

const char *textfile_names_clash(struct textfile_names *n, const struct textfile_family *f,
                                 size_t *owner)
{
	return find_clash(n, f, &n->scratch, owner);
}

void textfile_names_take(struct textfile_names *n, const struct textfile_family *f, size_t owner)
{
	size_t base_len;
	const char *const *suffixes;
	size_t count = family_names(f, &base_len, &suffixes);
	for (size_t i = 0; i < count; i++) {
		size_t off = n->arena.len;
		buf_append(&n->arena, f->name, base_len);
		buf_puts(&n->arena, suffixes[i]);
		size_t len = n->arena.len - off;
		buf_putc(&n->arena, '\0');
		size_t *slot = table_find(&n->table, n, name_key, n->arena.data + off, len);
		if (slot && *slot) {
			n->arena.len = off;
			continue;
		}
		if (n->n == n->cap) {
			n->cap = n->cap ? 2 * n->cap : 64;
			n->names = xreallocarray(n->names, n->cap, sizeof(*n->names));
			n->owners = xreallocarray(n->owners, n->cap, sizeof(*n->owners));
		}
		n->names[n->n] = off;
		n->owners[n->n] = owner;
		table_add(&n->table, n, name_key, n->n);
		n->n++;
	}
}

/* ---- lifetime ---- */

struct textfile *textfile_new(void)
{
	struct textfile *t = xcalloc(1, sizeof(*t));
	buf_init(&t->arena);
	buf_reserve(&t->arena, 4096);
	buf_init(&t->name);
	t->claims = textfile_names_new();
	return t;
}

void textfile_free(struct textfile *t)
{
	if (!t)
		return;
	buf_free(&t->arena);
	buf_free(&t->name);
	free(t->families);
	free(t->by_name.slots);
	free(t->samples);
	free(t->labels);
	free(t->line_labels);
	free(t->out);
	free(t->series);
	free(t->out_labels);
	free(t->doubles);
	free(t->counts);
	free(t->order);
	textfile_names_free(t->claims);
	free(t);
}

size_t textfile_families(const struct textfile *t)
{
	return t->nout;
}

const struct textfile_family *textfile_family_at(const struct textfile *t, size_t i)
{
	return i < t->nout ? &t->out[i] : NULL;
}

/* ---- reading lines ---- */

struct cursor {
	const char *p, *end; /* the line, without its '\n' */
	const char *line_start;
	unsigned line;
	char *err;
	size_t errlen;
};

static int fail(struct cursor *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error at `where` in the line (NULL: the line as a whole). */
static int fail(struct cursor *c, const char *where, const char *fmt, ...)
{
	int n;
	if (where)
		n = snprintf(c->err, c->errlen, "line %u, column %zu: ", c->line,
		             (size_t)(where - c->line_start) + 1);
	else
		n = snprintf(c->err, c->errlen, "line %u: ", c->line);
	if (n > 0 && (size_t)n < c->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static void skip_blanks(struct cursor *c)
{
	while (c->p < c->end && blank(*c->p))
		c->p++;
}

static bool at_end(const struct cursor *c)
{
	return c->p == c->end;
}

static bool name_start(char ch, bool metric)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
	       (metric && ch == ':');
}

static bool name_char(char ch, bool metric)
{
	return name_start(ch, metric) || (ch >= '0' && ch <= '9');
}

/* A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name ([a-zA-Z_][a-zA-Z0-9_]*); its length,
 * 0 when there is none at the cursor. */
static size_t read_name(struct cursor *c, bool metric)
{
	const char *start = c->p;
	if (c->p < c->end && name_start(*c->p, metric))
		while (c->p < c->end && name_char(*c->p, metric))
			c->p++;
	return (size_t)(c->p - start);
}

/* The next blank-separated token; its length. */
static size_t read_token(struct cursor *c)
{
	const char *start = c->p;
	while (c->p < c->end && !blank(*c->p))
		c->p++;
	return (size_t)(c->p - start);
}

/* Where [s, end) stops being UTF-8, or NULL when all of it is. */
static const char *invalid_utf8(const char *s, const char *end)
{
	while (s < end) {
		size_t n = utf8_char((const unsigned char *)s, (size_t)(end - s));
		if (!n)
			return s;
		s += n;
	}
	return NULL;
}

/* A number as Go's strconv.ParseFloat reads it in decimal: [+-] digits [. digits] [e[+-]digits],
 * Inf, Infinity or NaN in any case. Returns false for anything else, or a value too large. */
static bool parse_number(const char *s, size_t len, double *out)
{
	char tmp[NUMBER_MAX + 1];
	if (len == 0 || len > NUMBER_MAX)
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	const char *p = tmp + (tmp[0] == '+' || tmp[0] == '-');
	if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
		*out = tmp[0] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (strcasecmp(p, "nan") == 0) {
		*out = NAN;
		return true;
	}
	size_t digits = 0;
	while (*p >= '0' && *p <= '9')
		p++, digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return false;
	errno = 0;
	*out = strtod(tmp, NULL);
	return !isinf(*out);
}

/* Unescape the text between `from` and `to` into the arena; `quote`: label values (\\ \" \n)
 * rather than HELP (\\ \n). Returns the arena offset, or -1 on a bad escape. */
static int unescape(struct textfile *t, struct cursor *c, const char *from, const char *to,
                    bool quote, size_t *off)
{
	const char *bad = invalid_utf8(from, to);
	if (bad)
		return fail(c, bad, "not UTF-8 (byte 0x%02x)", (unsigned char)*bad);
	*off = t->arena.len;
	for (const char *p = from; p < to; p++) {
		if (*p != '\\') {
			buf_putc(&t->arena, *p);
			continue;
		}
		char next = p + 1 < to ? p[1] : '\0';
		if (next == '\\' || next == 'n' || (quote && next == '"')) {
			buf_putc(&t->arena, next == 'n' ? '\n' : next);
			p++;
			continue;
		}
		t->arena.len = *off;
		return fail(c, p, "invalid escape sequence '\\%c' (%s)", next ? next : ' ',
		            quote ? "a label value knows \\\\, \\\" and \\n"
		                  : "HELP knows \\\\ and \\n");
	}
	buf_putc(&t->arena, '\0');
	return 0;
}

/* ---- families ---- */

static const char *family_key(const void *owner, size_t i)
{
	const struct textfile *t = owner;
	return at(t, t->families[i].name);
}

/* The family named [name, name + len), or (size_t)-1. */
static size_t find_family(const struct textfile *t, const char *name, size_t len)
{
	size_t *slot = table_find(&t->by_name, t, family_key, name, len);
	return slot && *slot ? *slot - 1 : (size_t)-1;
}

static size_t add_family(struct textfile *t, const char *name, size_t len, unsigned line)
{
	t->families = grow(t->families, &t->families_cap, t->nfamilies + 1, sizeof(*t->families));
	struct raw_family *f = &t->families[t->nfamilies];
	memset(f, 0, sizeof(*f));
	f->name = store(t, name, len);
	f->type = TEXTFILE_UNTYPED;
	f->line = line;
	table_add(&t->by_name, t, family_key, t->nfamilies);
	return t->nfamilies++;
}

static size_t family_of(struct textfile *t, const char *name, size_t len, unsigned line)
{
	size_t i = find_family(t, name, len);
	return i != (size_t)-1 ? i : add_family(t, name, len, line);
}

static const char *const type_names[] = {
    [TEXTFILE_UNTYPED] = "untyped",     [TEXTFILE_COUNTER] = "counter", [TEXTFILE_GAUGE] = "gauge",
    [TEXTFILE_HISTOGRAM] = "histogram", [TEXTFILE_SUMMARY] = "summary",
};

/* `# HELP name text` or `# TYPE name type`; the cursor is past the keyword and its blanks. */
static int read_metadata(struct textfile *t, struct cursor *c, bool help)
{
	const char *name = c->p;
	size_t len = read_name(c, true);
	if (!len)
		return fail(c, c->p, "%s needs a metric name", help ? "HELP" : "TYPE");
	if (!at_end(c) && !blank(*c->p))
		return fail(c, c->p, "invalid character in the metric name");
	skip_blanks(c);
	size_t fi = family_of(t, name, len, c->line);
	struct raw_family *f = &t->families[fi];
	if (help) {
		if (f->has_help)
			return fail(c, name, "a second HELP for %s", at(t, f->name));
		size_t off;
		if (unescape(t, c, c->p, c->end, false, &off) < 0)
			return -1;
		f = &t->families[fi];
		f->help = off;
		f->has_help = true;
		return 0;
	}
	const char *word = c->p;
	size_t wlen = read_token(c);
	skip_blanks(c);
	if (!at_end(c))
		return fail(c, c->p, "unexpected text after the type");
	if (f->typed)
		return fail(c, name, "a second TYPE for %s", at(t, f->name));
	if (f->nsamples)
		return fail(c, name, "TYPE for %s after its samples", at(t, f->name));
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strlen(type_names[i]) == wlen && strncmp(word, type_names[i], wlen) == 0) {
			f->type = (enum textfile_type)i;
			f->typed = true;
			return 0;
		}
	}
	return fail(c, word, "unknown type '%.*s' (counter, gauge, histogram, summary or untyped)",
	            (int)(wlen > 32 ? 32 : wlen), word);
}

static int read_comment(struct textfile *t, struct cursor *c)
{
	c->p++; /* '#' */
	skip_blanks(c);
	const char *word = c->p;
	size_t wlen = read_token(c);
	bool help = wlen == 4 && strncmp(word, "HELP", 4) == 0;
	bool type = wlen == 4 && strncmp(word, "TYPE", 4) == 0;
	if (!help && !type)
		return 0; /* a comment */
	skip_blanks(c);
	return read_metadata(t, c, help);
}

/* ---- samples ---- */

static int label_cmp(const void *a, const void *b, const struct textfile *t)
{
	return strcmp(at(t, ((const struct raw_label *)a)->name),
	              at(t, ((const struct raw_label *)b)->name));
}

/* A small insertion sort: samples have a few labels. */
static void sort_labels(struct textfile *t, struct raw_label *l, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct raw_label x = l[i];
		size_t j = i;
		for (; j > 0 && label_cmp(&l[j - 1], &x, t) > 0; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
}

/* `{name="value",...}`; the cursor is on the '{'. Fills t->line_labels. */
static int read_labels(struct textfile *t, struct cursor *c)
{
	c->p++;
	for (;;) {
		skip_blanks(c);
		if (!at_end(c) && *c->p == '}') {
			c->p++;
			return 0;
		}
		const char *name = c->p;
		size_t len = read_name(c, false);
		if (!len)
			return fail(c, c->p, "expected a label name or '}'");
		if (len >= 2 && name[0] == '_' && name[1] == '_')
			return fail(c, name, "label names starting with __ are reserved");
		skip_blanks(c);
		if (at_end(c) || *c->p != '=')
			return fail(c, c->p, "expected '=' after the label name");
		c->p++;
		skip_blanks(c);
		if (at_end(c) || *c->p != '"')
			return fail(c, c->p, "expected '\"' to open the label value");
		const char *from = ++c->p;
		while (c->p < c->end && *c->p != '"')
			c->p += *c->p == '\\' && c->p + 1 < c->end ? 2 : 1;
		if (at_end(c))
			return fail(c, from - 1, "the label value is not closed");
		for (size_t i = 0; i < t->nline_labels; i++) {
			const char *other = at(t, t->line_labels[i].name);
			if (strncmp(other, name, len) == 0 && other[len] == '\0')
				return fail(c, name, "label %.*s given twice", (int)len, name);
		}
		struct raw_label l = {store(t, name, len), 0};
		if (unescape(t, c, from, c->p, true, &l.value) < 0)
			return -1;
		c->p++; /* '"' */
		t->line_labels = grow(t->line_labels, &t->line_labels_cap, t->nline_labels + 1,
		                      sizeof(*t->line_labels));
		t->line_labels[t->nline_labels++] = l;
		skip_blanks(c);
		if (!at_end(c) && *c->p == ',') {
			c->p++;
			continue;
		}
		if (at_end(c) || *c->p != '}')
			return fail(c, c->p, "expected ',' or '}' after the label value");
	}
}

static bool ends_with(const char *s, size_t len, const char *suffix, size_t *base)
{
	size_t n = strlen(suffix);
	*base = len > n ? len - n : 0;
	return len > n && memcmp(s + len - n, suffix, n) == 0;
}

/* The family a sample named [name, name + len) belongs to, as expfmt decides: the family of that
 * very name; else, for NAME_sum and NAME_count, a summary or histogram NAME; for NAME_bucket, a
 * histogram NAME; else a new untyped family. */
static size_t resolve(struct textfile *t, const char *name, size_t len, unsigned line,
                      enum kind *kind)
{
	*kind = KIND_PLAIN;
	size_t fi = find_family(t, name, len), base;
	if (fi != (size_t)-1)
		return fi;
	if (ends_with(name, len, "_sum", &base) || ends_with(name, len, "_count", &base)) {
		fi = find_family(t, name, base);
		if (fi != (size_t)-1 && (t->families[fi].type == TEXTFILE_SUMMARY ||
		                         t->families[fi].type == TEXTFILE_HISTOGRAM)) {
			*kind = name[base + 1] == 's' ? KIND_SUM : KIND_COUNT;
			return fi;
		}
	}
	if (ends_with(name, len, "_bucket", &base)) {
		fi = find_family(t, name, base);
		if (fi != (size_t)-1 && t->families[fi].type == TEXTFILE_HISTOGRAM) {
			*kind = KIND_BUCKET;
			return fi;
		}
	}
	return add_family(t, name, len, line);
}

/* Take the label `special` (le, quantile) out of the line's labels: its value, parsed. Returns
 * 1 when found, 0 when absent, -1 on an error. */
static int take_special(struct textfile *t, struct cursor *c, const char *where,
                        const char *special, double *value)
{
	for (size_t i = 0; i < t->nline_labels; i++) {
		if (strcmp(at(t, t->line_labels[i].name), special) != 0)
			continue;
		const char *v = at(t, t->line_labels[i].value);
		if (!parse_number(v, strlen(v), value) || isnan(*value))
			return fail(c, where, "%s=\"%.32s\" is not a number", special, v);
		t->line_labels[i] = t->line_labels[--t->nline_labels];
		return 1;
	}
	return 0;
}

static bool whole(double v)
{
	return v >= 0 && v <= EXACT_INT_LIMIT && v == floor(v);
}

/* The checks that depend on the family's type, and le and quantile taken out of the labels. */
static int check_sample(struct textfile *t, struct cursor *c, const char *name,
                        const struct raw_family *f, enum kind *kind, double value, double *special)
{
	const char *fname = at(t, f->name);
	/* le and quantile are ordinary labels of the other types. */
	int le = f->type == TEXTFILE_HISTOGRAM ? take_special(t, c, name, "le", special) : 0;
	if (le < 0)
		return -1;
	if (*kind == KIND_BUCKET && !le)
		return fail(c, name, "a bucket of histogram %s needs an le label", fname);
	if (*kind != KIND_BUCKET && le)
		return fail(c, name, "only the _bucket samples of histogram %s have an le label",
		            fname);
	int q = f->type == TEXTFILE_SUMMARY ? take_special(t, c, name, "quantile", special) : 0;
	if (q < 0)
		return -1;
	switch (f->type) {
	case TEXTFILE_HISTOGRAM:
		if (*kind == KIND_PLAIN)
			return fail(c, name,
			            "histogram %s has samples %s_bucket, %s_sum and %s_count, "
			            "not %s",
			            fname, fname, fname, fname, fname);
		if (*kind == KIND_BUCKET && *special < 0)
			return fail(c, name,
			            "histogram %s: negative bucket bounds are not supported "
			            "(OpenMetrics cannot carry them with a _sum)",
			            fname);
		if (*kind == KIND_BUCKET && isinf(*special))
			*kind = KIND_INF;
		break;
	case TEXTFILE_SUMMARY:
		if (*kind == KIND_PLAIN && !q)
			return fail(c, name, "a sample of summary %s needs a quantile label",
			            fname);
		if (*kind != KIND_PLAIN && q)
			return fail(c, name,
			            "only the quantiles of summary %s have a quantile label",
			            fname);
		if (q && !(*special >= 0 && *special <= 1))
			return fail(c, name, "summary %s: a quantile is between 0 and 1", fname);
		if (*kind == KIND_PLAIN && value < 0)
			return fail(c, name, "summary %s: a quantile's value cannot be negative",
			            fname);
		break;
	case TEXTFILE_COUNTER:
		if (!(value >= 0))
			return fail(c, name, "counter %s cannot be negative or NaN", fname);
		break;
	default:
		break;
	}
	if ((*kind == KIND_BUCKET || *kind == KIND_INF || *kind == KIND_COUNT) && !whole(value))
		return fail(c, name, "%s: a count is a whole number from 0 to 2^53", fname);
	if (*kind == KIND_SUM && !(value >= 0))
		return fail(c, name, "%s: a _sum cannot be negative or NaN", fname);
	return 0;
}

/* The line's labels, sorted, without empty values, into t->labels; and their key. */
static void keep_labels(struct textfile *t, struct raw_sample *s)
{
	sort_labels(t, t->line_labels, t->nline_labels);
	s->labels = t->nlabels;
	s->key = t->arena.len;
	for (size_t i = 0; i < t->nline_labels; i++) {
		const struct raw_label *l = &t->line_labels[i];
		if (!at(t, l->value)[0])
			continue;
		t->labels = grow(t->labels, &t->labels_cap, t->nlabels + 1, sizeof(*t->labels));
		t->labels[t->nlabels++] = *l;
		/* 0xff is never part of UTF-8, so it cannot occur in names or values. The copies
		 * come from the arena itself: room is made first, so that it does not move while
		 * they are read. */
		size_t name_len = strlen(at(t, l->name)), value_len = strlen(at(t, l->value));
		buf_reserve(&t->arena, name_len + value_len + 2);
		buf_append(&t->arena, at(t, l->name), name_len);
		buf_putc(&t->arena, '\xff');
		buf_append(&t->arena, at(t, l->value), value_len);
		buf_putc(&t->arena, '\xff');
	}
	s->key_len = t->arena.len - s->key;
	buf_putc(&t->arena, '\0');
	s->nlabels = t->nlabels - s->labels;
}

static int read_sample(struct textfile *t, struct cursor *c)
{
	const char *name = c->p;
	size_t len = read_name(c, true);
	if (!len)
		return fail(c, c->p, "expected a metric name");
	t->nline_labels = 0;
	if (!at_end(c) && *c->p == '{') {
		if (read_labels(t, c) < 0)
			return -1;
	} else if (!at_end(c) && !blank(*c->p)) {
		return fail(c, c->p, "invalid character in the metric name");
	}
	skip_blanks(c);
	const char *vtok = c->p;
	size_t vlen = read_token(c);
	double value;
	if (!vlen)
		return fail(c, c->p, "expected a value");
	if (!parse_number(vtok, vlen, &value))
		return fail(c, vtok, "'%.*s' is not a number", (int)(vlen > 32 ? 32 : vlen), vtok);
	skip_blanks(c);
	if (!at_end(c))
		return fail(c, c->p,
		            "text after the value: timestamps are not supported in textfiles "
		            "(node_exporter refuses them too)");

	enum kind kind;
	size_t fi = resolve(t, name, len, c->line, &kind);
	double special = 0;
	if (check_sample(t, c, name, &t->families[fi], &kind, value, &special) < 0)
		return -1;
	t->samples = grow(t->samples, &t->samples_cap, t->nsamples + 1, sizeof(*t->samples));
	struct raw_sample *s = &t->samples[t->nsamples++];
	*s = (struct raw_sample){
	    .family = fi, .kind = kind, .special = special, .value = value, .line = c->line};
	keep_labels(t, s);
	t->families[fi].nsamples++;
	return 0;
}

static int read_line(struct textfile *t, struct cursor *c)
{
	const char *bad = memchr(c->p, '\0', (size_t)(c->end - c->p));
	if (bad)
		return fail(c, bad, "a NUL byte");
	bad = memchr(c->p, '\r', (size_t)(c->end - c->p));
	if (bad)
		return fail(c, bad,
		            "a carriage return (CR): lines end with LF alone (DOS line endings?)");
	skip_blanks(c);
	if (at_end(c))
		return 0;
	if (*c->p == '#')
		return read_comment(t, c);
	return read_sample(t, c);
}

/* ---- building the result ---- */

/* A sample as the sort sees it: its key resolved, since the arena no longer moves. */
struct sort_entry {
	const char *key;
	size_t key_len;
	enum kind kind;
	double special;
	unsigned line;
	size_t sample;
};

static const struct raw_sample *sample_at(const struct textfile *t, size_t i)
{
	return &t->samples[t->order[i].sample];
}

/* The samples of one family by key, then kind, then le or quantile, then line. */
static int sample_cmp(const void *pa, const void *pb)
{
	const struct sort_entry *a = pa, *b = pb;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);
	if (c)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->special != b->special)
		return a->special < b->special ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static bool same_series(const struct textfile *t, size_t i, size_t j)
{
	const struct sort_entry *a = &t->order[i], *b = &t->order[j];
	return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

static int fail_line(char *err, size_t errlen, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_line(char *err, size_t errlen, unsigned line, const char *fmt, ...)
{
	int n = snprintf(err, errlen, "line %u: ", line);
	if (n > 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static struct textfile_series *new_series(struct textfile *t, const struct raw_sample *s)
{
	struct textfile_series *out = &t->series[t->nseries++];
	memset(out, 0, sizeof(*out));
	out->labels = t->out_labels + t->nout_labels;
	out->nlabels = s->nlabels;
	for (size_t i = 0; i < s->nlabels; i++) {
		const struct raw_label *l = &t->labels[s->labels + i];
		t->out_labels[t->nout_labels++] = (struct label){at(t, l->name), at(t, l->value)};
	}
	return out;
}

/* Samples [from, to) of the sorted order: one histogram or summary series. */
static int build_grouped(struct textfile *t, const struct raw_family *f, size_t from, size_t to,
                         char *err, size_t errlen)
{
	const char *fname = at(t, f->name);
	bool histogram = f->type == TEXTFILE_HISTOGRAM;
	struct textfile_series *out = new_series(t, sample_at(t, from));
	bool has_sum = false, has_count = false, has_inf = false;
	uint64_t inf = 0;
	out->bounds = t->doubles + t->ndoubles;
	if (histogram)
		out->cumulative = t->counts + t->ncounts;
	else
		out->values = t->doubles + t->ndoubles + (to - from);
	size_t nq = 0;
	for (size_t i = from; i < to; i++) {
		const struct raw_sample *s = sample_at(t, i);
		const struct raw_sample *prev = i > from ? sample_at(t, i - 1) : NULL;
		if (prev && prev->kind == s->kind &&
		    (s->kind != KIND_BUCKET && s->kind != KIND_PLAIN ? true
		                                                     : prev->special == s->special))
			return fail_line(err, errlen, s->line,
			                 "%s: the same sample as on line %u (a repeated series)",
			                 fname, prev->line);
		switch (s->kind) {
		case KIND_SUM:
			has_sum = true;
			out->value = s->value;
			break;
		case KIND_COUNT:
			has_count = true;
			out->count = (uint64_t)s->value;
			break;
		case KIND_INF:
			has_inf = true;
			inf = (uint64_t)s->value;
			break;
		case KIND_BUCKET:
			if (nq && (uint64_t)s->value < t->counts[t->ncounts + nq - 1])
				return fail_line(err, errlen, s->line,
				                 "histogram %s: the bucket le=\"%g\" counts fewer "
				                 "than a smaller one (buckets are cumulative)",
				                 fname, s->special);
			t->doubles[t->ndoubles + nq] = s->special;
			t->counts[t->ncounts + nq] = (uint64_t)s->value;
			nq++;
			break;
		case KIND_PLAIN:
			t->doubles[t->ndoubles + nq] = s->special;
			t->doubles[t->ndoubles + (to - from) + nq] = s->value;
			nq++;
			break;
		}
	}
	unsigned line = sample_at(t, from)->line; /* the series' first line in the file */
	for (size_t i = from + 1; i < to; i++)
		if (sample_at(t, i)->line < line)
			line = sample_at(t, i)->line;
	if (!has_sum || !has_count)
		return fail_line(err, errlen, line, "%s %s: a series without its %s",
		                 type_names[f->type], fname, !has_sum ? "_sum" : "_count");
	if (has_inf && inf != out->count)
		return fail_line(err, errlen, line,
		                 "histogram %s: the +Inf bucket (%llu) is not the _count (%llu)",
		                 fname, (unsigned long long)inf, (unsigned long long)out->count);
	if (histogram && nq && t->counts[t->ncounts + nq - 1] > out->count)
		return fail_line(err, errlen, line,
		                 "histogram %s: a bucket counts more than the _count (%llu)", fname,
		                 (unsigned long long)out->count);
	out->nbounds = nq;
	t->ndoubles += histogram ? nq : 2 * (to - from);
	t->ncounts += histogram ? nq : 0;
	return 0;
}

static int build_family(struct textfile *t, size_t fi, size_t *order_at, char *err, size_t errlen)
{
	const struct raw_family *f = &t->families[fi];
	size_t first = *order_at, n = f->nsamples;
	qsort(t->order + first, n, sizeof(*t->order), sample_cmp);
	*order_at += n;

	struct textfile_family *out = &t->out[t->nout++];
	*out = (struct textfile_family){
	    .name = at(t, f->name),
	    .help = f->has_help ? at(t, f->help) : NULL,
	    .type = f->type,
	    .series = t->series + t->nseries,
	    .line = f->line,
	};
	bool grouped = f->type == TEXTFILE_HISTOGRAM || f->type == TEXTFILE_SUMMARY;
	for (size_t i = first; i < first + n;) {
		size_t j = i + 1;
		while (j < first + n && same_series(t, i, j))
			j++;
		if (grouped) {
			if (build_grouped(t, f, i, j, err, errlen) < 0)
				return -1;
		} else if (j > i + 1) {
			return fail_line(err, errlen, sample_at(t, i + 1)->line,
			                 "%s: the same series as on line %u", out->name,
			                 sample_at(t, i)->line);
		} else {
			new_series(t, sample_at(t, i))->value = sample_at(t, i)->value;
		}
		i = j;
	}
	out->nseries = (size_t)(t->series + t->nseries - out->series);
	return 0;
}

/* Two families of the file that would write the same metric name. */
static int check_clashes(struct textfile *t, char *err, size_t errlen)
{
	textfile_names_reset(t->claims);
	for (size_t i = 0; i < t->nout; i++) {
		size_t owner;
		const char *clash = textfile_names_clash(t->claims, &t->out[i], &owner);
		if (clash)
			return fail_line(err, errlen, t->out[i].line,
			                 "%s %s would write %s, as %s %s (line %u) does",
			                 type_names[t->out[i].type], t->out[i].name, clash,
			                 type_names[t->out[owner].type], t->out[owner].name,
			                 t->out[owner].line);
		textfile_names_take(t->claims, &t->out[i], i);
	}
	return 0;
}

/* Families in the order the file names them; families without samples are left out. */
static int build(struct textfile *t, char *err, size_t errlen)
{
	/* Every array is sized for the worst case once, so pointers into them stay valid. */
	t->out = grow(t->out, &t->out_cap, t->nfamilies + 1, sizeof(*t->out));
	t->series = grow(t->series, &t->series_cap, t->nsamples + 1, sizeof(*t->series));
	t->out_labels =
	    grow(t->out_labels, &t->out_labels_cap, t->nlabels + 1, sizeof(*t->out_labels));
	t->doubles = grow(t->doubles, &t->doubles_cap, 2 * t->nsamples + 1, sizeof(*t->doubles));
	t->counts = grow(t->counts, &t->counts_cap, t->nsamples + 1, sizeof(*t->counts));
	t->order = grow(t->order, &t->order_cap, t->nsamples + 1, sizeof(*t->order));

	/* The samples' indexes grouped by family (a counting sort), each group sorted later. */
	size_t *start = xcalloc(t->nfamilies + 1, sizeof(*start));
	for (size_t i = 0; i < t->nfamilies; i++)
		start[i + 1] = start[i] + t->families[i].nsamples;
	for (size_t i = 0; i < t->nsamples; i++) {
		const struct raw_sample *s = &t->samples[i];
		t->order[start[s->family]++] =
		    (struct sort_entry){at(t, s->key), s->key_len, s->kind, s->special, s->line, i};
	}
	free(start);

	size_t order_at = 0;
	for (size_t i = 0; i < t->nfamilies; i++) {
		if (!t->families[i].nsamples)
			continue;
		if (build_family(t, i, &order_at, err, errlen) < 0)
			return -1;
	}
	return check_clashes(t, err, errlen);
}

static void reset(struct textfile *t)
{
	buf_reset(&t->arena);
	t->nfamilies = 0;
	table_reset(&t->by_name);
	t->nsamples = 0;
	t->nlabels = 0;
	t->nout = 0;
	t->nseries = 0;
	t->nout_labels = 0;
	t->ndoubles = 0;
	t->ncounts = 0;
}

int textfile_parse(struct textfile *t, const char *data, size_t len, char *err, size_t errlen)
{
	reset(t);
	struct cursor c = {.err = err, .errlen = errlen};
	const char *p = data, *end = data + len;
	for (unsigned line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		c.p = c.line_start = p;
		c.end = nl ? nl : end;
		c.line = line;
		if (read_line(t, &c) < 0) {
			reset(t);
			return -1;
		}
		p = nl ? nl + 1 : end;
	}
	if (build(t, err, errlen) < 0) {
		reset(t);
		return -1;
	}
	return 0;
}

/* ---- serving ---- */

static enum metric_type served_type(const struct textfile_family *f, bool *strip_total)
{
	size_t len = strlen(f->name);
	*strip_total = false;
	switch (f->type) {
	case TEXTFILE_COUNTER:
		*strip_total = len > 6 && strcmp(f->name + len - 6, "_total") == 0;
		return *strip_total ? METRIC_COUNTER : METRIC_UNTYPED;
	case TEXTFILE_GAUGE:
		return METRIC_GAUGE;
	case TEXTFILE_HISTOGRAM:
		return METRIC_HISTOGRAM;
	case TEXTFILE_SUMMARY:
		return METRIC_SUMMARY;
	default:
		return METRIC_UNTYPED;
	}
}

void textfile_expose(const struct textfile *t, const char *default_help, struct expo *out)
{
	struct buf *name = &((struct textfile *)t)->name;
	for (size_t i = 0; i < t->nout; i++) {
		const struct textfile_family *f = &t->out[i];
		bool strip;
		enum metric_type type = served_type(f, &strip);
		buf_reset(name);
		buf_append(name, f->name, strlen(f->name) - (strip ? 6 : 0));
		expo_family(out, name->data, type, NULL,
		            f->help && f->help[0] ? f->help : default_help);
		for (size_t j = 0; j < f->nseries; j++) {
			const struct textfile_series *s = &f->series[j];
			if (type == METRIC_HISTOGRAM)
				expo_histogram(out, s->labels, s->nlabels, s->bounds, s->cumulative,
				               s->nbounds, s->value, s->count);
			else if (type == METRIC_SUMMARY)
				expo_summary(out, s->labels, s->nlabels, s->bounds, s->values,
				             s->nbounds, s->value, s->count);
			else
				expo_sample(out, s->labels, s->nlabels, s->value);
		}
	}
}
