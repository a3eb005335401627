/* The daemon's own metrics: kobs_build_info and the standard process_* family set that every
 * Prometheus client library serves about its own process. */
#ifndef KOBS_SELF_H
#define KOBS_SELF_H

#include "expo.h"

struct self;

/* NULL if libproc2 cannot be set up (the rest of the daemon still works). */
struct self *self_new(void);
void self_free(struct self *s);
void self_collect(struct self *s, struct expo *out);
/* kobs_build_info{version,revision,...} 1 */
void self_build_info(struct expo *out);

#endif
