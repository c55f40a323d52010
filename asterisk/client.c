/* Asking Asterisk one batch of commands, the way the configuration
 * says: `asterisk -rx` processes (the default) or its control socket. */
#include <stdio.h>
#include <stdlib.h>

#include "asterisk.h"

int
asterisk_run_timed(const struct ast_client *ac, const char *const *commands,
    size_t n, struct ast_reply *replies, int timeout_ms)
{
	if (ac->socket != NULL)
		return ast_socket_run(ac->socket, commands, n, replies,
		    timeout_ms);
	return ast_process_run(ac->bin, commands, n, replies, timeout_ms);
}

int
asterisk_run(const struct ast_client *ac, const char *const *commands,
    size_t n, struct ast_reply *replies)
{
	return asterisk_run_timed(ac, commands, n, replies,
	    ASTERISK_TIMEOUT_MS);
}

const char *
asterisk_via(const struct ast_client *ac)
{
	static char via[160];

	if (ac->socket == NULL)
		return "asterisk -rx";
	snprintf(via, sizeof via, "control socket %s", ac->socket);
	return via;
}

void
ast_reply_free(struct ast_reply *reply)
{
	if (reply == NULL)
		return;
	free(reply->out);
	free(reply->err);
	reply->out = reply->err = NULL;
	reply->out_len = 0;
}
