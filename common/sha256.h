/* SHA-256 (FIPS 180-4), for the clone check's salted hash: small enough
 * to keep here, so that no run links a crypto library for one digest. */
#ifndef BEACON_SHA256_H
#define BEACON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* The digest of data[0..len-1] into out. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif
