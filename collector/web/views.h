/*
 * The HTML pages and the operator's API (COLLECTOR.md §6), routed from
 * api_begin with one call: GET /, /fleet, /fleet/{id}, /api/v1/fleet,
 * /api/v1/fleet.csv and /api/v1/fleet/{id}.  Everything is answered at
 * once (reads only), from the MHD thread.
 */
#ifndef COLLECTOR_VIEWS_H
#define COLLECTOR_VIEWS_H

#include <stdbool.h>

#include "request.h"

/* True when the path is one of the views': req->resp is then set
 * (request_wait > 0: 429).  False: not ours, nothing set. */
bool views_begin(struct api_request *req, long request_wait);

#endif
