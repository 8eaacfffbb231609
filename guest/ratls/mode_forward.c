/* Forward listeners, and the upstream side of socks5 ones: connect the target, answer its
 * PoW challenge (solved a slice per loop turn), the TLS handshake verifying the target
 * (see modes.h). */
#include <openssl/err.h>

#include "guest/ratls/log.h"
#include "guest/ratls/modes.h"
#include "guest/ratls/relay.h"
#include "guest/ratls/upstream.h"

void cr_forward_start(struct conn *c)
{
	if (cr_conn_start_connect(c, &c->l->target, c->l->target_len)) {
		cr_conn_close(c, "target connect failed");
		return;
	}
	c->st = ST_F_CONNECT;
}

enum step cr_st_f_connect(struct conn *c)
{
	int r = cr_upstream_connected(c, "target");
	if (r < 0)
		return STEP_STOP;
	if (r > 0)
		c->st = ST_F_POW_RECV;
	return STEP_CONTINUE;
}

enum step cr_st_f_pow_recv(struct conn *c)
{
	struct cm_err e = {0};
	int r = cr_conn_pre_read(c->fdu, c, CR_POW_CHALLENGE_LEN);
	if (r < 0) {
		cr_upstream_fail(c, "target closed before the PoW challenge");
		return STEP_STOP;
	}
	if (r == 0)
		return STEP_CONTINUE;
	c->pre_len = 0;
	if (cr_pow_challenge_decode(c->pre, &c->ch, &e) || cr_pow_solve_range(&c->ch, 0, 0, &c->pow_next, &e) < 0 ||
	    c->ch.difficulty > c->px->conf.pow_max) {
		cr_log("warn", "pow_refused", "conn=%llu listener=%s difficulty=%d error=\"%s\"", (unsigned long long)c->id,
		       c->l->name, (int)c->ch.difficulty, e.msg[0] ? e.msg : "difficulty above limit");
		cr_upstream_fail(c, "PoW challenge refused");
		return STEP_STOP;
	}
	c->pow_next = 0;
	c->st = ST_F_POW_SOLVE;
	return STEP_CONTINUE;
}

enum step cr_st_f_pow_solve(struct conn *c)
{
	struct cm_err e = {0};
	int64_t nonce;
	int r = cr_pow_solve_range(&c->ch, c->pow_next, POW_STEP, &nonce, &e);
	if (r < 0) {
		cr_upstream_fail(c, "PoW solver failed");
		return STEP_STOP;
	}
	if (r == 0) {
		c->pow_next += POW_STEP;
		return STEP_STOP; /* the loop calls us again (solving list) */
	}
	/* the answer and the ClientHello in one write (tls.h cr_tls_first_flight) */
	uint8_t answer[CR_POW_RESPONSE_LEN];
	cr_pow_response_encode(nonce, answer);
	if (cr_conn_tls_new(c, false) ||
	    cr_tls_first_flight(c->ssl, answer, sizeof(answer), &c->flight, &c->flight_len, &e)) {
		cr_upstream_fail(c, "TLS setup failed");
		return STEP_STOP;
	}
	c->flight_off = 0;
	c->st = ST_F_POW_SEND;
	return STEP_CONTINUE;
}

enum step cr_st_f_pow_send(struct conn *c)
{
	int r = cr_conn_send_rest(c->fdu, c->flight, &c->flight_off, c->flight_len);
	if (r < 0) {
		cr_upstream_fail(c, "target gone during PoW");
		return STEP_STOP;
	}
	if (r > 0) {
		OPENSSL_free(c->flight);
		c->flight = NULL;
		c->st = ST_F_TLS;
	}
	return STEP_CONTINUE;
}

enum step cr_st_f_tls(struct conn *c)
{
	int r = cr_conn_handshake(c);
	if (r < 0)
		return STEP_STOP;
	return r > 0 ? cr_relay_enter(c) : STEP_CONTINUE;
}
