/* The Asterisk text parsers on real 22.10.1 output, hand-made variants
 * (other versions, CR LF, cut, junk) and generated input. */
#include <ctype.h>
#include <stdbool.h>

#include "../../collect/collect.h"
#include "unit.h"

static void
free_modules(struct module_info *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].description);
		free(m[i].status);
		free(m[i].support_level);
	}
	free(m);
}

/* Every byte printable ASCII (what may reach a terminal or the JSON). */
static bool
printable(const char *s)
{
	for (; s != NULL && *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void
check_version(const char *fixture, const char *name, const char *number)
{
	char *text = unit_fixture(fixture), *n = NULL, *v = NULL;

	CHECK_INT(parse_core_show_version(text, &n, &v), 0);
	CHECK_STR(n, name);
	CHECK_STR(v, number);
	/* The build host and user never leave the machine. */
	CHECK(n == NULL || strstr(n, "built") == NULL);
	free(n);
	free(v);
	free(text);
}

static void
check_version_fails(const char *text)
{
	char *n = (char *)"x", *v = (char *)"x";

	CHECK_INT(parse_core_show_version(text, &n, &v), -1);
	CHECK(n == NULL && v == NULL);
}

static void
test_version(void)
{
	check_version("22.10.1/core_show_version.txt", "Asterisk 22.10.1",
	    "221001");
	check_version("variants/core_show_version_git.txt",
	    "Asterisk GIT-master-abc123f", "00000");
	check_version("variants/core_show_version_certified.txt",
	    "Asterisk certified/18.9-cert5", "180905");
	check_version("variants/core_show_version_rc.txt",
	    "Asterisk 22.1.0-rc1", "220100");
	check_version("variants/core_show_version_1.8.txt",
	    "Asterisk 1.8.32.3", "10832");
	check_version("variants/core_show_version_svn.txt",
	    "Asterisk SVN-branch-13-r430034", "999999");
	check_version("variants/core_show_version_crlf.txt",
	    "Asterisk 20.5.2", "200502");

	/* Not a version: what Asterisk answers when it does not know. */
	check_version_fails("No such command 'core show version' (type 'core "
	    "show help core show' for other possible commands)\n");
	check_version_fails("Usage: core show version\n       Shows Asterisk "
	    "version information.\n");
	check_version_fails("");
	check_version_fails("Asterisk\n");
	check_version_fails("Asterisk Ready.\n");
	check_version_fails("\xff\xfe\x01garbage\n");
	check_version_fails(NULL);
	{
		char *t = unit_fixture("22.10.1/core_show_uptime_seconds.txt");
		check_version_fails(t);
		free(t);
	}
	/* A version without the "built by" tail still counts when numeric;
	 * a flavour in parentheses stays in the name. */
	{
		char *n, *v;
		CHECK_INT(parse_core_show_version("Asterisk 13.38.3\n", &n, &v),
		    0);
		CHECK_STR(n, "Asterisk 13.38.3");
		CHECK_STR(v, "133803");
		free(n);
		free(v);
		CHECK_INT(parse_core_show_version("Asterisk 13.1.0 (AsteriskNOW "
		    "1.0) built by x @ y on a z running Linux on now\n", &n, &v),
		    0);
		CHECK_STR(n, "Asterisk 13.1.0 (AsteriskNOW 1.0)");
		CHECK_STR(v, "130100");
		free(n);
		free(v);
		/* Control characters in the version never pass. */
		CHECK_INT(parse_core_show_version("Asterisk 1.2\x1b[31m built by"
		    " x\n", &n, &v), 0);
		CHECK(printable(n));
		free(n);
		free(v);
	}
}

/* Count the lines of text ending in " word" (an independent reading of
 * the support-level column). */
static size_t
count_ending(const char *text, const char *word)
{
	size_t n = 0, wl = strlen(word);

	for (const char *p = text; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > wl && p[len - wl - 1] == ' ' &&
		    memcmp(p + len - wl, word, wl) == 0)
			n++;
		p += len + (nl != NULL);
	}
	return n;
}

static const struct module_info *
find_module(const struct module_info *m, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	return NULL;
}

static void
test_modules_real(void)
{
	char *text = unit_fixture("22.10.1/module_show.txt");
	struct module_info *m;
	size_t n, core = 0, ext = 0, dep = 0;
	const struct module_info *x;

	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 326);	/* the footer says "326 modules loaded" */
	CHECK(strstr(text, "\n326 modules loaded\n") != NULL);
	if (n == 326) {
		CHECK_STR(m[0].name, "acl");
		CHECK_STR(m[0].description, "Named ACL system");
		CHECK_STR(m[0].status, "Running");
		CHECK_STR(m[0].support_level, "core");
		CHECK_STR(m[325].name, "udptl");
		CHECK_STR(m[325].description, "UDPTL");
		CHECK_STR(m[325].support_level, "core");
	}
	x = find_module(m, n, "app_adsiprog.so");
	CHECK(x != NULL);
	if (x) {
		CHECK_STR(x->description, "Asterisk ADSI Programming Application");
		CHECK_STR(x->support_level, "deprecated");
	}
	/* Cut at 40 columns, ending in a space inside Asterisk's column. */
	x = find_module(m, n, "app_cdr.so");
	CHECK(x != NULL && strcmp(x->description,
	    "Tell Asterisk to not maintain a CDR for") == 0);
	for (size_t i = 0; i < n; i++) {
		core += strcmp(m[i].support_level, "core") == 0;
		ext += strcmp(m[i].support_level, "extended") == 0;
		dep += strcmp(m[i].support_level, "deprecated") == 0;
		CHECK(printable(m[i].name) && printable(m[i].description));
	}
	CHECK_INT(core, count_ending(text, "core"));
	CHECK_INT(ext, count_ending(text, "extended"));
	CHECK_INT(dep, count_ending(text, "deprecated"));
	CHECK_INT(core + ext + dep, n);
	free_modules(m, n);
	free(text);

	text = unit_fixture("22.10.1/module_show_like_res_pjsip.txt");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 47);
	/* A name longer than its 30 columns pushes the description right. */
	x = find_module(m, n, "res_pjsip_endpoint_identifier_anonymous.so");
	CHECK(x != NULL && strcmp(x->description,
	    "PJSIP Anonymous endpoint identifier") == 0);
	x = find_module(m, n, "res_pjsip_dialog_info_body_generator.so");
	CHECK(x != NULL && strcmp(x->description,
	    "PJSIP Extension State Dialog Info+XML Pr") == 0);
	x = find_module(m, n, "res_pjsip_rfc3329.so");
	CHECK(x != NULL && strcmp(x->description,
	    "PJSIP RFC3329 Support (partial)") == 0);
	free_modules(m, n);
	free(text);

	text = unit_fixture("22.10.1/module_show_like_nosuchmodule.txt");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 0);
	free_modules(m, n);
	free(text);
}

static void
check_modules_fail(const char *text)
{
	struct module_info *m = (struct module_info *)1;
	size_t n = 7;

	CHECK_INT(parse_module_show(text, &m, &n), -1);
	CHECK(m == NULL && n == 0);
}

static void
test_modules_variants(void)
{
	char *text;
	struct module_info *m;
	size_t n;

	text = unit_fixture("variants/module_show_11.txt");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_STR(m[1].name, "chan_sip.so");
		CHECK_STR(m[1].description, "Session Initiation Protocol (SIP)");
		CHECK(m[1].status == NULL && m[1].support_level == NULL);
		CHECK_STR(m[4].name, "func_odbc.so");
	}
	free_modules(m, n);
	free(text);

	text = unit_fixture("variants/module_show_12.txt");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(m[0].status, "Running");
		CHECK_STR(m[1].status, "Not Running");
		CHECK_STR(m[1].description,
		    "Skinny Client Control Protocol (Skinny)");
		CHECK(m[1].support_level == NULL);
		CHECK_STR(m[2].name, "res_pjsip_endpoint_identifier_anonymous.so");
	}
	free_modules(m, n);
	free(text);

	text = unit_fixture("variants/module_show_statuses.txt");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_STR(m[0].status, "Not Running");
		CHECK_STR(m[0].support_level, "core");
		CHECK_STR(m[1].description, "PJSIP RFC3326 Support 2");
		CHECK_STR(m[2].name, "res_pjsip_outbound_authenticator_digest.so");
		CHECK_STR(m[3].description,
		    "Customizable Comma Separated Values CDR");
		CHECK_STR(m[3].status, "Declined");
		CHECK_STR(m[3].support_level, "extended");
		CHECK_STR(m[4].description, "");
		CHECK_STR(m[4].status, "Unknown");
		CHECK_STR(m[4].support_level, "unknown");
	}
	free_modules(m, n);
	free(text);

	text = unit_fixture("variants/module_show_zero.txt");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 0);
	free_modules(m, n);
	free(text);

	text = unit_fixture("variants/module_show_crlf.txt");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_STR(m[0].name, "acl");
		CHECK_STR(m[0].support_level, "core");
		CHECK_STR(m[4].name, "app_amd.so");
		CHECK_STR(m[4].support_level, "extended");
	}
	free_modules(m, n);
	free(text);

	/* Cut in the 6th module line: 5 whole ones, the fragment dropped. */
	text = unit_fixture("variants/module_show_truncated.txt");
	CHECK(text[strlen(text) - 1] != '\n');
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK_INT(n, 5);
	if (n == 5)
		CHECK_STR(m[4].name, "app_amd.so");
	free_modules(m, n);
	free(text);

	/* Escape sequences and 0xff from Asterisk become '?'. */
	text = unit_fixture("variants/garbage.bin");
	CHECK_INT(parse_module_show(text, &m, &n), 0);
	CHECK(n >= 1);
	if (n >= 1) {
		CHECK_STR(m[0].name, "res_evil.so");
		CHECK(printable(m[0].description));
		CHECK(strchr(m[0].description, '\033') == NULL);
		CHECK(strncmp(m[0].description, "Evil ?[2J?]0;owned? desc??", 26)
		    == 0);
		CHECK_STR(m[0].status, "Running");
	}
	for (size_t i = 0; i < n; i++)
		CHECK(printable(m[i].name) && printable(m[i].description) &&
		    printable(m[i].status) && printable(m[i].support_level));
	free_modules(m, n);
	free(text);

	/* Not a module list at all. */
	check_modules_fail("No such command 'module show' (type 'core show help"
	    " module show' for other possible commands)\n");
	check_modules_fail("");
	check_modules_fail(NULL);
	check_modules_fail("\n\n\r\n");
	text = unit_fixture("22.10.1/core_show_version.txt");
	check_modules_fail(text);
	free(text);
	text = unit_fixture("22.10.1/core_show_calls_seconds.txt");
	check_modules_fail(text);
	free(text);
}

/* 5000 generated modules, in Asterisk's own format. */
static void
test_modules_huge(void)
{
	struct buf b = { NULL, 0, 0 };
	char line[256];
	struct module_info *m;
	size_t n;
	int len;

	len = snprintf(line, sizeof line, "%-30s %-40.40s %-10s %-11s %13s\n",
	    "Module", "Description", "Use Count", "Status", "Support Level");
	buf_append(&b, line, (size_t)len);
	for (int i = 0; i < 5000; i++) {
		char name[64], desc[64];
		snprintf(name, sizeof name, "mod_%04d.so", i);
		snprintf(desc, sizeof desc, "Generated module number %d of many", i);
		len = snprintf(line, sizeof line, "%-30s %-40.40s %-10d %-11s %13s\n",
		    name, desc, i % 7, i % 3 ? "Running" : "Not Running",
		    i % 2 ? "extended" : "core");
		buf_append(&b, line, (size_t)len);
	}
	len = snprintf(line, sizeof line, "%d modules loaded\n", 5000);
	buf_append(&b, line, (size_t)len);
	CHECK_INT(parse_module_show(b.data, &m, &n), 0);
	CHECK_INT(n, 5000);
	if (n == 5000) {
		CHECK_STR(m[0].name, "mod_0000.so");
		CHECK_STR(m[0].status, "Not Running");
		CHECK_STR(m[4999].name, "mod_4999.so");
		CHECK_STR(m[4999].description,
		    "Generated module number 4999 of many");
		CHECK_STR(m[4999].support_level, "extended");
		CHECK_STR(m[4999].status, "Running");
	}
	free_modules(m, n);
	buf_free(&b);
}

/* Random bytes (no NUL: a C string ends there) never crash a parser and
 * never give back an unprintable string. */
static void
test_random(void)
{
	unsigned seed = 12345;
	char text[2049];
	bool ok = true;

	for (int round = 0; round < 300; round++) {
		struct module_info *m;
		size_t n;
		char *a, *b;
		long long u, r;
		long ac, pr;

		for (size_t i = 0; i < sizeof text - 1; i++) {
			seed = seed * 1103515245u + 12345u;
			text[i] = (char)((seed >> 16) % 255 + 1);
			/* Plenty of line ends and blanks, like real text. */
			if ((seed >> 8) % 13 == 0)
				text[i] = '\n';
			else if ((seed >> 8) % 5 == 0)
				text[i] = ' ';
		}
		text[sizeof text - 1] = '\0';
		if (parse_module_show(text, &m, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				ok = ok && printable(m[i].name) &&
				    printable(m[i].description) &&
				    printable(m[i].status) &&
				    printable(m[i].support_level);
			free_modules(m, n);
		}
		if (parse_core_show_version(text, &a, &b) == 0) {
			ok = ok && printable(a) && printable(b);
			free(a);
			free(b);
		}
		parse_core_show_uptime(text, &u, &r);
		parse_core_show_calls(text, &ac, &pr);
	}
	CHECK(ok);
}

/* The real texts, cut at random places and with random bytes (digits,
 * blanks, line ends, anything) written over them. */
static void
test_mutated(void)
{
	static const char *const files[] = {
		"22.10.1/module_show_like_res_pjsip.txt",
		"22.10.1/core_show_calls_uptime_seconds.txt",
		"22.10.1/core_show_uptime.txt",
		"22.10.1/core_show_version.txt",
		"variants/core_show_calls_maxcalls.txt",
	};
	static const char pool[] = "0123456789 \n\r\t.-,(ofmaxctiveld\xff\x1b";
	unsigned seed = 4242;
	bool ok = true;

	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char *orig = unit_fixture(files[f]);
		size_t len = strlen(orig);

		for (int round = 0; round < 400; round++) {
			char *t = malloc(len + 1);
			struct module_info *m;
			size_t n, cut;
			char *a, *b;
			long long u, r;
			long ac, pr;

			memcpy(t, orig, len + 1);
			for (int k = 0; k < 1 + round % 8; k++) {
				seed = seed * 1103515245u + 12345u;
				t[(seed >> 8) % len] = pool[(seed >> 20) %
				    (sizeof pool - 1)];
			}
			seed = seed * 1103515245u + 12345u;
			cut = (seed >> 8) % (len + 1);
			if (round % 2)
				t[cut] = '\0';
			if (parse_module_show(t, &m, &n) == 0) {
				for (size_t i = 0; i < n; i++)
					ok = ok && printable(m[i].name) &&
					    printable(m[i].description) &&
					    printable(m[i].status) &&
					    printable(m[i].support_level);
				free_modules(m, n);
			}
			if (parse_core_show_version(t, &a, &b) == 0) {
				ok = ok && printable(a) && printable(b);
				free(a);
				free(b);
			}
			if (parse_core_show_uptime(t, &u, &r) == 0)
				ok = ok && u >= 0;
			if (parse_core_show_calls(t, &ac, &pr) == 0)
				ok = ok && (ac >= 0 || pr >= 0);
			free(t);
		}
		free(orig);
	}
	CHECK(ok);
}

static void
test_uptime(void)
{
	char *text;
	long long up, rl;

	text = unit_fixture("22.10.1/core_show_uptime_seconds.txt");
	CHECK_INT(parse_core_show_uptime(text, &up, &rl), 0);
	CHECK_INT(up, 76);
	CHECK_INT(rl, 51);
	free(text);
	/* The words form, should "seconds" be ignored by some version. */
	text = unit_fixture("22.10.1/core_show_uptime.txt");
	CHECK_INT(parse_core_show_uptime(text, &up, &rl), 0);
	CHECK_INT(up, 75);
	CHECK_INT(rl, 51);
	free(text);
	text = unit_fixture("22.10.1/core_show_calls_uptime_seconds.txt");
	CHECK_INT(parse_core_show_uptime(text, &up, &rl), 0);
	CHECK_INT(up, 89);
	CHECK_INT(rl, -1);
	free(text);
	text = unit_fixture("variants/core_show_uptime_no_reload.txt");
	CHECK_INT(parse_core_show_uptime(text, &up, &rl), 0);
	CHECK_INT(up, 76);
	CHECK_INT(rl, -1);
	free(text);
	text = unit_fixture("variants/core_show_uptime_crlf.txt");
	CHECK_INT(parse_core_show_uptime(text, &up, &rl), 0);
	CHECK_INT(up, 3600);
	CHECK_INT(rl, 60);
	free(text);
	CHECK_INT(parse_core_show_uptime("System uptime: 2 years, 1 week, 3 "
	    "days, 1 hour, 1 minute, 1 second\n", &up, &rl), 0);
	CHECK_INT(up, 2LL * 365 * 86400 + 7 * 86400 + 3 * 86400 + 3661);

	text = unit_fixture("22.10.1/core_show_uptime_bogus.txt");
	CHECK_INT(parse_core_show_uptime(text, &up, &rl), -1);
	CHECK_INT(up, -1);
	free(text);
	CHECK_INT(parse_core_show_uptime("No such command 'core show uptime "
	    "seconds'\n", &up, &rl), -1);
	CHECK_INT(parse_core_show_uptime("System uptime: -5\n", &up, &rl), -1);
	CHECK_INT(parse_core_show_uptime("System uptime: 12abc\n", &up, &rl),
	    -1);
	CHECK_INT(parse_core_show_uptime("System uptime: 99999999999999999999"
	    "\n", &up, &rl), -1);
	CHECK_INT(parse_core_show_uptime("", &up, &rl), -1);
	CHECK_INT(parse_core_show_uptime(NULL, &up, &rl), -1);
}

static void
test_calls(void)
{
	char *text;
	long a, p;

	text = unit_fixture("22.10.1/core_show_calls.txt");
	CHECK_INT(parse_core_show_calls(text, &a, &p), 0);
	CHECK_INT(a, 2);
	CHECK_INT(p, 5);
	free(text);
	text = unit_fixture("22.10.1/core_show_calls_uptime.txt");
	CHECK_INT(parse_core_show_calls(text, &a, &p), 0);
	CHECK_INT(a, 2);
	CHECK_INT(p, 5);
	free(text);
	text = unit_fixture("variants/core_show_calls_singular.txt");
	CHECK_INT(parse_core_show_calls(text, &a, &p), 0);
	CHECK_INT(a, 1);
	CHECK_INT(p, 1);
	free(text);
	text = unit_fixture("variants/core_show_calls_maxcalls.txt");
	CHECK_INT(parse_core_show_calls(text, &a, &p), 0);
	CHECK_INT(a, 2);
	CHECK_INT(p, 1238);
	free(text);
	CHECK_INT(parse_core_show_calls("0 active calls\r\n", &a, &p), 0);
	CHECK_INT(a, 0);
	CHECK_INT(p, -1);

	/* The Usage text of a bad argument, and other answers: nothing. */
	text = unit_fixture("22.10.1/core_show_calls_seconds.txt");
	CHECK_INT(parse_core_show_calls(text, &a, &p), -1);
	CHECK(a == -1 && p == -1);
	free(text);
	CHECK_INT(parse_core_show_calls("No such command 'core show calls' "
	    "(type 'core show help core show' for other possible commands)\n",
	    &a, &p), -1);
	CHECK_INT(parse_core_show_calls("2 active channels\n", &a, &p), -1);
	CHECK_INT(parse_core_show_calls("2 active callsX\n5 calls\n", &a, &p),
	    -1);
	CHECK_INT(parse_core_show_calls("", &a, &p), -1);
	CHECK_INT(parse_core_show_calls(NULL, &a, &p), -1);
}

/* Text after a NUL is not seen; what comes before still is. */
static void
test_nul(void)
{
	static const char text[] = "1 active call\n\0 5 calls processed\n";
	char *g = unit_fixture("variants/garbage.bin");
	long a, p;
	long long u, r;
	char *n, *v;

	CHECK_INT(parse_core_show_calls(text, &a, &p), 0);
	CHECK_INT(a, 1);
	CHECK_INT(p, -1);
	CHECK_INT(parse_core_show_version(g, &n, &v), -1);
	CHECK_INT(parse_core_show_uptime(g, &u, &r), -1);
	free(g);
}

static void
test_proc(void)
{
	long long v;

	CHECK_INT(proc_parse_meminfo("MemTotal:        4028512 kB\nMemFree: "
	    "  12 kB\n", &v), 0);
	CHECK_INT(v, 4028512);
	CHECK_INT(proc_parse_meminfo("MemFree: 1 kB\nMemTotal:\t 16 kB\n", &v),
	    0);
	CHECK_INT(v, 16);
	CHECK_INT(proc_parse_meminfo("MemFree: 1 kB\n", &v), -1);
	CHECK_INT(proc_parse_meminfo("MemTotal: lots\n", &v), -1);
	CHECK_INT(proc_parse_meminfo("MemTotal: 12 MB\n", &v), -1);
	CHECK_INT(proc_parse_meminfo("", &v), -1);

	CHECK_INT(proc_parse_uptime("350735.47 234388.90\n", &v), 0);
	CHECK_INT(v, 350735);
	CHECK_INT(proc_parse_uptime("12\n", &v), 0);
	CHECK_INT(v, 12);
	CHECK_INT(proc_parse_uptime("abc 1.0\n", &v), -1);
	CHECK_INT(proc_parse_uptime("-3.0 1.0\n", &v), -1);
	CHECK_INT(proc_parse_uptime("", &v), -1);

	CHECK_INT(proc_parse_cpuinfo("processor\t: 0\nvendor_id\t: x\n\n"
	    "processor\t: 1\nmodel name\t: y\n\nprocessor\t: 2\n"), 3);
	CHECK_INT(proc_parse_cpuinfo("processor : 0\n"), 1);
	CHECK_INT(proc_parse_cpuinfo("vendor_id\t: x\nprocessors: 4\n"), -1);
	CHECK_INT(proc_parse_cpuinfo(""), -1);
}

int
main(void)
{
	test_version();
	test_modules_real();
	test_modules_variants();
	test_modules_huge();
	test_random();
	test_mutated();
	test_uptime();
	test_calls();
	test_nul();
	test_proc();
	UNIT_END("parse");
}
