/* The configuration file (--config.file, YAML). This foundation checks that the file is
 * well-formed YAML whose top level is a mapping, and reports the file, line and column of what
 * is wrong; the collectors' sections are read by the collectors that own them. */
#ifndef KOBS_CONFIG_FILE_H
#define KOBS_CONFIG_FILE_H

#include <stddef.h>

/* Returns 0, or -1 with "FILE:LINE:COLUMN: what is wrong" in `err`. */
int config_check(const char *path, char *err, size_t errlen);
/* The same for text already in memory; `name` stands for the file in messages. */
int config_check_buffer(const char *name, const char *text, size_t len, char *err, size_t errlen);

#endif
