/* The cocoon-ratls epoll engine (see proxy.h). */
#include "guest/ratls/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "guest/ratls/log.h"
#include "guest/ratls/peerinfo.h"
#include "guest/ratls/tls.h"
#include "measure/ratls/addr.h"
#include "measure/ratls/pow.h"

#define MAX_LISTENERS 64
#define POW_STEP 20000 /* nonces per loop turn while solving (~6 ms) */

enum ep_kind { EP_LISTENER = 1, EP_SIGNAL, EP_CONN_C, EP_CONN_U };

/* Why accept() refused a connection (the budget that was full). */
enum refusal { REF_TOTAL, REF_LISTENER, REF_POW, REF_SOURCE, NREFUSALS };
static const char *const refusal_name[NREFUSALS] = {"total", "listener", "pow", "source"};

struct conn;

struct ep {
	enum ep_kind kind;
	void *ptr;
};

struct listener {
	struct ep ep;
	struct cr_listener_conf conf;
	const struct cr_policy *policy;
	struct sockaddr_storage target;
	socklen_t target_len;
	int fd;
	int port;
	bool paused;
	char name[300];
	int max_conns, nconns;           /* this listener's budget and use */
	int npow;                        /* reverse: connections still in the PoW */
	struct conn *pow_head;           /* ... linked through conn.inpow_next */
	uint64_t refused[NREFUSALS];     /* refusals not logged yet */
};

enum state {
	/* reverse */
	ST_R_POW_SEND, ST_R_POW_RECV, ST_R_TLS, ST_R_CONNECT,
	/* socks5 preamble */
	ST_S_GREET, ST_S_GREET_REPLY, ST_S_REQUEST,
	/* forward / socks5 upstream */
	ST_F_CONNECT, ST_F_POW_RECV, ST_F_POW_SOLVE, ST_F_POW_SEND, ST_F_TLS, ST_S_REPLY,
	ST_RELAY,
};

struct buf {
	uint8_t *p;
	size_t off, len;
};

struct conn {
	struct ep epc, epu;
	struct cr_proxy *px;
	struct listener *l;
	uint64_t id;
	enum state st;
	int fdc, fdu;           /* client side (accepted), upstream side (connected) */
	bool regc, regu;        /* registered in epoll */
	uint32_t evc, evu;      /* registered interest */
	SSL *ssl;               /* on fdc (reverse) or fdu (forward/socks5) */
	bool tls_on_c;
	int hs_want;            /* SSL_ERROR_WANT_READ/WRITE during the handshake */
	struct cr_tls_peer tp;
	uint8_t pre[300];       /* preamble bytes (PoW, SOCKS5) */
	size_t pre_len, pre_off;
	struct cr_pow_challenge ch;
	int64_t pow_next;
	struct sockaddr_storage dst;  /* SOCKS5 target */
	socklen_t dst_len;
	struct sockaddr_storage src;  /* the accepted client's address */
	struct buf c2u, u2c;
	bool c_eof, u_eof, c_shut, u_shut;
	time_t started, last_io;
	uint64_t bytes_c2u, bytes_u2c;
	bool dead;
	char peer[64];
	struct conn *prev, *next;
	struct conn *solve_next;
	bool in_pow;                  /* counted in l->npow */
	struct conn *inpow_prev, *inpow_next; /* l->pow_head list */
};

struct cr_proxy {
	struct cr_proxy_conf conf;
	struct cr_verifier *verifier;
	SSL_CTX *srv_ctx, *cli_ctx;
	int epfd, sigfd;
	struct ep sig_ep;
	int nlisteners;
	struct listener *listeners[MAX_LISTENERS];
	struct conn *conns;    /* all open connections */
	struct conn *dead;     /* closed during this loop turn, freed after it */
	int nconns;
	int max_pow;           /* conf.max_pow_conns resolved */
	uint64_t next_id;
	bool stopping, stop_now;
	time_t stop_deadline;
	sigset_t oldmask;
};

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, h, sizeof(h));
		port = ntohs(a->sin_port);
		snprintf(out, n, "%s:%d", h, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, h, sizeof(h));
		port = ntohs(a->sin6_port);
		snprintf(out, n, "[%s]:%d", h, port);
	} else {
		snprintf(out, n, "?");
	}
}

/* ---- proxy setup ---------------------------------------------------------------------------- */

struct cr_proxy *cr_proxy_new(const struct cr_proxy_conf *conf, struct cr_verifier *v, struct cm_err *e)
{
	struct cr_proxy *px = calloc(1, sizeof(*px));
	if (!px) {
		cm_fail(e, -ENOMEM, "out of memory");
		return NULL;
	}
	px->conf = *conf;
	if (px->conf.buf_size < 4096)
		px->conf.buf_size = 4096;
	px->max_pow = conf->max_pow_conns > 0 ? conf->max_pow_conns : conf->max_conns / 4 > 0 ? conf->max_conns / 4 : 1;
	px->verifier = v;
	px->sigfd = -1;
	px->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (px->epfd < 0) {
		cm_fail(e, -errno, "epoll_create1: %s", strerror(errno));
		free(px);
		return NULL;
	}
	return px;
}

int cr_proxy_set_identity(struct cr_proxy *px, X509 *cert, EVP_PKEY *key, struct cm_err *e)
{
	SSL_CTX *s = cr_tls_ctx_new(true, cert, key, e);
	if (!s)
		return -EIO;
	SSL_CTX *c = cr_tls_ctx_new(false, cert, key, e);
	if (!c) {
		SSL_CTX_free(s);
		return -EIO;
	}
	/* Open connections hold their own references to the old contexts. */
	SSL_CTX_free(px->srv_ctx);
	SSL_CTX_free(px->cli_ctx);
	px->srv_ctx = s;
	px->cli_ctx = c;
	return 0;
}

int cr_proxy_add_listener(struct cr_proxy *px, const struct cr_listener_conf *lc, struct cm_err *e)
{
	if (px->nlisteners >= MAX_LISTENERS)
		return cm_fail(e, -ENOSPC, "too many listeners (max %d)", MAX_LISTENERS);
	const struct cr_policy *pol = cr_verifier_policy(px->verifier, lc->policy);
	if (!pol)
		return cm_fail(e, -EINVAL, "listener %s: unknown policy '%s'", lc->listen, lc->policy);
	struct listener *l = calloc(1, sizeof(*l));
	if (!l)
		return cm_fail(e, -ENOMEM, "out of memory");
	l->conf = *lc;
	l->policy = pol;
	l->fd = -1;
	/* A reverse listener faces the network: by default a quarter of all slots stays for
	 * the other listeners. */
	l->max_conns = lc->max_conns > 0 ? lc->max_conns : px->conf.max_conns;
	if (lc->max_conns <= 0 && lc->mode == CR_MODE_REVERSE && px->conf.max_conns >= 4)
		l->max_conns = px->conf.max_conns - px->conf.max_conns / 4;
	static const char *const mname[] = {"reverse", "forward", "socks5"};
	snprintf(l->name, sizeof(l->name), "%s:%s", mname[lc->mode], lc->listen);
	struct sockaddr_storage ss;
	socklen_t sl;
	int rc = cr_parse_addr(lc->listen, false, &ss, &sl, e);
	if (!rc && lc->mode != CR_MODE_SOCKS5)
		rc = cr_parse_addr(lc->target, true, &l->target, &l->target_len, e);
	if (rc)
		goto fail;
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l->fd, (struct sockaddr *)&ss, sl) || listen(l->fd, 4096)) {
		rc = cm_fail(e, -errno, "listen on %s: %s", lc->listen, strerror(errno));
		goto fail;
	}
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	getsockname(l->fd, (struct sockaddr *)&bound, &bl);
	l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						       : ((struct sockaddr_in *)&bound)->sin_port);
	l->ep = (struct ep){EP_LISTENER, l};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->ep};
	if (epoll_ctl(px->epfd, EPOLL_CTL_ADD, l->fd, &ev)) {
		rc = cm_fail(e, -errno, "epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	px->listeners[px->nlisteners++] = l;
	return 0;
fail:
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	return rc;
}

int cr_proxy_listener_port(const struct cr_proxy *px, int i)
{
	return i >= 0 && i < px->nlisteners ? px->listeners[i]->port : -1;
}

/* ---- connections ------------------------------------------------------------------------------ */

/* The same source: the IPv4 address, the /64 of an IPv6 address (one host's usual
 * allocation), the whole address when either is IPv4-mapped. */
static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family != AF_INET6)
		return false;
	const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
	const struct in6_addr *y = &((const struct sockaddr_in6 *)b)->sin6_addr;
	return !memcmp(x, y, IN6_IS_ADDR_V4MAPPED(x) || IN6_IS_ADDR_V4MAPPED(y) ? 16 : 8);
}

/* The budget a new connection from src on l would exceed, or -1 when it fits. */
static int refusal(const struct cr_proxy *px, const struct listener *l, const struct sockaddr_storage *src)
{
	if (px->nconns >= px->conf.max_conns)
		return REF_TOTAL;
	if (l->nconns >= l->max_conns)
		return REF_LISTENER;
	if (l->conf.mode != CR_MODE_REVERSE)
		return -1;
	if (l->npow >= px->max_pow)
		return REF_POW;
	int n = 0, max = px->conf.max_pow_conns_per_source;
	for (const struct conn *c = l->pow_head; max > 0 && c; c = c->inpow_next)
		if (same_source(&c->src, src) && ++n >= max)
			return REF_SOURCE;
	return -1;
}

static int refusal_limit(const struct cr_proxy *px, const struct listener *l, int r)
{
	return r == REF_TOTAL ? px->conf.max_conns : r == REF_LISTENER ? l->max_conns
		: r == REF_POW ? px->max_pow : px->conf.max_pow_conns_per_source;
}

/* One summary line per listener and reason since the last call (once a second). */
static void log_refusals(struct cr_proxy *px)
{
	for (int i = 0; i < px->nlisteners; i++) {
		struct listener *l = px->listeners[i];
		for (int r = 0; r < NREFUSALS; r++) {
			if (!l->refused[r])
				continue;
			cr_log("warn", "conn_limit", "listener=%s reason=%s limit=%d refused=%llu", l->name,
			       refusal_name[r], refusal_limit(px, l, r), (unsigned long long)l->refused[r]);
			l->refused[r] = 0;
		}
	}
}

static void pow_enter(struct conn *c)
{
	struct listener *l = c->l;
	c->in_pow = true;
	c->inpow_prev = NULL;
	c->inpow_next = l->pow_head;
	if (l->pow_head)
		l->pow_head->inpow_prev = c;
	l->pow_head = c;
	l->npow++;
}

static void pow_leave(struct conn *c)
{
	if (!c->in_pow)
		return;
	struct listener *l = c->l;
	if (c->inpow_prev)
		c->inpow_prev->inpow_next = c->inpow_next;
	else
		l->pow_head = c->inpow_next;
	if (c->inpow_next)
		c->inpow_next->inpow_prev = c->inpow_prev;
	c->inpow_prev = c->inpow_next = NULL;
	c->in_pow = false;
	l->npow--;
}

static void conn_close(struct conn *c, const char *why)
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
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = px->dead;
	px->dead = c;
	px->nconns--;
	pow_leave(c);
	c->l->nconns--;
}

static void conn_free(struct conn *c)
{
	if (c->c2u.p)
		OPENSSL_cleanse(c->c2u.p, c->px->conf.buf_size);
	if (c->u2c.p)
		OPENSSL_cleanse(c->u2c.p, c->px->conf.buf_size);
	free(c->c2u.p);
	free(c->u2c.p);
	free(c);
}

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

static void update_interest(struct conn *c)
{
	uint32_t wc = 0, wu = 0;
	size_t cap = c->px->conf.buf_size;
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
	case ST_RELAY:
		if (!c->c_eof && c->c2u.len < cap)
			wc |= EPOLLIN;
		if (c->u2c.len)
			wc |= EPOLLOUT;
		if (!c->u_eof && c->u2c.len < cap)
			wu |= EPOLLIN;
		if (c->c2u.len || (c->c_eof && !c->u_shut))
			wu |= EPOLLOUT;
		if (c->u_eof && !c->c_shut)
			wc |= EPOLLOUT;
		break;
	}
	if (set_interest(c, c->fdc, &c->regc, &c->evc, &c->epc, wc) ||
	    set_interest(c, c->fdu, &c->regu, &c->evu, &c->epu, wu))
		conn_close(c, "epoll_ctl failed");
}

/* Non-blocking connect of fdu to dst. */
static int start_connect(struct conn *c, const struct sockaddr_storage *dst, socklen_t len)
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

static int connect_done(struct conn *c)
{
	int err = 0;
	socklen_t l = sizeof(err);
	if (getsockopt(c->fdu, SOL_SOCKET, SO_ERROR, &err, &l))
		return -errno;
	return -err;
}

/* Read into pre[] up to want bytes. 1 complete, 0 pending, <0 error/EOF. */
static int pre_read(int fd, struct conn *c, size_t want)
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

static int pre_write(int fd, struct conn *c)
{
	while (c->pre_off < c->pre_len) {
		ssize_t n = send(fd, c->pre + c->pre_off, c->pre_len - c->pre_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->pre_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		return -EPIPE;
	}
	c->pre_len = c->pre_off = 0;
	return 1;
}

/* ---- relay ---------------------------------------------------------------------------------- */

enum { IO_AGAIN = -1, IO_ERR = -2 };

static ssize_t side_read(struct conn *c, bool client, uint8_t *p, size_t n)
{
	int fd = client ? c->fdc : c->fdu;
	if (c->ssl && c->tls_on_c == client) {
		size_t got = 0;
		int r = SSL_read_ex(c->ssl, p, n, &got);
		if (r == 1)
			return (ssize_t)got;
		int err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return IO_AGAIN;
		if (err == SSL_ERROR_ZERO_RETURN)
			return 0; /* close_notify */
		ERR_clear_error();
		return IO_ERR; /* includes EOF without close_notify (truncation) */
	}
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
	}
}

static ssize_t side_write(struct conn *c, bool client, const uint8_t *p, size_t n)
{
	int fd = client ? c->fdc : c->fdu;
	if (c->ssl && c->tls_on_c == client) {
		size_t put = 0;
		int r = SSL_write_ex(c->ssl, p, n, &put);
		if (r == 1)
			return (ssize_t)put;
		int err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return IO_AGAIN;
		ERR_clear_error();
		return IO_ERR;
	}
	for (;;) {
		ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
	}
}

/* Half-close the write direction of a side. 1 done, 0 retry later, <0 error. */
static int side_shutdown(struct conn *c, bool client)
{
	if (c->ssl && c->tls_on_c == client) {
		int r = SSL_shutdown(c->ssl); /* sends close_notify; reading stays possible (TLS 1.3) */
		if (r >= 0)
			return 1;
		int err = SSL_get_error(c->ssl, r);
		ERR_clear_error();
		return err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? 0 : -EPIPE;
	}
	shutdown(client ? c->fdc : c->fdu, SHUT_WR);
	return 1;
}

/* Move bytes src -> buf -> dst. Returns progress (>0), 0 none, <0 fatal. *rd_blocked
 * (per source side) skips reads known to block in this turn: saves syscalls. */
static int pump_dir(struct conn *c, bool from_client, bool *rd_blocked)
{
	struct buf *b = from_client ? &c->c2u : &c->u2c;
	bool *src_eof = from_client ? &c->c_eof : &c->u_eof;
	bool *dst_shut = from_client ? &c->u_shut : &c->c_shut;
	uint64_t *count = from_client ? &c->bytes_c2u : &c->bytes_u2c;
	size_t cap = c->px->conf.buf_size;
	int progress = 0;
	/* read while there is room */
	while (!*src_eof && !*rd_blocked && b->off + b->len < cap) {
		ssize_t n = side_read(c, from_client, b->p + b->off + b->len, cap - b->off - b->len);
		if (n == IO_AGAIN) {
			*rd_blocked = true;
			break;
		}
		if (n == IO_ERR)
			return -1;
		progress = 1;
		if (n == 0) {
			*src_eof = true;
			break;
		}
		b->len += (size_t)n;
	}
	/* write what we have */
	while (b->len) {
		ssize_t n = side_write(c, !from_client, b->p + b->off, b->len);
		if (n == IO_AGAIN)
			break;
		if (n == IO_ERR)
			return -1;
		progress = 1;
		b->off += (size_t)n;
		b->len -= (size_t)n;
		*count += (uint64_t)n;
	}
	if (!b->len)
		b->off = 0;
	else if (b->off && b->off + b->len >= cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
		progress = 1;
	}
	if (*src_eof && !b->len && !*dst_shut) {
		int r = side_shutdown(c, !from_client);
		if (r < 0)
			return -1;
		if (r > 0) {
			*dst_shut = true;
			progress = 1;
		}
	}
	return progress;
}

/* events: what epoll reported for the fd on the client side (on_client) or upstream; a
 * side is read only when it reported EPOLLIN or its TLS object holds decrypted bytes
 * (level-triggered epoll reports the others again). */
static void relay(struct conn *c, uint32_t events, bool on_client)
{
	bool in = events & (EPOLLIN | EPOLLHUP | EPOLLERR);
	bool blk_c = !(on_client && in), blk_u = !(!on_client && in);
	if (c->ssl && SSL_has_pending(c->ssl)) {
		if (c->tls_on_c)
			blk_c = false;
		else
			blk_u = false;
	}
	for (int guard = 0; guard < 64; guard++) {
		/* a write that frees buffer space lets a backpressured side be read again: its
		 * EPOLLIN interest comes back in update_interest() */
		int a = pump_dir(c, true, &blk_c);
		int b = a < 0 ? -1 : pump_dir(c, false, &blk_u);
		if (a < 0 || b < 0) {
			conn_close(c, "relay i/o error");
			return;
		}
		if (a || b)
			c->last_io = time(NULL);
		if (c->c_eof && c->u_eof && c->c_shut && c->u_shut) {
			conn_close(c, "done");
			return;
		}
		if (!a && !b)
			break;
	}
	update_interest(c);
}

static int start_relay(struct conn *c)
{
	size_t cap = c->px->conf.buf_size;
	c->c2u.p = malloc(cap);
	c->u2c.p = malloc(cap);
	if (!c->c2u.p || !c->u2c.p)
		return -ENOMEM;
	if (c->px->conf.serialize_info) {
		/* Cocoon's AttestedPeerInfo, first on the local plaintext side */
		bool rev = c->l->conf.mode == CR_MODE_REVERSE;
		const struct sockaddr_storage *remote = rev ? &c->src : c->l->conf.mode == CR_MODE_SOCKS5 ? &c->dst
												   : &c->l->target;
		const struct sockaddr_storage *local = rev ? &c->l->target : &c->src;
		struct buf *b = rev ? &c->c2u : &c->u2c;
		int n = cr_peerinfo_encode(&c->tp.peer, rev ? remote : local, rev ? local : remote, b->p, cap);
		if (n < 0)
			return n;
		b->len = (size_t)n;
	}
	c->st = ST_RELAY;
	c->last_io = time(NULL);
	return 0;
}

/* ---- state machine ------------------------------------------------------------------------ */

static void log_peer(struct conn *c)
{
	const struct cr_peer *p = &c->tp.peer;
	char ih[17] = "-";
	if (p->attested)
		cm_hex_encode(p->image_hash, 8, ih, sizeof(ih));
	if (c->px->conf.log_connections)
		cr_log("info", "peer_verified", "conn=%llu listener=%s peer=%s policy=%s attested=%d image_hash=%s cached=%d",
		       (unsigned long long)c->id, c->l->name, c->peer, cr_policy_name(c->l->policy), p->attested, ih,
		       p->cached);
}

/* Returns 1 when the handshake completed, 0 pending, <0 failed (conn closed). */
static int do_handshake(struct conn *c)
{
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		struct cm_err e = {0};
		if (cr_tls_check_verified(c->ssl, &e)) {
			cr_log("warn", "peer_rejected", "conn=%llu listener=%s peer=%s error=\"%s\"",
			       (unsigned long long)c->id, c->l->name, c->peer, e.msg);
			conn_close(c, "peer not verified");
			return -1;
		}
		log_peer(c);
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
	conn_close(c, "handshake failed");
	return -1;
}

static void socks_fail(struct conn *c, uint8_t code, const char *why)
{
	/* Best effort: a SOCKS5 failure reply, then close. */
	uint8_t r[10] = {5, code, 0, 1, 0, 0, 0, 0, 0, 0};
	if (c->fdc >= 0)
		(void)!send(c->fdc, r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT);
	conn_close(c, why);
}

static void fail_upstream(struct conn *c, const char *why)
{
	if (c->l->conf.mode == CR_MODE_SOCKS5)
		socks_fail(c, 5, why);
	else
		conn_close(c, why);
}

/* Bytes of the SOCKS5 request known so far to be needed (5 until the address type is in). */
static size_t socks_request_len(const struct conn *c)
{
	if (c->pre_len < 5)
		return 5;
	switch (c->pre[3]) {
	case 1: return 4 + 4 + 2;
	case 4: return 4 + 16 + 2;
	case 3: return 5 + (size_t)c->pre[4] + 2;
	default: return 5; /* socks_request() rejects it */
	}
}

/* Parse a SOCKS5 request in pre[]. 1 complete, 0 need more, <0 protocol error. */
static int socks_request(struct conn *c, struct cm_err *e)
{
	if (c->pre_len < 5)
		return 0;
	if (c->pre[0] != 5 || c->pre[2] != 0)
		return cm_fail(e, -EPROTO, "bad SOCKS5 request header");
	if (c->pre[1] != 1)
		return cm_fail(e, -ENOTSUP, "SOCKS5 command %u not supported (CONNECT only)", c->pre[1]);
	size_t need;
	switch (c->pre[3]) {
	case 1: need = 4 + 4 + 2; break;
	case 4: need = 4 + 16 + 2; break;
	case 3: need = 5 + (size_t)c->pre[4] + 2; break;
	default: return cm_fail(e, -EAFNOSUPPORT, "SOCKS5 address type %u unknown", c->pre[3]);
	}
	if (c->pre_len < need)
		return 0;
	uint16_t port = (uint16_t)(c->pre[need - 2] << 8 | c->pre[need - 1]);
	memset(&c->dst, 0, sizeof(c->dst));
	if (c->pre[3] == 1) {
		struct sockaddr_in *a = (void *)&c->dst;
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, c->pre + 4, 4);
		a->sin_port = htons(port);
		c->dst_len = sizeof(*a);
	} else if (c->pre[3] == 4) {
		struct sockaddr_in6 *a = (void *)&c->dst;
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, c->pre + 4, 16);
		a->sin6_port = htons(port);
		c->dst_len = sizeof(*a);
	} else {
		/* Host names are refused, never resolved: DNS is the host's (a blocking lookup
		 * would stall the loop, and the answer is untrusted anyway); Cocoon's clients
		 * send addresses. A numeric address sent as a name is taken as is. */
		char host[256];
		size_t hl = c->pre[4];
		if (!hl)
			return cm_fail(e, -EPROTO, "SOCKS5 empty host name");
		memcpy(host, c->pre + 5, hl);
		host[hl] = 0;
		for (size_t i = 0; i < hl; i++)
			if (host[i] <= 0x20 || host[i] >= 0x7f)
				return cm_fail(e, -EPROTO, "SOCKS5 host name has invalid characters");
		struct sockaddr_in *a4 = (void *)&c->dst;
		struct sockaddr_in6 *a6 = (void *)&c->dst;
		if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
			a4->sin_family = AF_INET;
			a4->sin_port = htons(port);
			c->dst_len = sizeof(*a4);
		} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons(port);
			c->dst_len = sizeof(*a6);
		} else {
			return cm_fail(e, -EAFNOSUPPORT, "SOCKS5 host name '%s': host names are not resolved", host);
		}
	}
	return 1;
}

static void step(struct conn *c, uint32_t events, bool on_client);

static void advance(struct conn *c)
{
	step(c, 0, false);
}

static void step(struct conn *c, uint32_t events, bool on_client)
{
	struct cm_err e = {0};
	int r;
	for (;;) {
		if (c->dead)
			return;
		enum state before = c->st;
		switch (c->st) {
		case ST_R_POW_SEND:
			r = pre_write(c->fdc, c);
			if (r < 0) {
				conn_close(c, "client gone during PoW");
				return;
			}
			if (r > 0)
				c->st = ST_R_POW_RECV;
			break;
		case ST_R_POW_RECV:
			r = pre_read(c->fdc, c, CR_POW_RESPONSE_LEN);
			if (r < 0) {
				conn_close(c, "client gone during PoW");
				return;
			}
			if (r > 0) {
				c->pre_len = 0;
				pow_leave(c);
				if (cr_pow_check(&c->ch, c->pre, &e)) {
					cr_log("warn", "pow_rejected", "conn=%llu listener=%s peer=%s error=\"%s\"",
					       (unsigned long long)c->id, c->l->name, c->peer, e.msg);
					conn_close(c, "bad PoW answer");
					return;
				}
				c->ssl = cr_tls_new(c->px->srv_ctx, c->fdc, true, &c->tp, &e);
				if (!c->ssl) {
					conn_close(c, "TLS setup failed");
					return;
				}
				c->tls_on_c = true;
				c->st = ST_R_TLS;
			}
			break;
		case ST_R_TLS:
			r = do_handshake(c);
			if (r < 0)
				return;
			if (r > 0) {
				if (start_connect(c, &c->l->target, c->l->target_len)) {
					conn_close(c, "backend connect failed");
					return;
				}
				c->st = ST_R_CONNECT;
			}
			break;
		case ST_R_CONNECT:
		case ST_F_CONNECT:
			if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) || on_client)
				break;
			if ((r = connect_done(c))) {
				char msg[128];
				snprintf(msg, sizeof(msg), "%s connect failed: %s",
					 c->st == ST_R_CONNECT ? "backend" : "target", strerror(-r));
				fail_upstream(c, msg);
				return;
			}
			if (c->st == ST_R_CONNECT) {
				if (start_relay(c)) {
					conn_close(c, "out of memory");
					return;
				}
			} else {
				c->st = ST_F_POW_RECV;
			}
			events = 0;
			break;
		case ST_S_GREET:
			r = pre_read(c->fdc, c, 2);
			if (r < 0) {
				conn_close(c, "client gone");
				return;
			}
			if (r > 0) {
				if (c->pre[0] != 5) {
					conn_close(c, "not SOCKS5");
					return;
				}
				r = pre_read(c->fdc, c, 2 + (size_t)c->pre[1]);
				if (r < 0) {
					conn_close(c, "client gone");
					return;
				}
				if (r > 0) {
					if (!memchr(c->pre + 2, 0, c->pre[1])) {
						uint8_t no[2] = {5, 0xff};
						(void)!send(c->fdc, no, 2, MSG_NOSIGNAL | MSG_DONTWAIT);
						conn_close(c, "SOCKS5 client offers no 'no auth' method");
						return;
					}
					c->pre[0] = 5;
					c->pre[1] = 0;
					c->pre_len = 2;
					c->pre_off = 0;
					c->st = ST_S_GREET_REPLY;
				}
			}
			break;
		case ST_S_GREET_REPLY:
			r = pre_write(c->fdc, c);
			if (r < 0) {
				conn_close(c, "client gone");
				return;
			}
			if (r > 0)
				c->st = ST_S_REQUEST;
			break;
		case ST_S_REQUEST:
			/* read exactly the request: pipelined application bytes stay in the socket */
			r = pre_read(c->fdc, c, socks_request_len(c));
			if (r > 0 && socks_request_len(c) > c->pre_len)
				r = pre_read(c->fdc, c, socks_request_len(c));
			if (r < 0) {
				conn_close(c, "client gone");
				return;
			}
			if (r == 0)
				break;
			r = socks_request(c, &e);
			if (r < 0) {
				cr_log("warn", "socks_rejected", "conn=%llu peer=%s error=\"%s\"", (unsigned long long)c->id,
				       c->peer, e.msg);
				/* 7 command not supported, 8 address type not supported, 1 failure */
				socks_fail(c, r == -ENOTSUP ? 7 : r == -EAFNOSUPPORT ? 8 : 1, "bad SOCKS5 request");
				return;
			}
			if (r > 0) {
				c->pre_len = 0;
				if (start_connect(c, &c->dst, c->dst_len)) {
					socks_fail(c, 5, "target connect failed");
					return;
				}
				c->st = ST_F_CONNECT;
			}
			break;
		case ST_F_POW_RECV:
			r = pre_read(c->fdu, c, CR_POW_CHALLENGE_LEN);
			if (r < 0) {
				fail_upstream(c, "target closed before the PoW challenge");
				return;
			}
			if (r > 0) {
				c->pre_len = 0;
				if (cr_pow_challenge_decode(c->pre, &c->ch, &e) ||
				    cr_pow_solve_range(&c->ch, 0, 0, &c->pow_next, &e) < 0 ||
				    c->ch.difficulty > c->px->conf.pow_max) {
					cr_log("warn", "pow_refused", "conn=%llu listener=%s difficulty=%d error=\"%s\"",
					       (unsigned long long)c->id, c->l->name, (int)c->ch.difficulty,
					       e.msg[0] ? e.msg : "difficulty above limit");
					fail_upstream(c, "PoW challenge refused");
					return;
				}
				c->pow_next = 0;
				c->st = ST_F_POW_SOLVE;
			}
			break;
		case ST_F_POW_SOLVE: {
			int64_t nonce;
			r = cr_pow_solve_range(&c->ch, c->pow_next, POW_STEP, &nonce, &e);
			if (r < 0) {
				fail_upstream(c, "PoW solver failed");
				return;
			}
			if (r == 0) {
				c->pow_next += POW_STEP;
				return; /* the loop calls us again (solving list) */
			}
			cr_pow_response_encode(nonce, c->pre);
			c->pre_len = CR_POW_RESPONSE_LEN;
			c->pre_off = 0;
			c->st = ST_F_POW_SEND;
			break;
		}
		case ST_F_POW_SEND:
			r = pre_write(c->fdu, c);
			if (r < 0) {
				fail_upstream(c, "target gone during PoW");
				return;
			}
			if (r > 0) {
				c->ssl = cr_tls_new(c->px->cli_ctx, c->fdu, false, &c->tp, &e);
				if (!c->ssl) {
					fail_upstream(c, "TLS setup failed");
					return;
				}
				c->tls_on_c = false;
				c->st = ST_F_TLS;
			}
			break;
		case ST_F_TLS:
			if (c->l->conf.mode == CR_MODE_SOCKS5) {
				int rr = SSL_do_handshake(c->ssl);
				if (rr != 1) {
					int err = SSL_get_error(c->ssl, rr);
					if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
						c->hs_want = err;
						break;
					}
					cr_log("warn", "handshake_failed", "conn=%llu listener=%s error=\"%s\"",
					       (unsigned long long)c->id, c->l->name,
					       c->tp.error[0] ? c->tp.error : "TLS handshake failed");
					ERR_clear_error();
					socks_fail(c, 2, "handshake failed");
					return;
				}
				if (cr_tls_check_verified(c->ssl, &e)) {
					socks_fail(c, 2, "peer not verified");
					return;
				}
				log_peer(c);
				uint8_t ok[10] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
				memcpy(c->pre, ok, sizeof(ok));
				c->pre_len = sizeof(ok);
				c->pre_off = 0;
				c->st = ST_S_REPLY;
			} else {
				r = do_handshake(c);
				if (r < 0)
					return;
				if (r > 0 && start_relay(c)) {
					conn_close(c, "out of memory");
					return;
				}
			}
			break;
		case ST_S_REPLY:
			r = pre_write(c->fdc, c);
			if (r < 0) {
				conn_close(c, "client gone");
				return;
			}
			if (r > 0 && start_relay(c)) {
				conn_close(c, "out of memory");
				return;
			}
			break;
		case ST_RELAY:
			relay(c, events, on_client);
			return;
		}
		if (c->dead)
			return;
		if (c->st == before) {
			update_interest(c);
			return;
		}
	}
}

static void accept_conns(struct cr_proxy *px, struct listener *l)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				cr_log("error", "accept_paused", "listener=%s error=\"%s\"", l->name, strerror(errno));
				struct epoll_event ev = {.events = 0, .data.ptr = &l->ep};
				epoll_ctl(px->epfd, EPOLL_CTL_MOD, l->fd, &ev);
				l->paused = true;
			}
			return;
		}
		int why = refusal(px, l, &ss);
		if (why >= 0) {
			l->refused[why]++; /* logged by log_refusals() */
			close(fd);
			continue;
		}
		char peer[64];
		addr_str(&ss, peer, sizeof(peer));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->px = px;
		c->l = l;
		c->id = ++px->next_id;
		c->fdc = fd;
		c->fdu = -1;
		memcpy(&c->src, &ss, sizeof(ss));
		c->epc = (struct ep){EP_CONN_C, c};
		c->epu = (struct ep){EP_CONN_U, c};
		c->tp.verifier = px->verifier;
		c->tp.policy = l->policy;
		c->started = c->last_io = time(NULL);
		snprintf(c->peer, sizeof(c->peer), "%s", peer);
		c->next = px->conns;
		if (px->conns)
			px->conns->prev = c;
		px->conns = c;
		px->nconns++;
		l->nconns++;
		if (l->conf.mode == CR_MODE_REVERSE)
			pow_enter(c);
		if (px->conf.log_connections)
			cr_log("info", "conn_open", "conn=%llu listener=%s peer=%s", (unsigned long long)c->id, l->name,
			       peer);
		struct cm_err e = {0};
		switch (l->conf.mode) {
		case CR_MODE_REVERSE:
			if (cr_pow_challenge_new(&c->ch, px->conf.pow_difficulty, &e)) {
				conn_close(c, "PoW setup failed");
				continue;
			}
			cr_pow_challenge_encode(&c->ch, c->pre);
			c->pre_len = CR_POW_CHALLENGE_LEN;
			c->st = ST_R_POW_SEND;
			break;
		case CR_MODE_FORWARD:
			if (start_connect(c, &l->target, l->target_len)) {
				conn_close(c, "target connect failed");
				continue;
			}
			c->st = ST_F_CONNECT;
			break;
		case CR_MODE_SOCKS5:
			c->st = ST_S_GREET;
			break;
		}
		advance(c);
	}
}

static void check_timeouts(struct cr_proxy *px, time_t now)
{
	for (struct conn *c = px->conns, *n; c; c = n) {
		n = c->next;
		if (c->st != ST_RELAY && now - c->started >= px->conf.handshake_timeout)
			conn_close(c, "handshake timeout");
		else if (c->st == ST_RELAY && px->conf.idle_timeout > 0 && now - c->last_io >= px->conf.idle_timeout)
			conn_close(c, "idle timeout");
	}
}

static void reap(struct cr_proxy *px)
{
	while (px->dead) {
		struct conn *c = px->dead;
		px->dead = c->next;
		conn_free(c);
	}
}

void cr_proxy_stop(struct cr_proxy *px)
{
	if (px->stopping) {
		px->stop_now = true;
		return;
	}
	px->stopping = true;
	px->stop_deadline = time(NULL) + px->conf.shutdown_grace;
	for (int i = 0; i < px->nlisteners; i++) {
		if (px->listeners[i]->fd >= 0)
			close(px->listeners[i]->fd);
		px->listeners[i]->fd = -1;
	}
	cr_log("info", "shutdown", "open_connections=%d grace=%d", px->nconns, px->conf.shutdown_grace);
}

int cr_proxy_run(struct cr_proxy *px, cr_tick_fn tick, void *arg, struct cm_err *e)
{
	if (!px->srv_ctx)
		return cm_fail(e, -EINVAL, "no certificate installed");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &px->oldmask);
	signal(SIGPIPE, SIG_IGN);
	px->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (px->sigfd < 0)
		return cm_fail(e, -errno, "signalfd: %s", strerror(errno));
	px->sig_ep = (struct ep){EP_SIGNAL, px};
	struct epoll_event sev = {.events = EPOLLIN, .data.ptr = &px->sig_ep};
	epoll_ctl(px->epfd, EPOLL_CTL_ADD, px->sigfd, &sev);
	cr_log("info", "started", "listeners=%d max_conns=%d max_pow_conns=%d max_pow_conns_per_source=%d",
	       px->nlisteners, px->conf.max_conns, px->max_pow, px->conf.max_pow_conns_per_source);
	time_t last_tick = time(NULL);
	struct epoll_event evs[256];
	while (!px->stop_now) {
		if (px->stopping && (px->nconns == 0 || time(NULL) >= px->stop_deadline))
			break;
		bool solving = false;
		for (struct conn *c = px->conns; c; c = c->next)
			if (c->st == ST_F_POW_SOLVE) {
				solving = true;
				break;
			}
		int n = epoll_wait(px->epfd, evs, 256, solving ? 0 : 1000);
		if (n < 0 && errno != EINTR)
			return cm_fail(e, -errno, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct ep *ep = evs[i].data.ptr;
			if (ep->kind == EP_LISTENER) {
				struct listener *l = ep->ptr;
				if (!px->stopping && l->fd >= 0)
					accept_conns(px, l);
			} else if (ep->kind == EP_SIGNAL) {
				struct signalfd_siginfo si;
				while (read(px->sigfd, &si, sizeof(si)) == sizeof(si))
					cr_proxy_stop(px);
			} else {
				struct conn *c = ep->ptr;
				if (c->dead)
					continue;
				if (evs[i].events & EPOLLERR && c->st == ST_RELAY) {
					conn_close(c, "socket error");
					continue;
				}
				uint64_t before = c->bytes_c2u + c->bytes_u2c;
				enum state sb = c->st;
				step(c, evs[i].events, ep->kind == EP_CONN_C);
				if (!c->dead && (evs[i].events & EPOLLHUP) && c->st == sb &&
				    before == c->bytes_c2u + c->bytes_u2c) {
					/* HUP without progress: stop listening on that fd; the other side drives. */
					int fd = ep->kind == EP_CONN_C ? c->fdc : c->fdu;
					if (c->st != ST_RELAY) {
						conn_close(c, "peer hung up");
					} else {
						epoll_ctl(px->epfd, EPOLL_CTL_DEL, fd, NULL);
						if (ep->kind == EP_CONN_C)
							c->regc = false, c->evc = 0;
						else
							c->regu = false, c->evu = 0;
						if (!c->regc && !c->regu)
							conn_close(c, "peer hung up");
					}
				}
			}
		}
		if (solving)
			for (struct conn *c = px->conns; c; c = c->next)
				if (c->st == ST_F_POW_SOLVE)
					advance(c);
		reap(px);
		time_t now = time(NULL);
		if (now != last_tick) {
			last_tick = now;
			log_refusals(px);
			check_timeouts(px, now);
			for (int i = 0; i < px->nlisteners; i++) {
				struct listener *l = px->listeners[i];
				if (l->paused && l->fd >= 0) {
					struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->ep};
					epoll_ctl(px->epfd, EPOLL_CTL_MOD, l->fd, &ev);
					l->paused = false;
				}
			}
			if (tick)
				tick(px, arg);
			reap(px);
		}
	}
	while (px->conns)
		conn_close(px->conns, "shutdown");
	reap(px);
	log_refusals(px);
	cr_log("info", "stopped", "listeners=%d", px->nlisteners);
	return 0;
}

void cr_proxy_free(struct cr_proxy *px)
{
	if (!px)
		return;
	while (px->conns)
		conn_close(px->conns, "shutdown");
	reap(px);
	for (int i = 0; i < px->nlisteners; i++) {
		if (px->listeners[i]->fd >= 0)
			close(px->listeners[i]->fd);
		free(px->listeners[i]);
	}
	SSL_CTX_free(px->srv_ctx);
	SSL_CTX_free(px->cli_ctx);
	if (px->sigfd >= 0) {
		close(px->sigfd);
		sigprocmask(SIG_SETMASK, &px->oldmask, NULL);
	}
	close(px->epfd);
	free(px);
}
