#include "name_template.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

enum piece_kind {
	PIECE_TEXT,
	PIECE_COMM,
	PIECE_EXE_BASE,
	PIECE_EXE_FULL,
	PIECE_USERNAME,
	PIECE_PID,
	PIECE_START_TIME,
	PIECE_CGROUP,
	PIECE_UNIT,
	PIECE_MATCH, /* {{.Matches.NAME}}: "<no value>" when missing */
	PIECE_INDEX, /* {{index .Matches "NAME"}}: "" when missing */
};

/* A literal text, or a value; `text` is the literal or the Matches key. */
struct piece {
	enum piece_kind kind;
	char *text;
	size_t len;
};

struct name_template {
	struct piece *pieces;
	size_t n;
};

static const struct {
	const char *name;
	enum piece_kind kind;
} fields[] = {
    {"Comm", PIECE_COMM},         {"ExeBase", PIECE_EXE_BASE}, {"ExeFull", PIECE_EXE_FULL},
    {"Username", PIECE_USERNAME}, {"PID", PIECE_PID},          {"StartTime", PIECE_START_TIME},
    {"Cgroups", PIECE_CGROUP},    {"Cgroup", PIECE_CGROUP},    {"Unit", PIECE_UNIT},
};

#define KNOWN_FIELDS                                                                               \
	".Comm, .ExeBase, .ExeFull, .Username, .PID, .StartTime, .Cgroups, .Matches.NAME, "        \
	".Unit or .Cgroup"

/* Go's template whitespace. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* ---- parsing ---- */

struct parser {
	const char *s;
	size_t len;
	size_t pos;
	struct name_template *t;
	size_t err_offset;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t offset, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	p->err_offset = offset;
	return -1;
}

static void add_piece(struct name_template *t, enum piece_kind kind, const char *text, size_t len)
{
	if (kind == PIECE_TEXT && len == 0)
		return;
	t->pieces = xreallocarray(t->pieces, t->n + 1, sizeof(*t->pieces));
	struct piece *pc = &t->pieces[t->n++];
	pc->kind = kind;
	pc->len = len;
	pc->text = xmalloc(len + 1);
	if (len)
		memcpy(pc->text, text, len);
	pc->text[len] = '\0';
}

static bool at(const struct parser *p, size_t i, const char *lit)
{
	size_t n = strlen(lit);
	return i <= p->len && p->len - i >= n && memcmp(p->s + i, lit, n) == 0;
}

/* The tokens an action may hold: a field chain (.A.B), an identifier (index) or a string. */
enum token_kind { TOKEN_FIELDS, TOKEN_IDENT, TOKEN_STRING };

struct token {
	enum token_kind kind;
	size_t offset;
	struct buf text; /* fields: "A.B"; identifier; string: its value */
	size_t nfields;
};

#define MAX_TOKENS 3

static int lex_fields(struct parser *p, struct token *tok)
{
	while (p->pos < p->len && p->s[p->pos] == '.') {
		size_t start = ++p->pos;
		if (p->pos >= p->len || !is_ident_start(p->s[p->pos]))
			return fail(p, start - 1, "'.' must be followed by a field name");
		while (p->pos < p->len && is_ident_char(p->s[p->pos]))
			p->pos++;
		if (tok->nfields++)
			buf_putc(&tok->text, '.');
		buf_append(&tok->text, p->s + start, p->pos - start);
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A Go string literal: "..." with the common escapes, or `raw`. */
static int lex_string(struct parser *p, struct token *tok)
{
	char quote = p->s[p->pos++];
	for (;;) {
		if (p->pos >= p->len || (quote == '"' && p->s[p->pos] == '\n'))
			return fail(p, tok->offset, "unterminated quoted string");
		char c = p->s[p->pos++];
		if (c == quote)
			return 0;
		if (c != '\\' || quote == '`') {
			buf_putc(&tok->text, c);
			continue;
		}
		if (p->pos >= p->len)
			return fail(p, tok->offset, "unterminated quoted string");
		size_t esc = p->pos - 1;
		c = p->s[p->pos++];
		static const char from[] = "abfnrtv\\\"", to[] = "\a\b\f\n\r\t\v\\\"";
		const char *k = c ? strchr(from, c) : NULL;
		if (k) {
			buf_putc(&tok->text, to[k - from]);
		} else if (c == 'x' && p->pos + 2 <= p->len && hex_digit(p->s[p->pos]) >= 0 &&
		           hex_digit(p->s[p->pos + 1]) >= 0) {
			buf_putc(&tok->text, (char)(hex_digit(p->s[p->pos]) * 16 +
			                            hex_digit(p->s[p->pos + 1])));
			p->pos += 2;
		} else {
			return fail(p, esc, "unsupported escape in a quoted string");
		}
	}
}

static int lex_token(struct parser *p, struct token *tok)
{
	char c = p->s[p->pos];
	tok->offset = p->pos;
	if (c == '.') {
		tok->kind = TOKEN_FIELDS;
		return lex_fields(p, tok);
	}
	if (c == '"' || c == '`') {
		tok->kind = TOKEN_STRING;
		return lex_string(p, tok);
	}
	if (is_ident_start(c)) {
		tok->kind = TOKEN_IDENT;
		size_t start = p->pos;
		while (p->pos < p->len && is_ident_char(p->s[p->pos]))
			p->pos++;
		buf_append(&tok->text, p->s + start, p->pos - start);
		if (strcmp(tok->text.data, "index") != 0)
			return fail(p, start, "function '%s' is not supported (only index is)",
			            tok->text.data);
		return 0;
	}
	if (c == '|')
		return fail(p, p->pos, "pipelines are not supported");
	if (c == '(' || c == ')')
		return fail(p, p->pos, "parentheses are not supported");
	if (c == '$')
		return fail(p, p->pos, "variables are not supported");
	if (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '*')
		return fail(p, p->pos, "comments are not supported");
	if (c >= 0x20 && c < 0x7f)
		return fail(p, p->pos, "unexpected '%c' in an action", c);
	return fail(p, p->pos, "unexpected byte 0x%02x in an action", (unsigned char)c);
}

static int field_piece(struct parser *p, const struct token *tok)
{
	const char *f = tok->text.data;
	if (strncmp(f, "Matches", 7) == 0 && (f[7] == '.' || f[7] == '\0')) {
		if (tok->nfields != 2)
			return fail(p, tok->offset,
			            tok->nfields == 1
			                ? "use .Matches.NAME or index .Matches \"NAME\""
			                : "a match has no fields");
		add_piece(p->t, PIECE_MATCH, f + 8, strlen(f + 8));
		return 0;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strncmp(f, fields[i].name, strlen(fields[i].name)) != 0)
			continue;
		char next = f[strlen(fields[i].name)];
		if (next == '.')
			return fail(p, tok->offset, ".%s has no fields", fields[i].name);
		if (next == '\0') {
			add_piece(p->t, fields[i].kind, NULL, 0);
			return 0;
		}
	}
	if (strncmp(f, "Cwd", 3) == 0 && (f[3] == '.' || f[3] == '\0'))
		return fail(p, tok->offset, ".Cwd is not supported by kobsd");
	return fail(p, tok->offset, "unknown field .%s (known: " KNOWN_FIELDS ")", f);
}

static int action_piece(struct parser *p, size_t open, struct token *toks, size_t n)
{
	if (n == 0)
		return fail(p, open, "empty action");
	if (toks[0].kind == TOKEN_FIELDS && n == 1)
		return field_piece(p, &toks[0]);
	if (toks[0].kind == TOKEN_IDENT) {
		if (n == 3 && toks[1].kind == TOKEN_FIELDS &&
		    strcmp(toks[1].text.data, "Matches") == 0 && toks[2].kind == TOKEN_STRING) {
			add_piece(p->t, PIECE_INDEX, toks[2].text.data ? toks[2].text.data : "",
			          toks[2].text.len);
			return 0;
		}
		return fail(p, toks[0].offset, "index takes .Matches and a quoted name");
	}
	return fail(p, toks[n > 1 ? 1 : 0].offset,
	            "an action holds one field, or index .Matches \"NAME\"");
}

/* Parse the action whose "{{" is at `open`; p->pos is just after the "{{" and any "- ". Sets
 * *trim_after when it ends with " -}}". */
static int parse_action(struct parser *p, size_t open, bool *trim_after)
{
	struct token toks[MAX_TOKENS + 1];
	size_t n = 0;
	int rc = -1;
	for (;;) {
		if (p->pos + 1 < p->len && is_space(p->s[p->pos]) && at(p, p->pos + 1, "-}}")) {
			p->pos += 4;
			*trim_after = true;
			break;
		}
		while (p->pos < p->len && is_space(p->s[p->pos]))
			p->pos++;
		if (p->pos >= p->len) {
			fail(p, open, "unterminated action: \"{{\" without \"}}\"");
			goto out;
		}
		if (at(p, p->pos, "}}")) {
			p->pos += 2;
			*trim_after = false;
			break;
		}
		if (n > MAX_TOKENS - 1) {
			fail(p, p->pos, "too many words in an action");
			goto out;
		}
		struct token *tok = &toks[n++];
		memset(tok, 0, sizeof(*tok));
		buf_init(&tok->text);
		buf_reserve(&tok->text, 0);
		tok->text.data[0] = '\0';
		if (lex_token(p, tok) < 0)
			goto out;
		/* Go needs a space between words: {{.Comm"x"}} and {{index.Matches}} are errors. */
		if (p->pos < p->len && !is_space(p->s[p->pos]) && !at(p, p->pos, "}}")) {
			fail(p, p->pos,
			     "unexpected '%c' after a word; words are separated by spaces",
			     p->s[p->pos]);
			goto out;
		}
	}
	rc = action_piece(p, open, toks, n);
out:
	for (size_t i = 0; i < n; i++)
		buf_free(&toks[i].text);
	return rc;
}

struct name_template *name_template_parse(const char *text, size_t len, size_t *err_offset,
                                          char *err, size_t errlen)
{
	struct parser p = {.s = text, .len = len, .err = err, .errlen = errlen};
	p.t = xcalloc(1, sizeof(*p.t));
	bool trim_before = false; /* the previous action ended with " -}}" */
	while (p.pos <= len) {
		size_t open = p.pos;
		while (open + 1 < len && !(text[open] == '{' && text[open + 1] == '{'))
			open++;
		if (open + 1 >= len)
			open = len;
		size_t start = p.pos, end = open;
		if (trim_before)
			while (start < end && is_space(text[start]))
				start++;
		if (open == len) {
			add_piece(p.t, PIECE_TEXT, text + start, end - start);
			break;
		}
		p.pos = open + 2;
		if (p.pos + 1 < len && text[p.pos] == '-' && is_space(text[p.pos + 1])) {
			p.pos += 2;
			while (end > start && is_space(text[end - 1]))
				end--;
		}
		add_piece(p.t, PIECE_TEXT, text + start, end - start);
		if (parse_action(&p, open, &trim_before) < 0) {
			*err_offset = p.err_offset;
			name_template_free(p.t);
			return NULL;
		}
	}
	return p.t;
}

void name_template_free(struct name_template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->pieces[i].text);
	free(t->pieces);
	free(t);
}

/* ---- expansion ---- */

/* Appends to `b` up to `room` more bytes; remembers the first byte that did not fit. */
struct writer {
	struct buf *b;
	size_t room;
	bool cut;
	unsigned char first_cut;
};

static void put(struct writer *w, const char *s, size_t len)
{
	if (w->cut)
		return;
	size_t n = len < w->room ? len : w->room;
	buf_append(w->b, s, n);
	w->room -= n;
	if (n < len) {
		w->cut = true;
		w->first_cut = (unsigned char)s[n];
	}
}

static void put_str(struct writer *w, const char *s)
{
	if (s)
		put(w, s, strlen(s));
}

static bool is_continuation(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* After a cut, drop the start of a character that lost its continuation bytes. */
static void unsplit_utf8(struct writer *w, size_t start)
{
	if (!w->cut || !is_continuation(w->first_cut))
		return;
	struct buf *b = w->b;
	size_t k = 0; /* continuation bytes kept before the cut */
	while (k < 3 && b->len - k > start &&
	       is_continuation((unsigned char)b->data[b->len - k - 1]))
		k++;
	if (b->len - k == start)
		return;
	unsigned char lead = (unsigned char)b->data[b->len - k - 1];
	size_t need = lead >= 0xf0 && lead <= 0xf7   ? 4
	              : lead >= 0xe0 && lead <= 0xef ? 3
	              : lead >= 0xc0 && lead <= 0xdf ? 2
	                                             : 1;
	if (need > k + 1) {
		b->len -= k + 1;
		b->data[b->len] = '\0';
	}
}

static const struct name_match *find_match(const struct name_values *v, const char *name)
{
	const struct name_match *found = NULL;
	for (size_t i = 0; i < v->nmatches; i++)
		if (v->matches[i].name && strcmp(v->matches[i].name, name) == 0)
			found = &v->matches[i];
	return found;
}

void name_template_expand(const struct name_template *t, const struct name_values *v, size_t limit,
                          struct buf *out)
{
	struct writer w = {.b = out, .room = limit};
	size_t start = out->len;
	char num[32];
	buf_reserve(out, 0);
	out->data[out->len] = '\0';
	for (size_t i = 0; i < t->n && !w.cut; i++) {
		const struct piece *pc = &t->pieces[i];
		const struct name_match *m;
		switch (pc->kind) {
		case PIECE_TEXT:
			put(&w, pc->text, pc->len);
			break;
		case PIECE_COMM:
			put_str(&w, v->comm);
			break;
		case PIECE_EXE_BASE:
			put_str(&w, v->exe_base);
			break;
		case PIECE_EXE_FULL:
			put_str(&w, v->exe_full);
			break;
		case PIECE_USERNAME:
			put_str(&w, v->username);
			break;
		case PIECE_CGROUP:
			put_str(&w, v->cgroup);
			break;
		case PIECE_UNIT:
			put_str(&w, v->unit);
			break;
		case PIECE_PID:
			put(&w, num, (size_t)snprintf(num, sizeof(num), "%lld", v->pid));
			break;
		case PIECE_START_TIME:
			put(&w, num, (size_t)snprintf(num, sizeof(num), "%lld", v->start_time));
			break;
		case PIECE_MATCH:
		case PIECE_INDEX:
			m = find_match(v, pc->text);
			if (m)
				put(&w, m->value, m->len);
			else if (pc->kind == PIECE_MATCH)
				put_str(&w, "<no value>");
			break;
		}
	}
	unsplit_utf8(&w, start);
}
