/* The HTML landing page served on "/". */
#ifndef KOBS_LANDING_H
#define KOBS_LANDING_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "scrape.h"

/* `privileges` (may be NULL) says what the daemon serves with: user, capabilities, filter. */
void landing_render(struct buf *out, const char *telemetry_path, const char *privileges,
                    const struct collector_status *collectors, size_t ncollectors, bool ready);

/* Append `s` with &, <, >, " and ' replaced by entities. */
void html_escape(struct buf *out, const char *s);

#endif
