/* libFuzzer target: how a report is kept small (collector/store/pack.c,
 * issue 24) on any two JSON texts, the input cut at its first NUL.  It
 * checks the promise of COLLECTOR.md §5 that a report stays recoverable:
 * a report packed then unpacked is equal as JSON to what was received;
 * the report before, kept as a diff against the latest, comes back equal;
 * and a summary made of the report, split into its module lines and the
 * rest, joins back byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../collector/base/summary.h"
#include "../collector/store/pack.h"
#include "fuzz.h"

#define CHECK_OR_ABORT(c) do { if (!(c)) abort(); } while (0)

/* text equals, as JSON, the object want (or both fail to parse). */
static void
check_same(const char *text, json_t *want)
{
	json_t *got = text != NULL ? json_loads(text, 0, NULL) : NULL;

	CHECK_OR_ABORT(got != NULL && json_equal(got, want));
	json_decref(got);
}

static void
check_summary(const json_t *report)
{
	char *summary = stats_summary(report, 1764590400), *shared = NULL;
	char *own = NULL, *joined, hash[PACK_HASH_LEN + 1];

	if (summary == NULL)
		return;
	if (summary_split(summary, &shared, hash, &own) == 0) {
		joined = summary_join(own, shared);
		CHECK_OR_ABORT(joined == NULL ? summary[0] == '\0' :
		    strcmp(joined, summary) == 0);
		free(joined);
	}
	free(shared);
	free(own);
	free(summary);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t la = nul != NULL ? (size_t)(nul - data) : size;
	const char *a = (const char *)data, *b = nul != NULL ? (const char *)nul + 1 : NULL;
	size_t lb = nul != NULL ? size - la - 1 : 0;
	struct packed pa = { 0 }, pb = { 0 };
	json_t *ja = json_loadb(a, la, 0, NULL);
	json_t *jb = b != NULL ? json_loadb(b, lb, 0, NULL) : NULL;

	if (ja != NULL && json_is_object(ja) && report_pack(a, la, &pa) == 0) {
		char *back = report_unpack(pa.rest, pa.modules);

		check_same(back, ja);
		free(back);
		check_summary(ja);
		if (jb != NULL && json_is_object(jb) &&
		    report_pack(b, lb, &pb) == 0) {
			char *diff = report_diff(pa.rest, pb.rest), *prev;
			json_t *want = json_loads(pa.rest, 0, NULL);

			CHECK_OR_ABORT(diff != NULL && want != NULL);
			prev = report_undiff(pb.rest, diff);
			check_same(prev, want);
			free(prev);
			free(diff);
			json_decref(want);
		}
	}
	packed_free(&pa);
	packed_free(&pb);
	json_decref(ja);
	json_decref(jb);
	return 0;
}
