/* state_dir: the lock and the last-report stamps.  Every file is opened
 * relative to the directory's fd without following symlinks, and stamps
 * are replaced atomically (temp file, fsync, rename). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "files.h"
#include "store.h"

#define STAMP_MAX 64
#define FUTURE_MAX (24 * 60 * 60)	/* a stamp ahead by more: a clock reset */

/* Remove what crashed runs left: ".NAME.stamp.PID.tmp".  Called under
 * the lock, so no live run's temporary file is among them. */
static void
remove_stale_temps(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.' && n > 4 &&
		    strcmp(e->d_name + n - 4, ".tmp") == 0 &&
		    (strstr(e->d_name, ".stamp.") != NULL ||
		    strstr(e->d_name, ".retry.") != NULL ||
		    strstr(e->d_name, ".sent.json.") != NULL) &&
		    unlinkat(dirfd, e->d_name, 0) == 0)
			log_verbose("state_dir: removed %s, left by a run that "
			    "did not finish", e->d_name);
	}
	closedir(d);
}

int
state_dir_open(const char *path, bool create)
{
	struct stat st;
	int fd;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		log_error("state_dir %s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (!create && errno == ENOENT)
			return STATE_DIR_ABSENT;
		log_error("state_dir %s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_error("state_dir %s: not a directory", path);
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		/* others could plant files that root then trusts */
		log_error("state_dir %s: writable by %s (mode %04o); refusing "
		    "to use it as root", path, st.st_mode & S_IWOTH ?
		    "every user" : "its group", (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}

int
state_lock(int dirfd)
{
	int fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);

	if (fd < 0) {
		log_error("state_dir lock file: %s", strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return STATE_LOCK_HELD;
		log_error("state_dir lock file: %s", strerror(e));
		return -1;
	}
	if (give_to_dir_owner(dirfd, fd) < 0) {
		log_error("state_dir lock file: cannot give it to the directory's "
		    "owner: %s", strerror(errno));
		close(fd);
		return -1;
	}
	remove_stale_temps(dirfd);
	return fd;
}

static void
stamp_name(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s.stamp", name);
}

int
stamp_read(int dirfd, const char *name, time_t now, time_t *last)
{
	char file[128], text[STAMP_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd;

	if (dirfd < 0)
		return 0;	/* no state_dir yet: never reported */
	stamp_name(name, file, sizeof file);
	/* O_NONBLOCK: a FIFO planted as a stamp must not hang the run */
	fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("stamp %s: %s", file, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("stamp %s: not a regular file", file);
		close(fd);
		return -1;
	}
	n = read(fd, text, STAMP_MAX);
	close(fd);
	if (n < 0) {
		log_error("stamp %s: %s", file, strerror(errno));
		return -1;
	}
	text[n] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	if (time_parse_utc(text, last) < 0) {
		log_warn("stamp %s: not an RFC 3339 UTC time; ignored", file);
		return 0;
	}
	if (*last > now + FUTURE_MAX) {
		log_warn("stamp %s: %s is more than 24 h in the future (a clock "
		    "reset?); ignored", file, text);
		return 0;
	}
	if (*last > now)
		*last = now;	/* the clock stepped back: a report made now */
	return 1;
}

int
stamp_write(int dirfd, const char *name, time_t when)
{
	char file[128], text[RFC3339_LEN + 2];

	stamp_name(name, file, sizeof file);
	time_format_utc(when, text);
	strcat(text, "\n");
	return file_replace(dirfd, file, "stamp", text, strlen(text), 0600, true);
}

int
stamp_remove(int dirfd, const char *name)
{
	char file[128];

	stamp_name(name, file, sizeof file);
	if (unlinkat(dirfd, file, 0) < 0 && errno != ENOENT) {
		log_error("stamp %s: cannot remove: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}
