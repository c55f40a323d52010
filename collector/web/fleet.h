/*
 * The fleet view (COLLECTOR.md §6), for the operator only (views.c checks
 * HTTP Basic first): every server with its private_name, version, last
 * seen, active or stale, module count, uptime and calls, filtered by
 * ?version=, ?module=, ?stale=1; one server's latest report and what
 * changed since the one before.  HTML, JSON and CSV of the same rows.
 */
#ifndef COLLECTOR_FLEET_H
#define COLLECTOR_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

/* True when path is one of the fleet's. */
bool fleet_path(const char *path);

/* Answer a fleet request (authenticated already): fills req->resp. */
void fleet_respond(struct api_request *req);

/* What changed between two reports (JSON text, either may be NULL). */
struct fleet_changes {
	char *version_from;		/* NULL: unchanged or unknown */
	char *version_to;
	char **added;			/* module names, sorted */
	size_t n_added;
	char **removed;
	size_t n_removed;
};

/* 0, or -1 when out of memory; free with fleet_changes_free. */
int fleet_diff(const char *previous, const char *latest,
    struct fleet_changes *out);
void fleet_changes_free(struct fleet_changes *c);

/* A cell for CSV (RFC 4180, and a leading = + - @ made inert), appended
 * to b; -1 when out of memory. */
int fleet_csv_cell(struct buf *b, const char *s);

#endif
