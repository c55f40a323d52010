/* libFuzzer target: report_validate (collector/validate.c) on any body,
 * for a fixed server id.  Besides the sanitizers, it checks what
 * validate.h promises: an object (whose id is the server's) on success,
 * and otherwise no object and one printable line naming a field. */
#include <stdio.h>
#include <string.h>

#include "../collector/web/validate.h"
#include "fuzz.h"

#define ID "3f1e8a52-7c2b-4d9e-8a61-0b5c4e2f9d17"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *out = (json_t *)&err;	/* must be overwritten either way */
	int rc;

	/* the body is not NUL-terminated: validate reads size bytes only */
	rc = report_validate((const char *)data, size, ID, &out, err, sizeof err);
	if (rc == 0) {
		json_t *id;

		FUZZ_CHECK(out != NULL && json_is_object(out));
		id = json_object_get(out, "id");
		FUZZ_CHECK(json_is_string(id) && strcmp(json_string_value(id), ID) == 0);
		/* what is stored must serialise again */
		char *again = json_dumps(out, JSON_COMPACT);
		FUZZ_CHECK(again != NULL);
		free(again);
		json_decref(out);
	} else {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(out == NULL);
		FUZZ_CHECK(err[0] != '\0' && strstr(err, ": ") != NULL);
		FUZZ_CHECK(fuzz_printable(err));
	}
	return 0;
}
