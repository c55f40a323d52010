/* libFuzzer target: retry_parse (store/retry.c), the state file that
 * anyone with write access to state_dir could have changed, and
 * astdb_parse_machine (store/machine.c) on any `database show` text. */
#include <stdlib.h>

#include "../store/history.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	struct retry_state rs;
	char out[64];

	if (text == NULL)
		return 0;
	if (retry_parse(text, &rs) == 0) {
		FUZZ_CHECK(rs.failures <= 1000000);
		FUZZ_CHECK(rs.last_exit_code >= -1 && rs.last_exit_code < 256);
	} else {
		FUZZ_CHECK(rs.failures == 0 && rs.last_exit_code == -1);
	}
	if (astdb_parse_machine(text, "beacon/mylab", out, sizeof out))
		FUZZ_CHECK(strlen(out) < sizeof out && strchr(out, '\n') == NULL);
	free(text);
	return 0;
}
