/* Fetch a peer's RA-TLS certificate (see fetch.h). */
#include "measure/cli/fetch.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "measure/ratls/addr.h"
#include "measure/ratls/cert.h"
#include "measure/ratls/pow.h"

static int io_wait(int fd, short ev, int timeout_s)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int r = poll(&p, 1, timeout_s * 1000);
	return r > 0 ? 0 : -ETIMEDOUT;
}

static int recv_all(int fd, uint8_t *p, size_t n, int timeout_s)
{
	while (n) {
		if (io_wait(fd, POLLIN, timeout_s))
			return -ETIMEDOUT;
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1; /* collected here, verified by the caller */
}

int cr_fetch_peer_cert(const char *host_port, int max_pow, int timeout_s, X509 **out, int *chain_len,
		       int *pow_difficulty, struct cm_err *e)
{
	*out = NULL;
	struct sockaddr_storage ss;
	socklen_t sl;
	int rc = cr_parse_addr(host_port, true, &ss, &sl, e);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	EVP_PKEY *key = NULL;
	X509 *mine = NULL;
	struct timeval tv = {.tv_sec = timeout_s};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) || connect(fd, (struct sockaddr *)&ss, sl)) {
		rc = cm_fail(e, -errno, "connect %s: %s", host_port, strerror(errno));
		goto out;
	}
	uint8_t ch[CR_POW_CHALLENGE_LEN], resp[CR_POW_RESPONSE_LEN];
	struct cr_pow_challenge c;
	int64_t nonce;
	if ((rc = recv_all(fd, ch, sizeof(ch), timeout_s))) {
		cm_fail(e, rc, "%s: no PoW challenge", host_port);
		goto out;
	}
	if ((rc = cr_pow_challenge_decode(ch, &c, e)) || (rc = cr_pow_solve(&c, max_pow, &nonce, e)))
		goto out;
	*pow_difficulty = c.difficulty;
	cr_pow_response_encode(nonce, resp);
	if (send(fd, resp, sizeof(resp), MSG_NOSIGNAL) != (ssize_t)sizeof(resp)) {
		rc = cm_fail(e, -EPIPE, "%s: PoW answer not sent", host_port);
		goto out;
	}
	if (!(key = cr_key_new(e)) || (rc = cr_cert_build(key, NULL, 0, NULL, 0, time(NULL) - CR_CERT_BACKDATE, &mine, e)))
		goto out;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384") != 1 ||
	    SSL_CTX_use_certificate(ctx, mine) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    !(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, fd) != 1) {
		rc = cm_fail(e, -EIO, "TLS setup failed");
		goto out;
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, accept_any);
	if (SSL_connect(ssl) != 1) {
		unsigned long x = ERR_peek_error();
		rc = cm_fail(e, -EPROTO, "%s: TLS handshake failed (%s)", host_port,
			     x ? ERR_reason_error_string(x) : "connection closed");
		goto out;
	}
	STACK_OF(X509) *sk = SSL_get_peer_cert_chain(ssl);
	*chain_len = sk ? sk_X509_num(sk) : 0;
	*out = SSL_get1_peer_certificate(ssl);
	if (!*out)
		rc = cm_fail(e, -EPROTO, "%s: no server certificate", host_port);
	else
		SSL_shutdown(ssl);
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	X509_free(mine);
	EVP_PKEY_free(key);
	if (fd >= 0)
		close(fd);
	return rc;
}
