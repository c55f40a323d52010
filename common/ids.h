/* A server's identity, as the protocol (http/) issues it and the AstDB
 * (store/) keeps it: here, so that neither has to see the other. */
#ifndef BEACON_IDS_H
#define BEACON_IDS_H

#include "text.h"

/* An empty string means absent; when present each field has been
 * validated (UUIDs, RFC 3339). */
struct server_ids {
	char server_id[UUID_LEN + 1];
	char token_id[UUID_LEN + 1];
	char token_issued[RFC3339_LEN + 1];
};

#endif
