/* A minimal unit-test harness: CHECK counts, a failure names file:line,
 * and UNIT_END prints "unit NAME: N passed, N failed" for tests/run. */
#ifndef BEACON_UNIT_H
#define BEACON_UNIT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int unit_passed, unit_failed;

#define CHECK(cond) do { \
	if (cond) { unit_passed++; } else { unit_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) { unit_passed++; } \
	else if (g_ == NULL && w_ == NULL) { unit_passed++; } \
	else { unit_failed++; fprintf(stderr, "FAIL %s:%d: %s is \"%s\", want \"%s\"\n", \
		__FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ == w_) { unit_passed++; } else { unit_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s is %lld, want %lld\n", \
		__FILE__, __LINE__, #got, g_, w_); } \
} while (0)

/* Read a whole file (a fixture) into a new NUL-terminated string; exits
 * the test program when it cannot, since every later check would lie. */
static inline char *
unit_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (data = malloc((size_t)len + 1)) == NULL ||
	    fread(data, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "unit: cannot read %s\n", path);
		exit(2);
	}
	data[len] = '\0';
	fclose(f);
	return data;
}

/* The fixture directory: $FIXTURES or tests/fixtures. */
static inline char *
unit_fixture(const char *name)
{
	const char *dir = getenv("FIXTURES");
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/fixtures", name);
	return unit_read_file(path);
}

/* Remove a test's temporary directory and the files in it. */
static inline void
unit_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

#define UNIT_END(name) do { \
	printf("unit %s: %d passed, %d failed\n", name, unit_passed, unit_failed); \
	return unit_failed ? 1 : 0; \
} while (0)

#endif
