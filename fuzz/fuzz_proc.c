/* libFuzzer target: the /proc parsers of collect/system.c
 * (proc_parse_meminfo, proc_parse_uptime, proc_parse_cpuinfo), each on
 * the same input. */
#include <stdlib.h>

#include "../collect/collect.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	long long kb = -7, secs = -7;
	long cpus;
	int rc;

	if (text == NULL)
		return 0;
	rc = proc_parse_meminfo(text, &kb);
	FUZZ_CHECK((rc == 0 && kb >= 0) || (rc == -1 && kb == -7));
	rc = proc_parse_uptime(text, &secs);
	FUZZ_CHECK((rc == 0 && secs >= 0) || (rc == -1 && secs == -7));
	cpus = proc_parse_cpuinfo(text);
	FUZZ_CHECK(cpus == -1 || cpus > 0);
	free(text);
	return 0;
}
