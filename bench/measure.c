/* measure: run a command REPS times (no shell) and print, as key=value,
 * its wall time, its CPU time (user+sys of the process and of every
 * child it waited for: wait4's rusage), its peak RSS (the largest of
 * those processes), and optionally the CPU that another process (the
 * PBX: Asterisk or the stand-in control socket, with its own children)
 * spent meanwhile, from /proc/PID/stat.  For bench/transports.sh.
 *
 *   measure [-n REPS] [-w WARMUP] [-e STATUS] [-u FILE]... [-p PID] -- CMD ARG...
 *
 * -u FILE is removed before every run (a stamp: the run is due again);
 * -e STATUS: every run must exit with it, or measure fails (exit 1). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_UNLINK 16

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* utime+stime+cutime+cstime of pid in ms, or -1. */
static double
proc_cpu_ms(long pid)
{
	char path[64], buf[4096], *p;
	unsigned long long v[4];
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "(comm)": state is field 3, utime field 14 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
	    &v[0], &v[1], &v[2], &v[3]) != 4)
		return -1;
	return (double)(v[0] + v[1] + v[2] + v[3]) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

static double
tv_ms(struct timeval tv)
{
	return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One run: wall ms, rusage; -1 when it could not be started. */
static int
run_once(char **argv, double *wall, struct rusage *ru, int *status)
{
	double t0 = now_ms();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (wait4(pid, status, 0, ru) < 0)
		if (errno != EINTR)
			return -1;
	*wall = now_ms() - t0;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *unlinks[MAX_UNLINK];
	int reps = 20, warmup = 2, want = -1, nunlink = 0, c;
	long pbx = 0;
	double *wall, *cpu, *rss, pbx0, pbx1, sum = 0, sq = 0, csum = 0;

	while ((c = getopt(argc, argv, "+n:w:e:u:p:")) != -1) {
		switch (c) {
		case 'n': reps = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'e': want = atoi(optarg); break;
		case 'u':
			if (nunlink < MAX_UNLINK)
				unlinks[nunlink++] = optarg;
			break;
		case 'p': pbx = atol(optarg); break;
		default: return 2;
		}
	}
	if (optind >= argc || reps < 1)
		return 2;
	wall = calloc((size_t)reps, sizeof *wall);
	cpu = calloc((size_t)reps, sizeof *cpu);
	rss = calloc((size_t)reps, sizeof *rss);
	if (wall == NULL || cpu == NULL || rss == NULL)
		return 1;
	pbx0 = 0;
	for (int i = -warmup; i < reps; i++) {
		struct rusage ru;
		double w;
		int status;

		for (int k = 0; k < nunlink; k++)
			(void)unlink(unlinks[k]);
		if (i == 0)
			pbx0 = proc_cpu_ms(pbx);
		if (run_once(argv + optind, &w, &ru, &status) < 0) {
			perror("measure");
			return 1;
		}
		if (want >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != want)) {
			fprintf(stderr, "measure: %s exited %d, not %d\n", argv[optind],
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1, want);
			return 1;
		}
		if (i < 0)
			continue;
		wall[i] = w;
		cpu[i] = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
		rss[i] = (double)ru.ru_maxrss;
	}
	pbx1 = proc_cpu_ms(pbx);
	for (int i = 0; i < reps; i++) {
		sum += wall[i];
		sq += wall[i] * wall[i];
		csum += cpu[i];
	}
	qsort(wall, (size_t)reps, sizeof *wall, cmp_double);
	qsort(rss, (size_t)reps, sizeof *rss, cmp_double);
	printf("reps=%d wall_mean=%.2f wall_sd=%.2f wall_median=%.2f cpu_mean=%.2f "
	    "rss_median=%.0f rss_max=%.0f pbx_cpu_mean=%.2f\n", reps, sum / reps,
	    sqrt(fmax(0, sq / reps - (sum / reps) * (sum / reps))),
	    wall[reps / 2], csum / reps, rss[reps / 2], rss[reps - 1],
	    pbx > 0 && pbx0 >= 0 && pbx1 >= 0 ? (pbx1 - pbx0) / reps : -1.0);
	free(wall);
	free(cpu);
	free(rss);
	return 0;
}
