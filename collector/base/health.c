/*
 * The health counters: atomics, so that any thread bumps them without a
 * lock; read only to render /metrics.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "health.h"

#define N_METHODS 5
static const char *const methods[N_METHODS] = { "GET", "HEAD", "POST", "PUT",
	"other" };

/* Seconds; the request and commit histograms share them. */
#define N_BUCKETS 12
static const double bounds[N_BUCKETS] = { 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };

struct histogram {
	atomic_ullong buckets[N_BUCKETS];	/* not cumulative here */
	atomic_ullong count;
	atomic_ullong sum_us;			/* microseconds */
};

static atomic_ullong requests[N_METHODS][600];
static struct histogram request_hist, commit_hist;
static atomic_long connections;

static void
observe(struct histogram *h, double seconds)
{
	int i = 0;

	if (seconds < 0)
		seconds = 0;
	while (i < N_BUCKETS && seconds > bounds[i])
		i++;
	if (i < N_BUCKETS)
		atomic_fetch_add(&h->buckets[i], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_us, (unsigned long long)(seconds * 1e6));
}

void
health_request(const char *method, int status, double seconds)
{
	int m = N_METHODS - 1;

	for (int i = 0; i < N_METHODS - 1; i++)
		if (method != NULL && strcmp(method, methods[i]) == 0)
			m = i;
	if (status >= 100 && status < 600)
		atomic_fetch_add(&requests[m][status], 1);
	observe(&request_hist, seconds);
}

void
health_commit(double seconds)
{
	observe(&commit_hist, seconds);
}

void
health_connection(int delta)
{
	atomic_fetch_add(&connections, delta);
}

/* "# HELP" and "# TYPE" of a family. */
static int
family(struct buf *o, const char *name, const char *type, const char *help)
{
	return buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static int
histogram(struct buf *o, const char *name, const char *help,
    struct histogram *h)
{
	unsigned long long cum = 0, count = atomic_load(&h->count);
	int bad = family(o, name, "histogram", help);

	for (int i = 0; i < N_BUCKETS; i++) {
		cum += atomic_load(&h->buckets[i]);
		bad |= buf_printf(o, "%s_bucket{le=\"%g\"} %llu\n", name,
		    bounds[i], cum);
	}
	/* count is read first: +Inf never below a bucket. */
	if (cum < count)
		cum = count;
	bad |= buf_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
	bad |= buf_printf(o, "%s_sum %.6f\n", name,
	    (double)atomic_load(&h->sum_us) / 1e6);
	bad |= buf_printf(o, "%s_count %llu\n", name, cum);
	return bad;
}

int
health_render(struct buf *o)
{
	int bad = family(o, "beacon_collector_http_requests_total", "counter",
	    "HTTP requests answered, by method and status code.");

	for (int m = 0; m < N_METHODS; m++)
		for (int c = 100; c < 600; c++) {
			unsigned long long n = atomic_load(&requests[m][c]);
			if (n > 0)
				bad |= buf_printf(o,
				    "beacon_collector_http_requests_total"
				    "{method=\"%s\",code=\"%d\"} %llu\n",
				    methods[m], c, n);
		}
	bad |= histogram(o, "beacon_collector_http_request_duration_seconds",
	    "Time from a request's first byte to its answer.", &request_hist);
	bad |= histogram(o, "beacon_collector_commit_duration_seconds",
	    "Time of one COMMIT of the store (one group of reports).",
	    &commit_hist);
	bad |= family(o, "beacon_collector_open_connections", "gauge",
	    "Open HTTP connections.");
	bad |= buf_printf(o, "beacon_collector_open_connections %ld\n",
	    atomic_load(&connections));
	return bad ? -1 : 0;
}
