/*
 * Every module has a place (issue 22, COLLECTOR.md §6): GET /modules (all
 * modules of the k-anonymous figures, a server-side ?q= filter),
 * GET /modules/{name} (its share today and over time, status and support
 * level) and GET /modules/{name}.svg (a badge a module's README can embed:
 * "chan_sip · 7.7 % of PBXs").  Pages: one request, no script.
 */
#ifndef COLLECTOR_MODULES_H
#define COLLECTOR_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

#define MODULE_NAME_MAX 128

/* A module name as a path may carry it: 1 to MODULE_NAME_MAX bytes of
 * [A-Za-z0-9_.+-], not starting with a dot.  Checked before the name
 * reaches a query or a page. */
bool module_name_valid(const char *name, size_t len);

/* True for /modules, /modules/ and /modules/{anything}. */
bool modules_path(const char *path);

/* Answer req (GET or HEAD of a modules_path, access checked). */
void modules_respond(struct api_request *req);

#endif
