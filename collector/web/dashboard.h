/*
 * GET /: the public dashboard (COLLECTOR.md §6), one server-rendered page
 * of a struct stats (already k-anonymous: stats_snapshot applies
 * min_group), with inline SVG charts and a table beside each.  No script,
 * nothing from another origin.
 *
 * The page shell (head, the one stylesheet, header and footer) is shared
 * with the fleet pages, and so is the Content-Security-Policy, whose
 * style-src is the SHA-256 of that stylesheet.
 */
#ifndef COLLECTOR_DASHBOARD_H
#define COLLECTOR_DASHBOARD_H

#include "html.h"
#include "../stats/stats.h"

/* The Content-Security-Policy of every page (static, computed once). */
const char *dashboard_csp(void);

/* <!DOCTYPE html> ... <body><header>: title is text (escaped); nav names
 * the current section ("stats" or "fleet"). */
void dashboard_page_open(struct html *h, const char *title, const char *nav);

/* </main><footer> ... </html>. */
void dashboard_page_close(struct html *h);

/* t as "1 Dec 2026, 18:00 UTC", into out. */
void dashboard_human_time(time_t t, char *out, size_t outlen);

/* The whole page of s; NULL when out of memory. */
char *dashboard_render(const struct stats *s);

#endif
