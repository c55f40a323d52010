/* Files in state_dir, each replaced atomically: the one way the rest of
 * store/ (stamps, retry state, the archive, the metrics file) reads,
 * writes and removes a file.  The bottom of store/: it includes nothing
 * of store/, so that no file of the folder includes one that includes it
 * back.  Buffers returned are the caller's to free. */
#ifndef BEACON_STORE_FILES_H
#define BEACON_STORE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Replace file in dirfd with data (temporary ".FILE.PID.tmp", fchmod
 * mode, write, fsync, rename, fsync of the directory; the temporary file
 * is removed on any failure).  to_dir_owner: run as root, the file gets
 * the directory's owner (state_dir).  0 or -1 (printed, naming what).
 */
int file_replace(int dirfd, const char *file, const char *what,
    const void *data, size_t len, mode_t mode, bool to_dir_owner);

/* Run as root, a file just created in state_dir gets the directory's
 * owner and group, so that a run by root never locks out the next run
 * by the user that owns state_dir.  0 or -1 (errno set). */
int give_to_dir_owner(int dirfd, int fd);

/* Read file in dirfd (no symlink followed, a regular file, at most max
 * bytes) into a new NUL-terminated *out.  1 when read, 0 when absent,
 * -1 on an error (printed). */
int file_read(int dirfd, const char *file, const char *what, size_t max,
    char **out, size_t *len);

/* Remove file; absent is no error.  0 or -1 (printed). */
int file_remove(int dirfd, const char *file, const char *what);

#endif
