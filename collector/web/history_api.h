/*
 * GET /api/v1/history?dimension=D&days=N (JSON) and GET
 * /api/v1/history.csv (day,dimension,key,servers: the open data dump):
 * the daily history of every public figure (COLLECTOR.md §6, issue 22),
 * read from the store at the request and made k-anonymous by
 * stats/history.c.
 */
#ifndef COLLECTOR_HISTORY_API_H
#define COLLECTOR_HISTORY_API_H

#include <stdbool.h>

#include "request.h"

/* True for the two paths. */
bool history_api_path(const char *path);

/* Answer req (a GET or HEAD of a history_api_path, access checked):
 * 200, 400 naming the bad argument, or 503. */
void history_api_respond(struct api_request *req);

#endif
