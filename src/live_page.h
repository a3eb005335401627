/* The live view served on /live: one self-contained HTML page (no external assets, no build
 * step) that shows the slow events as they arrive (an EventSource on /api/events) and the last
 * ten minutes of each group's main figures, computed in the page from /metrics fetched every
 * five seconds. The daemon keeps no history for it: the figures start when the page opens. */
#ifndef KOBS_LIVE_PAGE_H
#define KOBS_LIVE_PAGE_H

#include "buf.h"

void live_page_render(struct buf *out, const char *telemetry_path);

#endif
