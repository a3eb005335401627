/* HTTP content negotiation for /metrics: which exposition format and whether gzip, from the
 * request's Accept and Accept-Encoding headers. Pure functions of the header text, so the tests
 * and fuzzers can drive them directly. */
#ifndef KOBS_NEGOTIATE_H
#define KOBS_NEGOTIATE_H

#include <stdbool.h>

#include "expo.h"

/* Pick the exposition format from an Accept header (NULL or empty: text): text, OpenMetrics, or
 * protobuf when the header names delimited MetricFamily messages. */
enum expo_format negotiate_format(const char *accept);
/* Whether an Accept-Encoding header (NULL: no) allows gzip. */
bool negotiate_gzip(const char *accept_encoding);

#endif
