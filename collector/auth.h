/* HTTP Basic for the operator's views (COLLECTOR.md §6), written with the
 * fleet view (collector/auth.c).  Declared here first for the statistics'
 * routes, which need it when public_stats = no. */
#ifndef COLLECTOR_AUTH_H
#define COLLECTOR_AUTH_H

#include <stdbool.h>

#include "config.h"

/* True when the Authorization header (NULL when absent) carries admin_user
 * and a password matching admin_password_hash; false otherwise, and always
 * false when no hash is configured.  Constant-time. */
bool auth_check(const struct collector_config *cfg,
    const char *authorization_header);

#endif
