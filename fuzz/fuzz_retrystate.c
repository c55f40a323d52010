/* libFuzzer target: retry_parse (store/retry.c), the state file that
 * anyone with write access to state_dir could have changed, and
 * astdb_parse_machine (store/machine.c) on any `database show` text,
 * and notice_file_parse (store/notices.c), the kept notices: what it
 * accepts is written back as a text it reads to the same. */
#include <stdlib.h>
#include <string.h>

#include "../store/history.h"
#include "../store/notices.h"
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
	{
		struct notice_file nf, again;
		char *back;

		if (notice_file_parse(text, &nf) == 0) {
			FUZZ_CHECK(nf.list.n <= NOTICE_MAX);
			FUZZ_CHECK(nf.nshown <= NOTICE_SHOWN_MAX);
			back = notice_file_text(&nf);
			if (back != NULL) {
				FUZZ_CHECK(notice_file_parse(back, &again) == 0);
				FUZZ_CHECK(again.list.n == nf.list.n &&
				    again.nshown == nf.nshown);
				for (size_t i = 0; i < nf.list.n; i++)
					FUZZ_CHECK(strcmp(again.list.item[i].text,
					    nf.list.item[i].text) == 0);
			}
			free(back);
		} else {
			FUZZ_CHECK(nf.list.n == 0 && nf.nshown == 0);
		}
	}
	if (astdb_parse_machine(text, "beacon/mylab", out, sizeof out))
		FUZZ_CHECK(strlen(out) < sizeof out && strchr(out, '\n') == NULL);
	free(text);
	return 0;
}
