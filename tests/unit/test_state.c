/* state_dir (store/state.c): stamps in the future, the directory's
 * fsync checked, crashed runs' temporary files removed (issue 11). */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../store/store.h"
#include "unit.h"

static char dir[] = "/tmp/state-unit-XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static bool
exists(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* A stamp up to 24 h ahead is a report made now; further ahead, none. */
static void
test_future(int dirfd)
{
	time_t now, last = 0;
	char text[RFC3339_LEN + 2];

	CHECK_INT(time_parse_utc("2026-11-22T18:00:00Z", &now), 0);
	write_file("a.stamp", "2026-11-22T18:30:00Z\n");
	CHECK_INT(stamp_read(dirfd, "a", now, &last), 1);
	CHECK_INT(last, now);
	/* and so the built-in server's 60-minute floor holds */
	CHECK(!schedule_due_forced(now + 1800, true, last, true));
	write_file("a.stamp", "2026-11-23T17:59:00Z\n");
	CHECK_INT(stamp_read(dirfd, "a", now, &last), 1);
	CHECK_INT(last, now);
	write_file("a.stamp", "2026-11-23T18:01:00Z\n");
	CHECK_INT(stamp_read(dirfd, "a", now, &last), 0);	/* a clock reset */
	time_format_utc(now - 60, text);
	strcat(text, "\n");
	write_file("a.stamp", text);
	CHECK_INT(stamp_read(dirfd, "a", now, &last), 1);
	CHECK_INT(last, now - 60);
}

/* The fsync of the directory is checked: an O_PATH descriptor serves
 * openat and renameat but refuses fsync. */
static void
test_dir_fsync(void)
{
	int pathfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	CHECK(pathfd >= 0);
	CHECK_INT(stamp_write(pathfd, "b", 1795370400), -1);
	close(pathfd);
}

/* Under the lock, ".NAME.stamp.PID.tmp" of crashed runs are removed. */
static void
test_stale_temps(int dirfd)
{
	int lockfd;

	write_file(".mylab.stamp.4242.tmp", "2026-11-22T18:00:00Z\n");
	write_file(".beacon.stamp.99999.tmp", "");
	write_file("keep.tmp", "");
	lockfd = state_lock(dirfd);
	CHECK(lockfd >= 0);
	CHECK(!exists(".mylab.stamp.4242.tmp"));
	CHECK(!exists(".beacon.stamp.99999.tmp"));
	CHECK(exists("keep.tmp"));
	CHECK(exists("lock"));
	close(lockfd);
}

int
main(void)
{
	int dirfd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	dirfd = state_dir_open(dir, false);
	CHECK(dirfd >= 0);
	test_future(dirfd);
	test_dir_fsync();
	test_stale_temps(dirfd);
	close(dirfd);
	unit_remove_dir(dir);
	UNIT_END("state");
}
