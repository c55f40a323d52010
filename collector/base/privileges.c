#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privileges.h"

int
privileges_drop(const struct collector_config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0 || cfg->user[0] == '\0')
		return PRIVILEGES_NOTHING;
	errno = 0;
	pw = getpwnam(cfg->user);
	if (pw == NULL) {
		if (!cfg->user_set) {
			snprintf(err, errlen, "started as root, and user %s (the "
			    "default of user =) does not exist: running as root "
			    "(create the user, or set user = in %s)", cfg->user,
			    cfg->path);
			return PRIVILEGES_KEPT_ROOT;
		}
		snprintf(err, errlen, "%s: user = %s: %s", cfg->path, cfg->user,
		    errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errlen, "%s: user = %s: cannot become it: %s",
		    cfg->path, cfg->user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "%s: user = %s: root could be taken back",
		    cfg->path, cfg->user);
		return -1;
	}
	return PRIVILEGES_DROPPED;
}
