/* One RA-TLS session of the key server protocol, client or server side: a blocking socket
 * with per-operation timeouts, guest/ratls's TLS 1.3 contexts and verify callback (the peer
 * checked by cr_peer_verify against a policy in the handshake), and frames (proto.h). */
#ifndef COCOON_KEYSERVER_SESSION_H
#define COCOON_KEYSERVER_SESSION_H

#include <limits.h>
#include <stdbool.h>

#include <openssl/ssl.h>

#include "guest/keyserver/proto.h"
#include "guest/ratls/tls.h"

struct cks_session {
	int fd;
	SSL *ssl;
	struct cr_tls_peer tp;
	struct cks_io io;
};

/* Handshake on fd (owned by the session from here on) as server or client with ctx;
 * the peer verified against policy. Check names: keyserver_tls (handshake or verification
 * failed; the message carries the verifier's failed check). */
int cks_session_start(struct cks_session *s, SSL_CTX *ctx, int fd, bool server, struct cr_verifier *v,
		      const struct cr_policy *policy, unsigned timeout_ms, struct cm_err *e);
void cks_session_end(struct cks_session *s);

/* Connect to server ("tcp:HOST:PORT", "vsock:CID:PORT") within timeout_ms. Check names:
 * keyserver_connect, keyserver_timeout. */
int cks_connect(const char *server, unsigned timeout_ms, int *fd, struct cm_err *e);

/* A verifier holding one `any` policy named "any" (certificate structure only; the caller pins
 * the key), for the appliance's view of the key server and the admin listener. */
struct cr_verifier *cks_any_verifier(const struct cr_policy **policy, struct cm_err *e);

/* A TLS context presenting key with an unattested certificate (admin clients; the
 * refusal tests of the attested listener). */
SSL_CTX *cks_ctx_new(bool server, EVP_PKEY *key, struct cm_err *e);



struct ca_backend;
/* A context presenting a fresh certificate for key whose quote (from backend b) binds it,
 * with the RTMR3 event log at event_log (may be NULL) and, with nvml_lib (CG_NVML_LIB; NULL:
 * none), the GPU evidence extension collected for key (guest/ratls/identity.h); image_hash
 * (may be NULL) gets the image hash of that quote. */
SSL_CTX *cks_attested_ctx(struct ca_backend *b, bool server, EVP_PKEY *key, const char *event_log,
			  const char *nvml_lib, uint8_t *image_hash, struct cm_err *e);

/* The key server as the appliance and the admin see it: where, and what identifies it: a
 * pinned identity key, or an image hash allowlist (its quote verified against root and
 * collateral with libmeasure's default policy: UpToDate, no debug TD, the root's key id), or
 * both (both checked). */
struct cks_target {
	char server[128];
	bool has_pubkey;
	uint8_t pubkey[32];
	uint8_t image_hashes[CKS_MAX_ALLOW][32];
	size_t n_image_hashes;
	char root[PATH_MAX];       /* trust anchor PEM ("" = Intel's) */
	char collateral[PATH_MAX]; /* collateral bundle for the server's quote */
	unsigned timeout_ms;
};
/* Connect, handshake (the server's certificate well-formed and identified as t says: check
 * keyserver_identity), send body, read the response frame (*resp malloc'd). */
int cks_client_exchange(const struct cks_target *t, SSL_CTX *ctx, const char *body, char **resp, size_t *resp_len,
			struct cm_err *e);
/* Connect and handshake only (`cocoon-keyserver identity`, what a model owner audits): *peer
 * is what the server's certificate shows, its quote verified (root, collateral) when
 * t->collateral is set; the pins in t, when present, are checked as above. */
int cks_server_identity(const struct cks_target *t, SSL_CTX *ctx, struct cr_peer *peer, struct cm_err *e);
#endif
