/* The registry: every collector the daemon knows, in the order their metrics are served. */
#ifndef KOBS_COLLECTORS_H
#define KOBS_COLLECTORS_H

#include <stddef.h>
#include <stdio.h>

#include "collector.h"

size_t collectors_count(void);
const struct collector_ops *collectors_at(size_t i);
/* NULL when no collector has that name. */
const struct collector_ops *collectors_find(const char *name);
/* "system, processes": for error messages. Returns `out`. */
const char *collectors_names(char *out, size_t len);
/* One line per collector for --help. */
void collectors_usage(FILE *out);

#endif
