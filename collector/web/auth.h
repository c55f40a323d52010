/* HTTP Basic for the operator's views (COLLECTOR.md §6), written with the
 * fleet view (collector/auth.c).  Declared here first for the statistics'
 * routes, which need it when public_stats = no. */
#ifndef COLLECTOR_AUTH_H
#define COLLECTOR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../base/config.h"

/* True when the Authorization header (NULL when absent) carries admin_user
 * and a password matching admin_password_hash; false otherwise, and always
 * false when no hash is configured.  Constant-time. */
bool auth_check(const struct collector_config *cfg,
    const char *authorization_header);

/* The WWW-Authenticate of a 401 from any of them. */
#define AUTH_CHALLENGE "Basic realm=\"beacon-collector\", charset=\"UTF-8\""

/* True when a hash is configured (the operator's views exist at all). */
#define auth_configured(cfg) ((cfg)->admin_password_hash != NULL && \
	(cfg)->admin_password_hash[0] != '\0')

/* --hash-password: a new crypt(3) hash of password ("$y$" yescrypt, or
 * "$6$" sha512-crypt where libcrypt has no yescrypt) into out; 0, or -1. */
#define CRYPT_HASH_MAX 256
int auth_hash_password(const char *password, char *out, size_t outlen);

/* --hash-password: the password hashed into out, and wiped from memory.
 * When in is a terminal, it is asked for twice ("Password: ", "Again: " on
 * stderr) with echo off, the terminal restored on every path; otherwise it
 * is one line read from in (without its line end).  Else a message in
 * err: BAD_INPUT for no, an empty, a too long password, two that differ or
 * a prompt interrupted by a signal; FAILED when libcrypt could not hash it. */
enum auth_hash_result { AUTH_HASH_OK, AUTH_HASH_BAD_INPUT, AUTH_HASH_FAILED };
enum auth_hash_result auth_hash_stdin(FILE *in, char *out, size_t outlen,
    char *err, size_t errlen);

#endif
