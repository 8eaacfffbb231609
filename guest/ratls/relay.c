/* The relay of cocoon-ratls (see relay.h). */
#include "guest/ratls/relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "guest/ratls/peerinfo.h"

enum { IO_AGAIN = -1, IO_ERR = -2 };

/* Read (wr false) or write up to n bytes on one side, through TLS on the TLS side: the
 * count, 0 at EOF (reads), IO_AGAIN or IO_ERR. */
static ssize_t side_io(struct conn *c, bool client, uint8_t *p, size_t n, bool wr)
{
	int fd = client ? c->fdc : c->fdu;
	if (c->ssl && c->tls_on_c == client) {
		size_t done = 0;
		int r = wr ? SSL_write_ex(c->ssl, p, n, &done) : SSL_read_ex(c->ssl, p, n, &done);
		if (r == 1)
			return (ssize_t)done;
		int err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return IO_AGAIN;
		if (!wr && err == SSL_ERROR_ZERO_RETURN)
			return 0; /* close_notify, or a TCP EOF without it (SSL_OP_IGNORE_UNEXPECTED_EOF) */
		ERR_clear_error();
		return IO_ERR;
	}
	for (;;) {
		ssize_t r = wr ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
	}
}

/* Half-close the write direction of a side: on the TLS side close_notify, then the TCP
 * half-close too (Cocoon ignores close_notify and ends a connection on the TCP EOF only).
 * 1 done, 0 retry later. A peer already gone cannot be told more: that is done too. */
static int side_shutdown(struct conn *c, bool client)
{
	if (c->ssl && c->tls_on_c == client) {
		int r = SSL_shutdown(c->ssl); /* sends close_notify; reading stays possible (TLS 1.3) */
		if (r < 0) {
			int err = SSL_get_error(c->ssl, r);
			ERR_clear_error();
			if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ)
				return 0;
		}
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
		ssize_t n = side_io(c, from_client, b->p + b->off + b->len, cap - b->off - b->len, false);
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
		ssize_t n = side_io(c, !from_client, b->p + b->off, b->len, true);
		if (n == IO_AGAIN)
			break;
		if (n == IO_ERR)
			return -1;
		progress = 1;
		b->off += (size_t)n;
		b->len -= (size_t)n;
		*count += (uint64_t)n;
		if (c->ssl && c->tls_on_c == !from_client)
			c->tls_wr_ms = cm_mono_ms();
	}
	if (!b->len)
		b->off = 0;
	else if (b->off && b->off + b->len >= cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
		progress = 1;
	}
	if (*src_eof && !b->len && !*dst_shut) {
		if (c->ssl && c->tls_on_c == !from_client && c->tls_wr_ms) {
			/* not right behind the last data (see relay.h): cr_relay_due() sends it */
			int64_t due = c->tls_wr_ms + CR_TLS_FIN_GAP_MS;
			if (cm_mono_ms() < due) {
				c->tls_shut_ms = due;
				return progress;
			}
		}
		c->tls_shut_ms = 0;
		if (side_shutdown(c, !from_client)) {
			*dst_shut = true;
			progress = 1;
		}
	}
	return progress;
}

/* events: what epoll reported for the fd on the client side (on_client) or upstream; a
 * side is read only when it reported EPOLLIN or its TLS object holds decrypted bytes
 * (level-triggered epoll reports the others again). */
void cr_relay(struct conn *c, uint32_t events, bool on_client)
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
		 * EPOLLIN interest comes back in cr_conn_update_interest() */
		int a = pump_dir(c, true, &blk_c);
		int b = a < 0 ? -1 : pump_dir(c, false, &blk_u);
		if (a < 0 || b < 0) {
			cr_conn_close(c, "relay i/o error");
			return;
		}
		if (a || b)
			c->last_io = time(NULL);
		if (c->c_eof && c->u_eof && c->c_shut && c->u_shut) {
			cr_conn_close(c, "done");
			return;
		}
		if (!a && !b)
			break;
	}
	cr_conn_update_interest(c);
}

int cr_relay_start(struct conn *c)
{
	size_t cap = c->px->conf.buf_size;
	c->c2u.p = malloc(cap);
	c->u2c.p = malloc(cap);
	if (!c->c2u.p || !c->u2c.p)
		return -ENOMEM;
	if (cr_listener_serialize_info(&c->px->conf, &c->l->conf)) {
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

enum step cr_relay_enter(struct conn *c)
{
	if (cr_relay_start(c)) {
		cr_conn_close(c, "out of memory");
		return STEP_STOP;
	}
	return STEP_CONTINUE;
}

void cr_relay_due(struct conn *c, int64_t now_ms, int *wait_ms)
{
	if (c->dead || c->st != ST_RELAY || !c->tls_shut_ms)
		return;
	if (now_ms >= c->tls_shut_ms) {
		cr_relay(c, 0, c->tls_on_c); /* no reads: the half-close, and the close when done */
		return;
	}
	if (c->tls_shut_ms - now_ms < *wait_ms)
		*wait_ms = (int)(c->tls_shut_ms - now_ms);
}
