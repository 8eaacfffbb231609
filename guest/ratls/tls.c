/* TLS contexts and the RA-TLS verify callback (see tls.h). */
#include "guest/ratls/tls.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static int peer_idx = -1;

static int crit_ext_ok(X509 *x)
{
	/* Every critical extension OpenSSL does not handle must be Cocoon's quote or claims. */
	int n = X509_get_ext_count(x);
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *ext = X509_get_ext(x, i);
		if (!X509_EXTENSION_get_critical(ext) || X509_supported_extension(ext))
			continue;
		char oid[80];
		if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1) <= 0 ||
		    (strcmp(oid, CR_OID_QUOTE) && strcmp(oid, CR_OID_CLAIMS)))
			return 0;
	}
	return 1;
}

static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct cr_tls_peer *st = ssl ? SSL_get_ex_data(ssl, peer_idx) : NULL;
	if (!st)
		return 0;
	int depth = X509_STORE_CTX_get_error_depth(xs);
	STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(xs);
	if (depth != 0 || (sent && sk_X509_num(sent) != 1)) {
		snprintf(st->error, sizeof(st->error), "peer sent a certificate chain, not one self-signed certificate");
		st->verified = false;
		return 0;
	}
	X509 *leaf = X509_STORE_CTX_get_current_cert(xs);
	if (!ok) {
		int err = X509_STORE_CTX_get_error(xs);
		bool forgiven = err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
				(err == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION && leaf && crit_ext_ok(leaf));
		if (!forgiven) {
			snprintf(st->error, sizeof(st->error), "certificate: %s", X509_verify_cert_error_string(err));
			st->verified = false;
			st->checked = true;
			st->verdict = -EBADMSG;
			return 0;
		}
	}
	/* The leaf's attestation, once per handshake (OpenSSL may call back more than once
	 * at depth 0, with ok = 0 for a forgiven error or ok = 1). */
	if (!st->checked) {
		st->checked = true;
		struct cm_err e = {0};
		st->verdict = leaf ? cr_peer_verify(st->verifier, st->policy, leaf, time(NULL), &st->peer, &e) : -EBADMSG;
		if (st->verdict)
			snprintf(st->error, sizeof(st->error), "%s: %s",
				 st->peer.failed_check ? st->peer.failed_check : "peer", leaf ? e.msg : "no certificate");
		st->verified = st->verdict == 0;
	}
	if (!st->verified) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

SSL_CTX *cr_tls_ctx_new(bool server, X509 *cert, EVP_PKEY *key, struct cm_err *e)
{
	if (peer_idx < 0)
		peer_idx = SSL_get_ex_new_index(0, "cr_tls_peer", NULL, NULL, NULL);
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx || peer_idx < 0)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384") != 1)
		goto fail;
	/* IGNORE_UNEXPECTED_EOF: a TCP EOF without close_notify reads as a close (Cocoon never
	 * sends close_notify); the SSL stays usable for writing the other direction. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), verify_cb);
	SSL_CTX_set_verify_depth(ctx, 1);
	if (cert && (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
		     SSL_CTX_check_private_key(ctx) != 1))
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	unsigned long err = ERR_get_error();
	ERR_clear_error();
	cm_fail(e, -EIO, "TLS context setup failed: %s", err ? ERR_reason_error_string(err) : "?");
	return NULL;
}

SSL *cr_tls_new(SSL_CTX *ctx, int fd, bool server, struct cr_tls_peer *st, struct cm_err *e)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set_ex_data(ssl, peer_idx, st) != 1)
		goto fail;
	st->verified = false;
	st->checked = false;
	st->verdict = -EAGAIN;
	st->error[0] = 0;
	if (server) {
		SSL_set_accept_state(ssl);
	} else {
		/* Cocoon's clients: set1_host("127.0.0.1"), IP literal so no SNI. */
		if (X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), "127.0.0.1", 0) != 1)
			goto fail;
		SSL_set_connect_state(ssl);
	}
	return ssl;
fail:
	SSL_free(ssl);
	ERR_clear_error();
	cm_fail(e, -ENOMEM, "SSL setup failed");
	return NULL;
}

int cr_tls_first_flight(SSL *ssl, const uint8_t *prefix, size_t plen, uint8_t **out, size_t *len,
			struct cm_err *e)
{
	*out = NULL;
	*len = 0;
	BIO *sock = SSL_get_rbio(ssl); /* SSL_set_fd: the same BIO reads and writes */
	BIO *mr = BIO_new(BIO_s_mem()), *mw = BIO_new(BIO_s_mem());
	if (!sock || !mr || !mw || BIO_up_ref(sock) != 1) {
		BIO_free(mr);
		BIO_free(mw);
		goto fail;
	}
	BIO_set_mem_eof_return(mr, -1); /* empty: "retry", not EOF */
	SSL_set_bio(ssl, mr, mw);       /* frees the socket BIO's SSL reference; ours keeps it */
	int r = SSL_do_handshake(ssl);
	char *flight = NULL;
	long n = BIO_get_mem_data(mw, &flight);
	bool ok = r < 0 && SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ && n > 0;
	if (ok && (*out = OPENSSL_malloc(plen + (size_t)n))) {
		memcpy(*out, prefix, plen);
		memcpy(*out + plen, flight, (size_t)n);
		*len = plen + (size_t)n;
	}
	SSL_set_bio(ssl, sock, sock); /* takes our reference; frees the memory BIOs */
	if (*out)
		return 0;
fail:
	ERR_clear_error();
	return cm_fail(e, -EIO, "TLS: no first flight");
}

int cr_tls_check_verified(SSL *ssl, struct cm_err *e)
{
	struct cr_tls_peer *st = SSL_get_ex_data(ssl, peer_idx);
	/* SSL_get_verify_result() keeps the forgiven self-signed error: not used. */
	if (!st || !st->verified || st->verdict != 0 || SSL_session_reused(ssl))
		return cm_fail(e, -EPERM, "peer not verified%s%s", st && st->error[0] ? ": " : "",
			       st ? st->error : "");
	return 0;
}
