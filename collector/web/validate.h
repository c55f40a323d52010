/* Validation of a PUT body against the Swagger `Server` model and the
 * limits of COLLECTOR.md §3 step 4.  The error names the field
 * ("asterisk.modules[3].name: not a string") and is safe to print. */
#ifndef COLLECTOR_VALIDATE_H
#define COLLECTOR_VALIDATE_H

#include <stddef.h>

#include <jansson.h>

#define REPORT_MAX_MODULES 5000
#define REPORT_MAX_STRING 1024	/* bytes, keys included */
#define REPORT_MAX_DEPTH 16

/*
 * Parse and check data[0..len) as the body of PUT /servers/{server_id}:
 * UTF-8 JSON, an object, "id" equal to server_id, every Swagger field of
 * the right type, required fields present, and the limits above.  Fields
 * the Swagger does not name are kept.  On success returns 0 and *out is
 * the parsed object (the caller owns it: json_decref); on failure -1,
 * *out NULL and a one-line message in err.
 */
int report_validate(const char *data, size_t len, const char *server_id,
    json_t **out, char *err, size_t errlen);

#endif
