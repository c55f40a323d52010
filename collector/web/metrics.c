/*
 * The Prometheus exposition: one group per family, HELP and TYPE first
 * (collectd write_prometheus.c 184-232), label values escaped (112-147).
 * Every label set is bounded: the figures' groups are k-anonymous and
 * merged into "other" below min_group, methods are five, status codes
 * 100-599.  No server id anywhere.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/text.h"
#include "../base/health.h"
#include "metrics.h"

char *
metrics_escape(const char *v)
{
	struct buf b = { 0 };

	for (; v != NULL && *v != '\0'; v++) {
		const char *e = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" :
		    *v == '\n' ? "\\n" : NULL;
		if (buf_append(&b, e != NULL ? e : v, e != NULL ? 2 : 1) < 0) {
			buf_free(&b);
			return NULL;
		}
	}
	if (buf_append(&b, "", 1) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

struct out {
	struct buf b;
	bool bad;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line || buf_append(&o->b, line,
	    (size_t)n) < 0)
		o->bad = true;
}

static void
family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
labelled_list(struct out *o, const char *name, const char *label,
    const char *help, const struct stat_list *l)
{
	family(o, name, "gauge", help);
	for (size_t i = 0; i < l->n; i++) {
		char *v = metrics_escape(l->groups[i].key);
		if (v == NULL) {
			o->bad = true;
			return;
		}
		put(o, "%s{%s=\"%s\"} %ld\n", name, label, v,
		    l->groups[i].servers);
		free(v);
	}
}

static void
figures(struct out *o, const struct stats *s)
{
	family(o, "beacon_servers_known", "gauge", "Servers stored.");
	put(o, "beacon_servers_known %ld\n", s->servers_known);
	family(o, "beacon_servers_active", "gauge",
	    "Servers that reported within active_days.");
	put(o, "beacon_servers_active %ld\n", s->servers_active);
	family(o, "beacon_servers_new_7d", "gauge",
	    "Servers first seen in the last 7 days.");
	put(o, "beacon_servers_new_7d %ld\n", s->servers_new_7d);
	labelled_list(o, "beacon_servers", "version",
	    "Active servers by Asterisk version.", &s->versions);
	labelled_list(o, "beacon_servers_by_major", "major",
	    "Active servers by Asterisk major version.", &s->major_versions);
	labelled_list(o, "beacon_servers_lifecycle", "status",
	    "Active servers by the release lifecycle status of their Asterisk today "
	    "(eol, security, supported, unknown; fewer than min_group: other).",
	    &s->lifecycle);
	family(o, "beacon_module_servers", "gauge",
	    "Active servers listing each module (modules of at least min_group servers).");
	for (size_t i = 0; i < s->n_modules; i++) {
		char *v = metrics_escape(s->modules[i].name);
		if (v == NULL) {
			o->bad = true;
			return;
		}
		put(o, "beacon_module_servers{module=\"%s\"} %ld\n", v,
		    s->modules[i].servers);
		free(v);
	}
	labelled_list(o, "beacon_deprecated_module_servers", "module",
	    "Active servers running a module whose support level is deprecated.",
	    &s->deprecated);
	labelled_list(o, "beacon_channel_driver_servers", "driver",
	    "Active servers running each channel driver.", &s->channel_drivers);
	labelled_list(o, "beacon_os_servers", "sys_name",
	    "Active servers by operating system.", &s->sys_names);
	labelled_list(o, "beacon_machine_servers", "machine",
	    "Active servers by machine architecture.", &s->machines);
	labelled_list(o, "beacon_kernel_release_servers", "release",
	    "Active servers by kernel release.", &s->kernel_releases);
	if (s->countries.n > 0)		/* only with geoip_database */
		labelled_list(o, "beacon_country_servers", "country",
		    "Active servers by the country of the address they reported "
		    "from (ISO 3166 code; fewer than min_group: other).",
		    &s->countries);
	labelled_list(o, "beacon_uptime_servers", "uptime",
	    "Active servers by Asterisk uptime at their last report.",
	    &s->uptime_buckets);
	/* A sum one server makes up most of is not shown at all. */
	if (s->calls_active_total != STATS_HIDDEN) {
		family(o, "beacon_calls_active", "gauge",
		    "Active calls over the active servers, at their last report.");
		put(o, "beacon_calls_active %ld\n", s->calls_active_total);
	}
	if (s->calls_processed_total != STATS_HIDDEN) {
		family(o, "beacon_calls_processed", "gauge",
		    "Calls processed since start, summed over the active servers.");
		put(o, "beacon_calls_processed %ld\n", s->calls_processed_total);
	}
	family(o, "beacon_stats_min_group", "gauge",
	    "The k of k-anonymity: smaller groups are merged into \"other\".");
	put(o, "beacon_stats_min_group %ld\n", s->min_group);
	family(o, "beacon_stats_generated_timestamp_seconds", "gauge",
	    "When these figures were read.");
	put(o, "beacon_stats_generated_timestamp_seconds %lld\n",
	    (long long)s->generated);
}

char *
metrics_render(const struct stats *s)
{
	struct out o = { 0 };

	if (s != NULL)
		figures(&o, s);
	if (health_render(&o.b) < 0)
		o.bad = true;
	if (o.bad || buf_append(&o.b, "", 1) < 0) {
		buf_free(&o.b);
		return NULL;
	}
	return buf_steal(&o.b);
}
