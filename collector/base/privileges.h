/*
 * Started as root (COLLECTOR.md §7): run as the configured user from here
 * on, with its groups.  Called once the sockets are bound and the TLS
 * files read, before any thread starts or file is created.
 */
#ifndef COLLECTOR_PRIVILEGES_H
#define COLLECTOR_PRIVILEGES_H

#include <stddef.h>

#include "config.h"

enum {
	PRIVILEGES_NOTHING = 0,		/* not root, or user = "" (empty) */
	PRIVILEGES_DROPPED = 1,		/* now running as cfg->user */
	PRIVILEGES_KEPT_ROOT = 2,	/* the default user (user = not in the
					 * file) does not exist: a build run by
					 * hand before the package made its
					 * user; err says so, to be said once */
};

/* One of the above, or -1 with the reason in err ("FILE: user = NAME:
 * ..."): a user set in the file that does not exist, or that could not
 * be become, or root that could be taken back. */
int privileges_drop(const struct collector_config *cfg, char *err,
    size_t errlen);

#endif
