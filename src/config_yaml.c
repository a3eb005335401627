#include "config_yaml.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "regular_file.h"

static int report(char *err, size_t errlen, const char *path, const yaml_mark_t *mark,
                  const char *what)
{
	if (mark)
		snprintf(err, errlen, "%s:%zu:%zu: %s", path, mark->line + 1, mark->column + 1,
		         what);
	else
		snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

enum text_encoding { UTF8, UTF16LE, UTF16BE };

/* The character at text[i] and its width in bytes. Only line breaks need to come out exact: the
 * rest is counted, not read. */
static unsigned long char_at(const unsigned char *t, size_t len, size_t i, enum text_encoding enc,
                             size_t *width)
{
	if (enc != UTF8) {
		if (i + 1 >= len) {
			*width = len - i;
			return 0;
		}
		unsigned long c = enc == UTF16LE
		                      ? (unsigned long)t[i] | (unsigned long)t[i + 1] << 8
		                      : (unsigned long)t[i] << 8 | t[i + 1];
		*width = c >= 0xd800 && c <= 0xdbff ? 4 : 2; /* a surrogate pair is one character */
		return c;
	}
	unsigned long c = t[i];
	*width = 1;
	if ((c & 0xe0) == 0xc0 && i + 1 < len) {
		*width = 2;
		c = (c & 0x1f) << 6 | (t[i + 1] & 0x3f);
	} else if ((c & 0xf0) == 0xe0 && i + 2 < len) {
		*width = 3;
		c = (c & 0x0f) << 12 | (unsigned long)(t[i + 1] & 0x3f) << 6 | (t[i + 2] & 0x3f);
	} else if ((c & 0xf8) == 0xf0) {
		*width = 4;
	}
	return c;
}

/* The line and column (0-based, in characters, as libyaml's marks count them) of the byte at
 * `offset`. libyaml reads UTF-8, or UTF-16 after a byte order mark; its line breaks are LF, CR,
 * CR LF, NEL, LS and PS. */
static yaml_mark_t mark_of_offset(const unsigned char *text, size_t len, size_t offset)
{
	yaml_mark_t mark = {0};
	enum text_encoding enc = UTF8;
	size_t i = 0;
	if (len >= 2 && text[0] == 0xff && text[1] == 0xfe)
		enc = UTF16LE, i = 2;
	else if (len >= 2 && text[0] == 0xfe && text[1] == 0xff)
		enc = UTF16BE, i = 2;
	else if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	if (offset > len)
		offset = len;
	while (i < offset) {
		size_t width, next_width;
		unsigned long c = char_at(text, len, i, enc, &width);
		if (c == '\r' && i + width < len &&
		    char_at(text, len, i + width, enc, &next_width) == '\n')
			width += next_width; /* CR LF is one line break */
		if (c == '\n' || c == '\r' || c == 0x85 || c == 0x2028 || c == 0x2029) {
			mark.line++;
			mark.column = 0;
		} else {
			mark.column++;
		}
		i += width;
	}
	mark.index = offset;
	return mark;
}

int config_yaml_parser_error(const yaml_parser_t *parser, const char *name, const char *text,
                             size_t len, char *err, size_t errlen)
{
	const char *problem = parser->problem ? parser->problem : "invalid YAML";
	if (parser->error != YAML_READER_ERROR)
		return report(err, errlen, name, &parser->problem_mark, problem);
	/* A reader error (a byte or character YAML does not allow) comes with the offset of the
	 * byte; its mark is left at the start. */
	yaml_mark_t mark = mark_of_offset((const unsigned char *)text, len, parser->problem_offset);
	char what[160];
	int value = parser->problem_value;
	if (value == 0)
		snprintf(what, sizeof(what), "%s (a NUL byte)", problem);
	else if (value > 0 && strstr(problem, "octet"))
		snprintf(what, sizeof(what), "%s (byte 0x%02X)", problem, (unsigned)value);
	else if (value > 0)
		snprintf(what, sizeof(what), "%s (U+%04X)", problem, (unsigned)value);
	else
		snprintf(what, sizeof(what), "%s", problem);
	return report(err, errlen, name, &mark, what);
}

static int check_events(yaml_parser_t *parser, const char *path, const char *text, size_t len,
                        char *err, size_t errlen)
{
	int depth = 0, documents = 0;
	bool first_node = true;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(parser, &ev))
			return config_yaml_parser_error(parser, path, text, len, err, errlen);
		yaml_event_type_t type = ev.type;
		yaml_mark_t mark = ev.start_mark;
		yaml_event_delete(&ev);

		switch (type) {
		case YAML_STREAM_END_EVENT:
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1)
				return report(err, errlen, path, &mark,
				              "only one YAML document is allowed");
			first_node = true;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (first_node && type != YAML_MAPPING_START_EVENT)
				return report(err, errlen, path, &mark,
				              "the top level must be a mapping of settings");
			first_node = false;
			if (++depth > CONFIG_MAX_DEPTH)
				return report(err, errlen, path, &mark, "nested too deeply");
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			/* An alias shares its anchor's node, and a walk over the document would
			 * visit it once per reference: nine nested aliases of nine are a billion
			 * visits. */
			return report(err, errlen, path, &mark,
			              "aliases (*name) are not supported; write the value out");
		case YAML_SCALAR_EVENT:
			/* An empty file parses as one empty scalar: no settings at all. */
			first_node = false;
			break;
		default:
			break;
		}
	}
}

int config_yaml_check(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return report(err, errlen, name, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int rc = check_events(&parser, name, text, len, err, errlen);
	yaml_parser_delete(&parser);
	return rc;
}

char *config_yaml_read(const char *path, size_t *len, char *err, size_t errlen)
{
	return regular_file_read(path, CONFIG_MAX_BYTES, len, err, errlen);
}

int config_yaml_error(char *err, size_t errlen, const char *name, const yaml_mark_t *mark,
                      const char *fmt, va_list ap)
{
	int n = mark ? snprintf(err, errlen, "%s:%zu:%zu: ", name, mark->line + 1, mark->column + 1)
	             : snprintf(err, errlen, "%s: ", name);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -1;
}
