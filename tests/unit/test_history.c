/* Issue 15: the back-off arithmetic, Retry-After and HTTP-date parsing,
 * the retry state file, the clone hash, the metrics text and the privacy
 * guard's matchers. */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../collect/guard.h"
#include "../../common/sha256.h"
#include "../../common/text.h"
#include "../../store/history.h"
#include "../../store/store.h"
#include "unit.h"

static time_t
utc(const char *s)
{
	time_t t = 0;

	if (time_parse_utc(s, &t) != 0) {
		fprintf(stderr, "bad time %s\n", s);
		exit(2);
	}
	return t;
}

static void
test_backoff(void)
{
	CHECK_INT(retry_backoff(1), 3600);
	CHECK_INT(retry_backoff(2), 7200);
	CHECK_INT(retry_backoff(3), 14400);
	CHECK_INT(retry_backoff(5), 57600);
	CHECK_INT(retry_backoff(6), 86400);	/* 115200 capped */
	CHECK_INT(retry_backoff(7), 86400);
	CHECK_INT(retry_backoff(4000000000u), 86400);	/* no overflow */
	CHECK_INT(retry_backoff(0), 3600);

	CHECK_INT(retry_clamp(-5), 60);
	CHECK_INT(retry_clamp(0), 60);
	CHECK_INT(retry_clamp(59), 60);
	CHECK_INT(retry_clamp(60), 60);
	CHECK_INT(retry_clamp(3600), 3600);
	CHECK_INT(retry_clamp(604800), 604800);
	CHECK_INT(retry_clamp(604801), 604800);
	CHECK_INT(retry_clamp(99999999999LL), 604800);
}

static void
test_record(void)
{
	struct retry_state rs;
	time_t t0 = utc("2026-11-22T10:00:00Z");

	memset(&rs, 0, sizeof rs);
	rs.last_exit_code = -1;
	retry_record(&rs, ATTEMPT_UNREACHED, t0, -1);
	CHECK_INT(rs.failures, 1);
	CHECK_INT(rs.since, t0);
	CHECK_INT(rs.until, t0 + 3600);
	CHECK_INT(rs.last_exit_code, 5);
	retry_record(&rs, ATTEMPT_UNREACHED, t0 + 3600, -1);
	CHECK_INT(rs.failures, 2);
	CHECK_INT(rs.since, t0);
	CHECK_INT(rs.until, t0 + 3600 + 7200);
	/* a Retry-After wins over the back-off, clamped */
	retry_record(&rs, ATTEMPT_UNREACHED, t0 + 20000, 10);
	CHECK_INT(rs.failures, 3);
	CHECK_INT(rs.until, t0 + 20000 + 60);
	retry_record(&rs, ATTEMPT_UNREACHED, t0 + 30000, 900);
	CHECK_INT(rs.until, t0 + 30000 + 900);
	/* a rejection keeps the back-off as it was */
	retry_record(&rs, ATTEMPT_REJECTED, t0 + 40000, -1);
	CHECK_INT(rs.failures, 4);
	CHECK_INT(rs.last_exit_code, 6);
	CHECK_INT(rs.last_attempt, t0 + 40000);
	/* an accepted report clears it */
	retry_record(&rs, ATTEMPT_SENT, t0 + 50000, -1);
	CHECK_INT(rs.failures, 0);
	CHECK_INT(rs.until, 0);
	CHECK_INT(rs.last_exit_code, 0);
}

static void
test_http_date(void)
{
	time_t t, want = utc("1994-11-06T08:49:37Z");
	long long secs;
	time_t now = utc("2026-11-22T10:00:00Z");

	CHECK(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t) == 0 && t == want);
	CHECK(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t) == 0 && t == want);
	CHECK(http_date_parse("Sun Nov  6 08:49:37 1994", &t) == 0 && t == want);
	CHECK(http_date_parse("Sun Nov 16 08:49:37 1994", &t) == 0 &&
	    t == want + 10 * 86400);
	CHECK(http_date_parse("Thursday, 01-Jan-37 00:00:00 GMT", &t) == 0 &&
	    t == utc("2037-01-01T00:00:00Z"));
	CHECK(http_date_parse("Sat, 29 Feb 2028 00:00:00 GMT", &t) == 0);
	/* refused: not a date, wrong zone, a day that does not exist, junk */
	CHECK(http_date_parse("", &t) == -1);
	CHECK(http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t) == -1);
	CHECK(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT ", &t) == -1);
	CHECK(http_date_parse("Sun, 6 Nov 1994 08:49:37 GMT", &t) == -1);
	CHECK(http_date_parse("Sun, 31 Feb 1994 08:49:37 GMT", &t) == -1);
	CHECK(http_date_parse("Sun, 29 Feb 2027 08:49:37 GMT", &t) == -1);
	CHECK(http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", &t) == -1);
	CHECK(http_date_parse("Sun, 06 Nov 1994 24:00:00 GMT", &t) == -1);
	CHECK(http_date_parse("Sun, 06 Nov 1969 08:49:37 GMT", &t) == -1);
	CHECK(http_date_parse("Xyz, 06 Nov 1994 08:49:37 GMT", &t) == -1);
	CHECK(http_date_parse("2026-11-22T10:00:00Z", &t) == -1);
	CHECK(http_date_parse(NULL, &t) == -1);

	CHECK(retry_after_parse("120", now, &secs) == 0 && secs == 120);
	CHECK(retry_after_parse(" 0 ", now, &secs) == 0 && secs == 0);
	CHECK(retry_after_parse("99999999999999999999999", now, &secs) == 0 &&
	    secs >= 604800);
	CHECK(retry_after_parse("Sun, 22 Nov 2026 13:00:00 GMT", now, &secs) == 0 &&
	    secs == 3 * 3600);
	CHECK(retry_after_parse("Sun, 22 Nov 2026 09:00:00 GMT", now, &secs) == 0 &&
	    secs == -3600);
	CHECK(retry_after_parse("-5", now, &secs) == -1);
	CHECK(retry_after_parse("12s", now, &secs) == -1);
	CHECK(retry_after_parse("1.5", now, &secs) == -1);
	CHECK(retry_after_parse("", now, &secs) == -1);
	CHECK(retry_after_parse("soon", now, &secs) == -1);
}

static void
test_retry_file(void)
{
	char dir[] = "/tmp/history-unit-XXXXXX";
	struct retry_state rs, back;
	struct stat st;
	int fd;
	time_t t0 = utc("2026-11-22T10:00:00Z");

	if (mkdtemp(dir) == NULL || (fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror("mkdtemp");
		exit(2);
	}
	CHECK(retry_read(fd, "mylab", &back) == 0 && back.failures == 0 &&
	    back.last_exit_code == -1);
	memset(&rs, 0, sizeof rs);
	rs.last_exit_code = -1;
	retry_record(&rs, ATTEMPT_UNREACHED, t0, -1);
	retry_record(&rs, ATTEMPT_UNREACHED, t0 + 3600, -1);
	CHECK(retry_write(fd, "mylab", &rs) == 0);
	CHECK(fstatat(fd, "mylab.retry", &st, 0) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(retry_read(fd, "mylab", &back) == 0);
	CHECK_INT(back.failures, 2);
	CHECK_INT(back.since, t0);
	CHECK_INT(back.until, t0 + 3600 + 7200);
	CHECK_INT(back.last_attempt, t0 + 3600);
	CHECK_INT(back.last_exit_code, 5);
	/* a damaged file counts as clean, with a warning */
	{
		FILE *f;
		char path[256];

		snprintf(path, sizeof path, "%s/mylab.retry", dir);
		f = fopen(path, "w");
		fputs("{\"failures\": \"many\"}", f);
		fclose(f);
	}
	CHECK(retry_read(fd, "mylab", &back) == 0 && back.failures == 0);
	CHECK(retry_remove(fd, "mylab") == 0);
	CHECK(retry_remove(fd, "mylab") == 0);
	CHECK(archive_write(fd, "mylab", "{\"id\":\"x\"}") == 0);
	{
		char *body = NULL;

		CHECK(archive_read(fd, "mylab", &body) == 1);
		CHECK_STR(body, "{\"id\":\"x\"}");
		free(body);
		CHECK(archive_read(fd, "other", &body) == 0 && body == NULL);
	}
	close(fd);
	unit_remove_dir(dir);
}

static void
hex_of(const char *in, size_t len, char out[65])
{
	uint8_t md[SHA256_LEN];

	sha256(in, len, md);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
test_sha256(void)
{
	char hex[65], big[1000];

	/* FIPS 180-2 examples, and the 55/56/64-byte padding edges */
	hex_of("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(big, 'a', sizeof big);
	hex_of(big, 55, hex);
	CHECK_STR(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	hex_of(big, 64, hex);
	CHECK_STR(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	hex_of(big, 1000, hex);
	CHECK_STR(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

static void
test_machine(void)
{
	char a[MACHINE_HASH_LEN + 1], b[MACHINE_HASH_LEN + 1], c[MACHINE_HASH_LEN + 1];
	char out[64];
	const char *listing =
	    "/beacon/machine                                   : 0123456789abcdef0123456789abcdef\n"
	    "/beacon/mylab/machine                             : ffffffffffffffffffffffffffffffff\n"
	    "/beacon/server_id                                 : 11111111-2222-4333-8444-555555555555\n"
	    "3 results found.\n";

	CHECK(machine_hash("0123456789abcdef0123456789abcdef",
	    "11111111-2222-4333-8444-555555555555", a) == 0);
	CHECK(machine_hash("0123456789abcdef0123456789abcdef",
	    "11111111-2222-4333-8444-555555555555", b) == 0);
	CHECK(machine_hash("0123456789abcdef0123456789abcdef",
	    "21111111-2222-4333-8444-555555555555", c) == 0);
	CHECK_INT(strlen(a), 32);
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) != 0);	/* differs per server */
	CHECK(strstr(a, "0123456789abcdef") == NULL);
	CHECK(astdb_parse_machine(listing, "beacon", out, sizeof out) &&
	    strcmp(out, "0123456789abcdef0123456789abcdef") == 0);
	CHECK(astdb_parse_machine(listing, "beacon/mylab", out, sizeof out) &&
	    strcmp(out, "ffffffffffffffffffffffffffffffff") == 0);
	CHECK(!astdb_parse_machine(listing, "beacon/other", out, sizeof out));
	CHECK(!astdb_parse_machine("0 results found.\n", "beacon", out, sizeof out));
}

static void
test_metrics(void)
{
	struct metrics_server s[2] = {
		{.name = "beacon", .has_success = true, .last_success = 1000,
		    .has_attempt = true, .last_attempt = 2000, .failures = 3,
		    .next_due = 5000, .last_exit_code = 5},
		{.name = "my\"lab", .next_due = 0, .last_exit_code = -1},
	};
	char *text = metrics_text(s, 2);

	CHECK(text != NULL);
	CHECK(strstr(text, "# TYPE beacon_report_last_success_timestamp_seconds gauge\n") != NULL);
	CHECK(strstr(text, "beacon_report_last_success_timestamp_seconds{server=\"beacon\"} 1000\n") != NULL);
	CHECK(strstr(text, "beacon_report_consecutive_failures{server=\"beacon\"} 3\n") != NULL);
	CHECK(strstr(text, "beacon_report_last_exit_code{server=\"beacon\"} 5\n") != NULL);
	CHECK(strstr(text, "beacon_report_consecutive_failures{server=\"my\\\"lab\"} 0\n") != NULL);
	CHECK(strstr(text, "beacon_report_last_success_timestamp_seconds{server=\"my") == NULL);
	CHECK(strstr(text, "beacon_report_last_exit_code{server=\"my") == NULL);
	free(text);
}

static void
test_guard(void)
{
	const char *host = "pbx01.example.net";

	CHECK(guard_has_ipv4("talks to 10.0.0.1"));
	CHECK(guard_has_ipv4("192.168.1.254:5060"));
	CHECK(guard_has_ipv4("[255.255.255.255]"));
	CHECK(!guard_has_ipv4("Asterisk 22.10.1"));
	CHECK(!guard_has_ipv4("1.2.3.4.5"));
	CHECK(!guard_has_ipv4("256.1.1.1"));
	CHECK(!guard_has_ipv4("v1.2.3.4"));
	CHECK(!guard_has_ipv4("6.1.0-18-amd64"));

	CHECK(guard_has_ipv6("bound to 2001:db8::1"));
	CHECK(guard_has_ipv6("[fe80::1ff:fe23:4567:890a]:5060"));
	CHECK(guard_has_ipv6("::1"));
	CHECK(guard_has_ipv6("2001:0db8:85a3:0000:0000:8a2e:0370:7334"));
	CHECK(guard_has_ipv6("::ffff:10.0.0.1"));
	CHECK(!guard_has_ipv6("Thu Feb  1 08:49:37 UTC 2024"));
	CHECK(!guard_has_ipv6("std::vector"));
	CHECK(!guard_has_ipv6("a:b:c"));
	CHECK(!guard_has_ipv6("1:2:3:4:5:6:7"));
	CHECK(!guard_has_ipv6("1::2::3"));
	CHECK(!guard_has_ipv6("ratio 16:9"));
	CHECK(!guard_has_ipv6("00:11:22:33:44:55"));

	CHECK(guard_has_mac("nic 00:11:22:33:44:55 up"));
	CHECK(guard_has_mac("AA-BB-CC-DD-EE-FF"));
	CHECK(!guard_has_mac("00:11:22:33:44"));
	CHECK(!guard_has_mac("00:11:22:33:44:55:66"));
	CHECK(!guard_has_mac("00:11-22:33:44:55"));
	CHECK(!guard_has_mac("2024-01-02"));
	CHECK(!guard_has_mac("3f1c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"));

	CHECK(guard_has_email("mail ops@example.com today"));
	CHECK(guard_has_email("a.b+c@mail.example.co.uk"));
	CHECK(!guard_has_email("Asterisk@Home"));
	CHECK(!guard_has_email("@example.com"));
	CHECK(!guard_has_email("user@"));
	CHECK(!guard_has_email("x@10.0.0.1"));

	CHECK(guard_has_sip_uri("sip:100@pbx"));
	CHECK(guard_has_sip_uri("call SIPS:alice@example.org"));
	CHECK(guard_has_sip_uri("<sip:bob>"));
	CHECK(!guard_has_sip_uri("Basic SIP resource"));
	CHECK(!guard_has_sip_uri("chan_sip: module"));
	CHECK(!guard_has_sip_uri("res_pjsip:foo"));
	CHECK(!guard_has_sip_uri("sip: "));

	CHECK(guard_has_host("built on pbx01.example.net", host));
	CHECK(guard_has_host("built on PBX01", host));
	CHECK(guard_has_host("pbx01", host));
	CHECK(!guard_has_host("built on pbx012", host));
	CHECK(!guard_has_host("xpbx01", host));
	CHECK(!guard_has_host("pbx01-b", host));
	CHECK(!guard_has_host("anything", ""));
	CHECK(!guard_has_host("anything", NULL));
	CHECK(guard_has_host("host debian", "debian"));

	CHECK(guard_check("Basic SIP resource", host) == NULL);
	CHECK(guard_check("Dialing Application 22.10.1", host) == NULL);
	CHECK_STR(guard_check("x pbx01 y", host), "the host name");
	CHECK_STR(guard_check("to 10.1.2.3", host), "an IPv4 address");
	CHECK(guard_check(NULL, host) == NULL);
}

static void
test_guard_report(void)
{
	struct report r;
	struct module_info mods[2] = {
		{strdup("res_a.so"), strdup("talks to 10.0.0.1"), strdup("Running"), strdup("core")},
		{strdup("res_b.so"), strdup("Plain"), strdup("Running"), NULL},
	};

	memset(&r, 0, sizeof r);
	r.version_name = strdup("Asterisk 22.10.1");
	r.version_number = strdup("221001");
	r.os_version = strdup("#1 SMP builder@pbx01 2024");
	r.modules = malloc(sizeof mods);
	memcpy(r.modules, mods, sizeof mods);
	r.nmodules = 2;
	CHECK_INT(guard_report(&r, "pbx01"), 2);
	CHECK_STR(r.modules[0].description, GUARD_REDACTED);
	CHECK_STR(r.modules[1].description, "Plain");
	CHECK_STR(r.os_version, GUARD_REDACTED);
	CHECK_STR(r.version_name, "Asterisk 22.10.1");
	CHECK_INT(guard_report(&r, "pbx01"), 0);	/* "[redacted]" is clean */
	/* a four-part version is no address; a host name there still is */
	free(r.version_name);
	r.version_name = strdup("Asterisk 1.8.32.3");
	CHECK_INT(guard_report(&r, "pbx01"), 0);
	CHECK_STR(r.version_name, "Asterisk 1.8.32.3");
	free(r.version_name);
	r.version_name = strdup("Asterisk 22.0.0 pbx01");
	CHECK_INT(guard_report(&r, "pbx01"), 1);
	report_free(&r);
}

int
main(void)
{
	test_backoff();
	test_record();
	test_http_date();
	test_retry_file();
	test_sha256();
	test_machine();
	test_metrics();
	test_guard();
	test_guard_report();
	UNIT_END("history");
}
