/* --schema: the JSON Schema (draft 2020-12) of the Server body, compiled
 * in from schema/server.schema.json. */
#ifndef BEACON_SCHEMA_H
#define BEACON_SCHEMA_H

#include <stddef.h>

/* The schema's text, NUL-terminated, and its length. */
const char *schema_text(size_t *len);

#endif
