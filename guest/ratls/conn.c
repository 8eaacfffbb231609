/* The connection core of cocoon-ratls (see conn.h): close and free, epoll interest, preamble
 * I/O, connects and handshakes. */
#include "guest/ratls/conn.h"

#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>

#include "guest/ratls/budget.h"
#include "guest/ratls/log.h"

/* ---- lifecycle ------------------------------------------------------------------------------ */

void cr_conn_close(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	struct cr_proxy *px = c->px;
	c->dead = true;
	if (px->conf.log_connections || (why && strcmp(why, "done")))
		cr_log(why && strcmp(why, "done") ? "warn" : "info", "conn_close",
		       "conn=%llu listener=%s peer=%s reason=\"%s\" bytes_in=%llu bytes_out=%llu secs=%lld",
		       (unsigned long long)c->id, c->l->name, c->peer, why ? why : "done",
		       (unsigned long long)c->bytes_c2u, (unsigned long long)c->bytes_u2c,
		       (long long)(time(NULL) - c->started));
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fdc >= 0)
		close(c->fdc); /* also removes it from epoll */
	if (c->fdu >= 0)
		close(c->fdu);
	c->fdc = c->fdu = -1;
	cr_conn_list_unlink(&px->conns, c, offsetof(struct conn, all));
	c->all.next = px->dead;
	px->dead = c;
	px->nconns--;
	cr_budget_pow_leave(c);
	c->l->nconns--;
}

void cr_conn_free(struct conn *c)
{
	if (c->c2u.p)
		OPENSSL_cleanse(c->c2u.p, c->px->conf.buf_size);
	if (c->u2c.p)
		OPENSSL_cleanse(c->u2c.p, c->px->conf.buf_size);
	free(c->c2u.p);
	free(c->u2c.p);
	OPENSSL_free(c->flight);
	free(c);
}

void cr_conn_reap(struct cr_proxy *px)
{
	while (px->dead) {
		struct conn *c = px->dead;
		px->dead = c->all.next;
		cr_conn_free(c);
	}
}

/* ---- epoll interest ------------------------------------------------------------------------- */

static int set_interest(struct conn *c, int fd, bool *reg, uint32_t *cur, struct ep *ep, uint32_t want)
{
	if (fd < 0)
		return 0;
	if (*reg && *cur == want)
		return 0;
	struct epoll_event ev = {.events = want, .data.ptr = ep};
	if (epoll_ctl(c->px->epfd, *reg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	*reg = true;
	*cur = want;
	return 0;
}

static uint32_t hs_events(const struct conn *c)
{
	return c->hs_want == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN;
}

/* The events a relaying connection waits for (relay.h), or-ed into *wc (client) and *wu
 * (upstream): a side is read while the buffer it fills has room, written while the other
 * direction's buffer holds bytes or its half-close is pending. */
static void relay_interest(const struct conn *c, uint32_t *wc, uint32_t *wu)
{
	size_t cap = c->px->conf.buf_size;
	if (!c->c_eof && c->c2u.len < cap)
		*wc |= EPOLLIN;
	if (c->u2c.len)
		*wc |= EPOLLOUT;
	if (!c->u_eof && c->u2c.len < cap)
		*wu |= EPOLLIN;
	/* a half-close waiting for its time (tls_shut_ms) needs no EPOLLOUT */
	if (c->c2u.len || (c->c_eof && !c->u_shut && !(c->tls_shut_ms && !c->tls_on_c)))
		*wu |= EPOLLOUT;
	if (c->u_eof && !c->c_shut && !(c->tls_shut_ms && c->tls_on_c))
		*wc |= EPOLLOUT;
}

void cr_conn_update_interest(struct conn *c)
{
	uint32_t wc = 0, wu = 0;
	switch (c->st) {
	case ST_R_POW_SEND: wc = EPOLLOUT; break;
	case ST_R_POW_RECV: wc = EPOLLIN; break;
	case ST_R_TLS: wc = hs_events(c); break;
	case ST_R_CONNECT: wu = EPOLLOUT; break;
	case ST_S_GREET: case ST_S_REQUEST: wc = EPOLLIN; break;
	case ST_S_GREET_REPLY: case ST_S_REPLY: wc = EPOLLOUT; break;
	case ST_F_CONNECT: wu = EPOLLOUT; break;
	case ST_F_POW_RECV: wu = EPOLLIN; break;
	case ST_F_POW_SOLVE: break;
	case ST_F_POW_SEND: wu = EPOLLOUT; break;
	case ST_F_TLS: wu = hs_events(c); break;
	case ST_RELAY: relay_interest(c, &wc, &wu); break;
	case NSTATES: break;
	}
	if (set_interest(c, c->fdc, &c->regc, &c->evc, &c->epc, wc) ||
	    set_interest(c, c->fdu, &c->regu, &c->evu, &c->epu, wu))
		cr_conn_close(c, "epoll_ctl failed");
}

/* ---- connect, preamble I/O, handshake ------------------------------------------------------- */

int cr_conn_start_connect(struct conn *c, const struct sockaddr_storage *dst, socklen_t len)
{
	c->fdu = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fdu < 0)
		return -errno;
	int one = 1;
	setsockopt(c->fdu, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fdu, (const struct sockaddr *)dst, len) && errno != EINPROGRESS)
		return -errno;
	return 0;
}

int cr_conn_connect_done(struct conn *c)
{
	int err = 0;
	socklen_t l = sizeof(err);
	if (getsockopt(c->fdu, SOL_SOCKET, SO_ERROR, &err, &l))
		return -errno;
	return -err;
}

/* Read into pre[] up to want bytes. 1 complete, 0 pending, <0 error/EOF. */
int cr_conn_pre_read(int fd, struct conn *c, size_t want)
{
	while (c->pre_len < want) {
		ssize_t n = read(fd, c->pre + c->pre_len, want - c->pre_len);
		if (n > 0) {
			c->pre_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
	return 1;
}

int cr_conn_send_rest(int fd, const uint8_t *p, size_t *off, size_t len)
{
	while (*off < len) {
		ssize_t n = send(fd, p + *off, len - *off, MSG_NOSIGNAL);
		if (n > 0) {
			*off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -EPIPE;
	}
	return 1;
}

int cr_conn_pre_write(int fd, struct conn *c)
{
	int r = cr_conn_send_rest(fd, c->pre, &c->pre_off, c->pre_len);
	if (r > 0)
		c->pre_len = c->pre_off = 0;
	return r;
}

enum step cr_conn_pre_flush(struct conn *c, enum state next, const char *why)
{
	int r = cr_conn_pre_write(c->fdc, c);
	if (r < 0) {
		cr_conn_close(c, why);
		return STEP_STOP;
	}
	if (r > 0)
		c->st = next;
	return STEP_CONTINUE;
}

void cr_conn_pre_set(struct conn *c, const uint8_t *p, size_t n)
{
	memcpy(c->pre, p, n);
	c->pre_len = n;
	c->pre_off = 0;
}

int cr_conn_connect_wait(struct conn *c)
{
	if (!(c->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || c->on_client)
		return 0;
	int r = cr_conn_connect_done(c);
	if (r)
		return r;
	c->events = 0;
	return 1;
}

int cr_conn_tls_new(struct conn *c, bool server)
{
	struct cm_err e = {0};
	c->ssl = cr_tls_new(server ? c->px->srv_ctx : c->px->cli_ctx, server ? c->fdc : c->fdu, server, &c->tp, &e);
	c->tls_on_c = server;
	return c->ssl ? 0 : -EIO;
}

void cr_conn_log_peer(struct conn *c)
{
	const struct cr_peer *p = &c->tp.peer;
	char ih[17] = "-";
	if (p->attested || p->fake_tdx)
		cm_hex_encode(p->image_hash, 8, ih, sizeof(ih));
	if (c->px->conf.log_connections)
		cr_log("info", "peer_verified", "conn=%llu listener=%s peer=%s policy=%s attested=%d%s image_hash=%s cached=%d",
		       (unsigned long long)c->id, c->l->name, c->peer, cr_policy_name(c->l->policy), p->attested,
		       p->fake_tdx ? " fake_tdx=1" : "", ih, p->cached);
}

int cr_conn_handshake(struct conn *c)
{
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		struct cm_err e = {0};
		if (cr_tls_check_verified(c->ssl, &e)) {
			cr_log("warn", "peer_rejected", "conn=%llu listener=%s peer=%s error=\"%s\"",
			       (unsigned long long)c->id, c->l->name, c->peer, e.msg);
			cr_conn_close(c, "peer not verified");
			return -1;
		}
		cr_conn_log_peer(c);
		return 1;
	}
	int err = SSL_get_error(c->ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		c->hs_want = err;
		return 0;
	}
	unsigned long ossl = ERR_peek_error();
	cr_log("warn", "handshake_failed", "conn=%llu listener=%s peer=%s error=\"%s%s%s\"", (unsigned long long)c->id,
	       c->l->name, c->peer, c->tp.error[0] ? c->tp.error : "", c->tp.error[0] ? "; " : "",
	       ossl ? ERR_reason_error_string(ossl) : "connection closed");
	ERR_clear_error();
	cr_conn_close(c, "handshake failed");
	return -1;
}

