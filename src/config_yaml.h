/* The YAML underneath --config.file: reading the file, and the limits every config text must
 * meet before its sections are read (at most 1 MiB, one document, a mapping at the top, nesting
 * at most 32 deep, no aliases). Errors read "FILE:LINE:COLUMN: what is wrong". */
#ifndef KOBS_CONFIG_YAML_H
#define KOBS_CONFIG_YAML_H

#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

/* Config files are small; anything bigger than this is a mistake (or hostile). */
#define CONFIG_MAX_BYTES (1024 * 1024)
/* Deep nesting is the classic way to exhaust a recursive consumer. */
#define CONFIG_MAX_DEPTH 32

/* Read the whole file into a NUL-terminated heap buffer the caller frees: a regular file of at
 * most CONFIG_MAX_BYTES, read without ever blocking (regular_file.h). Returns NULL with
 * "FILE: what is wrong" in `err`. */
char *config_yaml_read(const char *path, size_t *len, char *err, size_t errlen);
/* Check `len` bytes of YAML against the limits above. Returns 0, or -1 with the message. */
int config_yaml_check(const char *name, const char *text, size_t len, char *err, size_t errlen);

/* Why `parser` stopped on `len` bytes of `text`, as "NAME:LINE:COLUMN: problem": also for a
 * byte YAML does not allow (a NUL, invalid UTF-8), which libyaml locates by offset only. Returns
 * -1. */
int config_yaml_parser_error(const yaml_parser_t *parser, const char *name, const char *text,
                             size_t len, char *err, size_t errlen);

/* Write "NAME:LINE:COLUMN: " (1-based, from `mark`; "NAME: " when it is NULL) and the formatted
 * message into `err`. Returns -1, for `return config_yaml_error(...)`. */
int config_yaml_error(char *err, size_t errlen, const char *name, const yaml_mark_t *mark,
                      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
