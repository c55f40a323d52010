/* metrics_file (CONTRACT §9): the Prometheus text format that
 * node_exporter's textfile collector reads, one group per metric
 * (HELP, TYPE, then one sample per server), written to a temporary file
 * in the same directory and renamed, and only when the text changed, so
 * that a not-due run costs one read. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/text.h"
#include "files.h"
#include "history.h"

#define METRICS_MAX (1u << 20)

enum metric { M_SUCCESS, M_ATTEMPT, M_FAILURES, M_NEXT_DUE, M_EXIT, M__MAX };

static const struct {
	const char *name, *help;
} metrics[M__MAX] = {
	[M_SUCCESS] = {"beacon_report_last_success_timestamp_seconds",
	    "When the server last accepted a report."},
	[M_ATTEMPT] = {"beacon_report_last_attempt_timestamp_seconds",
	    "When a report was last tried."},
	[M_FAILURES] = {"beacon_report_consecutive_failures",
	    "Runs in a row that did not reach the server."},
	[M_NEXT_DUE] = {"beacon_report_next_due_timestamp_seconds",
	    "When the next report is due (the end of a back-off)."},
	[M_EXIT] = {"beacon_report_last_exit_code",
	    "The exit status of the server's last attempt (0 sent, 5 unreached, 6 rejected)."},
};

/* The sample of metric m for s; false when it has none. */
static bool
sample(const struct metrics_server *s, enum metric m, long long *v)
{
	switch (m) {
	case M_SUCCESS: *v = s->last_success; return s->has_success;
	case M_ATTEMPT: *v = s->last_attempt; return s->has_attempt;
	case M_FAILURES: *v = s->failures; return true;
	case M_NEXT_DUE: *v = s->next_due; return true;
	case M_EXIT: *v = s->last_exit_code; return s->last_exit_code >= 0;
	case M__MAX: break;
	}
	return false;
}

/* A label value with \, " and newline escaped (server names are
 * [A-Za-z0-9_.-] already; this is for safety). */
static int
append_label(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" :
		    *v == '\n' ? "\\n" : NULL;

		if (buf_append(b, esc ? esc : v, esc ? strlen(esc) : 1) < 0)
			return -1;
	}
	return 0;
}

char *
metrics_text(const struct metrics_server *servers, size_t n)
{
	struct buf b = {0};
	char line[512];
	int bad = 0;

	for (enum metric m = 0; m < M__MAX && !bad; m++) {
		snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s gauge\n",
		    metrics[m].name, metrics[m].help, metrics[m].name);
		bad = buf_append(&b, line, strlen(line)) < 0;
		for (size_t i = 0; i < n && !bad; i++) {
			long long v;

			if (!sample(&servers[i], m, &v))
				continue;
			snprintf(line, sizeof line, "%s{server=\"", metrics[m].name);
			bad = buf_append(&b, line, strlen(line)) < 0 ||
			    append_label(&b, servers[i].name) < 0;
			snprintf(line, sizeof line, "\"} %lld\n", v);
			bad = bad || buf_append(&b, line, strlen(line)) < 0;
		}
	}
	if (bad) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int
metrics_file_update(const char *path, const char *text)
{
	char *dcopy = strdup(path), *bcopy = strdup(path), *old = NULL;
	const char *dir, *base;
	size_t oldlen = 0;
	int dirfd = -1, rc = -1;

	if (dcopy == NULL || bcopy == NULL) {
		log_error("metrics_file %s: out of memory", path);
		goto out;
	}
	dir = dirname(dcopy);
	base = basename(bcopy);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		log_error("metrics_file %s: directory %s: %s", path, dir,
		    strerror(errno));
		goto out;
	}
	/* an unreadable old file is simply replaced */
	if (file_read(dirfd, base, "metrics_file", METRICS_MAX, &old, &oldlen) == 1 &&
	    oldlen == strlen(text) && memcmp(old, text, oldlen) == 0) {
		rc = 0;
		goto out;
	}
	/* 0644: node_exporter runs as its own user */
	rc = file_replace(dirfd, base, "metrics_file", text, strlen(text), 0644,
	    false) == 0 ? 1 : -1;
out:
	free(old);
	free(dcopy);
	free(bcopy);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
