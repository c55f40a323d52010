/* libFuzzer target: what issue 22 takes from a query (?days=, ?dimension=,
 * a module name in the path) and the history's k-anonymity
 * (collector/stats/history.c) on rows made of the input.  It checks that
 * days is accepted only as 1..max digits and then means its value, that a
 * module name accepted holds only its charset, and that no point of a
 * history names a group of fewer than min_group servers (the counts of
 * servers and "other" aside). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../collector/stats/history.h"
#include "../collector/web/modules.h"
#include "fuzz.h"

#define CHECK_OR_ABORT(c) do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);
	struct stat_rows rows = { 0 };
	struct history h;
	long days, k;
	char *line, *save = NULL;

	if (s == NULL)
		return 0;
	days = history_parse_days(s, 400);
	if (days != -1) {
		CHECK_OR_ABORT(days >= 1 && days <= 400);
		CHECK_OR_ABORT(strspn(s, "0123456789") == strlen(s));
		CHECK_OR_ABORT(strtol(s, NULL, 10) == days);
	}
	if (history_dimension_known(s))
		CHECK_OR_ABORT(strlen(s) < 16);
	if (module_name_valid(s, strlen(s))) {
		CHECK_OR_ABORT(strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == strlen(s));
		CHECK_OR_ABORT(s[0] != '.' && strlen(s) <= MODULE_NAME_MAX);
	}
	/* Rows "day dim key n" a line; k from the first byte. */
	k = size > 0 ? data[0] % 8 : 1;
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char day[11], dim[32], key[64];
		long long n;

		if (sscanf(line, "%10s %31s %63s %lld", day, dim, key, &n) == 4 &&
		    stat_rows_add(&rows.history, &rows.n_history, dim, key, n,
		    day) < 0)
			break;
	}
	if (history_build(&rows, NULL, k, NULL, &h) == 0) {
		for (size_t i = 0; i < h.n; i++) {
			const struct history_point *p = &h.points[i];
			CHECK_OR_ABORT(strcmp(p->dimension, "servers") == 0 ||
			    strcmp(p->key, "other") == 0 || p->servers >= k);
			CHECK_OR_ABORT(history_dimension_known(p->dimension));
		}
		json_decref(history_to_json(&h, "servers", 1, k));
		history_free(&h);
	}
	stat_rows_free(&rows);
	free(s);
	return 0;
}
