/*
 * How a server's data is kept small (COLLECTOR.md §5, issue 24), for the
 * backends only: pure functions, no database.
 *
 * A report is stored as its "rest": the report as received with
 * asterisk.modules replaced by the SHA-256 (hex) of the modules array's
 * canonical form (jansson's compact dump, in the order received); the
 * array itself is kept once per distinct content in module_sets(hash,
 * body).  The report before the latest is stored as a diff of its rest
 * against the latest's (report_diff).  A summary (base/summary.h) is split
 * the same way: the lines of the module dimensions, which most servers of
 * one version share, go to module_sets too; the rest stays with the
 * server.  Everything is recoverable: equal as JSON to what was received
 * (key order kept, but for keys only one of two reports had), and the
 * summary byte for byte.
 */
#ifndef COLLECTOR_STORE_PACK_H
#define COLLECTOR_STORE_PACK_H

#include <stddef.h>

#include <jansson.h>

#define PACK_HASH_LEN 64	/* hex SHA-256 */

/* A report as stored; every string malloc'd, freed by packed_free. */
struct packed {
	char *rest;			/* NULL: not packed (not JSON) */
	char *modules;			/* the array, NULL: none */
	char hash[PACK_HASH_LEN + 1];	/* of modules, "" when none */
};

/* Split a report (its text, len bytes).  0, or -1 when it is not a JSON
 * object or out of memory. */
int report_pack(const char *report, size_t len, struct packed *out);
/* The same from the report already parsed (not changed). */
int report_pack_json(const json_t *report, struct packed *out);
void packed_free(struct packed *p);

/* The report as received from its rest and its modules array (NULL: the
 * rest had none); malloc'd, NULL when either is not JSON or out of
 * memory. */
char *report_unpack(const char *rest, const char *modules);

/* What turns latest (a rest) back into prev (a rest): a JSON object,
 * malloc'd; NULL when either is not a JSON object or out of memory. */
char *report_diff(const char *prev, const char *latest);

/* prev from latest and report_diff(prev, latest); malloc'd or NULL. */
char *report_undiff(const char *latest, const char *diff);

/* The hex SHA-256 of len bytes. */
void pack_hash(const char *data, size_t len, char out[PACK_HASH_LEN + 1]);

/* Split a summary into the lines of the module dimensions (*shared, NULL
 * when there are none, its hash in shared_hash, "" then) and the others
 * (*own); both malloc'd, sorted as the summary was.  0 or -1. */
int summary_split(const char *summary, char **shared,
    char shared_hash[PACK_HASH_LEN + 1], char **own);

/* The summary again: the merge of own and shared (either NULL: none);
 * malloc'd, NULL when out of memory or both are NULL. */
char *summary_join(const char *own, const char *shared);

/* One server's row of schema 4 in schema 5's forms (the migration's). */
struct pack_row {
	struct packed latest, prev;	/* latest.rest NULL: no report */
	char *prev_diff;		/* NULL: no previous report */
	char *summary_own, *summary_shared;	/* NULL: none */
	char summary_hash[PACK_HASH_LEN + 1];
};

/* From the stored report, previous report and summary (each NULL when
 * none).  0, or -1 when one of them is not what a collector stored or out
 * of memory. */
int pack_row_v4(struct pack_row *row, const char *report,
    const char *previous, const char *summary);
void pack_row_free(struct pack_row *row);

#endif
