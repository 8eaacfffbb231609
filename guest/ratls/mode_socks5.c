/* Socks5 listeners: the local client's greeting and CONNECT request (socks5.h parses
 * them), the upstream states of mode_forward.c, then the reply once the target is verified
 * (see modes.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "guest/ratls/log.h"
#include "guest/ratls/modes.h"
#include "guest/ratls/relay.h"
#include "guest/ratls/socks5.h"
#include "guest/ratls/upstream.h"

void cr_socks5_start(struct conn *c)
{
	c->st = ST_S_GREET;
}

/* VER NMETHODS METHODS...: only "no authentication" is taken. */
enum step cr_st_s_greet(struct conn *c)
{
	int r = cr_conn_pre_read(c->fdc, c, 2);
	if (r > 0 && c->pre[0] != CR_SOCKS5_VERSION) {
		cr_conn_close(c, "not SOCKS5");
		return STEP_STOP;
	}
	if (r > 0)
		r = cr_conn_pre_read(c->fdc, c, 2 + (size_t)c->pre[1]);
	if (r < 0) {
		cr_conn_close(c, "client gone");
		return STEP_STOP;
	}
	if (r == 0)
		return STEP_CONTINUE;
	if (!memchr(c->pre + 2, CR_SOCKS5_NO_AUTH, c->pre[1])) {
		uint8_t no[2] = {CR_SOCKS5_VERSION, CR_SOCKS5_NO_METHOD};
		(void)!send(c->fdc, no, 2, MSG_NOSIGNAL | MSG_DONTWAIT);
		cr_conn_close(c, "SOCKS5 client offers no 'no auth' method");
		return STEP_STOP;
	}
	static const uint8_t yes[2] = {CR_SOCKS5_VERSION, CR_SOCKS5_NO_AUTH};
	cr_conn_pre_set(c, yes, sizeof(yes));
	c->st = ST_S_GREET_REPLY;
	return STEP_CONTINUE;
}

enum step cr_st_s_greet_reply(struct conn *c)
{
	return cr_conn_pre_flush(c, ST_S_REQUEST, "client gone");
}

enum step cr_st_s_request(struct conn *c)
{
	struct cm_err e = {0};
	/* read exactly the request: pipelined application bytes stay in the socket */
	int r = cr_conn_pre_read(c->fdc, c, cr_socks5_request_len(c->pre, c->pre_len));
	if (r > 0 && cr_socks5_request_len(c->pre, c->pre_len) > c->pre_len)
		r = cr_conn_pre_read(c->fdc, c, cr_socks5_request_len(c->pre, c->pre_len));
	if (r < 0) {
		cr_conn_close(c, "client gone");
		return STEP_STOP;
	}
	if (r == 0)
		return STEP_CONTINUE;
	r = cr_socks5_request_parse(c->pre, c->pre_len, &c->dst, &c->dst_len, &e);
	if (r < 0) {
		cr_log("warn", "socks_rejected", "conn=%llu peer=%s error=\"%s\"", (unsigned long long)c->id, c->peer,
		       e.msg);
		cr_socks5_fail(c, cr_socks5_reply_for(r), "bad SOCKS5 request");
		return STEP_STOP;
	}
	if (r > 0) {
		c->pre_len = 0;
		if (cr_conn_start_connect(c, &c->dst, c->dst_len)) {
			cr_socks5_fail(c, CR_SOCKS5_HOST_UNREACHABLE, "target connect failed");
			return STEP_STOP;
		}
		c->st = ST_F_CONNECT;
	}
	return STEP_CONTINUE;
}

enum step cr_st_s_tls(struct conn *c)
{
	struct cm_err e = {0};
	int rr = SSL_do_handshake(c->ssl);
	if (rr != 1) {
		int err = SSL_get_error(c->ssl, rr);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			c->hs_want = err;
			return STEP_CONTINUE;
		}
		cr_log("warn", "handshake_failed", "conn=%llu listener=%s error=\"%s\"", (unsigned long long)c->id,
		       c->l->name, c->tp.error[0] ? c->tp.error : "TLS handshake failed");
		ERR_clear_error();
		cr_socks5_fail(c, CR_SOCKS5_NOT_ALLOWED, "handshake failed");
		return STEP_STOP;
	}
	if (cr_tls_check_verified(c->ssl, &e)) {
		cr_socks5_fail(c, CR_SOCKS5_NOT_ALLOWED, "peer not verified");
		return STEP_STOP;
	}
	cr_conn_log_peer(c);
	uint8_t ok[CR_SOCKS5_REPLY_LEN];
	cr_socks5_reply_encode(CR_SOCKS5_SUCCEEDED, ok);
	cr_conn_pre_set(c, ok, sizeof(ok));
	c->st = ST_S_REPLY;
	return STEP_CONTINUE;
}

enum step cr_st_s_reply(struct conn *c)
{
	int r = cr_conn_pre_write(c->fdc, c);
	if (r < 0) {
		cr_conn_close(c, "client gone");
		return STEP_STOP;
	}
	return r > 0 ? cr_relay_enter(c) : STEP_CONTINUE;
}
