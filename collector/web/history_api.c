/* The history's two answers (history_api.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/clock.h"
#include "../stats/history.h"
#include "../stats/stats.h"
#include "fleet.h"
#include "history_api.h"

static const char JSON_PATH[] = "/api/v1/history";
static const char CSV_PATH[] = "/api/v1/history.csv";
static const char CSV_TYPE[] = "text/csv; charset=utf-8";

/*
 * The answers, cached: the rows change only when the periodic job writes
 * the day's history (stats_history_generation), and the dump of 400 days
 * of every dimension is megabytes.  An answer is kept while the
 * generation and the UTC day are those it was made in, and at most
 * CACHE_MAX_S; CACHE_SLOTS answers (path, dimension, days), the oldest
 * replaced.
 */
#define CACHE_SLOTS 8
#define CACHE_MAX_S 120

struct cached {
	char key[64];		/* "c|module|400" */
	char day[11];
	unsigned gen;
	time_t made;		/* collector_now() */
	char *body;
	size_t len;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached cache[CACHE_SLOTS];

/* A copy of the cached answer for key, or NULL. */
static char *
cache_get(const char *key, const char *day, time_t now)
{
	char *copy = NULL;
	unsigned gen = stats_history_generation();

	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct cached *c = &cache[i];

		if (c->body == NULL || strcmp(c->key, key) != 0)
			continue;
		if (c->gen == gen && strcmp(c->day, day) == 0 &&
		    now >= c->made && now - c->made < CACHE_MAX_S &&
		    (copy = malloc(c->len + 1)) != NULL)
			memcpy(copy, c->body, c->len + 1);
		break;
	}
	pthread_mutex_unlock(&cache_lock);
	return copy;
}

static void
cache_put(const char *key, const char *day, unsigned gen, time_t now,
    const char *body)
{
	size_t len = strlen(body), slot = 0;
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return;
	memcpy(copy, body, len + 1);
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].body == NULL || strcmp(cache[i].key, key) == 0) {
			slot = i;
			break;
		}
		if (cache[i].made < cache[slot].made)
			slot = i;
	}
	free(cache[slot].body);
	snprintf(cache[slot].key, sizeof cache[slot].key, "%s", key);
	snprintf(cache[slot].day, sizeof cache[slot].day, "%s", day);
	cache[slot].gen = gen;
	cache[slot].made = now;
	cache[slot].body = copy;
	cache[slot].len = len;
	pthread_mutex_unlock(&cache_lock);
}

bool
history_api_path(const char *path)
{
	return strcmp(path, JSON_PATH) == 0 || strcmp(path, CSV_PATH) == 0;
}

/* The dump: one line a point, cells as COLLECTOR.md §6 wants them. */
static char *
history_csv(const struct history *h)
{
	struct buf b = { 0 };
	static const char head[] = "day,dimension,key,servers\r\n";
	int rc = buf_append(&b, head, sizeof head - 1);

	for (size_t i = 0; rc == 0 && i < h->n; i++) {
		const struct history_point *p = &h->points[i];
		char n[32];

		snprintf(n, sizeof n, ",%ld\r\n", p->servers);
		rc = buf_append(&b, p->day, strlen(p->day)) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, p->dimension) < 0 ||
		    buf_append(&b, ",", 1) < 0 ||
		    fleet_csv_cell(&b, p->key) < 0 ||
		    buf_append(&b, n, strlen(n)) < 0 ? -1 : 0;
	}
	if (rc < 0 || buf_append(&b, "", 1) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

void
history_api_respond(struct api_request *req)
{
	const struct collector_config *cfg = req->app->cfg;
	bool csv = strcmp(req->path, CSV_PATH) == 0;
	const char *dim = api_arg(req, "dimension");
	const char *days_arg = api_arg(req, "days");
	long days = cfg->history_days;
	struct stat_rows rows = { 0 };
	struct history h;
	char since[11], today[11], err[256], msg[160], key[64], *cached;
	time_t now;
	unsigned gen;

	if (dim == NULL && !csv)
		dim = "servers";
	if (dim != NULL && !history_dimension_known(dim)) {
		snprintf(msg, sizeof msg, "dimension: not one of "
		    HISTORY_DIMENSION_LIST);
		api_error(&req->resp, 400, msg);
		return;
	}
	if (days_arg != NULL &&
	    (days = history_parse_days(days_arg, cfg->history_days)) < 0) {
		snprintf(msg, sizeof msg, "days: not a whole number from 1 to "
		    "history_days (%ld)", cfg->history_days);
		api_error(&req->resp, 400, msg);
		return;
	}
	now = collector_now();
	gen = stats_history_generation();
	stats_utc_day(now, today);
	snprintf(key, sizeof key, "%c|%s|%ld", csv ? 'c' : 'j', dim != NULL ?
	    dim : "", days);
	if ((cached = cache_get(key, today, now)) != NULL) {
		free(req->resp.body);
		req->resp.body = cached;
		req->resp.status = 200;
		req->resp.content_type = csv ? CSV_TYPE : "application/json";
		return;
	}
	stats_history_since(now, days, since);
	if (store_stats_history(req->app->store, since, dim != NULL ?
	    history_stored_dimension(dim) : NULL, NULL, &rows, err,
	    sizeof err) < 0) {
		stat_rows_free(&rows);
		fprintf(stderr, "beacon-collector: history: %s\n", err);
		req->resp.retry_after = 60;
		api_error(&req->resp, 503, "database unavailable");
		return;
	}
	if (history_build(&rows, dim, cfg->min_group, cfg->lifecycle_data,
	    &h) < 0) {
		stat_rows_free(&rows);
		api_error(&req->resp, 503, "out of memory");
		return;
	}
	stat_rows_free(&rows);
	if (csv) {
		free(req->resp.body);
		req->resp.body = history_csv(&h);
		req->resp.status = req->resp.body != NULL ? 200 : 503;
		req->resp.content_type = CSV_TYPE;
		if (req->resp.body == NULL)
			api_error(&req->resp, 503, "out of memory");
	} else {
		api_respond_json(&req->resp, 200, history_to_json(&h, dim, days,
		    cfg->min_group));
	}
	history_free(&h);
	if (req->resp.status == 200 && req->resp.body != NULL)
		cache_put(key, today, gen, now, req->resp.body);
}
