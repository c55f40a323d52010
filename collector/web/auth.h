/* HTTP Basic for the operator's views (COLLECTOR.md §6), written with the
 * fleet view (collector/auth.c).  Declared here first for the statistics'
 * routes, which need it when public_stats = no. */
#ifndef COLLECTOR_AUTH_H
#define COLLECTOR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../base/config.h"
#include "request.h"

/* True when the Authorization header (NULL when absent) carries admin_user
 * and a password matching admin_password_hash; false otherwise, and always
 * false when no hash is configured.  Constant-time. */
bool auth_check(const struct collector_config *cfg,
    const char *authorization_header);

/*
 * May req see a protected view?  Never runs crypt(3) (COLLECTOR.md §4: a
 * password check never holds up the threads that answer requests):
 *   true  - allowed: a check of this very Authorization passed within
 *           AUTH_CACHE_SECONDS, or req->auth_state is AUTH_OK already;
 *   false - not yet: either resp is set (404 no hash, 429 with Retry-After
 *           when the address's failed_logins_per_address_per_hour are
 *           used up, 401 without credentials), or req->auth_state is
 *           AUTH_PENDING: the caller answers API_CHECK_PASSWORD.
 */
bool auth_gate(struct api_request *req);

/* Queue req's check on the one checker thread (started on first use).  At
 * most AUTH_QUEUE_MAX wait; beyond, resp is 503 with Retry-After and
 * auth_done is called at once.  A wrong password counts against the
 * client's address (rate_limits_login_failed); a right one is remembered
 * (a SHA-256 of the header, AUTH_CACHE_SIZE of them, AUTH_CACHE_SECONDS). */
#define AUTH_QUEUE_MAX 8
#define AUTH_CACHE_SIZE 16
#define AUTH_CACHE_SECONDS 60
void auth_submit(struct api_request *req);

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
