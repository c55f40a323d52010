/* A trivial static-output `asterisk -rx CMD` for bench/run.sh: prints the
 * file $FAKE_ASTERISK_DIR/<CMD's words joined by "_", "/" as "-">.txt and
 * exits 0 (nothing when there is no such file).  It isolates beacon-report's
 * own cost from that of the bash stand-in (tests/libexec/asterisk). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	char path[4096], name[1024];
	const char *dir = getenv("FAKE_ASTERISK_DIR");
	size_t n = 0;
	FILE *f;

	if (argc != 3 || strcmp(argv[1], "-rx") != 0 || dir == NULL)
		return 64;
	for (const char *p = argv[2]; *p != '\0' && n + 1 < sizeof name; p++)
		name[n++] = *p == ' ' ? '_' : *p == '/' ? '-' : *p;
	name[n] = '\0';
	if (snprintf(path, sizeof path, "%s/%s.txt", dir, name) >= (int)sizeof path)
		return 64;
	f = fopen(path, "rb");
	if (f != NULL) {
		char buf[65536];
		size_t got;

		while ((got = fread(buf, 1, sizeof buf, f)) > 0)
			fwrite(buf, 1, got, stdout);
		fclose(f);
	}
	return 0;
}
