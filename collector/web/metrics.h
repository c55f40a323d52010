/*
 * GET /metrics: the Prometheus text exposition format 0.0.4 (STYLE.md §4
 * item 8): the statistics' aggregates (k-anonymity already applied by
 * stats_build) and the collector's own health (base/health.h).
 */
#ifndef COLLECTOR_METRICS_H
#define COLLECTOR_METRICS_H

#include "../stats/stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The whole exposition (malloc'd); s may be NULL (health only). */
char *metrics_render(const struct stats *s);

/* "\\", "\"" and newline escaped, as a label value must be (malloc'd). */
char *metrics_escape(const char *value);

#endif
