/* Unit tests: the collector's configuration (COLLECTOR.md §2): defaults,
 * every key, strict values, errors as "FILE:LINE: message". */
#include <stdlib.h>
#include <unistd.h>

#include <string.h>

#include "../../collector/base/config.h"
#include "../../collector/base/privileges.h"
#include "unit.h"

static char path[] = "/tmp/beacon-unit-collector-XXXXXX";
static char err[1024];
static char many[2048] = "[collector]\nlisten = ";
static struct collector_config cfg;

/* Write text to the temp file and load it; the loader's return.  The
 * previous configuration is freed first. */
static int
load(const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		exit(2);
	fputs(text, f);
	fclose(f);
	collector_config_free(&cfg);
	return collector_config_load(path, &cfg, err, sizeof err);
}

/* The error of loading text, with "PATH:" taken off ("" when it loads). */
static const char *
error_of(const char *text)
{
	size_t n = strlen(path);

	if (load(text) == 0)
		return "";
	if (strncmp(err, path, n) != 0 || err[n] != ':')
		return err;
	return err + n + 1;
}

static bool
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void
test_defaults(void)
{
	CHECK_INT(load(""), 0);
	CHECK_STR(cfg.path, path);
	CHECK_INT(cfg.n_listen, 1);
	CHECK_STR(cfg.listen[0], "[::]:8443");
	CHECK(!cfg.listen_systemd);
	CHECK_STR(cfg.tls_cert, "/etc/beacon-collector/tls/cert.pem");
	CHECK_STR(cfg.tls_key, "/etc/beacon-collector/tls/key.pem");
	CHECK(cfg.tls);
	CHECK_INT(cfg.n_trusted_proxies, 0);
	CHECK_STR(cfg.database, "sqlite:/var/lib/beacon-collector/beacon.db");
	CHECK_INT(cfg.max_body_kb, 256);
	CHECK_INT(cfg.request_timeout, 30);
	CHECK_INT(cfg.max_connections, 1024);
	CHECK(cfg.public_stats);
	CHECK_STR(cfg.admin_user, "admin");
	CHECK_STR(cfg.admin_password_hash, "");
	CHECK_INT(cfg.registrations_per_address_per_hour, 20);
	CHECK_INT(cfg.requests_per_address_per_minute, 120);
	CHECK_INT(cfg.min_update_interval, 30);
	CHECK_INT(cfg.min_group, 10);
	CHECK_INT(cfg.established_days, 3);
	CHECK_INT(cfg.failed_logins_per_address_per_hour, 10);
	CHECK_INT(cfg.active_days, 7);
	CHECK_INT(cfg.retention_days, 400);
	CHECK(!cfg.log_addresses);
	/* comments and blank lines only: the same */
	CHECK_INT(load("; nothing\n# nothing\n\n[collector]\n\n[limits]\n[privacy]\n"), 0);
	CHECK_INT(cfg.max_body_kb, 256);
}

static void
test_every_key(void)
{
	CHECK_INT(load(
	    "\xEF\xBB\xBF; the sample of COLLECTOR.md, every value changed\n"
	    "[collector]\n"
	    "listen = 127.0.0.1:8080, [::1]:8081,unix:/run/beacon.sock ; three\n"
	    "tls_cert = /srv/tls/fullchain.pem\n"
	    "tls_key = /srv/tls/privkey.pem\n"
	    "tls = Off\n"
	    "trusted_proxies = 127.0.0.1, ::1 , 2001:DB8:0:0::7,10.0.0.1\n"
	    "database = postgresql://beacon@db.example/beacon\n"
	    "max_body_kb = 65536\n"
	    "request_timeout = 1\n"
	    "max_connections = 100000\n"
	    "public_stats = no\n"
	    "admin_user = root\n"
	    "admin_password_hash = $y$j9T$abc$def/ghi.\n"
	    "[limits]\n"
	    "registrations_per_address_per_hour = 0\n"
	    "requests_per_address_per_minute = 0\n"
	    "min_update_interval = 0\n"
	    "[privacy]\n"
	    "min_group = 1\n"
	    "active_days = 1\n"
	    "retention_days = 36500\n"
	    "log_addresses = TRUE\n"), 0);
	CHECK_STR(err, "");
	CHECK_INT(cfg.n_listen, 3);
	CHECK_STR(cfg.listen[0], "127.0.0.1:8080");
	CHECK_STR(cfg.listen[1], "[::1]:8081");
	CHECK_STR(cfg.listen[2], "unix:/run/beacon.sock");
	CHECK_STR(cfg.tls_cert, "/srv/tls/fullchain.pem");
	CHECK_STR(cfg.tls_key, "/srv/tls/privkey.pem");
	CHECK(!cfg.tls);
	CHECK_INT(cfg.n_trusted_proxies, 4);
	CHECK_STR(cfg.trusted_proxies[0], "127.0.0.1");
	CHECK_STR(cfg.trusted_proxies[1], "::1");
	CHECK_STR(cfg.trusted_proxies[2], "2001:db8::7");	/* normalised */
	CHECK_STR(cfg.trusted_proxies[3], "10.0.0.1");
	CHECK_STR(cfg.database, "postgresql://beacon@db.example/beacon");
	CHECK_INT(cfg.max_body_kb, 65536);
	CHECK_INT(cfg.request_timeout, 1);
	CHECK_INT(cfg.max_connections, 100000);
	CHECK(!cfg.public_stats);
	CHECK_STR(cfg.admin_user, "root");
	CHECK_STR(cfg.admin_password_hash, "$y$j9T$abc$def/ghi.");
	CHECK_INT(cfg.registrations_per_address_per_hour, 0);
	CHECK_INT(cfg.requests_per_address_per_minute, 0);
	CHECK_INT(cfg.min_update_interval, 0);
	CHECK_INT(cfg.min_group, 1);
	CHECK_INT(cfg.active_days, 1);
	CHECK_INT(cfg.retention_days, 36500);
	CHECK(cfg.log_addresses);

	/* the other forms */
	CHECK_INT(load("[collector]\nlisten = systemd\n"), 0);
	CHECK(cfg.listen_systemd);
	CHECK_INT(cfg.n_listen, 0);
	CHECK_INT(load("[collector]\nlisten = 0.0.0.0:443,beacon.example.org:8443,*:9000\n"
	    "database = sqlite:beacon.db\n"), 0);
	CHECK_INT(cfg.n_listen, 3);
	CHECK_STR(cfg.database, "sqlite:beacon.db");
	CHECK_INT(load("[collector]\ndatabase = postgres://u@h/d\ntrusted_proxies =\n"), 0);
	CHECK_INT(load("[collector]\ntls = no\nlisten = localhost:8080,127.1.2.3:1,[::ffff:127.0.0.1]:2\n"), 0);
	CHECK_INT(load("[collector]\nlisten: [::1]:8443\ntls: no\n"), 0);	/* name: value */
	CHECK_INT(load("[collector]\nadmin_password_hash = $6$salt$hash\n"), 0);
	CHECK_INT(load("[collector]\n  public_stats = 0\n[privacy]\n\tlog_addresses = 1\n"), 0);
	CHECK(!cfg.public_stats);
	CHECK(cfg.log_addresses);
	/* CRLF line ends */
	CHECK_INT(load("[collector]\r\nmax_body_kb = 512\r\n"), 0);
	CHECK_INT(cfg.max_body_kb, 512);
	for (int i = 0; i < COLLECTOR_MAX_LISTEN; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s[::1]:%d",
		    i ? "," : "", i + 1);	/* inih's lines: 198 bytes */
	strcat(many, "\n");
	CHECK_INT(load(many), 0);
	CHECK_INT(cfg.n_listen, COLLECTOR_MAX_LISTEN);
}

static void
test_errors(void)
{
	/* the file */
	collector_config_free(&cfg);
	CHECK_INT(collector_config_load("/nonexistent/beacon-collector.ini", &cfg, err, sizeof err), -1);
	CHECK_STR(err, "/nonexistent/beacon-collector.ini: cannot read: No such file or directory");
	collector_config_free(&cfg);
	CHECK_INT(collector_config_load("/tmp", &cfg, err, sizeof err), -1);
	CHECK(strncmp(err, "/tmp: cannot read: ", 19) == 0);

	/* sections and keys, each at its line */
	CHECK_STR(error_of("[collector]\n[bogus]\nx = 1\n"),
	    "2: unknown section [bogus] (known: [collector], [limits], [privacy])");
	CHECK_STR(error_of("\n\n[Collector]\n"),
	    "3: unknown section [Collector] (known: [collector], [limits], [privacy])");
	CHECK_STR(error_of("[collector\n"), "1: malformed section header (no ']')");
	CHECK_STR(error_of("listen = [::]:1\n"), "1: \"listen\" is outside any section");
	CHECK_STR(error_of("[collector]\n; c\nbogus = 1\n"), "3: unknown option \"bogus\" in [collector]");
	CHECK_STR(error_of("[limits]\nlisten = [::]:1\n"), "2: unknown option \"listen\" in [limits]");
	CHECK_STR(error_of("[privacy]\nmin_update_interval = 5\n"),
	    "2: unknown option \"min_update_interval\" in [privacy]");
	CHECK_STR(error_of("[collector]\nthis is not ini\n"),
	    "2: malformed line (expected [section], name = value or a ; comment)");
	CHECK_STR(error_of("[collector]\nmax_body_kb = 1\n\nmax_body_kb = 2\n"),
	    "4: max_body_kb is set twice (first on line 2)");
	CHECK_STR(error_of("[collector]\nmax_body_kb = 1\n[limits]\n[collector]\nmax_body_kb = 2\n"),
	    "5: max_body_kb is set twice (first on line 2)");
	/* the first error is the one reported */
	CHECK_STR(error_of("[collector]\ntls = maybe\nbogus = 1\n"),
	    "2: tls: \"maybe\" is not a boolean (yes/no, true/false, on/off, 1/0)");
	/* a line too long for inih, and the count goes on right after it */
	char longline[600] = "[collector]\ntls_cert = /";
	memset(longline + strlen(longline), 'a', 400);
	strcat(longline, "\nbogus = 1\n");
	CHECK_STR(error_of(longline), "2: line too long (at most 198 bytes)");
	char nul[] = "[collector]\ntls = yes\0garbage\nmax_body_kb = 1\n";
	FILE *f = fopen(path, "w");
	fwrite(nul, 1, sizeof nul - 1, f);
	fclose(f);
	collector_config_free(&cfg);
	CHECK_INT(collector_config_load(path, &cfg, err, sizeof err), -1);
	CHECK(strstr(err, ":2: a NUL byte in the line") != NULL);

	/* booleans */
	CHECK_STR(error_of("[collector]\npublic_stats = \n"),
	    "2: public_stats: \"\" is not a boolean (yes/no, true/false, on/off, 1/0)");
	CHECK_STR(error_of("[privacy]\nlog_addresses = 2\n"),
	    "2: log_addresses: \"2\" is not a boolean (yes/no, true/false, on/off, 1/0)");
	CHECK_STR(error_of("[privacy]\nlog_addresses = yess\n"),
	    "2: log_addresses: \"yess\" is not a boolean (yes/no, true/false, on/off, 1/0)");

	/* integers: strict, with their ranges */
	CHECK_STR(error_of("[collector]\nmax_body_kb = 0\n"),
	    "2: max_body_kb: \"0\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nmax_body_kb = 65537\n"),
	    "2: max_body_kb: \"65537\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nmax_body_kb = 12k\n"),
	    "2: max_body_kb: \"12k\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nmax_body_kb = -1\n"),
	    "2: max_body_kb: \"-1\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nmax_body_kb = +5\n"),
	    "2: max_body_kb: \"+5\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nmax_body_kb = 0x10\n"),
	    "2: max_body_kb: \"0x10\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nmax_body_kb =\n"),
	    "2: max_body_kb: \"\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nmax_body_kb = 99999999999999999999999\n"),
	    "2: max_body_kb: \"99999999999999999999999\" is not a whole number from 1 to 65536");
	CHECK_STR(error_of("[collector]\nrequest_timeout = 0\n"),
	    "2: request_timeout: \"0\" is not a whole number from 1 to 3600");
	CHECK_STR(error_of("[collector]\nrequest_timeout = 3601\n"),
	    "2: request_timeout: \"3601\" is not a whole number from 1 to 3600");
	CHECK_STR(error_of("[collector]\nmax_connections = 0\n"),
	    "2: max_connections: \"0\" is not a whole number from 1 to 100000");
	CHECK_STR(error_of("[collector]\nmax_connections = 100001\n"),
	    "2: max_connections: \"100001\" is not a whole number from 1 to 100000");
	CHECK_STR(error_of("[limits]\nregistrations_per_address_per_hour = -1\n"),
	    "2: registrations_per_address_per_hour: \"-1\" is not a whole number from 0 to 1000000000");
	CHECK_STR(error_of("[limits]\nrequests_per_address_per_minute = 1.5\n"),
	    "2: requests_per_address_per_minute: \"1.5\" is not a whole number from 0 to 1000000000");
	CHECK_STR(error_of("[limits]\nmin_update_interval = 30m\n"),
	    "2: min_update_interval: \"30m\" is not a whole number from 0 to 1000000000");
	CHECK_STR(error_of("[privacy]\nmin_group = 0\n"),
	    "2: min_group: \"0\" is not a whole number from 1 to 1000000000");
	CHECK_STR(error_of("[privacy]\nactive_days = 0\n"),
	    "2: active_days: \"0\" is not a whole number from 1 to 36500");
	CHECK_STR(error_of("[privacy]\nretention_days = 0\n"),
	    "2: retention_days: \"0\" is not a whole number from 1 to 36500");

	/* listen */
	CHECK_STR(error_of("[collector]\nlisten =\n"), "2: listen: an empty address in the list");
	CHECK_STR(error_of("[collector]\nlisten = [::]:8443,\n"), "2: listen: an empty address in the list");
	CHECK_STR(error_of("[collector]\nlisten = 8443\n"),
	    "2: listen: \"8443\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = :8443\n"),
	    "2: listen: \":8443\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = ::1:8443\n"),
	    "2: listen: \"::1:8443\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = [::1]8443\n"),
	    "2: listen: \"[::1]8443\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = [zz]:8443\n"),
	    "2: listen: \"[zz]:8443\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = 127.0.0.1:0\n"),
	    "2: listen: \"127.0.0.1:0\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = 127.0.0.1:65536\n"),
	    "2: listen: \"127.0.0.1:65536\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = host_x:1\n"),
	    "2: listen: \"host_x:1\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = unix:relative.sock\n"),
	    "2: listen: \"unix:relative.sock\" is not host:port, [IPv6]:port or unix:/path");
	CHECK_STR(error_of("[collector]\nlisten = systemd,[::]:1\n"),
	    "2: listen: \"systemd\" must be the only value");
	CHECK_STR(error_of("[collector]\nlisten = [::]:1,systemd\n"),
	    "2: listen: \"systemd\" must be the only value");
	strcpy(many + strlen(many) - 1, ",[::1]:99\n");
	CHECK_STR(error_of(many), "2: listen: more than 16 addresses");

	/* plain HTTP only on loopback or unix: the tls line, naming the listen line */
	CHECK_STR(error_of("[collector]\ntls = no\n"),
	    "2: tls = no, but listen address \"[::]:8443\" (the default) is not loopback or unix: "
	    "(the protocol is HTTPS only)");
	CHECK_STR(error_of("[collector]\nlisten = 127.0.0.1:80,192.0.2.1:80\n\ntls = false\n"),
	    "4: tls = no, but listen address \"192.0.2.1:80\" (line 2) is not loopback or unix: "
	    "(the protocol is HTTPS only)");
	CHECK_STR(error_of("[collector]\ntls = off\nlisten = localhost.example.com:80\n"),
	    "2: tls = no, but listen address \"localhost.example.com:80\" (line 3) is not loopback or unix: "
	    "(the protocol is HTTPS only)");
	CHECK(strncmp(error_of("[collector]\ntls = 0\nlisten = systemd\n"),
	    "2: tls = no needs listen addresses that are loopback or unix:", 61) == 0);
	CHECK_STR(error_of("[collector]\ntls = yes\nlisten = 192.0.2.1:443\n"), "");

	/* trusted_proxies */
	CHECK_STR(error_of("[collector]\ntrusted_proxies = proxy.example\n"),
	    "2: trusted_proxies: \"proxy.example\" is not a numeric IPv4 or IPv6 address");
	CHECK_STR(error_of("[collector]\ntrusted_proxies = 10.0.0.0/8\n"),
	    "2: trusted_proxies: \"10.0.0.0/8\" is not a numeric IPv4 or IPv6 address");
	CHECK_STR(error_of("[collector]\ntrusted_proxies = 10.0.0.1,,10.0.0.2\n"),
	    "2: trusted_proxies: \"\" is not a numeric IPv4 or IPv6 address");
	CHECK_STR(error_of("[collector]\ntrusted_proxies = 1.2.3\n"),
	    "2: trusted_proxies: \"1.2.3\" is not a numeric IPv4 or IPv6 address");
	CHECK_STR(error_of("[collector]\ntrusted_proxies = [::1]\n"),
	    "2: trusted_proxies: \"[::1]\" is not a numeric IPv4 or IPv6 address");

	/* strings */
	CHECK_STR(error_of("[collector]\ntls_cert =\n"), "2: tls_cert: \"\" must not be empty");
	CHECK_STR(error_of("[collector]\ntls_key = a b\n"),
	    "2: tls_key: \"a b\" holds blanks or characters that are not printable ASCII");
	CHECK_STR(error_of("[collector]\ndatabase = mysql://x\n"),
	    "2: database: \"mysql://x\" is not sqlite:PATH or postgresql://...");
	CHECK_STR(error_of("[collector]\ndatabase = sqlite:\n"),
	    "2: database: \"sqlite:\" needs a path after sqlite:");
	CHECK_STR(error_of("[collector]\nadmin_user = a:b\n"),
	    "2: admin_user: \"a:b\" must not contain ':' (HTTP Basic authentication)");
	CHECK_STR(error_of("[collector]\nadmin_user =\n"), "2: admin_user: \"\" must not be empty");
	/* issue 21/25: a plain password is never repeated; weak kinds refused */
	CHECK(strncmp(error_of("[collector]\nadmin_password_hash = secret\n"),
	    "2: admin_password_hash: the value is not a crypt(3) hash", 56) == 0);
	CHECK(strstr(error_of("[collector]\nadmin_password_hash = $ecret-passw0rd\n"),
	    "passw0rd") == NULL);
	CHECK(strstr(error_of("[collector]\nadmin_password_hash = secret\n"),
	    "secret") == NULL);
	CHECK(strncmp(error_of("[collector]\nadmin_password_hash = $1$salt$qJH7.N4xYta3aEG/dfqo/0\n"),
	    "2: admin_password_hash: the value is not a crypt(3) hash", 56) == 0);
	CHECK(strncmp(error_of("[collector]\nadmin_password_hash = $3$$8846f7eaee8fb117ad06bdd830b7586c\n"),
	    "2: admin_password_hash: the value is not", 40) == 0);
	CHECK(strncmp(error_of("[collector]\nadmin_password_hash = abJnggxhB/yWI\n"),
	    "2: admin_password_hash: the value is not", 40) == 0);
	CHECK_INT(load("[collector]\nadmin_password_hash = $2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui\n"), 0);
	CHECK_INT(load("[collector]\nadmin_password_hash = $gy$j9T$abcdefgh$abcdefgh\n"), 0);

	/* what is echoed is sanitised: no control or non-ASCII bytes */
	CHECK_STR(error_of("[collector]\ntls = \x1b[31mred\x7f\xc3\xbc\n"),
	    "2: tls: \"?[31mred???\" is not a boolean (yes/no, true/false, on/off, 1/0)");
	CHECK(printable(err));
	CHECK_STR(error_of("[x\x1b]\n"), "1: unknown section [x?] (known: [collector], [limits], [privacy])");
	CHECK_STR(error_of("[collector]\nk\x07y = 1\n"), "2: unknown option \"k?y\" in [collector]");
	char huge[300] = "[collector]\ndatabase = ";
	memset(huge + strlen(huge), 'x', 150);
	strcat(huge, "\n");
	const char *e = error_of(huge);
	CHECK(strlen(e) < 200);
	CHECK(strstr(e, "...\" is not sqlite:PATH") != NULL);

	/* the path in the message is sanitised too; a small buffer is cut */
	collector_config_free(&cfg);
	CHECK_INT(collector_config_load("/nonexistent/\x1b]0;x\a", &cfg, err, sizeof err), -1);
	CHECK(printable(err));
	char small[10];
	collector_config_free(&cfg);
	CHECK_INT(collector_config_load("/nonexistent/x", &cfg, small, sizeof small), -1);
	CHECK_STR(small, "/nonexist");
	collector_config_free(&cfg);
	CHECK_INT(collector_config_load("/nonexistent/x", &cfg, NULL, 0), -1);
	collector_config_free(&cfg);
	collector_config_free(NULL);
}

/* Issue 21: max_connections_per_address (0 = no limit) and user. */
static void
test_front_keys(void)
{
	CHECK_INT(load(""), 0);
	CHECK_INT(cfg.max_connections_per_address, 32);
	CHECK_STR(cfg.user, "beacon-collector");
	CHECK(!cfg.user_set);
	CHECK_INT(load("[collector]\nmax_connections_per_address = 0\nuser = nobody\n"), 0);
	CHECK_INT(cfg.max_connections_per_address, 0);
	CHECK_STR(cfg.user, "nobody");
	CHECK(cfg.user_set);
	CHECK_INT(load("[collector]\nuser =\n"), 0);
	CHECK_STR(cfg.user, "");
	CHECK(cfg.user_set);
	CHECK_STR(error_of("[collector]\nmax_connections_per_address = -1\n"),
	    "2: max_connections_per_address: \"-1\" is not a whole number from 0 to 100000");
	CHECK_STR(error_of("[collector]\nuser = a:b\n"),
	    "2: user: \"a:b\" is not a user name");
	CHECK_STR(error_of("[collector]\nuser = two words\n"),
	    "2: user: \"two words\" is not a user name");
}

static void
test_local(void)
{
	CHECK(listen_is_local("unix:/run/x.sock"));
	CHECK(listen_is_local("127.0.0.1:80"));
	CHECK(listen_is_local("127.255.0.9:80"));
	CHECK(listen_is_local("[::1]:80"));
	CHECK(listen_is_local("[::ffff:127.0.0.1]:80"));
	CHECK(listen_is_local("localhost:80"));
	CHECK(listen_is_local("LocalHost:80"));
	CHECK(!listen_is_local("[::]:8443"));
	CHECK(!listen_is_local("0.0.0.0:80"));
	CHECK(!listen_is_local("128.0.0.1:80"));
	CHECK(!listen_is_local("*:80"));
	CHECK(!listen_is_local("[::2]:80"));
	CHECK(!listen_is_local("localhost.example:80"));
	CHECK(!listen_is_local("systemd"));
	CHECK(!listen_is_local("[::1"));
	CHECK(!listen_is_local(""));
	CHECK(!listen_is_local(NULL));
}

/* Started as root: a user that does not exist is an error when set in
 * the file, and root kept (with what to say) when it is the default;
 * never a user that exists here, so that the test keeps its rights. */
static void
test_privileges(void)
{
	struct collector_config c = { 0 };
	char e[512] = "", file[] = "/etc/beacon-collector/beacon-collector.ini";
	char none[] = "", nobody[] = "beacon-unit-no-such-user";
	bool root = geteuid() == 0;

	c.path = file;
	c.user = none;
	CHECK(privileges_drop(&c, e, sizeof e) == PRIVILEGES_NOTHING);
	c.user = nobody;
	c.user_set = false;
	CHECK(privileges_drop(&c, e, sizeof e) ==
	    (root ? PRIVILEGES_KEPT_ROOT : PRIVILEGES_NOTHING));
	CHECK(!root || strstr(e, "user beacon-unit-no-such-user (the default "
	    "of user =) does not exist: running as root") != NULL);
	c.user_set = true;
	e[0] = '\0';
	CHECK(privileges_drop(&c, e, sizeof e) == (root ? -1 : PRIVILEGES_NOTHING));
	/* "no such user", or what the name service's errno says */
	CHECK(!root || strncmp(e, "/etc/beacon-collector/beacon-collector.ini: "
	    "user = beacon-unit-no-such-user: ", 77) == 0);
}

int
main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		exit(2);
	close(fd);
	test_defaults();
	test_every_key();
	test_errors();
	test_front_keys();
	test_local();
	test_privileges();
	collector_config_free(&cfg);
	unlink(path);
	UNIT_END("collector_config");
}
