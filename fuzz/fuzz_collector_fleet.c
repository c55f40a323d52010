/* libFuzzer target: the fleet view's query on any bytes
 * (collector/web/fleet_query.c) and a server's changes between two
 * reports (collector/base/changes.c).  The input is two strings split at
 * the first newline: versions as reports send them, then ?sort= and
 * ?order=, then two reports.  It checks that version order is a total
 * order (reflexive, antisymmetric), that a version matches itself, that
 * a sort parsed is a column whose name parses back, and that the changes
 * are at most CHANGES_MAX rows, each with a kind and a detail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../collector/base/changes.h"
#include "../collector/web/fleet_query.h"
#include "fuzz.h"

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = fuzz_cstring(data, size), *b;
	struct change_list l;
	enum fleet_col col, col2;
	bool desc, desc2;

	if (a == NULL)
		return 0;
	b = strchr(a, '\n');
	if (b != NULL)
		*b++ = '\0';
	else
		b = a + strlen(a);

	FUZZ_CHECK(fleet_version_cmp(a, a) == 0);
	FUZZ_CHECK(sign(fleet_version_cmp(a, b)) == -sign(fleet_version_cmp(b, a)));
	FUZZ_CHECK(fleet_version_match(a, a));
	FUZZ_CHECK(fleet_contains(a, a));
	FUZZ_CHECK(fleet_contains(a, ""));
	(void)fleet_version_match(a, b);
	(void)fleet_contains(a, b);

	if (fleet_sort_parse(a, b, &col, &desc)) {
		FUZZ_CHECK(col < COL_COUNT);
		FUZZ_CHECK(fleet_sort_parse(fleet_col_name(col), desc ? "desc" :
		    "asc", &col2, &desc2) && col2 == col && desc2 == desc);
	}

	if (changes_between(a, strlen(a), b, strlen(b), &l) == 0) {
		FUZZ_CHECK(l.n <= CHANGES_MAX);
		for (size_t i = 0; i < l.n; i++)
			FUZZ_CHECK(l.v[i].kind != NULL && l.v[i].detail != NULL);
	}
	change_list_free(&l);
	free(a);
	return 0;
}
