/* RA-TLS handshakes (guest/ratls/tls.c) over a socketpair: TLS 1.3 only, mutual, the
 * verify callback's forgiven and fatal errors, no tickets. */
#include "tests/unit/test_ratls_ca.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "guest/ratls/tls.h"

static struct testca *T;
static struct cr_verifier *V;

static int setup(void **state)
{
	(void)state;
	T = testca_new();
	V = testca_verifier(T, NULL, 64);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cr_verifier_free(V);
	testca_free(T);
	return 0;
}

/* One end of a connection; cert and key (either may be NULL) are freed by unpair. */
struct side {
	X509 *cert;
	EVP_PKEY *key;
	SSL_CTX *ctx;
	SSL *ssl;
	struct cr_tls_peer st;
	int fd;
	int done; /* 1 ok, -1 failed */
};

/* Drive both handshakes; returns 1 when both completed. */
static int handshake(struct side *s, struct side *c)
{
	for (int i = 0; i < 200 && (!s->done || !c->done); i++) {
		struct side *x[2] = {c, s};
		for (int j = 0; j < 2; j++) {
			if (x[j]->done)
				continue;
			int r = SSL_do_handshake(x[j]->ssl);
			if (r == 1) {
				x[j]->done = 1;
				continue;
			}
			int err = SSL_get_error(x[j]->ssl, r);
			if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
				x[j]->done = -1;
		}
		if (s->done == -1 || c->done == -1)
			break;
	}
	ERR_clear_error();
	return s->done == 1 && c->done == 1;
}

/* An attested certificate of T for a new key of x (variant: a distinct image hash). */
static void side_cert(struct side *x, int variant, time_t not_before)
{
	x->cert = testca_cert(T, &x->key, variant, not_before);
}

/* Connect server s and client c (zeroed but for their certificates) over a socketpair, each
 * verifying the other under its policy. */
static void pair(struct side *s, struct side *c, const char *spol, const char *cpol)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	struct cm_err e = {0};
	s->ctx = cr_tls_ctx_new(true, s->cert, s->key, &e);
	c->ctx = cr_tls_ctx_new(false, c->cert, c->key, &e);
	assert_non_null(s->ctx);
	assert_non_null(c->ctx);
	s->st.verifier = c->st.verifier = V;
	s->st.policy = cr_verifier_policy(V, spol);
	c->st.policy = cr_verifier_policy(V, cpol);
	s->fd = sv[0];
	c->fd = sv[1];
	s->ssl = cr_tls_new(s->ctx, s->fd, true, &s->st, &e);
	c->ssl = cr_tls_new(c->ctx, c->fd, false, &c->st, &e);
	assert_non_null(s->ssl);
	assert_non_null(c->ssl);
}

/* Zeroed sides with new certificates: the server's of variant 0 valid from a minute ago, the
 * client's of cvariant valid from c_not_before. */
static void sides_attested(struct side *s, struct side *c, int cvariant, time_t c_not_before)
{
	*s = (struct side){0};
	*c = (struct side){0};
	side_cert(s, 0, time(NULL) - 60);
	side_cert(c, cvariant, c_not_before);
}

/* pair() with new certificates valid from a minute ago (the client's of cvariant). */
static void pair_attested(struct side *s, struct side *c, int cvariant, const char *spol, const char *cpol)
{
	sides_attested(s, c, cvariant, time(NULL) - 60);
	pair(s, c, spol, cpol);
}

/* The handshake fails, side `by` failing it for a reason holding why. */
static void assert_handshake_refused(struct side *s, struct side *c, const struct side *by, const char *why)
{
	assert_int_equal(handshake(s, c), 0);
	assert_int_equal(by->done, -1);
	assert_non_null(strstr(by->st.error, why));
}

static void unpair(struct side *s, struct side *c)
{
	struct side *x[2] = {s, c};
	for (int i = 0; i < 2; i++) {
		SSL_free(x[i]->ssl);
		SSL_CTX_free(x[i]->ctx);
		close(x[i]->fd);
		X509_free(x[i]->cert);
		EVP_PKEY_free(x[i]->key);
	}
}

static void test_mutual_handshake_verifies_both_quotes(void **state)
{
	(void)state;
	struct side s, c;
	pair_attested(&s, &c, 1, "sim", "sim");
	assert_int_equal(handshake(&s, &c), 1);
	struct cm_err e = {0};
	assert_int_equal(cr_tls_check_verified(s.ssl, &e), 0);
	assert_int_equal(cr_tls_check_verified(c.ssl, &e), 0);
	assert_true(s.st.peer.attested && c.st.peer.attested);
	assert_memory_not_equal(s.st.peer.image_hash, c.st.peer.image_hash, 32); /* each saw the other */
	assert_int_equal(SSL_version(c.ssl), TLS1_3_VERSION);
	const char *suite = SSL_CIPHER_get_name(SSL_get_current_cipher(c.ssl));
	assert_true(!strcmp(suite, "TLS_AES_256_GCM_SHA384") || !strcmp(suite, "TLS_AES_128_GCM_SHA256"));
	/* exchange data; the server sends no session ticket */
	size_t n;
	assert_int_equal(SSL_write_ex(c.ssl, "ping", 4, &n), 1);
	char buf[8];
	int r = 0;
	for (int i = 0; i < 10 && r != 1; i++)
		r = SSL_read_ex(s.ssl, buf, 4, &n);
	assert_int_equal(r, 1);
	assert_int_equal(SSL_write_ex(s.ssl, "pong", 4, &n), 1);
	r = 0;
	for (int i = 0; i < 10 && r != 1; i++)
		r = SSL_read_ex(c.ssl, buf, 4, &n);
	assert_int_equal(r, 1);
	SSL_SESSION *sess = SSL_get1_session(c.ssl);
	assert_false(sess && SSL_SESSION_has_ticket(sess));
	assert_false(sess && SSL_SESSION_is_resumable(sess));
	SSL_SESSION_free(sess);
	unpair(&s, &c);
}

/* The client's first flight comes back with the PoW answer in front, nothing is written to the
 * socket meanwhile, and the handshake then goes on over the socket (issue 17: one write). A
 * TCP EOF without close_notify then reads as a close (Cocoon sends none) and the other
 * direction still works. */
static void test_first_flight_and_eof_without_close_notify(void **state)
{
	(void)state;
	struct side s, c;
	pair_attested(&s, &c, 1, "sim", "sim");
	static const uint8_t answer[12] = "pow-answer!";
	uint8_t *out = NULL;
	size_t len = 0;
	struct cm_err e = {0};
	assert_int_equal(cr_tls_first_flight(c.ssl, answer, sizeof(answer), &out, &len, &e), 0);
	char b[16];
	assert_int_equal(recv(s.fd, b, sizeof(b), MSG_DONTWAIT), -1); /* nothing sent yet */
	assert_true(len > sizeof(answer) + 5);
	assert_memory_equal(out, answer, sizeof(answer));
	const uint8_t *rec = out + sizeof(answer);
	assert_int_equal(rec[0], 0x16); /* a handshake record holding all the rest */
	assert_int_equal((size_t)(rec[3] << 8 | rec[4]), len - sizeof(answer) - 5);
	assert_int_equal(send(c.fd, rec, len - sizeof(answer), 0), (ssize_t)(len - sizeof(answer)));
	OPENSSL_free(out);
	assert_int_equal(handshake(&s, &c), 1);
	assert_int_equal(cr_tls_check_verified(s.ssl, &e), 0);
	assert_int_equal(cr_tls_check_verified(c.ssl, &e), 0);
	/* the client's TCP half-close without close_notify: a close for the server */
	assert_int_equal(shutdown(c.fd, SHUT_WR), 0);
	size_t n;
	int r = SSL_read_ex(s.ssl, b, sizeof(b), &n);
	assert_int_equal(r, 0);
	assert_int_equal(SSL_get_error(s.ssl, r), SSL_ERROR_ZERO_RETURN);
	ERR_clear_error();
	assert_int_equal(SSL_write_ex(s.ssl, "late", 4, &n), 1);
	r = 0;
	for (int i = 0; i < 10 && r != 1; i++)
		r = SSL_read_ex(c.ssl, b, 4, &n);
	assert_int_equal(r, 1);
	assert_memory_equal(b, "late", 4);
	unpair(&s, &c);
}

static void test_server_requires_client_certificate(void **state)
{
	(void)state;
	struct side s = {0}, c = {0};
	side_cert(&s, 0, time(NULL) - 60);
	pair(&s, &c, "any", "sim");
	assert_int_equal(handshake(&s, &c), 0);
	assert_int_equal(s.done, -1);
	unpair(&s, &c);
}

static void test_client_rejects_server_with_wrong_report_data(void **state)
{
	(void)state;
	struct cm_err e = {0};
	struct side s = {0}, c = {0};
	s.key = cr_key_new(&e);
	EVP_PKEY *other = cr_key_new(&e);
	size_t qlen;
	uint8_t *q = testca_quote(T, other, 0, &qlen);
	side_cert(&c, 0, time(NULL) - 60);
	assert_int_equal(cr_cert_build(s.key, q, qlen, NULL, 0, time(NULL) - 60, &s.cert, &e), 0);
	pair(&s, &c, "sim", "sim");
	assert_handshake_refused(&s, &c, &c, "report_data");
	unpair(&s, &c);
	free(q);
	EVP_PKEY_free(other);
}

static void test_expired_and_future_certificates_fail_the_handshake(void **state)
{
	(void)state;
	time_t cases[2] = {time(NULL) - 2 * 86400, time(NULL) + 120};
	const char *want[2] = {"expired", "not yet valid"};
	for (int i = 0; i < 2; i++) {
		struct side s, c;
		sides_attested(&s, &c, 0, cases[i]);
		pair(&s, &c, "sim", "sim");
		assert_int_equal(handshake(&s, &c), 0);
		assert_non_null(strstr(s.st.error, want[i]));
		unpair(&s, &c);
	}
}

static void test_unknown_critical_extension_fails_the_handshake(void **state)
{
	(void)state;
	struct side s, c;
	sides_attested(&s, &c, 0, time(NULL) - 60);
	testca_resign_with_ext(c.cert, c.key, "1.2.3.4.5", 1);
	pair(&s, &c, "any", "sim");
	assert_int_equal(handshake(&s, &c), 0);
	assert_non_null(strstr(s.st.error, "critical extension"));
	unpair(&s, &c);
}

static void test_certificate_chain_is_rejected(void **state)
{
	(void)state;
	struct side s, c;
	pair_attested(&s, &c, 0, "any", "sim");
	EVP_PKEY *kca;
	X509 *xca = testca_cert(T, &kca, 0, time(NULL) - 60);
	/* the client sends its leaf plus an extra certificate */
	assert_int_equal(SSL_add1_chain_cert(c.ssl, xca), 1);
	assert_handshake_refused(&s, &c, &s, "chain");
	unpair(&s, &c);
	X509_free(xca);
	EVP_PKEY_free(kca);
}

static void test_tls12_peer_is_refused(void **state)
{
	(void)state;
	struct side s, c;
	pair_attested(&s, &c, 0, "any", "sim");
	SSL_set_min_proto_version(c.ssl, TLS1_2_VERSION);
	SSL_set_max_proto_version(c.ssl, TLS1_2_VERSION);
	assert_int_equal(handshake(&s, &c), 0);
	unpair(&s, &c);
}

static void test_cocoon_v1_certificates_are_accepted(void **state)
{
	(void)state;
	/* Cocoon never sets the version: OpenSSL 3.0 emits v1 certificates carrying v3
	 * extensions. Both sides must accept them (specs/ratls.md §3). */
	struct side s, c;
	sides_attested(&s, &c, 1, time(NULL) - 60);
	struct side *x[2] = {&s, &c};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(X509_set_version(x[i]->cert, X509_VERSION_1), 1);
		assert_true(X509_sign(x[i]->cert, x[i]->key, NULL) > 0);
		assert_int_equal(X509_get_version(x[i]->cert), X509_VERSION_1);
	}
	pair(&s, &c, "sim", "sim");
	assert_int_equal(handshake(&s, &c), 1);
	struct cm_err e = {0};
	assert_int_equal(cr_tls_check_verified(s.ssl, &e), 0);
	assert_int_equal(cr_tls_check_verified(c.ssl, &e), 0);
	unpair(&s, &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_handshake_verifies_both_quotes),
		cmocka_unit_test(test_first_flight_and_eof_without_close_notify),
		cmocka_unit_test(test_server_requires_client_certificate),
		cmocka_unit_test(test_client_rejects_server_with_wrong_report_data),
		cmocka_unit_test(test_expired_and_future_certificates_fail_the_handshake),
		cmocka_unit_test(test_unknown_critical_extension_fails_the_handshake),
		cmocka_unit_test(test_certificate_chain_is_rejected),
		cmocka_unit_test(test_tls12_peer_is_refused),
		cmocka_unit_test(test_cocoon_v1_certificates_are_accepted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
