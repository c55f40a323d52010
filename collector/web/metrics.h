/*
 * GET /metrics: the Prometheus text exposition format 0.0.4 (STYLE.md §4
 * item 8): the statistics' aggregates (k-anonymity already applied by
 * stats_build) and the collector's own health.  The observers are called
 * from any thread (lock-free counters).
 */
#ifndef COLLECTOR_METRICS_H
#define COLLECTOR_METRICS_H

#include "stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One answered request: its method (GET, HEAD, POST, PUT; any other is
 * counted as "other"), status and duration. */
void metrics_request(const char *method, int status, double seconds);

/* One COMMIT of the store, its duration. */
void metrics_commit(double seconds);

/* A connection opened (+1) or closed (-1). */
void metrics_connection(int delta);

/* The whole exposition (malloc'd); s may be NULL (health only). */
char *metrics_render(const struct stats *s);

/* "\\", "\"" and newline escaped, as a label value must be (malloc'd). */
char *metrics_escape(const char *value);

#endif
