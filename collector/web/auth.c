/*
 * HTTP Basic against admin_user / admin_password_hash (COLLECTOR.md §6):
 * crypt(3) from libcrypt recomputes the hash of the presented password
 * with the stored one as setting, and the two are compared in constant
 * time, as are the user names.  The hash is computed even when the user
 * name is wrong, so that the time says nothing about which part failed.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"

#define AUTH_MAX 1024		/* bytes of a decoded user:password */

/* Equal in constant time for equal lengths; lengths are not secret. */
static bool
same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char diff = alen != blen;
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Standard base64 (padding optional) into out (NUL-terminated); the
 * length, or -1 when not base64 or longer than outlen - 1. */
static long
b64_decode(const char *in, char *out, size_t outlen)
{
	unsigned v = 0;
	int bits = 0;
	size_t j = 0;

	for (; *in != '\0' && *in != '='; in++) {
		int d = b64_value((unsigned char)*in);
		if (d < 0)
			return -1;
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (j + 1 >= outlen)
				return -1;
			out[j++] = (char)((v >> bits) & 0xff);
		}
	}
	while (*in == '=')
		in++;
	if (*in != '\0')
		return -1;
	out[j] = '\0';
	return (long)j;
}

bool
auth_check(const struct collector_config *cfg, const char *authorization)
{
	const char *hash = cfg->admin_password_hash;
	const char *user = cfg->admin_user != NULL ? cfg->admin_user : "";
	char creds[AUTH_MAX];
	struct crypt_data *cd;
	const char *colon, *got;
	long len;
	bool user_ok, pass_ok;

	if (hash == NULL || hash[0] == '\0' || authorization == NULL)
		return false;
	while (*authorization == ' ')
		authorization++;
	if (strncasecmp(authorization, "Basic", 5) != 0 ||
	    (authorization[5] != ' ' && authorization[5] != '\t'))
		return false;
	authorization += 5;
	while (*authorization == ' ' || *authorization == '\t')
		authorization++;
	len = b64_decode(authorization, creds, sizeof creds);
	if (len < 0 || memchr(creds, '\0', (size_t)len) != NULL)
		return false;
	colon = strchr(creds, ':');
	if (colon == NULL)
		return false;
	user_ok = same(creds, (size_t)(colon - creds), user, strlen(user));

	cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		return false;
	got = crypt_rn(colon + 1, hash, cd, (int)sizeof *cd);
	/* A failed crypt returns NULL or a string starting with '*'. */
	pass_ok = got != NULL && got[0] != '*' &&
	    same(got, strlen(got), hash, strlen(hash));
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	explicit_bzero(creds, sizeof creds);
	return user_ok && pass_ok;
}

int
auth_hash_password(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *got;
	int rc = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof salt) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, salt, (int)sizeof salt) == NULL)
		return -1;
	cd = calloc(1, sizeof *cd);
	if (cd == NULL)
		return -1;
	got = crypt_rn(password, salt, cd, (int)sizeof *cd);
	if (got != NULL && got[0] != '*' && strlen(got) < outlen) {
		memcpy(out, got, strlen(got) + 1);
		rc = 0;
	}
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return rc;
}

enum auth_hash_result
auth_hash_stdin(FILE *in, char *out, size_t outlen, char *err, size_t errlen)
{
	char line[1024];
	size_t n;
	int rc;

	if (fgets(line, sizeof line, in) == NULL) {
		snprintf(err, errlen, "no password on stdin");
		return AUTH_HASH_BAD_INPUT;
	}
	n = strcspn(line, "\r\n");
	if (line[n] == '\0' && n == sizeof line - 1) {
		explicit_bzero(line, sizeof line);
		snprintf(err, errlen, "password longer than %zu bytes",
		    sizeof line - 2);
		return AUTH_HASH_BAD_INPUT;
	}
	line[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "empty password");
		return AUTH_HASH_BAD_INPUT;
	}
	rc = auth_hash_password(line, out, outlen);
	explicit_bzero(line, sizeof line);
	if (rc < 0) {
		snprintf(err, errlen, "libcrypt could not hash it");
		return AUTH_HASH_FAILED;
	}
	return AUTH_HASH_OK;
}
