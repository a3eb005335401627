/* The configuration file (--config.file, YAML) as main() checks it: for --check-config and on
 * SIGHUP before anything changes. The check is the full one: the YAML limits (config_yaml.h) and
 * every section's schema (groups_config.h), so a file that passes here also loads. */
#ifndef KOBS_CONFIG_FILE_H
#define KOBS_CONFIG_FILE_H

#include <stddef.h>

/* Returns 0, or -1 with "FILE:LINE:COLUMN: what is wrong" in `err`. */
int config_check(const char *path, char *err, size_t errlen);
/* The same for text already in memory; `name` stands for the file in messages. */
int config_check_buffer(const char *name, const char *text, size_t len, char *err, size_t errlen);

#endif
