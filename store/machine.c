/* Clones (CONTRACT §9): each AstDB family keeps `machine`, a salted hash
 * of this machine's id and the family's server id.  An AstDB copied to
 * another machine (a cloned VM, a restored backup) then carries a value
 * that this machine does not compute, and the server registers anew.
 * The machine id itself is never stored, shown or sent. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../asterisk/asterisk.h"
#include "../common/log.h"
#include "../common/sha256.h"
#include "store.h"
#include "history.h"

#ifndef TEST_CLOCK
#define TEST_CLOCK 0
#endif

#define PUT_OK "Updated database successfully"

/* Read the first line of path into buf: 0 when it holds an id. */
static int
read_id_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n;
	size_t len;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	/* systemd writes 32 hex digits; "uninitialized" is no id */
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)buf[i]))
			return -1;
	return len >= 16 ? 0 : -1;
}

int
machine_id_read(char *buf, size_t size)
{
	static const char *const paths[] = {"/etc/machine-id",
	    "/var/lib/dbus/machine-id"};

#if TEST_CLOCK
	/* Test builds only, as the clock: the clone tests pick the id. */
	const char *env = getenv("BEACON_REPORT_MACHINE_ID");

	if (env != NULL)
		return read_id_file(env, buf, size);
#endif
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (read_id_file(paths[i], buf, size) == 0)
			return 0;
	return -1;
}

int
machine_hash(const char *machine_id, const char *server_id,
    char out[MACHINE_HASH_LEN + 1])
{
	uint8_t md[SHA256_LEN];
	char *input;
	int n;

	n = asprintf(&input, "beacon-report machine\n%s\n%s\n", machine_id,
	    server_id);
	if (n < 0)
		return -1;
	sha256(input, (size_t)n, md);
	free(input);
	for (size_t i = 0; i < MACHINE_HASH_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[MACHINE_HASH_LEN] = '\0';
	return 0;
}

bool
astdb_parse_machine(const char *text, const char *family, char *out,
    size_t size)
{
	return astdb_show_value(text, family, "machine", out, size);
}

/* Run one command; ASTDB_NO_ASTERISK when it could not run (printed),
 * else 0 with *out its answer (caller frees). */
static int
run_one(const struct ast_client *ac, const char *cmd, char **out)
{
	const char *cmds[1] = {cmd};
	struct ast_reply reply;

	memset(&reply, 0, sizeof reply);
	*out = NULL;
	if (asterisk_run(ac, cmds, 1, &reply) != 0) {
		log_error("%s \"%s\": %s", asterisk_via(ac), cmd,
		    reply.err ? reply.err : "failed");
		ast_reply_free(&reply);
		return ASTDB_NO_ASTERISK;
	}
	*out = reply.out;
	reply.out = NULL;
	ast_reply_free(&reply);
	return 0;
}

int
astdb_store_machine(const struct ast_client *ac, const char *family,
    const char *hash)
{
	char cmd[256], got[MACHINE_HASH_LEN + 8], *out;
	int rc;

	snprintf(cmd, sizeof cmd, "database put %s machine %s", family, hash);
	if ((rc = run_one(ac, cmd, &out)) != 0)
		return rc;
	if (out == NULL || strncmp(out, PUT_OK, strlen(PUT_OK)) != 0) {
		log_error("AstDB /%s/machine: database put failed", family);
		free(out);
		return -1;
	}
	free(out);
	snprintf(cmd, sizeof cmd, "database show %s", family);
	if ((rc = run_one(ac, cmd, &out)) != 0)
		return rc;
	if (!astdb_parse_machine(out, family, got, sizeof got) ||
	    strcmp(got, hash) != 0) {
		log_error("AstDB /%s/machine: the value written is not there on "
		    "read-back (is the astdb read-only?)", family);
		rc = -1;
	}
	free(out);
	return rc;
}
