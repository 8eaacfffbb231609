/* guest/ratls: the connection budgets (budget.c), the relay (relay.c) and the state
 * transitions of the per-mode state functions (mode_*.c through cr_conn_step in
 * dispatch.c), driven over socketpairs: the test holds the peer end of each side of a
 * connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "testutil.h"

#include "guest/ratls/budget.h"
#include "guest/ratls/conn.h"
#include "guest/ratls/dispatch.h"
#include "guest/ratls/relay.h"
#include "guest/ratls/socks5.h"

struct fixture {
	struct cr_proxy *px;
	struct listener l;
};

static struct sockaddr_storage addr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
	} else {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	}
	return ss;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct cr_proxy_conf conf = {.max_conns = 8, .max_pow_conns = 4, .max_pow_conns_per_source = 2,
				     .handshake_timeout = 10, .buf_size = 4096, .pow_max = 20};
	struct cm_err e = {0};
	f->px = cr_proxy_new(&conf, NULL, &e);
	assert_non_null(f->px);
	f->l.max_conns = 6;
	f->l.fd = -1;
	snprintf(f->l.name, sizeof(f->l.name), "test");
	f->px->listeners[f->px->nlisteners++] = &f->l;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	f->px->nlisteners = 0; /* the listener is the fixture's */
	cr_proxy_free(f->px);
	free(f);
	return 0;
}

/* A socketpair: sp[0] for the proxy (non-blocking), sp[1] for the test. */
static void pair(int sp[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	assert_int_equal(fcntl(sp[0], F_SETFL, O_NONBLOCK), 0);
}

/* A connection of mode m whose client side is a socketpair (*peer: the client's end). */
static struct conn *open_conn(struct fixture *f, enum cr_mode m, int *peer)
{
	int sp[2];
	pair(sp);
	f->l.conf.mode = m;
	struct sockaddr_storage src = addr("10.0.0.9", 40000);
	struct conn *c = cr_conn_open(f->px, &f->l, sp[0], &src);
	assert_non_null(c);
	*peer = sp[1];
	return c;
}

static void send_hex(int fd, const char *hex)
{
	size_t n;
	uint8_t *p = hex_to_bytes(hex, &n);
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
	free(p);
}

/* Exactly n bytes from fd, waiting at most a second. */
static void recv_n(int fd, uint8_t *p, size_t n)
{
	struct timeval tv = {.tv_sec = 1};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(recv(fd, p, n, MSG_WAITALL), (ssize_t)n);
}

/* A self-signed Ed25519 identity for the proxy's TLS contexts (the handshakes in these
 * tests never complete: no peer verification happens). */
static void set_identity(struct cr_proxy *px)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *x = X509_new();
	assert_non_null(key);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, NULL) > 0);
	struct cm_err e = {0};
	assert_int_equal(cr_proxy_set_identity(px, x, key, &e), 0);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* ---- budgets -------------------------------------------------------------------------------- */

static void test_budget_same_source(void **state)
{
	(void)state;
	struct sockaddr_storage a = addr("10.0.0.1", 1), b = addr("10.0.0.1", 2), c = addr("10.0.0.2", 1);
	assert_true(cr_budget_same_source(&a, &b));
	assert_false(cr_budget_same_source(&a, &c));
	/* IPv6: one /64 */
	struct sockaddr_storage x = addr("2001:db8:1:2::1", 1), y = addr("2001:db8:1:2:ffff::9", 1),
				z = addr("2001:db8:1:3::1", 1);
	assert_true(cr_budget_same_source(&x, &y));
	assert_false(cr_budget_same_source(&x, &z));
	assert_false(cr_budget_same_source(&a, &x));
	/* IPv4-mapped: the whole address */
	struct sockaddr_storage m1 = addr("::ffff:10.0.0.1", 1), m2 = addr("::ffff:10.0.0.2", 1);
	assert_false(cr_budget_same_source(&m1, &m2));
	assert_true(cr_budget_same_source(&m1, &m1));
}

/* Per-listener and total budgets, for every mode. */
static void test_budget_listener_and_total(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_storage src = addr("10.0.0.1", 1);
	f->l.conf.mode = CR_MODE_FORWARD;
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &src), -1);
	f->l.nconns = 6;
	f->px->nconns = 6;
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &src), REF_LISTENER);
	assert_int_equal(cr_budget_limit(f->px, &f->l, REF_LISTENER), 6);
	f->px->nconns = 8;
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &src), REF_TOTAL);
	assert_int_equal(cr_budget_limit(f->px, &f->l, REF_TOTAL), 8);
	f->l.nconns = f->px->nconns = 0;
}

/* Reverse listeners: the PoW budget and the per-source budget over the connections in the
 * PoW; a connection leaving the PoW frees its slots. */
static void test_budget_pow_and_source(void **state)
{
	struct fixture *f = *state;
	int peers[3];
	struct conn *c[3];
	for (int i = 0; i < 3; i++) {
		c[i] = open_conn(f, CR_MODE_REVERSE, &peers[i]);
		assert_int_equal(c[i]->st, ST_R_POW_RECV); /* the challenge went out */
	}
	assert_int_equal(f->l.npow, 3);
	assert_int_equal(f->px->nconns, 3);
	struct sockaddr_storage same = addr("10.0.0.9", 5), other = addr("10.0.0.10", 5);
	/* 3 from 10.0.0.9 already, 2 allowed per source */
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &same), REF_SOURCE);
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &other), -1);
	f->px->conf.max_pow_conns_per_source = 0; /* no per-source limit */
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &same), -1);
	f->px->max_pow = 3;
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &other), REF_POW);
	/* leaving the PoW (out of the list's middle) */
	cr_budget_pow_leave(c[1]);
	cr_budget_pow_leave(c[1]);
	assert_int_equal(f->l.npow, 2);
	assert_ptr_equal(f->l.pow_head, c[2]);
	assert_ptr_equal(c[2]->inpow.next, c[0]);
	assert_int_equal(cr_budget_refusal(f->px, &f->l, &other), -1);
	/* closing gives back every slot */
	for (int i = 0; i < 3; i++) {
		cr_conn_close(c[i], "test");
		close(peers[i]);
	}
	cr_conn_reap(f->px);
	assert_int_equal(f->l.npow, 0);
	assert_null(f->l.pow_head);
	assert_int_equal(f->l.nconns, 0);
	assert_int_equal(f->px->nconns, 0);
}

/* ---- relay ---------------------------------------------------------------------------------- */

/* A relaying forward connection over two socketpairs (*pc client peer, *pu upstream peer). */
static struct conn *relay_conn(struct fixture *f, int *pc, int *pu)
{
	int sp[2];
	pair(sp);
	f->l.conf.mode = CR_MODE_SOCKS5; /* first state: wait for the greeting */
	struct sockaddr_storage src = addr("10.0.0.9", 40000);
	struct conn *c = cr_conn_open(f->px, &f->l, sp[0], &src);
	assert_non_null(c);
	*pc = sp[1];
	pair(sp);
	c->fdu = sp[0];
	*pu = sp[1];
	assert_int_equal(cr_relay_start(c), 0);
	assert_int_equal(c->st, ST_RELAY);
	cr_conn_update_interest(c);
	return c;
}

static void test_relay_both_ways_and_half_close(void **state)
{
	struct fixture *f = *state;
	int pc, pu;
	struct conn *c = relay_conn(f, &pc, &pu);
	assert_int_equal(c->evc, EPOLLIN);
	assert_int_equal(c->evu, EPOLLIN);
	uint8_t got[16];
	send_hex(pc, "68656c6c6f");
	cr_conn_step(c, EPOLLIN, true);
	recv_n(pu, got, 5);
	assert_memory_equal(got, "hello", 5);
	send_hex(pu, "776f726c64");
	cr_conn_step(c, EPOLLIN, false);
	recv_n(pc, got, 5);
	assert_memory_equal(got, "world", 5);
	assert_int_equal(c->bytes_c2u, 5);
	assert_int_equal(c->bytes_u2c, 5);
	/* the client half-closes: upstream sees EOF, the other direction still flows */
	shutdown(pc, SHUT_WR);
	cr_conn_step(c, EPOLLIN, true);
	assert_true(c->c_eof);
	assert_true(c->u_shut);
	assert_int_equal(recv(pu, got, sizeof(got), MSG_DONTWAIT), 0);
	assert_false(c->evc & EPOLLIN);
	send_hex(pu, "2121");
	cr_conn_step(c, EPOLLIN, false);
	recv_n(pc, got, 2);
	assert_memory_equal(got, "!!", 2);
	assert_false(c->dead);
	/* then the upstream: both directions done, the connection ends */
	shutdown(pu, SHUT_WR);
	cr_conn_step(c, EPOLLIN, false);
	assert_true(c->dead);
	assert_int_equal(recv(pc, got, sizeof(got), MSG_DONTWAIT), 0);
	cr_conn_reap(f->px);
	close(pc);
	close(pu);
}

/* A reverse listener sends the AttestedPeerInfo frame to its backend first unless it says
 * serialize_info false; a forward listener does not unless it says true. */
static void test_relay_peer_info_defaults(void **state)
{
	struct fixture *f = *state;
	f->l.target = addr("127.0.0.1", 8000);
	static const struct {
		enum cr_mode mode;
		enum cr_info info;
		bool sent;
	} cases[] = {
		{CR_MODE_REVERSE, CR_INFO_DEFAULT, true},  {CR_MODE_REVERSE, CR_INFO_OFF, false},
		{CR_MODE_FORWARD, CR_INFO_DEFAULT, false}, {CR_MODE_FORWARD, CR_INFO_ON, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int pc;
		struct conn *c = open_conn(f, CR_MODE_SOCKS5, &pc); /* waits for a greeting: no I/O */
		f->l.conf.mode = cases[i].mode;
		f->l.conf.serialize_info = cases[i].info;
		assert_int_equal(cr_relay_start(c), 0);
		struct buf *b = cases[i].mode == CR_MODE_REVERSE ? &c->c2u : &c->u2c;
		if (cases[i].sent) {
			assert_int_equal(b->len, 124); /* unattested, IPv4 addresses: Cocoon's size */
			assert_int_equal(cm_le32(b->p), 120);
		} else {
			assert_int_equal(b->len, 0);
		}
		cr_conn_close(c, "test");
		cr_conn_reap(f->px);
		close(pc);
	}
}

/* A full buffer stops reading its source (no EPOLLIN interest) until the other side drains. */
static void test_relay_backpressure(void **state)
{
	struct fixture *f = *state;
	int pc, pu;
	struct conn *c = relay_conn(f, &pc, &pu);
	int small = 4096;
	setsockopt(c->fdu, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(pu, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(fcntl(pc, F_SETFL, O_NONBLOCK), 0);
	static uint8_t chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	size_t sent = 0;
	for (int i = 0; i < 200 && c->evc & EPOLLIN; i++) {
		ssize_t n = send(pc, chunk, sizeof(chunk), MSG_NOSIGNAL);
		if (n > 0)
			sent += (size_t)n;
		cr_conn_step(c, EPOLLIN, true);
	}
	assert_false(c->dead);
	assert_int_equal(c->c2u.off + c->c2u.len, f->px->conf.buf_size); /* full */
	assert_false(c->evc & EPOLLIN);  /* the client is not read */
	assert_true(c->evu & EPOLLOUT);  /* waiting to write upstream */
	/* the upstream peer drains: the client is read again, every byte arrives in order */
	assert_int_equal(fcntl(pu, F_SETFL, O_NONBLOCK), 0);
	static uint8_t sink[1 << 16];
	size_t got = 0;
	for (int i = 0; i < 10000 && got < sent; i++) {
		ssize_t n = recv(pu, sink, sizeof(sink), 0);
		if (n > 0) {
			for (ssize_t k = 0; k < n; k++)
				assert_int_equal(sink[k], 'x');
			got += (size_t)n;
		}
		cr_conn_step(c, EPOLLOUT, false);
		cr_conn_step(c, EPOLLIN, true);
	}
	assert_int_equal(got, sent);
	assert_int_equal(c->bytes_c2u, sent);
	assert_true(c->evc & EPOLLIN);
	cr_conn_close(c, "test");
	cr_conn_reap(f->px);
	close(pc);
	close(pu);
}

/* ---- state transitions ---------------------------------------------------------------------- */

/* A target's PoW challenge of the given difficulty, encoded. */
static void challenge(int difficulty, struct cr_pow_challenge *ch, uint8_t b[CR_POW_CHALLENGE_LEN])
{
	struct cm_err e = {0};
	assert_int_equal(cr_pow_challenge_new(ch, difficulty, &e), 0);
	cr_pow_challenge_encode(ch, b);
}

static void test_socks5_greeting_and_refused_host_name(void **state)
{
	struct fixture *f = *state;
	int pc;
	struct conn *c = open_conn(f, CR_MODE_SOCKS5, &pc);
	assert_int_equal(c->st, ST_S_GREET);
	assert_int_equal(c->evc, EPOLLIN);
	send_hex(pc, "050200"); /* 2 methods, the first byte only */
	cr_conn_step(c, EPOLLIN, true);
	assert_int_equal(c->st, ST_S_GREET);
	send_hex(pc, "01");
	cr_conn_step(c, EPOLLIN, true);
	assert_int_equal(c->st, ST_S_REQUEST); /* the reply went out in the same turn */
	uint8_t r[CR_SOCKS5_REPLY_LEN];
	recv_n(pc, r, 2);
	assert_hex_equal(r, "0500");
	/* a host name, in two pieces */
	send_hex(pc, "050100030e");
	cr_conn_step(c, EPOLLIN, true);
	assert_int_equal(c->st, ST_S_REQUEST);
	send_hex(pc, "776f726b65722e6578616d706c65" "01bb"); /* worker.example:443 */
	cr_conn_step(c, EPOLLIN, true);
	assert_true(c->dead);
	recv_n(pc, r, sizeof(r));
	assert_hex_equal(r, "05080001000000000000");
	assert_int_equal(f->px->nconns, 0);
	cr_conn_reap(f->px);
	close(pc);
}

static void test_socks5_greetings_refused(void **state)
{
	struct fixture *f = *state;
	int pc;
	struct conn *c = open_conn(f, CR_MODE_SOCKS5, &pc);
	send_hex(pc, "050102"); /* username/password only */
	cr_conn_step(c, EPOLLIN, true);
	assert_true(c->dead);
	uint8_t r[2];
	recv_n(pc, r, 2);
	assert_hex_equal(r, "05ff");
	close(pc);
	c = open_conn(f, CR_MODE_SOCKS5, &pc);
	send_hex(pc, "040100");
	cr_conn_step(c, EPOLLIN, true);
	assert_true(c->dead);
	close(pc);
	c = open_conn(f, CR_MODE_SOCKS5, &pc);
	send_hex(pc, "05");
	cr_conn_step(c, EPOLLIN, true);
	assert_false(c->dead);
	close(pc); /* the client goes away mid-greeting */
	cr_conn_step(c, EPOLLIN | EPOLLHUP, true);
	assert_true(c->dead);
	cr_conn_reap(f->px);
	assert_int_equal(f->px->nconns, 0);
}

/* A SOCKS5 CONNECT to an IPv4 address connects the upstream; the upstream states run
 * (connected, the PoW challenge); a refused challenge answers 0x05 to the client. */
static void test_socks5_connect_then_pow_refused(void **state)
{
	struct fixture *f = *state;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage la = addr("127.0.0.1", 0);
	socklen_t ll = sizeof(struct sockaddr_in);
	assert_int_equal(bind(lfd, (struct sockaddr *)&la, ll), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&la, &ll), 0);
	uint16_t port = ntohs(((struct sockaddr_in *)&la)->sin_port);

	int pc;
	struct conn *c = open_conn(f, CR_MODE_SOCKS5, &pc);
	char req[64];
	snprintf(req, sizeof(req), "050100" "05010001" "7f000001" "%04x", port);
	send_hex(pc, req); /* greeting and request in one write */
	cr_conn_step(c, EPOLLIN, true);
	assert_int_equal(c->st, ST_F_CONNECT);
	assert_true(c->fdu >= 0);
	assert_int_equal(c->evu, EPOLLOUT);
	assert_int_equal(c->evc, 0);
	int up = accept(lfd, NULL, NULL);
	assert_true(up >= 0);
	cr_conn_step(c, EPOLLOUT, false);
	assert_int_equal(c->st, ST_F_POW_RECV);
	assert_int_equal(c->evu, EPOLLIN);
	/* a challenge above pow_max (20) */
	struct cr_pow_challenge ch;
	uint8_t b[CR_POW_CHALLENGE_LEN];
	challenge(24, &ch, b);
	assert_int_equal(send(up, b, sizeof(b), 0), (ssize_t)sizeof(b));
	cr_conn_step(c, EPOLLIN, false);
	assert_true(c->dead);
	uint8_t r[2 + CR_SOCKS5_REPLY_LEN];
	recv_n(pc, r, sizeof(r));
	assert_hex_equal(r, "0500" "05050001000000000000");
	cr_conn_reap(f->px);
	close(up);
	close(lfd);
	close(pc);
}

/* Forward upstream: the challenge is solved and answered, then the TLS client starts. */
static void test_forward_pow_answered(void **state)
{
	struct fixture *f = *state;
	set_identity(f->px);
	int pc, sp[2];
	f->l.target = addr("127.0.0.1", 1); /* never connected: the test swaps in a socketpair */
	f->l.target_len = sizeof(struct sockaddr_in);
	struct conn *c = open_conn(f, CR_MODE_FORWARD, &pc);
	assert_int_equal(c->st, ST_F_CONNECT);
	close(c->fdu);
	c->regu = false;
	pair(sp);
	c->fdu = sp[0];
	cr_conn_step(c, EPOLLOUT, false);
	assert_int_equal(c->st, ST_F_POW_RECV);
	struct cr_pow_challenge ch;
	struct cm_err e = {0};
	uint8_t b[CR_POW_CHALLENGE_LEN];
	challenge(4, &ch, b);
	assert_int_equal(send(sp[1], b, 10, 0), 10); /* in two pieces */
	cr_conn_step(c, EPOLLIN, false);
	assert_int_equal(c->st, ST_F_POW_RECV);
	assert_int_equal(send(sp[1], b + 10, sizeof(b) - 10, 0), (ssize_t)(sizeof(b) - 10));
	cr_conn_step(c, EPOLLIN, false);
	for (int i = 0; i < 100000 && c->st == ST_F_POW_SOLVE; i++)
		cr_conn_advance(c); /* the loop's solving turns */
	assert_int_equal(c->st, ST_F_TLS);
	assert_int_equal(c->evu, EPOLLIN); /* the ClientHello is out, waiting for the server */
	uint8_t resp[CR_POW_RESPONSE_LEN];
	recv_n(sp[1], resp, sizeof(resp));
	assert_int_equal(cr_pow_check(&ch, resp, &e), 0);
	uint8_t hello[5];
	recv_n(sp[1], hello, sizeof(hello));
	assert_int_equal(hello[0], 0x16); /* TLS handshake record */
	/* the target goes away: the handshake fails, the connection closes */
	close(sp[1]);
	cr_conn_step(c, EPOLLIN | EPOLLHUP, false);
	assert_true(c->dead);
	cr_conn_reap(f->px);
	close(pc);
}

/* Reverse: a wrong PoW answer closes the connection and frees its PoW slot; a right one
 * starts the TLS server. */
static void test_reverse_pow(void **state)
{
	struct fixture *f = *state;
	f->px->conf.pow_difficulty = 4;
	set_identity(f->px);
	for (int right = 0; right < 2; right++) {
		int pc;
		struct conn *c = open_conn(f, CR_MODE_REVERSE, &pc);
		assert_int_equal(c->st, ST_R_POW_RECV);
		assert_int_equal(f->l.npow, 1);
		uint8_t b[CR_POW_CHALLENGE_LEN], resp[CR_POW_RESPONSE_LEN];
		recv_n(pc, b, sizeof(b));
		struct cr_pow_challenge ch;
		struct cm_err e = {0};
		assert_int_equal(cr_pow_challenge_decode(b, &ch, &e), 0);
		int64_t nonce = 0;
		assert_int_equal(cr_pow_solve(&ch, 28, &nonce, &e), 0);
		while (right == 0 && cr_pow_leading_zeros(ch.salt, nonce) >= 4)
			nonce++;
		cr_pow_response_encode(nonce, resp);
		assert_int_equal(send(pc, resp, sizeof(resp), 0), (ssize_t)sizeof(resp));
		cr_conn_step(c, EPOLLIN, true);
		assert_int_equal(f->l.npow, 0);
		if (right) {
			assert_false(c->dead);
			assert_int_equal(c->st, ST_R_TLS);
			assert_int_equal(c->evc, EPOLLIN); /* waiting for the ClientHello */
			cr_conn_close(c, "test");
		} else {
			assert_true(c->dead);
		}
		cr_conn_reap(f->px);
		close(pc);
	}
}

/* A test with a fresh proxy and listener (setup/teardown). */
#define FIXTURE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_same_source),
		FIXTURE_TEST(test_budget_listener_and_total),
		FIXTURE_TEST(test_budget_pow_and_source),
		FIXTURE_TEST(test_relay_both_ways_and_half_close),
		FIXTURE_TEST(test_relay_backpressure),
		FIXTURE_TEST(test_relay_peer_info_defaults),
		FIXTURE_TEST(test_socks5_greeting_and_refused_host_name),
		FIXTURE_TEST(test_socks5_greetings_refused),
		FIXTURE_TEST(test_socks5_connect_then_pow_refused),
		FIXTURE_TEST(test_forward_pow_answered),
		FIXTURE_TEST(test_reverse_pow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
