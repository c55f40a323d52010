/* The country of an address, from a MaxMind DB file (libmaxminddb). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <maxminddb.h>

#include "geoip.h"

struct geoip {
	MMDB_s db;
};

int
geoip_open(const char *path, struct geoip **out, char *err, size_t errlen)
{
	struct geoip *g = calloc(1, sizeof *g);
	int rc;

	*out = NULL;
	if (g == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, rc == MMDB_IO_ERROR ?
		    "cannot be read" : MMDB_strerror(rc));
		free(g);
		return -1;
	}
	*out = g;
	return 0;
}

bool
geoip_country(const struct geoip *g, const char *address, char out[3])
{
	MMDB_lookup_result_s r;
	MMDB_entry_data_s d;
	int gai = 0, mmdb = 0;

	out[0] = '\0';
	if (g == NULL || address == NULL)
		return false;
	/* A v4 client on a dual-stack socket: look up the v4 address, which
	 * an IPv4-only database has too. */
	if (strncasecmp(address, "::ffff:", 7) == 0 && strchr(address, '.') != NULL)
		address += 7;
	r = MMDB_lookup_string((MMDB_s *)(void *)&g->db, address, &gai, &mmdb);
	if (gai != 0 || mmdb != MMDB_SUCCESS || !r.found_entry)
		return false;
	if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) !=
	    MMDB_SUCCESS || !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING ||
	    d.data_size != 2)
		return false;
	if (d.utf8_string[0] < 'A' || d.utf8_string[0] > 'Z' ||
	    d.utf8_string[1] < 'A' || d.utf8_string[1] > 'Z')
		return false;
	out[0] = d.utf8_string[0];
	out[1] = d.utf8_string[1];
	out[2] = '\0';
	return true;
}

void
geoip_close(struct geoip *g)
{
	if (g == NULL)
		return;
	MMDB_close(&g->db);
	free(g);
}
