/* Accept and Accept-Encoding per RFC 9110 sections 12.4.2, 12.5.1 and 12.5.3.
 *
 * Both headers are comma-separated lists of elements, each a name (a media range such as
 * "text/plain" or "text/<star>", or a content coding such as "gzip") followed by `;name=value`
 * parameters, one of which may be the weight `q`. Names and parameter names compare without
 * regard to case; values are tokens or quoted strings. An element that does not follow the
 * grammar (a bad q, a stray character, an unterminated quote) is skipped as a whole: guessing
 * what a broken element meant could pick a format the client cannot read. Parsing is one
 * forward pass without allocation, so any header, however long or hostile, costs linear time. */
#include "negotiate.h"

#include <stddef.h>
#include <string.h>

/* Weights are kept in thousandths, the precision RFC 9110 allows. */
#define Q_MAX 1000

struct element {
	const char *name; /* "type/subtype" or a coding */
	size_t name_len;
	/* The raw values of the `version`, `proto` and `encoding` parameters, quotes included;
	 * NULL when there is none. */
	const char *version;
	size_t version_len;
	const char *proto;
	size_t proto_len;
	const char *encoding;
	size_t encoding_len;
	int q;
	bool bad; /* the element does not follow the grammar */
};

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *skip_token(const char *p)
{
	while (is_tchar((unsigned char)*p))
		p++;
	return p;
}

/* Past the quoted-string starting at `p` (on its opening quote); on a malformed one, sets *bad
 * and returns where it went wrong. */
static const char *skip_quoted(const char *p, bool *bad)
{
	for (p++; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		unsigned char c = (unsigned char)*p;
		if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f) {
			*bad = true;
			return p;
		}
	}
	return p + 1;
}

static bool equals_nocase(const char *s, size_t len, const char *lit)
{
	size_t i = 0;
	for (; i < len && lit[i]; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return i == len && lit[i] == '\0';
}

/* Whether a parameter value, token or quoted-string, means the string `lit`. */
static bool value_equals(const char *v, size_t len, const char *lit)
{
	if (len == 0 || v[0] != '"')
		return len == strlen(lit) && memcmp(v, lit, len) == 0;
	size_t j = 0;
	for (size_t i = 1; i + 1 < len; i++) {
		if (v[i] == '\\')
			i++;
		if (lit[j] != v[i])
			return false;
		j++;
	}
	return lit[j] == '\0';
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths; -1 if malformed. */
static int parse_qvalue(const char *s, size_t len)
{
	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	if (len == 1)
		return s[0] == '1' ? Q_MAX : 0;
	if (s[1] != '.' || len > 5)
		return -1;
	int q = 0, scale = 100;
	for (size_t i = 2; i < len; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0'))
			return -1;
		q += (s[i] - '0') * scale;
	}
	return s[0] == '1' ? Q_MAX : q;
}

/* One `name=value` parameter at `p`. Returns the position after it; on a malformed one, sets
 * el->bad and returns where it went wrong. */
static const char *parse_param(const char *p, struct element *el)
{
	const char *name = p;
	p = skip_token(p);
	size_t name_len = (size_t)(p - name);
	if (name_len == 0 || *p != '=') {
		el->bad = true;
		return p;
	}
	const char *value = ++p;
	p = *p == '"' ? skip_quoted(p, &el->bad) : skip_token(p);
	if (el->bad || p == value) {
		el->bad = true;
		return p;
	}
	size_t value_len = (size_t)(p - value);

	if (equals_nocase(name, name_len, "q")) {
		el->q = parse_qvalue(value, value_len);
		el->bad = el->q < 0;
	} else if (equals_nocase(name, name_len, "version")) {
		el->version = value;
		el->version_len = value_len;
	} else if (equals_nocase(name, name_len, "proto")) {
		el->proto = value;
		el->proto_len = value_len;
	} else if (equals_nocase(name, name_len, "encoding")) {
		el->encoding = value;
		el->encoding_len = value_len;
	}
	return p;
}

/* The name at `p`: a token, or `type/subtype` when `media`; sets el->bad when there is none. */
static const char *parse_name(const char *p, bool media, struct element *el)
{
	el->name = p;
	p = skip_token(p);
	if (media && p != el->name && *p == '/') {
		const char *subtype = ++p;
		p = skip_token(p);
		el->bad = p == subtype;
	} else {
		el->bad = p == el->name || media;
	}
	el->name_len = (size_t)(p - el->name);
	return p;
}

/* One element at `p`: a name, then `;name=value` parameters. Returns the position of the ','
 * or NUL that ends it; on a malformed element, sets el->bad and returns where it went wrong. */
static const char *parse_element(const char *p, bool media, struct element *el)
{
	el->version = NULL;
	el->proto = NULL;
	el->encoding = NULL;
	el->q = Q_MAX;
	p = parse_name(skip_ows(p), media, el);
	while (!el->bad) {
		p = skip_ows(p);
		if (*p != ';')
			break;
		p = skip_ows(p + 1);
		/* Empty parameters (";;") are allowed by the grammar. */
		if (*p == ';' || *p == ',' || *p == '\0')
			continue;
		p = parse_param(p, el);
	}
	if (*p != ',' && *p != '\0')
		el->bad = true;
	return p;
}

/* Parse the element at `p` into `el` and return where the next one starts. A malformed element
 * is skipped from where it went wrong up to the next ',', so every byte is looked at a bounded
 * number of times. */
static const char *next_element(const char *p, bool media, struct element *el)
{
	p = parse_element(p, media, el);
	if (el->bad) {
		while (*p && *p != ',')
			p++;
	}
	return *p == ',' ? p + 1 : p;
}

/* ---- Accept ---- */

/* How a format was asked for. RFC 9110: the most specific matching range decides a type's
 * weight, so `level` ranks them: 0 any type, 1 any subtype of the type, 2 the exact type, 3 the
 * exact type with a version we produce. Among equally specific ranges the highest weight counts. */
struct choice {
	int level; /* -1: not asked for */
	int q;
	size_t position; /* index of the deciding element, for ties */
};

static void consider(struct choice *c, int level, int q, size_t position)
{
	if (level > c->level || (level == c->level && q > c->q)) {
		c->level = level;
		c->q = q;
		c->position = position;
	}
}

static bool version_is(const struct element *el, const char *a, const char *b)
{
	return value_equals(el->version, el->version_len, a) ||
	       value_equals(el->version, el->version_len, b);
}

/* The level at which `el` asks for an exact type: 3 with a version we can serve, 2 without a
 * version, -1 for a version we cannot serve. */
static int exact_level(const struct element *el, const char *v1, const char *v2)
{
	if (!el->version)
		return 2;
	return version_is(el, v1, v2) ? 3 : -1;
}

/* Protobuf only as Prometheus and client_golang name it: MetricFamily messages, each after its
 * length (encoding=delimited). The other encodings (text, compact-text) and a missing parameter
 * name something we do not write. */
static bool is_delimited_metric_families(const struct element *el)
{
	return el->proto && el->encoding &&
	       value_equals(el->proto, el->proto_len, "io.prometheus.client.MetricFamily") &&
	       value_equals(el->encoding, el->encoding_len, "delimited");
}

static void classify(const struct element *el, size_t position, struct choice *text,
                     struct choice *om, struct choice *proto)
{
	const char *n = el->name;
	size_t len = el->name_len;
	int level;

	if (equals_nocase(n, len, "*/*")) {
		consider(text, 0, el->q, position);
	} else if (equals_nocase(n, len, "text/*")) {
		consider(text, 1, el->q, position);
	} else if (equals_nocase(n, len, "application/*")) {
		consider(om, 1, el->q, position);
	} else if (equals_nocase(n, len, "text/plain")) {
		/* 1.0.0 is what Prometheus 3 asks for; 0.0.4 output is valid 1.0.0 text. */
		level = exact_level(el, "0.0.4", "1.0.0");
		if (level >= 0)
			consider(text, level, el->q, position);
	} else if (equals_nocase(n, len, "application/openmetrics-text")) {
		/* 0.0.1 is the draft Prometheus still lists; our 1.0.0 output reads the same. */
		level = exact_level(el, "1.0.0", "0.0.1");
		if (level >= 0)
			consider(om, level, el->q, position);
	} else if (equals_nocase(n, len, "application/vnd.google.protobuf")) {
		if (is_delimited_metric_families(el))
			consider(proto, 3, el->q, position);
	}
}

/* The highest weight wins; a tie goes to the format listed first. q=0 means "not acceptable",
 * and when no format is acceptable we still answer in text, as client_golang does: an answer
 * the client may not have asked for beats a 406 that no scraper handles. Protobuf is served
 * only to a client that names it (no wildcard reaches it): it is no format to surprise anyone
 * with. */
enum expo_format negotiate_format(const char *accept)
{
	struct choice text = {-1, 0, 0}, om = {-1, 0, 0}, proto = {-1, 0, 0};
	const char *p = accept ? accept : "";

	for (size_t i = 0; *p; i++) {
		struct element el;
		p = next_element(p, true, &el);
		if (!el.bad)
			classify(&el, i, &text, &om, &proto);
	}
	struct {
		const struct choice *c;
		enum expo_format format;
	} ranked[] = {{&text, EXPO_TEXT}, {&om, EXPO_OPENMETRICS}, {&proto, EXPO_PROTOBUF}};
	const struct choice *best = &text;
	enum expo_format format = EXPO_TEXT;
	for (size_t i = 1; i < sizeof(ranked) / sizeof(ranked[0]); i++) {
		const struct choice *c = ranked[i].c;
		if (c->q > 0 &&
		    (c->q > best->q || (c->q == best->q && c->position < best->position))) {
			best = c;
			format = ranked[i].format;
		}
	}
	return format;
}

/* ---- Accept-Encoding ---- */

/* gzip when "gzip" (or its old alias "x-gzip") is listed with a weight above 0, or, when it is
 * not listed at all, "*" is. */
bool negotiate_gzip(const char *accept_encoding)
{
	int gzip_q = -1, any_q = -1;
	const char *p = accept_encoding ? accept_encoding : "";

	while (*p) {
		struct element el;
		p = next_element(p, false, &el);
		if (el.bad)
			continue;
		if (equals_nocase(el.name, el.name_len, "gzip") ||
		    equals_nocase(el.name, el.name_len, "x-gzip")) {
			if (el.q > gzip_q)
				gzip_q = el.q;
		} else if (equals_nocase(el.name, el.name_len, "*")) {
			if (el.q > any_q)
				any_q = el.q;
		}
	}
	return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}
