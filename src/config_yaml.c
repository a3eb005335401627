#include "config_yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

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

static int check_events(yaml_parser_t *parser, const char *path, char *err, size_t errlen)
{
	int depth = 0, documents = 0;
	bool first_node = true;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(parser, &ev))
			return report(err, errlen, path, &parser->problem_mark,
			              parser->problem ? parser->problem : "invalid YAML");
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
	int rc = check_events(&parser, name, err, errlen);
	yaml_parser_delete(&parser);
	return rc;
}

char *config_yaml_read(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		report(err, errlen, path, NULL, strerror(errno));
		return NULL;
	}
	static const size_t limit = CONFIG_MAX_BYTES;
	char *text = malloc(limit + 1);
	size_t n = text ? fread(text, 1, limit + 1, f) : 0;
	int read_failed = ferror(f);
	fclose(f);
	if (!text || read_failed) {
		free(text);
		report(err, errlen, path, NULL, "cannot read the file");
		return NULL;
	}
	if (n > limit) {
		free(text);
		report(err, errlen, path, NULL, "larger than 1 MiB; is this the right file?");
		return NULL;
	}
	text[n] = '\0';
	*len = n;
	return text;
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
