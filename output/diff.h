/* --diff (CONTRACT §9): what changed between the body a server last
 * accepted (the archive) and the report now. */
#ifndef BEACON_DIFF_H
#define BEACON_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/*
 * The changes from old to new (both Server bodies; old may be NULL: no
 * report accepted yet), as a new object {"changed": bool, "version":
 * {"old","new"}|null, "modules": {"added","removed","changed"},
 * "operating_system": {FIELD: {"old","new"}}, "private_name":
 * {"old","new"}|null}.  Values absent on one side are null.  NULL on
 * ENOMEM.
 */
json_t *diff_bodies(json_t *old, json_t *new_body);

/* The changes as text lines for server name ("  version: A -> B"). */
void diff_print(FILE *out, const char *name, const char *since,
    const json_t *changes, bool have_old);

#endif
