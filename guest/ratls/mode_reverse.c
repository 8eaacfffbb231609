/* Reverse listeners (TLS server): PoW challenge, the client's answer, the TLS handshake
 * verifying the client, then the plaintext backend (see modes.h). */
#include "guest/ratls/budget.h"
#include "guest/ratls/log.h"
#include "guest/ratls/modes.h"
#include "guest/ratls/relay.h"
#include "guest/ratls/upstream.h"

void cr_reverse_start(struct conn *c)
{
	struct cm_err e = {0};
	cr_budget_pow_enter(c);
	if (cr_pow_challenge_new(&c->ch, c->px->conf.pow_difficulty, &e)) {
		cr_conn_close(c, "PoW setup failed");
		return;
	}
	cr_pow_challenge_encode(&c->ch, c->pre);
	c->pre_len = CR_POW_CHALLENGE_LEN;
	c->st = ST_R_POW_SEND;
}

enum step cr_st_r_pow_send(struct conn *c)
{
	return cr_conn_pre_flush(c, ST_R_POW_RECV, "client gone during PoW");
}

enum step cr_st_r_pow_recv(struct conn *c)
{
	struct cm_err e = {0};
	int r = cr_conn_pre_read(c->fdc, c, CR_POW_RESPONSE_LEN);
	if (r < 0) {
		cr_conn_close(c, "client gone during PoW");
		return STEP_STOP;
	}
	if (r == 0)
		return STEP_CONTINUE;
	c->pre_len = 0;
	cr_budget_pow_leave(c);
	if (cr_pow_check(&c->ch, c->pre, &e)) {
		cr_log("warn", "pow_rejected", "conn=%llu listener=%s peer=%s error=\"%s\"", (unsigned long long)c->id,
		       c->l->name, c->peer, e.msg);
		cr_conn_close(c, "bad PoW answer");
		return STEP_STOP;
	}
	if (cr_conn_tls_new(c, true)) {
		cr_conn_close(c, "TLS setup failed");
		return STEP_STOP;
	}
	c->st = ST_R_TLS;
	return STEP_CONTINUE;
}

enum step cr_st_r_tls(struct conn *c)
{
	int r = cr_conn_handshake(c);
	if (r < 0)
		return STEP_STOP;
	if (r > 0) {
		if (cr_conn_start_connect(c, &c->l->target, c->l->target_len)) {
			cr_conn_close(c, "backend connect failed");
			return STEP_STOP;
		}
		c->st = ST_R_CONNECT;
	}
	return STEP_CONTINUE;
}

enum step cr_st_r_connect(struct conn *c)
{
	int r = cr_upstream_connected(c, "backend");
	if (r < 0)
		return STEP_STOP;
	return r > 0 ? cr_relay_enter(c) : STEP_CONTINUE;
}
