/* libFuzzer target: the two parsers of outside input in collector/front/
 * http.c that do not need a connection.  The input is split at its first
 * NUL: before it, a request path for http_loggable_path; after it, up to
 * HTTP_MAX_XFF_LINES X-Forwarded-For header lines (split at newlines) for
 * http_forwarded_client.  Besides the sanitizers, it checks what http.h
 * promises: a logged path holds only its few characters and never a
 * token; a forwarded client is a numeric address that is not a trusted
 * proxy, or a trusted one when every entry is. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../collector/front/http.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path, *xff, *logged;
	const char *lines[HTTP_MAX_XFF_LINES];
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul != NULL ? (size_t)(nul - data) : size;
	char trusted0[] = "127.0.0.1", trusted1[] = "2001:db8::1";
	struct collector_config cfg = { .n_trusted_proxies = 2 };
	char out[64] = "untouched";
	unsigned char bin[16];
	int n = 0;

	cfg.trusted_proxies[0] = trusted0;
	cfg.trusted_proxies[1] = trusted1;
	path = strndup((const char *)data, plen);
	xff = nul != NULL ? strndup((const char *)nul + 1, size - plen - 1) : strdup("");
	FUZZ_CHECK(path != NULL && xff != NULL);

	logged = http_loggable_path(path);
	FUZZ_CHECK(logged != NULL);
	FUZZ_CHECK(strlen(logged) <= strlen(path) + 3);
	for (const char *p = logged; *p; p++)
		FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789/._-*", *p) != NULL);
	FUZZ_CHECK(strcasestr(logged, "token") == NULL);
	free(logged);

	for (char *save = NULL, *l = strtok_r(xff, "\n", &save);
	    l != NULL && n < HTTP_MAX_XFF_LINES; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	if (http_forwarded_client(lines, n, &cfg, out, sizeof out)) {
		FUZZ_CHECK(inet_pton(AF_INET, out, bin) == 1 ||
		    inet_pton(AF_INET6, out, bin) == 1);
	} else {
		FUZZ_CHECK(strcmp(out, "untouched") == 0);
	}
	free(path);
	free(xff);
	return 0;
}
