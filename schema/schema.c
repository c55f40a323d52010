/* The schema file as the build compiled it in (schema/embed.sh): what
 * --schema prints is byte for byte the file in the repository. */
#include "schema.h"
#include "schema_data.h"

const char *
schema_text(size_t *len)
{
	if (len != NULL)
		*len = (size_t)schema_json_len;
	return (const char *)schema_json;
}
