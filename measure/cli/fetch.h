/* Fetch a peer's RA-TLS certificate the way a Cocoon client connects: TCP, answer the
 * PoW challenge (refusing a difficulty above max_pow), TLS 1.3 with an unattested
 * self-signed Ed25519 client certificate (Cocoon's client runners do the same). The
 * certificate is returned unverified: the caller verifies it (cr_peer_verify). */
#ifndef COCOON_RATLS_FETCH_H
#define COCOON_RATLS_FETCH_H

#include <openssl/x509.h>

#include "measure/core/util.h"

/* *chain_len = number of certificates the server sent (1 for a conforming server). */
int cr_fetch_peer_cert(const char *host_port, int max_pow, int timeout_s, X509 **out, int *chain_len,
		       int *pow_difficulty, struct cm_err *e);

#endif
