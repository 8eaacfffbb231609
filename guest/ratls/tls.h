/* TLS for RA-TLS (specs/ratls.md §5): OpenSSL, TLS 1.3 only, TLS_AES_128_GCM_SHA256 and
 * TLS_AES_256_GCM_SHA384, no tickets, no resumption, mutual authentication, and a verify
 * callback that forgives only DEPTH_ZERO_SELF_SIGNED_CERT and UNHANDLED_CRITICAL_EXTENSION
 * (for Cocoon's two OIDs) and hands the leaf to cr_peer_verify(). */
#ifndef COCOON_RATLS_TLS_H
#define COCOON_RATLS_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "measure/ratls/peer.h"

/* Per-connection verification state, attached to the SSL (cr_tls_attach). */
struct cr_tls_peer {
	struct cr_verifier *verifier;
	const struct cr_policy *policy;
	struct cr_peer peer;
	bool checked;      /* cr_peer_verify ran in this handshake */
	bool verified;     /* cr_peer_verify accepted the leaf in this handshake */
	int verdict;       /* its return code */
	char error[CM_ERR_MAX + 128];
};

/* A context presenting cert/key; server contexts require a client certificate. */
SSL_CTX *cr_tls_ctx_new(bool server, X509 *cert, EVP_PKEY *key, struct cm_err *e);

/* New SSL on fd for ctx, bound to the peer state (which must outlive the SSL). Clients
 * check the server name "127.0.0.1" like Cocoon's clients and send no SNI. */
SSL *cr_tls_new(SSL_CTX *ctx, int fd, bool server, struct cr_tls_peer *st, struct cm_err *e);

/* Client: run the handshake up to its first flight (the ClientHello) without touching the
 * socket and return prefix || that flight in *out (OPENSSL_malloc'd, *len bytes); the SSL
 * goes on with its socket afterwards, waiting for the ServerHello. Cocoon's PoW server hands
 * its socket to TLS after the one read that took the PoW answer and misses a ClientHello
 * that arrives as a second segment (issue 17), so the answer and the ClientHello must leave
 * in one write. 0 or -EIO. */
int cr_tls_first_flight(SSL *ssl, const uint8_t *prefix, size_t plen, uint8_t **out, size_t *len,
			struct cm_err *e);

/* After the handshake: 0 when the peer was verified by cr_peer_verify in it. */
int cr_tls_check_verified(SSL *ssl, struct cm_err *e);

#endif
