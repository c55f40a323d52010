/* The machine's anonymous facts: uname(2) without the node name, and the
 * CPU count, memory size and uptime from /proc.  Nothing that names or
 * locates the host (host name, addresses, MACs) is read. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/log.h"
#include "collect.h"

#define PROC_CAP (1u << 20)	/* /proc/cpuinfo of a large machine fits */
#define UNAME_MAX 256

int
proc_parse_meminfo(const char *text, long long *total_kb)
{
	const char *p = text;

	/* "MemTotal:        4028512 kB" */
	while (p != NULL && *p != '\0') {
		if (strncmp(p, "MemTotal:", 9) == 0) {
			char *end;
			long long v;

			p += 9;
			while (*p == ' ' || *p == '\t')
				p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			errno = 0;
			v = strtoll(p, &end, 10);
			if (errno != 0 || strncmp(end, " kB", 3) != 0)
				return -1;
			*total_kb = v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

int
proc_parse_uptime(const char *text, long long *seconds)
{
	char *end;
	long long v;

	/* "350735.47 234388.90": seconds up, then idle. */
	if (text == NULL || !isdigit((unsigned char)*text))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || (*end != '.' && *end != ' ' && *end != '\n' &&
	    *end != '\0'))
		return -1;
	*seconds = v;
	return 0;
}

long
proc_parse_cpuinfo(const char *text)
{
	const char *p = text;
	long count = 0;

	/* One "processor\t: N" line per logical CPU (x86, arm64...). */
	while (p != NULL && *p != '\0') {
		if (strncmp(p, "processor", 9) == 0) {
			const char *q = p + 9;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == ':')
				count++;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return count > 0 ? count : -1;
}

/* The text of a small /proc file (caller frees), NULL when unreadable. */
static char *
read_proc(const char *path)
{
	struct buf b = { NULL, 0, 0 };
	char chunk[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (b.len + (size_t)got > PROC_CAP ||
		    buf_append(&b, chunk, (size_t)got) < 0)
			break;
	}
	close(fd);
	return b.data;		/* NULL when nothing was read */
}

long long
coarse_memory_kb(long long kb)
{
	if (kb < 0)
		return kb;
	if (kb < COARSE_MEMORY_KB)
		return kb > 0 ? COARSE_MEMORY_KB : 0;
	return kb - kb % COARSE_MEMORY_KB;
}

long long
coarse_seconds(long long secs)
{
	return secs < 0 ? secs : secs - secs % 3600;
}

time_t
coarse_time(time_t t)
{
	long long s = (long long)t;

	return (time_t)(s - (((s % 3600) + 3600) % 3600));
}

int
collect_system(struct report *r)
{
	struct utsname u;
	char *text;
	long n;

	r->cpu_count = -1;
	r->memory_total_kb = -1;
	r->system_uptime = -1;
	if (uname(&u) == 0) {
		/* u.nodename is the host name: never read. */
		r->sys_name = text_sanitize(u.sysname, strlen(u.sysname), UNAME_MAX);
		r->release = text_sanitize(u.release, strlen(u.release), UNAME_MAX);
		r->os_version = text_sanitize(u.version, strlen(u.version),
		    UNAME_MAX);
		r->machine = text_sanitize(u.machine, strlen(u.machine), UNAME_MAX);
		if (r->sys_name == NULL || r->release == NULL ||
		    r->os_version == NULL || r->machine == NULL) {
			log_error("collecting the system facts: %s",
			    strerror(ENOMEM));
			return -1;
		}
	} else {
		log_warn("uname: %s; the operating system is left out",
		    strerror(errno));
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0 && (text = read_proc("/proc/cpuinfo")) != NULL) {
		n = proc_parse_cpuinfo(text);
		free(text);
	}
	r->cpu_count = n > 0 ? n : -1;
	if ((text = read_proc("/proc/meminfo")) != NULL) {
		if (proc_parse_meminfo(text, &r->memory_total_kb) < 0)
			r->memory_total_kb = -1;
		free(text);
	}
	if ((text = read_proc("/proc/uptime")) != NULL) {
		if (proc_parse_uptime(text, &r->system_uptime) < 0)
			r->system_uptime = -1;
		free(text);
	}
	/* CONTRACT §6: as coarse as the times, or they would link a PBX's
	 * reports across --reset */
	r->memory_total_kb = coarse_memory_kb(r->memory_total_kb);
	r->system_uptime = coarse_seconds(r->system_uptime);
	if (r->cpu_count < 0 || r->memory_total_kb < 0 || r->system_uptime < 0)
		log_verbose("/proc: some machine facts could not be read; "
		    "they are left out");
	return 0;
}
