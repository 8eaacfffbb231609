/* cocoon-ratls' proxy: setup and teardown of the listeners and TLS contexts (see proxy.h;
 * the event loop is loop.c). */
#include "guest/ratls/proxy.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "guest/ratls/conn.h"
#include "measure/ratls/addr.h"

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

void cr_proxy_free(struct cr_proxy *px)
{
	if (!px)
		return;
	while (px->conns)
		cr_conn_close(px->conns, "shutdown");
	cr_conn_reap(px);
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
