/* One RA-TLS session of the key server protocol (see session.h). */
#include "guest/keyserver/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "guest/keys/seal.h"
#include "guest/ratls/identity.h"
#include "measure/ratls/cert.h"

static int ssl_rd(void *ctx, void *buf, int n)
{
	return SSL_read(ctx, buf, n);
}

static int ssl_wr(void *ctx, const void *buf, int n)
{
	return SSL_write(ctx, buf, n);
}

static void set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

int cks_session_start(struct cks_session *s, SSL_CTX *ctx, int fd, bool server, struct cr_verifier *v,
		      const struct cr_policy *policy, unsigned timeout_ms, struct cm_err *e)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->tp.verifier = v;
	s->tp.policy = policy;
	set_timeouts(fd, timeout_ms);
	s->ssl = cr_tls_new(ctx, fd, server, &s->tp, e);
	if (!s->ssl)
		return cm_err_check(e, -EIO, "keyserver_tls");
	int r = SSL_do_handshake(s->ssl);
	if (r != 1) {
		int err = SSL_get_error(s->ssl, r);
		unsigned long code = ERR_peek_error();
		ERR_clear_error();
		int syserr = errno;
		if (s->tp.checked && !s->tp.verified)
			return cm_fail_check(e, -EACCES, "keyserver_tls", "the peer's certificate was refused: %s",
					     s->tp.error);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
		    (err == SSL_ERROR_SYSCALL && (syserr == EAGAIN || syserr == EWOULDBLOCK)))
			return cm_fail_check(e, -ETIMEDOUT, "keyserver_timeout", "TLS handshake: no answer within %u ms",
					     timeout_ms);
		return cm_fail_check(e, -EIO, "keyserver_tls", "TLS handshake failed (%s)",
				     err == SSL_ERROR_SYSCALL ? "timed out or connection closed"
				     : code		      ? ERR_reason_error_string(code)
							      : "peer refused");
	}
	if (cr_tls_check_verified(s->ssl, e) < 0)
		return cm_err_check(e, -EACCES, "keyserver_tls");
	s->io = (struct cks_io){.read = ssl_rd, .write = ssl_wr, .ctx = s->ssl};
	return 0;
}

void cks_session_end(struct cks_session *s)
{
	if (s->ssl) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->fd >= 0)
		close(s->fd);
	s->ssl = NULL;
	s->fd = -1;
}

int cks_connect(const char *server, unsigned timeout_ms, int *fd, struct cm_err *e)
{
	if (strncmp(server, "tcp:", 4) != 0 && strncmp(server, "vsock:", 6) != 0)
		return cm_fail_check(e, -EINVAL, "keyserver_connect", "key server address %.100s: tcp:HOST:PORT or "
									"vsock:CID:PORT", server);
	int r = ck_seal_connect(server, timeout_ms, fd, e);
	if (r < 0)
		return cm_err_check(e, r, r == -ETIMEDOUT ? "keyserver_timeout" : "keyserver_connect");
	return 0;
}

struct cr_verifier *cks_any_verifier(const struct cr_policy **policy, struct cm_err *e)
{
	struct cr_verifier *v = cr_verifier_new(4, 60, e);
	struct cr_policy_conf pc = {.name = "any", .type = CR_POLICY_ANY};
	if (v && cr_verifier_add_policy(v, &pc, e) == 0 && (*policy = cr_verifier_policy(v, "any")))
		return v;
	cr_verifier_free(v);
	return NULL;
}

SSL_CTX *cks_ctx_new(bool server, EVP_PKEY *key, struct cm_err *e)
{
	X509 *cert = NULL;
	SSL_CTX *ctx = NULL;
	if (cr_cert_build(key, NULL, 0, NULL, 0, time(NULL) - CR_CERT_BACKDATE, &cert, e) == 0)
		ctx = cr_tls_ctx_new(server, cert, key, e);
	X509_free(cert);
	return ctx;
}

SSL_CTX *cks_attested_ctx(struct ca_backend *b, bool server, EVP_PKEY *key, const char *event_log,
			  const char *nvml_lib, uint8_t *image_hash, struct cm_err *e)
{
	uint8_t ih[CM_IMAGE_HASH_LEN];
	X509 *cert = NULL;
	SSL_CTX *ctx = NULL;
	if (cr_identity_certify(b, key, event_log, nvml_lib, time(NULL) - CR_CERT_BACKDATE, &cert,
				image_hash ? image_hash : ih, e) == 0)
		ctx = cr_tls_ctx_new(server, cert, key, e);
	X509_free(cert);
	return ctx;
}

/* The key server's quote: libmeasure's default policy with the target's anchor and collateral
 * (an explicit anchor pins its own root key id, Intel's is pinned otherwise). */
static struct cr_verifier *server_verifier(const struct cks_target *t, const struct cr_policy **policy,
					   struct cm_err *e)
{
	struct cr_verifier *v = cr_verifier_new(4, 60, e);
	struct cr_policy_conf pc = {.name = "keyserver", .type = CR_POLICY_TDX};
	snprintf(pc.root, sizeof pc.root, "%s", t->root);
	snprintf(pc.collateral, sizeof pc.collateral, "%s", t->collateral);
	if (v && cr_verifier_add_policy(v, &pc, e) == 0 && (*policy = cr_verifier_policy(v, "keyserver")))
		return v;
	cr_verifier_free(v);
	return NULL;
}

/* Connect and handshake with the key server t names, checking the identity it presents
 * (pins may be absent only when allow_unpinned: the identity command reports them). */
static int client_open(const struct cks_target *t, SSL_CTX *ctx, bool allow_unpinned, struct cks_session *s,
		       struct cr_verifier **vp, struct cm_err *e)
{
	const struct cr_policy *policy;
	int fd, r;
	s->fd = -1;
	s->ssl = NULL;
	struct cr_verifier *v = t->n_image_hashes || (allow_unpinned && t->collateral[0])
					? server_verifier(t, &policy, e)
					: cks_any_verifier(&policy, e);
	if (!(*vp = v))
		return cm_err_check(e, e->code ? e->code : -ENOMEM, "keyserver_identity");
	if (!allow_unpinned && !t->has_pubkey && !t->n_image_hashes)
		return cm_fail_check(e, -EINVAL, "keyserver_identity", "no identity for %s: a key or image hashes", t->server);
	if ((r = cks_connect(t->server, t->timeout_ms, &fd, e)) < 0)
		return r;
	if ((r = cks_session_start(s, ctx, fd, false, v, policy, t->timeout_ms, e)) < 0)
		return r;
	char got[65];
	if (t->has_pubkey && !cm_memeq_ct(s->tp.peer.pubkey, t->pubkey, 32)) {
		cm_hex_encode(s->tp.peer.pubkey, 32, got, sizeof got);
		return cm_fail_check(e, -EACCES, "keyserver_identity", "%s presents key %s, not the pinned one", t->server,
				     got);
	}
	bool listed = false;
	for (size_t i = 0; i < t->n_image_hashes; i++)
		listed |= s->tp.peer.attested && memcmp(s->tp.peer.image_hash, t->image_hashes[i], 32) == 0;
	if (t->n_image_hashes && !listed) {
		cm_hex_encode(s->tp.peer.image_hash, 32, got, sizeof got);
		return cm_fail_check(e, -EACCES, "keyserver_identity", "%s runs image %s, not an allowed one", t->server,
				     got);
	}
	return 0;
}

int cks_client_exchange(const struct cks_target *t, SSL_CTX *ctx, const char *body, char **resp, size_t *resp_len,
			struct cm_err *e)
{
	struct cks_session s;
	struct cr_verifier *v = NULL;
	*resp = NULL;
	int r = client_open(t, ctx, false, &s, &v, e);
	if (r == 0 && ((r = cks_frame_write(&s.io, body, strlen(body), e)) < 0 ||
		       (r = cks_frame_read(&s.io, resp, resp_len, e)) < 0))
		r = cm_err_check(e, r, r == -EIO && errno == EAGAIN ? "keyserver_timeout" : "keyserver_frame");
	cks_session_end(&s);
	cr_verifier_free(v);
	return r;
}

int cks_server_identity(const struct cks_target *t, SSL_CTX *ctx, struct cr_peer *peer, struct cm_err *e)
{
	struct cks_session s;
	struct cr_verifier *v = NULL;
	int r = client_open(t, ctx, true, &s, &v, e);
	if (r == 0)
		*peer = s.tp.peer;
	cks_session_end(&s);
	cr_verifier_free(v);
	return r;
}
