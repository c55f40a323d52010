/* Unit tests: the configuration loader and the schedule. */
#include <stdlib.h>
#include <unistd.h>

#include "../../conf/config.h"
#include "../../store/store.h"
#include "unit.h"

static char path[] = "/tmp/beacon-unit-XXXXXX";

/* Write text to the temp config and load it; the loader's return. */
static int
load(const char *text, struct config *cfg)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		exit(2);
	fputs(text, f);
	fclose(f);
	return config_load(path, true, cfg);
}

static void
test_config(void)
{
	struct config cfg;
	const struct server_conf *s;
	int fd = mkstemp(path);

	if (fd < 0)
		exit(2);
	close(fd);

	CHECK_INT(load("", &cfg), 0);
	CHECK(cfg.enabled);
	CHECK_INT(cfg.timeout, 30);
	CHECK_STR(cfg.asterisk, "asterisk");
	CHECK_INT(cfg.nservers, config_has_builtin() ? 1 : 0);
	config_free(&cfg);

	CHECK_INT(load("[general]\nenabled = OFF\ntimeout=300\nprivate_name = My PBX\n"
	    "[mylab]\ntype = server\nurl = https://stats.example.com/beacon/\n"
	    "interval = 30\nstart_time = 6:05\nverify_cert = False\n", &cfg), 0);
	CHECK(!cfg.enabled);
	CHECK_INT(cfg.timeout, 300);
	CHECK_STR(cfg.private_name, "My PBX");
	s = config_find_server(&cfg, "mylab");
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_STR(s->url, "https://stats.example.com/beacon");
		CHECK_INT(s->interval, 60);	/* raised, with a warning */
		CHECK_INT(s->start_time, 6 * 60 + 5);
		CHECK(!s->verify_cert);
	}
	config_free(&cfg);

	/* enabled = no in a server's section: that server alone (issue 25) */
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example\nenabled = no\n"
	    "[y]\ntype = server\nurl = https://b.example\n", &cfg), 0);
	CHECK(cfg.enabled);
	s = config_find_server(&cfg, "x");
	CHECK(s != NULL && !s->enabled);
	s = config_find_server(&cfg, "y");
	CHECK(s != NULL && s->enabled);
	config_free(&cfg);
	if (config_has_builtin()) {
		CHECK_INT(load("[beacon]\nenabled = Off\n", &cfg), 0);
		s = config_find_server(&cfg, "beacon");
		CHECK(s != NULL && !s->enabled);
		config_free(&cfg);
	}

	/* every mistake is an error */
	CHECK_INT(load("[general]\nenabled = maybe\n", &cfg), -1);
	CHECK_INT(load("[general]\ntimeout = 0\n", &cfg), -1);
	CHECK_INT(load("[general]\ntimeout = 301\n", &cfg), -1);
	CHECK_INT(load("[general]\nbogus = 1\n", &cfg), -1);
	CHECK_INT(load("enabled = yes\n", &cfg), -1);
	CHECK_INT(load("[general]\nthis is not ini\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = http://insecure.example\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\n", &cfg), -1);
	CHECK_INT(load("[x]\nurl = https://a.example\n", &cfg), -1);
	CHECK_INT(load("[x]\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = client\nurl = https://a.example\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example\ninterval = -5\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example\ninterval = 0\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example\nstart_time = 24:00\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example\nstart_time = 12:5\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example\nenabled = perhaps\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example\nurl = https://b.example\n", &cfg), -1);
	CHECK_INT(load("[x]\ntype = server\nurl = https://a.example/?q=1\n", &cfg), -1);
	CHECK_INT(load("[x/y]\ntype = server\nurl = https://a.example\n", &cfg), -1);
	CHECK_INT(load("[general]\nproxy = http://p:3128\n", &cfg), -1);
	if (config_has_builtin()) {
		CHECK_INT(load("[beacon]\nurl = https://evil.example\n", &cfg), -1);
		CHECK_INT(load("[beacon]\nverify_cert = no\n", &cfg), -1);
		CHECK_INT(load("[beacon]\ninterval = 120\nproxy = http://u:p@h:3128\n", &cfg), 0);
		CHECK_INT(cfg.servers[0].interval, 120);
		CHECK_STR(cfg.servers[0].proxy, "http://u:p@h:3128");
		config_free(&cfg);
	}
	CHECK_INT(config_load("/nonexistent/beacon.ini", false, &cfg), 0);
	CHECK(!cfg.file_found);
	config_free(&cfg);
	CHECK_INT(config_load("/nonexistent/beacon.ini", true, &cfg), -1);
	unlink(path);
}

static time_t
utc(const char *s)
{
	time_t t = 0;

	if (time_parse_utc(s, &t) != 0)
		exit(2);
	return t;
}

static void
test_schedule(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	/* I=360, S=00:00: once in each of 00-06, 06-12, 12-18, 18-24 */
	CHECK(schedule_due(utc("2026-11-22T06:00:00Z"), false, 0, 360, 0));
	CHECK(!schedule_due(utc("2026-11-22T05:59:59Z"), true, utc("2026-11-22T00:30:00Z"), 360, 0));
	CHECK(schedule_due(utc("2026-11-22T06:00:00Z"), true, utc("2026-11-22T00:30:00Z"), 360, 0));
	/* the 60-minute gap holds across a slot boundary */
	CHECK(!schedule_due(utc("2026-11-22T06:10:00Z"), true, utc("2026-11-22T05:50:00Z"), 360, 0));
	CHECK(schedule_due(utc("2026-11-22T06:50:00Z"), true, utc("2026-11-22T05:50:00Z"), 360, 0));
	CHECK_INT(schedule_next(utc("2026-11-22T06:10:00Z"), true, utc("2026-11-22T05:50:00Z"), 360, 0),
	    utc("2026-11-22T06:50:00Z"));
	CHECK_INT(schedule_next(utc("2026-11-22T01:00:00Z"), true, utc("2026-11-22T00:30:00Z"), 360, 0),
	    utc("2026-11-22T06:00:00Z"));
	/* start_time shifts the slots */
	CHECK(!schedule_due(utc("2026-11-22T12:29:00Z"), true, utc("2026-11-22T06:31:00Z"), 360, 30));
	CHECK(schedule_due(utc("2026-11-22T12:30:00Z"), true, utc("2026-11-22T06:31:00Z"), 360, 30));

	/* local time: Europe/Berlin is UTC+1 in November */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	CHECK(!schedule_due(utc("2026-11-22T04:59:00Z"), true, utc("2026-11-22T00:00:00Z"), 360, 0));
	CHECK(schedule_due(utc("2026-11-22T05:00:00Z"), true, utc("2026-11-22T00:00:00Z"), 360, 0));
	CHECK_INT(schedule_next(utc("2026-11-22T01:00:00Z"), true, utc("2026-11-22T00:00:00Z"), 360, 0),
	    utc("2026-11-22T05:00:00Z"));
	/* across the spring-forward change, 2026-03-29 02:00 → 03:00 local:
	 * 06:00 local is 04:00Z after it */
	CHECK_INT(schedule_next(utc("2026-03-29T00:30:00Z"), true, utc("2026-03-29T00:10:00Z"), 360, 0),
	    utc("2026-03-29T04:00:00Z"));
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
test_text(void)
{
	char *s;

	CHECK(uuid_is_valid("3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"));
	CHECK(!uuid_is_valid("3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f"));
	CHECK(!uuid_is_valid("3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6x"));
	CHECK(!uuid_is_valid("3f1c2a4e/1b2c-4d5e-8f90-a1b2c3d4e5f6"));
	CHECK(!uuid_is_valid("../../../../../1b2c-4d5e-8f90-a1b2c3d4"));
	s = text_sanitize("bad\x1b[31m red\n\n text", 19, 100);
	CHECK_STR(s, "bad?[31m red text");
	free(s);
	{
		time_t t;
		CHECK_INT(time_parse_utc("2026-11-22T18:00:00Z", &t), 0);
		CHECK_INT(t, 1795370400);
		CHECK_INT(time_parse_utc("2026-11-22T 1:00:00Z", &t), -1);
		CHECK_INT(time_parse_utc("2026-02-31T00:00:00Z", &t), -1);
		CHECK_INT(time_parse_utc("2026-11-22T18:00:00.5Z", &t), -1);
		CHECK_INT(time_parse_utc("2026-11-22T18:00:00Z ", &t), -1);
		CHECK_INT(time_parse_utc("", &t), -1);
	}
	s = text_sanitize("0123456789abcdef", 16, 10);
	CHECK_STR(s, "0123456...");
	free(s);
	/* issue 11: a text that fits is never cut */
	s = text_sanitize("0123456789", 10, 10);
	CHECK_STR(s, "0123456789");
	free(s);
	s = text_sanitize("abcd", 4, 4);
	CHECK_STR(s, "abcd");
	free(s);
	s = text_sanitize("01234 6789", 10, 10);
	CHECK_STR(s, "01234 6789");
	free(s);
	s = text_sanitize("0123456789a", 11, 10);
	CHECK_STR(s, "0123456...");
	free(s);
}

int
main(void)
{
	test_config();
	test_schedule();
	test_text();
	UNIT_END("config");
}
