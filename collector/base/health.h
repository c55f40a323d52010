/*
 * The service's own health counters (requests, commits, connections),
 * bumped from any thread by the front and the storage, and their part of
 * the Prometheus exposition.  The figures' part is web/metrics.c's.
 */
#ifndef COLLECTOR_HEALTH_H
#define COLLECTOR_HEALTH_H

#include "../../common/text.h"

/* One answered request: its method (GET, HEAD, POST, PUT; any other is
 * counted as "other"), its status and how long it took. */
void health_request(const char *method, int status, double seconds);

/* One COMMIT of the store, its duration. */
void health_commit(double seconds);

/* A connection opened (+1) or closed (-1). */
void health_connection(int delta);

/* Append the health families to out; 0, or -1 out of memory. */
int health_render(struct buf *out);

#endif
