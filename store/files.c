/* Files replaced atomically in a directory held open by fd, as the
 * stamps are (state.c): temp file, fsync, rename, fsync of the
 * directory.  The archive of accepted bodies (archive.c) is one such
 * file per server. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/text.h"
#include "files.h"

/* Run as root, a file just created in state_dir gets the directory's
 * owner and group, so that a run by root never locks out the next run
 * by the user that owns state_dir.  0 or -1 (errno set). */
int
give_to_dir_owner(int dirfd, int fd)
{
	struct stat dst, fst;

	if (geteuid() != 0)
		return 0;
	if (fstat(dirfd, &dst) < 0 || fstat(fd, &fst) < 0)
		return -1;
	if (fst.st_uid == dst.st_uid && fst.st_gid == dst.st_gid)
		return 0;
	return fchown(fd, dst.st_uid, dst.st_gid);
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_replace(int dirfd, const char *file, const char *what,
    const void *data, size_t len, mode_t mode, bool to_dir_owner)
{
	char tmp[300];
	int fd, flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;

	if ((size_t)snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", file,
	    (long)getpid()) >= sizeof tmp) {
		log_error("%s %s: name too long", what, file);
		return -1;
	}
	fd = openat(dirfd, tmp, flags, mode);
	if (fd < 0 && errno == EEXIST && unlinkat(dirfd, tmp, 0) == 0)
		fd = openat(dirfd, tmp, flags, mode);	/* a crashed run's */
	if (fd < 0) {
		log_error("%s %s: cannot write: %s", what, file, strerror(errno));
		return -1;
	}
	/* the umask must not widen or narrow what the caller asked */
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    (to_dir_owner && give_to_dir_owner(dirfd, fd) < 0) || fsync(fd) < 0) {
		log_error("%s %s: cannot write: %s", what, file, strerror(errno));
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (close(fd) < 0 || renameat(dirfd, tmp, dirfd, file) < 0) {
		log_error("%s %s: cannot replace: %s", what, file, strerror(errno));
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (fsync(dirfd) < 0) {
		log_error("%s %s: cannot sync its directory: %s", what, file,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
file_read(int dirfd, const char *file, const char *what, size_t max,
    char **out, size_t *len)
{
	struct buf b = {0};
	struct stat st;
	char chunk[4096];
	ssize_t n;
	int fd;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (dirfd < 0)
		return 0;
	fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("%s %s: %s", what, file, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s %s: not a regular file", what, file);
		close(fd);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > max ||
		    buf_append(&b, chunk, (size_t)n) < 0) {
			log_error("%s %s: %s", what, file, n < 0 ? strerror(errno) :
			    b.len + (size_t)n > max ? "too big" : "out of memory");
			buf_free(&b);
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (len != NULL)
		*len = b.len;
	*out = buf_steal(&b);
	if (*out == NULL) {
		log_error("%s %s: out of memory", what, file);
		return -1;
	}
	return 1;
}

int
file_remove(int dirfd, const char *file, const char *what)
{
	if (dirfd >= 0 && unlinkat(dirfd, file, 0) < 0 && errno != ENOENT) {
		log_error("%s %s: cannot remove: %s", what, file, strerror(errno));
		return -1;
	}
	return 0;
}
