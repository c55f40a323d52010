/*
 * Countries (COLLECTOR.md §6, geoip_database): a MaxMind DB file
 * (GeoLite2-Country or DB-IP Lite country format) read with libmaxminddb.
 * The client address of a report is looked up as it arrives; only the
 * country's ISO code is kept (in the server's summary), never the address.
 * Lookups only read the mapped file: safe from any thread.
 */
#ifndef COLLECTOR_GEOIP_H
#define COLLECTOR_GEOIP_H

#include <stdbool.h>
#include <stddef.h>

struct geoip;

/* Open path; 0, or -1 with "PATH: libmaxminddb's words" in err. */
int geoip_open(const char *path, struct geoip **out, char *err,
    size_t errlen);

/* The ISO 3166 code ("DE") of the numeric address (v4, v6, or v4-mapped
 * v6) into out; false when the database has no country for it (or the
 * address is not numeric, or the code is not two capital letters). */
bool geoip_country(const struct geoip *g, const char *address, char out[3]);

/* NULL-safe. */
void geoip_close(struct geoip *g);

#endif
